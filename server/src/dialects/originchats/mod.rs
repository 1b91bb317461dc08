//! OriginChats (`/` on the main listener): `spec/originchats.yaml`, reference
//! `shared/protocols/originchats.md`.
//!
//! - [`session`]: one connection: the handshake, the 30 s heartbeat, pre-auth gating, decoding;
//! - [`auth`]: Rotur validators, local `register` / `login`, the `auth_success` → `ready` →
//!   `user_join` / `user_connect` sequence;
//! - [`handler`]: the generated `Handler` (one method per command);
//! - [`channels`] / [`messages`]: the channel list, view/send rules, history and chat commands;
//! - [`render`]: core events as OriginChats frames;
//! - [`conns`]: live connections for the dialect's own broadcasts;
//! - [`ratelimit`]: the reference's message rate limiter.

pub mod auth;
// bots: slash commands, polls, web push, plugins
pub mod bots;
pub mod channel_ops;
pub mod channels;
pub mod config;
pub mod config_json;
pub mod conns;
pub mod frames;
pub mod handler;
// HTTP routes, server info, unreads, pings, embeds
pub mod embeds;
pub mod http;
pub mod message_ops;
pub mod messages;
pub mod pings;
pub mod ratelimit;
pub mod render;
pub mod server_info;
pub mod session;
pub mod unreads;
// users, roles, moderation, modlog, server settings
pub mod members;
pub mod modlog;
pub mod perms;
pub mod roles;
// threads, channel structure, lookups, voice
pub mod channel_more;
pub mod lookups;
pub mod threads;
pub mod voice;
// attachments, emoji, webhooks, the HTTP routes of §1.9
pub mod attachments;
pub mod emoji;
pub mod files_http;
pub mod webhooks;

use crate::core::Core;
use crate::core::ids::{RoleId, SpaceId, UserId};
use crate::core::permissions::Role;
use crate::core::users::{User, UserKind};
use crate::core::{CoreError, CoreResult};
use config::OriginChatsConfig;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

pub use render::OriginChatsRenderer;
pub use session::ws_route;

/// The `permissions` list of the handshake (`db/permissions.py::PERMISSIONS`, in order).
pub const PERMISSION_NAMES: [&str; 20] = [
    "administrator",
    "manage_server",
    "view_audit_log",
    "manage_roles",
    "manage_channels",
    "manage_threads",
    "manage_users",
    "manage_messages",
    "read_message_history",
    "send_messages",
    "embed_links",
    "attach_files",
    "add_reactions",
    "external_emojis",
    "connect",
    "speak",
    "stream",
    "use_voice_activity",
    "mention_everyone",
    "use_slash_commands",
];

/// The OriginChats name of the space's default role (`@everyone`).
pub const USER_ROLE: &str = "user";

/// Shared state of the dialect.
pub struct OriginChats {
    pub core: Arc<Core>,
    pub cfg: OriginChatsConfig,
    pub conns: conns::Conns,
    pub limiter: ratelimit::Limiter,
    pub rotur: reqwest::Client,
    pub space: SpaceId,
    pub heartbeat: Duration,
    /// Slash commands, plugins, Web Push.
    pub bots: bots::Bots,
    /// Roles cache epoch, server settings, the core-event watcher.
    pub members: members::MembersState,
}

/// A user as OriginChats shows it: role names in the member's order (`user` last, standing for
/// the space's default role) and the colour of the first role.
#[derive(Debug, Clone)]
pub struct Account {
    pub user: User,
    pub roles: Vec<String>,
    pub color: Option<String>,
    /// The member's nickname in the space (else the user's display name).
    pub nickname: Option<String>,
}

impl Account {
    /// `{"username","roles","color"}` (user_join, user_connect).
    pub fn summary(&self) -> Value {
        json!({"username": self.user.username, "roles": self.roles, "color": self.color})
    }

    pub fn has_role(&self, name: &str) -> bool {
        self.roles.iter().any(|r| r == name)
    }
}

impl OriginChats {
    pub fn new(core: Arc<Core>, cfg: OriginChatsConfig) -> anyhow::Result<Self> {
        let rotur = reqwest::Client::builder()
            .timeout(Duration::from_millis(cfg.rotur_timeout_ms))
            .connect_timeout(Duration::from_millis(cfg.rotur_timeout_ms))
            .build()?;
        Ok(Self {
            limiter: ratelimit::Limiter::new(
                cfg.rate_limit_enabled,
                cfg.messages_per_minute,
                cfg.burst_limit,
                cfg.cooldown_seconds,
            ),
            heartbeat: Duration::from_secs_f64(cfg.heartbeat_secs),
            bots: bots::Bots::new(&cfg)?,
            space: SpaceId(crate::core::ids::DEFAULT_SPACE.into()),
            core,
            cfg,
            conns: conns::Conns::default(),
            rotur,
            members: members::MembersState::default(),
        })
    }

