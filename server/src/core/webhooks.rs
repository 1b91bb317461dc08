//! Incoming webhooks, one concept for every dialect (Plexichat `/webhooks`, OriginChats
//! `webhook_*` and `POST /webhooks?token=`). Each webhook posts as its own bot user, a member of
//! the space, so its messages go through the core like any other and reach every dialect. Only
//! a SHA-256 of the token is stored: a token is shown when it is made, never again.
//!
//! Who may manage a webhook: its creator, or anyone with `MANAGE_WEBHOOKS` in its room or
//! `MANAGE_SPACE` in its space.

use super::audit::{AuditTarget, categories};
use super::ids::{MessageId, RoomId, SpaceId, UserId, now_ms};
use super::messages::{Message, NewMessage, UserRef};
use super::operations::Pending;
use super::permissions::Permissions;
use super::rooms::RoomKind;
use super::users::{self, User, UserKind};
use super::{Core, CoreError, CoreResult};
use crate::store::files::WebhookChange;
use serde_json::{Map, Value, json};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: String,
    pub space_id: SpaceId,
    pub room_id: RoomId,
    pub creator_id: UserId,
    /// The bot user its messages are posted as.
    pub user_id: UserId,
    pub name: String,
    pub avatar_url: Option<String>,
    pub created_at: i64,
}

/// What a webhook posts.
#[derive(Debug, Clone, Default)]
pub struct WebhookPost {
    pub content: String,
    /// The name shown for this post (default: the webhook's name).
    pub username: Option<String>,
    pub avatar_url: Option<String>,
    /// Embeds as sent (stored in `extra.embeds`).
    pub embeds: Option<Value>,
    /// Shown as another sender than the webhook (OriginChats' GitHub pseudo-webhook):
    /// `(id, name, avatar)` in `extra.webhook`.
    pub shown_as: Option<(String, String, Option<String>)>,
}

