//! Slash commands (§2.7, §4.5): bots register commands per connection, users call them, the
//! registering connection answers with `slash_response`, which becomes a message of the bot
//! with an `interaction`. Registrations live with their connection (in memory, as in the
//! reference): when it closes, `slash_remove` tells everyone.
//!
//! Built-ins (`ban`, `help`, `mute`, `nick`, `unban`, `unmute`) run in the server and answer as
//! `originChats`. The moderation ones go through the core, so every dialect sees their effect.

use super::super::frames::{encode, error, with_listener};
use super::super::messages::{core_fail, fail, internal, send};
use super::super::session::Cx;
use super::super::{Account, OriginChats};
use crate::core::messages::{NewMessage, UserRef};
use crate::hub::ConnId;
use crate::net::ws::Reply;
use chorus_protocol::originchats as proto;
use indexmap::IndexMap;
use serde_json::{Map, Value, json};
use std::collections::VecDeque;
use std::sync::Mutex;

/// The name built-ins are registered by (and the author of their answers).
pub const SERVER_NAME: &str = "originChats";

/// Calls remembered per bot so a `slash_response` without `command` (as chats.py's
/// `respond()` sends it) can still be matched to its call.
const PENDING_CALLS: usize = 64;

/// One connection's registered commands.
struct Registration {
    user: crate::core::ids::UserId,
    username: String,
    /// Command name → (definition, wire form with `registeredBy`).
    commands: IndexMap<String, (proto::SlashCommand, Value)>,
}

/// A call forwarded to a bot and not answered yet.
#[derive(Clone)]
struct PendingCall {
    bot: crate::core::ids::UserId,
    invoker: String,
    channel: String,
    command: String,
}

#[derive(Default)]
pub struct Registry {
    by_conn: Mutex<IndexMap<ConnId, Registration>>,
    pending: Mutex<VecDeque<PendingCall>>,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, IndexMap<ConnId, Registration>> {
        self.by_conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, VecDeque<PendingCall>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Drops a closed connection's commands; returns their names.
    pub fn remove_conn(&self, conn: ConnId) -> Vec<String> {
        self.lock()
            .shift_remove(&conn)
            .map(|r| r.commands.into_keys().collect())
            .unwrap_or_default()
    }

    fn find(
        &self,
        name: &str,
    ) -> Option<(
        ConnId,
        String,
        crate::core::ids::UserId,
        proto::SlashCommand,
    )> {
        self.lock().iter().find_map(|(conn, r)| {
            r.commands
                .get(name)
                .map(|(def, _)| (*conn, r.username.clone(), r.user.clone(), def.clone()))
        })
    }

    /// Every registered command in wire form, in registration order.
    fn wire_all(&self) -> Vec<Value> {
        self.lock()
            .values()
            .flat_map(|r| r.commands.values().map(|(_, w)| w.clone()))
            .collect()
    }

    /// (name, description, whitelist, blacklist) of every registered command.
    fn summaries(&self) -> Vec<(String, String, Vec<String>, Vec<String>)> {
        self.lock()
            .values()
            .flat_map(|r| {
                r.commands.values().map(|(d, _)| {
                    (
                        d.name.clone(),
                        d.description.clone(),
                        d.whitelist_roles.clone().flatten().unwrap_or_default(),
                        d.blacklist_roles.clone().flatten().unwrap_or_default(),
                    )
                })
            })
            .collect()
    }

    fn remember(&self, call: PendingCall) {
        let mut p = self.pending();
        if p.len() >= PENDING_CALLS {
            p.pop_front();
        }
        p.push_back(call);
    }

    /// The newest unanswered call of `bot` in `channel` (by `invoker` when given).
    fn take_pending(
        &self,
        bot: &crate::core::ids::UserId,
        channel: &str,
        invoker: Option<&str>,
    ) -> Option<PendingCall> {
        let mut p = self.pending();
        let at = p.iter().rposition(|c| {
            &c.bot == bot && c.channel == channel && invoker.is_none_or(|i| c.invoker == i)
        })?;
        p.remove(at)
    }

    fn forget_answered(&self, bot: &crate::core::ids::UserId, channel: &str, command: &str) {
        let mut p = self.pending();
        if let Some(at) = p
            .iter()
            .rposition(|c| &c.bot == bot && c.channel == channel && c.command == command)
        {
            p.remove(at);
        }
    }
}

/// The wire form of a command (`slash_add`, `slash_list`).
fn wire(cmd: &proto::SlashCommand, registered_by: &str) -> Value {
    let options: Vec<Value> = cmd
        .options
        .iter()
        .flatten()
        .map(|o| {
            json!({
                "name": o.name,
                "description": o.description,
                "type": o.r#type.as_str(),
                "choices": o.choices.clone().flatten(),
                "required": o.required.unwrap_or(true),
            })
        })
        .collect();
    json!({
        "name": cmd.name,
        "description": cmd.description,
        "options": options,
        "whitelistRoles": cmd.whitelist_roles.clone().flatten(),
        "blacklistRoles": cmd.blacklist_roles.clone().flatten(),
        "ephemeral": cmd.ephemeral.unwrap_or(false),
        "registeredBy": registered_by,
    })
}

/// A built-in command: name, description, options (without `choices`), moderator-only.
struct Builtin {
    name: &'static str,
    description: &'static str,
    options: &'static [(&'static str, &'static str, &'static str, bool)],
    moderators_only: bool,
}

