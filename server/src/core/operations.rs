//! Core operations. Dialects call these; they never touch the store or check permissions
//! themselves.

use super::events::Event;
use super::ids::{self, MessageId, RoleId, RoomId, SpaceId, UserId, now_ms};
use super::messages::{DeleteMode, Message, MessageRecord, NewMessage, ReactionAction, UserRef};
use super::permissions::{PermissionContext, Permissions};
use super::presence::Presence;
use super::rooms::{Room, RoomRole};
use super::users::{self, User, UserKind};
use super::{CoreError, CoreResult};
use crate::hub::Hub;
use crate::store::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Longest message any dialect may store (dialects apply their own, smaller limits first).
pub const MAX_MESSAGE_CHARS: usize = 4000;
/// Longest reaction key (OriginChats allows custom-emoji URLs up to 200 characters).
pub const MAX_EMOJI_CHARS: usize = 200;

/// A queued operation: resolves once its write is durable.
pub type Pending<T> = std::pin::Pin<Box<dyn Future<Output = CoreResult<T>> + Send + 'static>>;

pub struct Core {
    store: Arc<dyn Store>,
    hub: Arc<Hub>,
    pub presence: Presence,
    /// Who is in which voice room (in memory: it describes live connections).
    pub voice: super::voice::Voice,
    default_space: SpaceId,
    default_role: RoleId,
    /// Effective permissions per (user, room). Every operation that changes roles, overrides or
    /// memberships clears it (`invalidate_permissions`).
    perm_cache: Mutex<HashMap<(UserId, RoomId), (Room, Permissions)>>,
    /// IP users already created and made members of the default space.
    ip_users: Mutex<HashMap<String, User>>,
    /// Attachments and emoji on disk (`configure_files`).
    pub(crate) files: super::attachments::FilesSlot,
}