/// A new random token: 48 random bytes, URL-safe base64 (64 characters).
pub fn new_token() -> String {
    use base64::Engine as _;
    let mut secret = Vec::with_capacity(48);
    for _ in 0..3 {
        secret.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
}

impl Core {
    async fn may_manage_webhooks_in(&self, actor: &UserId, room: &RoomId) -> CoreResult<bool> {
        let (r, p) = self.permissions(actor, room).await?;
        if p.contains(Permissions::VIEW_ROOM | Permissions::MANAGE_WEBHOOKS) {
            return Ok(true);
        }
        match &r.space_id {
            Some(space) => Ok(self
                .space_permissions(actor, space)
                .await?
                .contains(Permissions::MANAGE_SPACE)),
            None => Ok(false),
        }
    }

    /// Whether `actor` may change or delete `w`.
    pub async fn may_manage_webhook(&self, actor: &UserId, w: &Webhook) -> CoreResult<bool> {
        if &w.creator_id == actor {
            return Ok(true);
        }
        match self.may_manage_webhooks_in(actor, &w.room_id).await {
            Ok(b) => Ok(b),
            Err(CoreError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Creates a webhook for a text room of a space, with `token` (the caller shows it once).
    pub async fn create_webhook(
        &self,
        actor: &User,
        room: &RoomId,
        name: &str,
        avatar_url: Option<String>,
        token: &str,
    ) -> CoreResult<Webhook> {
        let (r, p) = self.permissions(&actor.id, room).await?;
        if !p.contains(Permissions::VIEW_ROOM) {
            return Err(CoreError::NotFound("room"));
        }
        let Some(space) = r.space_id.clone().filter(|_| !r.kind.is_private()) else {
            return Err(CoreError::Invalid(
                "webhooks belong to rooms of a space".into(),
            ));
        };
        if r.kind != RoomKind::Text {
            return Err(CoreError::Invalid(
                "webhooks can only be created for text rooms".into(),
            ));
        }
        if !self.may_manage_webhooks_in(&actor.id, room).await? {
            return Err(CoreError::Forbidden("manage_webhooks"));
        }
        let now = now_ms();
        let bot = self
            .store()
            .create_user(
                User {
                    id: UserId::generate(),
                    username: format!("webhook.{}", uuid::Uuid::new_v4().simple()),
                    display_name: Some(name.to_owned()),
                    kind: UserKind::Bot,
                    avatar_url: avatar_url.clone(),
                    created_at: now,
                },
                None,
            )
            .await?;
        let everyone: Vec<_> = self
            .store()
            .roles(space.clone())
            .await?
            .into_iter()
            .filter(|r| r.is_default)
            .map(|r| r.id)
            .collect();
        self.store()
            .add_member(space.clone(), bot.id.clone(), everyone)
            .await?;
        self.invalidate_permissions();
        let w = Webhook {
            id: MessageId::generate().0,
            space_id: space,
            room_id: room.clone(),
            creator_id: actor.id.clone(),
            user_id: bot.id,
            name: name.to_owned(),
            avatar_url,
            created_at: now,
        };
        let w = self
            .store()
            .insert_webhook(w, users::token_digest(token))
            .await?;
        self.audit_webhook(actor, "webhook_create", &w, json!({"channel": r.name}))
            .await;
        Ok(w)
    }

    /// Writes a webhook action to the space's audit log (`server_management`, as OriginChats
    /// files them).
    async fn audit_webhook(&self, actor: &User, action: &str, w: &Webhook, details: Value) {
        self.audit(
            &w.space_id,
            Some(actor),
            action,
            categories::SERVER,
            AuditTarget::Named(w.id.clone(), w.name.clone()),
            details,
        )
        .await;
    }

    pub async fn webhook(&self, id: &str) -> CoreResult<Option<Webhook>> {
        Ok(self.store().webhook(id.to_owned()).await?)
    }

    /// The webhook a token belongs to.
    pub async fn webhook_by_token(&self, token: &str) -> CoreResult<Option<Webhook>> {
        if token.is_empty() {
            return Ok(None);
        }
        Ok(self
            .store()
            .webhook_by_token(users::token_digest(token))
            .await?)
    }

    /// Whether `token` is `w`'s token.
    pub async fn webhook_token_matches(&self, w: &Webhook, token: &str) -> CoreResult<bool> {
        let digest = self.store().webhook_token_digest(w.id.clone()).await?;
        Ok(digest.is_some_and(|d| d == users::token_digest(token)))
    }

    /// Webhooks of a space (one room's when given), oldest first.
    pub async fn webhooks(
        &self,
        space: &SpaceId,
        room: Option<&RoomId>,
    ) -> CoreResult<Vec<Webhook>> {
        Ok(self.store().webhooks(space.clone(), room.cloned()).await?)
    }

    async fn managed_webhook(&self, actor: &User, id: &str) -> CoreResult<Webhook> {
        let w = self
            .webhook(id)
            .await?
            .ok_or(CoreError::NotFound("webhook"))?;
        if !self.may_manage_webhook(&actor.id, &w).await? {
            return Err(CoreError::Forbidden("manage_webhooks"));
        }
        Ok(w)
    }

    /// Renames a webhook, changes its avatar, or moves it to another text room of its space.
    pub async fn update_webhook(
        &self,
        actor: &User,
        id: &str,
        name: Option<String>,
        avatar_url: Option<Option<String>>,
        room: Option<RoomId>,
    ) -> CoreResult<Webhook> {
        let w = self.managed_webhook(actor, id).await?;
        if let Some(r) = &room
            && r != &w.room_id
        {
            let target = self
                .store()
                .room(r.clone())
                .await?
                .ok_or(CoreError::NotFound("room"))?;
            if target.space_id.as_ref() != Some(&w.space_id) || target.kind != RoomKind::Text {
                return Err(CoreError::NotFound("room"));
            }
            if !self.may_manage_webhooks_in(&actor.id, r).await? {
                return Err(CoreError::Forbidden("manage_webhooks"));
            }
        }
        let mut changes = Vec::new();
        if name.is_some() {
            changes.push("name");
        }
        if avatar_url.is_some() {
            changes.push("avatar_url");
        }
        if room.as_ref().is_some_and(|r| r != &w.room_id) {
            changes.push("channel");
        }
        let change = WebhookChange {
            name,
            avatar_url,
            room_id: room,
            token_digest: None,
        };
        let updated = self
            .store()
            .update_webhook(w.id.clone(), change)
            .await?
            .ok_or(CoreError::NotFound("webhook"))?;
        self.audit_webhook(
            actor,
            "webhook_update",
            &updated,
            json!({"changes": changes, "old_name": w.name}),
        )
        .await;
        Ok(updated)
    }

    /// Replaces a webhook's token with `token`: the old one stops working at once.
    pub async fn regenerate_webhook(
        &self,
        actor: &User,
        id: &str,
        token: &str,
    ) -> CoreResult<Webhook> {
        let w = self.managed_webhook(actor, id).await?;
        let change = WebhookChange {
            token_digest: Some(users::token_digest(token)),
            ..WebhookChange::default()
        };
        let updated = self
            .store()
            .update_webhook(w.id, change)
            .await?
            .ok_or(CoreError::NotFound("webhook"))?;
        self.audit_webhook(actor, "webhook_regenerate", &updated, json!({}))
            .await;
        Ok(updated)
    }

    pub async fn delete_webhook(&self, actor: &User, id: &str) -> CoreResult<Webhook> {
        let w = self.managed_webhook(actor, id).await?;
        if !self.store().delete_webhook(w.id.clone()).await? {
            return Err(CoreError::NotFound("webhook"));
        }
        self.audit_webhook(actor, "webhook_delete", &w, json!({}))
            .await;
        Ok(w)
    }

    /// Posts through a webhook (its token already checked): the message is the bot user's,
    /// shown with the post's or the webhook's name, and published like any other.
    pub async fn post_webhook(
        &self,
        w: &Webhook,
        post: WebhookPost,
    ) -> CoreResult<Pending<Arc<Message>>> {
        let bot = self
            .store()
            .user(w.user_id.clone())
            .await?
            .ok_or(CoreError::NotFound("webhook"))?;
        let shown = post
            .username
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| w.name.clone());
        let avatar = post.avatar_url.or_else(|| w.avatar_url.clone());
        let mut extra = Map::new();
        let (wid, wname, wavatar) = post
            .shown_as
            .unwrap_or_else(|| (w.id.clone(), shown.clone(), avatar.clone()));
        extra.insert(
            "webhook".into(),
            json!({"id": wid, "name": wname, "avatar": wavatar}),
        );
        if let Some(e) = post.embeds.filter(|e| !e.is_null()) {
            extra.insert("embeds".into(), e);
        }
        let new = NewMessage {
            room_id: w.room_id.clone(),
            author: UserRef {
                id: bot.id,
                username: bot.username,
            },
            author_name: Some(wname),
            content: post.content,
            reply_to: None,
            forwarded_from: None,
            extra: Some(Value::Object(extra)),
        };
        self.submit_message(new).await
    }
}

/// For renderers: the webhook attribution of a message (`extra.webhook`).
pub fn message_webhook(m: &Message) -> Option<&Value> {
    m.extra.as_ref()?.get("webhook").filter(|v| v.is_object())
}
