//! Incoming webhooks over the core's webhooks (the same ones OriginChats' `webhook_*` commands
//! and `POST /webhooks?token=` use): create, get, update, regenerate the token, list per channel
//! or server, delete, execute. Each webhook posts as its own bot user with the webhook's name
//! (or the request's `username`); its messages are dispatched as MESSAGE_CREATE like any other
//! and reach every dialect.

use super::messages::room_id;
use super::{ApiError, Authed, body, ok, px, success};
use crate::core::CoreError;
use crate::core::ids::SpaceId;
use crate::core::permissions::Permissions;
use crate::core::webhooks::{self as core_webhooks, Webhook, WebhookPost};
use crate::dialects::plexichat::Plexichat;
use crate::dialects::plexichat::gateway::render::channel;
use crate::dialects::plexichat::ids::{self, wire};
use crate::net::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use chorus_protocol::plexichat_rest::{
    CreateWebhookRequest, ExecuteWebhookRequest, UpdateWebhookRequest,
};
use serde_json::Value;

fn webhook_json(w: &Webhook, token: Option<&str>) -> Value {
    serde_json::json!({
        "id": wire(&w.id),
        "channel_id": wire(w.room_id.as_str()),
        "server_id": wire(w.space_id.as_str()),
        "creator_id": wire(w.creator_id.as_str()),
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

fn snowflake_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

async fn webhook(px: &Plexichat, id: &str) -> Result<Webhook, ApiError> {
    let id = ids::core(id).ok_or_else(|| ApiError::bad_request("Invalid webhook ID"))?;
    px.core
        .webhook(&id)
        .await
        .map_err(|e| ApiError::core(e, "Webhook"))?
        .ok_or_else(not_found)
}

/// A webhook the caller may manage (its creator, `webhooks.manage` or `server.manage`).
async fn managed(px: &Plexichat, auth: &Authed, id: &str) -> Result<Webhook, ApiError> {
    let w = webhook(px, id).await?;
    let may = px
        .core
        .may_manage_webhook(&auth.user.id, &w)
        .await
        .map_err(|e| ApiError::core(e, "Webhook"))?;
    if !may {
        return Err(ApiError::forbidden("Missing permissions"));
    }
    Ok(w)
}

fn core_error(e: CoreError) -> ApiError {
    match e {
        CoreError::NotFound("webhook") => not_found(),
        CoreError::NotFound(_) => ApiError::not_found("Channel not found"),
        CoreError::Invalid(_) => {
            ApiError::bad_request("Webhooks can only be created for text channels")
        }
        e => ApiError::core(e, "Webhook"),
    }
}

pub async fn create(
    State(st): State<AppState>,
    auth: Authed,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let req = body(&text, CreateWebhookRequest::decode)?;
    let channel_id = snowflake_value(&req.channel_id)
        .ok_or_else(|| ApiError::bad_request("Invalid channel ID"))?;
    let room = room_id(&channel_id)?;
    let (r, perms) = px
        .core
        .permissions(&auth.user.id, &room)
        .await
        .map_err(|e| ApiError::core(e, "Channel"))?;
    if !perms.contains(Permissions::VIEW_ROOM) || channel(&r).is_none() {
        return Err(ApiError::not_found("Channel not found"));
    }
    let token = core_webhooks::new_token();
    let w = px
        .core
        .create_webhook(
            &auth.user,
            &room,
            &req.name,
            req.avatar_url.flatten(),
            &token,
        )
        .await
        .map_err(core_error)?;
    Ok(ok(&webhook_json(&w, Some(&token))))
}

pub async fn get_one(
    State(st): State<AppState>,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let w = managed(px(&st), &auth, &id).await?;
    Ok(ok(&webhook_json(&w, None)))
}

pub async fn update(
    State(st): State<AppState>,
    auth: Authed,
    Path(id): Path<String>,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let req = body(&text, UpdateWebhookRequest::decode)?;
    let w = managed(px, &auth, &id).await?;
    let room = match &req.channel_id {
        None | Some(Value::Null) => None,
        Some(v) => {
            let s =
                snowflake_value(v).ok_or_else(|| ApiError::bad_request("Invalid channel ID"))?;
            Some(room_id(&s)?)
        }
    };
    let w = px
        .core
        .update_webhook(&auth.user, &w.id, req.name, req.avatar_url, room)
        .await
        .map_err(core_error)?;
    Ok(ok(&webhook_json(&w, None)))
}

pub async fn regenerate(
    State(st): State<AppState>,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let w = managed(px, &auth, &id).await?;
    let token = core_webhooks::new_token();
    let w = px
        .core
        .regenerate_webhook(&auth.user, &w.id, &token)
        .await
        .map_err(core_error)?;
    Ok(ok(&webhook_json(&w, Some(&token))))
}

pub async fn delete(
    State(st): State<AppState>,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let w = managed(px, &auth, &id).await?;
    px.core
        .delete_webhook(&auth.user, &w.id)
        .await
        .map_err(core_error)?;
    Ok(success())
}

fn list_json(list: &[Webhook]) -> Response {
    let v: Vec<Value> = list.iter().map(|w| webhook_json(w, None)).collect();
    ok(&v)
}

/// `GET /channels/{id}/webhooks`: needs `webhooks.manage` there (or `server.manage`).
pub async fn list_channel(
    State(st): State<AppState>,
    auth: Authed,
    Path(channel_id): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let room = room_id(&channel_id)?;
    let (r, perms) = px
        .core
        .permissions(&auth.user.id, &room)
        .await
        .map_err(|e| ApiError::core(e, "Channel"))?;
    let Some(space) = r
        .space_id
        .clone()
        .filter(|_| perms.contains(Permissions::VIEW_ROOM))
    else {
        return Err(ApiError::not_found("Channel not found"));
    };
    let all = px
        .core
        .webhooks(&space, Some(&room))
        .await
        .map_err(|e| ApiError::core(e, "Channel"))?;
    let manager = perms.contains(Permissions::MANAGE_WEBHOOKS)
        || px
            .core
            .space_permissions(&auth.user.id, &space)
            .await
            .is_ok_and(|p| p.contains(Permissions::MANAGE_SPACE));
    if !manager {
        return Err(ApiError::forbidden("Missing permissions"));
    }
    Ok(list_json(&all))
}

/// `GET /servers/{id}/webhooks`: the webhooks of every channel the caller may manage them in.
pub async fn list_server(
    State(st): State<AppState>,
    auth: Authed,
    Path(server_id): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let space =
        SpaceId(ids::core(&server_id).ok_or_else(|| ApiError::bad_request("Invalid server ID"))?);
    let member = px
        .core
        .store()
        .member(space.clone(), auth.user.id.clone())
        .await?;
    if member.is_none() {
        return Err(ApiError::not_found("Server not found"));
    }
    let all = px
        .core
        .webhooks(&space, None)
        .await
        .map_err(|e| ApiError::core(e, "Server"))?;
    let mut out = Vec::with_capacity(all.len());
    for w in all {
        if px
            .core
            .may_manage_webhook(&auth.user.id, &w)
            .await
            .unwrap_or(false)
        {
            out.push(w);
        }
    }
    Ok(list_json(&out))
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
    let matches = px
        .core
        .webhook_token_matches(&w, &token)
        .await
        .map_err(|e| ApiError::core(e, "Webhook"))?;
    if !matches {
        return Err(ApiError::unauthorized("Invalid webhook token"));
    }
    let wait = q
        .as_deref()
        .unwrap_or("")
        .split('&')
        .any(|p| p == "wait=true" || p == "wait=1");
    let content = req.content.unwrap_or_default();
    let embeds = req.embeds.filter(|e| !e.is_empty());
    if content.trim().is_empty() && embeds.is_none() {
        return Err(ApiError::bad_request("Message must have content or embeds"));
    }
    let username = req.username.filter(|u| !u.trim().is_empty());
    let avatar = req.avatar_url.flatten();
    let post = WebhookPost {
        content,
        username: username.clone(),
        avatar_url: avatar.clone(),
        embeds: embeds.map(|e| serde_json::to_value(e).unwrap_or(Value::Null)),
        shown_as: None,
    };
    let sent = match px.core.post_webhook(&w, post).await {
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
        "channel_id": wire(w.room_id.as_str()),
        "content": m.content,
        "username": username.unwrap_or(w.name.clone()),
        "avatar_url": avatar.or(w.avatar_url),
        "created_at": m.created_at,
    })))
}
