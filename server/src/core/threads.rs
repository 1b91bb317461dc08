//! Threads: rooms of kind `thread` with a parent room (an OriginChats forum, a Plexichat text
//! channel), a name, a creator, locked/archived flags and participants (room members).
//!
//! A thread's messages are ordinary messages of the thread room, so edits, deletes,
//! reactions, pins and read state go through the usual operations. Permissions in a thread are
//! those of its parent (see `Core::permissions`). Thread events are published on the parent's
//! topic, and the hub links the thread's topic to the parent's, so whoever follows the parent
//! hears the thread and its messages.

use super::events::{Event, Topic};
use super::ids::{MessageId, RoomId, UserId, now_ms};
use super::messages::UserRef;
use super::operations::Core;
use super::permissions::Permissions;
use super::rooms::{Room, RoomKind, RoomMember, RoomRole};
use super::users::User;
use super::{CoreError, CoreResult};
use std::sync::Arc;

/// Longest thread name.
pub const MAX_THREAD_NAME_CHARS: usize = 100;

/// `CoreError::Forbidden` tags of thread operations (dialects word them).
pub const LOCKED: &str = "thread_locked";
pub const NOT_CREATOR: &str = "thread_modify";
pub const CREATE: &str = "create_threads";

/// A thread with what clients show next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    pub room: Room,
    pub parent: Room,
    pub creator: Option<UserRef>,
    /// In joining order (the creator first).
    pub participants: Vec<UserRef>,
    /// Id and time of the newest message.
    pub last_message: Option<(MessageId, i64)>,
    pub message_count: i64,
}

/// What a thread update changes (None: unchanged).
#[derive(Debug, Clone, Default)]
pub struct ThreadChanges {
    pub name: Option<String>,
    /// Only applied for members with `MANAGE_THREADS`; ignored otherwise.
    pub locked: Option<bool>,
    pub archived: Option<bool>,
    /// Replaces the room's dialect extras.
    pub extra: Option<serde_json::Value>,
}

/// The delivery receipt of an event published from a commit hook: awaited after the write, so
/// the caller's reply follows the broadcast.
#[derive(Clone, Default)]
struct Delivered(Arc<std::sync::Mutex<Option<tokio::sync::oneshot::Receiver<()>>>>);

impl Delivered {
    fn publish(&self, hub: &crate::hub::Hub, event: Event) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(hub.publish_acked(event));
    }

    async fn wait(&self) {
        let rx = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(rx) = rx {
            let _ = rx.await;
        }
    }
}

fn clean_name(name: &str) -> CoreResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CoreError::Invalid("Thread name cannot be empty".into()));
    }
    if name.chars().count() > MAX_THREAD_NAME_CHARS {
        return Err(CoreError::Invalid(format!(
            "Thread name must be at most {MAX_THREAD_NAME_CHARS} characters"
        )));
    }
    Ok(name.to_owned())
}

impl Core {
    /// Registers every stored thread with the hub (call once at start-up).
    pub async fn load_thread_links(&self) -> CoreResult<()> {
        for (thread, parent) in self.store().thread_links().await? {
            self.hub().link(Topic::Room(thread), Topic::Room(parent));
        }
        Ok(())
    }

    /// A thread room with its parent, shown or not (no permission check).
    async fn thread_room(&self, id: &RoomId) -> CoreResult<(Room, Room)> {
        let room = self
            .store()
            .room(id.clone())
            .await?
            .filter(|r| r.kind == RoomKind::Thread)
            .ok_or(CoreError::NotFound("thread"))?;
        let parent_id = room
            .parent_id
            .clone()
            .ok_or(CoreError::NotFound("thread"))?;
        let parent = self
            .store()
            .room(parent_id)
            .await?
            .ok_or(CoreError::NotFound("thread"))?;
        Ok((room, parent))
    }

