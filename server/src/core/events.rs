//! Core events: what happened, published on topics after the write is durable.

use super::ids::{RoomId, SpaceId, UserId};
use super::messages::{Message, ReactionAction, UserRef};
use std::sync::Arc;

/// Who receives an event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Topic {
    Room(RoomId),
    User(UserId),
    Space(SpaceId),
}

#[derive(Debug, Clone)]
pub enum Event {
    MessageCreated {
        message: Arc<Message>,
    },
    ReactionToggled {
        action: ReactionAction,
        emoji: String,
        user: UserRef,
        /// The message with its reactions after the change.
        message: Arc<Message>,
    },
}

impl Event {
    pub fn topic(&self) -> Topic {
        match self {
            Event::MessageCreated { message } | Event::ReactionToggled { message, .. } => {
                Topic::Room(message.room_id.clone())
            }
        }
    }

    /// For creation events, the store sequence number of the created item: a subscriber that
    /// already loaded history up to `seq` skips it.
    pub fn created_seq(&self) -> Option<i64> {
        match self {
            Event::MessageCreated { message } => Some(message.seq),
            _ => None,
        }
    }
}
