//! Servers (the core's spaces; the default space is one server) and their channels.

use super::messages::room_id;
use super::{ApiError, Authed, body, ok, px, success};
use crate::core::CoreError;
use crate::core::events::Event;
use crate::core::ids::{RoomId, SpaceId, UserId, now_ms};
use crate::core::permissions::Permissions;
use crate::core::rooms::{NewRoom, Room, RoomKind};
use crate::core::spaces::Space;
use crate::dialects::plexichat::db::Server;
use crate::dialects::plexichat::gateway::render::channel;
use crate::dialects::plexichat::{Plexichat, ids, ids::wire};
use crate::net::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chorus_protocol::plexichat_rest::{
    self as rest, CreateChannelRequest, CreateChannelRequestChannelType, CreateServerRequest,
    UpdateChannelRequest,
};
use std::sync::Arc;

fn server_json(s: &Server) -> rest::Server {
    rest::Server {
        id: wire(&s.id),
        name: s.name.clone(),
        description: s.description.clone(),
        icon_url: s.icon_url.clone(),
        owner_id: s.owner_id.as_deref().map(wire),
        member_count: s.member_count,
        default_channel_id: s.default_channel_id.as_deref().map(wire),
        verification_level: 0,
        default_message_notifications: 0,
        created_at: s.created_at,
    }
}

fn space_id(id: &str) -> Result<SpaceId, ApiError> {
    ids::core(id)
        .map(SpaceId)
        .ok_or_else(|| ApiError::bad_request("Invalid server ID"))
}

/// The server, if `user` is a member (404 `Server not found` otherwise).
async fn member_of(px: &Plexichat, user: &UserId, space: &SpaceId) -> Result<Server, ApiError> {
    px.db
        .servers(&user.0, Some(&space.0))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found("Server not found"))
}

pub async fn redirect() -> Response {
    Redirect::temporary("/api/v1/servers/").into_response()
}

pub async fn list(State(st): State<AppState>, auth: Authed) -> Result<Response, ApiError> {
    let servers = px(&st).db.servers(&auth.user.id.0, None).await?;
    Ok(ok(&servers.iter().map(server_json).collect::<Vec<_>>()))
}

pub async fn get_one(
    State(st): State<AppState>,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let s = member_of(px(&st), &auth.user.id, &space_id(&id)?).await?;
    Ok(ok(&server_json(&s)))
}

pub async fn create(
    State(st): State<AppState>,
    auth: Authed,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let req = body(&text, CreateServerRequest::decode)?;
    let name = req.name.trim().to_owned();
    if name.chars().count() < 2 {
        return Err(ApiError::bad_request(
            "Invalid name: String should have at least 2 characters",
        ));
    }
    let description = req.description.flatten();
    let now = now_ms();
    let created = px
        .db
        .create_server(&auth.user.id, &name, description.as_deref(), now, None)
        .await?;
    px.core.invalidate_permissions();
    // The creator's gateway sessions follow the new server before anything happens in it.
    for s in px.sessions.all() {
        if s.user.id == auth.user.id {
            s.subscribe(
                px.core.hub(),
                crate::core::events::Topic::Space(created.space.clone()),
            );
            s.follow_room(px.core.hub(), &created.space, &created.general);
        }
    }
    let space = Space {
        id: created.space.clone(),
        name: name.clone(),
        description: description.clone(),
        icon_url: None,
        owner_id: Some(auth.user.id.clone()),
        created_at: now,
    };
    let general = Room {
        id: created.general.clone(),
        space_id: Some(created.space.clone()),
        kind: RoomKind::Text,
        name: "general".into(),
        topic: None,
        position: 0,
        parent_id: None,
        creator_id: Some(auth.user.id.clone()),
        is_public: true,
        locked: false,
        archived: false,
        max_members: None,
        slowmode_seconds: 0,
        created_at: now,
        extra: serde_json::json!({}),
    };
    let _ = px
        .core
        .hub()
        .publish_acked(Event::SpaceJoined {
            user: auth.user.id.clone(),
            space: Arc::new(space),
            rooms: vec![general],
            member_count: 1,
        })
        .await;
    let s = member_of(px, &auth.user.id, &created.space).await?;
    Ok(ok(&server_json(&s)))
}

pub async fn channels(
    State(st): State<AppState>,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let space = space_id(&id)?;
    member_of(px, &auth.user.id, &space).await?;
    let rooms = px
        .core
        .space_rooms(&auth.user.id, &space)
        .await
        .map_err(|e| ApiError::core(e, "Server"))?;
    let out: Vec<_> = rooms.iter().filter_map(|(r, _)| channel(r)).collect();
    Ok(ok(&out))
}