    /// The roles of the space, by id.
    pub async fn roles(&self) -> CoreResult<Vec<Role>> {
        Ok(self.core.store().roles(self.space.clone()).await?)
    }

    /// `user` with its OriginChats roles.
    pub async fn account(&self, user: User) -> CoreResult<Account> {
        let member = self
            .core
            .store()
            .member(self.space.clone(), user.id.clone())
            .await?;
        let all = self.roles().await?;
        let (roles, color) = members::role_view(member.as_ref(), &all);
        let nickname = member
            .and_then(|m| m.nickname)
            .or_else(|| user.display_name.clone());
        Ok(Account {
            user,
            roles,
            color,
            nickname,
        })
    }

    pub async fn account_by_id(&self, id: &UserId) -> CoreResult<Account> {
        let user = self
            .core
            .store()
            .user(id.clone())
            .await?
            .ok_or(CoreError::NotFound("user"))?;
        self.account(user).await
    }

    /// Makes `user` a member of the space (idempotent).
    pub async fn join_space(&self, user: &UserId) -> CoreResult<()> {
        self.core
            .store()
            .add_member(
                self.space.clone(),
                user.clone(),
                vec![RoleId(crate::core::ids::DEFAULT_ROLE.into())],
            )
            .await?;
        Ok(())
    }

    /// The handshake (§1.2).
    pub fn handshake(&self, validator_key: &str) -> Value {
        let c = &self.cfg;
        let settings = self.server_settings();
        let mut server = json!({"name": settings.name, "owner": {"name": c.owner_name}});
        if let Some(o) = server.as_object_mut() {
            for (k, v) in [
                ("icon", files_http::asset_url("icon", &settings.icon)),
                ("banner", files_http::asset_url("banner", &settings.banner)),
                ("url", c.server_url.as_str().into()),
            ] {
                if !v.is_empty() {
                    o.insert(k.into(), Value::String(v.into_owned()));
                }
            }
        }
        let files = &self.core.files().config;
        json!({"cmd": "handshake", "val": {
            "server": server,
            "limits": {"post_content": c.post_content, "search_results": c.search_results},
            "attachments": {
                "enabled": files.enabled,
                "max_size": files.max_size,
                "allowed_types": files.allowed_types,
                "max_attachments_per_user": files.max_attachments_per_user,
                "permanent_tiers": files.permanent_tiers,
            },
            "version": "1.1.0",
            "validator_key": validator_key,
            "capabilities": capabilities(),
            "permissions": PERMISSION_NAMES,
            "auth_mode": c.auth_mode,
        }})
    }

    pub fn is_cracked(user: &User) -> bool {
        user.kind == UserKind::Local
    }
}

/// The commands clients may gate features on: every client → server tag of the spec, sorted in
/// code-point order like the reference's `sorted()`.
pub fn capabilities() -> Vec<&'static str> {
    let mut caps: Vec<&'static str> = chorus_protocol::originchats::CLIENT_TAGS.to_vec();
    caps.sort_unstable();
    caps
}

/// A fresh `originChats-<32 URL-safe base64 characters>` key (24 random bytes).
pub fn validator_key() -> String {
    use base64::Engine as _;
    let mut bytes = Vec::with_capacity(32);
    for _ in 0..2 {
        let u = uuid::Uuid::new_v4();
        let b = u.as_bytes();
        // Skip the version and variant bytes of the v4 UUID: the rest is random.
        bytes.extend_from_slice(&b[..6]);
        bytes.extend_from_slice(&b[9..]);
    }
    bytes.truncate(24);
    format!(
        "originChats-{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validator_keys_have_the_reference_shape() {
        let k = validator_key();
        let rest = k.strip_prefix("originChats-").unwrap();
        assert_eq!(rest.len(), 32);
        assert!(
            rest.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(k, validator_key());
    }

    #[test]
    fn capabilities_are_sorted_and_cover_the_client_gates() {
        let caps = capabilities();
        assert!(caps.windows(2).all(|w| w[0] < w[1]));
        for gate in [
            "messages_around",
            "status_set",
            "users_online",
            "message_react_add",
        ] {
            assert!(caps.contains(&gate));
        }
    }
}
