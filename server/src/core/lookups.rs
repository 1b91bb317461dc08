//! Message lookups: search, replies, pins, the window around a message.

use super::ids::{MessageId, RoomId, UserId};
use super::messages::Message;
use super::operations::Core;
use super::permissions::Permissions;
use super::{CoreError, CoreResult};

/// A message search: case-insensitive substring of the content, newest first.
#[derive(Debug, Clone)]
pub struct MessageSearch {
    pub rooms: Vec<RoomId>,
    pub needle: String,
    pub author: Option<UserId>,
    /// Only messages older than this store sequence number (a cursor).
    pub before_seq: Option<i64>,
    pub limit: u32,
}

/// The messages around one message, oldest first, and the index (from 0 at the oldest message
/// of the room) of the first of them.
#[derive(Debug, Clone)]
pub struct Around {
    pub messages: Vec<Message>,
    pub first_index: i64,
}

impl Core {
    /// Searches the rooms of `search` that `user` may read (the others are skipped).
    pub async fn search_messages(
        &self,
        user: &UserId,
        mut search: MessageSearch,
    ) -> CoreResult<Vec<Message>> {
        if search.needle.is_empty() {
            return Err(CoreError::Invalid("the search text is empty".into()));
        }
        let mut readable = Vec::with_capacity(search.rooms.len());
        for room in &search.rooms {
            let (_, perms) = self.permissions(user, room).await?;
            if perms.contains(Permissions::VIEW_ROOM | Permissions::READ_HISTORY) {
                readable.push(room.clone());
            }
        }
        search.rooms = readable;
        Ok(self.store().search_messages(search).await?)
    }

    /// Replies to `id` in `room`, oldest first.
    pub async fn message_replies(
        &self,
        user: &UserId,
        room: &RoomId,
        id: &MessageId,
        limit: u32,
    ) -> CoreResult<Vec<Message>> {
        self.require(user, room, Permissions::READ_HISTORY, "read_history")
            .await?;
        Ok(self
            .store()
            .message_replies(room.clone(), id.clone(), limit)
            .await?)
    }

    /// Pinned messages of `room`, newest first.
    pub async fn pinned_messages(&self, user: &UserId, room: &RoomId) -> CoreResult<Vec<Message>> {
        self.require(user, room, Permissions::READ_HISTORY, "read_history")
            .await?;
        Ok(self.store().pinned_messages(room.clone()).await?)
    }

    /// Up to `below` older and `above` newer messages around `id` (included), oldest first.
    pub async fn messages_around(
        &self,
        user: &UserId,
        room: &RoomId,
        id: &MessageId,
        above: u32,
        below: u32,
    ) -> CoreResult<Around> {
        self.require(user, room, Permissions::READ_HISTORY, "read_history")
            .await?;
        let target = self
            .store()
            .message(id.clone())
            .await?
            .filter(|m| m.room_id == *room && !m.deleted)
            .ok_or(CoreError::NotFound("message"))?;
        let mut messages = self
            .store()
            .messages_before(room.clone(), Some(target.seq), below)
            .await?;
        let index = self
            .store()
            .count_messages_before(room.clone(), Some(target.seq))
            .await?;
        let first_index = index - messages.len() as i64;
        let newer = self
            .store()
            .messages_after(room.clone(), target.seq, above)
            .await?;
        messages.push(target);
        messages.extend(newer);
        Ok(Around {
            messages,
            first_index,
        })
    }
}
