//! Messages, reactions, pins and read state.

use super::ids::{MessageId, RoomId, UserId};
use std::sync::Arc;

/// A user as shown next to a message or a reaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRef {
    pub id: UserId,
    pub username: String,
}

/// All users who reacted with one emoji, in the order they reacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionGroup {
    pub emoji: String,
    pub users: Vec<UserRef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Commit order within the whole store (monotonic, assigned by the store).
    pub seq: i64,
    pub id: MessageId,
    pub room_id: RoomId,
    pub author: UserRef,
    /// A per-message display name (reaction chat `author_name`, webhook name).
    pub author_name: Option<String>,
    pub content: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub reply_to: Option<MessageId>,
    pub forwarded_from: Option<MessageId>,
    pub pinned: bool,
    /// Soft-deleted: kept (a dialect may show a tombstone) but never listed in history.
    pub deleted: bool,
    /// Reaction groups in the order each emoji was first used.
    pub reactions: Vec<ReactionGroup>,
    /// Dialect-specific data (attachments, embeds, webhook, interaction…): a JSON object.
    pub extra: Option<Arc<serde_json::Value>>,
}

/// What a client asked to post.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub room_id: RoomId,
    pub author: UserRef,
    pub author_name: Option<String>,
    pub content: String,
    pub reply_to: Option<MessageId>,
    pub forwarded_from: Option<MessageId>,
    /// A JSON object stored with the message (see [`Message::extra`]).
    pub extra: Option<serde_json::Value>,
}

/// A message about to be stored: the core has assigned its id and time.
#[derive(Debug, Clone)]
pub struct MessageRecord {
    pub id: MessageId,
    pub room_id: RoomId,
    pub author: UserRef,
    pub author_name: Option<String>,
    pub content: String,
    pub created_at: i64,
    pub reply_to: Option<MessageId>,
    pub forwarded_from: Option<MessageId>,
    pub extra: Option<serde_json::Value>,
}

/// How a message is deleted: removed from the store, or kept flagged as deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteMode {
    Hard,
    Soft,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReactionAction {
    Added,
    Removed,
}

/// Where a user has read up to in a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadState {
    pub user_id: UserId,
    pub room_id: RoomId,
    pub last_read: MessageId,
    pub updated_at: i64,
}

/// A pinned message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub room_id: RoomId,
    pub message_id: MessageId,
    pub pinned_by: UserId,
    pub pinned_at: i64,
}
