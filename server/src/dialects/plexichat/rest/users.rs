//! `/users/@me`.

use super::{ApiError, Authed, ok, px};
use crate::net::AppState;
use axum::extract::State;
use axum::response::Response;

pub async fn me(State(st): State<AppState>, auth: Authed) -> Result<Response, ApiError> {
    Ok(ok(&super::auth::user_response(px(&st), &auth.user).await?))
}

use crate::core::CoreError;
use crate::core::ids::{RoomId, UserId};
use crate::core::rooms::{NewRoom, Room, RoomKind, RoomRole};
use crate::dialects::plexichat::{Plexichat, ids};
use chorus_protocol::plexichat_rest::CreateDmRequest;

/// A DM as `/users/@me/channels` shows it to `me`.
async fn dm_json(px: &Plexichat, me: &UserId, room: &Room) -> Option<serde_json::Value> {
    let members = px.core.room_members(&room.id).await.ok()?;
    let other = members
        .iter()
        .find(|m| m.user_id != *me)
        .map(|m| &m.user_id)?;
    let user = px.core.store().user(other.clone()).await.ok()??;
    let last = px
        .core
        .history_before(me, &room.id, None, 1)
        .await
        .ok()
        .and_then(|v| v.last().map(|m| ids::wire(&m.id.0)));
    Some(serde_json::json!({
        "id": ids::wire(&room.id.0),
        "channel_type": "dm",
        "recipient_id": ids::wire(&other.0),
        "recipient": {"id": ids::wire(&other.0), "username": user.username},
        "last_message_id": last,
    }))
}

async fn my_dms(px: &Plexichat, me: &UserId) -> Result<Vec<Room>, ApiError> {
    Ok(px
        .core
        .user_private_rooms(me)
        .await
        .map_err(|e| ApiError::core(e, "User"))?
        .into_iter()
        .filter(|r| r.kind == RoomKind::Direct)
        .collect())
}

pub async fn dms(State(st): State<AppState>, auth: Authed) -> Result<Response, ApiError> {
    let px = px(&st);
    let mut out = Vec::new();
    for room in my_dms(px, &auth.user.id).await? {
        if let Some(j) = dm_json(px, &auth.user.id, &room).await {
            out.push(j);
        }
    }
    Ok(ok(&out))
}

pub async fn open_dm(
    State(st): State<AppState>,
    auth: Authed,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let req = super::body(&text, CreateDmRequest::decode)?;
    let other = super::me::user_id_value(&req.recipient_id, "Invalid recipient ID")?;
    if other == auth.user.id {
        return Err(ApiError::bad_request("Invalid recipient ID"));
    }
    let Some(_) = px.core.store().user(other.clone()).await? else {
        return Err(ApiError::not_found("User not found"));
    };
    let me = &auth.user.id;
    if !may_dm(px, me, &other).await? {
        return Err(ApiError::forbidden("Cannot message this user"));
    }
    for room in my_dms(px, me).await? {
        let members = px
            .core
            .room_members(&room.id)
            .await
            .map_err(|e| ApiError::core(e, "User"))?;
        if members.iter().any(|m| m.user_id == other) {
            return dm_json(px, me, &room)
                .await
                .map(|j| ok(&j))
                .ok_or_else(|| ApiError::internal("dm without recipient"));
        }
    }
    let room = px
        .core
        .create_room(
            &auth.user,
            NewRoom {
                space_id: None,
                kind: RoomKind::Direct,
                name: "dm".into(),
                topic: None,
                parent_id: None,
                position: None,
                is_public: false,
                max_members: Some(2),
                members: vec![
                    (me.clone(), RoomRole::Member),
                    (other.clone(), RoomRole::Member),
                ],
                extra: None,
            },
        )
        .await
        .map_err(|e| match e {
            CoreError::Forbidden(_) => ApiError::forbidden("Cannot message this user"),
            e => ApiError::core(e, "User"),
        })?;
    // Both users' live sessions follow the DM before anything is posted in it.
    for s in px.sessions.all() {
        if s.user.id == *me || s.user.id == other {
            s.follow_private(px.core.hub(), &RoomId(room.id.0.clone()));
        }
    }
    dm_json(px, me, &room)
        .await
        .map(|j| ok(&j))
        .ok_or_else(|| ApiError::internal("dm without recipient"))
}

/// Whether `me` may open a DM with `other`: neither blocked the other, and `other`'s
/// `allow_dms_from` lets `me` in.
async fn may_dm(px: &Plexichat, me: &UserId, other: &UserId) -> Result<bool, ApiError> {
    use super::relationships::{blocked_between, friends};
    if blocked_between(px, me, other).await? {
        return Ok(false);
    }
    Ok(
        match px
            .state
            .messaging_settings(&other.0)
            .await?
            .allow_dms_from
            .as_str()
        {
            "none" => false,
            "friends" => friends(px, me, other).await?,
            _ => true,
        },
    )
}

/// `PUT /users/@me/presence`.
pub async fn set_presence(
    State(st): State<AppState>,
    auth: Authed,
    text: String,
) -> Result<Response, ApiError> {
    use chorus_protocol::plexichat_rest::{SetPresenceRequest, SetPresenceRequestStatus as S};
    let px = px(&st);
    let req = super::body(&text, SetPresenceRequest::decode)?;
    let status = match req.status {
        S::Online => "online",
        S::Idle => "idle",
        S::Dnd => "dnd",
        S::Invisible | S::Offline => "offline",
    };
    let (custom_status, custom_emoji) = (req.custom_status.flatten(), req.custom_emoji.flatten());
    if px.core.presence.status(&auth.user.id) != crate::core::users::Status::Offline {
        px.statuses.set(
            &auth.user.id,
            status,
            custom_status.clone(),
            custom_emoji.clone(),
        );
    }
    crate::dialects::plexichat::gateway::conn::publish_presence(
        px,
        &auth.user.id,
        status,
        custom_status,
        custom_emoji,
    )
    .await;
    Ok(super::success())
}

/// `GET /users/{user_id}`.
pub async fn get_user(
    State(st): State<AppState>,
    _auth: Authed,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let id = ids::core(&id).ok_or_else(|| ApiError::bad_request("Invalid user ID"))?;
    let user = px
        .core
        .store()
        .user(UserId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("User not found"))?;
    Ok(ok(&serde_json::json!({
        "id": ids::wire(&user.id.0),
        "username": user.username,
        "avatar_url": user.avatar_url,
        "created_at": user.created_at,
        "badges": [],
    })))
}