const MODERATOR_ROLES: [&str; 2] = ["admin", "owner"];

/// The reference's limit for `/nick` (the core allows longer nicknames through `user_update`).
const MAX_SLASH_NICKNAME_CHARS: usize = 20;

const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "ban",
        description: "Ban a user from the server",
        options: &[
            ("username", "The user to ban", "str", true),
            ("reason", "Reason for the ban", "str", false),
        ],
        moderators_only: true,
    },
    Builtin {
        name: "help",
        description: "List all available slash commands",
        options: &[],
        moderators_only: false,
    },
    Builtin {
        name: "mute",
        description: "Timeout a user (prevent them from sending messages)",
        options: &[
            ("username", "The user to mute", "str", true),
            ("duration", "Duration in seconds", "int", true),
            ("reason", "Reason for the mute", "str", false),
        ],
        moderators_only: true,
    },
    Builtin {
        name: "nick",
        description: "Set or clear your nickname",
        options: &[(
            "nickname",
            "Your new nickname (empty to clear)",
            "str",
            false,
        )],
        moderators_only: false,
    },
    Builtin {
        name: "unban",
        description: "Unban a user",
        options: &[("username", "The user to unban", "str", true)],
        moderators_only: true,
    },
    Builtin {
        name: "unmute",
        description: "Remove timeout from a user",
        options: &[("username", "The user to unmute", "str", true)],
        moderators_only: true,
    },
];

impl Builtin {
    fn wire(&self) -> Value {
        let options: Vec<Value> = self
            .options
            .iter()
            .map(|(n, d, t, r)| json!({"name": n, "description": d, "type": t, "required": r}))
            .collect();
        json!({
            "name": self.name,
            "description": self.description,
            "options": options,
            "whitelistRoles": if self.moderators_only { json!(MODERATOR_ROLES) } else { Value::Null },
            "blacklistRoles": null,
            "ephemeral": false,
            "registeredBy": SERVER_NAME,
        })
    }

    fn allows(&self, roles: &[String]) -> bool {
        !self.moderators_only || roles.iter().any(|r| MODERATOR_ROLES.contains(&r.as_str()))
    }
}

/// `{emoji} **{user}** has been {action}` (+ the reason), as the reference's moderation replies.
fn mod_response(emoji: &str, username: &str, action: &str, reason: Option<&str>) -> String {
    match reason {
        Some(r) => format!("{emoji} **{username}** has been {action}.\n**Reason:** {r}"),
        None => format!("{emoji} **{username}** has been {action}."),
    }
}

/// A core refusal of a moderation built-in, as its error text.
fn refusal(e: crate::core::CoreError) -> String {
    super::super::members::member_refusal(e)
        .unwrap_or_else(|e| format!("Error executing command: {e}"))
}

