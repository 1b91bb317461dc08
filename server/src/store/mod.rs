//! Storage. The [`Store`] trait is what the core needs; [`sqlite`] is the embedded default.
//!
//! Contract: a write future resolves only after the write is durable (committed and synced
//! according to the configured durability). Writes may carry a [`CommitHook`]: it runs right
//! after the commit, in commit order, before the write future resolves. The core uses it to
//! publish events in exactly the order the store committed them.

pub mod members;
// attachments, custom emoji, webhooks
pub mod files;
pub mod sqlite;

use crate::core::ids::{MessageId, RoleId, RoomId, SpaceId, UserId};
use crate::core::lookups::MessageSearch;
use crate::core::messages::{DeleteMode, Message, MessageRecord, ReactionAction, UserRef};
use crate::core::permissions::{Override, Role};
use crate::core::polls::{Poll, PollState};
use crate::core::rooms::{Room, RoomMember};
use crate::core::spaces::Member;
use crate::core::users::User;
use std::future::Future;
use std::pin::Pin;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("storage error: {0}")]
    Backend(String),
    #[error("the store is shut down")]
    Closed,
}

pub type StoreResult<T> = Result<T, StoreError>;
pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = StoreResult<T>> + Send + 'a>>;
/// A queued write: resolves once the write is durable (or failed).
pub type Ticket<T> = Pin<Box<dyn Future<Output = StoreResult<T>> + Send + 'static>>;
/// Runs after the commit of the write it belongs to, in commit order.
pub type CommitHook<T> = Box<dyn FnOnce(&T) + Send>;