    /// The client view of a thread room.
    async fn describe(&self, room: Room, parent: Room) -> CoreResult<Thread> {
        let participants = self.store().room_member_refs(room.id.clone()).await?;
        let creator = match &room.creator_id {
            None => None,
            Some(id) => match participants.iter().find(|u| &u.id == id) {
                Some(u) => Some(u.clone()),
                None => self.store().user(id.clone()).await?.map(|u| UserRef {
                    id: u.id,
                    username: u.username,
                }),
            },
        };
        let last = self
            .store()
            .messages_before(room.id.clone(), None, 1)
            .await?
            .pop()
            .map(|m| (m.id, m.created_at));
        let message_count = self
            .store()
            .count_messages_before(room.id.clone(), None)
            .await?;
        Ok(Thread {
            room,
            parent,
            creator,
            participants,
            last_message: last,
            message_count,
        })
    }

    /// A thread `user` may view (through its parent).
    pub async fn thread(&self, user: &UserId, id: &RoomId) -> CoreResult<Thread> {
        let (room, parent) = self.thread_room(id).await?;
        let (_, perms) = self.permissions(user, &parent.id).await?;
        if !perms.contains(Permissions::VIEW_ROOM) {
            return Err(CoreError::Forbidden("view_thread"));
        }
        self.describe(room, parent).await
    }

    /// A thread by id without any check (for dialects resolving ids of events).
    pub async fn thread_unchecked(&self, id: &RoomId) -> CoreResult<Thread> {
        let (room, parent) = self.thread_room(id).await?;
        self.describe(room, parent).await
    }

    /// The threads of `parent` (newest first), when `user` may view it.
    pub async fn threads_of(&self, user: &UserId, parent: &RoomId) -> CoreResult<Vec<Thread>> {
        let parent_room = self
            .require(user, parent, Permissions::NONE, "view")
            .await?;
        self.threads_unchecked(&parent_room).await
    }

    /// The threads of a parent room, newest first, without a permission check.
    pub async fn threads_unchecked(&self, parent: &Room) -> CoreResult<Vec<Thread>> {
        let mut out = Vec::new();
        for room in self.store().threads(parent.id.clone()).await? {
            out.push(self.describe(room, parent.clone()).await?);
        }
        Ok(out)
    }

    /// Opens a thread in a text channel or forum (`CREATE_THREADS` there); the creator is its
    /// first participant. Followers of the parent receive `ThreadCreated`.
    pub async fn create_thread(
        &self,
        actor: &User,
        parent: &RoomId,
        name: &str,
        extra: Option<serde_json::Value>,
    ) -> CoreResult<Arc<Thread>> {
        let parent = self
            .require(&actor.id, parent, Permissions::CREATE_THREADS, CREATE)
            .await?;
        if !matches!(parent.kind, RoomKind::Text | RoomKind::Forum) || parent.space_id.is_none() {
            return Err(CoreError::Invalid(
                "threads can only be opened in text channels and forums".into(),
            ));
        }
        let name = clean_name(name)?;
        let now = now_ms();
        let room = Room {
            id: RoomId::generate(),
            space_id: parent.space_id.clone(),
            kind: RoomKind::Thread,
            name,
            topic: None,
            position: 0,
            parent_id: Some(parent.id.clone()),
            creator_id: Some(actor.id.clone()),
            is_public: true,
            locked: false,
            archived: false,
            max_members: None,
            slowmode_seconds: 0,
            created_at: now,
            extra: extra.unwrap_or_else(|| serde_json::json!({})),
        };
        let creator = UserRef {
            id: actor.id.clone(),
            username: actor.username.clone(),
        };
        let thread = Arc::new(Thread {
            room: room.clone(),
            parent: parent.clone(),
            creator: Some(creator.clone()),
            participants: vec![creator],
            last_message: None,
            message_count: 0,
        });
        let member = RoomMember {
            room_id: room.id.clone(),
            user_id: actor.id.clone(),
            role: RoomRole::Owner,
            can_send: true,
            joined_at: now,
        };
        let hub = self.hub().clone();
        let published = thread.clone();
        let delivered = Delivered::default();
        let d = delivered.clone();
        self.store()
            .create_room(
                room,
                vec![member],
                Some(Box::new(move |r: &Room| {
                    hub.link(
                        Topic::Room(r.id.clone()),
                        Topic::Room(published.parent.id.clone()),
                    );
                    d.publish(&hub, Event::ThreadCreated { thread: published });
                })),
            )
            .await?;
        delivered.wait().await;
        Ok(thread)
    }

