//! In-process plugins (§4.4). A [`Plugin`] receives the reference's plugin events
//! (`user_join`, `user_connect`, `new_message`, `message_edit`, `message_delete`,
//! `message_pin`, `message_unpin`, `channel_create`, `channel_update`, `channel_delete`,
//! `server_start`, and the role and moderation events the core's audit log announces) and acts
//! through the core. Built in, ported from the reference:
//! - `welcome`: greets users in a channel, once per user by default;
//! - `automod`: blocked words time the sender out, delete the message and post a notice;
//!   `!automod …` commands of owners and admins manage it;
//!
//! and Chorus's own `eventlog`, which reports server, role and moderation events in a channel.
//!
//! `originchats.plugins` lists the plugins to load; each reads `<name>_config.json` from
//! `originchats.plugins_dir` (the reference's file format; defaults when missing), again on
//! `plugins_reload`.

use super::super::frames::{encode, with_listener};
use super::super::messages::{fail, send};
use super::super::render::CACHE;
use super::super::session::Cx;
use super::super::{Account, OriginChats};
use super::DialectEvent;
use crate::core::audit::AuditEntry;
use crate::core::events::Event;
use crate::core::ids::{MessageId, now_ms};
use crate::core::messages::{DeleteMode, Message, NewMessage, UserRef};
use crate::net::ws::Reply;
use chorus_protocol::originchats as proto;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// A plugin event, named as the reference names them.
#[derive(Debug, Clone)]
pub enum PluginEvent {
    UserJoin(UserRef),
    UserConnect(UserRef),
    NewMessage {
        channel: String,
        message: Arc<Message>,
    },
    MessageEdit {
        channel: String,
        message: Arc<Message>,
    },
    MessageDelete {
        channel: String,
        message: Arc<Message>,
    },
    MessagePin {
        channel: String,
        message: Arc<Message>,
        pinned: bool,
    },
    ChannelCreate(String),
    ChannelUpdate(String),
    ChannelDelete(String),
    /// Once, when the plugins are loaded at start.
    ServerStart,
    /// A management or moderation action of the space (`channel_move`, `role_*`,
    /// `self_role_*`, `user_roles_set`, `user_ban`, `user_unban`, `user_timeout`,
    /// `user_leave`): who did it to whom, as the audit log has it.
    Action {
        name: &'static str,
        entry: Arc<AuditEntry>,
    },
}

/// The plugin event of a core action, named as the reference names it (None: actions the
/// reference fires no event for, or fires under another hook).
fn action_event(action: &str) -> Option<&'static str> {
    Some(match action {
        "channel_move" => "channel_move",
        "role_create" => "role_create",
        "role_delete" => "role_delete",
        "role_update" | "role_set" | "role_permissions_set" => "role_update",
        "self_role_add" => "self_role_add",
        "self_role_remove" => "self_role_remove",
        // Plexichat gives or takes one role at a time; OriginChats sets them all.
        "user_roles_set" | "member_role_add" | "member_role_remove" => "user_roles_set",
        "user_ban" => "user_ban",
        "user_unban" => "user_unban",
        "user_timeout" => "user_timeout",
        "user_leave" => "user_leave",
        _ => return None,
    })
}

impl PluginEvent {
    pub fn name(&self) -> &'static str {
        match self {
            PluginEvent::UserJoin(_) => "user_join",
            PluginEvent::UserConnect(_) => "user_connect",
            PluginEvent::NewMessage { .. } => "new_message",
            PluginEvent::MessageEdit { .. } => "message_edit",
            PluginEvent::MessageDelete { .. } => "message_delete",
            PluginEvent::MessagePin { pinned: true, .. } => "message_pin",
            PluginEvent::MessagePin { .. } => "message_unpin",
            PluginEvent::ChannelCreate(_) => "channel_create",
            PluginEvent::ChannelUpdate(_) => "channel_update",
            PluginEvent::ChannelDelete(_) => "channel_delete",
            PluginEvent::ServerStart => "server_start",
            PluginEvent::Action { name, .. } => name,
        }
    }
}

/// What a plugin is: its `getInfo()`, its configuration, and its event handler.
pub trait Plugin: Send + Sync {
    /// The module name (`plugins_list` key, `plugins_reload {plugin}`).
    fn module(&self) -> &'static str;
    /// `{"name","description","handles":[events]}`.
    fn info(&self) -> Value;
    /// Re-reads the plugin's configuration.
    fn reload(&self, dir: &std::path::Path) -> Result<(), String>;
    fn handle<'a>(
        &'a self,
        oc: &'a Arc<OriginChats>,
        ev: &'a PluginEvent,
    ) -> futures_util::future::BoxFuture<'a, ()>;
}

