//! Configuration: built-in defaults, an optional TOML file, then environment overrides.
//!
//! Every key can be overridden by an environment variable `CHORUS__<SECTION>__<KEY>` (double
//! underscores separate the path, case-insensitive), e.g. `CHORUS__SERVER__LISTEN=0.0.0.0:8080`
//! or `CHORUS__REACTIONS__RATE_LIMIT_MESSAGES=100`. The value is read as a TOML value when it
//! parses as one (numbers, booleans, arrays like `["10.0.0.1"]`), else as a string.

use crate::store::sqlite::Durability;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub websocket: WebSocketConfig,
    pub reactions: ReactionsConfig,
    // originchats
    pub originchats: crate::dialects::originchats::config::OriginChatsConfig,
    pub log: LogConfig,
    // messaging dialect
    pub messaging: MessagingConfig,
    // Plexichat
    pub plexichat: PlexichatConfig,
    // attachments, custom emoji
    pub files: crate::core::attachments::FilesConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// The main listener: every dialect, chosen by path.
    pub listen: SocketAddr,
    /// Extra listeners, each serving one dialect on every path.
    pub extra_listeners: Vec<ExtraListener>,
    /// Peers (IPs or CIDRs) whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<String>,
    /// Most simultaneous connections; 0 = derived from the open-file limit.
    pub max_connections: usize,
    /// Open files kept back from connections (database, listeners, logs, runtime) when
    /// deriving `max_connections`.
    pub fd_reserve: usize,
    /// How long shutdown waits for connections to finish and close.
    pub shutdown_grace_secs: u64,
    /// TLS: PEM certificate chain and private key; both set = every listener
    /// speaks TLS (`wss://`, `https://`).
    pub tls_cert: String,
    pub tls_key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraListener {
    pub listen: SocketAddr,
    /// `reactions`, `messaging` (OriginChats and Plexichat come with their dialects).
    pub protocol: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    pub data_dir: PathBuf,
    /// `full`: fsync every commit (nothing acknowledged is ever lost). `normal`: survives a
    /// crash of the process, not of the machine.
    pub durability: Durability,
    /// Most writes grouped into one transaction.
    pub group_commit_max: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSocketConfig {
    /// Frames queued per connection before it counts as a slow consumer and is closed.
    pub outbound_queue: usize,
    pub read_buffer: usize,
    pub write_buffer: usize,
    pub max_message_size: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReactionsConfig {
    /// The room of the default space that the reaction chat shows.
    pub room: String,
    pub rate_limit_messages: usize,
    pub rate_limit_window_secs: u64,
}

// ---- messaging dialect (django-realtime-chat-messaging, `/messaging/`)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MessagingConfig {
    /// `MESSAGE_SOFT_DELETE`: true keeps deleted messages (flagged), false deletes them.
    pub message_soft_delete: bool,
    /// `ENABLE_NOTIFICATION`: create notifications and send `chat.notifications` on connect.
    pub enable_notification: bool,
    /// `INACTIVITY_THRESHOLD`, in seconds: a connection without `session.heartbeat` for this
    /// long is expired (left out of rooms joined later, dropped at the user's next connect).
    pub inactivity_threshold: f64,
    /// HS256 secret of the JWT access tokens accepted in `?token=` (simplejwt's SIGNING_KEY,
    /// by default Django's SECRET_KEY); empty = only Chorus session tokens.
    pub jwt_secret: String,
    /// The claim holding the user id (simplejwt's USER_ID_CLAIM).
    pub jwt_user_id_claim: String,
}

impl Default for MessagingConfig {
    fn default() -> Self {
        Self {
            message_soft_delete: false,
            enable_notification: true,
            inactivity_threshold: 60.0,
            jwt_secret: String::new(),
            jwt_user_id_claim: "user_id".into(),
        }
    }
}
// ---- end messaging dialect

// ---- Plexichat ----
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlexichatConfig {
    /// The version this server reports (`<stage>.<major>.<minor>-<build>`).
    pub server_version: String,
    /// Clients older than this get 426 from `/version/negotiate`; empty: every client is fine.
    pub min_supported_version: String,
    /// Where `/version/negotiate` tells outdated clients to update; empty: null.
    pub update_url: String,
    /// HELLO's heartbeat interval; a connection without a heartbeat for twice this is closed 4009.
    pub heartbeat_interval_ms: u64,
    /// How long a dropped gateway session stays resumable.
    pub resume_window_secs: u64,
    /// Dispatches kept per gateway session for RESUME.
    pub replay_buffer: usize,
    /// Session lifetime (hours).
    pub session_hours: u64,
    /// Per-route rate limits and their `X-RateLimit-*` headers.
    pub rate_limits: bool,
    /// Require `X-API-Access-Token` (one of `access_tokens`) on non-public `/api/v1` routes.
    pub access_token_required: bool,
    pub access_tokens: Vec<String>,
    /// Key of the signed media URLs (`media.signing_key`); empty: a random key per start.
    pub media_signing_key: String,
    /// Most dispatches a gateway connection receives per minute (the reference's 120); the
    /// rest are dropped without a sequence number. 0: no limit.
    pub gateway_events_per_minute: u32,
    /// STUN/TURN servers `/voice/ice-servers` hands to clients (none by default: no third-party
    /// server is contacted unless configured).
    pub ice_servers: Vec<IceServer>,
}

/// One WebRTC ICE server entry, as clients pass it to `RTCPeerConnection`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

impl Default for PlexichatConfig {
    fn default() -> Self {
        Self {
            server_version: "a.1.0-131".into(),
            min_supported_version: String::new(),
            update_url: String::new(),
            heartbeat_interval_ms: 45_000,
            resume_window_secs: 60,
            replay_buffer: 100,
            session_hours: 168,
            rate_limits: true,
            access_token_required: false,
            access_tokens: Vec::new(),
            media_signing_key: String::new(),
            gateway_events_per_minute: 120,
            ice_servers: Vec::new(),
        }
    }
}
// ---- end Plexichat ----

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A tracing filter (`info`, `chorus_server=debug,info`); `RUST_LOG` wins when set.
    pub level: String,
    /// `text` or `json`.
    pub format: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: ([127, 0, 0, 1], 8080).into(),
            extra_listeners: Vec::new(),
            trusted_proxies: Vec::new(),
            max_connections: 0,
            fd_reserve: 64,
            shutdown_grace_secs: 10,
            tls_cert: String::new(),
            tls_key: String::new(),
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            durability: Durability::Full,
            group_commit_max: 1024,
        }
    }
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        Self {
            outbound_queue: 2048,
            read_buffer: 4096,
            write_buffer: 4096,
            max_message_size: 64 * 1024,
        }
    }
}

