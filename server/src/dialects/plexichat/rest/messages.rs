//! `/channels/{channel_id}/messages...`: list (newest first; oldest first with `after`), create,
//! get, edit, delete; reactions; pins; typing.

use super::{ApiError, Authed, body, ok, px, success};
use crate::core::CoreError;
use crate::core::events::Event;
use crate::core::ids::{MessageId, RoomId, UserId};
use crate::core::messages::{DeleteMode, Message, NewMessage, UserRef};
use crate::core::permissions::Permissions;
use crate::dialects::plexichat::{Plexichat, ids, wire};
use crate::net::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use chorus_protocol::plexichat_rest::{CreateMessageRequest, EditMessageRequest};
use std::sync::Arc;

/// The room of a channel id (400 `Invalid channel ID` when it is not one).
pub fn room_id(channel: &str) -> Result<RoomId, ApiError> {
    ids::core(channel)
        .map(RoomId)
        .ok_or_else(|| ApiError::bad_request("Invalid channel ID"))
}

/// The message of a message id (400 `Invalid message ID` when it is not one).
pub fn message_id(id: &str) -> Result<MessageId, ApiError> {
    ids::core(id)
        .map(MessageId)
        .ok_or_else(|| ApiError::bad_request("Invalid message ID"))
}

/// Checks that `user` sees the channel and has `needed` there.
pub async fn require(
    px: &Plexichat,
    user: &UserId,
    room: &RoomId,
    needed: Permissions,
) -> Result<(), ApiError> {
    let (_, perms) = px
        .core
        .permissions(user, room)
        .await
        .map_err(|e| ApiError::core(e, "Channel"))?;
    if !perms.contains(Permissions::VIEW_ROOM) {
        return Err(ApiError::not_found("Channel not found"));
    }
    if !perms.contains(needed) {
        return Err(ApiError::forbidden("Channel access denied"));
    }
    Ok(())
}

/// A message of the channel (404 `Message not found` otherwise).
pub async fn message_in(
    px: &Plexichat,
    user: &UserId,
    room: &RoomId,
    id: &MessageId,
) -> Result<Arc<Message>, ApiError> {
    require(px, user, room, Permissions::READ_HISTORY).await?;
    match px.core.message(user, id).await {
        Ok(m) if m.room_id == *room && !m.deleted => Ok(m),
        Ok(_) | Err(CoreError::NotFound(_)) => Err(ApiError::not_found("Message not found")),
        Err(e) => Err(ApiError::core(e, "Message")),
    }
}

fn message_error(e: CoreError) -> ApiError {
    match e {
        CoreError::NotFound(_) => ApiError::not_found("Message not found"),
        CoreError::Forbidden(_) => ApiError::forbidden("You can only modify your own messages"),
        e => ApiError::core(e, "Message"),
    }
}

enum Page {
    Newest,
    Before(MessageId),
    After(MessageId),
}

pub async fn list(
    State(st): State<AppState>,
    auth: Authed,
    Path(channel): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let room = room_id(&channel)?;
    let mut limit = 50u32;
    let mut page = Page::Newest;
    for (k, v) in super::me::query(q.as_deref()) {
        match k.as_str() {
            "limit" => {
                limit = match v.parse::<i64>() {
                    Ok(n) if (1..=100).contains(&n) => n as u32,
                    Ok(n) if n > 100 => {
                        return Err(ApiError::bad_request(
                            "Invalid limit: Input should be less than or equal to 100",
                        ));
                    }
                    Ok(_) => {
                        return Err(ApiError::bad_request(
                            "Invalid limit: Input should be greater than or equal to 1",
                        ));
                    }
                    Err(_) => {
                        return Err(ApiError::bad_request(
                            "Invalid limit: Input should be a valid integer",
                        ));
                    }
                }
            }
            "before" => page = Page::Before(message_id(&v)?),
            "after" => page = Page::After(message_id(&v)?),
            _ => {}
        }
    }
    require(px, &auth.user.id, &room, Permissions::READ_HISTORY).await?;
    let core = &px.core;
    let me = &auth.user.id;
    let msgs = match page {
        Page::Newest => {
            let mut v = core
                .history_before(me, &room, None, limit)
                .await
                .map_err(|e| ApiError::core(e, "Channel"))?;
            v.reverse();
            v
        }
        Page::Before(id) => {
            let cursor = message_in(px, me, &room, &id).await?;
            let mut v = core
                .history_before(me, &room, Some(cursor.seq), limit)
                .await
                .map_err(|e| ApiError::core(e, "Channel"))?;
            v.reverse();
            v
        }
        Page::After(id) => {
            let cursor = message_in(px, me, &room, &id).await?;
            core.history(me, &room, cursor.seq, limit)
                .await
                .map_err(|e| ApiError::core(e, "Channel"))?
        }
    };
    let mut out = Vec::with_capacity(msgs.len());
    for m in msgs.iter().filter(|m| !m.deleted) {
        out.push(super::polls::message_for(px, m, me).await);
    }
    Ok(ok(&out))
}

