//! Webhooks over the WebSocket (§2.14), backed by the core's webhooks (the same ones Plexichat's
//! `/api/v1/webhooks` manages). Tokens are shown by `webhook_create` and `webhook_regenerate`
//! only: the core keeps a hash, `webhook_list` never lists them, and regenerating really
//! replaces the token (fixing the reference's 🐞s).

use super::OriginChats;
use super::attachments::wire_user_id;
use super::emoji::MANAGE_SERVER;
use super::frames::{timestamp, with_listener};
use super::messages::{fail, internal, send};
use super::session::Cx;
use crate::core::webhooks::Webhook;
use crate::core::{CoreError, CoreResult};
use crate::net::ws::Reply;
use chorus_protocol::originchats as proto;
use serde_json::{Value, json};

/// A new token in the reference's shape: a uuid4 and a second uuid4's hex (68 characters).
pub fn new_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4().simple())
}

impl OriginChats {
    /// `{"id","channel","name","token"?,"created_by","created_at","avatar"}`.
    pub async fn webhook_json(&self, w: &Webhook, token: Option<&str>) -> CoreResult<Value> {
        let channel = self
            .core
            .store()
            .room(w.room_id.clone())
            .await?
            .map(|r| r.name)
            .unwrap_or_default();
        let mut v = json!({
            "id": w.id,
            "channel": channel,
            "name": w.name,
            "created_by": wire_user_id(&w.creator_id),
            "created_at": timestamp(w.created_at),
            "avatar": w.avatar_url,
        });
        if let (Some(t), Some(o)) = (token, v.as_object_mut()) {
            o.insert("token".into(), json!(t));
        }
        Ok(v)
    }

    async fn webhook_reply(
        &self,
        cx: &Cx,
        src: &str,
        w: &Webhook,
        token: Option<&str>,
        l: Option<&str>,
    ) -> Reply {
        match self.webhook_json(w, token).await {
            Ok(v) => send(cx, with_listener(json!({"cmd": src, "webhook": v}), l)),
            Err(e) => send(cx, internal(src, e, l)),
        }
    }

    pub async fn webhook_create(&self, cx: &mut Cx, r: proto::WebhookCreate) -> Reply {
        const SRC: &str = "webhook_create";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        if !self.can_manage_server(cx).await {
            return send(cx, fail(SRC, MANAGE_SERVER, l));
        }
        let Some(channel) = r.channel.as_deref().filter(|c| !c.is_empty()) else {
            return send(cx, fail(SRC, "Channel is required", l));
        };
        let Some(name) = r.name.as_deref().filter(|n| !n.is_empty()) else {
            return send(cx, fail(SRC, "Webhook name is required", l));
        };
        let channel = match self.find_channel(cx, channel).await {
            Ok(Some(c)) => c,
            Ok(None) => return send(cx, fail(SRC, "Channel not found", l)),
            Err(e) => return send(cx, internal(SRC, e, l)),
        };
        if !channel.is_text() {
            return send(
                cx,
                fail(SRC, "Webhooks can only be created for text channels", l),
            );
        }
        let token = new_token();
        match self
            .core
            .create_webhook(&account.user, &channel.room.id, name, None, &token)
            .await
        {
            Ok(w) => self.webhook_reply(cx, SRC, &w, Some(&token), l).await,
            Err(e) => {
                tracing::warn!(error = %e, "originchats: webhook_create failed");
                send(cx, fail(SRC, "Failed to create webhook", l))
            }
        }
    }

    /// The webhook named by a request's `id` ("Webhook ID is required", "Webhook not found").
    async fn requested_webhook(
        &self,
        cx: &Cx,
        src: &str,
        id: Option<&str>,
        l: Option<&str>,
    ) -> Result<Webhook, Reply> {
        let Some(id) = id.filter(|i| !i.is_empty()) else {
            return Err(send(cx, fail(src, "Webhook ID is required", l)));
        };
        match self.core.webhook(id).await {
            Ok(Some(w)) if w.space_id == self.space => Ok(w),
            Ok(_) => Err(send(cx, fail(src, "Webhook not found", l))),
            Err(e) => Err(send(cx, internal(src, e, l))),
        }
    }

