//! The caller's profile and preferences: `PATCH /users/@me` (USER_UPDATE), settings,
//! messaging settings, features; and other users' lookup and presence.

use super::{ApiError, Authed, body, ok, px, success};
use crate::core::CoreError;
use crate::core::events::{Event, Topic};
use crate::core::ids::{UserId, now_ms};
use crate::core::users::{self, Status};
use crate::dialects::plexichat::state::{self, MessagingSettings};
use crate::dialects::plexichat::{Plexichat, ids};
use crate::net::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chorus_protocol::plexichat_rest::{
    SettingValueRequest, SettingsBulkRequest, UpdateMessagingSettingsRequest,
    UpdateMessagingSettingsRequestAllowDmsFrom as Dms, UpdateUserRequest,
};
use serde_json::json;
use std::sync::Arc;

/// Sends a dispatch the dialect built itself to every session of `user`.
pub fn dispatch_to<T: serde::Serialize>(px: &Plexichat, user: &UserId, t: &'static str, d: &T) {
    if let Ok(d) = serde_json::to_string(d) {
        px.core.hub().publish(Event::PlexichatDispatch {
            topic: Topic::User(user.clone()),
            t,
            d: Arc::from(d),
        });
    }
}

/// A user id given as a JSON string or integer (400 `message` otherwise).
pub fn user_id_value(v: &serde_json::Value, message: &str) -> Result<UserId, ApiError> {
    ids::from_json(v)
        .map(UserId)
        .ok_or_else(|| ApiError::bad_request(message))
}

