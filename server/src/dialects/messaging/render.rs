//! Building the protocol's objects (Message, RoomDetail, RoomListItem) and rendering core
//! events caused by other dialects.

use super::Messaging;
use super::db::{self, MsgRow};
use super::errors::Res;
use super::time::iso;
use super::users::{Numbers, user_json};
use crate::core::events::Event;
use crate::core::events::Topic;
use crate::core::ids::RoomId;
use crate::core::ids::UserId;
use crate::core::messages::{Message, ReactionAction};
use crate::core::rooms::{Room, RoomKind, RoomRole};
use crate::hub::Renderer;
use axum::extract::ws::Utf8Bytes;
use chorus_protocol::messaging::{self as proto, ServerFrame};
use indexmap::IndexMap;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use tokio::sync::{mpsc, oneshot};

/// State the renderer shares with the dialect (renderers are built before the dialect).
#[derive(Default)]
pub struct Shared {
    pub numbers: Numbers,
    /// Core events the dialect is causing right now and renders richer itself: key → the
    /// operations in flight. An entry lives from just before the core call until the hub has
    /// delivered what the call published (`Messaging::release`), so nothing stale remains.
    pending: Mutex<HashMap<String, Vec<u64>>>,
    next: AtomicU64,
    /// Work the renderer cannot do inline (it needs the database), done in event order by a
    /// worker started on the first connection.
    jobs: OnceLock<mpsc::UnboundedSender<Job>>,
}

pub fn shared() -> &'static Shared {
    static S: OnceLock<Shared> = OnceLock::new();
    S.get_or_init(Shared::default)
}

/// An operation of the dialect whose core event the renderer must leave alone.
#[must_use = "release it with Messaging::release"]
pub struct Own {
    key: String,
    token: u64,
}

/// What the worker does for a core event, in the order the hub delivered them.
enum Job {
    /// A message of another dialect: `message.dispatch`.
    Created(Arc<Message>),
    /// A reaction given or taken through another dialect: `reaction.dispatch`.
    Reaction { message: Arc<Message>, added: bool },
    /// An edit through another dialect: `messagemodification.dispatch` (update).
    Edited(Arc<Message>),
    /// A delete through another dialect: `messagemodification.dispatch` (delete).
    Deleted(Arc<Message>),
    /// A private room another dialect created: subscribe its members, `roomcreate.dispatch`.
    RoomCreated(Arc<Room>),
    /// A private room changed through the core (any dialect): `roomupdate.dispatch`.
    RoomUpdated(Arc<Room>),
    /// A private room another dialect deleted: `roomdelete.dispatch`, then unsubscribe all.
    RoomDeleted(Arc<Room>),
    /// Membership changed: bring these users' subscriptions in line with the database.
    Members { room: RoomId, users: Vec<UserId> },
    /// Resolves once every earlier job is done.
    Barrier(oneshot::Sender<()>),
}

impl Shared {
    /// Marks the core event `key` as the dialect's own until released.
    pub fn own(&self, key: String) -> Own {
        let token = self.next.fetch_add(1, Ordering::Relaxed);
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.clone())
            .or_default()
            .push(token);
        Own { key, token }
    }

    fn forget(&self, own: &Own) {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tokens) = p.get_mut(&own.key) {
            tokens.retain(|t| *t != own.token);
            if tokens.is_empty() {
                p.remove(&own.key);
            }
        }
    }

    /// Whether an operation of the dialect in flight caused the event `key`; consumes one.
    fn claimed(&self, key: &str) -> bool {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let Some(tokens) = p.get_mut(key) else {
            return false;
        };
        tokens.remove(0);
        if tokens.is_empty() {
            p.remove(key);
        }
        true
    }

    /// Whether an operation of the dialect in flight is causing `key` (for events published
    /// once per member, which all belong to that operation).
    fn busy(&self, key: &str) -> bool {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(key)
    }

    /// Starts the worker (once).
    pub fn install(&self, dialect: &Arc<Messaging>) {
        self.jobs.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(work(Arc::downgrade(dialect), rx));
            tx
        });
    }

    fn enqueue(&self, job: Job) {
        if let Some(tx) = self.jobs.get() {
            let _ = tx.send(job);
        }
    }
}