/// Makes the live sessions that may see `room` follow it.
async fn announce(px: &Plexichat, room: &Room) {
    let Some(space) = &room.space_id else { return };
    for s in px.sessions.all() {
        if !s.in_space(space) {
            continue;
        }
        if let Ok((_, p)) = px.core.permissions(&s.user.id, &room.id).await
            && p.contains(Permissions::VIEW_ROOM)
        {
            s.follow_room(px.core.hub(), space, &room.id);
        }
    }
}

fn manage_error(e: CoreError, what: &str) -> ApiError {
    match e {
        CoreError::Forbidden(_) => ApiError::forbidden("Missing permissions"),
        CoreError::Conflict(_) => ApiError::bad_request("A channel with this name already exists"),
        e => ApiError::core(e, what),
    }
}

pub async fn create_channel(
    State(st): State<AppState>,
    auth: Authed,
    Path(id): Path<String>,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let space = space_id(&id)?;
    let req = body(&text, CreateChannelRequest::decode)?;
    member_of(px, &auth.user.id, &space).await?;
    let kind = match req.channel_type {
        Some(CreateChannelRequestChannelType::Voice) => RoomKind::Voice,
        Some(CreateChannelRequestChannelType::Announcement) => RoomKind::Broadcast,
        _ => RoomKind::Text,
    };
    let parent = match req.category_id.flatten() {
        Some(c) => Some(room_id(&c)?),
        None => None,
    };
    let room = px
        .core
        .create_room(
            &auth.user,
            NewRoom {
                space_id: Some(space),
                kind,
                name: req.name,
                topic: req.topic.flatten(),
                parent_id: parent,
                position: None,
                is_public: true,
                max_members: None,
                members: Vec::new(),
                extra: Some(serde_json::json!({
                    "nsfw": req.nsfw.unwrap_or(false),
                    "read_receipts_enabled": req.read_receipts_enabled.unwrap_or(true),
                })),
            },
        )
        .await
        .map_err(|e| manage_error(e, "Server"))?;
    let room = match req.slowmode_seconds {
        Some(n) if n > 0 => px
            .core
            .update_room(
                &auth.user,
                Room {
                    slowmode_seconds: n,
                    ..(*room).clone()
                },
            )
            .await
            .map_err(|e| manage_error(e, "Channel"))?,
        _ => room,
    };
    announce(px, &room).await;
    Ok(ok(&channel(&room)))
}

/// The server channel `id` as `user` may see it: 404 when unknown, 403 when hidden.
async fn visible_channel(px: &Plexichat, user: &UserId, id: &RoomId) -> Result<Room, ApiError> {
    let (room, perms) = px
        .core
        .permissions(user, id)
        .await
        .map_err(|e| ApiError::core(e, "Channel"))?;
    if channel(&room).is_none() {
        return Err(ApiError::not_found("Channel not found"));
    }
    if !perms.contains(Permissions::VIEW_ROOM) {
        return Err(ApiError::forbidden("Channel access denied"));
    }
    Ok(room)
}

pub async fn get_channel(
    State(st): State<AppState>,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let room = visible_channel(px(&st), &auth.user.id, &room_id(&id)?).await?;
    Ok(ok(&channel(&room)))
}

pub async fn update_channel(
    State(st): State<AppState>,
    auth: Authed,
    Path(id): Path<String>,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let req = body(&text, UpdateChannelRequest::decode)?;
    let mut room = visible_channel(px, &auth.user.id, &room_id(&id)?).await?;
    if let Some(n) = req.name {
        room.name = n;
    }
    if let Some(t) = req.topic {
        room.topic = t;
    }
    if let Some(p) = req.position {
        room.position = p;
    }
    if let Some(s) = req.slowmode_seconds {
        room.slowmode_seconds = s;
    }
    if !room.extra.is_object() {
        room.extra = serde_json::json!({});
    }
    if let Some(n) = req.nsfw {
        room.extra["nsfw"] = n.into();
    }
    if let Some(r) = req.read_receipts_enabled {
        room.extra["read_receipts_enabled"] = r.into();
    }
    let room = px
        .core
        .update_room(&auth.user, room)
        .await
        .map_err(|e| manage_error(e, "Channel"))?;
    announce(px, &room).await;
    Ok(ok(&channel(&room)))
}

pub async fn delete_channel(
    State(st): State<AppState>,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let room = visible_channel(px, &auth.user.id, &room_id(&id)?).await?;
    px.core
        .delete_room(&auth.user, &room.id)
        .await
        .map_err(|e| manage_error(e, "Channel"))?;
    Ok(success())
}