impl Default for ReactionsConfig {
    fn default() -> Self {
        Self {
            room: "general".into(),
            rate_limit_messages: 60,
            rate_limit_window_secs: 60,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: "text".into(),
        }
    }
}

/// What `chorus init` writes: every key, its default, and what it does.
pub const DEFAULT_TOML: &str = r#"# Chorus configuration.
# Every key may be overridden by an environment variable CHORUS__<SECTION>__<KEY>,
# e.g. CHORUS__SERVER__LISTEN=0.0.0.0:8080 or CHORUS__STORAGE__DATA_DIR=/var/lib/chorus.

[server]
# The main listener. WebSockets are upgraded by path: /ws = reaction chat.
listen = "127.0.0.1:8080"
# Peers (IP addresses or CIDRs) whose X-Forwarded-For header is believed; the client address
# is the right-most X-Forwarded-For entry that is not itself a trusted proxy.
trusted_proxies = []
# Most simultaneous connections; 0 derives it from the open-file limit (minus a reserve).
# Connections over the limit get "503 Service Unavailable" and are closed.
max_connections = 0
# Open files kept back for the database, listeners and logs when deriving max_connections.
fd_reserve = 64
# On SIGINT/SIGTERM: stop accepting, finish in-flight writes, close sockets with 1001, and
# wait at most this long for them before exiting.
shutdown_grace_secs = 10
# TLS for every listener (wss:// and https://): a PEM certificate chain and its PEM private
# key (PKCS#8, PKCS#1 or SEC1). Both empty: plain TCP. The official OriginChats client only
# connects with wss://.
tls_cert = ""
tls_key = ""
# Extra listeners that serve one dialect on every path, e.g.:
# [[server.extra_listeners]]
# listen = "127.0.0.1:5613"
# protocol = "reactions"   # or "messaging"

