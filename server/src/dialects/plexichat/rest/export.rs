//! `GET /channels/{id}/messages/export`: a JSON transcript of a channel, oldest first, for
//! anyone who may read its history (the reference's `messages.export_transcript` has no core
//! permission bit, and `@everyone` holds it by default).

use super::messages::room_id;
use super::{ApiError, Authed, ok, px};
use crate::core::ids::now_ms;
use crate::core::permissions::Permissions;
use crate::net::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde_json::json;

/// Most messages one transcript holds (`truncated` says when there were more).
const MAX_MESSAGES: usize = 10_000;
const PAGE: u32 = 100;

pub async fn export(
    State(st): State<AppState>,
    auth: Authed,
    Path(channel): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let room = room_id(&channel)?;
    let me = &auth.user.id;
    let (rec, perms) = px
        .core
        .permissions(me, &room)
        .await
        .map_err(|_| ApiError::not_found("Channel not found"))?;
    if !perms.contains(Permissions::VIEW_ROOM) {
        return Err(ApiError::not_found("Channel not found"));
    }
    if !perms.contains(Permissions::READ_HISTORY) {
        return Err(ApiError::forbidden("Missing permissions"));
    }
    let mut messages = Vec::new();
    let mut after = 0;
    let mut truncated = false;
    loop {
        let page = px
            .core
            .history(me, &room, after, PAGE)
            .await
            .map_err(|e| ApiError::core(e, "Channel"))?;
        let full = page.len() as u32 == PAGE;
        if let Some(last) = page.last() {
            after = last.seq;
        }
        for m in page.iter().filter(|m| !m.deleted) {
            if messages.len() == MAX_MESSAGES {
                truncated = true;
                break;
            }
            messages.push(super::polls::message_for(px, m, me).await);
        }
        if !full || truncated {
            break;
        }
    }
    let mut resp = ok(&json!({
        "channel_id": channel,
        "channel_name": rec.name,
        "exported_at": now_ms(),
        "message_count": messages.len(),
        "truncated": truncated,
        "messages": messages,
    }));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"transcript-{channel}.json\""
    )) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
