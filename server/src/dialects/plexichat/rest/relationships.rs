//! `/relationships`: friend requests, friends and blocks, stored per side. Each change is
//! dispatched as RELATIONSHIP_ADD/REMOVE to each side, as that side sees it.

use super::me::{dispatch_to, user_id_value};
use super::{ApiError, Authed, body, ok, px, success};
use crate::core::ids::{UserId, now_ms};
use crate::core::users::{Status, User};
use crate::dialects::plexichat::state::Relationship;
use crate::dialects::plexichat::{Plexichat, ids};
use crate::net::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chorus_protocol::plexichat_rest::{BlockRequest, FriendRequestRequest};
use serde_json::{Value, json};

const ORDER: [&str; 4] = ["friend", "pending_incoming", "pending_outgoing", "blocked"];

fn presence(px: &Plexichat, user: &UserId) -> Value {
    let connected = px.core.presence.status(user) != Status::Offline;
    json!({"status": px.statuses.shown(user, connected).status})
}

async fn user(px: &Plexichat, id: &UserId) -> Result<User, ApiError> {
    px.core
        .store()
        .user(id.clone())
        .await?
        .ok_or_else(|| ApiError::not_found("User not found"))
}

fn path_user(id: &str) -> Result<UserId, ApiError> {
    ids::core(id)
        .map(UserId)
        .ok_or_else(|| ApiError::bad_request("Invalid user ID"))
}

