//! How bots and plugins extend OriginChats: slash commands ([`slash`]), polls ([`polls`]), Web
//! Push ([`push`]) and in-process plugins ([`plugins`]).
//!
//! One task ([`OriginChats::start_bots`]) observes every core event (from any dialect) and the
//! dialect's own events (`user_join`, `user_connect`): it feeds the plugins, sends pushes for
//! mentions and replies to offline users, and ends expired polls.

pub mod plugins;
pub mod polls;
pub mod push;
pub mod slash;

use super::OriginChats;
use crate::core::events::Event;
use crate::core::ids::{RoleId, UserId};
use crate::core::messages::UserRef;
use crate::core::users::{User, UserKind};
use crate::store::StoreError;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OnceCell, mpsc};

/// Stored for messages that have no text of their own (embeds-only slash answers): the core
/// keeps no empty messages. OriginChats shows it as `""`.
pub const EMPTY_CONTENT: &str = "\u{200b}";

/// The server's own users: answers of built-in commands and plugin posts.
const SYSTEM_USER_ID: &str = "00000000-0000-7000-8009-000000000001";
const AUTOMOD_USER_ID: &str = "00000000-0000-7000-8009-000000000002";
/// The default space's `admin` role (migration 0002): plugins delete messages.
const ADMIN_ROLE: &str = "00000000-0000-7000-8002-000000000002";

/// How often expired polls are ended.
const POLL_SWEEP: Duration = Duration::from_secs(15);

/// What the dialect itself reports to plugins.
#[derive(Debug, Clone)]
pub enum DialectEvent {
    /// Every successful authentication (the reference's plugin `user_join`).
    UserJoin(UserRef),
    /// A user's first live connection.
    UserConnect(UserRef),
}

pub struct Bots {
    pub slash: slash::Registry,
    pub plugins: plugins::Plugins,
    pub push: push::Push,
    events: mpsc::Sender<DialectEvent>,
    inbox: Mutex<Option<mpsc::Receiver<DialectEvent>>>,
    system: OnceCell<Option<UserRef>>,
    automod: OnceCell<Option<UserRef>>,
}

impl Bots {
    pub fn new(cfg: &super::config::OriginChatsConfig) -> anyhow::Result<Self> {
        let (events, inbox) = mpsc::channel(1024);
        Ok(Self {
            slash: slash::Registry::default(),
            plugins: plugins::Plugins::new(cfg),
            push: push::Push::new(cfg)?,
            events,
            inbox: Mutex::new(Some(inbox)),
            system: OnceCell::new(),
            automod: OnceCell::new(),
        })
    }

    /// Reports a dialect event to the plugins (dropped, with a warning, when they lag far behind).
    pub fn emit(&self, ev: DialectEvent) {
        if self.plugins.active() && self.events.try_send(ev).is_err() {
            tracing::warn!("originchats plugins are behind; an event is dropped");
        }
    }
}

impl OriginChats {
    /// `originChats`, the author of built-in answers and plugin posts.
    pub async fn system_user(&self) -> Option<UserRef> {
        self.bots
            .system
            .get_or_init(|| self.ensure_system_user(SYSTEM_USER_ID, slash::SERVER_NAME))
            .await
            .clone()
    }

    /// `AutoMod`, the author of the automod plugin's notices.
    pub async fn automod_user(&self) -> Option<UserRef> {
        self.bots
            .automod
            .get_or_init(|| self.ensure_system_user(AUTOMOD_USER_ID, "AutoMod"))
            .await
            .clone()
    }

    async fn ensure_system_user(&self, id: &str, name: &str) -> Option<UserRef> {
        let store = self.core.store();
        let user = match store.user(UserId(id.into())).await {
            Ok(Some(u)) => u,
            Ok(None) => {
                let u = User {
                    id: UserId(id.into()),
                    username: name.into(),
                    display_name: None,
                    kind: UserKind::System,
                    avatar_url: None,
                    created_at: crate::core::ids::now_ms(),
                };
                match store.create_user(u, None).await {
                    Ok(u) => u,
                    Err(StoreError::Conflict(_)) => {
                        tracing::error!(name, "originchats: a user already has the server's name");
                        return None;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "originchats: cannot create the server user");
                        return None;
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "originchats: cannot read the server user");
                return None;
            }
        };
        let roles = vec![
            RoleId(crate::core::ids::DEFAULT_ROLE.into()),
            RoleId(ADMIN_ROLE.into()),
        ];
        if let Err(e) = store
            .add_member(self.space.clone(), user.id.clone(), roles)
            .await
        {
            tracing::error!(error = %e, "originchats: the server user cannot join the space");
            return None;
        }
        self.core.invalidate_permissions();
        Some(UserRef {
            id: user.id,
            username: user.username,
        })
    }