/// The worker: one job at a time, so frames keep the order of the core events.
async fn work(dialect: Weak<Messaging>, mut rx: mpsc::UnboundedReceiver<Job>) {
    // Room events reach the renderer once per member (private rooms are published to each
    // member's user topic), as clones of one `Arc`: the same allocation is the same event.
    let mut recent: VecDeque<Arc<Room>> = VecDeque::new();
    while let Some(job) = rx.recv().await {
        let Some(d) = dialect.upgrade() else { return };
        let room = match &job {
            Job::RoomCreated(r) | Job::RoomUpdated(r) | Job::RoomDeleted(r) => Some(r),
            _ => None,
        };
        if let Some(r) = room {
            if recent.iter().any(|x| Arc::ptr_eq(x, r)) {
                continue;
            }
            if recent.len() >= 256 {
                recent.pop_front();
            }
            recent.push_back(r.clone());
        }
        if let Err(e) = d.run(job).await {
            tracing::warn!(error = ?e, "messaging: cannot render a core event");
        }
    }
}

impl Messaging {
    /// Returns once the hub has delivered everything published before (the renderer has
    /// seen every core event of operations that already returned).
    async fn hub_barrier(&self) {
        let topic = Topic::User(UserId(String::new()));
        let _ = self
            .core
            .hub()
            .publish_to_acked(
                topic.clone(),
                Event::MessagingFrame {
                    topic,
                    text: Arc::from(""),
                },
            )
            .await;
    }

    /// Returns once every frame for core events published before is queued for its clients.
    pub async fn settle(&self) {
        self.hub_barrier().await;
        let (tx, rx) = oneshot::channel();
        shared().enqueue(Job::Barrier(tx));
        let _ = rx.await;
    }

    /// Ends an operation marked with `Shared::own`, once its core event was delivered.
    pub async fn release(&self, own: Own) {
        self.hub_barrier().await;
        shared().forget(&own);
    }

    async fn run(&self, job: Job) -> Res<()> {
        let full = |m: Arc<Message>| async move {
            Ok::<_, super::errors::Fail>(
                self.message(&m.id.0).await?.unwrap_or_else(|| minimal(&m)),
            )
        };
        match job {
            Job::Created(m) => {
                let room = m.room_id.clone();
                let frame = ServerFrame::MessageDispatchEvent(full(m).await?);
                self.to_room(&room, &frame).await;
            }
            Job::Reaction { message, added } => {
                let room = message.room_id.clone();
                let frame = ServerFrame::ReactionDispatchEvent(proto::ReactionDispatchData {
                    status: proto::ReactionDispatchDataStatus::Successful,
                    r#type: added.then(|| "add".to_owned()),
                    action: (!added).then(|| "remove".to_owned()),
                    message: full(message).await?,
                });
                self.to_room(&room, &frame).await;
            }
            Job::Edited(m) => {
                let room = m.room_id.clone();
                let frame = ServerFrame::MessageModificationDispatchEvent(
                    proto::MessageModificationDispatchData {
                        status: "successful".into(),
                        action: proto::MessageModificationDispatchDataAction::Update,
                        message_ids: None,
                        message: Some(full(m).await?),
                    },
                );
                self.to_room(&room, &frame).await;
            }
            Job::Deleted(m) => {
                let frame = ServerFrame::MessageModificationDispatchEvent(
                    proto::MessageModificationDispatchData {
                        status: "successful".into(),
                        action: proto::MessageModificationDispatchDataAction::Delete,
                        message_ids: Some(vec![Value::String(m.id.0.clone())]),
                        message: None,
                    },
                );
                self.to_room(&m.room_id, &frame).await;
            }
            Job::RoomCreated(room) => {
                let topic = Topic::Room(room.id.clone());
                for m in &self.members(&room.id).await? {
                    self.registry.join(&m.id, &topic);
                }
                // The room as it is now (members may have changed since).
                if let Some(now) = self.core.store().room(room.id.clone()).await? {
                    let detail = self.room_detail(&now).await?;
                    self.to_room(&room.id, &ServerFrame::RoomCreateDispatchEvent(detail))
                        .await;
                }
            }
            Job::RoomUpdated(room) => {
                if let Some(now) = self.core.store().room(room.id.clone()).await? {
                    let detail = self.room_detail(&now).await?;
                    self.to_room(&room.id, &ServerFrame::RoomUpdateDispatchEvent(detail))
                        .await;
                }
            }
            Job::RoomDeleted(room) => {
                let frame = ServerFrame::RoomDeleteDispatchEvent(proto::RoomDeleteData {
                    room_id: room.id.0.clone(),
                });
                self.to_room(&room.id, &frame).await;
                self.registry.drop_topic(&Topic::Room(room.id.clone()));
            }
            Job::Members { room, users } => {
                let topic = Topic::Room(room.clone());
                let exists = self.core.store().room(room.clone()).await?.is_some();
                let members = if exists {
                    self.members(&room).await?
                } else {
                    Vec::new()
                };
                for u in &users {
                    if members.iter().any(|m| &m.id == u) {
                        self.registry.join(u, &topic);
                    } else {
                        self.registry.leave(u, &topic);
                    }
                }
            }
            Job::Barrier(tx) => {
                let _ = tx.send(());
            }
        }
        Ok(())
    }
}