pub struct Plugins {
    dir: PathBuf,
    loaded: Vec<Box<dyn Plugin>>,
}

impl Plugins {
    pub fn new(cfg: &super::super::config::OriginChatsConfig) -> Self {
        let mut loaded: Vec<Box<dyn Plugin>> = Vec::new();
        for name in &cfg.plugins {
            match name.as_str() {
                "welcome" => loaded.push(Box::new(Welcome::default())),
                "eventlog" => loaded.push(Box::new(EventLog::default())),
                "automod" => loaded.push(Box::new(Automod::default())),
                other => tracing::warn!(plugin = other, "originchats: unknown plugin, not loaded"),
            }
        }
        Self {
            dir: PathBuf::from(&cfg.plugins_dir),
            loaded,
        }
    }

    pub fn active(&self) -> bool {
        !self.loaded.is_empty()
    }

    /// Reads every plugin's configuration (at start).
    pub fn load(&self) {
        for p in &self.loaded {
            if let Err(e) = p.reload(&self.dir) {
                tracing::warn!(plugin = p.module(), error = %e, "originchats: plugin configuration");
            }
        }
    }

    /// `server_start`, once the configurations are read.
    pub async fn started(&self, oc: &Arc<OriginChats>) {
        self.dispatch(oc, PluginEvent::ServerStart).await;
    }

    async fn dispatch(&self, oc: &Arc<OriginChats>, ev: PluginEvent) {
        for p in &self.loaded {
            if p.info()["handles"]
                .as_array()
                .is_some_and(|h| h.iter().any(|n| n == ev.name()))
            {
                p.handle(oc, &ev).await;
            }
        }
    }
}

impl OriginChats {
    pub(super) async fn plugins_on_dialect(self: &Arc<Self>, ev: &DialectEvent) {
        let ev = match ev {
            DialectEvent::UserJoin(u) => PluginEvent::UserJoin(u.clone()),
            DialectEvent::UserConnect(u) => PluginEvent::UserConnect(u.clone()),
        };
        self.bots.plugins.dispatch(self, ev).await;
    }

    pub(super) async fn plugins_on_core(self: &Arc<Self>, ev: &Event) {
        let channel = |m: &Message| CACHE.place(&m.room_id).map(|p| p.channel);
        let ev = match ev {
            Event::MessageCreated { message } => match channel(message) {
                Some(channel) => PluginEvent::NewMessage {
                    channel,
                    message: message.clone(),
                },
                None => return,
            },
            Event::MessageEdited { message } => match channel(message) {
                Some(channel) => PluginEvent::MessageEdit {
                    channel,
                    message: message.clone(),
                },
                None => return,
            },
            Event::MessageDeleted { message } => match channel(message) {
                Some(channel) => PluginEvent::MessageDelete {
                    channel,
                    message: message.clone(),
                },
                None => return,
            },
            Event::MessagePinned {
                message, pinned, ..
            } => match channel(message) {
                Some(channel) => PluginEvent::MessagePin {
                    channel,
                    message: message.clone(),
                    pinned: *pinned,
                },
                None => return,
            },
            Event::RoomCreated { room } if room.space_id.is_some() && !room.kind.is_private() => {
                PluginEvent::ChannelCreate(room.name.clone())
            }
            Event::RoomUpdated { room } if room.space_id.is_some() && !room.kind.is_private() => {
                PluginEvent::ChannelUpdate(room.name.clone())
            }
            Event::RoomDeleted { room } if room.space_id.is_some() && !room.kind.is_private() => {
                PluginEvent::ChannelDelete(room.name.clone())
            }
            Event::ActionTaken { entry } if entry.space_id == self.space => {
                match action_event(&entry.action) {
                    Some(name) => PluginEvent::Action {
                        name,
                        entry: entry.clone(),
                    },
                    None => return,
                }
            }
            _ => return,
        };
        self.bots.plugins.dispatch(self, ev).await;
    }

