//! Threads (§2.9): `GET/POST /channels/{id}/threads`, `GET/PATCH/DELETE /threads/{id}`, and
//! message search (§2.10): `GET /search/messages`. Threads are core threads (a thread id is
//! also a channel id for its messages); THREAD_* dispatches are rendered from core events.

use super::{ApiError, Authed, body, ok, px, success};
use crate::core::CoreError;
use crate::core::ids::{MessageId, RoomId, SpaceId};
use crate::core::lookups::MessageSearch;
use crate::core::permissions::Permissions;
use crate::core::threads::{self as core_threads, Thread, ThreadChanges};
use crate::dialects::plexichat::{ids, wire};
use crate::net::AppState;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chorus_protocol::plexichat_rest::{CreateThreadRequest, UpdateThreadRequest};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Thread fields only Plexichat has, kept in the room's extras under this key.
const EXTRA_KEY: &str = "plexichat";
const TYPES: [&str; 3] = ["public", "private", "announcement"];
const DURATIONS: [i64; 4] = [60, 1440, 4320, 10080];

fn extra<'a>(t: &'a Thread, key: &str) -> Option<&'a Value> {
    t.room.extra.get(EXTRA_KEY).and_then(|o| o.get(key))
}

fn thread_type(t: &Thread) -> &str {
    extra(t, "thread_type")
        .and_then(Value::as_str)
        .unwrap_or("public")
}

fn state(t: &Thread) -> &'static str {
    if t.room.archived {
        "archived"
    } else {
        "active"
    }
}

fn owner(t: &Thread) -> String {
    t.room
        .creator_id
        .as_ref()
        .map(|u| ids::wire(&u.0))
        .unwrap_or_default()
}

fn parent_message(t: &Thread) -> Value {
    extra(t, "parent_message_id")
        .and_then(Value::as_str)
        .map_or(Value::Null, |m| Value::String(ids::wire(m)))
}

/// `ThreadResponse`.
pub fn thread_json(t: &Thread) -> Value {
    let space = t.room.space_id.as_ref().map(|s| ids::wire(&s.0));
    json!({
        "id": ids::wire(&t.room.id.0),
        "channel_id": ids::wire(&t.parent.id.0),
        "server_id": space.unwrap_or_default(),
        "owner_id": owner(t),
        "name": t.room.name,
        "thread_type": thread_type(t),
        "state": state(t),
        "parent_message_id": parent_message(t),
        "auto_archive_duration": extra(t, "auto_archive_duration")
            .and_then(Value::as_i64)
            .unwrap_or(1440),
        "message_count": t.message_count,
        "member_count": t.participants.len(),
        "created_at": t.room.created_at,
        "archived_at": if t.room.archived { extra(t, "archived_at").cloned().unwrap_or(Value::Null) } else { Value::Null },
        "last_message_at": t.last_message.as_ref().map(|(_, at)| *at),
        "locked": t.room.locked,
    })
}

/// The thread dict of THREAD_CREATE / THREAD_UPDATE (string ids).
pub fn thread_dispatch(t: &Thread) -> Value {
    let space = t.room.space_id.as_ref().map(|s| ids::wire(&s.0));
    json!({
        "id": ids::wire(&t.room.id.0),
        "channel_id": ids::wire(&t.parent.id.0),
        "parent_id": ids::wire(&t.parent.id.0),
        "guild_id": space.unwrap_or_default(),
        "owner_id": owner(t),
        "name": t.room.name,
        "thread_type": thread_type(t),
        "state": state(t),
        "parent_message_id": parent_message(t),
        "message_count": t.message_count,
        "member_count": t.participants.len(),
        "created_at": t.room.created_at,
        "last_message_at": t.last_message.as_ref().map(|(_, at)| *at),
        "locked": t.room.locked,
    })
}

/// THREAD_DELETE's `d`.
pub fn thread_delete_dispatch(t: &Thread) -> Value {
    json!({
        "id": ids::wire(&t.room.id.0),
        "guild_id": t.room.space_id.as_ref().map(|s| ids::wire(&s.0)).unwrap_or_default(),
        "parent_id": ids::wire(&t.parent.id.0),
    })
}

fn thread_id(id: &str) -> Result<RoomId, ApiError> {
    ids::core(id)
        .map(RoomId)
        .ok_or_else(|| ApiError::bad_request("Invalid thread ID"))
}