[storage]
# The SQLite database lives in <data_dir>/chorus.db (WAL mode).
data_dir = "./data"
# "full": every commit is fsynced before any client sees it (nothing acknowledged is lost,
#         even on power loss). "normal": survives a crash of chorus, not of the machine.
durability = "full"
# Concurrent writes are grouped into one transaction (one fsync); at most this many.
group_commit_max = 1024

[websocket]
# Frames queued for one connection; a client that lets more pile up is closed (1008).
# Keep it above storage.group_commit_max: one commit can publish that many events at once.
outbound_queue = 2048
# Per-connection socket buffers, in bytes (small keeps idle connections cheap).
read_buffer = 4096
write_buffer = 4096
# Largest accepted client message, in bytes.
max_message_size = 65536

[reactions]
# The room of the default space that the reaction chat (/ws) shows.
room = "general"
# Messages per user (client IP) per window.
rate_limit_messages = 60
rate_limit_window_secs = 60

[originchats]
# OriginChats (WebSocket at / on the main listener).
# "rotur" (Rotur validators only), "cracked" (Rotur and local accounts) or "cracked-only".
auth_mode = "rotur"
# Base URL of the Rotur API (GET <rotur_url>/validate?key=&v=) and its timeout.
rotur_url = "https://api.rotur.dev"
rotur_timeout_ms = 5000
# Whether `register` may create local accounts (cracked modes).
allow_registration = true
# Seconds between the server's {"cmd":"ping"} frames.
heartbeat_secs = 30.0
# The handshake's `server` block.
server_name = "My OriginChats Server"
owner_name = "Admin"
server_icon = ""
server_banner = ""
server_url = ""
# The handshake's `limits` block.
post_content = 2000
search_results = 30
# Rate limiting of message_new, typing and message_edit (per user, all connections).
rate_limit_enabled = true
messages_per_minute = 60
burst_limit = 10
cooldown_seconds = 30
# Built-in plugins to load ("welcome", "automod"); each reads <plugins_dir>/<name>_config.json.
plugins = []
# Empty: <data_dir>/plugins.
plugins_dir = ""
# The VAPID `sub` claim of Web Push requests (empty: the stored one, "mailto:" at first start).
push_subject = ""
# An OriginChats config.json to read over this file (empty: none); see README.
config_json = ""
# Roles of new users (the reference's DB.users.default.roles); "user" is the default role.
default_roles = ["user"]

[messaging]
# django-realtime-chat-messaging at /messaging/?token=<Chorus session token or JWT>.
# MESSAGE_SOFT_DELETE: keep deleted messages flagged instead of deleting them.
message_soft_delete = false
# ENABLE_NOTIFICATION: store notifications and push them (chat.notifications) on connect.
enable_notification = true
# INACTIVITY_THRESHOLD in seconds: a connection that sent no session.heartbeat for this long
# is left out of rooms joined afterwards and dropped from all rooms at the user's next connect.
inactivity_threshold = 60.0
# HS256 secret of simplejwt access tokens accepted as ?token= (empty: session tokens only).
jwt_secret = ""
# The JWT claim holding the user id (simplejwt USER_ID_CLAIM).
jwt_user_id_claim = "user_id"

