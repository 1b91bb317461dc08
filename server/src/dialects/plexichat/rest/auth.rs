//! `/auth/register`, `/auth/login`, `/auth/logout`, `/auth/refresh`.

use super::sessions::ClientInfo;
use super::{ApiError, Authed, body, ok, px, success};
use crate::core::CoreError;
use crate::core::ids::now_ms;
use crate::core::users::{self, User};
use crate::dialects::plexichat::{Plexichat, tokens, wire};
use crate::net::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chorus_protocol::plexichat_rest::{
    LoginRequest, LoginResponse, LoginResponseStatus, RegisterRequest,
};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MAX_FAILURES: usize = 5;
const LOCKOUT: Duration = Duration::from_secs(15 * 60);

/// Failed logins per user; five within the window lock the account for 15 minutes.
#[derive(Default)]
pub struct Lockout {
    failures: Mutex<HashMap<String, (usize, Instant)>>,
}

impl Lockout {
    fn locked(&self, user: &str) -> bool {
        let m = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        m.get(user)
            .is_some_and(|(n, at)| *n >= MAX_FAILURES && at.elapsed() < LOCKOUT)
    }

    /// Counts a failed login; true when this failure locked the account.
    fn fail(&self, user: &str) -> bool {
        let mut m = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let e = m.entry(user.to_owned()).or_insert((0, Instant::now()));
        if e.1.elapsed() >= LOCKOUT {
            *e = (0, Instant::now());
        }
        e.0 += 1;
        e.1 = Instant::now();
        e.0 == MAX_FAILURES
    }

    fn clear(&self, user: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(user);
    }
}

/// The reference's default password policy: what registration and password changes enforce
/// and what `GET /auth/password-requirements` publishes.
pub struct PasswordPolicy {
    pub min_length: usize,
    pub max_length: usize,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    pub require_digit: bool,
    pub require_special: bool,
}

pub const PASSWORD_POLICY: PasswordPolicy = PasswordPolicy {
    min_length: 12,
    max_length: 128,
    require_uppercase: true,
    require_lowercase: true,
    require_digit: true,
    require_special: true,
};

/// Checks `p` against [`PASSWORD_POLICY`] (400 naming the first rule broken).
pub fn check_password(p: &str) -> Result<(), ApiError> {
    let rules = &PASSWORD_POLICY;
    let n = p.chars().count();
    let problem = if n < rules.min_length {
        format!(
            "Password must be at least {} characters long",
            rules.min_length
        )
    } else if n > rules.max_length {
        format!(
            "Password must be at most {} characters long",
            rules.max_length
        )
    } else if rules.require_uppercase && !p.chars().any(|c| c.is_uppercase()) {
        "Password must contain at least one uppercase letter".into()
    } else if rules.require_lowercase && !p.chars().any(|c| c.is_lowercase()) {
        "Password must contain at least one lowercase letter".into()
    } else if rules.require_digit && !p.chars().any(|c| c.is_ascii_digit()) {
        "Password must contain at least one digit".into()
    } else if rules.require_special && p.chars().all(|c| c.is_alphanumeric()) {
        "Password must contain at least one special character".into()
    } else {
        return Ok(());
    };
    Err(ApiError::bad_request(problem))
}

/// `GET /auth/password-requirements` (public).
pub async fn password_requirements() -> Response {
    let rules = &PASSWORD_POLICY;
    ok(&serde_json::json!({
        "min_length": rules.min_length,
        "max_length": rules.max_length,
        "require_uppercase": rules.require_uppercase,
        "require_lowercase": rules.require_lowercase,
        "require_digit": rules.require_digit,
        "require_special": rules.require_special,
    }))
}

pub fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.chars().any(char::is_whitespace)
}

/// A new session token for `user`, recorded with where the login came from.
pub async fn issue(px: &Plexichat, user: &User, client: ClientInfo) -> Result<String, ApiError> {
    let token = tokens::new_session_token();
    let now = now_ms();
    let expires = now + px.config.session_hours as i64 * 3_600_000;
    let digest = users::token_digest(&token);
    px.core
        .store()
        .insert_token(digest.clone(), user.id.clone(), Some(expires))
        .await
        .map_err(|e| ApiError::core(e.into(), "User"))?;
    let id = token.split('.').next().unwrap_or_default();
    px.db
        .insert_session(
            &digest,
            id,
            &user.id.0,
            client.ip_address,
            client.user_agent,
            now,
        )
        .await?;
    Ok(token)
}

