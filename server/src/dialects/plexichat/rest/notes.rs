//! `GET /users/@me/notes` (§2.7): the caller's personal notes channel, a private core room
//! with the caller as its only member, made on first use. Its messages use the ordinary
//! `/channels/{id}/messages` routes.

use super::{ApiError, Authed, ok, px};
use crate::core::ids::{RoomId, UserId};
use crate::core::rooms::{NewRoom, RoomKind, RoomRole};
use crate::core::users::User;
use crate::dialects::plexichat::{Plexichat, ids};
use crate::net::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::json;

const NOTES_NAME: &str = "Personal Notes";

/// Serializes first uses, so two concurrent first calls make one room.
static CREATING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn notes_room(px: &Plexichat, user: &User) -> Result<RoomId, ApiError> {
    if let Some(id) = px.state.notes_room(&user.id.0).await? {
        return Ok(RoomId(id));
    }
    let _guard = CREATING.lock().await;
    if let Some(id) = px.state.notes_room(&user.id.0).await? {
        return Ok(RoomId(id));
    }
    let room = px
        .core
        .create_room(
            user,
            NewRoom {
                space_id: None,
                kind: RoomKind::Group,
                name: NOTES_NAME.into(),
                topic: None,
                parent_id: None,
                position: None,
                is_public: false,
                max_members: Some(1),
                members: vec![(user.id.clone(), RoomRole::Owner)],
                extra: Some(json!({"plexichat": {"channel_type": "notes"}})),
            },
        )
        .await
        .map_err(|e| ApiError::core(e, "Channel"))?;
    let kept = px.state.set_notes_room(&user.id.0, &room.id.0).await?;
    // The caller's live gateway sessions follow the room before anything is posted in it.
    for s in px.sessions.all() {
        if s.user.id == user.id {
            s.follow_private(px.core.hub(), &room.id);
        }
    }
    Ok(RoomId(kept))
}

pub async fn get(State(st): State<AppState>, auth: Authed) -> Result<Response, ApiError> {
    let px = px(&st);
    let me: &UserId = &auth.user.id;
    let room = notes_room(px, &auth.user).await?;
    let last = px
        .core
        .history_before(me, &room, None, 1)
        .await
        .map_err(|e| ApiError::core(e, "Channel"))?;
    let last = last.iter().rfind(|m| !m.deleted);
    Ok(ok(&json!({
        "id": ids::wire(&room.0),
        "channel_type": "notes",
        "name": NOTES_NAME,
        "last_message_id": last.map(|m| ids::wire(&m.id.0)),
        "last_message_at": last.map(|m| m.created_at),
    })))
}