impl Core {
    pub fn new(store: Arc<dyn Store>, hub: Arc<Hub>) -> Self {
        Self {
            store,
            hub,
            presence: Presence::default(),
            voice: Default::default(),
            default_space: SpaceId(ids::DEFAULT_SPACE.into()),
            default_role: RoleId(ids::DEFAULT_ROLE.into()),
            perm_cache: Mutex::new(HashMap::new()),
            ip_users: Mutex::new(HashMap::new()),
            files: Default::default(),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// The space every account joins (the OriginChats server, Plexichat's default server).
    pub fn default_space(&self) -> &SpaceId {
        &self.default_space
    }

    /// Forgets cached permissions; call after changing roles, overrides or memberships.
    pub fn invalidate_permissions(&self) {
        self.lock_perm_cache().clear();
    }

    // ---------------------------------------------------------------- accounts

    /// Creates a local account with a password, a member of the default space with `@everyone`
    /// and, if given, the role named `role`.
    pub async fn create_account(
        &self,
        username: &str,
        password: &str,
        role: Option<&str>,
    ) -> CoreResult<User> {
        users::validate_username(username)?;
        if password.is_empty() {
            return Err(CoreError::Invalid("password cannot be empty".into()));
        }
        let mut roles = vec![self.default_role.clone()];
        if let Some(role) = role {
            let all = self.store.roles(self.default_space.clone()).await?;
            let r = all
                .iter()
                .find(|r| r.name.eq_ignore_ascii_case(role))
                .ok_or_else(|| CoreError::Invalid(format!("no role named '{role}'")))?;
            if !roles.contains(&r.id) {
                roles.push(r.id.clone());
            }
        }
        let hash = users::hash_password_blocking(password).await?;
        let user = User {
            id: UserId::generate(),
            username: username.to_owned(),
            display_name: None,
            kind: UserKind::Local,
            avatar_url: None,
            created_at: now_ms(),
        };
        let user = self.store.create_user(user, Some(hash)).await?;
        self.store
            .add_member(self.default_space.clone(), user.id.clone(), roles)
            .await?;
        Ok(user)
    }

    /// Checks a username and password.
    pub async fn login(&self, username: &str, password: &str) -> CoreResult<User> {
        let user = self
            .store
            .user_by_username(username.to_owned())
            .await?
            .ok_or(CoreError::Unauthorized)?;
        let hash = self
            .store
            .password_hash(user.id.clone())
            .await?
            .ok_or(CoreError::Unauthorized)?;
        if users::verify_password_blocking(password, &hash).await {
            Ok(user)
        } else {
            Err(CoreError::Unauthorized)
        }
    }

    /// Issues a session token for `username`, usable by every dialect.
    pub async fn issue_token(&self, username: &str) -> CoreResult<String> {
        let user = self
            .store
            .user_by_username(username.to_owned())
            .await?
            .ok_or(CoreError::NotFound("user"))?;
        let token = users::new_token();
        self.store
            .insert_token(users::token_digest(&token), user.id, None)
            .await?;
        Ok(token)
    }

    /// The user a session token belongs to.
    pub async fn authenticate(&self, token: &str) -> CoreResult<User> {
        self.store
            .user_by_token(users::token_digest(token), now_ms())
            .await?
            .ok_or(CoreError::Unauthorized)
    }

    /// The user identified by a client IP address (reaction chat), created and made a member of
    /// the default space on first use.
    pub async fn ip_user(&self, ip: &str) -> CoreResult<User> {
        if let Some(u) = self.lock_ip_users().get(ip) {
            return Ok(u.clone());
        }
        let user = self.store.ensure_ip_user(ip.to_owned()).await?;
        self.store
            .add_member(
                self.default_space.clone(),
                user.id.clone(),
                vec![self.default_role.clone()],
            )
            .await?;
        let mut cache = self.lock_ip_users();
        if cache.len() > 100_000 {
            cache.clear();
        }
        cache.insert(ip.to_owned(), user.clone());
        Ok(user)
    }

    fn lock_ip_users(&self) -> std::sync::MutexGuard<'_, HashMap<String, User>> {
        self.ip_users.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ---------------------------------------------------------------- rooms and permissions

    /// A room of the default space by name.
    pub async fn room_by_name(&self, name: &str) -> CoreResult<Room> {
        self.store
            .room_by_name(self.default_space.clone(), name.to_owned())
            .await?
            .ok_or(CoreError::NotFound("room"))
    }

    /// What `user` may do in `room`.
    pub async fn permissions(
        &self,
        user: &UserId,
        room: &RoomId,
    ) -> CoreResult<(Room, Permissions)> {
        let key = (user.clone(), room.clone());
        if let Some(hit) = self.lock_perm_cache().get(&key) {
            return Ok(hit.clone());
        }
        let room_rec = self
            .store
            .room(room.clone())
            .await?
            .ok_or(CoreError::NotFound("room"))?;
        let perms = match &room_rec.space_id {
            Some(space) if !room_rec.kind.is_private() => {
                match self.store.member(space.clone(), user.clone()).await? {
                    None => Permissions::NONE,
                    Some(member) => {
                        let all_roles = self.store.roles(space.clone()).await?;
                        let roles = all_roles
                            .into_iter()
                            .filter(|r| r.is_default || member.roles.contains(&r.id))
                            .collect();
                        let owner = self.store.space_owner(space.clone()).await?;
                        PermissionContext {
                            is_space_owner: owner.as_ref() == Some(user),
                            roles,
                            // A thread has its parent's overrides.
                            overrides: self
                                .store
                                .overrides(match (&room_rec.kind, &room_rec.parent_id) {
                                    (super::rooms::RoomKind::Thread, Some(parent)) => {
                                        parent.clone()
                                    }
                                    _ => room.clone(),
                                })
                                .await?,
                            user: Some(user.clone()),
                            timed_out: member.timeout_until.is_some_and(|t| t > now_ms()),
                        }
                        .effective()
                    }
                }
            }
            // Private rooms (DM, group, broadcast): by room membership.
            _ => match self.store.room_member(room.clone(), user.clone()).await? {
                None => Permissions::NONE,
                Some(m) => private_room_permissions(m.role, m.can_send),
            },
        };
        let mut cache = self.lock_perm_cache();
        if cache.len() > 100_000 {
            cache.clear();
        }
        cache.insert(key, (room_rec.clone(), perms));
        Ok((room_rec, perms))
    }

    fn lock_perm_cache(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(UserId, RoomId), (Room, Permissions)>> {
        self.perm_cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) async fn require(
        &self,
        user: &UserId,
        room: &RoomId,
        needed: Permissions,
        what: &'static str,
    ) -> CoreResult<Room> {
        let (room, perms) = self.permissions(user, room).await?;
        if !perms.contains(Permissions::VIEW_ROOM) {
            return Err(CoreError::NotFound("room"));
        }
        if !perms.contains(needed) {
            return Err(CoreError::Forbidden(what));
        }
        Ok(room)
    }

    // ---------------------------------------------------------------- messages

    /// Messages of `room` after `after_seq`, oldest first.
    pub async fn history(
        &self,
        user: &UserId,
        room: &RoomId,
        after_seq: i64,
        limit: u32,
    ) -> CoreResult<Vec<Message>> {
        self.require(user, room, Permissions::READ_HISTORY, "read_history")
            .await?;
        Ok(self
            .store
            .messages_after(room.clone(), after_seq, limit)
            .await?)
    }

    /// Posts a message; every subscriber of the room receives `MessageCreated` once it is durable.
    pub async fn send_message(&self, new: NewMessage) -> CoreResult<Arc<Message>> {
        self.submit_message(new).await?.await
    }

    /// Checks and queues a message; the returned future resolves when it is durable. A caller
    /// that submits several messages gets them stored (and published) in submission order.
    pub async fn submit_message(&self, new: NewMessage) -> CoreResult<Pending<Arc<Message>>> {
        let room = self
            .require(
                &new.author.id,
                &new.room_id,
                Permissions::SEND_MESSAGES,
                "send_messages",
            )
            .await?;
        if !room.kind.holds_messages() {
            return Err(CoreError::Invalid(
                "this room does not hold messages".into(),
            ));
        }
        if room.kind == super::rooms::RoomKind::Thread {
            self.open_thread_for_send(&room).await?;
        } else if room.locked || room.archived {
            return Err(CoreError::Forbidden("room is locked"));
        }
        // Attachments or embeds are a body of their own.
        if new.content.trim().is_empty()
            && !super::attachments::has_body_without_text(new.extra.as_ref())
        {
            return Err(CoreError::Invalid("message text cannot be empty".into()));
        }
        if new.content.chars().count() > MAX_MESSAGE_CHARS {
            return Err(CoreError::Invalid(format!(
                "message too long (max {MAX_MESSAGE_CHARS} characters)"
            )));
        }
        let rec = MessageRecord {
            id: MessageId::generate(),
            room_id: new.room_id,
            author: new.author,
            author_name: new.author_name,
            content: new.content,
            created_at: now_ms(),
            reply_to: new.reply_to,
            forwarded_from: new.forwarded_from,
            extra: new.extra,
        };
        let hub = self.hub.clone();
        type Published = Option<(Arc<Message>, tokio::sync::oneshot::Receiver<()>)>;
        let published: Arc<Mutex<Published>> = Arc::default();
        let slot = published.clone();
        let ticket = self
            .store
            .insert_message(
                rec,
                Some(Box::new(move |m: &Message| {
                    let m = Arc::new(m.clone());
                    let delivered = hub.publish_acked(Event::MessageCreated { message: m.clone() });
                    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some((m, delivered));
                })),
            )
            .await?;
        Ok(Box::pin(async move {
            let stored = ticket.await?;
            let shared = published.lock().unwrap_or_else(|e| e.into_inner()).take();
            match shared {
                Some((m, delivered)) => {
                    // Resolve only once subscribers have the event queued, so whatever the
                    // caller sends next follows the broadcast.
                    let _ = delivered.await;
                    Ok(m)
                }
                None => Ok(Arc::new(stored)),
            }
        }))
    }

    /// Adds `user`'s reaction `emoji` to a message, or removes it if present.
    pub async fn toggle_reaction(
        &self,
        user: &User,
        message: &MessageId,
        emoji: &str,
    ) -> CoreResult<(ReactionAction, Arc<Message>)> {
        if emoji.is_empty() || emoji.chars().count() > MAX_EMOJI_CHARS {
            return Err(CoreError::Invalid(format!(
                "emoji must be 1-{MAX_EMOJI_CHARS} characters"
            )));
        }
        let msg = self
            .store
            .message(message.clone())
            .await?
            .ok_or(CoreError::NotFound("message"))?;
        self.require(
            &user.id,
            &msg.room_id,
            Permissions::ADD_REACTIONS,
            "add_reactions",
        )
        .await
        .map_err(|e| match e {
            // Do not reveal messages of rooms the user cannot see.
            CoreError::NotFound(_) => CoreError::NotFound("message"),
            e => e,
        })?;
        let hub = self.hub.clone();
        let who = UserRef {
            id: user.id.clone(),
            username: user.username.clone(),
        };
        let emoji_owned = emoji.to_owned();
        let (action, updated) = self
            .store
            .toggle_reaction(
                message.clone(),
                user.id.clone(),
                emoji.to_owned(),
                Some(Box::new(move |(action, m): &(ReactionAction, Message)| {
                    hub.publish(Event::ReactionToggled {
                        action: *action,
                        emoji: emoji_owned,
                        user: who,
                        message: Arc::new(m.clone()),
                    });
                })),
            )
            .await?;
        Ok((action, Arc::new(updated)))
    }

    /// One message, if `user` may read its room.
    pub async fn message(&self, user: &UserId, id: &MessageId) -> CoreResult<Arc<Message>> {
        let msg = self
            .store
            .message(id.clone())
            .await?
            .ok_or(CoreError::NotFound("message"))?;
        self.require(
            user,
            &msg.room_id,
            Permissions::READ_HISTORY,
            "read_history",
        )
        .await
        .map_err(hide_room)?;
        Ok(Arc::new(msg))
    }

    /// The newest `limit` messages of `room` before `before_seq` (None: the newest), oldest
    /// first.
    pub async fn history_before(
        &self,
        user: &UserId,
        room: &RoomId,
        before_seq: Option<i64>,
        limit: u32,
    ) -> CoreResult<Vec<Message>> {
        self.require(user, room, Permissions::READ_HISTORY, "read_history")
            .await?;
        Ok(self
            .store
            .messages_before(room.clone(), before_seq, limit)
            .await?)
    }

    /// A message `actor` may change: its own with `own`, anyone's with `MANAGE_MESSAGES`.
    async fn changeable(
        &self,
        actor: &User,
        id: &MessageId,
        own: Permissions,
        what: &'static str,
    ) -> CoreResult<Message> {
        let msg = self
            .store
            .message(id.clone())
            .await?
            .ok_or(CoreError::NotFound("message"))?;
        let (_, perms) = self.permissions(&actor.id, &msg.room_id).await?;
        if !perms.contains(Permissions::VIEW_ROOM) {
            return Err(CoreError::NotFound("message"));
        }
        let allowed = perms.contains(Permissions::MANAGE_MESSAGES)
            || (msg.author.id == actor.id && perms.contains(own));
        if !allowed {
            return Err(CoreError::Forbidden(what));
        }
        Ok(msg)
    }

    /// Replaces a message's text; subscribers of the room receive `MessageEdited`.
    pub async fn edit_message(
        &self,
        actor: &User,
        id: &MessageId,
        content: String,
    ) -> CoreResult<Arc<Message>> {
        if content.trim().is_empty() {
            return Err(CoreError::Invalid("message text cannot be empty".into()));
        }
        if content.chars().count() > MAX_MESSAGE_CHARS {
            return Err(CoreError::Invalid(format!(
                "message too long (max {MAX_MESSAGE_CHARS} characters)"
            )));
        }
        self.changeable(actor, id, Permissions::EDIT_OWN, "edit_own")
            .await?;
        let hub = self.hub.clone();
        let edited = self
            .store
            .edit_message(
                id.clone(),
                content,
                now_ms(),
                Some(Box::new(move |m: &Message| {
                    hub.publish(Event::MessageEdited {
                        message: Arc::new(m.clone()),
                    })
                })),
            )
            .await?;
        Ok(Arc::new(edited))
    }

    /// Deletes a message; subscribers of the room receive `MessageDeleted`.
    pub async fn delete_message(
        &self,
        actor: &User,
        id: &MessageId,
        mode: DeleteMode,
    ) -> CoreResult<Arc<Message>> {
        self.changeable(actor, id, Permissions::DELETE_OWN, "delete_own")
            .await?;
        let hub = self.hub.clone();
        let gone = self
            .store
            .delete_message(
                id.clone(),
                mode,
                Some(Box::new(move |m: &Message| {
                    hub.publish(Event::MessageDeleted {
                        message: Arc::new(m.clone()),
                    })
                })),
            )
            .await?;
        // OriginChats logs every deletion, the author's own included.
        self.audit_message(actor, "message_delete", &gone).await;
        Ok(Arc::new(gone))
    }

    /// Adds (`present`) or removes `actor`'s reaction. The action is None, and nothing is
    /// published, when the reaction already was that way.
    pub async fn set_reaction(
        &self,
        actor: &User,
        id: &MessageId,
        emoji: &str,
        present: bool,
    ) -> CoreResult<(Option<ReactionAction>, Arc<Message>)> {
        if emoji.is_empty() || emoji.chars().count() > MAX_EMOJI_CHARS {
            return Err(CoreError::Invalid(format!(
                "emoji must be 1-{MAX_EMOJI_CHARS} characters"
            )));
        }
        let msg = self.message(&actor.id, id).await?;
        self.require(
            &actor.id,
            &msg.room_id,
            Permissions::ADD_REACTIONS,
            "add_reactions",
        )
        .await?;
        let hub = self.hub.clone();
        let who = UserRef {
            id: actor.id.clone(),
            username: actor.username.clone(),
        };
        let emoji_owned = emoji.to_owned();
        let (action, updated) = self
            .store
            .set_reaction(
                id.clone(),
                actor.id.clone(),
                emoji.to_owned(),
                present,
                Some(Box::new(
                    move |(action, m): &(Option<ReactionAction>, Message)| {
                        if let Some(action) = action {
                            hub.publish(Event::ReactionToggled {
                                action: *action,
                                emoji: emoji_owned,
                                user: who,
                                message: Arc::new(m.clone()),
                            });
                        }
                    },
                )),
            )
            .await?;
        Ok((action, Arc::new(updated)))
    }

    /// Pins or unpins a message (`PIN_MESSAGES`); subscribers receive `MessagePinned`.
    pub async fn set_pinned(
        &self,
        actor: &User,
        id: &MessageId,
        pinned: bool,
    ) -> CoreResult<Arc<Message>> {
        let msg = self.message(&actor.id, id).await?;
        self.require(
            &actor.id,
            &msg.room_id,
            Permissions::PIN_MESSAGES,
            "pin_messages",
        )
        .await?;
        let hub = self.hub.clone();
        let by = UserRef {
            id: actor.id.clone(),
            username: actor.username.clone(),
        };
        let updated = self
            .store
            .set_pinned(
                id.clone(),
                pinned,
                actor.id.clone(),
                Some(Box::new(move |m: &Message| {
                    hub.publish(Event::MessagePinned {
                        message: Arc::new(m.clone()),
                        pinned,
                        by,
                    })
                })),
            )
            .await?;
        let action = if pinned {
            "message_pin"
        } else {
            "message_unpin"
        };
        self.audit_message(actor, action, &updated).await;
        Ok(Arc::new(updated))
    }
}

/// What a member of a private room may do there.
pub fn private_room_permissions(role: RoomRole, can_send: bool) -> Permissions {
    let mut p = Permissions::VIEW_ROOM
        | Permissions::READ_HISTORY
        | Permissions::ADD_REACTIONS
        | Permissions::EDIT_OWN
        | Permissions::DELETE_OWN
        | Permissions::ATTACH_FILES
        | Permissions::EMBED_LINKS;
    if can_send {
        p = p | Permissions::SEND_MESSAGES;
    }
    if role >= RoomRole::Moderator {
        p = p
            | Permissions::SEND_MESSAGES
            | Permissions::MANAGE_MESSAGES
            | Permissions::PIN_MESSAGES
            | Permissions::MANAGE_MEMBERS;
    }
    if role >= RoomRole::Admin {
        p = p | Permissions::MANAGE_ROOMS;
    }
    p
}

/// Messages of rooms a user cannot see are reported as missing, not forbidden.
fn hide_room(e: CoreError) -> CoreError {
    match e {
        CoreError::NotFound(_) => CoreError::NotFound("message"),
        e => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::{SqliteSettings, SqliteStore};

    async fn core() -> (Core, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "chorus-core-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let store = SqliteStore::open(&dir.join("chorus.db"), SqliteSettings::default())
            .await
            .unwrap();
        let (hub, dispatcher) = Hub::new(Vec::new());
        tokio::spawn(dispatcher);
        (Core::new(Arc::new(store), hub), dir)
    }

    #[tokio::test]
    async fn accounts_passwords_and_tokens() {
        let (core, dir) = core().await;
        let alice = core.create_account("alice", "pw", None).await.unwrap();
        assert!(matches!(
            core.create_account("Alice", "x", None).await,
            Err(CoreError::Conflict(_))
        ));
        assert!(matches!(
            core.create_account("10.0.0.1", "x", None).await,
            Err(CoreError::Invalid(_))
        ));
        assert_eq!(core.login("ALICE", "pw").await.unwrap().id, alice.id);
        assert!(matches!(
            core.login("alice", "wrong").await,
            Err(CoreError::Unauthorized)
        ));
        let token = core.issue_token("alice").await.unwrap();
        assert_eq!(core.authenticate(&token).await.unwrap().id, alice.id);
        assert!(matches!(
            core.authenticate("nope").await,
            Err(CoreError::Unauthorized)
        ));
        // A local account may post in the default room; an IP user too.
        let general = core.room_by_name("general").await.unwrap();
        let (_, perms) = core.permissions(&alice.id, &general.id).await.unwrap();
        assert!(perms.contains(Permissions::SEND_MESSAGES | Permissions::ADD_REACTIONS));
        let ip = core.ip_user("192.0.2.9").await.unwrap();
        let m = core
            .send_message(NewMessage {
                room_id: general.id.clone(),
                author: UserRef {
                    id: ip.id.clone(),
                    username: ip.username.clone(),
                },
                author_name: None,
                content: "hi".into(),
                reply_to: None,
                forwarded_from: None,
                extra: None,
            })
            .await
            .unwrap();
        let (action, updated) = core.toggle_reaction(&alice, &m.id, "👍").await.unwrap();
        assert_eq!(action, ReactionAction::Added);
        assert_eq!(updated.reactions[0].users[0].username, "alice");
        core.store().close().await.unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }

    fn post(room: &RoomId, who: &User, text: &str) -> NewMessage {
        NewMessage {
            room_id: room.clone(),
            author: UserRef {
                id: who.id.clone(),
                username: who.username.clone(),
            },
            author_name: None,
            content: text.into(),
            reply_to: None,
            forwarded_from: None,
            extra: None,
        }
    }

    /// Edit, delete, paging, explicit reactions and pins: who may, and what is stored.
    #[tokio::test]
    async fn message_changes_and_paging() {
        let (core, dir) = core().await;
        let alice = core.create_account("alice", "pw", None).await.unwrap();
        let bob = core.create_account("bob", "pw", None).await.unwrap();
        let general = core.room_by_name("general").await.unwrap().id;
        let mut ids = Vec::new();
        for n in 0..5 {
            let m = core
                .send_message(post(&general, &alice, &format!("m{n}")))
                .await
                .unwrap();
            ids.push((m.id.clone(), m.seq));
        }
        // Paging backwards: the newest two, then the two before them, oldest first.
        let page = core
            .history_before(&bob.id, &general, None, 2)
            .await
            .unwrap();
        let texts: Vec<_> = page.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(texts, ["m3", "m4"]);
        let page = core
            .history_before(&bob.id, &general, Some(page[0].seq), 2)
            .await
            .unwrap();
        let texts: Vec<_> = page.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(texts, ["m1", "m2"]);
        // Only the author edits or deletes without manage_messages.
        assert!(matches!(
            core.edit_message(&bob, &ids[0].0, "x".into()).await,
            Err(CoreError::Forbidden(_))
        ));
        let edited = core
            .edit_message(&alice, &ids[0].0, "m0!".into())
            .await
            .unwrap();
        assert_eq!(edited.content, "m0!");
        assert!(edited.edited_at.is_some());
        assert!(matches!(
            core.delete_message(&bob, &ids[1].0, DeleteMode::Hard).await,
            Err(CoreError::Forbidden(_))
        ));
        core.delete_message(&alice, &ids[1].0, DeleteMode::Soft)
            .await
            .unwrap();
        core.delete_message(&alice, &ids[2].0, DeleteMode::Hard)
            .await
            .unwrap();
        assert!(matches!(
            core.message(&bob.id, &ids[1].0).await,
            Err(CoreError::NotFound(_))
        ));
        let all = core.history(&bob.id, &general, 0, 100).await.unwrap();
        let texts: Vec<_> = all.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(texts, ["m0!", "m3", "m4"]);
        // Explicit reactions are idempotent.
        let (a, m) = core
            .set_reaction(&bob, &ids[3].0, "🔥", true)
            .await
            .unwrap();
        assert_eq!(a, Some(ReactionAction::Added));
        assert_eq!(m.reactions[0].users.len(), 1);
        let (a, _) = core
            .set_reaction(&bob, &ids[3].0, "🔥", true)
            .await
            .unwrap();
        assert_eq!(a, None);
        let (a, m) = core
            .set_reaction(&bob, &ids[3].0, "🔥", false)
            .await
            .unwrap();
        assert_eq!(a, Some(ReactionAction::Removed));
        assert!(m.reactions.is_empty());
        // Plain members may not pin.
        assert!(matches!(
            core.set_pinned(&bob, &ids[3].0, true).await,
            Err(CoreError::Forbidden(_))
        ));
        core.store().close().await.unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Private rooms: membership decides access; only managers add others; caps hold.
    #[tokio::test]
    async fn private_rooms_and_membership() {
        use crate::core::rooms::{NewRoom, RoomKind, RoomMember};
        let (core, dir) = core().await;
        let alice = core.create_account("alice", "pw", None).await.unwrap();
        let bob = core.create_account("bob", "pw", None).await.unwrap();
        let carol = core.create_account("carol", "pw", None).await.unwrap();
        let group = core
            .create_room(
                &alice,
                NewRoom {
                    space_id: None,
                    kind: RoomKind::Group,
                    name: "plans".into(),
                    topic: None,
                    parent_id: None,
                    position: None,
                    is_public: false,
                    max_members: Some(2),
                    members: vec![(bob.id.clone(), RoomRole::Member)],
                    extra: None,
                },
            )
            .await
            .unwrap();
        let (_, p) = core.permissions(&alice.id, &group.id).await.unwrap();
        assert!(p.contains(Permissions::MANAGE_ROOMS | Permissions::SEND_MESSAGES));
        let (_, p) = core.permissions(&bob.id, &group.id).await.unwrap();
        assert!(p.contains(Permissions::SEND_MESSAGES));
        assert!(!p.contains(Permissions::MANAGE_MEMBERS));
        let (_, p) = core.permissions(&carol.id, &group.id).await.unwrap();
        assert_eq!(p, Permissions::NONE);
        assert!(matches!(
            core.send_message(post(&group.id, &carol, "hi")).await,
            Err(CoreError::NotFound(_))
        ));
        let carol_member = RoomMember {
            room_id: group.id.clone(),
            user_id: carol.id.clone(),
            role: RoomRole::Member,
            can_send: true,
            joined_at: now_ms(),
        };
        assert!(matches!(
            core.put_room_member(&bob, carol_member.clone()).await,
            Err(CoreError::Forbidden(_))
        ));
        assert!(matches!(
            core.put_room_member(&alice, carol_member.clone()).await,
            Err(CoreError::Conflict(_))
        ));
        core.remove_room_member(&bob, &group.id, &bob.id)
            .await
            .unwrap();
        core.put_room_member(&alice, carol_member).await.unwrap();
        core.send_message(post(&group.id, &carol, "hi"))
            .await
            .unwrap();
        let rooms = core.user_private_rooms(&carol.id).await.unwrap();
        assert_eq!(rooms.len(), 1);
        assert!(core.user_private_rooms(&bob.id).await.unwrap().is_empty());
        assert!(matches!(
            core.delete_room(&carol, &group.id).await,
            Err(CoreError::Forbidden(_))
        ));
        core.delete_room(&alice, &group.id).await.unwrap();
        assert!(core.user_private_rooms(&carol.id).await.unwrap().is_empty());
        // Space rooms need manage_rooms.
        let denied = core
            .create_room(
                &bob,
                NewRoom {
                    space_id: Some(core.default_space().clone()),
                    kind: RoomKind::Text,
                    name: "random".into(),
                    topic: None,
                    parent_id: None,
                    position: None,
                    is_public: true,
                    max_members: None,
                    members: Vec::new(),
                    extra: None,
                },
            )
            .await;
        assert!(matches!(denied, Err(CoreError::Forbidden(_))));
        core.store().close().await.unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }
}