/// `UserResponse` of `user`.
pub async fn user_response(
    px: &Plexichat,
    user: &User,
) -> Result<chorus_protocol::plexichat_rest::User, ApiError> {
    let (email, age) = px.db.account(&user.id.0).await?.unwrap_or((None, false));
    let mut u = wire::user(user, email, age);
    u.totp_enabled = px.db.two_factor(&user.id.0).await?.enabled;
    Ok(u)
}

pub async fn logged_in(px: &Plexichat, user: &User, token: String) -> Result<Response, ApiError> {
    let u = user_response(px, user).await?;
    Ok(ok(&LoginResponse {
        status: LoginResponseStatus::Success,
        token: Some(token),
        user: Some(wire::login_user(u)),
        challenge_token: Some(None),
        methods: Some(None),
        expires_in: Some(None),
    }))
}

pub async fn register(
    State(st): State<AppState>,
    client: ClientInfo,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let req = body(&text, RegisterRequest::decode)?;
    users::validate_username(&req.username).map_err(|_| {
        ApiError::bad_request(
            "Invalid username: only letters, digits, '_', '.' and '-' are allowed",
        )
    })?;
    if !valid_email(&req.email) {
        return Err(ApiError::bad_request(
            "Invalid email: value is not a valid email address",
        ));
    }
    check_password(&req.password)?;
    let conflict = || ApiError::new(StatusCode::CONFLICT, "Username or email already exists");
    if px.db.user_by_email(&req.email).await?.is_some() {
        return Err(conflict());
    }
    let user = match px
        .core
        .create_account(&req.username, &req.password, None)
        .await
    {
        Ok(u) => u,
        Err(CoreError::Conflict(_)) => return Err(conflict()),
        Err(e) => return Err(ApiError::core(e, "User")),
    };
    if let Err(e) = px
        .db
        .insert_account(
            &user.id.0,
            &req.email,
            req.age_verified.unwrap_or(false),
            now_ms(),
        )
        .await
    {
        if matches!(e, crate::store::StoreError::Conflict(_)) {
            return Err(conflict());
        }
        return Err(e.into());
    }
    let token = issue(px, &user, client)
        .await
        .map_err(|_| ApiError::unauthorized("Auto-login failed after registration"))?;
    logged_in(px, &user, token).await
}

pub async fn login(
    State(st): State<AppState>,
    client: ClientInfo,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let req = body(&text, LoginRequest::decode)?;
    let username = if req.username.contains('@') {
        let Some(id) = px.db.user_by_email(&req.username).await? else {
            return Err(ApiError::unauthorized("Invalid credentials"));
        };
        match px.core.store().user(id.into()).await {
            Ok(Some(u)) => u.username,
            _ => return Err(ApiError::unauthorized("Invalid credentials")),
        }
    } else {
        req.username.clone()
    };
    let key = username.to_lowercase();
    if px.lockout.locked(&key) {
        return Err(ApiError::forbidden("Account locked"));
    }
    match px.core.login(&username, &req.password).await {
        Ok(user) => {
            px.lockout.clear(&key);
            if let Some(challenge) = super::twofa::challenge(px, &user).await? {
                return Ok(challenge);
            }
            let token = issue(px, &user, client).await?;
            logged_in(px, &user, token).await
        }
        Err(CoreError::Unauthorized) => {
            if px.lockout.fail(&key)
                && let Ok(Some(u)) = px.core.store().user_by_username(username).await
            {
                super::me::dispatch_to(
                    px,
                    &u.id,
                    "SECURITY_ALERT",
                    &serde_json::json!({
                        "user_id": crate::dialects::plexichat::ids::wire(&u.id.0),
                        "action": "account_locked",
                        "detail": {},
                    }),
                );
            }
            Err(ApiError::unauthorized("Invalid credentials"))
        }
        Err(e) => Err(ApiError::core(e, "User")),
    }
}

pub async fn logout(State(st): State<AppState>, auth: Authed) -> Result<Response, ApiError> {
    if !auth.token.starts_with("bot.") {
        px(&st)
            .db
            .delete_token(&users::token_digest(&auth.token))
            .await?;
    }
    Ok(success())
}

pub async fn refresh(State(st): State<AppState>, auth: Authed) -> Result<Response, ApiError> {
    logged_in(px(&st), &auth.user, auth.token).await
}