pub async fn create(
    State(st): State<AppState>,
    auth: Authed,
    Path(channel): Path<String>,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let room = room_id(&channel)?;
    let req = body(&text, CreateMessageRequest::decode)?;
    let content = req.content.unwrap_or_default();
    let wants_attachments = req.attachments.as_ref().is_some_and(|a| !a.is_empty());
    if content.trim().is_empty() && !wants_attachments && req.poll.is_none() {
        return Err(ApiError::bad_request(
            "Message must have content, attachments, embeds, or a poll",
        ));
    }
    let reply_to = match &req.reply_to_id {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => {
            Some(MessageId(ids::from_json(v).ok_or_else(|| {
                ApiError::bad_request("Invalid reply_to_id")
            })?))
        }
    };
    require(px, &auth.user.id, &room, Permissions::NONE).await?;
    // already-uploaded files, named by their URLs
    let mut extra = None;
    if let Some(list) = req.attachments.as_deref().filter(|a| !a.is_empty()) {
        let found = super::media::message_attachments(&px.core, &auth.user, list).await?;
        let items: Vec<_> = found.iter().map(|a| a.to_extra()).collect();
        extra = Some(serde_json::json!({ "attachments": items }));
    }
    if let Some(poll) = &req.poll {
        let m = super::polls::create(px, &auth.user, room, content, poll, extra).await?;
        return Ok(ok(&super::polls::message_for(px, &m, &auth.user.id).await));
    }
    let new = NewMessage {
        room_id: room,
        author: UserRef {
            id: auth.user.id.clone(),
            username: auth.user.username.clone(),
        },
        author_name: None,
        content: if content.trim().is_empty() {
            String::new()
        } else {
            content
        },
        reply_to,
        forwarded_from: None,
        extra,
    };
    let sent = match px.core.submit_message(new).await {
        Ok(pending) => pending.await,
        Err(e) => Err(e),
    };
    match sent {
        Ok(m) => Ok(ok(&wire::message(&m, Some(&auth.user.id.0)))),
        Err(CoreError::Forbidden(_)) => Err(ApiError::forbidden(
            "You do not have permission to send messages in this channel",
        )),
        Err(e) => Err(ApiError::core(e, "Channel")),
    }
}

/// The message `message` of `channel` as the caller sees it (ids from the path).
pub async fn from_path(
    px: &Plexichat,
    user: &UserId,
    channel: &str,
    message: &str,
) -> Result<Arc<Message>, ApiError> {
    message_in(px, user, &room_id(channel)?, &message_id(message)?).await
}