impl OriginChats {
    /// A closed connection's commands go away; everyone is told.
    pub fn slash_conn_closed(&self, conn: ConnId) {
        let names = self.bots.slash.remove_conn(conn);
        if !names.is_empty() {
            self.conns.send_all(
                &encode(&json!({"cmd": "slash_remove", "commands": names})),
                None,
            );
        }
    }

    pub async fn slash_register(&self, cx: &mut Cx, r: proto::SlashRegister) -> Reply {
        const SRC: &str = "slash_register";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        let Some(commands) = r.commands.filter(|c| !c.is_empty()) else {
            return send(cx, fail(SRC, "Commands must be provided as a list", l));
        };
        // Any other connection of the same user blocks registration (as in the reference).
        if self
            .conns
            .authenticated()
            .iter()
            .any(|(c, u)| *c != cx.conn && *u == account.user.id)
        {
            return send(
                cx,
                fail(
                    SRC,
                    "You already have slash commands registered from another session",
                    l,
                ),
            );
        }
        let username = account.user.username.clone();
        let mut set = IndexMap::new();
        for c in &commands {
            set.insert(c.name.clone(), (c.clone(), wire(c, &username)));
        }
        let added: Vec<Value> = set.values().map(|(_, w)| w.clone()).collect();
        // Replaces this connection's set (without slash_remove for the old one, as the reference).
        self.bots.slash.lock().insert(
            cx.conn,
            Registration {
                user: account.user.id.clone(),
                username,
                commands: set,
            },
        );
        self.conns.send_all(
            &encode(&json!({"cmd": "slash_add", "commands": added})),
            None,
        );
        send(
            cx,
            with_listener(
                json!({"cmd": SRC, "val": format!("{} commands registered successfully", commands.len())}),
                l,
            ),
        )
    }

    pub async fn slash_list(&self, cx: &mut Cx, r: proto::SlashList) -> Reply {
        let l = r.listener.as_deref();
        if cx.account.is_none() {
            return Reply::None;
        }
        let mut commands: Vec<Value> = BUILTINS.iter().map(Builtin::wire).collect();
        commands.extend(self.bots.slash.wire_all());
        send(
            cx,
            with_listener(json!({"cmd": "slash_list", "commands": commands}), l),
        )
    }

    pub async fn slash_call(&self, cx: &mut Cx, r: proto::SlashCall) -> Reply {
        const SRC: &str = "slash_call";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        let Some(channel) = r.channel.clone().filter(|c| !c.is_empty()) else {
            return send(
                cx,
                fail(SRC, "Channel parameter is required for slash commands", l),
            );
        };
        let Some(name) = r.command.clone() else {
            return send(cx, fail(SRC, "Command name must be a string", l));
        };
        let args: Map<String, Value> = r.args.clone().unwrap_or_default().into_iter().collect();

        if let Some(b) = BUILTINS.iter().find(|b| b.name == name) {
            if !b.allows(&account.roles) {
                return send(
                    cx,
                    fail(
                        SRC,
                        &format!("Access denied: '{}' role required", MODERATOR_ROLES[0]),
                        l,
                    ),
                );
            }
            let text = match self.run_builtin(&account, b.name, &args).await {
                Ok(t) => t,
                Err(e) => return send(cx, fail(SRC, &e, l)),
            };
            return self
                .post_interaction(
                    cx,
                    &channel,
                    text,
                    None,
                    &name,
                    &account.user.username,
                    None,
                    SRC,
                    l,
                )
                .await;
        }

        let Some((bot_conn, bot_name, bot_user, def)) = self.bots.slash.find(&name) else {
            return send(cx, fail(SRC, &format!("Unknown slash command: /{name}"), l));
        };
        for role in def.whitelist_roles.clone().flatten().unwrap_or_default() {
            if !account.has_role(&role) {
                return send(
                    cx,
                    with_listener(
                        error(None, &format!("Access denied: '{role}' role required")),
                        l,
                    ),
                );
            }
        }
        for role in def.blacklist_roles.clone().flatten().unwrap_or_default() {
            if account.has_role(&role) {
                return send(
                    cx,
                    with_listener(
                        error(None, &format!("Access denied: '{role}' role is forbidden")),
                        l,
                    ),
                );
            }
        }
        let options = def.options.clone().unwrap_or_default();
        if let Some(unknown) = args.keys().find(|a| !options.iter().any(|o| &o.name == *a)) {
            return send(cx, fail(SRC, &format!("Unknown argument: {unknown}"), l));
        }
        if let Some(missing) = options
            .iter()
            .find(|o| o.required.unwrap_or(true) && !args.contains_key(&o.name))
        {
            return send(
                cx,
                fail(
                    SRC,
                    &format!("Missing required argument: {}", missing.name),
                    l,
                ),
            );
        }
        // The registrant's first connection gets the call (the one that registered it).
        let first = self
            .conns
            .authenticated()
            .into_iter()
            .find(|(_, u)| *u == bot_user)
            .map(|(c, _)| c)
            .unwrap_or(bot_conn);
        let Some((tx, kick)) = self.conns.handle(first) else {
            return send(
                cx,
                fail(
                    SRC,
                    &format!("Command handler for /{name} is not currently connected"),
                    l,
                ),
            );
        };
        let call = json!({
            "cmd": "slash_call",
            "val": {"command": name, "args": args, "commander": bot_name},
            "invoker": account.user.id.0,
            "invokerUsername": account.user.username,
            "channel": channel,
        });
        self.bots.slash.remember(PendingCall {
            bot: bot_user,
            invoker: account.user.id.0.clone(),
            channel,
            command: name,
        });
        super::super::conns::push(&tx, &kick, encode(&call));
        send(cx, with_listener(call, l))
    }

