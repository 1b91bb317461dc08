//! Server members: list, kick (`members.kick`, hierarchy, never the owner), leave.

use super::{ApiError, Authed, ok, px, success};
use crate::core::CoreError;
use crate::core::ids::{RoleId, SpaceId, UserId, now_ms};
use crate::core::permissions::Permissions;
use crate::core::spaces::Member;
use crate::core::users::User;
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
pub(super) async fn standing(
    px: &Plexichat,
    user: &UserId,
    space: &SpaceId,
) -> Result<(bool, Permissions, i64), ApiError> {
    match px.core.standing(user, space).await {
        Ok(s) => Ok((s.owner, s.perms, s.top)),
        Err(CoreError::NotFound(_)) => Err(ApiError::not_found("Server not found")),
        Err(e) => Err(ApiError::core(e, "Server")),
    }
}

/// The sessions of `user` stop following `space` and its channels (at once; the gateway also
/// does on GUILD_MEMBER_REMOVE).
pub(super) fn unfollow(px: &Plexichat, user: &UserId, space: &SpaceId) {
    for s in px.sessions.all() {
        if s.user.id == *user {
            s.leave_space(px.core.hub(), space);
        }
    }
}

/// The `Member` object.
pub(super) fn member_json(
    px: &Plexichat,
    m: &Member,
    u: &User,
    default_role: Option<&RoleId>,
    timeout_reason: Option<String>,
) -> serde_json::Value {
    serde_json::json!({
        "member_id": wire(&u.id.0),
        "user_id": wire(&u.id.0),
        "username": u.username,
        "nickname": m.nickname,
        "avatar_url": u.avatar_url,
        "joined_at": m.joined_at,
        "roles": m.roles.iter().filter(|r| Some(*r) != default_role).map(|r| wire(&r.0)).collect::<Vec<_>>(),
        "presence": {"status": px.core.presence.status(&u.id).as_str()},
        "badges": [],
        "timeout_until": m.timeout_until.filter(|t| *t > now_ms()),
        "timeout_reason": timeout_reason,
    })
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
    let rows = px
        .core
        .members(&auth.user, &space, &after, limit)
        .await
        .map_err(|e| ApiError::core(e, "Server"))?;
    let default = px.core.default_role_of(&space).await;
    let mut out = Vec::with_capacity(rows.len());
    for (m, u) in &rows {
        let reason = if m.timeout_until.is_some() {
            px.core
                .store()
                .timeout_reason(space.clone(), u.id.clone())
                .await?
        } else {
            None
        };
        out.push(member_json(px, m, u, default.as_ref(), reason));
    }
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
    px.core
        .kick_member(&auth.user, &space, &target)
        .await
        .map_err(|e| ApiError::core(e, "Member"))?;
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
    px.core
        .leave_space(&auth.user, &space)
        .await
        .map_err(|e| ApiError::core(e, "Server"))?;
    unfollow(px, &auth.user.id, &space);
    Ok(success())
}
