//! The REST core under `/api/v1`: errors as `{"error":{"code","message"}}`, string ids,
//! millisecond times, 200 for almost every success, `X-RateLimit-*` headers.

pub mod account;
pub mod audit;
pub mod auth;
pub mod avatars;
pub mod bots;
pub mod docs;
pub mod export;
pub mod inventory;
pub mod invites;
pub mod me;
pub mod members;
pub mod message_extras;
pub mod messages;
pub mod moderation;
pub mod notes;
pub mod notifications;
pub mod polls;
pub mod ratelimit;
pub mod read_state;
pub mod relationships;
pub mod reports;
pub mod roles;
pub mod search;
pub mod servers;
pub mod sessions;
pub mod system;
pub mod threads;
pub mod twofa;
pub mod users;
pub mod voice;
pub mod webhooks;
// files
pub mod media;

use super::Plexichat;
use crate::core::CoreError;
use crate::core::users::User;
use crate::net::AppState;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Serialize;
use std::sync::Arc;

/// The REST routes, with rate limiting and the optional access-token gate.
pub fn routes(state: &AppState) -> Router<AppState> {
    let api = Router::new()
        .route("/version", get(system::version))
        .route("/version/negotiate", post(system::negotiate))
        .route("/capabilities", get(system::capabilities))
        .route("/health", get(system::health))
        .route("/auth/register", post(auth::register))
        .route("/auth/login", post(auth::login))
        .route(
            "/auth/password-requirements",
            get(auth::password_requirements),
        )
        .route("/auth/logout", post(auth::logout))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/sessions", get(sessions::list))
        .route(
            "/auth/sessions/{session_id}",
            axum::routing::delete(sessions::delete),
        )
        .route("/auth/sessions/revoke-all", post(sessions::revoke_all))
        .route("/auth/2fa", post(twofa::complete))
        .route("/auth/2fa/status", get(twofa::status))
        .route("/auth/2fa/enable", post(twofa::enable))
        .route("/auth/2fa/confirm", post(twofa::confirm))
        .route("/auth/2fa/disable", post(twofa::disable))
        .route(
            "/users/@me",
            get(users::me)
                .patch(me::update_me)
                .delete(account::delete_me),
        )
        .route("/users/@me/channels", get(users::dms).post(users::open_dm))
        .route("/users/@me/presence", put(users::set_presence))
        .route("/users/@me/notes", get(notes::get))
        .route("/users/@me/avatar", post(avatars::upload_avatar))
        .route("/servers/{server_id}/icon", post(avatars::upload_icon))
        .route("/avatars/users/{user_id}", get(avatars::user_avatar))
        .route("/avatars/servers/{server_id}", get(avatars::server_icon))
        .route("/voice/ice-servers", get(voice::list_ice_servers))
        .route("/reports/messages", post(reports::report_message))
        .route(
            "/channels/{channel_id}/messages/export",
            get(export::export),
        )
        .route("/reports/users", post(reports::report_user))
        .route(
            "/voice/channels/{channel_id}/info",
            get(voice::channel_info),
        )
        .route("/users/{user_id}", get(users::get_user))
        .route("/servers", get(servers::redirect).post(servers::redirect))
        .route("/servers/", get(servers::list).post(servers::create))
        .route(
            "/servers/{server_id}",
            get(servers::get_one)
                .patch(moderation::update_server)
                .delete(moderation::delete_server),
        )
        .route(
            "/servers/{server_id}/channels",
            get(servers::channels).post(servers::create_channel),
        )
        .route(
            "/channels/{channel_id}",
            get(servers::get_channel)
                .patch(servers::update_channel)
                .delete(servers::delete_channel),
        )
        .route(
            "/channels/{channel_id}/messages",
            get(messages::list).post(messages::create),
        )
        .route(
            "/channels/{channel_id}/messages/{message_id}",
            get(messages::get_one)
                .patch(messages::edit)
                .delete(messages::delete),
        )
        .route(
            "/channels/{channel_id}/messages/{message_id}/reactions",
            get(messages::reactions).delete(message_extras::clear_reactions),
        )
        .route(
            "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}",
            put(messages::add_reaction)
                .delete(messages::remove_reaction)
                .get(message_extras::reaction_users),
        )
        .route("/channels/{channel_id}/invites", post(invites::create))
        .route(
            "/channels/invites/{code}",
            get(invites::get_one)
                .post(invites::join)
                .delete(invites::delete),
        )
        .route("/servers/{server_id}/invites", get(invites::list))
        .route(
            "/servers/{server_id}/roles",
            get(roles::list).post(roles::create),
        )
        .route(
            "/servers/{server_id}/roles/{role_id}",
            axum::routing::patch(roles::update).delete(roles::delete),
        )
        .route(
            "/servers/{server_id}/members/{member_id}/roles/{role_id}",
            put(roles::add_member_role).delete(roles::remove_member_role),
        )
        .route("/servers/{server_id}/permissions", get(roles::permissions))
        .route("/servers/{server_id}/audit-logs", get(audit::list))
        .route("/servers/{server_id}/members", get(members::list))
        .route(
            "/servers/{server_id}/members/{member_id}",
            axum::routing::delete(members::kick).patch(moderation::update_member),
        )
        .route("/servers/{server_id}/bans", get(moderation::list_bans))
        .route(
            "/servers/{server_id}/bans/{user_id}",
            put(moderation::ban).delete(moderation::unban),
        )
        .route("/servers/{server_id}/leave", post(members::leave))
        .route("/applications", post(bots::create_application))
        .route("/applications/{application_id}/bot", post(bots::create_bot))
        .route("/webhooks", post(webhooks::create))
        .route(
            "/webhooks/{webhook_id}",
            get(webhooks::get_one)
                .patch(webhooks::update)
                .delete(webhooks::delete),
        )
        .route("/webhooks/{webhook_id}/{token}", post(webhooks::execute))
        // the rest of the webhook routes, uploads and media
        .route(
            "/webhooks/{webhook_id}/regenerate-token",
            post(webhooks::regenerate),
        )
        .route(
            "/channels/{channel_id}/webhooks",
            get(webhooks::list_channel),
        )
        .route("/servers/{server_id}/webhooks", get(webhooks::list_server))
        .route("/channels/{channel_id}/attachments", post(media::upload))
        .route("/media/attachments/{filename}", get(media::download))
        .route("/channels/{channel_id}/pins", get(messages::pins))
        .route(
            "/channels/{channel_id}/pins/{message_id}",
            put(messages::pin).delete(messages::unpin),
        )
        .route("/channels/{channel_id}/typing", post(messages::typing))
        // threads and message search
        .route(
            "/channels/{channel_id}/threads",
            get(threads::list).post(threads::create),
        )
        .route(
            "/threads/{thread_id}",
            get(threads::get_one)
                .patch(threads::update)
                .delete(threads::delete),
        )
        .route("/search/messages", get(threads::search))
        .route("/polls/{poll_id}/vote", post(polls::vote))
        .route("/search/users", get(search::users))
        .route("/search/servers", get(search::servers))
        .route(
            "/channels/{channel_id}/messages/search",
            get(search::channel_messages),
        )
        // user state, read state, message extras
        .route("/status", get(system::status))
        .route("/ready", get(system::ready))
        .route("/users/search", get(me::search))
        .route("/users/{user_id}/presence", get(me::presence))
        .route("/users/@me/settings", get(me::list_settings))
        .route("/users/@me/settings/bulk", put(me::put_settings_bulk))
        .route(
            "/users/@me/settings/{key}",
            get(me::get_setting)
                .put(me::put_setting)
                .delete(me::delete_setting),
        )
        .route(
            "/users/@me/messaging-settings",
            get(me::get_messaging_settings).patch(me::update_messaging_settings),
        )
        .route("/users/@me/features", get(me::features))
        .route("/users/@me/notifications", get(notifications::list))
        .route(
            "/users/@me/notifications/read-all",
            put(notifications::read_all),
        )
        .route(
            "/users/@me/notifications/{notification_id}/read",
            put(notifications::read_one),
        )
        .route(
            "/users/@me/notifications/{notification_id}",
            axum::routing::delete(notifications::delete),
        )
        .route("/users/@me/unread", get(read_state::all_unread))
        .route("/relationships/@me", get(relationships::list))
        .route("/relationships", post(relationships::send_request))
        .route("/relationships/block", post(relationships::block))
        .route(
            "/relationships/{user_id}/accept",
            put(relationships::accept),
        )
        .route(
            "/relationships/{user_id}",
            axum::routing::delete(relationships::delete),
        )
        .route("/channels/ack/bulk", post(read_state::ack_bulk))
        .route(
            "/channels/{channel_id}/messages/ack",
            post(read_state::ack_messages),
        )
        .route(
            "/channels/{channel_id}/messages/unread",
            get(read_state::unread),
        )
        .route(
            "/channels/{channel_id}/messages/last-read",
            get(read_state::last_read),
        )
        .route(
            "/channels/{channel_id}/messages/mark-unread",
            post(read_state::mark_unread),
        )
        .route(
            "/servers/{server_id}/messages/read-all",
            post(read_state::read_all_server),
        )
        .route(
            "/channels/{channel_id}/messages/bulk-delete",
            post(message_extras::bulk_delete),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ratelimit::middleware,
        ))
        .fallback(not_found);
    Router::new()
        .nest("/api/v1", api)
        .route("/health", get(system::health))
        .route("/openapi.json", get(docs::openapi))
        .route("/docs", get(docs::docs))
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "Not Found")
}

