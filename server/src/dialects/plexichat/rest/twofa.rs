//! TOTP two-factor authentication: enrolment (`/auth/2fa/enable` → `/auth/2fa/confirm`),
//! status, disable, and the login challenge (`/auth/2fa`). Backup codes are `ABCD-1234`, sent
//! without the dash (the reference caps `code` at 8 characters), each usable once.

use super::{ApiError, Authed, body, ok, px, success};
use crate::core::CoreError;
use crate::core::ids::{UserId, now_ms};
use crate::core::users::{self, User};
use crate::dialects::plexichat::db::TwoFactor;
use crate::dialects::plexichat::tokens::base64url;
use crate::dialects::plexichat::{Plexichat, ids, totp};
use crate::net::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chorus_protocol::plexichat_rest::{
    CodeRequest, DisableTwoFactorRequest, LoginResponse, LoginResponseStatus, PasswordRequest,
    TwoFactorRequest,
};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const CHALLENGE_TTL: Duration = Duration::from_secs(300);

/// Pending login challenges and the last TOTP step each user spent (no replays).
#[derive(Default)]
pub struct Challenges {
    pending: Mutex<HashMap<String, (UserId, Instant)>>,
    used: Mutex<HashMap<UserId, u64>>,
}

impl Challenges {
    fn issue(&self, user: &UserId) -> String {
        let mut secret = Vec::with_capacity(32);
        secret.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        secret.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        let token = format!("2fa.{}.{}", ids::snowflake(), base64url(&secret));
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        p.retain(|_, (_, at)| at.elapsed() < CHALLENGE_TTL);
        p.insert(token.clone(), (user.clone(), Instant::now()));
        token
    }

    fn user(&self, token: &str) -> Option<UserId> {
        let p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        p.get(token)
            .filter(|(_, at)| at.elapsed() < CHALLENGE_TTL)
            .map(|(u, _)| u.clone())
    }

    fn finish(&self, token: &str) {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token);
    }

    /// Accepts a TOTP step once per user.
    fn spend(&self, user: &UserId, step: u64) -> bool {
        let mut u = self.used.lock().unwrap_or_else(|e| e.into_inner());
        if u.get(user).is_some_and(|s| *s >= step) {
            return false;
        }
        u.insert(user.clone(), step);
        true
    }
}

fn invalid_code() -> ApiError {
    ApiError::unauthorized("Invalid 2FA code")
}

/// Checks a TOTP or backup code; a used backup code is removed.
pub(super) async fn verify(px: &Plexichat, user: &UserId, tf: &TwoFactor, code: &str) -> bool {
    let Some(secret) = &tf.secret else {
        return false;
    };
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        return totp::check(secret, code, now_ms())
            .is_some_and(|step| px.challenges.spend(user, step));
    }
    let digest = users::token_digest(&code.replace('-', "").to_ascii_uppercase());
    if let Some(i) = tf.backup_codes.iter().position(|c| *c == digest) {
        let mut left = tf.clone();
        left.backup_codes.remove(i);
        return px.db.set_two_factor(&user.0, left, now_ms()).await.is_ok();
    }
    false
}

/// The 2FA-required login answer, if `user` has 2FA on.
pub async fn challenge(px: &Plexichat, user: &User) -> Result<Option<Response>, ApiError> {
    if !px.db.two_factor(&user.id.0).await?.enabled {
        return Ok(None);
    }
    Ok(Some(ok(&LoginResponse {
        status: LoginResponseStatus::TwoFactorRequired,
        token: None,
        user: None,
        challenge_token: Some(Some(px.challenges.issue(&user.id))),
        methods: Some(Some(vec!["totp".into(), "backup_code".into()])),
        expires_in: Some(Some(300)),
    })))
}