    /// Gives a new user the configured `default_roles` beyond `user` (unknown names are skipped).
    pub async fn give_default_roles(&self, user: &UserId) {
        let extra: Vec<&String> = self
            .cfg
            .default_roles
            .iter()
            .filter(|r| r.as_str() != super::USER_ROLE)
            .collect();
        if extra.is_empty() {
            return;
        }
        let Ok(all) = self.roles().await else { return };
        let mut ids = vec![RoleId(crate::core::ids::DEFAULT_ROLE.into())];
        for name in extra {
            match all.iter().find(|r| r.name.eq_ignore_ascii_case(name)) {
                Some(r) => ids.push(r.id.clone()),
                None => tracing::warn!(role = %name, "originchats: default role does not exist"),
            }
        }
        if let Err(e) = self
            .core
            .store()
            .add_member(self.space.clone(), user.clone(), ids)
            .await
        {
            tracing::warn!(error = %e, "originchats: cannot give default roles");
        }
        self.core.invalidate_permissions();
    }

    /// Starts the bots task (call once, after the dialect is shared).
    pub fn start_bots(self: &Arc<Self>) {
        let Some(mut inbox) = self
            .bots
            .inbox
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        else {
            return;
        };
        let mut tap = self.core.hub().tap(4096);
        let oc = self.clone();
        tokio::spawn(async move {
            oc.bots.push.load_keys().await;
            oc.bots.plugins.load();
            oc.bots.plugins.started(&oc).await;
            let mut sweep = tokio::time::interval(POLL_SWEEP);
            loop {
                tokio::select! {
                    ev = tap.recv() => match ev {
                        Some(ev) => oc.on_core_event(ev).await,
                        None => break,
                    },
                    Some(ev) = inbox.recv() => oc.on_dialect_event(ev).await,
                    _ = sweep.tick() => {
                        if let Err(e) = oc.core.end_expired_polls(100).await {
                            tracing::warn!(error = %e, "originchats: cannot end expired polls");
                        }
                    }
                }
            }
        });
    }

    async fn on_core_event(self: &Arc<Self>, ev: Event) {
        if let Event::MessageCreated { message } = &ev {
            self.push_for_message(message).await;
        }
        if self.bots.plugins.active() {
            self.plugins_on_core(&ev).await;
        }
    }

    async fn on_dialect_event(self: &Arc<Self>, ev: DialectEvent) {
        self.plugins_on_dialect(&ev).await;
    }
}

/// Bot-related fields of a stored message in client form: a slash answer's `interaction`, the
/// embeds of bot and poll messages; a poll message and an embeds-only answer show `""`.
pub fn message_extras(
    o: &mut serde_json::Map<String, serde_json::Value>,
    m: &crate::core::messages::Message,
) {
    use serde_json::Value;
    let Some(extra) = m.extra.as_deref() else {
        return;
    };
    if let Some(i) = extra.get("interaction").filter(|i| i.is_object()) {
        o.insert("interaction".into(), i.clone());
    }
    if let Some(e) = extra.get("embeds").filter(|e| e.is_array()) {
        o.insert("embeds".into(), e.clone());
    }
    if extra.get("poll_id").is_some() || m.content == EMPTY_CONTENT {
        o.insert("content".into(), Value::String(String::new()));
    }
}

/// The reference's own `message_new` forms: the flat poll packet of `poll_create`, and
/// `{message, channel, global}` (no `thread_id`, no `pings`) for slash answers.
pub fn message_new_form(
    m: &crate::core::messages::Message,
    place: &super::render::Place,
) -> Option<serde_json::Value> {
    use serde_json::json;
    let extra = m.extra.as_deref()?;
    if let Some(poll_id) = extra.get("poll_id") {
        return Some(json!({
            "cmd": "message_new",
            "id": m.id.0,
            "channel": place.channel,
            "thread_id": place.thread_id,
            "user": m.author.username,
            "content": "",
            "timestamp": super::frames::timestamp(m.created_at),
            "embeds": extra.get("embeds").cloned().unwrap_or_else(|| json!([])),
            "poll_id": poll_id,
        }));
    }
    if extra.get("interaction").is_some_and(|i| i.is_object()) {
        return Some(json!({
            "cmd": "message_new",
            "message": super::render::CACHE.message(m),
            "channel": place.channel,
            "global": true,
        }));
    }
    None
}