    /// Posts `content` in `channel` as `author` (a server user).
    async fn plugin_post(&self, author: Option<UserRef>, channel: &str, content: String) {
        let Some(author) = author else { return };
        let room = match self.core.room_by_name(channel).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(channel, error = %e, "originchats plugin: no such channel");
                return;
            }
        };
        let new = NewMessage {
            room_id: room.id,
            author,
            author_name: None,
            content,
            reply_to: None,
            forwarded_from: None,
            extra: None,
        };
        if let Err(e) = self.core.send_message(new).await {
            tracing::warn!(channel, error = %e, "originchats plugin: cannot post");
        }
    }

    pub async fn plugins_list(&self, cx: &mut Cx, r: proto::PluginsList) -> Reply {
        const SRC: &str = "plugins_list";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        if let Some(reply) = require_owner(cx, &account, l) {
            return reply;
        }
        let mut plugins = Map::new();
        for p in &self.bots.plugins.loaded {
            plugins.insert(p.module().into(), p.info());
        }
        send(
            cx,
            with_listener(json!({"cmd": SRC, "plugins": plugins}), l),
        )
    }

    /// The modlog's `server_management.plugins_reload`; `plugin` is null for all of them.
    async fn audit_plugins_reload(&self, account: &Account, plugin: Value) {
        use crate::core::audit::{AuditTarget, categories};
        self.core
            .audit(
                &self.space,
                Some(&account.user),
                "plugins_reload",
                categories::SERVER,
                AuditTarget::None,
                json!({"plugin": plugin}),
            )
            .await;
    }

    pub async fn plugins_reload(&self, cx: &mut Cx, r: proto::PluginsReload) -> Reply {
        const SRC: &str = "plugins_reload";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        if let Some(reply) = require_owner(cx, &account, l) {
            return reply;
        }
        let plugins = &self.bots.plugins;
        match r.plugin {
            Some(name) => {
                let Some(p) = plugins.loaded.iter().find(|p| p.module() == name) else {
                    return send(
                        cx,
                        fail(SRC, &format!("Failed to reload plugin '{name}'"), l),
                    );
                };
                match p.reload(&plugins.dir) {
                    Ok(()) => {
                        self.audit_plugins_reload(&account, json!(name)).await;
                        send(
                            cx,
                            with_listener(
                                json!({"cmd": SRC, "val": format!("Plugin '{name}' reloaded successfully")}),
                                l,
                            ),
                        )
                    }
                    Err(e) => {
                        tracing::warn!(plugin = name, error = %e, "originchats: plugin reload failed");
                        send(
                            cx,
                            fail(SRC, &format!("Failed to reload plugin '{name}'"), l),
                        )
                    }
                }
            }
            None => {
                for p in &plugins.loaded {
                    if let Err(e) = p.reload(&plugins.dir) {
                        tracing::warn!(plugin = p.module(), error = %e, "originchats: plugin reload failed");
                    }
                }
                self.audit_plugins_reload(&account, Value::Null).await;
                send(
                    cx,
                    with_listener(
                        json!({"cmd": SRC, "val": "All plugins reloaded successfully"}),
                        l,
                    ),
                )
            }
        }
    }
}

/// The reference's `require_user_roles(["owner"])` (no `src`).
fn require_owner(cx: &Cx, account: &Account, l: Option<&str>) -> Option<Reply> {
    if account.has_role("owner") {
        return None;
    }
    Some(send(
        cx,
        with_listener(
            super::super::frames::error(None, "Access denied: 'owner' role required"),
            l,
        ),
    ))
}

/// Reads `<dir>/<file>`; the defaults when it does not exist.
fn read_config<T: for<'de> Deserialize<'de> + Default>(
    dir: &std::path::Path,
    file: &str,
) -> Result<T, String> {
    let path = dir.join(file);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

fn write_config<T: Serialize>(dir: &std::path::Path, file: &str, v: &T) {
    let path = dir.join(file);
    let text = match serde_json::to_string_pretty(v) {
        Ok(t) => t,
        Err(e) => return tracing::warn!(error = %e, "originchats plugin: config not saved"),
    };
    let tmp = path.with_extension("json.tmp");
    let res = std::fs::create_dir_all(dir)
        .and_then(|_| std::fs::write(&tmp, text))
        .and_then(|_| std::fs::rename(&tmp, &path));
    if let Err(e) = res {
        tracing::warn!(path = %path.display(), error = %e, "originchats plugin: config not saved");
    }
}

fn locked<T: Clone>(l: &RwLock<T>) -> T {
    l.read().unwrap_or_else(|e| e.into_inner()).clone()
}

// ---------------------------------------------------------------- eventlog

/// Every event `eventlog` reports.
const EVENTLOG_EVENTS: [&str; 14] = [
    "server_start",
    "channel_move",
    "role_create",
    "role_update",
    "role_delete",
    "self_role_add",
    "self_role_remove",
    "user_roles_set",
    "user_ban",
    "user_unban",
    "user_timeout",
    "user_leave",
    "channel_create",
    "channel_delete",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EventLogConfig {
    pub enabled: bool,
    /// Where the reports are posted.
    pub channel: String,
    /// The events reported (empty: all of them).
    pub events: Vec<String>,
}

impl Default for EventLogConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            channel: "general".into(),
            events: Vec::new(),
        }
    }
}

