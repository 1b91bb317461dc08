//! The `[originchats]` configuration section.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OriginChatsConfig {
    /// `rotur`, `cracked` or `cracked-only`.
    pub auth_mode: String,
    /// Base URL of the Rotur API.
    pub rotur_url: String,
    pub rotur_timeout_ms: u64,
    pub allow_registration: bool,
    /// Seconds between heartbeat `ping` frames.
    pub heartbeat_secs: f64,
    pub server_name: String,
    pub owner_name: String,
    pub server_icon: String,
    pub server_banner: String,
    pub server_url: String,
    pub post_content: usize,
    pub search_results: usize,
    pub rate_limit_enabled: bool,
    pub messages_per_minute: usize,
    pub burst_limit: usize,
    pub cooldown_seconds: u64,
    /// Built-in plugins to load (`welcome`, `automod`, `eventlog`).
    pub plugins: Vec<String>,
    /// Where `<plugin>_config.json` files live (empty: `<data_dir>/plugins`).
    pub plugins_dir: String,
    /// VAPID `sub` claim of pushes (empty: the stored one, `mailto:` at first start).
    pub push_subject: String,
    /// An OriginChats `config.json` to read (empty: none).
    pub config_json: String,
    /// Roles of new users (`DB.users.default.roles`); `user` is the space's default role.
    pub default_roles: Vec<String>,
}

impl Default for OriginChatsConfig {
    fn default() -> Self {
        Self {
            auth_mode: "rotur".into(),
            rotur_url: "https://api.rotur.dev".into(),
            rotur_timeout_ms: 5000,
            allow_registration: true,
            heartbeat_secs: 30.0,
            server_name: "My OriginChats Server".into(),
            owner_name: "Admin".into(),
            server_icon: String::new(),
            server_banner: String::new(),
            server_url: String::new(),
            post_content: 2000,
            search_results: 30,
            rate_limit_enabled: true,
            messages_per_minute: 60,
            burst_limit: 10,
            cooldown_seconds: 30,
            plugins: Vec::new(),
            plugins_dir: String::new(),
            push_subject: String::new(),
            config_json: String::new(),
            default_roles: vec!["user".into()],
        }
    }
}

impl OriginChatsConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !matches!(
            self.auth_mode.as_str(),
            "rotur" | "cracked" | "cracked-only"
        ) {
            return Err(
                "originchats.auth_mode must be \"rotur\", \"cracked\" or \"cracked-only\"".into(),
            );
        }
        if !(self.heartbeat_secs > 0.0 && self.heartbeat_secs.is_finite()) {
            return Err("originchats.heartbeat_secs must be positive".into());
        }
        Ok(())
    }

    /// Local `login` / `register` accepted.
    pub fn cracked(&self) -> bool {
        matches!(self.auth_mode.as_str(), "cracked" | "cracked-only")
    }
}
