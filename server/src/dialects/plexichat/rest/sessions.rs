//! `/auth/sessions`: the caller's live tokens with where they were issued (IP, user agent) and
//! when they were last used, and revoking them. A revoked token stops working at once (REST
//! answers 401) and gateway sessions identified with it are closed with 4004.

use super::{ApiError, Authed, body, ok, px, success};
use crate::core::ids::{UserId, now_ms};
use crate::core::users;
use crate::dialects::plexichat::db::SessionRow;
use crate::dialects::plexichat::{Plexichat, ids};
use crate::net::AppState;
use crate::net::listener::Peer;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::Response;
use chorus_protocol::plexichat_rest::RevokeAllSessionsRequest;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// Longest user agent kept (the header is client-controlled).
const MAX_USER_AGENT: usize = 512;
/// `last_activity` is written at most this often per token, so busy clients do not turn every
/// request into a database write.
const ACTIVITY_GRANULARITY_MS: i64 = 60_000;

/// Where a login request came from: the client address (behind trusted proxies, the forwarded
/// one) and its `User-Agent`.
pub struct ClientInfo {
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let ip_address =
            parts
                .extensions
                .get::<ConnectInfo<Peer>>()
                .map(|ConnectInfo(Peer(peer))| {
                    st.trusted
                        .client_ip(
                            peer.ip(),
                            parts
                                .headers
                                .get_all("x-forwarded-for")
                                .iter()
                                .filter_map(|v| v.to_str().ok()),
                        )
                        .to_string()
                });
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .filter(|s| !s.is_empty())
            .map(|s| s.chars().take(MAX_USER_AGENT).collect());
        Ok(ClientInfo {
            ip_address,
            user_agent,
        })
    }
}

/// When each token's `last_activity` was last written.
#[derive(Default)]
pub struct Activity {
    written: Mutex<HashMap<String, i64>>,
}

/// Notes that the token with `digest` was just used (written in the background, at most once a
/// minute per token).
pub fn touch(px: &Arc<Plexichat>, digest: String) {
    let now = now_ms();
    {
        let mut m = px
            .activity
            .written
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if m.get(&digest)
            .is_some_and(|at| now - at < ACTIVITY_GRANULARITY_MS)
        {
            return;
        }
        if m.len() > 50_000 {
            m.retain(|_, at| now - *at < ACTIVITY_GRANULARITY_MS);
        }
        m.insert(digest.clone(), now);
    }
    let px = px.clone();
    tokio::spawn(async move {
        if let Err(e) = px.db.touch_session(&digest, now).await {
            tracing::debug!(error = %e, "plexichat: recording session activity");
        }
    });
}

/// The wire id of a session: its token's snowflake, or for a token another dialect issued (no
/// snowflake) the start of its digest.
fn session_id(row: &SessionRow) -> String {
    row.id
        .clone()
        .unwrap_or_else(|| row.digest.chars().take(32).collect())
}

fn session_json(row: &SessionRow, current: &str) -> serde_json::Value {
    serde_json::json!({
        "id": session_id(row),
        "device_id": null,
        "ip_address": row.ip_address,
        "user_agent": row.user_agent,
        "created_at": row.created_at,
        "expires_at": row.expires_at,
        "last_activity": row.last_activity.unwrap_or(row.created_at),
        "current": row.digest == current,
    })
}

/// `GET /auth/sessions`.
pub async fn list(State(st): State<AppState>, auth: Authed) -> Result<Response, ApiError> {
    let px = px(&st);
    let current = users::token_digest(&auth.token);
    let rows = px.db.sessions(&auth.user.id.0, now_ms()).await?;
    let out: Vec<_> = rows.iter().map(|r| session_json(r, &current)).collect();
    Ok(ok(&out))
}

/// Deletes `digests` of `user`, closes the gateway sessions that used them and tells the
/// user's other connections. How many were revoked.
async fn revoke(px: &Plexichat, user: &UserId, digests: Vec<String>) -> Result<u64, ApiError> {
    if digests.is_empty() {
        return Ok(0);
    }
    let n = px.db.revoke_tokens(&user.0, digests.clone()).await?;
    let gone: HashSet<String> = digests.into_iter().collect();
    px.sessions.close_revoked(&gone, &px.core);
    super::me::dispatch_to(
        px,
        user,
        "SECURITY_ALERT",
        &serde_json::json!({
            "user_id": ids::wire(&user.0),
            "action": "session_revoked",
            "detail": {"revoked_count": n},
        }),
    );
    Ok(n)
}

/// `DELETE /auth/sessions/{session_id}` (revoking the current session is a logout).
pub async fn delete(
    State(st): State<AppState>,
    auth: Authed,
    Path(session): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let rows = px.db.sessions(&auth.user.id.0, now_ms()).await?;
    let Some(row) = rows.into_iter().find(|r| session_id(r) == session) else {
        return Err(ApiError::not_found("Session not found"));
    };
    revoke(px, &auth.user.id, vec![row.digest]).await?;
    Ok(success())
}

/// `POST /auth/sessions/revoke-all`: `{"except_current": true}` by default (an empty body
/// counts as that).
pub async fn revoke_all(
    State(st): State<AppState>,
    auth: Authed,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let except_current = if text.trim().is_empty() {
        true
    } else {
        body(&text, RevokeAllSessionsRequest::decode)?
            .except_current
            .unwrap_or(true)
    };
    let current = users::token_digest(&auth.token);
    let digests = px
        .db
        .sessions(&auth.user.id.0, now_ms())
        .await?
        .into_iter()
        .map(|r| r.digest)
        .filter(|d| !except_current || *d != current)
        .collect();
    let n = revoke(px, &auth.user.id, digests).await?;
    Ok(ok(
        &serde_json::json!({"success": true, "revoked_count": n}),
    ))
}
