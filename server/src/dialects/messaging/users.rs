//! The protocol's integer user ids, the `User` shape, and `?token=` authentication.
//!
//! - A JWT (HS256, `messaging.jwt_secret`) with `user_id` N is the Chorus user `jwt:N`, an
//!   external user created on first use (username: the token's `username` claim when it is
//!   free and valid, else `user<N>`). Its protocol id is N.
//! - Every other user (Chorus accounts, users of other dialects) gets a protocol id from 2^31
//!   upwards the first time the messaging dialect shows them; the mapping is stored
//!   (`messaging_users`) so it never changes.

use super::errors::{Fail, Res};
use crate::core::Core;
use crate::core::ids::{UserId, now_ms};
use crate::core::users::{self, User, UserKind};
use crate::store::sqlite::SqliteStore;
use chorus_protocol::messaging as proto;
use sqlx::Row;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

/// First protocol id given to users that do not come from a JWT.
pub const LOCAL_BASE: i64 = 1 << 31;

/// UserId ↔ protocol id, all of it in memory (loaded at start, extended as users appear).
pub struct Numbers {
    by_user: RwLock<HashMap<UserId, i64>>,
    by_num: RwLock<HashMap<i64, UserId>>,
    next: AtomicI64,
    store: OnceLock<Arc<SqliteStore>>,
}

impl Default for Numbers {
    fn default() -> Self {
        Self {
            by_user: RwLock::default(),
            by_num: RwLock::default(),
            next: AtomicI64::new(LOCAL_BASE),
            store: OnceLock::new(),
        }
    }
}

impl Numbers {
    pub async fn load(&self, store: Arc<SqliteStore>) -> Res<()> {
        let rows = sqlx::query("SELECT num, user_id FROM messaging_users")
            .fetch_all(store.read_pool())
            .await?;
        let mut next = LOCAL_BASE;
        {
            let mut bu = self.by_user.write().unwrap_or_else(|e| e.into_inner());
            let mut bn = self.by_num.write().unwrap_or_else(|e| e.into_inner());
            for r in rows {
                let num: i64 = r.try_get(0)?;
                let uid = UserId(r.try_get(1)?);
                if num >= next {
                    next = num + 1;
                }
                bu.insert(uid.clone(), num);
                bn.insert(num, uid);
            }
        }
        self.next.fetch_max(next, Ordering::AcqRel);
        let _ = self.store.set(store);
        Ok(())
    }

    /// The user with protocol id `num`, if any was ever shown.
    pub fn user(&self, num: i64) -> Option<UserId> {
        self.by_num
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&num)
            .cloned()
    }

    /// The protocol id of `user`, assigned (and stored in the background) on first sight.
    pub fn num(&self, user: &UserId) -> i64 {
        let (num, new) = self.assign(user);
        if new && let Some(store) = self.store.get() {
            let store = store.clone();
            let uid = user.0.clone();
            if let Ok(h) = tokio::runtime::Handle::try_current() {
                h.spawn(async move {
                    if let Err(e) = persist(&store, num, uid).await {
                        tracing::warn!(error = ?e, "messaging: cannot store a user number");
                    }
                });
            }
        }
        num
    }

    /// Like `num`, but a new number is stored before this returns.
    pub async fn ensure(&self, user: &UserId) -> Res<i64> {
        let (num, new) = self.assign(user);
        if new && let Some(store) = self.store.get() {
            persist(store, num, user.0.clone()).await?;
        }
        Ok(num)
    }

    /// The number of `user`, and whether it was just assigned.
    fn assign(&self, user: &UserId) -> (i64, bool) {
        if let Some(n) = self
            .by_user
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(user)
        {
            return (*n, false);
        }
        let mut bu = self.by_user.write().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = bu.get(user) {
            return (*n, false);
        }
        let num = match user.0.strip_prefix("jwt:").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => self.next.fetch_add(1, Ordering::AcqRel),
        };
        bu.insert(user.clone(), num);
        self.by_num
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(num, user.clone());
        (num, true)
    }
}

async fn persist(store: &SqliteStore, num: i64, uid: String) -> Res<()> {
    super::db::exec(
        store,
        vec![super::db::stmt(
            "INSERT OR IGNORE INTO messaging_users (num, user_id) VALUES (?, ?)",
            vec![super::db::B::I(num), super::db::B::T(uid)],
        )],
    )
    .await
}

/// The protocol's `User`.
pub fn user_json(
    numbers: &Numbers,
    id: &UserId,
    username: &str,
    display: Option<&str>,
) -> proto::User {
    proto::User {
        id: numbers.num(id),
        username: username.to_owned(),
        email: String::new(),
        first_name: display.unwrap_or_default().to_owned(),
        last_name: String::new(),
    }
}

#[derive(serde::Deserialize)]
struct Claims {
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

/// Resolves `?token=`: a Chorus session token, else a JWT when a secret is configured.
pub async fn authenticate(
    core: &Core,
    numbers: &Numbers,
    jwt: Option<&(jsonwebtoken::DecodingKey, String)>,
    token: &str,
) -> Option<User> {
    if token.is_empty() {
        return None;
    }
    if let Ok(u) = core.authenticate(token).await {
        return Some(u);
    }
    let (key, claim) = jwt?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_aud = false;
    let data = jsonwebtoken::decode::<Claims>(token, key, &validation).ok()?;
    if data
        .claims
        .rest
        .get("token_type")
        .and_then(|t| t.as_str())
        .is_some_and(|t| t != "access")
    {
        return None;
    }
    let num = match data.claims.rest.get(claim.as_str())? {
        serde_json::Value::Number(n) => n.as_i64()?,
        serde_json::Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    if !(1..LOCAL_BASE).contains(&num) {
        return None;
    }
    let wanted = data
        .claims
        .rest
        .get("username")
        .and_then(|u| u.as_str())
        .map(str::to_owned);
    jwt_user(core, numbers, num, wanted).await.ok()
}

async fn jwt_user(core: &Core, numbers: &Numbers, num: i64, wanted: Option<String>) -> Res<User> {
    let id = UserId(format!("jwt:{num}"));
    if let Some(u) = core.store().user(id.clone()).await? {
        numbers.num(&u.id);
        return Ok(u);
    }
    let mut names = Vec::new();
    if let Some(w) = wanted.filter(|w| users::validate_username(w).is_ok()) {
        names.push(w);
    }
    names.push(format!("user{num}"));
    names.push(format!("jwt-user-{num}"));
    for name in names {
        if core.store().user_by_username(name.clone()).await?.is_some() {
            continue;
        }
        let user = User {
            id: id.clone(),
            username: name,
            display_name: None,
            kind: UserKind::External,
            avatar_url: None,
            created_at: now_ms(),
        };
        match core.store().create_user(user, None).await {
            Ok(u) => {
                numbers.num(&u.id);
                return Ok(u);
            }
            Err(_) => {
                // Lost a race: maybe the same JWT user was created meanwhile.
                if let Some(u) = core.store().user(id.clone()).await? {
                    return Ok(u);
                }
            }
        }
    }
    Err(Fail::Internal(format!(
        "no free username for JWT user {num}"
    )))
}