    pub async fn webhook_get(&self, cx: &mut Cx, r: proto::WebhookGet) -> Reply {
        const SRC: &str = "webhook_get";
        let l = r.listener.as_deref();
        match self.requested_webhook(cx, SRC, r.id.as_deref(), l).await {
            Ok(w) => self.webhook_reply(cx, SRC, &w, None, l).await,
            Err(reply) => reply,
        }
    }

    pub async fn webhook_list(&self, cx: &mut Cx, r: proto::WebhookList) -> Reply {
        const SRC: &str = "webhook_list";
        let l = r.listener.as_deref();
        let room = match r.channel.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(name) => match self.find_channel(cx, name).await {
                Ok(Some(c)) => Some(c.room.id),
                Ok(None) => return send(cx, fail(SRC, "Channel not found", l)),
                Err(e) => return send(cx, internal(SRC, e, l)),
            },
        };
        let list = match self.core.webhooks(&self.space, room.as_ref()).await {
            Ok(list) => list,
            Err(e) => return send(cx, internal(SRC, e, l)),
        };
        let mut out = Vec::with_capacity(list.len());
        for w in &list {
            match self.webhook_json(w, None).await {
                Ok(v) => out.push(v),
                Err(e) => return send(cx, internal(SRC, e, l)),
            }
        }
        send(cx, with_listener(json!({"cmd": SRC, "webhooks": out}), l))
    }

    pub async fn webhook_update(&self, cx: &mut Cx, r: proto::WebhookUpdate) -> Reply {
        const SRC: &str = "webhook_update";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        if !self.can_manage_server(cx).await {
            return send(cx, fail(SRC, MANAGE_SERVER, l));
        }
        let w = match self.requested_webhook(cx, SRC, r.id.as_deref(), l).await {
            Ok(w) => w,
            Err(reply) => return reply,
        };
        let name = match r.name.as_deref() {
            None => None,
            Some(n) if n.trim().is_empty() => {
                return send(cx, fail(SRC, "Webhook name must be a non-empty string", l));
            }
            Some(n) => Some(n.trim().to_owned()),
        };
        if name.is_none() && r.avatar.is_none() {
            return send(cx, fail(SRC, "No updates provided", l));
        }
        match self
            .core
            .update_webhook(&account.user, &w.id, name, r.avatar, None)
            .await
        {
            Ok(w) => self.webhook_reply(cx, SRC, &w, None, l).await,
            Err(CoreError::NotFound(_)) => send(cx, fail(SRC, "Webhook not found", l)),
            Err(e) => {
                tracing::warn!(error = %e, "originchats: webhook_update failed");
                send(cx, fail(SRC, "Failed to update webhook", l))
            }
        }
    }

    pub async fn webhook_delete(&self, cx: &mut Cx, r: proto::WebhookDelete) -> Reply {
        const SRC: &str = "webhook_delete";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        if !self.can_manage_server(cx).await {
            return send(cx, fail(SRC, MANAGE_SERVER, l));
        }
        let w = match self.requested_webhook(cx, SRC, r.id.as_deref(), l).await {
            Ok(w) => w,
            Err(reply) => return reply,
        };
        match self.core.delete_webhook(&account.user, &w.id).await {
            Ok(_) => send(
                cx,
                with_listener(json!({"cmd": SRC, "id": w.id, "deleted": true}), l),
            ),
            Err(e) => {
                tracing::warn!(error = %e, "originchats: webhook_delete failed");
                send(cx, fail(SRC, "Failed to delete webhook", l))
            }
        }
    }

    pub async fn webhook_regenerate(&self, cx: &mut Cx, r: proto::WebhookRegenerate) -> Reply {
        const SRC: &str = "webhook_regenerate";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        if !self.can_manage_server(cx).await {
            return send(cx, fail(SRC, MANAGE_SERVER, l));
        }
        let w = match self.requested_webhook(cx, SRC, r.id.as_deref(), l).await {
            Ok(w) => w,
            Err(reply) => return reply,
        };
        let token = new_token();
        match self
            .core
            .regenerate_webhook(&account.user, &w.id, &token)
            .await
        {
            Ok(w) => self.webhook_reply(cx, SRC, &w, Some(&token), l).await,
            Err(e) => {
                tracing::warn!(error = %e, "originchats: webhook_regenerate failed");
                send(cx, fail(SRC, "Failed to regenerate webhook token", l))
            }
        }
    }
}
