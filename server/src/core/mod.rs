//! The chat core: the domain model shared by every dialect, and the operations on it.
//!
//! Every operation checks permissions, writes the store, then publishes a core event on the hub
//! (from the store's commit hook, so events go out in commit order and only once durable).

pub mod events;
pub mod ids;
pub mod messages;
pub mod operations;
pub mod permissions;
pub mod polls;
pub mod presence;
pub mod ratelimit;
pub mod read_state;
pub mod room_ops;
pub mod rooms;
pub mod spaces;
pub mod user_ops;
pub mod users;
// members and moderation
pub mod audit;
pub mod moderation;
pub mod roles;
// threads, message lookups, voice state
pub mod lookups;
pub mod structure;
pub mod threads;
pub mod voice;
// attachments, custom emoji, webhooks
pub mod attachment_images;
pub mod attachments;
pub mod emoji;
pub mod webhooks;
// Plexichat voice states (to be unified with `voice`)

pub use operations::Core;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("permission denied: {0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("invalid credentials")]
    Unauthorized,
    #[error("the server is shutting down")]
    Unavailable,
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => CoreError::NotFound(what),
            StoreError::Conflict(m) => CoreError::Conflict(m),
            StoreError::Closed => CoreError::Unavailable,
            StoreError::Backend(m) => CoreError::Internal(m),
        }
    }
}

pub type CoreResult<T> = Result<T, CoreError>;