[plexichat]
# Plexichat REST (/api/v1) and gateway (/gateway).
# The version reported by /api/v1/version.
server_version = "a.1.0-131"
# Clients older than this get 426 from /version/negotiate; "" accepts every client version.
min_supported_version = ""
# The update_url of version answers; "" sends null.
update_url = ""
# HELLO heartbeat interval; no heartbeat for twice this closes the gateway with 4009.
heartbeat_interval_ms = 45000
# A dropped gateway session can RESUME for this long; it keeps this many dispatches to replay.
resume_window_secs = 60
replay_buffer = 100
# Session token lifetime, in hours.
session_hours = 168
# Per-route rate limits with X-RateLimit-* headers (429 when exceeded).
rate_limits = true
# Require X-API-Access-Token (one of access_tokens) on non-public /api/v1 routes.
access_token_required = false
access_tokens = []
# Most dispatches one gateway connection gets per minute (the rest are dropped); 0: no limit.
gateway_events_per_minute = 120
# STUN/TURN servers GET /api/v1/voice/ice-servers lists, e.g.
# [{ urls = ["stun:stun.example.org:3478"] },
#  { urls = ["turn:turn.example.org:3478"], username = "chorus", credential = "secret" }]
ice_servers = []

# Key of signed attachment URLs (/api/v1/media/attachments/...?fid=&exp=&sig=); "" picks a
# random key at every start (URLs handed out before a restart stop working).
media_signing_key = ""

[files]
# Attachments (OriginChats POST /attachments/upload, Plexichat /channels/{id}/attachments) and
# custom emoji, stored under <data_dir>/attachments and <data_dir>/emojis.
enabled = true
# Largest upload, in bytes.
max_size = 104857600
# MIME types OriginChats uploads may have ("*", "type/*" or exact).
allowed_types = ["image/*", "video/*", "audio/*", "application/pdf"]
# -1: unlimited; 0: no uploads; n: the oldest upload is removed when the n+1-th arrives.
max_attachments_per_user = -1
# Rotur subscriptions whose uploads live permanent_expiration_days (looked up at
# <originchats.rotur_url>/profile and cached subscription_cache_ttl seconds; never in the
# cracked auth modes).
permanent_tiers = ["pro", "max"]
permanent_expiration_days = 365.0
# Other OriginChats uploads live by size (49 days at 5 MB down to 1 day at 100 MB), capped here.
free_tier_max_expiration_days = 7.0
subscription_cache_ttl = 300
# Uploads no message uses are removed after this many hours.
unreferenced_hours = 1.0
# Seconds between sweeps of expired and unreferenced attachments.
sweep_interval_secs = 60
# Image formats custom emoji may have.
emoji_allowed_file_types = ["gif", "jpg", "jpeg", "png"]

[files.compression]
# OriginChats image uploads are re-encoded without their metadata (EXIF included), turned
# upright and shrunk to fit the box; GIF and SVG are kept as uploaded, WebP unless it must shrink.
enabled = true
max_width = 1920
max_height = 1920
jpeg_quality = 85
png_compression = 6