pub trait Store:
    members::MemberStore + files::FileStore + UserStateStore + Send + Sync + 'static
{
    // --- users, accounts, tokens
    /// Creates a user (and its credentials). `Conflict` when the username is taken.
    fn create_user(&self, user: User, password_hash: Option<String>) -> BoxFut<'_, User>;
    fn set_password(&self, user: UserId, password_hash: String) -> BoxFut<'_, ()>;
    /// The user identified by `ip` (reaction chat), created on first use.
    fn ensure_ip_user(&self, ip: String) -> BoxFut<'_, User>;
    fn user(&self, id: UserId) -> BoxFut<'_, Option<User>>;
    fn user_by_username(&self, username: String) -> BoxFut<'_, Option<User>>;
    fn password_hash(&self, id: UserId) -> BoxFut<'_, Option<String>>;
    fn insert_token(&self, digest: String, user: UserId, expires_at: Option<i64>)
    -> BoxFut<'_, ()>;
    fn user_by_token(&self, digest: String, now: i64) -> BoxFut<'_, Option<User>>;

    // --- spaces, members, roles, rooms
    /// Makes `user` a member of `space` with `roles` (idempotent; keeps existing roles).
    fn add_member(&self, space: SpaceId, user: UserId, roles: Vec<RoleId>) -> BoxFut<'_, ()>;
    fn member(&self, space: SpaceId, user: UserId) -> BoxFut<'_, Option<Member>>;
    fn roles(&self, space: SpaceId) -> BoxFut<'_, Vec<Role>>;
    fn space_owner(&self, space: SpaceId) -> BoxFut<'_, Option<UserId>>;
    fn room(&self, id: RoomId) -> BoxFut<'_, Option<Room>>;
    fn room_by_name(&self, space: SpaceId, name: String) -> BoxFut<'_, Option<Room>>;
    fn overrides(&self, room: RoomId) -> BoxFut<'_, Vec<Override>>;

    // --- messages, reactions
    /// Queues a message. The outer future resolves once the write is queued (after every write
    /// queued before it by the same caller), the [`Ticket`] once it is durable: callers may
    /// pipeline several writes and await them in order.
    fn insert_message(
        &self,
        rec: MessageRecord,
        hook: Option<CommitHook<Message>>,
    ) -> BoxFut<'_, Ticket<Message>>;
    fn message(&self, id: MessageId) -> BoxFut<'_, Option<Message>>;
    /// Messages of `room` with `seq > after_seq`, oldest first, at most `limit`.
    fn messages_after(&self, room: RoomId, after_seq: i64, limit: u32) -> BoxFut<'_, Vec<Message>>;
    /// Adds `user`'s `emoji` reaction, or removes it when present. `NotFound` for an unknown
    /// message.
    fn toggle_reaction(
        &self,
        message: MessageId,
        user: UserId,
        emoji: String,
        hook: Option<CommitHook<(ReactionAction, Message)>>,
    ) -> BoxFut<'_, (ReactionAction, Message)>;

    /// Sets a message's content and edit time; returns it edited. `NotFound` when absent.
    fn edit_message(
        &self,
        id: MessageId,
        content: String,
        edited_at: i64,
        hook: Option<CommitHook<Message>>,
    ) -> BoxFut<'_, Message>;
    /// Deletes a message (its row, or only flags it); returns it as it was.
    fn delete_message(
        &self,
        id: MessageId,
        mode: DeleteMode,
        hook: Option<CommitHook<Message>>,
    ) -> BoxFut<'_, Message>;
    /// The newest `limit` messages of `room` with `seq < before_seq` (None: the newest), oldest
    /// first.
    fn messages_before(
        &self,
        room: RoomId,
        before_seq: Option<i64>,
        limit: u32,
    ) -> BoxFut<'_, Vec<Message>>;
    /// Adds (`present`) or removes one reaction; the action is None when nothing changed.
    fn set_reaction(
        &self,
        message: MessageId,
        user: UserId,
        emoji: String,
        present: bool,
        hook: Option<CommitHook<(Option<ReactionAction>, Message)>>,
    ) -> BoxFut<'_, (Option<ReactionAction>, Message)>;
    /// Pins or unpins a message; returns it after the change.
    fn set_pinned(
        &self,
        message: MessageId,
        pinned: bool,
        by: UserId,
        hook: Option<CommitHook<Message>>,
    ) -> BoxFut<'_, Message>;

    // --- rooms and private-room membership
    fn create_room(
        &self,
        room: Room,
        members: Vec<RoomMember>,
        hook: Option<CommitHook<Room>>,
    ) -> BoxFut<'_, Room>;
    /// Stores every field of `room` but its id, space, kind, creator and creation time.
    fn update_room(&self, room: Room, hook: Option<CommitHook<Room>>) -> BoxFut<'_, Room>;
    /// Deletes a room with its messages; returns it as it was.
    fn delete_room(&self, id: RoomId, hook: Option<CommitHook<Room>>) -> BoxFut<'_, Room>;
    /// Rooms of a space (threads excluded), by position.
    fn space_rooms(&self, space: SpaceId) -> BoxFut<'_, Vec<Room>>;
    /// Private rooms `user` is a member of, oldest first.
    fn user_private_rooms(&self, user: UserId) -> BoxFut<'_, Vec<Room>>;
    fn room_members(&self, room: RoomId) -> BoxFut<'_, Vec<RoomMember>>;
    fn room_member(&self, room: RoomId, user: UserId) -> BoxFut<'_, Option<RoomMember>>;
    /// Adds a member or updates its role and `can_send`.
    fn put_room_member(
        &self,
        member: RoomMember,
        hook: Option<CommitHook<RoomMember>>,
    ) -> BoxFut<'_, RoomMember>;
    /// Removes a member; false when it was not one.
    fn remove_room_member(
        &self,
        room: RoomId,
        user: UserId,
        hook: Option<CommitHook<bool>>,
    ) -> BoxFut<'_, bool>;

    // --- polls (bots)
    /// Inserts a poll message and its poll in one transaction.
    fn create_poll(
        &self,
        rec: MessageRecord,
        poll: Poll,
        hook: Option<CommitHook<(Message, Poll)>>,
    ) -> BoxFut<'_, (Message, Poll)>;
    fn poll(&self, id: String) -> BoxFut<'_, Option<PollState>>;
    fn poll_by_message(&self, message: MessageId) -> BoxFut<'_, Option<PollState>>;
    /// Records `user`'s votes for `option_ids`; with `replace`, the user's other votes go.
    fn vote_poll(
        &self,
        poll: String,
        user: UserId,
        option_ids: Vec<String>,
        replace: bool,
        now: i64,
        hook: Option<CommitHook<PollState>>,
    ) -> BoxFut<'_, PollState>;
    /// Marks a poll ended at `at`; `Conflict` when it already was.
    fn end_poll(
        &self,
        poll: String,
        at: i64,
        hook: Option<CommitHook<PollState>>,
    ) -> BoxFut<'_, PollState>;
    /// Open polls whose expiry is before `now`, oldest expiry first.
    fn expired_polls(&self, now: i64, limit: u32) -> BoxFut<'_, Vec<String>>;
    // --- threads and message lookups
    /// Threads whose parent is `parent`, newest first.
    fn threads(&self, parent: RoomId) -> BoxFut<'_, Vec<Room>>;
    /// (thread, parent) of every thread.
    fn thread_links(&self) -> BoxFut<'_, Vec<(RoomId, RoomId)>>;
    /// The members of a room (thread participants) with their usernames, in joining order.
    fn room_member_refs(&self, room: RoomId) -> BoxFut<'_, Vec<UserRef>>;
    /// Live messages of `room` with `seq < before` (None: all of them).
    fn count_messages_before(&self, room: RoomId, before: Option<i64>) -> BoxFut<'_, i64>;
    /// Live messages matching a search, newest first.
    fn search_messages(&self, search: MessageSearch) -> BoxFut<'_, Vec<Message>>;
    /// Live replies to `id` in `room`, oldest first, at most `limit`.
    fn message_replies(&self, room: RoomId, id: MessageId, limit: u32) -> BoxFut<'_, Vec<Message>>;
    /// Pinned live messages of `room`, newest first.
    fn pinned_messages(&self, room: RoomId) -> BoxFut<'_, Vec<Message>>;
    /// Changes the kind of a space room (OriginChats `channel_update` of `type`).
    fn set_room_kind(
        &self,
        room: RoomId,
        kind: crate::core::rooms::RoomKind,
        hook: Option<CommitHook<Room>>,
    ) -> BoxFut<'_, Room>;

    /// Finishes queued writes and closes. Later writes fail with `Closed`.
    fn close(&self) -> BoxFut<'_, ()>;
}

