//! Incoming webhooks: create, get, delete, execute. Each webhook posts as its own bot user (a
//! member of the server), with the webhook's name (or the request's `username`) as the author
//! name; its messages are dispatched as MESSAGE_CREATE like any other.

use super::messages::room_id;
use super::{ApiError, Authed, body, ok, px, success};
use crate::core::CoreError;
use crate::core::ids::{MessageId, UserId, now_ms};
use crate::core::messages::{NewMessage, UserRef};
use crate::core::permissions::Permissions;
use crate::core::users::{self, User, UserKind};
use crate::dialects::plexichat::Plexichat;
use crate::dialects::plexichat::db::Webhook;
use crate::dialects::plexichat::gateway::render::channel;
use crate::dialects::plexichat::ids::{self, wire};
use crate::dialects::plexichat::tokens::base64url;
use crate::net::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use chorus_protocol::plexichat_rest::{CreateWebhookRequest, ExecuteWebhookRequest};

fn webhook_json(w: &Webhook, token: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "id": wire(&w.id),
        "channel_id": wire(&w.room_id),
        "server_id": wire(&w.space_id),
        "creator_id": wire(&w.creator_id),
        "name": w.name,
        "avatar_url": w.avatar_url,
        "token": token,
        "url": token.map(|t| format!("/webhooks/{}/{t}", wire(&w.id))),
        "created_at": w.created_at,
    })
}

fn not_found() -> ApiError {
    ApiError::not_found("Webhook not found")
}

async fn webhook(px: &Plexichat, id: &str) -> Result<Webhook, ApiError> {
    let id = ids::core(id).ok_or_else(|| ApiError::bad_request("Invalid webhook ID"))?;
    px.db.webhook(&id).await?.ok_or_else(not_found)
}

/// Whether `user` may manage webhooks of the channel (`MANAGE_WEBHOOKS`: owner or admin).
async fn may_manage(px: &Plexichat, user: &UserId, room: &crate::core::ids::RoomId) -> bool {
    px.core
        .permissions(user, room)
        .await
        .is_ok_and(|(_, p)| p.contains(Permissions::VIEW_ROOM | Permissions::MANAGE_WEBHOOKS))
}

pub async fn create(
    State(st): State<AppState>,
    auth: Authed,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let req = body(&text, CreateWebhookRequest::decode)?;
    let channel_id = match &req.channel_id {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return Err(ApiError::bad_request("Invalid channel ID")),
    };
    let room = room_id(&channel_id)?;
    let (r, perms) = px
        .core
        .permissions(&auth.user.id, &room)
        .await
        .map_err(|e| ApiError::core(e, "Channel"))?;
    if !perms.contains(Permissions::VIEW_ROOM) || channel(&r).is_none() {
        return Err(ApiError::not_found("Channel not found"));
    }
    if !perms.contains(Permissions::MANAGE_WEBHOOKS) {
        return Err(ApiError::forbidden("Missing permissions"));
    }
    let space = r
        .space_id
        .clone()
        .ok_or_else(|| ApiError::not_found("Channel not found"))?;
    let now = now_ms();
    let bot = px
        .core
        .store()
        .create_user(
            User {
                id: UserId::generate(),
                username: format!("webhook.{}", ids::snowflake()),
                display_name: Some(req.name.clone()),
                kind: UserKind::Bot,
                avatar_url: req.avatar_url.clone().flatten(),
                created_at: now,
            },
            None,
        )
        .await?;
    let roles = px.core.store().roles(space.clone()).await?;
    let everyone: Vec<_> = roles
        .into_iter()
        .filter(|r| r.is_default)
        .map(|r| r.id)
        .collect();
    px.core
        .store()
        .add_member(space.clone(), bot.id.clone(), everyone)
        .await?;
    px.core.invalidate_permissions();
    let mut secret = Vec::with_capacity(48);
    for _ in 0..3 {
        secret.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    let token = base64url(&secret);
    let w = Webhook {
        id: MessageId::generate().0,
        space_id: space.0,
        room_id: room.0,
        creator_id: auth.user.id.0.clone(),
        user_id: bot.id.0,
        name: req.name,
        avatar_url: req.avatar_url.flatten(),
        token_digest: users::token_digest(&token),
        created_at: now,
    };
    px.db.insert_webhook(w.clone()).await?;
    Ok(ok(&webhook_json(&w, Some(&token))))
}

pub async fn get_one(
    State(st): State<AppState>,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let w = webhook(px, &id).await?;
    let room = crate::core::ids::RoomId(w.room_id.clone());
    if w.creator_id != auth.user.id.0 && !may_manage(px, &auth.user.id, &room).await {
        return Err(ApiError::forbidden("Missing permissions"));
    }
    Ok(ok(&webhook_json(&w, None)))
}

pub async fn delete(
    State(st): State<AppState>,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let w = webhook(px, &id).await?;
    let room = crate::core::ids::RoomId(w.room_id.clone());
    if w.creator_id != auth.user.id.0 && !may_manage(px, &auth.user.id, &room).await {
        return Err(ApiError::forbidden("Missing permissions"));
    }
    px.db.delete_webhook(&w.id).await?;
    Ok(success())
}

pub async fn execute(
    State(st): State<AppState>,
    Path((id, token)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let req = body(&text, ExecuteWebhookRequest::decode)?;
    let w = webhook(px, &id).await?;
    if users::token_digest(&token) != w.token_digest {
        return Err(ApiError::unauthorized("Invalid webhook token"));
    }
    let wait = q
        .as_deref()
        .unwrap_or("")
        .split('&')
        .any(|p| p == "wait=true" || p == "wait=1");
    let content = req.content.unwrap_or_default();
    if content.trim().is_empty() {
        return Err(ApiError::bad_request("Message must have content or embeds"));
    }
    let bot = px
        .core
        .store()
        .user(UserId(w.user_id.clone()))
        .await?
        .ok_or_else(not_found)?;
    let username = req
        .username
        .filter(|u| !u.trim().is_empty())
        .unwrap_or(w.name.clone());
    let new = NewMessage {
        room_id: crate::core::ids::RoomId(w.room_id.clone()),
        author: UserRef {
            id: bot.id.clone(),
            username: bot.username.clone(),
        },
        author_name: Some(username.clone()),
        content,
        reply_to: None,
        forwarded_from: None,
        extra: Some(serde_json::json!({"webhook_id": wire(&w.id)})),
    };
    let sent = match px.core.submit_message(new).await {
        Ok(p) => p.await,
        Err(e) => Err(e),
    };
    let m = match sent {
        Ok(m) => m,
        Err(CoreError::NotFound(_)) => return Err(not_found()),
        Err(e) => return Err(ApiError::core(e, "Channel")),
    };
    if !wait {
        return Ok(success());
    }
    Ok(ok(&serde_json::json!({
        "id": wire(&m.id.0),
        "webhook_id": wire(&w.id),
        "channel_id": wire(&w.room_id),
        "content": m.content,
        "username": username,
        "avatar_url": req.avatar_url.flatten().or(w.avatar_url),
        "created_at": m.created_at,
    })))
}