[log]
# A tracing filter such as "info" or "chorus_server=debug,info"; RUST_LOG wins when set.
level = "info"
# "text" or "json".
format = "text"
"#;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Defaults, overlaid with `file` (if any), overlaid with `CHORUS__*` variables from `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut value = toml::Table::try_from(Config::default())
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            let file_table: toml::Table = text
                .parse()
                .map_err(|e| ConfigError::Invalid(format!("{}: {e}", path.display())))?;
            merge(&mut value, file_table);
        }
        let env: Vec<(String, String)> = env.into_iter().collect();
        apply_env(&mut value, &env)?;
        // bots: an OriginChats config.json, mapped over the file; the environment stays on top.
        if let Some(path) = value
            .get("originchats")
            .and_then(|o| o.get("config_json"))
            .and_then(|p| p.as_str())
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
        {
            crate::dialects::originchats::config_json::apply_file(&mut value, &path)
                .map_err(ConfigError::Invalid)?;
            apply_env(&mut value, &env)?;
        }
        let config: Config = value
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return Err(ConfigError::Invalid(
                "log.format must be \"text\" or \"json\"".into(),
            ));
        }
        if self.websocket.outbound_queue == 0 {
            return Err(ConfigError::Invalid(
                "websocket.outbound_queue must be at least 1".into(),
            ));
        }
        if self.reactions.rate_limit_messages == 0 {
            return Err(ConfigError::Invalid(
                "reactions.rate_limit_messages must be at least 1".into(),
            ));
        }
        // originchats
        self.originchats.validate().map_err(ConfigError::Invalid)?;
        // files
        self.files.validate().map_err(ConfigError::Invalid)?;
        if self.server.tls_cert.is_empty() != self.server.tls_key.is_empty() {
            return Err(ConfigError::Invalid(
                "server.tls_cert and server.tls_key must be set together".into(),
            ));
        }
        for p in &self.server.trusted_proxies {
            crate::net::proxy::Cidr::parse(p)
                .ok_or_else(|| ConfigError::Invalid(format!("trusted_proxies: bad entry {p:?}")))?;
        }
        for l in &self.server.extra_listeners {
            if !crate::dialects::SERVABLE.contains(&l.protocol.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "extra listener {}: unknown or not yet available protocol {:?} (available: {})",
                    l.listen,
                    l.protocol,
                    crate::dialects::SERVABLE.join(", ")
                )));
            }
        }
        Ok(())
    }

    pub fn database_path(&self) -> PathBuf {
        self.storage.data_dir.join("chorus.db")
    }
}

fn apply_env(value: &mut toml::Table, env: &[(String, String)]) -> Result<(), ConfigError> {
    for (key, raw) in env {
        let Some(rest) = key.strip_prefix("CHORUS__") else {
            continue;
        };
        let path: Vec<String> = rest.split("__").map(|s| s.to_ascii_lowercase()).collect();
        let parsed = parse_env_value(raw);
        set_path(value, &path, parsed).map_err(|e| ConfigError::Invalid(format!("{key}: {e}")))?;
    }
    Ok(())
}

fn parse_env_value(raw: &str) -> toml::Value {
    let doc = format!("v = {raw}");
    match doc.parse::<toml::Table>() {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.into())),
        Err(_) => toml::Value::String(raw.into()),
    }
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) -> Result<(), String> {
    match path {
        [] => Err("empty key".into()),
        [last] => {
            table.insert(last.clone(), value);
            Ok(())
        }
        [first, rest @ ..] => {
            let entry = table
                .entry(first.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(t) => set_path(t, rest, value),
                _ => Err(format!("{first} is not a section")),
            }
        }
    }
}

fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_toml_is_the_default() {
        let parsed: Config = toml::from_str(DEFAULT_TOML).unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn env_overrides_file() {
        let dir = std::env::temp_dir().join(format!("chorus-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.toml");
        std::fs::write(&file, "[server]\nlisten = \"127.0.0.1:9000\"\n").unwrap();
        let cfg = Config::load(
            Some(&file),
            [
                (
                    "CHORUS__STORAGE__DATA_DIR".to_string(),
                    "/tmp/x".to_string(),
                ),
                ("CHORUS__REACTIONS__RATE_LIMIT_MESSAGES".into(), "5".into()),
                (
                    "CHORUS__SERVER__TRUSTED_PROXIES".into(),
                    "[\"10.0.0.0/8\"]".into(),
                ),
                ("UNRELATED".into(), "1".into()),
            ],
        )
        .unwrap();
        assert_eq!(cfg.server.listen, "127.0.0.1:9000".parse().unwrap());
        assert_eq!(cfg.storage.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(cfg.reactions.rate_limit_messages, 5);
        assert_eq!(cfg.server.trusted_proxies, vec!["10.0.0.0/8".to_string()]);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = Config::load(
            None,
            [("CHORUS__SERVER__LISTN".to_string(), "x".to_string())],
        );
        assert!(err.is_err());
    }
}
