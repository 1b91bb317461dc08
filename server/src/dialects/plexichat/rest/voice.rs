//! Voice over REST: `GET /voice/ice-servers` (the configured `plexichat.ice_servers`) and
//! `GET /voice/channels/{id}/info` (the reference's fields plus who is in the channel, from the
//! core's voice rooms shared with OriginChats). Media flows peer to peer: the gateway relays
//! the signalling, so there is no SFU session; `session_id` is the caller's gateway session
//! when it joined this channel.

use super::messages::room_id;
use super::{ApiError, Authed, ok, px};
use crate::core::permissions::Permissions;
use crate::core::rooms::RoomKind;
use crate::dialects::plexichat::ids::wire;
use crate::net::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::json;

/// The bitrate announced for voice channels (Chorus keeps none per channel).
const DEFAULT_BITRATE: u32 = 64_000;

fn ice_servers(st: &AppState) -> serde_json::Value {
    json!(px(st).config.ice_servers)
}

/// `GET /voice/ice-servers`.
pub async fn list_ice_servers(State(st): State<AppState>, _auth: Authed) -> Response {
    ok(&json!({"ice_servers": ice_servers(&st)}))
}

/// `GET /voice/channels/{channel_id}/info`: 404 unless the caller sees the channel, 400 for a
/// channel that is not a voice channel.
pub async fn channel_info(
    State(st): State<AppState>,
    auth: Authed,
    Path(channel): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let room = room_id(&channel)?;
    let (rec, perms) = px
        .core
        .permissions(&auth.user.id, &room)
        .await
        .map_err(|_| ApiError::not_found("Channel not found"))?;
    if !perms.contains(Permissions::VIEW_ROOM) {
        return Err(ApiError::not_found("Channel not found"));
    }
    if rec.kind != RoomKind::Voice {
        return Err(ApiError::bad_request("Not a voice channel"));
    }
    let participants = px.core.voice.participants(&room);
    let session_id = participants
        .iter()
        .find(|p| p.user.id == auth.user.id)
        .and_then(|p| {
            px.sessions
                .all()
                .into_iter()
                .find(|s| s.conn == p.session && s.user.id == auth.user.id)
        })
        .map(|s| s.id.clone());
    let people: Vec<_> = participants
        .iter()
        .map(|p| {
            json!({
                "user_id": wire(&p.user.id.0),
                "username": p.user.username,
                "self_mute": p.flags.self_mute,
                "self_deaf": p.flags.self_deaf,
                "self_video": p.flags.self_video,
                "self_stream": p.flags.self_stream,
                "joined_at": p.joined_at,
            })
        })
        .collect();
    Ok(ok(&json!({
        "channel_id": channel,
        "session_id": session_id,
        "ice_servers": ice_servers(&st),
        "bitrate": DEFAULT_BITRATE,
        "participants": people,
    })))
}