    pub async fn slash_response(&self, cx: &mut Cx, r: proto::SlashResponse) -> Reply {
        const SRC: &str = "slash_response";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        let plain = |cx: &Cx, text: &str| send(cx, with_listener(error(None, text), l));
        let Some(channel) = r.channel.clone().filter(|c| !c.is_empty()) else {
            return plain(cx, "Channel parameter is required for slash commands");
        };
        let response = r.response.clone().filter(|s| !s.is_empty());
        let embeds = r.embeds.clone().filter(|e| !e.is_empty());
        if response.is_none() && embeds.is_none() {
            return plain(cx, "Slash response must have content or embeds");
        }
        let invoker_sent = r.invoker.clone().filter(|s| !s.is_empty());
        // chats.py's respond() leaves out `command`: take it from the call it answers.
        let command = match r.command.clone().filter(|c| !c.is_empty()) {
            Some(c) => {
                self.bots
                    .slash
                    .forget_answered(&account.user.id, &channel, &c);
                c
            }
            None => match self.bots.slash.take_pending(
                &account.user.id,
                &channel,
                invoker_sent.as_deref(),
            ) {
                Some(call) => call.command,
                None => return plain(cx, "Command parameter is required for slash responses"),
            },
        };
        let invoker_name = match &invoker_sent {
            None => account.user.username.clone(),
            Some(id) => match self.username_of(id).await {
                Some(n) => n,
                None => id.clone(),
            },
        };
        let embeds = match embeds {
            None => None,
            Some(list) => match serde_json::to_value(&list) {
                Ok(v) => Some(v),
                Err(e) => {
                    return send(
                        cx,
                        internal(SRC, crate::core::CoreError::Internal(e.to_string()), l),
                    );
                }
            },
        };
        let text = response.map(|s| s.trim().to_owned()).unwrap_or_default();
        self.post_interaction(
            cx,
            &channel,
            text,
            embeds,
            &command,
            &invoker_name,
            Some(&account),
            SRC,
            l,
        )
        .await
    }

    /// The username of a user id (or of a username, as the reference accepts either).
    pub async fn username_of(&self, id_or_name: &str) -> Option<String> {
        let store = self.core.store();
        if let Ok(Some(u)) = store.user(id_or_name.into()).await {
            return Some(u.username);
        }
        store
            .user_by_username(id_or_name.to_owned())
            .await
            .ok()
            .flatten()
            .map(|u| u.username)
    }