/// `key=value` pairs of a query string (values percent-decoded).
pub fn query(q: Option<&str>) -> Vec<(String, String)> {
    q.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An integer query parameter within `range` (the reference's pydantic wording otherwise).
pub fn int_param(
    name: &str,
    v: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, ApiError> {
    match v.parse::<i64>() {
        Ok(n) if range.contains(&n) => Ok(n),
        Ok(n) if n > *range.end() => Err(ApiError::bad_request(format!(
            "Invalid {name}: Input should be less than or equal to {}",
            range.end()
        ))),
        Ok(_) => Err(ApiError::bad_request(format!(
            "Invalid {name}: Input should be greater than or equal to {}",
            range.start()
        ))),
        Err(_) => Err(ApiError::bad_request(format!(
            "Invalid {name}: Input should be a valid integer"
        ))),
    }
}

/// `PATCH /users/@me`.
pub async fn update_me(
    State(st): State<AppState>,
    auth: Authed,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let req = body(&text, UpdateUserRequest::decode)?;
    let me = &auth.user;
    if let Some(password) = &req.password {
        let Some(current) = &req.current_password else {
            return Err(ApiError::bad_request(
                "Current password required to change password",
            ));
        };
        let ok = px
            .core
            .store()
            .password_hash(me.id.clone())
            .await?
            .is_some_and(|h| users::verify_password(current, &h));
        if !ok {
            return Err(ApiError::forbidden("Incorrect current password"));
        }
        super::auth::check_password(password)?;
        px.core
            .change_password(me, password)
            .await
            .map_err(|e| ApiError::core(e, "User"))?;
    }
    if let Some(email) = &req.email {
        if !super::auth::valid_email(email) {
            return Err(ApiError::bad_request(
                "Invalid email: value is not a valid email address",
            ));
        }
        if let Some(owner) = px.db.user_by_email(email).await?
            && owner != me.id.0
        {
            return Err(ApiError::new(StatusCode::CONFLICT, "Email already in use"));
        }
    }
    if let Some(name) = &req.username {
        users::validate_username(name).map_err(|_| {
            ApiError::bad_request(
                "Invalid username: only letters, digits, '_', '.' and '-' are allowed",
            )
        })?;
    }
    let changes_profile = req.username.is_some() || req.avatar_url.is_some();
    let user = if changes_profile {
        px.core
            .update_profile(me, req.username.clone(), req.avatar_url.clone())
            .await
            .map_err(|e| match e {
                CoreError::Conflict(_) => {
                    ApiError::new(StatusCode::CONFLICT, "Username already taken")
                }
                e => ApiError::core(e, "User"),
            })?
    } else {
        me.clone()
    };
    if let Some(email) = &req.email {
        let age = px.db.account(&me.id.0).await?.is_some_and(|(_, a)| a);
        px.db
            .insert_account(&me.id.0, email, age, now_ms())
            .await
            .map_err(|e| match e {
                crate::store::StoreError::Conflict(_) => {
                    ApiError::new(StatusCode::CONFLICT, "Email already in use")
                }
                e => e.into(),
            })?;
    }
    let out = super::auth::user_response(px, &user).await?;
    if changes_profile || req.email.is_some() {
        dispatch_to(
            px,
            &me.id,
            "USER_UPDATE",
            &json!({"user": {
                "id": out.id, "username": out.username,
                "avatar_url": out.avatar_url, "email": out.email,
            }}),
        );
    }
    Ok(ok(&out))
}

// ---------------------------------------------------------------------- settings

fn setting_json(s: &state::Setting) -> serde_json::Value {
    json!({"key": s.key, "value": s.value, "created_at": s.created_at, "updated_at": s.updated_at})
}

async fn all_settings(px: &Plexichat, user: &UserId) -> Result<Response, ApiError> {
    let list = px.state.settings(&user.0).await?;
    let map: serde_json::Map<String, serde_json::Value> = list
        .iter()
        .map(|s| (s.key.clone(), json!(s.value)))
        .collect();
    Ok(ok(&json!({
        "settings": map, "count": list.len(), "limit": state::MAX_SETTINGS,
    })))
}

fn check_key(key: &str) -> Result<(), ApiError> {
    if key.chars().count() > state::MAX_KEY_CHARS {
        return Err(ApiError::bad_request(format!(
            "Key exceeds maximum length of {} characters",
            state::MAX_KEY_CHARS
        )));
    }
    if key.starts_with(state::RESERVED_PREFIX) {
        return Err(ApiError::bad_request(format!(
            "Key '{key}' uses reserved prefix '{}'",
            state::RESERVED_PREFIX
        )));
    }
    Ok(())
}

async fn put_settings(
    px: &Plexichat,
    user: &UserId,
    pairs: Vec<(String, String)>,
) -> Result<Vec<state::Setting>, ApiError> {
    for (k, _) in &pairs {
        check_key(k)?;
    }
    px.state
        .put_settings(&user.0, pairs, now_ms())
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Conflict(_) => ApiError::bad_request(format!(
                "User has reached maximum of {} settings",
                state::MAX_SETTINGS
            )),
            e => e.into(),
        })
}

pub async fn list_settings(State(st): State<AppState>, auth: Authed) -> Result<Response, ApiError> {
    all_settings(px(&st), &auth.user.id).await
}

pub async fn put_settings_bulk(
    State(st): State<AppState>,
    auth: Authed,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let req = body(&text, SettingsBulkRequest::decode)?;
    put_settings(px, &auth.user.id, req.0.into_iter().collect()).await?;
    all_settings(px, &auth.user.id).await
}

pub async fn get_setting(
    State(st): State<AppState>,
    auth: Authed,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let list = px(&st).state.settings(&auth.user.id.0).await?;
    match list.iter().find(|s| s.key == key) {
        Some(s) => Ok(ok(&setting_json(s))),
        None => Err(ApiError::not_found(format!("Setting '{key}' not found"))),
    }
}

pub async fn put_setting(
    State(st): State<AppState>,
    auth: Authed,
    Path(key): Path<String>,
    text: String,
) -> Result<Response, ApiError> {
    let req = body(&text, SettingValueRequest::decode)?;
    let stored = put_settings(px(&st), &auth.user.id, vec![(key, req.value)]).await?;
    Ok(ok(&setting_json(&stored[0])))
}

pub async fn delete_setting(
    State(st): State<AppState>,
    auth: Authed,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    if px(&st).state.delete_setting(&auth.user.id.0, &key).await? {
        Ok(success())
    } else {
        Err(ApiError::not_found(format!("Setting '{key}' not found")))
    }
}

// ---------------------------------------------------------------------- messaging settings

fn messaging_json(user: &UserId, s: &MessagingSettings) -> serde_json::Value {
    json!({
        "user_id": ids::wire(&user.0),
        "read_receipts_enabled": s.read_receipts_enabled,
        "typing_indicators_enabled": s.typing_indicators_enabled,
        "compact_messages_enabled": s.compact_messages_enabled,
        "allow_dms_from": s.allow_dms_from,
        "auto_create_dms": s.auto_create_dms,
        "max_message_length": null,
        "max_attachment_size": null,
        "max_attachments_per_message": null,
    })
}

pub async fn get_messaging_settings(
    State(st): State<AppState>,
    auth: Authed,
) -> Result<Response, ApiError> {
    let s = px(&st).state.messaging_settings(&auth.user.id.0).await?;
    Ok(ok(&messaging_json(&auth.user.id, &s)))
}

pub async fn update_messaging_settings(
    State(st): State<AppState>,
    auth: Authed,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let req = body(&text, UpdateMessagingSettingsRequest::decode)?;
    let mut s = px.state.messaging_settings(&auth.user.id.0).await?;
    if let Some(v) = req.read_receipts_enabled {
        s.read_receipts_enabled = v;
    }
    if let Some(v) = req.typing_indicators_enabled {
        s.typing_indicators_enabled = v;
    }
    if let Some(v) = req.compact_messages_enabled {
        s.compact_messages_enabled = v;
    }
    if let Some(v) = req.allow_dms_from {
        s.allow_dms_from = match v {
            Dms::Everyone => "everyone",
            Dms::Friends => "friends",
            Dms::None => "none",
        }
        .into();
    }
    if let Some(v) = req.auto_create_dms {
        s.auto_create_dms = v;
    }
    px.state
        .set_messaging_settings(&auth.user.id.0, s.clone())
        .await?;
    Ok(ok(&messaging_json(&auth.user.id, &s)))
}

/// `GET /users/@me/features`: every account is on the standard tier, with the reference's
/// standard limits (the message length is the one Chorus enforces).
pub async fn features(_auth: Authed) -> Response {
    ok(&json!({
        "badges": [],
        "tier": "standard",
        "tier_limits": {
            "name": "standard",
            "multiplier": 1.0,
            "max_voice_minutes_per_day": 120,
            "max_video_minutes_per_day": 60,
            "max_file_uploads_per_day": 50,
            "max_file_size_mb": 50,
            "max_servers": 100,
            "max_message_length": crate::core::operations::MAX_MESSAGE_CHARS,
            "max_reactions_per_message": 20,
            "max_pins_per_channel": 50,
            "custom_emoji_slots": 50,
        },
    }))
}

// ---------------------------------------------------------------------- other users

/// `GET /users/search?username=` (exact, case-insensitive).
pub async fn search(
    State(st): State<AppState>,
    _auth: Authed,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let name = query(q.as_deref())
        .into_iter()
        .find(|(k, _)| k == "username")
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::bad_request("Invalid username: Field required"))?;
    let user = px(&st)
        .core
        .store()
        .user_by_username(name)
        .await?
        .ok_or_else(|| ApiError::not_found("User not found"))?;
    Ok(ok(&json!({
        "id": ids::wire(&user.id.0),
        "username": user.username,
        "avatar_url": user.avatar_url,
        "created_at": user.created_at,
        "badges": [],
    })))
}

/// `GET /users/{user_id}/presence`.
pub async fn presence(
    State(st): State<AppState>,
    _auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let id = UserId(ids::core(&id).ok_or_else(|| ApiError::bad_request("Invalid user ID"))?);
    px.core
        .store()
        .user(id.clone())
        .await?
        .ok_or_else(|| ApiError::not_found("User not found"))?;
    let connected = px.core.presence.status(&id) != Status::Offline;
    let shown = px.statuses.shown(&id, connected);
    Ok(ok(&json!({
        "user_id": ids::wire(&id.0),
        "status": shown.status,
        "custom_status": shown.custom_status,
        "custom_emoji": shown.custom_emoji,
        "last_seen": if connected { None } else { px.statuses.last_seen(&id) },
    })))
}