/// An error answer: `{"error":{"code":<status>,"message":...}}` (plus extra keys when needed).
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: serde_json::Value,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: serde_json::json!({"error": {"code": status.as_u16(), "message": message.into()}}),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "plexichat: internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
    }

    /// A core failure, with `what` naming the resource for 404s (`Channel not found`).
    pub fn core(e: CoreError, what: &str) -> Self {
        match e {
            CoreError::NotFound(_) => Self::not_found(format!("{what} not found")),
            CoreError::Forbidden(_) => Self::forbidden("Missing permissions"),
            CoreError::Unauthorized => Self::unauthorized("Invalid credentials"),
            CoreError::Invalid(m) => Self::bad_request(m),
            CoreError::Conflict(m) => Self::new(StatusCode::CONFLICT, m),
            CoreError::Unavailable => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "Server is shutting down")
            }
            CoreError::Internal(m) => Self::internal(m),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, &self.body)
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::internal(e)
    }
}

pub fn json_response<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut r = (status, bytes).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// A 200 JSON answer.
pub fn ok<T: Serialize + ?Sized>(body: &T) -> Response {
    json_response(StatusCode::OK, body)
}

/// `SuccessResponse`.
pub fn success() -> Response {
    ok(&serde_json::json!({"success": true, "message": null}))
}

