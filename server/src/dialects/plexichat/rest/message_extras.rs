//! `POST /channels/{id}/messages/bulk-delete` (MESSAGE_DELETE_BULK), `DELETE .../reactions`
//! (MESSAGE_REACTION_REMOVE_ALL) and `GET .../reactions/{emoji}`.

use super::me::{int_param, query};
use super::messages::{from_path, require, room_id};
use super::{ApiError, Authed, body, ok, px, success};
use crate::core::CoreError;
use crate::core::ids::{MessageId, UserId};
use crate::core::messages::DeleteMode;
use crate::core::permissions::Permissions;
use crate::dialects::plexichat::ids;
use crate::net::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use chorus_protocol::plexichat_rest::BulkDeleteRequest;
use serde_json::json;

pub async fn bulk_delete(
    State(st): State<AppState>,
    auth: Authed,
    Path(channel): Path<String>,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let room = room_id(&channel)?;
    let req = body(&text, BulkDeleteRequest::decode)?;
    let mut wanted = Vec::with_capacity(req.message_ids.len());
    for v in &req.message_ids {
        let id = ids::from_json(v).ok_or_else(|| ApiError::bad_request("Invalid message ID"))?;
        wanted.push(MessageId(id));
    }
    require(px, &auth.user.id, &room, Permissions::NONE).await?;
    if wanted.is_empty() {
        return Ok(success());
    }
    px.core
        .delete_messages(&auth.user, &room, &wanted, DeleteMode::Soft)
        .await
        .map_err(|e| match e {
            CoreError::Forbidden(_) => ApiError::forbidden("Missing permissions"),
            e => ApiError::core(e, "Channel"),
        })?;
    Ok(success())
}

pub async fn clear_reactions(
    State(st): State<AppState>,
    auth: Authed,
    Path((channel, message)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = from_path(px(&st), &auth.user.id, &channel, &message)
        .await?
        .id
        .clone();
    px(&st)
        .core
        .clear_reactions(&auth.user, &id)
        .await
        .map_err(|e| match e {
            CoreError::Forbidden(_) => ApiError::forbidden("Missing permissions"),
            e => ApiError::core(e, "Message"),
        })?;
    Ok(success())
}

pub async fn reaction_users(
    State(st): State<AppState>,
    auth: Authed,
    Path((channel, message, emoji)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let mut limit = 50;
    let mut after = None;
    for (k, v) in query(q.as_deref()) {
        match k.as_str() {
            "limit" => limit = int_param("limit", &v, 1..=100)?,
            "after" if !v.is_empty() => {
                after = Some(UserId(
                    ids::core(&v).ok_or_else(|| ApiError::bad_request("Invalid user ID"))?,
                ))
            }
            _ => {}
        }
    }
    let id = from_path(px(&st), &auth.user.id, &channel, &message)
        .await?
        .id
        .clone();
    let users = px(&st)
        .core
        .reaction_users(&auth.user.id, &id, &emoji, after, limit as u32)
        .await
        .map_err(|e| ApiError::core(e, "Message"))?;
    let out: Vec<_> = users
        .iter()
        .map(|(u, at)| json!({"user_id": ids::wire(&u.0), "reacted_at": at}))
        .collect();
    Ok(ok(&out))
}