    /// Whether `actor` may change or delete `thread`: its creator, or `MANAGE_THREADS` in the
    /// parent. Returns the actor's permissions there.
    async fn thread_manager(&self, actor: &User, thread: &Thread) -> CoreResult<Permissions> {
        let (_, perms) = self.permissions(&actor.id, &thread.parent.id).await?;
        if !perms.contains(Permissions::VIEW_ROOM) {
            return Err(CoreError::Forbidden("view_thread"));
        }
        let creator = thread.room.creator_id.as_ref() == Some(&actor.id);
        if !creator && !perms.contains(Permissions::MANAGE_THREADS) {
            return Err(CoreError::Forbidden(NOT_CREATOR));
        }
        Ok(perms)
    }

    /// Renames, locks, archives a thread; followers of the parent receive `ThreadUpdated`.
    pub async fn update_thread(
        &self,
        actor: &User,
        id: &RoomId,
        changes: ThreadChanges,
    ) -> CoreResult<Arc<Thread>> {
        let (room, parent) = self.thread_room(id).await?;
        let current = self.describe(room, parent).await?;
        let perms = self.thread_manager(actor, &current).await?;
        let mut room = current.room.clone();
        if let Some(name) = &changes.name {
            room.name = clean_name(name)?;
        }
        if let Some(locked) = changes.locked
            && perms.contains(Permissions::MANAGE_THREADS)
        {
            room.locked = locked;
        }
        if let Some(archived) = changes.archived {
            room.archived = archived;
        }
        if let Some(extra) = changes.extra {
            room.extra = extra;
        }
        self.store_thread(current, room).await
    }

    /// Writes a changed thread room and publishes `ThreadUpdated`.
    async fn store_thread(&self, current: Thread, room: Room) -> CoreResult<Arc<Thread>> {
        let hub = self.hub().clone();
        let slot: Arc<std::sync::Mutex<Option<Arc<Thread>>>> = Arc::default();
        let out = slot.clone();
        let delivered = Delivered::default();
        let d = delivered.clone();
        self.store()
            .update_room(
                room,
                Some(Box::new(move |r: &Room| {
                    let thread = Arc::new(Thread {
                        room: r.clone(),
                        ..current
                    });
                    *out.lock().unwrap_or_else(|e| e.into_inner()) = Some(thread.clone());
                    d.publish(&hub, Event::ThreadUpdated { thread });
                })),
            )
            .await?;
        self.invalidate_permissions();
        delivered.wait().await;
        let updated = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        updated.ok_or_else(|| CoreError::Internal("thread update not published".into()))
    }

    /// Deletes a thread with its messages; followers of the parent receive `ThreadDeleted`.
    pub async fn delete_thread(&self, actor: &User, id: &RoomId) -> CoreResult<Arc<Thread>> {
        let (room, parent) = self.thread_room(id).await?;
        let current = Arc::new(self.describe(room, parent).await?);
        self.thread_manager(actor, &current).await?;
        let hub = self.hub().clone();
        let published = current.clone();
        let delivered = Delivered::default();
        let d = delivered.clone();
        self.store()
            .delete_room(
                id.clone(),
                Some(Box::new(move |r: &Room| {
                    d.publish(&hub, Event::ThreadDeleted { thread: published });
                    hub.unlink(&Topic::Room(r.id.clone()));
                })),
            )
            .await?;
        self.invalidate_permissions();
        delivered.wait().await;
        Ok(current)
    }