fn thread_error(e: CoreError) -> ApiError {
    match e {
        CoreError::NotFound(_) => ApiError::not_found("Thread not found"),
        CoreError::Forbidden(_) => ApiError::forbidden("Access denied"),
        CoreError::Invalid(m) => ApiError::bad_request(m),
        e => ApiError::core(e, "Thread"),
    }
}

fn duration(v: i64) -> Result<i64, ApiError> {
    if DURATIONS.contains(&v) {
        Ok(v)
    } else {
        Err(ApiError::bad_request("Invalid auto-archive duration"))
    }
}

pub async fn list(
    State(st): State<AppState>,
    auth: Authed,
    Path(channel): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let room = super::messages::room_id(&channel)?;
    let threads = px
        .core
        .threads_of(&auth.user.id, &room)
        .await
        .map_err(|e| ApiError::core(e, "Channel"))?;
    let out: Vec<Value> = threads
        .iter()
        .filter(|t| !t.room.archived)
        .map(thread_json)
        .collect();
    Ok(ok(&out))
}

pub async fn create(
    State(st): State<AppState>,
    auth: Authed,
    Path(channel): Path<String>,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let room = super::messages::room_id(&channel)?;
    let req: CreateThreadRequest = body(&text, CreateThreadRequest::decode)?;
    let kind = req.thread_type.as_deref().unwrap_or("public");
    if !TYPES.contains(&kind) {
        return Err(ApiError::bad_request("Invalid thread type"));
    }
    let minutes = duration(req.auto_archive_duration.unwrap_or(1440))?;
    super::messages::require(px, &auth.user.id, &room, Permissions::NONE).await?;
    let mut fields = json!({"thread_type": kind, "auto_archive_duration": minutes});
    if let Some(Some(mid)) = &req.parent_message_id {
        let id = ids::core(mid)
            .map(MessageId)
            .ok_or_else(|| ApiError::bad_request("Invalid message ID"))?;
        match px.core.message(&auth.user.id, &id).await {
            Ok(m) if m.room_id == room => {}
            Ok(_) | Err(CoreError::NotFound(_)) => {
                return Err(ApiError::not_found("Message not found"));
            }
            Err(e) => return Err(ApiError::core(e, "Message")),
        }
        fields["parent_message_id"] = Value::String(id.0);
    }
    let t = px
        .core
        .create_thread(
            &auth.user,
            &room,
            &req.name,
            Some(json!({ EXTRA_KEY: fields })),
        )
        .await
        .map_err(|e| match e {
            CoreError::NotFound(_) => ApiError::not_found("Channel not found"),
            CoreError::Forbidden(_) => ApiError::forbidden("Access denied"),
            CoreError::Invalid(m) => ApiError::bad_request(m),
            e => ApiError::core(e, "Channel"),
        })?;
    Ok(ok(&thread_json(&t)))
}

pub async fn get_one(
    State(st): State<AppState>,
    auth: Authed,
    Path(thread): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let id = thread_id(&thread)?;
    let t = px
        .core
        .thread(&auth.user.id, &id)
        .await
        .map_err(thread_error)?;
    Ok(ok(&thread_json(&t)))
}

pub async fn update(
    State(st): State<AppState>,
    auth: Authed,
    Path(thread): Path<String>,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let id = thread_id(&thread)?;
    let req: UpdateThreadRequest = body(&text, UpdateThreadRequest::decode)?;
    let minutes = match req.auto_archive_duration.flatten() {
        Some(m) => Some(duration(m)?),
        None => None,
    };
    let current = px
        .core
        .thread(&auth.user.id, &id)
        .await
        .map_err(thread_error)?;
    let extra = minutes.map(|m| {
        let mut e = current.room.extra.clone();
        if !e.is_object() {
            e = json!({});
        }
        if !e.get(EXTRA_KEY).is_some_and(Value::is_object) {
            e[EXTRA_KEY] = json!({});
        }
        e[EXTRA_KEY]["auto_archive_duration"] = json!(m);
        e
    });
    let changes = ThreadChanges {
        name: req.name.flatten(),
        locked: None,
        archived: None,
        extra,
    };
    let t = px
        .core
        .update_thread(&auth.user, &id, changes)
        .await
        .map_err(thread_error)?;
    Ok(ok(&thread_json(&t)))
}