pub async fn get_one(
    State(st): State<AppState>,
    auth: Authed,
    Path((channel, message)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let m = from_path(px, &auth.user.id, &channel, &message).await?;
    Ok(ok(&super::polls::message_for(px, &m, &auth.user.id).await))
}

pub async fn edit(
    State(st): State<AppState>,
    auth: Authed,
    Path((channel, message)): Path<(String, String)>,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let room = room_id(&channel)?;
    let id = message_id(&message)?;
    let req = body(&text, EditMessageRequest::decode)?;
    if req.content.trim().is_empty() {
        return Err(ApiError::bad_request("Message content cannot be empty"));
    }
    message_in(px, &auth.user.id, &room, &id).await?;
    let m = px
        .core
        .edit_message(&auth.user, &id, req.content)
        .await
        .map_err(message_error)?;
    Ok(ok(&wire::message(&m, Some(&auth.user.id.0))))
}

pub async fn delete(
    State(st): State<AppState>,
    auth: Authed,
    Path((channel, message)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let room = room_id(&channel)?;
    let id = message_id(&message)?;
    message_in(px, &auth.user.id, &room, &id).await?;
    px.core
        .delete_message(&auth.user, &id, DeleteMode::Soft)
        .await
        .map_err(message_error)?;
    Ok(success())
}

async fn react(
    st: AppState,
    auth: Authed,
    channel: String,
    message: String,
    raw_emoji: String,
    present: bool,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let room = room_id(&channel)?;
    let id = message_id(&message)?;
    // Path segments arrive percent-decoded.
    let emoji = raw_emoji;
    message_in(px, &auth.user.id, &room, &id).await?;
    match px.core.set_reaction(&auth.user, &id, &emoji, present).await {
        Ok(_) => Ok(success()),
        Err(CoreError::Forbidden(_)) => Err(ApiError::forbidden("Missing permissions")),
        Err(e) => Err(message_error(e)),
    }
}

pub async fn add_reaction(
    State(st): State<AppState>,
    auth: Authed,
    Path((channel, message, emoji)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    react(st, auth, channel, message, emoji, true).await
}

pub async fn remove_reaction(
    State(st): State<AppState>,
    auth: Authed,
    Path((channel, message, emoji)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    react(st, auth, channel, message, emoji, false).await
}

pub async fn reactions(
    State(st): State<AppState>,
    auth: Authed,
    Path((channel, message)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let m = from_path(px(&st), &auth.user.id, &channel, &message).await?;
    Ok(ok(&wire::message(&m, Some(&auth.user.id.0)).reactions))
}

pub async fn pins(
    State(st): State<AppState>,
    auth: Authed,
    Path(channel): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let room = room_id(&channel)?;
    require(px, &auth.user.id, &room, Permissions::READ_HISTORY).await?;
    let mut out = Vec::new();
    for id in px.db.pinned_ids(&room.0).await? {
        if let Ok(m) = px.core.message(&auth.user.id, &MessageId(id)).await {
            out.push(wire::message(&m, Some(&auth.user.id.0)));
        }
    }
    Ok(ok(&out))
}

async fn pin_or_unpin(
    st: AppState,
    auth: Authed,
    channel: String,
    message: String,
    pinned: bool,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let room = room_id(&channel)?;
    let id = message_id(&message)?;
    message_in(px, &auth.user.id, &room, &id).await?;
    match px.core.set_pinned(&auth.user, &id, pinned).await {
        Ok(_) => Ok(success()),
        Err(CoreError::Forbidden(_)) => Err(ApiError::forbidden("Missing permissions")),
        Err(e) => Err(message_error(e)),
    }
}

pub async fn pin(
    State(st): State<AppState>,
    auth: Authed,
    Path((channel, message)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    pin_or_unpin(st, auth, channel, message, true).await
}

pub async fn unpin(
    State(st): State<AppState>,
    auth: Authed,
    Path((channel, message)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    pin_or_unpin(st, auth, channel, message, false).await
}

/// Publishes TYPING_START/TYPING_STOP for `user` in `room` if they may send there.
pub async fn publish_typing(
    px: &Plexichat,
    user: &crate::core::users::User,
    room: RoomId,
    started: bool,
) -> Result<(), ApiError> {
    require(px, &user.id, &room, Permissions::SEND_MESSAGES).await?;
    px.core.hub().publish(Event::Typing {
        room_id: room,
        user: UserRef {
            id: user.id.clone(),
            username: user.username.clone(),
        },
        started,
        from_conn: None,
    });
    Ok(())
}

pub async fn typing(
    State(st): State<AppState>,
    auth: Authed,
    Path(channel): Path<String>,
) -> Result<Response, ApiError> {
    publish_typing(px(&st), &auth.user, room_id(&channel)?, true).await?;
    Ok(success())
}