pub fn react_key(msg: &str, user: &UserId, emoji: &str, present: bool) -> String {
    format!("react:{msg}:{user}:{emoji}:{present}")
}
pub fn room_delete_key(room: &str) -> String {
    format!("room-delete:{room}")
}
pub fn edit_key(msg: &str) -> String {
    format!("edit:{msg}")
}
pub fn delete_key(msg: &str) -> String {
    format!("delete:{msg}")
}

pub fn encode(frame: &ServerFrame) -> String {
    serde_json::to_string(frame).unwrap_or_default()
}

pub fn type_name(kind: RoomKind) -> &'static str {
    match kind {
        RoomKind::Group => "GroupChat",
        RoomKind::Broadcast => "Channel",
        _ => "OneToOneChat",
    }
}

fn ctype(kind: RoomKind) -> i64 {
    match kind {
        RoomKind::Group => 12,
        RoomKind::Broadcast => 13,
        _ => 11,
    }
}

/// A stable id for a reaction (the core keys reactions by message, user and emoji).
fn reaction_id(msg: &str, user: &str, emoji: &str) -> String {
    let d = Sha256::digest(format!("{msg}\n{user}\n{emoji}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    uuid::Builder::from_random_bytes(b).into_uuid().to_string()
}

fn attachments(extra: &Value) -> Vec<proto::Attachment> {
    extra
        .get("attachments")
        .cloned()
        .and_then(|a| serde_json::from_value(a).ok())
        .unwrap_or_default()
}

fn is_forwarded(extra: &Value, forwarded_from: bool) -> bool {
    extra
        .pointer("/messaging/is_forwarded")
        .and_then(Value::as_bool)
        .unwrap_or(forwarded_from)
}

fn to_map(m: &proto::Message) -> Option<IndexMap<String, Value>> {
    serde_json::to_value(m)
        .ok()
        .and_then(|v| serde_json::from_value(v).ok())
}

pub fn role_of(s: &str) -> RoomRole {
    match s {
        "owner" => RoomRole::Owner,
        "admin" => RoomRole::Admin,
        "moderator" => RoomRole::Moderator,
        _ => RoomRole::Member,
    }
}

/// DRF's placeholder for a room without messages (`MessageSerializer(None).data`).
fn empty_last_message() -> IndexMap<String, Value> {
    let v = json!({"id": null, "room_id": null, "sender_id": null, "parent_message_id": null,
        "forwarded_from_id": null, "content": "", "is_deleted": false, "is_forwarded": false,
        "is_edited": false});
    serde_json::from_value(v).unwrap_or_default()
}

impl Messaging {
    pub fn user(&self, id: &str, username: &str, display: Option<&str>) -> proto::User {
        user_json(&shared().numbers, &UserId(id.to_owned()), username, display)
    }

    async fn user_by_id(&self, id: &UserId) -> Res<Option<proto::User>> {
        Ok(self
            .core
            .store()
            .user(id.clone())
            .await?
            .map(|u| self.user(&u.id.0, &u.username, u.display_name.as_deref())))
    }

    /// The full `Message` (replies and forwards recursively).
    pub async fn message(&self, id: &str) -> Res<Option<proto::Message>> {
        let Some(row) = db::message(self.store.read_pool(), id).await? else {
            return Ok(None);
        };
        Ok(Some(self.message_from(row, 0).await?))
    }

    pub fn message_from(
        &self,
        row: MsgRow,
        depth: u32,
    ) -> std::pin::Pin<Box<dyn Future<Output = Res<proto::Message>> + Send + '_>> {
        Box::pin(async move {
            let pool = self.store.read_pool();
            let reactions = db::reactions(pool, &row.id)
                .await?
                .into_iter()
                .map(|(uid, name, disp, emoji, at)| proto::Reaction {
                    id: reaction_id(&row.id, &uid, &emoji),
                    user: self.user(&uid, &name, disp.as_deref()),
                    reaction_content: emoji,
                    created_at: iso(at),
                })
                .collect();
            let read_receipts = db::receipts(pool, &row.id)
                .await?
                .into_iter()
                .map(|(uid, name, disp, _, at)| proto::ReadReceipt {
                    reader: self.user(&uid, &name, disp.as_deref()),
                    read_at: iso(at),
                })
                .collect();
            let delivered_to = db::delivered(pool, &row.id).await?;
            let related = |id: Option<String>| async move {
                match id {
                    Some(id) if depth < 32 => match db::message(pool, &id).await? {
                        Some(r) => Ok::<_, super::errors::Fail>(to_map(
                            &self.message_from(r, depth + 1).await?,
                        )),
                        None => Ok(None),
                    },
                    _ => Ok(None),
                }
            };
            let parent_message = related(row.reply_to.clone()).await?;
            let forwarded_from = related(row.forwarded_from.clone()).await?;
            Ok(proto::Message {
                room: proto::MessageRoom {
                    id: row.room_id.clone(),
                },
                sender: self.user(&row.author_id, &row.username, row.display_name.as_deref()),
                read_receipts,
                reactions,
                attachments: attachments(&row.extra),
                parent_message,
                forwarded_from,
                delivered_to,
                is_deleted: row.deleted,
                created_at: iso(row.created_at),
                updated_at: iso(row.edited_at.unwrap_or(row.created_at).max(row.created_at)),
                is_forwarded: is_forwarded(&row.extra, row.forwarded_from.is_some()),
                is_edited: row.edited_at.is_some(),
                content: super::sanitize::shown(row.content),
                id: row.id,
            })
        })
    }

    pub async fn room_detail(&self, room: &Room) -> Res<proto::RoomDetail> {
        let members = db::members(self.store.read_pool(), &room.id.0).await?;
        // A new message bumps the room's `updated_at` in the original (`last_message` is saved).
        let last = db::last_message(self.store.read_pool(), &room.id.0).await?;
        let updated = db::room_updated_at(self.store.read_pool(), &room.id.0)
            .await?
            .max(last.map_or(0, |l| l.1));
        let all: Vec<proto::User> = members
            .iter()
            .map(|(id, n, d, _, _)| self.user(id, n, d.as_deref()))
            .collect();
        let staff: Vec<proto::User> = members
            .iter()
            .filter(|m| matches!(role_of(&m.3), RoomRole::Owner | RoomRole::Admin))
            .map(|(id, n, d, _, _)| self.user(id, n, d.as_deref()))
            .collect();
        let extra = &room.extra;
        let property = Some(proto::RoomDetailProperty {
            preferences: extra
                .pointer("/property/preferences")
                .cloned()
                .and_then(|p| serde_json::from_value(p).ok())
                .unwrap_or_default(),
        });
        let creator = match &room.creator_id {
            Some(c) if room.kind != RoomKind::Direct => self.user_by_id(c).await?,
            _ => None,
        };
        let avatar = Some(
            extra
                .get("avatar")
                .and_then(Value::as_str)
                .map(str::to_owned),
        );
        let mut d = proto::RoomDetail {
            id: room.id.0.clone(),
            creator: None,
            participants: None,
            subscribers: None,
            property,
            admins: None,
            moderators: None,
            polymorphic_ctype: ctype(room.kind),
            created_at: iso(room.created_at),
            updated_at: iso(updated.max(room.created_at)),
            name: None,
            description: None,
            max_participants: None,
            avatar: None,
            join_approval_required: None,
            group_locked: None,
            is_public: None,
            max_subscribers: None,
            r#type: match room.kind {
                RoomKind::Group => proto::RoomDetailType::GroupChat,
                RoomKind::Broadcast => proto::RoomDetailType::Channel,
                _ => proto::RoomDetailType::OneToOneChat,
            },
        };
        match room.kind {
            RoomKind::Group => {
                d.creator = creator;
                d.participants = Some(all);
                d.admins = Some(staff);
                d.name = Some(room.name.clone());
                d.description = Some(room.topic.clone());
                d.max_participants = Some(room.max_members.unwrap_or(100));
                d.avatar = avatar;
                d.join_approval_required = Some(flag(extra, "join_approval_required"));
                d.group_locked = Some(flag(extra, "group_locked"));
            }
            RoomKind::Broadcast => {
                d.creator = creator;
                d.subscribers = Some(all);
                d.moderators = Some(staff);
                d.name = Some(room.name.clone());
                d.description = Some(room.topic.clone());
                d.is_public = Some(room.is_public);
                d.avatar = avatar;
                d.max_subscribers = Some(room.max_members.unwrap_or(300));
            }
            _ => d.participants = Some(all),
        }
        Ok(d)
    }

    /// The list form of a room, relative to `me`; also returns the last message's time.
    pub async fn list_item(&self, room: &Room, me: &UserId) -> Res<(proto::RoomListItem, i64)> {
        let d = self.room_detail(room).await?;
        let last = db::last_message(self.store.read_pool(), &room.id.0).await?;
        let (last_message, at) = match &last {
            Some((id, at)) => (
                match self.message(id).await? {
                    Some(m) => to_map(&m),
                    None => Some(empty_last_message()),
                },
                *at,
            ),
            None => (Some(empty_last_message()), i64::MIN),
        };
        let me_num = shared().numbers.num(me);
        let peer = if room.kind == RoomKind::Direct {
            d.participants
                .as_ref()
                .and_then(|p| p.iter().find(|u| u.id != me_num).cloned())
        } else {
            None
        };
        let item = proto::RoomListItem {
            id: d.id,
            peer,
            creator: d.creator,
            last_message,
            polymorphic_ctype: d.polymorphic_ctype,
            created_at: d.created_at,
            updated_at: d.updated_at,
            name: d.name,
            description: d.description,
            max_participants: d.max_participants,
            avatar: d.avatar,
            join_approval_required: d.join_approval_required,
            group_locked: d.group_locked,
            is_public: d.is_public,
            max_subscribers: d.max_subscribers,
            r#type: match room.kind {
                RoomKind::Group => proto::RoomListItemType::GroupChat,
                RoomKind::Broadcast => proto::RoomListItemType::Channel,
                _ => proto::RoomListItemType::OneToOneChat,
            },
        };
        Ok((item, at))
    }
}