/// Per-user state and bulk message operations (`sqlite/user_state.rs`): read markers, profile
/// edits, bulk deletes, clearing reactions.
pub trait UserStateStore {
    /// Where `user` has read up to in `room`: (message, its seq — 0 when the message is gone —,
    /// when the marker was set).
    fn read_marker(&self, user: UserId, room: RoomId) -> BoxFut<'_, Option<(MessageId, i64, i64)>>;
    /// Sets (`Some`) or clears `user`'s read marker in `room`.
    fn set_read_marker(
        &self,
        user: UserId,
        room: RoomId,
        marker: Option<MessageId>,
        now: i64,
        hook: Option<CommitHook<()>>,
    ) -> BoxFut<'_, ()>;
    /// Live messages of `room` with `after_seq < seq <= upto_seq` not written by `user`.
    fn count_unread(
        &self,
        room: RoomId,
        user: UserId,
        after_seq: i64,
        upto_seq: i64,
    ) -> BoxFut<'_, i64>;
    /// Deletes the live messages among `ids` that belong to `room`; returns them as they were.
    fn delete_messages(
        &self,
        room: RoomId,
        ids: Vec<MessageId>,
        mode: DeleteMode,
        hook: Option<CommitHook<Vec<Message>>>,
    ) -> BoxFut<'_, Vec<Message>>;
    /// Removes every reaction of a message; returns it after the change.
    fn clear_reactions(
        &self,
        message: MessageId,
        hook: Option<CommitHook<Message>>,
    ) -> BoxFut<'_, Message>;
    /// (user, time) of the reactions with `emoji` on `message`, oldest first, after the
    /// reaction of `after` (a user id) when given.
    fn reaction_users(
        &self,
        message: MessageId,
        emoji: String,
        after: Option<UserId>,
        limit: u32,
    ) -> BoxFut<'_, Vec<(UserId, i64)>>;
}
