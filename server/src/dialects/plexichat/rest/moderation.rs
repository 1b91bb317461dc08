//! Moderation and server settings over the core (§2.8, §2.10): bans (list, add, remove),
//! member edits (nickname, timeout), server PATCH and DELETE. Bans are the core's, so a user
//! banned here is also refused by OriginChats, and the reverse.

use super::members::{member_json, standing, unfollow};
use super::{ApiError, Authed, body, ok, px, success};
use crate::core::CoreError;
use crate::core::ids::{SpaceId, UserId, now_ms};
use crate::core::moderation::SpaceUpdate;
use crate::dialects::plexichat::ids::{self, wire};
use crate::net::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use chorus_protocol::plexichat_rest::{BanRequest, UpdateMemberRequest, UpdateServerRequest};

fn space_id(id: &str) -> Result<SpaceId, ApiError> {
    ids::core(id)
        .map(SpaceId)
        .ok_or_else(|| ApiError::bad_request("Invalid server ID"))
}

fn user_id(id: &str) -> Result<UserId, ApiError> {
    ids::core(id)
        .map(UserId)
        .ok_or_else(|| ApiError::bad_request("Invalid user ID"))
}

/// A core refusal of a member operation in this API's words.
fn member_error(e: CoreError) -> ApiError {
    match e {
        CoreError::Forbidden("owner") => ApiError::forbidden("Cannot modify the server owner"),
        CoreError::Forbidden("hierarchy") => ApiError::forbidden(
            "You cannot moderate a member whose highest role is at or above yours",
        ),
        CoreError::NotFound("user") => ApiError::not_found("User not found"),
        CoreError::NotFound(_) => ApiError::not_found("Member not found"),
        e => ApiError::core(e, "Member"),
    }
}

/// Like `member_error`, with every unknown target a missing member.
fn member_missing(e: CoreError) -> ApiError {
    match e {
        CoreError::NotFound(_) => ApiError::not_found("Member not found"),
        e => member_error(e),
    }
}

pub async fn list_bans(
    State(st): State<AppState>,
    auth: Authed,
    Path(server): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let space = space_id(&server)?;
    standing(px, &auth.user.id, &space).await?;
    let bans = px
        .core
        .bans(&auth.user, &space)
        .await
        .map_err(member_error)?;
    let out: Vec<_> = bans
        .iter()
        .map(|b| {
            serde_json::json!({
                "user_id": wire(&b.user_id.0),
                "reason": b.reason,
                "banned_by": b.banned_by.as_ref().map(|u| wire(&u.0)),
                "banned_at": b.banned_at,
            })
        })
        .collect();
    Ok(ok(&out))
}

pub async fn ban(
    State(st): State<AppState>,
    auth: Authed,
    Path((server, user)): Path<(String, String)>,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let space = space_id(&server)?;
    let target = user_id(&user)?;
    // The body is optional.
    let reason = if text.trim().is_empty() {
        None
    } else {
        body(&text, BanRequest::decode)?.reason.flatten()
    };
    standing(px, &auth.user.id, &space).await?;
    px.core
        .ban_user(&auth.user, &space, &target, reason)
        .await
        .map_err(member_error)?;
    unfollow(px, &target, &space);
    Ok(success())
}

pub async fn unban(
    State(st): State<AppState>,
    auth: Authed,
    Path((server, user)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let space = space_id(&server)?;
    let target = user_id(&user)?;
    standing(px, &auth.user.id, &space).await?;
    match px.core.unban_user(&auth.user, &space, &target).await {
        Ok(Some(_)) => Ok(success()),
        Ok(None) => Err(ApiError::not_found("Ban not found")),
        Err(e) => Err(member_error(e)),
    }
}

pub async fn update_member(
    State(st): State<AppState>,
    auth: Authed,
    Path((server, member)): Path<(String, String)>,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let space = space_id(&server)?;
    let target =
        UserId(ids::core(&member).ok_or_else(|| ApiError::bad_request("Invalid member ID"))?);
    let req = body(&text, UpdateMemberRequest::decode)?;
    standing(px, &auth.user.id, &space).await?;
    if let Some(nick) = req.nickname {
        px.core
            .set_nickname(&auth.user, &space, &target, nick)
            .await
            .map_err(member_missing)?;
    }
    if req.timeout_until.is_some() || req.timeout_reason.is_some() {
        let until = match req.timeout_until {
            Some(t) => t,
            // Only a reason: the current timeout keeps its end.
            None => px
                .core
                .store()
                .member(space.clone(), target.clone())
                .await?
                .and_then(|m| m.timeout_until),
        };
        px.core
            .timeout_member(
                &auth.user,
                &space,
                &target,
                until,
                req.timeout_reason.flatten(),
            )
            .await
            .map_err(member_missing)?;
    }
    let m = px
        .core
        .store()
        .member(space.clone(), target.clone())
        .await?
        .ok_or_else(|| ApiError::not_found("Member not found"))?;
    let u = px
        .core
        .store()
        .user(target.clone())
        .await?
        .ok_or_else(|| ApiError::not_found("Member not found"))?;
    let reason = if m.timeout_until.is_some_and(|t| t > now_ms()) {
        px.core
            .store()
            .timeout_reason(space.clone(), target.clone())
            .await?
    } else {
        None
    };
    let default = px.core.default_role_of(&space).await;
    Ok(ok(&member_json(px, &m, &u, default.as_ref(), reason)))
}

pub async fn update_server(
    State(st): State<AppState>,
    auth: Authed,
    Path(server): Path<String>,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let space = space_id(&server)?;
    let req = body(&text, UpdateServerRequest::decode)?;
    standing(px, &auth.user.id, &space).await?;
    let update = SpaceUpdate {
        name: req.name.map(|n| n.trim().to_owned()),
        description: req.description,
        icon_url: req.icon_url,
        banner_url: None,
    };
    if update
        .name
        .as_deref()
        .is_some_and(|n| n.chars().count() < 2)
    {
        return Err(ApiError::bad_request(
            "Invalid name: String should have at least 2 characters",
        ));
    }
    px.core
        .update_space(&auth.user, &space, update)
        .await
        .map_err(|e| ApiError::core(e, "Server"))?;
    super::servers::get_one(State(st.clone()), auth, Path(server)).await
}

pub async fn delete_server(
    State(st): State<AppState>,
    auth: Authed,
    Path(server): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let space = space_id(&server)?;
    standing(px, &auth.user.id, &space).await?;
    match px.core.delete_space(&auth.user, &space).await {
        Ok(()) => Ok(success()),
        Err(CoreError::Forbidden(_)) => Err(ApiError::forbidden(
            "Only the server owner can delete the server",
        )),
        Err(CoreError::Invalid(_)) => Err(ApiError::bad_request(
            "The default server cannot be deleted",
        )),
        Err(e) => Err(ApiError::core(e, "Server")),
    }
}