/// Decodes a JSON request body with the generated decoder (400 with its wording otherwise).
pub fn body<T>(
    text: &str,
    decode: fn(&str) -> Result<T, chorus_protocol::de::DecodeError>,
) -> Result<T, ApiError> {
    decode(text).map_err(|e| ApiError::bad_request(e.message()))
}

/// The caller, from `Authorization: Bearer|Bot <token>`.
pub struct Authed {
    pub user: User,
    pub token: String,
}

/// The raw token of the Authorization header (`Ok(None)`: none given).
pub fn bearer(parts: &Parts) -> Result<Option<String>, ApiError> {
    let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    let Ok(text) = first.to_str() else {
        return Ok(None);
    };
    if values.next().is_some() || text.contains(',') {
        return Err(ApiError::unauthorized("Multiple Authorization headers"));
    }
    let token = text
        .strip_prefix("Bearer ")
        .or_else(|| text.strip_prefix("Bot "));
    Ok(token
        .filter(|t| {
            !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
        .map(str::to_owned))
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?.ok_or_else(|| ApiError::unauthorized("Not authenticated"))?;
        match st.plexichat.core.authenticate(&token).await {
            Ok(user) => {
                sessions::touch(&st.plexichat, crate::core::users::token_digest(&token));
                Ok(Authed { user, token })
            }
            Err(CoreError::Unauthorized) => Err(ApiError::unauthorized("Invalid or expired token")),
            Err(e) => Err(ApiError::core(e, "User")),
        }
    }
}

/// The dialect state out of the app state.
pub fn px(st: &AppState) -> &Arc<Plexichat> {
    &st.plexichat
}
