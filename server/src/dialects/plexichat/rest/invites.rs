//! Invites: create (`invites.create`), look up, join, delete (owner or `invites.manage`), list.

use super::messages::{require, room_id};
use super::{ApiError, Authed, body, ok, px, success};
use crate::core::events::{Event, Topic};
use crate::core::ids::{SpaceId, now_ms};
use crate::core::messages::UserRef;
use crate::core::permissions::Permissions;
use crate::core::spaces::Space;
use crate::dialects::plexichat::db::Invite;
use crate::dialects::plexichat::gateway::render::channel;
use crate::dialects::plexichat::ids::{self, wire};
use crate::net::AppState;
use crate::store::StoreError;
use axum::extract::{Path, State};
use axum::response::Response;
use chorus_protocol::plexichat_rest::{ChannelInvite, CreateInviteRequest, InviteInfo};
use std::sync::Arc;

/// An 8-character alphanumeric code.
fn new_code() -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut n = uuid::Uuid::new_v4().as_u128();
    (0..8)
        .map(|_| {
            let c = A[(n % A.len() as u128) as usize] as char;
            n /= A.len() as u128;
            c
        })
        .collect()
}

fn invite_json(i: &Invite) -> ChannelInvite {
    ChannelInvite {
        code: i.code.clone(),
        channel_id: wire(&i.room_id),
        server_id: wire(&i.space_id),
        max_age: i.max_age,
        max_uses: i.max_uses,
        temporary: i.temporary,
        uses: i.uses,
        created_at: i.created_at,
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("Invite not found or expired")
}

pub async fn create(
    State(st): State<AppState>,
    auth: Authed,
    Path(channel_id): Path<String>,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let req = body(&text, CreateInviteRequest::decode)?;
    let room = room_id(&channel_id)?;
    require(px, &auth.user.id, &room, Permissions::CREATE_INVITES).await?;
    let (r, _) = px
        .core
        .permissions(&auth.user.id, &room)
        .await
        .map_err(|e| ApiError::core(e, "Channel"))?;
    let Some(space) = r.space_id.clone().filter(|_| channel(&r).is_some()) else {
        return Err(ApiError::bad_request("Invites are for server channels"));
    };
    let now = now_ms();
    let max_age = req.max_age.unwrap_or(86_400);
    let inv = Invite {
        code: new_code(),
        space_id: space.0,
        space_name: String::new(),
        room_id: room.0,
        inviter_id: auth.user.id.0.clone(),
        max_age,
        max_uses: req.max_uses.unwrap_or(0),
        temporary: req.temporary.unwrap_or(false),
        uses: 0,
        created_at: now,
        expires_at: (max_age > 0).then(|| now + max_age * 1000),
    };
    px.db.insert_invite(inv.clone()).await?;
    Ok(ok(&invite_json(&inv)))
}

pub async fn get_one(
    State(st): State<AppState>,
    _auth: Authed,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let i = px(&st)
        .db
        .invite(&code, now_ms())
        .await?
        .ok_or_else(not_found)?;
    Ok(ok(&InviteInfo {
        code: i.code.clone(),
        server_id: wire(&i.space_id),
        server_name: i.space_name.clone(),
        channel_id: wire(&i.room_id),
        inviter_id: wire(&i.inviter_id),
        uses: i.uses,
        max_uses: i.max_uses,
        expires_at: i.expires_at,
    }))
}

pub async fn join(
    State(st): State<AppState>,
    auth: Authed,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let now = now_ms();
    let i = px.db.invite(&code, now).await?.ok_or_else(not_found)?;
    let already = match px
        .db
        .join_with_invite(&code, &i.space_id, &auth.user.id.0, now)
        .await
    {
        Ok(a) => a,
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::forbidden("You are banned from this server"));
        }
        Err(e) => return Err(e.into()),
    };
    let space_id = SpaceId(i.space_id.clone());
    if !already {
        px.core.invalidate_permissions();
        let rooms: Vec<_> = px
            .core
            .space_rooms(&auth.user.id, &space_id)
            .await
            .map_err(|e| ApiError::core(e, "Server"))?
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        // The joiner's live sessions follow the server before anything happens in it.
        for s in px.sessions.all() {
            if s.user.id == auth.user.id {
                s.subscribe(px.core.hub(), Topic::Space(space_id.clone()));
                for r in &rooms {
                    s.follow_room(px.core.hub(), &space_id, &r.id);
                }
            }
        }
        let server = px
            .db
            .servers(&auth.user.id.0, Some(&space_id.0))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ApiError::internal("joined server missing"))?;
        px.core.hub().publish(Event::MemberJoined {
            space_id: space_id.clone(),
            user: UserRef {
                id: auth.user.id.clone(),
                username: auth.user.username.clone(),
            },
            joined_at: now,
        });
        let _ = px
            .core
            .hub()
            .publish_acked(Event::SpaceJoined {
                user: auth.user.id.clone(),
                space: Arc::new(Space {
                    id: space_id.clone(),
                    name: server.name,
                    description: server.description,
                    icon_url: server.icon_url,
                    owner_id: server.owner_id.map(Into::into),
                    created_at: server.created_at,
                }),
                rooms,
                member_count: server.member_count,
            })
            .await;
    }
    Ok(ok(
        &serde_json::json!({"success": true, "server_id": wire(&space_id.0)}),
    ))
}

pub async fn delete(
    State(st): State<AppState>,
    auth: Authed,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let i = px.db.invite(&code, i64::MIN).await?.ok_or_else(not_found)?;
    let perms = px
        .core
        .space_permissions(&auth.user.id, &SpaceId(i.space_id.clone()))
        .await
        .map_err(|e| ApiError::core(e, "Server"))?;
    if !perms.contains(Permissions::MANAGE_INVITES) {
        return Err(ApiError::forbidden("Missing permissions"));
    }
    px.db.delete_invite(&code).await?;
    Ok(success())
}

pub async fn list(
    State(st): State<AppState>,
    auth: Authed,
    Path(server): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let space = ids::core(&server).ok_or_else(|| ApiError::bad_request("Invalid server ID"))?;
    if px
        .db
        .servers(&auth.user.id.0, Some(&space))
        .await?
        .is_empty()
    {
        return Err(ApiError::not_found("Server not found"));
    }
    let out: Vec<_> = px
        .db
        .space_invites(&space)
        .await?
        .iter()
        .map(invite_json)
        .collect();
    Ok(ok(&out))
}