/// Whether either user blocked the other.
pub async fn blocked_between(px: &Plexichat, a: &UserId, b: &UserId) -> Result<bool, ApiError> {
    for (x, y) in [(a, b), (b, a)] {
        if px
            .state
            .relationship(&x.0, &y.0)
            .await?
            .is_some_and(|r| r.status == "blocked")
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether `a` and `b` are friends.
pub async fn friends(px: &Plexichat, a: &UserId, b: &UserId) -> Result<bool, ApiError> {
    Ok(px
        .state
        .relationship(&a.0, &b.0)
        .await?
        .is_some_and(|r| r.status == "friend"))
}

fn removed(px: &Plexichat, to: &UserId, about: &UserId) {
    dispatch_to(
        px,
        to,
        "RELATIONSHIP_REMOVE",
        &json!({"user_id": ids::wire(&about.0)}),
    );
}

pub async fn list(State(st): State<AppState>, auth: Authed) -> Result<Response, ApiError> {
    let px = px(&st);
    let mut rows: Vec<Relationship> = px.state.relationships(&auth.user.id.0).await?;
    rows.sort_by_key(|r| ORDER.iter().position(|s| *s == r.status));
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let other = UserId(r.other_id.clone());
        let Some(u) = px.core.store().user(other.clone()).await? else {
            continue;
        };
        let mut v = json!({
            "user_id": ids::wire(&r.other_id),
            "username": u.username,
            "avatar_url": u.avatar_url,
            "status": r.status,
            "presence": if r.status == "blocked" { Value::Null } else { presence(px, &other) },
            "created_at": r.created_at,
        });
        if r.status == "pending_incoming" {
            v["message"] = json!(r.message);
        }
        out.push(v);
    }
    Ok(ok(&out))
}

pub async fn send_request(
    State(st): State<AppState>,
    auth: Authed,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let req = body(&text, FriendRequestRequest::decode)?;
    let target = user_id_value(&req.user_id, "Invalid user ID")?;
    let me = &auth.user;
    if target == me.id {
        return Err(ApiError::bad_request(
            "Cannot send friend request to yourself",
        ));
    }
    let other = user(px, &target).await?;
    if blocked_between(px, &me.id, &target).await? {
        return Err(ApiError::forbidden(
            "Cannot send friend request to this user",
        ));
    }
    let conflict = |m: &str| ApiError::new(StatusCode::CONFLICT, m);
    match px.state.relationship(&me.id.0, &target.0).await? {
        Some(r) if r.status == "friend" => return Err(conflict("Already friends")),
        Some(r) if r.status == "pending_outgoing" => {
            return Err(conflict("Friend request already sent"));
        }
        Some(r) if r.status == "pending_incoming" => {
            return Err(conflict("This user already sent you a friend request"));
        }
        _ => {}
    }
    let message = req.message.flatten();
    let now = now_ms();
    px.state
        .change_relationships(
            vec![
                (
                    me.id.0.clone(),
                    target.0.clone(),
                    Some(("pending_outgoing".into(), None)),
                ),
                (
                    target.0.clone(),
                    me.id.0.clone(),
                    Some(("pending_incoming".into(), message.clone())),
                ),
            ],
            now,
        )
        .await?;
    dispatch_to(
        px,
        &target,
        "RELATIONSHIP_ADD",
        &json!({"user_id": ids::wire(&me.id.0), "username": me.username,
                "status": "pending_incoming", "message": message, "created_at": now}),
    );
    dispatch_to(
        px,
        &me.id,
        "RELATIONSHIP_ADD",
        &json!({"user_id": ids::wire(&target.0), "username": other.username,
                "status": "pending_outgoing", "created_at": now}),
    );
    Ok(ok(&json!({
        "user_id": ids::wire(&target.0), "status": "pending_outgoing", "created_at": now,
    })))
}

pub async fn accept(
    State(st): State<AppState>,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let sender = path_user(&id)?;
    let me = &auth.user;
    let pending = px
        .state
        .relationship(&me.id.0, &sender.0)
        .await?
        .is_some_and(|r| r.status == "pending_incoming");
    if !pending {
        return Err(ApiError::not_found("Friend request not found"));
    }
    let other = user(px, &sender).await?;
    let now = now_ms();
    let friend = || Some(("friend".to_owned(), None));
    px.state
        .change_relationships(
            vec![
                (me.id.0.clone(), sender.0.clone(), friend()),
                (sender.0.clone(), me.id.0.clone(), friend()),
            ],
            now,
        )
        .await?;
    dispatch_to(
        px,
        &sender,
        "RELATIONSHIP_ADD",
        &json!({"user_id": ids::wire(&me.id.0), "username": me.username, "status": "friend",
                "presence": presence(px, &me.id), "created_at": now}),
    );
    dispatch_to(
        px,
        &me.id,
        "RELATIONSHIP_ADD",
        &json!({"user_id": ids::wire(&sender.0), "username": other.username, "status": "friend",
                "presence": presence(px, &sender), "created_at": now}),
    );
    Ok(success())
}

pub async fn delete(
    State(st): State<AppState>,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let other = path_user(&id)?;
    let me = &auth.user.id;
    let Some(rel) = px.state.relationship(&me.0, &other.0).await? else {
        return Err(ApiError::not_found("Relationship not found"));
    };
    if rel.status == "blocked" {
        px.state
            .change_relationships(vec![(me.0.clone(), other.0.clone(), None)], now_ms())
            .await?;
        removed(px, me, &other);
        return Ok(success());
    }
    // A friendship or a request: gone for both sides (unless the other side blocked).
    let theirs = px.state.relationship(&other.0, &me.0).await?;
    let mut changes = vec![(me.0.clone(), other.0.clone(), None)];
    if theirs.as_ref().is_some_and(|r| r.status != "blocked") {
        changes.push((other.0.clone(), me.0.clone(), None));
    }
    px.state.change_relationships(changes, now_ms()).await?;
    removed(px, me, &other);
    if theirs.is_some_and(|r| r.status != "blocked") {
        removed(px, &other, me);
    }
    Ok(success())
}

pub async fn block(
    State(st): State<AppState>,
    auth: Authed,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let req = body(&text, BlockRequest::decode)?;
    let target = user_id_value(&req.user_id, "Invalid target ID")?;
    let me = &auth.user;
    if target == me.id {
        return Err(ApiError::bad_request("Cannot block yourself"));
    }
    let other = user(px, &target).await?;
    if px
        .state
        .relationship(&me.id.0, &target.0)
        .await?
        .is_some_and(|r| r.status == "blocked")
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "User is already blocked",
        ));
    }
    let theirs = px.state.relationship(&target.0, &me.id.0).await?;
    let mut changes = vec![(
        me.id.0.clone(),
        target.0.clone(),
        Some(("blocked".to_owned(), None)),
    )];
    let unlinked = theirs.is_some_and(|r| r.status != "blocked");
    if unlinked {
        changes.push((target.0.clone(), me.id.0.clone(), None));
    }
    let now = now_ms();
    px.state.change_relationships(changes, now).await?;
    dispatch_to(
        px,
        &me.id,
        "RELATIONSHIP_ADD",
        &json!({"user_id": ids::wire(&target.0), "username": other.username,
                "status": "blocked", "created_at": now}),
    );
    if unlinked {
        removed(px, &target, &me.id);
    }
    Ok(ok(&json!({
        "user_id": ids::wire(&target.0), "status": "blocked", "created_at": now,
    })))
}
