//! Users, accounts (argon2 password hashes) and session tokens.

use super::ids::UserId;
use crate::core::CoreError;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use sha2::{Digest, Sha256};

/// How a user is identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserKind {
    /// A local account with a password (OriginChats "cracked", Plexichat, messaging).
    Local,
    /// Identified by client IP address only (the reaction chat).
    Ip,
    /// An identity vouched for by an external validator (Rotur).
    External,
    /// A bot or webhook.
    Bot,
    /// The server itself ("originChats" system messages).
    System,
}

impl UserKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UserKind::Local => "local",
            UserKind::Ip => "ip",
            UserKind::External => "external",
            UserKind::Bot => "bot",
            UserKind::System => "system",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "local" => UserKind::Local,
            "ip" => UserKind::Ip,
            "external" => UserKind::External,
            "bot" => UserKind::Bot,
            _ => UserKind::System,
        }
    }
}

/// Presence status, shared by every dialect (OriginChats adds `invisible`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Online,
    Idle,
    Dnd,
    Invisible,
    Offline,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Online => "online",
            Status::Idle => "idle",
            Status::Dnd => "dnd",
            Status::Invisible => "invisible",
            Status::Offline => "offline",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    /// Unique (case-insensitive) handle. For IP users, the address itself.
    pub username: String,
    pub display_name: Option<String>,
    pub kind: UserKind,
    pub avatar_url: Option<String>,
    pub created_at: i64,
}

impl User {
    /// The id of the IP-identified user for `ip`.
    pub fn ip_user_id(ip: &str) -> UserId {
        UserId(format!("ip:{ip}"))
    }
}

/// Valid local usernames: 1-32 of `[A-Za-z0-9_.-]`, not an IP address (those name IP users).
pub fn validate_username(name: &str) -> Result<(), CoreError> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if name.is_empty() || name.len() > 32 || !ok_chars {
        return Err(CoreError::Invalid(
            "username must be 1-32 characters of A-Z, a-z, 0-9, '_', '.', '-'".into(),
        ));
    }
    if name.parse::<std::net::IpAddr>().is_ok() {
        return Err(CoreError::Invalid(
            "username cannot be an IP address".into(),
        ));
    }
    Ok(())
}

/// An argon2id PHC string for `password`.
pub fn hash_password(password: &str) -> Result<String, CoreError> {
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| CoreError::Internal(format!("password hashing failed: {e}")))
}

/// Hashes at a time: one per core. argon2id is CPU-bound, so more at once only adds memory
/// (19 MiB each) and latency; a burst of logins queues here instead of growing the blocking pool.
fn hashing_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        tokio::sync::Semaphore::new(cores)
    })
}

/// `hash_password` on the blocking pool: argon2id takes tens of milliseconds of CPU and
/// 19 MiB, which must not stall the connections sharing an async worker.
pub async fn hash_password_blocking(password: &str) -> Result<String, CoreError> {
    let password = password.to_owned();
    let _permit = hashing_permits().acquire().await;
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| CoreError::Internal(format!("password hashing failed: {e}")))?
}

/// `verify_password` on the blocking pool (see `hash_password_blocking`).
pub async fn verify_password_blocking(password: &str, phc: &str) -> bool {
    let (password, phc) = (password.to_owned(), phc.to_owned());
    let _permit = hashing_permits().acquire().await;
    tokio::task::spawn_blocking(move || verify_password(&password, &phc))
        .await
        .unwrap_or(false)
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A new random session token (two UUIDv4 = 244 random bits, hex).
pub fn new_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Tokens are stored only as their SHA-256 (they are random, so a fast hash suffices).
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
