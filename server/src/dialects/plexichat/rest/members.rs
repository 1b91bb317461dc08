//! Server members: list, kick (`members.kick`, hierarchy, never the owner), leave.

use super::{ApiError, Authed, ok, px, success};
use crate::core::events::Topic;
use crate::core::ids::{SpaceId, UserId};
use crate::core::permissions::Permissions;
use crate::dialects::plexichat::Plexichat;
use crate::dialects::plexichat::ids::{self, wire};
use crate::net::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;

fn space_id(id: &str) -> Result<SpaceId, ApiError> {
    ids::core(id)
        .map(SpaceId)
        .ok_or_else(|| ApiError::bad_request("Invalid server ID"))
}

/// (owner?, permissions, highest role position) of `user` in `space`; 404 for non-members.
async fn standing(
    px: &Plexichat,
    user: &UserId,
    space: &SpaceId,
) -> Result<(bool, Permissions, i64), ApiError> {
    let store = px.core.store();
    let Some(member) = store.member(space.clone(), user.clone()).await? else {
        return Err(ApiError::not_found("Server not found"));
    };
    let owner = store.space_owner(space.clone()).await?.as_ref() == Some(user);
    let perms = px
        .core
        .space_permissions(user, space)
        .await
        .map_err(|e| ApiError::core(e, "Server"))?;
    let top = store
        .roles(space.clone())
        .await?
        .iter()
        .filter(|r| r.is_default || member.roles.contains(&r.id))
        .map(|r| r.position)
        .max()
        .unwrap_or(0);
    Ok((owner, perms, top))
}

/// The sessions of `user` stop following `space` and its channels.
fn unfollow(px: &Plexichat, user: &UserId, space: &SpaceId) {
    for s in px.sessions.all() {
        if s.user.id != *user {
            continue;
        }
        let rooms: Vec<_> = s
            .lock()
            .room_spaces
            .iter()
            .filter(|(_, sp)| *sp == space)
            .map(|(r, _)| r.clone())
            .collect();
        for r in rooms {
            s.unsubscribe(px.core.hub(), &Topic::Room(r.clone()));
            s.lock().room_spaces.remove(&r);
        }
        s.unsubscribe(px.core.hub(), &Topic::Space(space.clone()));
    }
}

pub async fn list(
    State(st): State<AppState>,
    auth: Authed,
    Path(server): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let space = space_id(&server)?;
    standing(px, &auth.user.id, &space).await?;
    let (mut limit, mut after) = (100u32, String::new());
    for p in q.as_deref().unwrap_or("").split('&') {
        match p.split_once('=') {
            Some(("limit", v)) => {
                limit = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or_else(|| ApiError::bad_request("Invalid limit"))?
            }
            Some(("after", v)) if !v.is_empty() => {
                after = ids::core(v).ok_or_else(|| ApiError::bad_request("Invalid member ID"))?
            }
            _ => {}
        }
    }
    let rows = px.db.members(&space.0, &after, limit).await?;
    let out: Vec<_> = rows
        .iter()
        .map(|m| {
            serde_json::json!({
                "member_id": wire(&m.user_id),
                "user_id": wire(&m.user_id),
                "username": m.username,
                "nickname": m.nickname,
                "avatar_url": m.avatar_url,
                "joined_at": m.joined_at,
                "roles": m.roles.iter().map(|r| wire(r)).collect::<Vec<_>>(),
                "presence": {"status": px.core.presence.status(&UserId(m.user_id.clone())).as_str()},
                "badges": [],
                "timeout_until": m.timeout_until,
                "timeout_reason": null,
            })
        })
        .collect();
    Ok(ok(&out))
}

pub async fn kick(
    State(st): State<AppState>,
    auth: Authed,
    Path((server, member)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let space = space_id(&server)?;
    let (owner, perms, top) = standing(px, &auth.user.id, &space).await?;
    if !perms.contains(Permissions::KICK_MEMBERS) {
        return Err(ApiError::forbidden("Missing permissions"));
    }
    let target =
        UserId(ids::core(&member).ok_or_else(|| ApiError::bad_request("Invalid member ID"))?);
    let (target_owner, _, target_top) = match standing(px, &target, &space).await {
        Ok(s) => s,
        Err(_) => return Err(ApiError::not_found("Member not found")),
    };
    if target_owner {
        return Err(ApiError::forbidden("Cannot modify the server owner"));
    }
    if !owner && target_top >= top {
        return Err(ApiError::forbidden(
            "You cannot kick a member whose highest role is at or above yours",
        ));
    }
    px.db.remove_member(&space, &target).await?;
    px.core.invalidate_permissions();
    unfollow(px, &target, &space);
    Ok(success())
}

pub async fn leave(
    State(st): State<AppState>,
    auth: Authed,
    Path(server): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let space = space_id(&server)?;
    let (owner, _, _) = standing(px, &auth.user.id, &space).await?;
    if owner {
        return Err(ApiError::bad_request("The owner cannot leave the server"));
    }
    px.db.remove_member(&space, &auth.user.id).await?;
    px.core.invalidate_permissions();
    unfollow(px, &auth.user.id, &space);
    Ok(success())
}