/// `POST /auth/2fa`: finishes a login.
pub async fn complete(
    State(st): State<AppState>,
    client: super::sessions::ClientInfo,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let req = body(&text, TwoFactorRequest::decode)?;
    let user_id = px
        .challenges
        .user(&req.challenge_token)
        .ok_or_else(|| ApiError::unauthorized("Invalid challenge"))?;
    let tf = px.db.two_factor(&user_id.0).await?;
    if !verify(px, &user_id, &tf, &req.code).await {
        return Err(invalid_code());
    }
    px.challenges.finish(&req.challenge_token);
    let user = px
        .core
        .store()
        .user(user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("Invalid challenge"))?;
    let token = super::auth::issue(px, &user, client).await?;
    super::auth::logged_in(px, &user, token).await
}

pub async fn status(State(st): State<AppState>, auth: Authed) -> Result<Response, ApiError> {
    let tf = px(&st).db.two_factor(&auth.user.id.0).await?;
    Ok(ok(&serde_json::json!({
        "enabled": tf.enabled,
        "backup_codes_remaining": if tf.enabled { tf.backup_codes.len() } else { 0 },
    })))
}

pub(super) async fn check_password(
    px: &Plexichat,
    user: &User,
    password: &str,
) -> Result<(), ApiError> {
    match px.core.login(&user.username, password).await {
        Ok(_) => Ok(()),
        Err(CoreError::Unauthorized) => Err(ApiError::unauthorized("Invalid password")),
        Err(e) => Err(ApiError::core(e, "User")),
    }
}

pub async fn enable(
    State(st): State<AppState>,
    auth: Authed,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let req = body(&text, PasswordRequest::decode)?;
    check_password(px, &auth.user, &req.password).await?;
    if px.db.two_factor(&auth.user.id.0).await?.enabled {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "2FA is already enabled",
        ));
    }
    let mut raw = Vec::with_capacity(20);
    raw.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    raw.extend_from_slice(&uuid::Uuid::new_v4().as_bytes()[..4]);
    let secret = totp::base32(&raw);
    let mut codes = Vec::new();
    let mut hashes = Vec::new();
    for _ in 0..10 {
        let r = uuid::Uuid::new_v4()
            .simple()
            .to_string()
            .to_ascii_uppercase();
        let code = format!("{}-{}", &r[..4], &r[4..8]);
        hashes.push(users::token_digest(&code.replace('-', "")));
        codes.push(code);
    }
    px.db
        .set_two_factor(
            &auth.user.id.0,
            TwoFactor {
                secret: Some(secret.clone()),
                enabled: false,
                backup_codes: hashes,
            },
            now_ms(),
        )
        .await?;
    Ok(ok(&serde_json::json!({
        "secret": secret,
        "qr_uri": format!(
            "otpauth://totp/Plexichat:{}?secret={secret}&issuer=Plexichat&digits=6&period=30",
            auth.user.username
        ),
        "backup_codes": codes,
    })))
}

pub async fn confirm(
    State(st): State<AppState>,
    auth: Authed,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let req = body(&text, CodeRequest::decode)?;
    let mut tf = px.db.two_factor(&auth.user.id.0).await?;
    if tf.enabled {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "2FA is already enabled",
        ));
    }
    let Some(secret) = &tf.secret else {
        return Err(ApiError::bad_request("2FA setup has not been started"));
    };
    let ok_code = totp::check(secret, &req.code, now_ms())
        .is_some_and(|s| px.challenges.spend(&auth.user.id, s));
    if !ok_code {
        return Err(ApiError::bad_request("Invalid 2FA code"));
    }
    tf.enabled = true;
    px.db.set_two_factor(&auth.user.id.0, tf, now_ms()).await?;
    Ok(success())
}

pub async fn disable(
    State(st): State<AppState>,
    auth: Authed,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let req = body(&text, DisableTwoFactorRequest::decode)?;
    check_password(px, &auth.user, &req.password).await?;
    let tf = px.db.two_factor(&auth.user.id.0).await?;
    if !tf.enabled {
        return Err(ApiError::bad_request("2FA is not enabled"));
    }
    if !verify(px, &auth.user.id, &tf, &req.code).await {
        return Err(invalid_code());
    }
    px.db
        .set_two_factor(&auth.user.id.0, TwoFactor::default(), now_ms())
        .await?;
    Ok(success())
}