/// Posts a line as `originChats` for each server, role and moderation event, so moderators see
/// them in a channel (a Chorus plugin; the reference's plugins are Python files).
#[derive(Default)]
struct EventLog {
    cfg: RwLock<EventLogConfig>,
}

/// The report of one event: `<event>`, then `by <actor>` and `: <target>` when known.
fn event_report(ev: &PluginEvent) -> Option<String> {
    match ev {
        PluginEvent::ServerStart => Some("server_start".into()),
        PluginEvent::ChannelCreate(c) | PluginEvent::ChannelDelete(c) => {
            Some(format!("{}: {c}", ev.name()))
        }
        PluginEvent::Action { name, entry } => {
            let mut line = (*name).to_owned();
            if let Some(actor) = &entry.actor_name {
                line.push_str(&format!(" by {actor}"));
            }
            if let Some(target) = &entry.target_name {
                line.push_str(&format!(": {target}"));
            }
            Some(line)
        }
        _ => None,
    }
}

impl Plugin for EventLog {
    fn module(&self) -> &'static str {
        "eventlog"
    }

    fn info(&self) -> Value {
        json!({"name": "Event Log Plugin",
            "description": "Reports server, role and moderation events in a channel.",
            "handles": EVENTLOG_EVENTS})
    }

    fn reload(&self, dir: &std::path::Path) -> Result<(), String> {
        let cfg = read_config::<EventLogConfig>(dir, "eventlog_config.json")?;
        *self.cfg.write().unwrap_or_else(|e| e.into_inner()) = cfg;
        Ok(())
    }

    fn handle<'a>(
        &'a self,
        oc: &'a Arc<OriginChats>,
        ev: &'a PluginEvent,
    ) -> futures_util::future::BoxFuture<'a, ()> {
        Box::pin(async move {
            let cfg = locked(&self.cfg);
            if !cfg.enabled || !(cfg.events.is_empty() || cfg.events.iter().any(|e| e == ev.name()))
            {
                return;
            }
            let Some(text) = event_report(ev) else { return };
            oc.plugin_post(oc.system_user().await, &cfg.channel, text)
                .await;
        })
    }
}

// ---------------------------------------------------------------- welcome

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WelcomeConfig {
    pub enabled: bool,
    pub welcome_channel: String,
    /// `{username}` is replaced by the user's name.
    pub welcome_message: String,
    pub first_time_only: bool,
}

impl Default for WelcomeConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            welcome_channel: "general".into(),
            welcome_message: "Welcome {username}! Thanks for joining the server.".into(),
            first_time_only: true,
        }
    }
}

#[derive(Default)]
struct Welcome {
    cfg: RwLock<WelcomeConfig>,
}

impl Plugin for Welcome {
    fn module(&self) -> &'static str {
        "welcome"
    }

    fn info(&self) -> Value {
        json!({"name": "Welcome Plugin",
            "description": "Sends a welcome message to users when they join the server.",
            "handles": ["user_join"]})
    }

    fn reload(&self, dir: &std::path::Path) -> Result<(), String> {
        let cfg = read_config::<WelcomeConfig>(dir, "welcome_config.json")?;
        *self.cfg.write().unwrap_or_else(|e| e.into_inner()) = cfg;
        Ok(())
    }

    fn handle<'a>(
        &'a self,
        oc: &'a Arc<OriginChats>,
        ev: &'a PluginEvent,
    ) -> futures_util::future::BoxFuture<'a, ()> {
        Box::pin(async move {
            let PluginEvent::UserJoin(user) = ev else {
                return;
            };
            let cfg = locked(&self.cfg);
            if !cfg.enabled {
                return;
            }
            if cfg.first_time_only && !first_welcome(user).await {
                return;
            }
            let text = cfg.welcome_message.replace("{username}", &user.username);
            oc.plugin_post(oc.system_user().await, &cfg.welcome_channel, text)
                .await;
        })
    }
}