    /// Adds `actor` to a thread's participants (it must be viewable and not locked). The flag
    /// is false, and nothing is published, when the actor already participated.
    pub async fn join_thread(&self, actor: &User, id: &RoomId) -> CoreResult<(Arc<Thread>, bool)> {
        let current = self.thread(&actor.id, id).await?;
        if current.room.locked {
            return Err(CoreError::Forbidden(LOCKED));
        }
        if current.participants.iter().any(|u| u.id == actor.id) {
            return Ok((Arc::new(current), false));
        }
        let who = UserRef {
            id: actor.id.clone(),
            username: actor.username.clone(),
        };
        let mut thread = current;
        thread.participants.push(who.clone());
        let thread = Arc::new(thread);
        let member = RoomMember {
            room_id: id.clone(),
            user_id: actor.id.clone(),
            role: RoomRole::Member,
            can_send: true,
            joined_at: now_ms(),
        };
        let hub = self.hub().clone();
        let published = thread.clone();
        let delivered = Delivered::default();
        let d = delivered.clone();
        self.store()
            .put_room_member(
                member,
                Some(Box::new(move |_: &RoomMember| {
                    d.publish(
                        &hub,
                        Event::ThreadJoined {
                            thread: published,
                            user: who,
                        },
                    );
                })),
            )
            .await?;
        delivered.wait().await;
        Ok((thread, true))
    }

    /// Removes `actor` from a thread's participants. The creator cannot leave, and a user who
    /// did not participate has nothing to leave: the flag is then false and nothing is published.
    pub async fn leave_thread(&self, actor: &User, id: &RoomId) -> CoreResult<(Arc<Thread>, bool)> {
        let (room, parent) = self.thread_room(id).await?;
        let current = self.describe(room, parent).await?;
        let creator = current.room.creator_id.as_ref() == Some(&actor.id);
        if creator || !current.participants.iter().any(|u| u.id == actor.id) {
            return Ok((Arc::new(current), false));
        }
        let who = UserRef {
            id: actor.id.clone(),
            username: actor.username.clone(),
        };
        let mut thread = current;
        thread.participants.retain(|u| u.id != actor.id);
        let thread = Arc::new(thread);
        let hub = self.hub().clone();
        let published = thread.clone();
        let delivered = Delivered::default();
        let d = delivered.clone();
        self.store()
            .remove_room_member(
                id.clone(),
                actor.id.clone(),
                Some(Box::new(move |removed: &bool| {
                    if *removed {
                        d.publish(
                            &hub,
                            Event::ThreadLeft {
                                thread: published,
                                user: who,
                            },
                        );
                    }
                })),
            )
            .await?;
        delivered.wait().await;
        Ok((thread, true))
    }

