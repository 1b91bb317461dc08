//! Profile edits, bulk message deletes and reaction clean-up.

use super::events::Event;
use super::ids::{MessageId, RoomId, UserId};
use super::messages::{DeleteMode, Message};
use super::permissions::Permissions;
use super::users::{self, User};
use super::{Core, CoreError, CoreResult};
use std::sync::Arc;

/// Most messages one bulk delete may name.
pub const MAX_BULK_DELETE: usize = 100;

impl Core {
    /// Changes `actor`'s username and/or avatar (`Some(None)` removes it); the user's topic
    /// receives `UserChanged`. `Conflict` when the username is taken.
    pub async fn update_profile(
        &self,
        actor: &User,
        username: Option<String>,
        avatar_url: Option<Option<String>>,
    ) -> CoreResult<User> {
        if let Some(name) = &username {
            users::validate_username(name)?;
        }
        self.write_user(
            &actor.id,
            super::moderation::UserProfile {
                username,
                avatar_url,
                ..Default::default()
            },
        )
        .await
    }

    /// Sets a new password for `actor` (the caller has checked the old one).
    pub async fn change_password(&self, actor: &User, password: &str) -> CoreResult<()> {
        let hash = users::hash_password_blocking(password).await?;
        Ok(self.store().set_password(actor.id.clone(), hash).await?)
    }

    /// Deletes up to [`MAX_BULK_DELETE`] messages of `room`: `actor`'s own with `DELETE_OWN`,
    /// anyone's with `MANAGE_MESSAGES`; ids that are not live messages of the room are skipped.
    /// The room receives `MessagesBulkDeleted`, then `MessageDeleted` for each message.
    pub async fn delete_messages(
        &self,
        actor: &User,
        room: &RoomId,
        ids: &[MessageId],
        mode: DeleteMode,
    ) -> CoreResult<Vec<Arc<Message>>> {
        if ids.len() > MAX_BULK_DELETE {
            return Err(CoreError::Invalid(format!(
                "at most {MAX_BULK_DELETE} messages at once"
            )));
        }
        let (room_rec, perms) = self.permissions(&actor.id, room).await?;
        if !perms.contains(Permissions::VIEW_ROOM) {
            return Err(CoreError::NotFound("room"));
        }
        if !perms.contains(Permissions::MANAGE_MESSAGES) {
            for id in ids {
                if let Some(m) = self.store().message(id.clone()).await?
                    && m.room_id == *room
                    && !m.deleted
                    && (m.author.id != actor.id || !perms.contains(Permissions::DELETE_OWN))
                {
                    return Err(CoreError::Forbidden("manage_messages"));
                }
            }
        }
        let hub = self.hub().clone();
        let (room_id, space_id) = (room.clone(), room_rec.space_id.clone());
        let gone = self
            .store()
            .delete_messages(
                room.clone(),
                ids.to_vec(),
                mode,
                Some(Box::new(move |gone: &Vec<Message>| {
                    if gone.is_empty() {
                        return;
                    }
                    let messages: Vec<Arc<Message>> = gone.iter().cloned().map(Arc::new).collect();
                    hub.publish(Event::MessagesBulkDeleted {
                        room_id,
                        space_id,
                        messages: messages.clone(),
                    });
                    for message in messages {
                        hub.publish(Event::MessageDeleted { message });
                    }
                })),
            )
            .await?;
        for m in &gone {
            self.audit_message(actor, "message_delete", m).await;
        }
        Ok(gone.into_iter().map(Arc::new).collect())
    }

    /// Removes every reaction of a message (`MANAGE_MESSAGES`); the room receives
    /// `ReactionsCleared`.
    pub async fn clear_reactions(&self, actor: &User, id: &MessageId) -> CoreResult<Arc<Message>> {
        let msg = self.message(&actor.id, id).await?;
        let room = self
            .require(
                &actor.id,
                &msg.room_id,
                Permissions::MANAGE_MESSAGES,
                "manage_messages",
            )
            .await?;
        let hub = self.hub().clone();
        let space_id = room.space_id.clone();
        let updated = self
            .store()
            .clear_reactions(
                id.clone(),
                Some(Box::new(move |m: &Message| {
                    hub.publish(Event::ReactionsCleared {
                        message: Arc::new(m.clone()),
                        space_id,
                    })
                })),
            )
            .await?;
        Ok(Arc::new(updated))
    }

    /// Who reacted with `emoji` to a message `viewer` can read, oldest first.
    pub async fn reaction_users(
        &self,
        viewer: &UserId,
        id: &MessageId,
        emoji: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> CoreResult<Vec<(UserId, i64)>> {
        self.message(viewer, id).await?;
        Ok(self
            .store()
            .reaction_users(id.clone(), emoji.to_owned(), after, limit)
            .await?)
    }
}