/// Records that `user` was welcomed; false when they already were.
async fn first_welcome(user: &UserRef) -> bool {
    let Some(s) = super::super::http::store() else {
        return false;
    };
    let id = user.id.clone();
    let res = s
        .write(
            move |conn| {
                let id = id.clone();
                Box::pin(async move {
                    let n = sqlx::query(
                        "INSERT OR IGNORE INTO originchats_welcomed (user_id, welcomed_at)
                         VALUES (?1, ?2)",
                    )
                    .bind(id.as_str())
                    .bind(now_ms())
                    .execute(&mut *conn)
                    .await
                    .map_err(crate::store::sqlite::backend)?
                    .rows_affected();
                    Ok(n > 0)
                })
            },
            None,
        )
        .await;
    res.unwrap_or(false)
}

// ---------------------------------------------------------------- automod

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AutomodConfig {
    pub enabled: bool,
    /// Seconds of timeout for a message with a blocked word.
    pub timeout_duration: u64,
    /// Matched case-insensitively anywhere in the text.
    pub blocked_words: Vec<String>,
    pub send_mod_message: bool,
    /// `{username}` is replaced by the sender's name.
    pub mod_message: String,
    pub delete_message: bool,
}

impl Default for AutomodConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            timeout_duration: 300,
            blocked_words: Vec::new(),
            send_mod_message: true,
            mod_message: "{username} was automatically timed out for violating chat rules.".into(),
            delete_message: true,
        }
    }
}

const AUTOMOD_FILE: &str = "automod_config.json";

#[derive(Default)]
struct Automod {
    cfg: RwLock<AutomodConfig>,
    dir: RwLock<PathBuf>,
}

impl Automod {
    fn update(&self, f: impl FnOnce(&mut AutomodConfig)) {
        let mut cfg = self.cfg.write().unwrap_or_else(|e| e.into_inner());
        f(&mut cfg);
        write_config(&locked(&self.dir), AUTOMOD_FILE, &*cfg);
    }

    /// `!automod <command> <args>`: the reply text.
    fn command(&self, text: &str) -> String {
        let parts: Vec<&str> = text.split_whitespace().collect();
        let Some(cmd) = parts.first().map(|c| c.to_lowercase()) else {
            return AUTOMOD_HELP.join("\n");
        };
        let args = &parts[1..];
        let cfg = locked(&self.cfg);
        let word = args.first().map(|w| w.to_lowercase());
        match cmd.as_str() {
            "add" => match word {
                None => "❌ Error: Usage: !automod add <word>".into(),
                Some(w) if cfg.blocked_words.contains(&w) => {
                    format!("❌ Error: '{w}' is already in the blocked words list")
                }
                Some(w) => {
                    self.update(|c| c.blocked_words.push(w.clone()));
                    format!("✅ Added '{w}' to blocked words")
                }
            },
            "remove" => match word {
                None => "❌ Error: Usage: !automod remove <word>".into(),
                Some(w) if !cfg.blocked_words.contains(&w) => {
                    format!("❌ Error: '{w}' is not in the blocked words list")
                }
                Some(w) => {
                    self.update(|c| c.blocked_words.retain(|x| *x != w));
                    format!("✅ Removed '{w}' from blocked words")
                }
            },
            "list" if cfg.blocked_words.is_empty() => {
                "No blocked words currently configured".into()
            }
            "list" => format!(
                "🚫 Blocked words ({}):\n  • {}",
                cfg.blocked_words.len(),
                cfg.blocked_words.join("\n  • ")
            ),
            "clear" if cfg.blocked_words.is_empty() => "No blocked words to clear".into(),
            "clear" => {
                self.update(|c| c.blocked_words.clear());
                "✅ Cleared all blocked words".into()
            }
            "status" => {
                let yn = |b: bool| if b { "Yes" } else { "No" };
                [
                    "📊 AutoMod Status".to_owned(),
                    format!("  Enabled: {}", yn(cfg.enabled)),
                    format!("  Timeout duration: {}s", cfg.timeout_duration),
                    format!("  Send mod message: {}", yn(cfg.send_mod_message)),
                    format!("  Delete violating messages: {}", yn(cfg.delete_message)),
                    format!("  Blocked words: {}", cfg.blocked_words.len()),
                ]
                .join("\n")
            }
            "enable" => {
                self.update(|c| c.enabled = true);
                "✅ AutoMod enabled".into()
            }
            "disable" => {
                self.update(|c| c.enabled = false);
                "✅ AutoMod disabled".into()
            }
            "timeout" => match args.first().and_then(|a| a.parse::<u64>().ok()) {
                None => "❌ Error: Usage: !automod timeout <seconds>".into(),
                Some(d) => {
                    self.update(|c| c.timeout_duration = d);
                    format!("✅ Timeout duration set to {d}s")
                }
            },
            "toggle_delete" => {
                let now = !cfg.delete_message;
                self.update(|c| c.delete_message = now);
                format!(
                    "✅ Message deletion {}",
                    if now { "enabled" } else { "disabled" }
                )
            }
            "help" => AUTOMOD_HELP.join("\n"),
            other => format!(
                "❌ Error: Unknown command: {other}\nUse !automod help for available commands"
            ),
        }
    }
}