fn flag(extra: &Value, key: &str) -> bool {
    extra.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// A message of another dialect, from the event alone (no recursion, no receipts).
fn minimal(m: &Message) -> proto::Message {
    let extra = m
        .extra
        .as_deref()
        .cloned()
        .unwrap_or(Value::Object(Default::default()));
    let numbers = &shared().numbers;
    proto::Message {
        id: m.id.0.clone(),
        room: proto::MessageRoom {
            id: m.room_id.0.clone(),
        },
        sender: user_json(numbers, &m.author.id, &m.author.username, None),
        read_receipts: Vec::new(),
        reactions: m
            .reactions
            .iter()
            .flat_map(|g| {
                g.users.iter().map(|u| proto::Reaction {
                    id: reaction_id(&m.id.0, &u.id.0, &g.emoji),
                    user: user_json(numbers, &u.id, &u.username, None),
                    reaction_content: g.emoji.clone(),
                    created_at: iso(m.created_at),
                })
            })
            .collect(),
        attachments: attachments(&extra),
        parent_message: None,
        forwarded_from: None,
        delivered_to: Vec::new(),
        content: super::sanitize::shown(m.content.clone()),
        is_deleted: m.deleted,
        created_at: iso(m.created_at),
        updated_at: iso(m.edited_at.unwrap_or(m.created_at)),
        is_forwarded: is_forwarded(&extra, m.forwarded_from.is_some()),
        is_edited: m.edited_at.is_some(),
    }
}

/// Rooms the messaging dialect created (it announces their changes itself).
fn is_ours(room: &Room) -> bool {
    room.extra.get("messaging").is_some()
}

/// Renders core events for messaging connections.
pub struct MessagingRenderer;

impl Renderer for MessagingRenderer {
    fn render(&self, event: &Event) -> Option<Utf8Bytes> {
        let s = shared();
        match event {
            // ---- frames the dialect rendered itself
            Event::MessagingFrame { text, .. } => {
                return (!text.is_empty()).then(|| Utf8Bytes::from(text.to_string()));
            }
            // ---- what other dialects did: rendered from the database, in order
            Event::MessageCreated { message } => {
                let ours = message
                    .extra
                    .as_deref()
                    .is_some_and(|e| e.get("messaging").is_some());
                if !ours {
                    s.enqueue(Job::Created(message.clone()));
                }
            }
            Event::ReactionToggled {
                action,
                emoji,
                user,
                message,
            } => {
                let added = *action == ReactionAction::Added;
                if !s.claimed(&react_key(&message.id.0, &user.id, emoji, added)) {
                    s.enqueue(Job::Reaction {
                        message: message.clone(),
                        added,
                    });
                }
            }
            Event::MessageEdited { message } if !s.claimed(&edit_key(&message.id.0)) => {
                s.enqueue(Job::Edited(message.clone()))
            }
            Event::MessageDeleted { message } if !s.claimed(&delete_key(&message.id.0)) => {
                s.enqueue(Job::Deleted(message.clone()))
            }
            Event::RoomMembersChanged {
                room,
                added,
                removed,
            } if room.kind.is_private() => s.enqueue(Job::Members {
                room: room.id.clone(),
                users: added.iter().chain(removed).cloned().collect(),
            }),
            // The dialect announces the rooms it creates and deletes itself.
            Event::RoomCreated { room } if room.kind.is_private() && !is_ours(room) => {
                s.enqueue(Job::RoomCreated(room.clone()))
            }
            Event::RoomDeleted { room }
                if room.kind.is_private() && s.busy(&room_delete_key(&room.id.0)) => {}
            // Every core update is announced here, the dialect's own `room.modify update` too.
            Event::RoomUpdated { room } if room.kind.is_private() => {
                s.enqueue(Job::RoomUpdated(room.clone()))
            }
            Event::RoomDeleted { room } if room.kind.is_private() => {
                s.enqueue(Job::RoomDeleted(room.clone()))
            }
            _ => {}
        }
        None
    }
}

/// An `Arc<str>` frame for `Event::MessagingFrame`.
pub fn text(frame: &ServerFrame) -> Arc<str> {
    Arc::from(encode(frame))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ids::{MessageId, RoomId};
    use crate::core::messages::{ReactionGroup, UserRef};

    fn message(extra: Option<Value>) -> Message {
        Message {
            seq: 1,
            id: MessageId::generate(),
            room_id: RoomId::generate(),
            author: UserRef {
                id: UserId("someone-else".into()),
                username: "plexi".into(),
            },
            author_name: None,
            content: "from another dialect".into(),
            created_at: 1_700_000_000_123,
            edited_at: None,
            reply_to: None,
            forwarded_from: None,
            pinned: false,
            deleted: false,
            reactions: vec![ReactionGroup {
                emoji: "👍".into(),
                users: vec![UserRef {
                    id: UserId("third".into()),
                    username: "third".into(),
                }],
            }],
            extra: extra.map(Arc::new),
        }
    }

    #[test]
    fn messages_of_other_dialects_fall_back_to_the_event() {
        let m = message(None);
        let text = encode(&ServerFrame::MessageDispatchEvent(minimal(&m)));
        let frame = ServerFrame::decode(&text).expect("valid frame");
        let ServerFrame::MessageDispatchEvent(m) = frame else {
            panic!("not message.dispatch: {text}")
        };
        assert_eq!(m.content, "from another dialect");
        assert_eq!(m.sender.username, "plexi");
        assert!(m.sender.id >= super::super::users::LOCAL_BASE);
        assert_eq!(m.reactions[0].reaction_content, "👍");
        assert_eq!(m.created_at, "2023-11-14T22:13:20.123000Z");
        // Nothing is rendered inline: the worker renders from the database.
        let event = Event::MessageCreated {
            message: Arc::new(message(None)),
        };
        assert!(MessagingRenderer.render(&event).is_none());
    }

    #[test]
    fn own_operations_are_claimed_only_while_in_flight() {
        let s = Shared::default();
        assert!(!s.claimed("k"));
        let a = s.own("k".into());
        let b = s.own("k".into());
        assert!(s.busy("k"));
        // Two events for two operations in flight: both claimed, whichever comes first.
        assert!(s.claimed("k"));
        assert!(s.claimed("k"));
        assert!(!s.claimed("k"));
        s.forget(&b);
        s.forget(&a);
        assert!(!s.busy("k"));
        // A released operation whose event never came leaves nothing behind.
        let c = s.own("k".into());
        s.forget(&c);
        assert!(!s.busy("k"));
        assert!(!s.claimed("k"));
    }
}