    /// Stores an answer to a slash command (by `author`, or by `originChats` when None) in
    /// `channel` and lets the broadcast be the reply.
    #[allow(clippy::too_many_arguments)]
    async fn post_interaction(
        &self,
        cx: &Cx,
        channel: &str,
        text: String,
        embeds: Option<Value>,
        command: &str,
        invoker: &str,
        author: Option<&Account>,
        src: &'static str,
        l: Option<&str>,
    ) -> Reply {
        let author = match author {
            Some(a) => UserRef {
                id: a.user.id.clone(),
                username: a.user.username.clone(),
            },
            None => match self.system_user().await {
                Some(u) => u,
                None => {
                    return send(
                        cx,
                        fail(src, "Error executing command: server user unavailable", l),
                    );
                }
            },
        };
        let channel = match self.find_channel(cx, channel).await {
            Ok(Some(c)) => c,
            Ok(None) => return send(cx, fail(src, "Channel not found", l)),
            Err(e) => return send(cx, internal(src, e, l)),
        };
        let mut extra = Map::new();
        extra.insert(
            "interaction".into(),
            json!({"command": command, "username": invoker}),
        );
        if let Some(e) = embeds {
            extra.insert("embeds".into(), e);
        }
        // The core keeps no empty messages; an embeds-only answer shows as "" here.
        let content = if text.is_empty() {
            super::EMPTY_CONTENT.to_owned()
        } else {
            text
        };
        let new = NewMessage {
            room_id: channel.room.id.clone(),
            author,
            author_name: None,
            content,
            reply_to: None,
            forwarded_from: None,
            extra: Some(Value::Object(extra)),
        };
        let place = super::super::render::Place {
            channel: channel.room.name.clone(),
            thread_id: None,
        };
        let listener = l.map(str::to_owned);
        match self.core.submit_message(new).await {
            Ok(durable) => Reply::Later(Box::pin(async move {
                match durable.await {
                    Ok(m) => listener.map(|l| {
                        encode(&with_listener(
                            super::super::render::message_new(&m, &place),
                            Some(&l),
                        ))
                    }),
                    Err(e) => Some(encode(&core_fail(src, e, listener.as_deref()))),
                }
            })),
            Err(e) => send(cx, core_fail(src, e, l)),
        }
    }

