//! Authentication (§1.4–1.6): Rotur validators, local `register` / `login`, then
//! `auth_success`, `ready`, `user_join` (new users) and `user_connect` (first connection).

use super::OriginChats;
use super::frames::{auth_error, encode};
use super::session::Cx;
use crate::core::CoreError;
use crate::core::events::Topic;
use crate::core::ids::{UserId, now_ms};
use crate::core::users::{User, UserKind};
use serde_json::{Value, json};

pub const AUTH_REQUIRED: &str = "Authentication required";
pub const INVALID_AUTH: &str = "Invalid authentication";
pub const ROTUR_DISABLED: &str =
    "Rotur authentication is disabled. Use login or register commands.";
/// Chorus: the reference sends nothing when Rotur cannot be reached.
pub const ROTUR_UNREACHABLE: &str = "Authentication service unavailable";
pub const BANNED: &str = "Access denied: You are banned from this server";

/// What the Rotur `/validate` endpoint vouched for.
pub(crate) struct RoturIdentity {
    pub(crate) id: String,
    pub(crate) username: String,
}

pub(crate) enum RoturError {
    Invalid,
    Unreachable,
}

impl OriginChats {
    pub(crate) async fn rotur_validate(
        &self,
        key: &str,
        validator: &str,
    ) -> Result<RoturIdentity, RoturError> {
        let url = format!("{}/validate", self.cfg.rotur_url.trim_end_matches('/'));
        let resp = self
            .rotur
            .get(&url)
            .query(&[("key", key), ("v", validator)])
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "originchats: Rotur is unreachable");
                RoturError::Unreachable
            })?;
        if resp.status() != reqwest::StatusCode::OK {
            return Err(RoturError::Invalid);
        }
        let body = resp.bytes().await.map_err(|_| RoturError::Unreachable)?;
        let v: Value = serde_json::from_slice(&body).map_err(|_| RoturError::Invalid)?;
        if v.get("valid") != Some(&Value::Bool(true)) {
            return Err(RoturError::Invalid);
        }
        let text = |k: &str| match v.get(k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        match (text("id"), text("username")) {
            (Some(id), Some(username)) => Ok(RoturIdentity { id, username }),
            _ => Err(RoturError::Invalid),
        }
    }

    /// `auth {validator}` (§1.4).
    pub async fn rotur_auth(&self, cx: &mut Cx, validator: Option<String>) {
        if self.cfg.auth_mode == "cracked-only" {
            cx.send(&auth_error(ROTUR_DISABLED));
            return;
        }
        let Some(validator) = validator.filter(|v| !v.is_empty()) else {
            cx.send(&auth_error(INVALID_AUTH));
            return;
        };
        let ident = match self.rotur_validate(&cx.validator_key, &validator).await {
            Ok(i) => i,
            Err(RoturError::Invalid) => {
                cx.send(&auth_error(INVALID_AUTH));
                return;
            }
            Err(RoturError::Unreachable) => {
                cx.send(&auth_error(ROTUR_UNREACHABLE));
                return;
            }
        };
        let id = UserId(format!("rotur:{}", ident.id));
        let store = self.core.store();
        let (user, is_new) = match store.user(id.clone()).await {
            // A user who left (user_leave) comes back as a new user.
            Ok(Some(u)) => {
                let member = store.member(self.space.clone(), u.id.clone()).await;
                let banned = self.core.ban_of(&self.space, &u.id).await;
                let left = matches!((member, banned), (Ok(None), Ok(None)));
                (u, left)
            }
            Ok(None) => {
                let user = User {
                    id: id.clone(),
                    username: ident.username.clone(),
                    display_name: None,
                    kind: UserKind::External,
                    avatar_url: None,
                    created_at: now_ms(),
                };
                match store.create_user(user, None).await {
                    Ok(u) => (u, true),
                    Err(e) => {
                        tracing::warn!(error = %e, username = %ident.username,
                            "originchats: cannot create the Rotur user");
                        cx.send(&auth_error(INVALID_AUTH));
                        return;
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "originchats: user lookup failed");
                cx.send(&auth_error(INVALID_AUTH));
                return;
            }
        };
        self.complete_auth(cx, user, is_new).await;
    }

    /// `register {username, password}` (§1.5).
    pub async fn register(&self, cx: &mut Cx, username: Option<String>, password: Option<String>) {
        if !self.cfg.allow_registration {
            cx.send(&auth_error("Registration is disabled"));
            return;
        }
        let (Some(name), Some(password)) = (username, password) else {
            cx.send(&auth_error("Username and password required"));
            return;
        };
        let name = name.trim().to_lowercase();
        if name.is_empty() || password.is_empty() {
            cx.send(&auth_error("Username and password required"));
            return;
        }
        let n = name.chars().count();
        if !(2..=32).contains(&n) {
            cx.send(&auth_error("Username must be 2-32 characters"));
            return;
        }
        let p = password.chars().count();
        if !(4..=72).contains(&p) {
            cx.send(&auth_error("Password must be 4-72 characters"));
            return;
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            cx.send(&auth_error(
                "Username can only contain letters, numbers, hyphens, and underscores",
            ));
            return;
        }
        let user = match self.core.create_account(&name, &password, None).await {
            Ok(u) => u,
            Err(CoreError::Conflict(_)) => {
                cx.send(&auth_error("Username already taken"));
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, "originchats: registration failed");
                cx.send(&auth_error("User not found after registration"));
                return;
            }
        };
        self.complete_auth(cx, user, true).await;
    }

    /// `login {username, password}` (§1.5).
    pub async fn login(&self, cx: &mut Cx, username: Option<String>, password: Option<String>) {
        let (Some(name), Some(password)) = (username, password) else {
            cx.send(&auth_error("Username and password required"));
            return;
        };
        let name = name.trim().to_owned();
        if name.is_empty() || password.is_empty() {
            cx.send(&auth_error("Username and password required"));
            return;
        }
        let user = match self.core.store().user_by_username(name.clone()).await {
            Ok(Some(u)) => u,
            Ok(None) => {
                cx.send(&auth_error("User not found"));
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, "originchats: user lookup failed");
                cx.send(&auth_error("User not found"));
                return;
            }
        };
        match user.kind {
            UserKind::Local => {}
            UserKind::External => {
                cx.send(&auth_error("This account uses Rotur authentication"));
                return;
            }
            _ => {
                cx.send(&auth_error("User not found"));
                return;
            }
        }
        // An account removed by user_leave has no credentials left.
        if matches!(
            self.core.store().password_hash(user.id.clone()).await,
            Ok(None)
        ) {
            cx.send(&auth_error("User not found"));
            return;
        }
        match self.core.login(&user.username, &password).await {
            Ok(u) => self.complete_auth(cx, u, false).await,
            Err(_) => cx.send(&auth_error("Invalid password")),
        }
    }

    /// The success sequence (§1.6), all queued on this connection in order.
    async fn complete_auth(&self, cx: &mut Cx, user: User, is_new: bool) {
        if let Err(e) = self.join_space(&user.id).await {
            tracing::error!(error = %e, "originchats: cannot join the space");
            cx.send(&auth_error("User not found"));
            return;
        }
        // Banned in the space (from any dialect): refused (§1.4 step 5).
        match self.core.ban_of(&self.space, &user.id).await {
            Ok(None) => {}
            Ok(Some(_)) => {
                cx.send(&auth_error(super::auth::BANNED));
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, "originchats: ban lookup failed");
                cx.send(&auth_error("User not found"));
                return;
            }
        }
        if is_new {
            // bots/config.json: DB.users.default.roles
            self.give_default_roles(&user.id).await;
        }
        let account = match self.account(user).await {
            Ok(a) => a,
            Err(_) => {
                cx.send(&auth_error("User not found"));
                return;
            }
        };
        let (status, status_text) = self
            .core
            .chosen_status(&account.user.id)
            .await
            .unwrap_or_else(|_| ("online".into(), String::new()));
        let invisible = status == "invisible";
        self.members.set_invisible(&account.user.id, invisible);
        // `ready.validator`: a real session token, usable by every dialect.
        let token = match self.core.issue_token(&account.user.username).await {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "originchats: cannot issue a token");
                cx.send(&auth_error("User not found"));
                return;
            }
        };
        cx.send(&json!({"cmd": "auth_success", "val": "Authentication successful"}));
        let mut me = json!({
            "username": account.user.username,
            "roles": account.roles,
            "status": {"status": status, "text": status_text},
            "cracked": OriginChats::is_cracked(&account.user),
        });
        if let (Some(nick), Some(o)) = (&account.nickname, me.as_object_mut()) {
            o.insert("nickname".into(), Value::String(nick.clone()));
        }
        if let (Some(pfp), Some(o)) = (&account.user.avatar_url, me.as_object_mut()) {
            o.insert("pfp_url".into(), Value::String(pfp.clone()));
        }
        cx.send(&json!({"cmd": "ready", "user": me, "validator": token}));
        let summary = account.summary();
        let user_id = account.user.id.clone();
        cx.account = Some(account);
        cx.roles_epoch = self
            .members
            .epoch
            .load(std::sync::atomic::Ordering::Acquire);
        self.conns.set_user(cx.conn, user_id.clone());
        self.core
            .hub()
            .subscribe(Topic::User(user_id.clone()), cx.conn, cx.subscriber());
        self.refresh_rooms(cx).await;
        if is_new {
            self.conns
                .send_all(&encode(&json!({"cmd": "user_join", "user": summary})), None);
        }
        // bots: plugins hear of every authentication and of first connections.
        let who = crate::core::messages::UserRef {
            id: user_id.clone(),
            username: summary["username"].as_str().unwrap_or_default().to_owned(),
        };
        self.bots
            .emit(super::bots::DialectEvent::UserJoin(who.clone()));
        // Invisible users are not announced (the reference announces them: a leak).
        if self.core.presence.connect(&user_id) && !invisible {
            self.conns.send_all(
                &encode(&json!({"cmd": "user_connect", "user": summary})),
                None,
            );
            self.bots.emit(super::bots::DialectEvent::UserConnect(who));
        }
    }
}