pub async fn delete(
    State(st): State<AppState>,
    auth: Authed,
    Path(thread): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let id = thread_id(&thread)?;
    px.core
        .delete_thread(&auth.user, &id)
        .await
        .map_err(|e| match e {
            CoreError::Forbidden(core_threads::NOT_CREATOR) => ApiError::forbidden("Access denied"),
            e => thread_error(e),
        })?;
    Ok(success())
}

pub(super) fn limit_of(v: &str) -> Result<u32, ApiError> {
    match v.parse::<i64>() {
        Ok(n) if (1..=100).contains(&n) => Ok(n as u32),
        Ok(n) if n > 100 => Err(ApiError::bad_request(
            "Invalid limit: Input should be less than or equal to 100",
        )),
        Ok(_) => Err(ApiError::bad_request(
            "Invalid limit: Input should be greater than or equal to 1",
        )),
        Err(_) => Err(ApiError::bad_request(
            "Invalid limit: Input should be a valid integer",
        )),
    }
}

/// Every room (channels, their threads) of `space` that `user` may view.
async fn space_scope(
    px: &crate::dialects::plexichat::Plexichat,
    user: &crate::core::ids::UserId,
    space: &SpaceId,
) -> Result<Vec<RoomId>, ApiError> {
    let mut rooms = Vec::new();
    for (room, perms) in px
        .core
        .space_rooms(user, space)
        .await
        .map_err(|e| ApiError::core(e, "Server"))?
    {
        if !perms.contains(Permissions::VIEW_ROOM) {
            continue;
        }
        for t in px.core.store().threads(room.id.clone()).await? {
            rooms.push(t.id);
        }
        rooms.push(room.id);
    }
    Ok(rooms)
}

pub async fn search(
    State(st): State<AppState>,
    auth: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let me = &auth.user.id;
    let needle = q
        .get("query")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("Invalid query: Field required"))?
        .clone();
    let limit = match q.get("limit") {
        Some(v) => limit_of(v)?,
        None => 25,
    };
    let before_seq = match q.get("cursor").filter(|s| !s.is_empty()) {
        None => None,
        Some(c) => {
            let id = ids::core(c)
                .map(MessageId)
                .ok_or_else(|| ApiError::bad_request("Invalid cursor"))?;
            match px.core.store().message(id).await? {
                Some(m) => Some(m.seq),
                None => return Err(ApiError::bad_request("Invalid cursor")),
            }
        }
    };
    let author = match q.get("author_id").filter(|s| !s.is_empty()) {
        None => None,
        Some(a) => Some(crate::core::ids::UserId(
            ids::core(a).ok_or_else(|| ApiError::bad_request("Invalid author ID"))?,
        )),
    };
    let one = q
        .get("channel_id")
        .or_else(|| q.get("conversation_id"))
        .filter(|s| !s.is_empty());
    let rooms = if let Some(c) = one {
        let room = super::messages::room_id(c)?;
        super::messages::require(px, me, &room, Permissions::READ_HISTORY).await?;
        vec![room]
    } else if let Some(s) = q.get("server_id").filter(|s| !s.is_empty()) {
        let space = ids::core(s)
            .map(SpaceId)
            .ok_or_else(|| ApiError::bad_request("Invalid server ID"))?;
        let member = px
            .db
            .user_spaces(&me.0)
            .await?
            .iter()
            .any(|(id, _)| *id == space.0);
        if !member {
            return Err(ApiError::not_found("Server not found"));
        }
        space_scope(px, me, &space).await?
    } else {
        let mut rooms = Vec::new();
        for (space, _) in px.db.user_spaces(&me.0).await? {
            rooms.extend(space_scope(px, me, &SpaceId(space)).await?);
        }
        for r in px
            .core
            .user_private_rooms(me)
            .await
            .map_err(|e| ApiError::core(e, "Channel"))?
        {
            rooms.push(r.id);
        }
        rooms
    };
    let search = MessageSearch {
        rooms,
        needle,
        author,
        before_seq,
        limit,
    };
    let hits = px
        .core
        .search_messages(me, search)
        .await
        .map_err(|e| ApiError::core(e, "Channel"))?;
    let next = if hits.len() as u32 == limit {
        hits.last().map(|m| ids::wire(&m.id.0))
    } else {
        None
    };
    let results: Vec<_> = hits.iter().map(|m| wire::message(m, Some(&me.0))).collect();
    Ok(ok(&json!({"results": results, "next_cursor": next})))
}