    async fn run_builtin(
        &self,
        caller: &Account,
        name: &str,
        args: &Map<String, Value>,
    ) -> Result<String, String> {
        let target = |args: &Map<String, Value>| -> Result<String, String> {
            match args.get("username") {
                Some(Value::String(u)) if !u.is_empty() => Ok(u.clone()),
                _ => Err("Username is required".into()),
            }
        };
        match name {
            "help" => {
                let mut list: Vec<(String, String)> = BUILTINS
                    .iter()
                    .filter(|b| b.allows(&caller.roles))
                    .map(|b| (b.name.to_owned(), b.description.to_owned()))
                    .collect();
                for (n, d, white, black) in self.bots.slash.summaries() {
                    let blocked = caller.roles.iter().any(|r| black.contains(r));
                    let missing =
                        !white.is_empty() && !caller.roles.iter().any(|r| white.contains(r));
                    if !blocked && !missing && !list.iter().any(|(x, _)| *x == n) {
                        list.push((n, d));
                    }
                }
                list.sort();
                if list.is_empty() {
                    return Ok("No commands available".into());
                }
                let mut lines = vec!["**Available Commands:**".to_owned()];
                for (n, d) in list {
                    lines.push(format!("• `/{n}` - {d}"));
                }
                Ok(lines.join("\n"))
            }
            "mute" => {
                if !self.cfg.rate_limit_enabled {
                    return Err("Rate limiter not available".into());
                }
                let duration = match args.get("duration") {
                    None | Some(Value::Null) => return Err("Duration is required".into()),
                    Some(Value::Number(n)) => n.as_f64().map(|f| f as i64),
                    Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
                    Some(_) => None,
                };
                let Some(duration) = duration else {
                    return Err("Duration must be a valid number".into());
                };
                if duration == 0 {
                    return Err("Duration is required".into());
                }
                if duration < 0 {
                    return Err("Duration must be a positive number".into());
                }
                let username = target(args)?;
                let user = self.user_named(&username).await?;
                let account = self.account(user).await.map_err(|e| e.to_string())?;
                if account.has_role("owner") {
                    return Err("Cannot mute the server owner".into());
                }
                let reason = args
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or("No reason provided")
                    .to_owned();
                self.limiter.set_timeout(&account.user.id, duration as u64);
                if let Some((conn, _)) = self
                    .conns
                    .authenticated()
                    .into_iter()
                    .find(|(_, u)| *u == account.user.id)
                    && let Some((tx, kick)) = self.conns.handle(conn)
                {
                    super::super::conns::push(
                        &tx,
                        &kick,
                        encode(
                            &json!({"cmd": "rate_limit", "reason": format!("Muted: {reason}"),
                            "length": duration * 1000}),
                        ),
                    );
                }
                Ok(mod_response(
                    "🔇",
                    &username,
                    &format!("muted for {duration} seconds"),
                    Some(&reason),
                ))
            }
            "unmute" => {
                if !self.cfg.rate_limit_enabled {
                    return Err("Rate limiter not available".into());
                }
                let username = target(args)?;
                let user = self.user_named(&username).await?;
                self.limiter.reset(&user.id);
                // Unlike the reference, /unmute also lifts the timeout itself.
                self.limiter.set_timeout(&user.id, 0);
                Ok(mod_response("🔊", &username, "unmuted", None))
            }
            "ban" => {
                let username = target(args)?;
                let user = self.user_named(&username).await?;
                let account = self.account(user).await.map_err(|e| e.to_string())?;
                if account.has_role("owner") {
                    return Err("Cannot ban the server owner".into());
                }
                if self.is_banned(&account.user.id).await? {
                    return Err(format!("User '{username}' is already banned"));
                }
                let reason = args
                    .get("reason")
                    .and_then(Value::as_str)
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned);
                self.core
                    .ban_user(&caller.user, &self.space, &account.user.id, reason.clone())
                    .await
                    .map_err(refusal)?;
                self.moderated(&account.user.id).await;
                // Unlike `user_ban`, `/ban` also closes the banned user's connections.
                self.conns
                    .disconnect_user(&account.user.id, "You have been banned");
                Ok(mod_response(
                    "🚫",
                    &username,
                    "banned",
                    Some(reason.as_deref().unwrap_or("No reason provided")),
                ))
            }
            "unban" => {
                let username = target(args)?;
                let user = self.user_named(&username).await?;
                if !self.is_banned(&user.id).await? {
                    return Err(format!("User '{username}' is not banned"));
                }
                self.core
                    .unban_user(&caller.user, &self.space, &user.id)
                    .await
                    .map_err(refusal)?;
                self.moderated(&user.id).await;
                Ok(mod_response("✅", &username, "unbanned", None))
            }
            "nick" => {
                let nickname = args
                    .get("nickname")
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned);
                if nickname
                    .as_ref()
                    .is_some_and(|n| n.chars().count() > MAX_SLASH_NICKNAME_CHARS)
                {
                    return Err(format!(
                        "Nickname too long (max {MAX_SLASH_NICKNAME_CHARS} characters)"
                    ));
                }
                let me = &caller.user;
                self.core
                    .set_nickname(me, &self.space, &me.id, nickname.clone())
                    .await
                    .map_err(refusal)?;
                self.members_changed();
                let (event, text) = match &nickname {
                    Some(n) => (
                        json!({"cmd": "nickname_update", "user": me.id.0,
                            "username": me.username, "nickname": n}),
                        format!("✅ Your nickname is now **{n}**."),
                    ),
                    None => (
                        json!({"cmd": "nickname_remove", "user": me.id.0,
                            "username": me.username}),
                        "✅ Your nickname has been removed.".to_owned(),
                    ),
                };
                self.conns.send_all(&encode(&event), None);
                Ok(text)
            }
            other => Err(format!("Error executing command: unknown built-in {other}")),
        }
    }

    async fn is_banned(&self, user: &crate::core::ids::UserId) -> Result<bool, String> {
        self.core
            .ban_of(&self.space, user)
            .await
            .map(|b| b.is_some())
            .map_err(|e| format!("Error executing command: {e}"))
    }

    async fn user_named(&self, username: &str) -> Result<crate::core::users::User, String> {
        match self
            .core
            .store()
            .user_by_username(username.to_owned())
            .await
        {
            Ok(Some(u)) => Ok(u),
            _ => Err(format!("User '{username}' not found")),
        }
    }
}