    /// Before a message is posted in a thread: a locked thread refuses it, an archived one is
    /// unarchived (followers receive `ThreadUpdated`).
    pub(crate) async fn open_thread_for_send(&self, room: &Room) -> CoreResult<()> {
        if room.locked {
            return Err(CoreError::Forbidden(LOCKED));
        }
        if room.archived {
            let (fresh, parent) = self.thread_room(&room.id).await?;
            if fresh.archived {
                let current = self.describe(fresh.clone(), parent).await?;
                let mut changed = fresh;
                changed.archived = false;
                self.store_thread(current, changed).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::messages::NewMessage;
    use crate::core::rooms::NewRoom;
    use crate::hub::Hub;
    use crate::store::sqlite::{SqliteSettings, SqliteStore};

    async fn core() -> (Core, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "chorus-threads-{}-{}",
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

    /// A public forum `support` in the default space.
    async fn support_forum(core: &Core, owner: &User) -> Arc<Room> {
        core.create_room(
            owner,
            NewRoom {
                space_id: Some(core.default_space().clone()),
                kind: RoomKind::Forum,
                name: "support".into(),
                topic: None,
                parent_id: None,
                position: None,
                is_public: true,
                max_members: None,
                members: Vec::new(),
                extra: None,
            },
        )
        .await
        .unwrap()
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

    /// Deleting a forum takes its threads with it, hub links included.
    #[tokio::test]
    async fn deleting_a_forum_unlinks_its_threads() {
        let (core, dir) = core().await;
        let boss = core
            .create_account("boss", "pw", Some("owner"))
            .await
            .unwrap();
        let forum = support_forum(&core, &boss).await;
        let t = core
            .create_thread(&boss, &forum.id, "Help", None)
            .await
            .unwrap();
        let topic = Topic::Room(t.room.id.clone());
        assert!(core.hub().is_linked(&topic));
        core.delete_room(&boss, &forum.id).await.unwrap();
        assert!(!core.hub().is_linked(&topic));
        assert!(
            core.store()
                .room(t.room.id.clone())
                .await
                .unwrap()
                .is_none()
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Members open threads in a forum; messages live in the thread room; archive reopens on
    /// send, lock refuses; only the creator or a thread manager changes the thread.
    #[tokio::test]
    async fn thread_lifecycle_and_rules() {
        let (core, dir) = core().await;
        let boss = core
            .create_account("boss", "pw", Some("owner"))
            .await
            .unwrap();
        let bob = core.create_account("bob", "pw", None).await.unwrap();
        let carol = core.create_account("carol", "pw", None).await.unwrap();
        let forum = support_forum(&core, &boss).await;
        assert!(matches!(
            core.create_thread(&bob, &forum.id, "  ", None).await,
            Err(CoreError::Invalid(_))
        ));
        let t = core
            .create_thread(&bob, &forum.id, "Help", None)
            .await
            .unwrap();
        assert_eq!(t.participants.len(), 1);
        // Threads are not rooms of the space list.
        let rooms = core
            .store()
            .space_rooms(core.default_space().clone())
            .await
            .unwrap();
        assert!(rooms.iter().all(|r| r.kind != RoomKind::Thread));
        core.send_message(post(&t.room.id, &carol, "hi"))
            .await
            .unwrap();
        let seen = core.thread(&carol.id, &t.room.id).await.unwrap();
        assert_eq!(seen.message_count, 1);
        assert!(seen.last_message.is_some());
        // carol is not the creator.
        let rename = ThreadChanges {
            name: Some("Mine".into()),
            ..Default::default()
        };
        assert!(matches!(
            core.update_thread(&carol, &t.room.id, rename.clone()).await,
            Err(CoreError::Forbidden(NOT_CREATOR))
        ));
        // Archived: a message reopens it. Locked by the creator: ignored.
        let archive = ThreadChanges {
            archived: Some(true),
            locked: Some(true),
            ..Default::default()
        };
        let a = core.update_thread(&bob, &t.room.id, archive).await.unwrap();
        assert!(a.room.archived && !a.room.locked);
        core.send_message(post(&t.room.id, &carol, "again"))
            .await
            .unwrap();
        assert!(
            !core
                .thread(&carol.id, &t.room.id)
                .await
                .unwrap()
                .room
                .archived
        );
        let lock = ThreadChanges {
            locked: Some(true),
            ..Default::default()
        };
        core.update_thread(&boss, &t.room.id, lock).await.unwrap();
        assert!(matches!(
            core.send_message(post(&t.room.id, &carol, "x")).await,
            Err(CoreError::Forbidden(LOCKED))
        ));
        assert!(matches!(
            core.join_thread(&carol, &t.room.id).await,
            Err(CoreError::Forbidden(LOCKED))
        ));
        // The creator cannot leave; deleting removes the thread and its messages.
        assert!(!core.leave_thread(&bob, &t.room.id).await.unwrap().1);
        core.delete_thread(&boss, &t.room.id).await.unwrap();
        assert!(matches!(
            core.thread(&bob.id, &t.room.id).await,
            Err(CoreError::NotFound(_))
        ));
        core.store().close().await.unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }
}
