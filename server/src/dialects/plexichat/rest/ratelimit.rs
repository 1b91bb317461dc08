//! Per-route rate limits with the reference's headers, and the optional `X-API-Access-Token`
//! gate. Buckets are sliding windows keyed by client IP and route (the reference's limiter runs
//! before authentication, so its buckets are effectively per IP too).

use super::ApiError;
use crate::net::AppState;
use crate::net::listener::Peer;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// (requests, window seconds, burst) of a route; the effective limit is requests + burst.
fn rule(method: &Method, path: &str) -> (usize, u64, usize) {
    match (method.as_str(), path) {
        ("POST", "/api/v1/auth/login") => (5, 60, 0),
        ("POST", "/api/v1/auth/register") => (3, 60, 0),
        ("POST", "/api/v1/auth/2fa") => (5, 60, 2),
        ("GET", "/api/v1/users/@me") => (30, 60, 10),
        ("POST", "/api/v1/channels/{channel_id}/messages") => (10, 5, 5),
        ("GET", "/api/v1/channels/{channel_id}/messages") => (10, 10, 5),
        ("PATCH", "/api/v1/users/@me") => (2, 60, 0),
        _ => (60, 30, 10),
    }
}

/// Routes callable without credentials (also exempt from the access-token gate).
fn public(path: &str) -> bool {
    matches!(
        path,
        "/api/v1/auth/login"
            | "/api/v1/auth/register"
            | "/api/v1/auth/2fa"
            | "/api/v1/auth/password-requirements"
            | "/api/v1/status"
            | "/api/v1/ready"
            | "/api/v1/health"
            | "/api/v1/capabilities"
            | "/api/v1/version"
            | "/api/v1/version/negotiate"
            | "/api/v1/webhooks/{webhook_id}/{token}"
            | "/api/v1/avatars/users/{user_id}"
            | "/api/v1/avatars/servers/{server_id}"
    )
}

#[derive(Default)]
pub struct Limiter {
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
}

pub struct Verdict {
    pub allowed: bool,
    pub limit: usize,
    pub remaining: usize,
    pub reset_after: Duration,
    pub key: String,
}

impl Limiter {
    pub fn check(&self, key: String, limit: usize, window: Duration) -> Verdict {
        let now = Instant::now();
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        if hits.len() > 50_000 {
            hits.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        let q = hits.entry(key.clone()).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
            q.pop_front();
        }
        let allowed = q.len() < limit;
        if allowed {
            q.push_back(now);
        }
        let reset_after = q
            .front()
            .map(|t| window.saturating_sub(now.duration_since(*t)))
            .unwrap_or(window);
        Verdict {
            allowed,
            limit,
            remaining: limit.saturating_sub(q.len()),
            reset_after,
            key,
        }
    }
}

fn set(headers: &mut HeaderMap, name: &'static str, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.insert(name, v);
    }
}

pub async fn middleware(
    State(st): State<AppState>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let px = st.plexichat.clone();
    let path = matched
        .as_ref()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| req.uri().path().to_owned());
    if px.config.access_token_required && !px.config.access_tokens.is_empty() && !public(&path) {
        match req.headers().get("x-api-access-token") {
            None => return ApiError::unauthorized("API access token required").into_response(),
            Some(v) => {
                let given = v.to_str().unwrap_or("");
                if !px.config.access_tokens.iter().any(|t| t == given) {
                    return ApiError::unauthorized("Invalid API access token").into_response();
                }
            }
        }
    }
    if !px.config.rate_limits || req.method() == Method::OPTIONS {
        return next.run(req).await;
    }
    let ip = st.trusted.client_ip(
        peer.ip(),
        req.headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok()),
    );
    let (requests, window, burst) = rule(req.method(), &path);
    let key = format!("route:ip:{ip}:{} {path}", req.method());
    let v = px
        .limiter
        .check(key, requests + burst, Duration::from_secs(window));
    let reset_after = v.reset_after.as_secs_f64();
    let reset_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
        + reset_after;
    let mut resp = if v.allowed {
        next.run(req).await
    } else {
        let mut r = super::json_response(
            StatusCode::TOO_MANY_REQUESTS,
            &serde_json::json!({
                "message": "You are being rate limited.",
                "retry_after": (reset_after * 1000.0).round() / 1000.0,
                "global": false,
                "scope": "route",
            }),
        );
        set(
            r.headers_mut(),
            "retry-after",
            (reset_after as u64 + 1).to_string(),
        );
        r
    };
    let h = resp.headers_mut();
    set(h, "x-ratelimit-limit", v.limit.to_string());
    set(h, "x-ratelimit-remaining", v.remaining.to_string());
    set(h, "x-ratelimit-reset", format!("{reset_at:.3}"));
    set(h, "x-ratelimit-reset-after", format!("{reset_after:.3}"));
    set(
        h,
        "x-ratelimit-bucket",
        hex::encode(Sha256::digest(v.key.as_bytes()))[..16].to_owned(),
    );
    set(h, "x-ratelimit-scope", "route".into());
    resp
}
