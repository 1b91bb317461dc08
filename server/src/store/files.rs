//! What the core needs to store for files: attachment metadata, custom emoji and webhooks
//! (`0008_files.sql`). The bytes themselves live on disk under the data directory; the core
//! writes them (`core::attachments`).

use super::BoxFut;
use crate::core::attachments::{Attachment, NewAttachment};
use crate::core::emoji::Emoji;
use crate::core::ids::{RoomId, SpaceId, UserId};
use crate::core::webhooks::Webhook;

/// A change to a webhook (None: keep).
#[derive(Debug, Clone, Default)]
pub struct WebhookChange {
    pub name: Option<String>,
    pub avatar_url: Option<Option<String>>,
    pub room_id: Option<RoomId>,
    pub token_digest: Option<String>,
}

/// A change to a custom emoji (None: keep).
#[derive(Debug, Clone, Default)]
pub struct EmojiChange {
    pub name: Option<String>,
    pub file_name: Option<String>,
    pub mime_type: Option<String>,
}

pub trait FileStore {
    // --- attachments
    /// Stores the metadata of a file already written to disk.
    fn insert_attachment(&self, a: NewAttachment) -> BoxFut<'_, Attachment>;
    /// An attachment by id, expired or not (the caller decides).
    fn attachment(&self, id: String) -> BoxFut<'_, Option<Attachment>>;
    /// The uploader's live upload with these bytes, if any.
    fn attachment_by_hash(
        &self,
        uploader: UserId,
        sha256: String,
        now: i64,
    ) -> BoxFut<'_, Option<Attachment>>;
    /// Sets a re-uploaded attachment's expiry, permanence and name.
    fn refresh_attachment(
        &self,
        id: String,
        expires_at: Option<i64>,
        permanent: bool,
        original_name: String,
    ) -> BoxFut<'_, Option<Attachment>>;
    /// How many live uploads `uploader` has, and the oldest of them.
    fn uploads_of(&self, uploader: UserId, now: i64) -> BoxFut<'_, (i64, Option<Attachment>)>;
    /// Deletes attachment rows; returns the file names of those that existed.
    fn delete_attachments(&self, ids: Vec<String>) -> BoxFut<'_, Vec<String>>;
    /// Up to `limit` attachments that should go: expired (`expires_at <= now`) or unreferenced
    /// and created before `unreferenced_before`.
    fn sweepable_attachments(
        &self,
        now: i64,
        unreferenced_before: i64,
        limit: u32,
    ) -> BoxFut<'_, Vec<Attachment>>;
    /// The rooms of the (undeleted) messages that use `attachment`.
    fn attachment_rooms(&self, attachment: String) -> BoxFut<'_, Vec<RoomId>>;

    // --- custom emoji
    /// Adds an emoji under the next sequential id of the space, as `<id>.<extension>`
    /// (`Conflict` if the name is taken, case-insensitively).
    fn insert_emoji(
        &self,
        space: SpaceId,
        name: String,
        extension: String,
        mime_type: String,
        created_by: Option<UserId>,
        created_at: i64,
    ) -> BoxFut<'_, Emoji>;
    fn emojis(&self, space: SpaceId) -> BoxFut<'_, Vec<Emoji>>;
    fn emoji(&self, space: SpaceId, id: i64) -> BoxFut<'_, Option<Emoji>>;
    fn emoji_by_name(&self, space: SpaceId, name: String) -> BoxFut<'_, Option<Emoji>>;
    /// Applies `change`; `Conflict` if the new name is taken; None if there is no such emoji.
    fn update_emoji(
        &self,
        space: SpaceId,
        id: i64,
        change: EmojiChange,
    ) -> BoxFut<'_, Option<Emoji>>;
    /// Deletes an emoji; returns it as it was.
    fn delete_emoji(&self, space: SpaceId, id: i64) -> BoxFut<'_, Option<Emoji>>;

    // --- webhooks
    fn insert_webhook(&self, w: Webhook, token_digest: String) -> BoxFut<'_, Webhook>;
    fn webhook(&self, id: String) -> BoxFut<'_, Option<Webhook>>;
    fn webhook_by_token(&self, token_digest: String) -> BoxFut<'_, Option<Webhook>>;
    /// The webhook's token digest (to check a token against one webhook).
    fn webhook_token_digest(&self, id: String) -> BoxFut<'_, Option<String>>;
    /// Webhooks of a space (of one room when given), oldest first.
    fn webhooks(&self, space: SpaceId, room: Option<RoomId>) -> BoxFut<'_, Vec<Webhook>>;
    fn update_webhook(&self, id: String, change: WebhookChange) -> BoxFut<'_, Option<Webhook>>;
    /// Deletes a webhook; false when there was none.
    fn delete_webhook(&self, id: String) -> BoxFut<'_, bool>;
}