const AUTOMOD_HELP: &[&str] = &[
    "📖 AutoMod Commands:",
    "",
    "**Word Management**",
    "  !automod add <word>",
    "  !automod remove <word>",
    "  !automod list",
    "  !automod clear",
    "",
    "**Settings**",
    "  !automod status",
    "  !automod enable",
    "  !automod disable",
    "  !automod timeout <seconds>",
    "  !automod toggle_delete",
    "",
    "💡 Use !automod help <command> for detailed help",
];

impl Plugin for Automod {
    fn module(&self) -> &'static str {
        "automod"
    }

    fn info(&self) -> Value {
        json!({"name": "AutoMod Plugin",
            "description": "Automatically timeout users who send messages containing blocked words. Admins/owners use !automod <command> to manage.",
            "handles": ["new_message"]})
    }

    fn reload(&self, dir: &std::path::Path) -> Result<(), String> {
        let cfg = read_config::<AutomodConfig>(dir, AUTOMOD_FILE)?;
        *self.cfg.write().unwrap_or_else(|e| e.into_inner()) = cfg;
        *self.dir.write().unwrap_or_else(|e| e.into_inner()) = dir.to_owned();
        Ok(())
    }

    fn handle<'a>(
        &'a self,
        oc: &'a Arc<OriginChats>,
        ev: &'a PluginEvent,
    ) -> futures_util::future::BoxFuture<'a, ()> {
        Box::pin(async move {
            let PluginEvent::NewMessage { channel, message } = ev else {
                return;
            };
            // The server's own posts are never moderated.
            let automod = oc.automod_user().await;
            let system = oc.system_user().await;
            if [&automod, &system]
                .iter()
                .any(|u| u.as_ref().is_some_and(|u| u.id == message.author.id))
            {
                return;
            }
            let content = message.content.as_str();
            if let Some(rest) = content.strip_prefix("!automod") {
                let Ok(sender) = oc.account_by_id(&message.author.id).await else {
                    return;
                };
                if !(sender.has_role("owner") || sender.has_role("admin")) {
                    return;
                }
                let reply = self.command(rest);
                oc.plugin_post(automod, channel, reply).await;
                return;
            }
            let cfg = locked(&self.cfg);
            if !cfg.enabled {
                return;
            }
            let lower = content.to_lowercase();
            if !cfg
                .blocked_words
                .iter()
                .any(|w| !w.is_empty() && lower.contains(&w.to_lowercase()))
            {
                return;
            }
            tracing::warn!(user = %message.author.username, channel, "automod: blocked words");
            if cfg.delete_message
                && let Some(actor) = oc.system_user().await
                && let Ok(Some(actor)) = oc.core.store().user(actor.id).await
                && let Err(e) = oc
                    .core
                    .delete_message(&actor, &MessageId(message.id.0.clone()), DeleteMode::Hard)
                    .await
            {
                tracing::warn!(error = %e, "automod: cannot delete the message");
            }
            oc.limiter
                .set_timeout(&message.author.id, cfg.timeout_duration);
            // The sender's first connection hears about the timeout.
            if let Some((conn, _)) = oc
                .conns
                .authenticated()
                .into_iter()
                .find(|(_, u)| *u == message.author.id)
                && let Some((tx, kick)) = oc.conns.handle(conn)
            {
                super::super::conns::push(
                    &tx,
                    &kick,
                    encode(&json!({"cmd": "rate_limit",
                        "reason": "Automoderation: Message contains blocked words",
                        "length": cfg.timeout_duration * 1000})),
                );
            }
            if cfg.send_mod_message {
                let text = cfg
                    .mod_message
                    .replace("{username}", &message.author.username);
                oc.plugin_post(automod, channel, text).await;
            }
        })
    }
}
