//! Read state over REST: acks (MESSAGE_ACK to the others, unless the reader turned read receipts
//! off), unread counts, the last-read marker, mark-unread, bulk acks and "mark server read". The
//! markers are the core's (`core::read_state`).

use super::me::query;
use super::messages::{message_id, room_id};
use super::{ApiError, Authed, body, ok, px, success};
use crate::core::CoreError;
use crate::core::ids::{MessageId, RoomId, SpaceId, UserId};
use crate::core::permissions::Permissions;
use crate::core::rooms::RoomKind;
use crate::core::users::User;
use crate::dialects::plexichat::{Plexichat, ids};
use crate::net::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use chorus_protocol::plexichat_rest::{AckBulkRequest, MarkUnreadRequest};
use serde_json::json;

fn read_error(e: CoreError) -> ApiError {
    match e {
        CoreError::NotFound("message") => ApiError::not_found("Message not found"),
        CoreError::NotFound(_) => ApiError::not_found("Channel not found"),
        CoreError::Forbidden(_) => ApiError::forbidden("Access denied"),
        e => ApiError::core(e, "Channel"),
    }
}

/// Reading a channel one cannot see is "not found", as the reference answers.
fn lookup_error(e: CoreError) -> ApiError {
    match e {
        CoreError::Forbidden(_) => ApiError::not_found("Channel not found"),
        e => read_error(e),
    }
}

/// Marks `room` read for `user` up to `up_to` and its mentions read; returns how many messages
/// became read. Voice channels hold no messages (0).
pub async fn ack(
    px: &Plexichat,
    user: &User,
    room: &RoomId,
    up_to: Option<&MessageId>,
) -> Result<i64, ApiError> {
    let (room_rec, perms) = px
        .core
        .permissions(&user.id, room)
        .await
        .map_err(read_error)?;
    if !perms.contains(Permissions::VIEW_ROOM) {
        return Err(ApiError::not_found("Channel not found"));
    }
    if room_rec.kind == RoomKind::Voice {
        return Ok(0);
    }
    let receipts = px
        .state
        .messaging_settings(&user.id.0)
        .await?
        .read_receipts_enabled;
    let marked = px
        .core
        .mark_read(user, room, up_to, receipts)
        .await
        .map_err(read_error)?;
    px.state
        .mark_notifications_read(&user.id.0, None, Some(&room.0))
        .await?;
    Ok(marked)
}

pub async fn ack_messages(
    State(st): State<AppState>,
    auth: Authed,
    Path(channel): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let room = room_id(&channel)?;
    let up_to = match query(q.as_deref())
        .into_iter()
        .find(|(k, _)| k == "message_id")
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
    {
        Some(v) => Some(message_id(&v)?),
        None => None,
    };
    let marked = ack(px(&st), &auth.user, &room, up_to.as_ref()).await?;
    Ok(ok(&json!({"success": true, "messages_marked": marked})))
}

pub async fn unread(
    State(st): State<AppState>,
    auth: Authed,
    Path(channel): Path<String>,
) -> Result<Response, ApiError> {
    let room = room_id(&channel)?;
    let n = px(&st)
        .core
        .unread_count(&auth.user.id, &room)
        .await
        .map_err(lookup_error)?;
    Ok(ok(&json!({"channel_id": channel, "unread_count": n})))
}

pub async fn last_read(
    State(st): State<AppState>,
    auth: Authed,
    Path(channel): Path<String>,
) -> Result<Response, ApiError> {
    let room = room_id(&channel)?;
    let marker = px(&st)
        .core
        .read_marker(&auth.user.id, &room)
        .await
        .map_err(lookup_error)?;
    Ok(ok(&json!({
        "channel_id": channel,
        "last_read_message_id": marker.as_ref().map(|m| ids::wire(&m.last_read.0)),
        "last_read_at": marker.map(|m| m.updated_at),
    })))
}

pub async fn mark_unread(
    State(st): State<AppState>,
    auth: Authed,
    Path(channel): Path<String>,
    text: String,
) -> Result<Response, ApiError> {
    let room = room_id(&channel)?;
    let text = if text.trim().is_empty() {
        "{}".to_owned()
    } else {
        text
    };
    let req = body(&text, MarkUnreadRequest::decode)?;
    let from = match req.message_id.flatten() {
        Some(v) => Some(message_id(&v)?),
        None => None,
    };
    let n = px(&st)
        .core
        .mark_unread(&auth.user.id, &room, from.as_ref())
        .await
        .map_err(lookup_error)?;
    Ok(ok(&json!({"success": true, "unread_count": n})))
}

/// `POST /channels/ack/bulk`: each channel on its own; one that fails is skipped (as the
/// reference does).
pub async fn ack_bulk(
    State(st): State<AppState>,
    auth: Authed,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let req = body(&text, AckBulkRequest::decode)?;
    for (channel, message) in req.0 {
        let Some(room) = ids::core(&channel).map(RoomId) else {
            continue;
        };
        let up_to = match message.as_deref().map(ids::core) {
            Some(None) => continue,
            Some(Some(m)) => Some(MessageId(m)),
            None => None,
        };
        if let Err(e) = ack(px, &auth.user, &room, up_to.as_ref()).await {
            tracing::debug!(status = %e.status, channel, "plexichat: bulk ack skipped a channel");
        }
    }
    Ok(success())
}

/// The rooms `user` can read: server channels holding messages, then DMs and groups.
async fn readable_rooms(
    px: &Plexichat,
    user: &UserId,
    only: Option<&SpaceId>,
) -> Result<Vec<RoomId>, ApiError> {
    let mut out = Vec::new();
    let spaces = px.db.user_spaces(&user.0).await?;
    for (space, _) in spaces {
        let space = SpaceId(space);
        if only.is_some_and(|o| *o != space) {
            continue;
        }
        for (room, p) in px
            .core
            .space_rooms(user, &space)
            .await
            .map_err(|e| ApiError::core(e, "Server"))?
        {
            if p.contains(Permissions::VIEW_ROOM | Permissions::READ_HISTORY)
                && room.kind.holds_messages()
                && room.kind != RoomKind::Voice
            {
                out.push(room.id);
            }
        }
    }
    if only.is_none() {
        for room in px
            .core
            .user_private_rooms(user)
            .await
            .map_err(|e| ApiError::core(e, "User"))?
        {
            out.push(room.id);
        }
    }
    Ok(out)
}

pub async fn all_unread(State(st): State<AppState>, auth: Authed) -> Result<Response, ApiError> {
    let px = px(&st);
    let mut counts = serde_json::Map::new();
    for room in readable_rooms(px, &auth.user.id, None).await? {
        if let Ok(n) = px.core.unread_count(&auth.user.id, &room).await
            && n > 0
        {
            counts.insert(ids::wire(&room.0), json!(n));
        }
    }
    Ok(ok(&json!({"unread_counts": counts})))
}

pub async fn read_all_server(
    State(st): State<AppState>,
    auth: Authed,
    Path(server): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let space =
        SpaceId(ids::core(&server).ok_or_else(|| ApiError::bad_request("Invalid server ID"))?);
    if !px
        .db
        .user_spaces(&auth.user.id.0)
        .await?
        .iter()
        .any(|(id, _)| *id == space.0)
    {
        return Err(ApiError::not_found("Server not found"));
    }
    let mut marked = 0;
    for room in readable_rooms(px, &auth.user.id, Some(&space)).await? {
        if ack(px, &auth.user, &room, None).await? > 0 {
            marked += 1;
        }
    }
    Ok(ok(&json!({"success": true, "channels_marked": marked})))
}
