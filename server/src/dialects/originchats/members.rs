//! Users, presence and moderation (§2.3): users_list, users_online, status_set/get,
//! user_update, user_timeout, user_ban/unban, users_banned_list, user_leave,
//! user_roles_get/set, pfp_set/get; and what keeps the dialect in step with the core when
//! roles, members or the server change in any dialect (the roles cached on connections, room
//! subscriptions, the server settings of the handshake).

use super::frames::{encode, error, with_listener};
use super::messages::{fail, internal, send};
use super::session::Cx;
use super::{Account, OriginChats, USER_ROLE};
use crate::core::CoreError;
use crate::core::events::{Event, Topic};
use crate::core::ids::{RoleId, UserId, now_ms};
use crate::core::moderation::UserProfile;
use crate::core::permissions::{Permissions, Role};
use crate::core::spaces::Member;
use crate::core::users::{Status, User, UserKind};
use crate::net::ws::Reply;
use chorus_protocol::originchats as proto;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::mpsc;

pub const USER_REQUIRED: &str = "User parameter is required";
pub const USER_NOT_FOUND: &str = "User not found";
pub const OWNER_REQUIRED: &str = "Access denied: 'owner' role required";

/// The server block of the handshake, `server_info` and `/info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    pub name: String,
    pub icon: String,
    pub banner: String,
}

/// Dialect state that follows the core.
#[derive(Default)]
pub struct MembersState {
    /// Bumped whenever roles or memberships change: connections reload their cached account.
    pub epoch: AtomicU64,
    /// The settings stored by `server_update` (or a Plexichat server edit); None: the config.
    settings: RwLock<Option<ServerSettings>>,
    watching: AtomicBool,
    /// Connected users whose chosen status is `invisible` (announced neither in nor out).
    invisible: Mutex<HashSet<UserId>>,
    /// The `roles_list` last pushed to every connection.
    pub roles_pushed: tokio::sync::Mutex<Option<Value>>,
}

impl MembersState {
    pub fn set_invisible(&self, user: &UserId, invisible: bool) {
        let mut set = self.invisible.lock().unwrap_or_else(|e| e.into_inner());
        if invisible {
            set.insert(user.clone());
        } else {
            set.remove(user);
        }
    }

    pub fn is_invisible(&self, user: &UserId) -> bool {
        self.invisible
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(user)
    }
}

/// Role names in the member's order (`user`, the default role, last) and the first one's colour.
pub fn role_view(member: Option<&Member>, all: &[Role]) -> (Vec<String>, Option<String>) {
    let mut roles: Vec<String> = Vec::new();
    if let Some(m) = member {
        for id in &m.roles {
            if let Some(r) = all.iter().find(|r| &r.id == id && !r.is_default)
                && !roles.contains(&r.name)
            {
                roles.push(r.name.clone());
            }
        }
    }
    if !roles.iter().any(|r| r == USER_ROLE) {
        roles.push(USER_ROLE.into());
    }
    let color = roles.first().and_then(|first| {
        all.iter()
            .find(|r| &r.name == first || (first == USER_ROLE && r.is_default))
            .and_then(|r| r.color.clone())
    });
    (roles, color)
}

fn status_of(s: &str) -> Status {
    match s {
        "idle" => Status::Idle,
        "dnd" => Status::Dnd,
        "offline" => Status::Offline,
        "invisible" => Status::Invisible,
        _ => Status::Online,
    }
}

/// A core refusal of a member operation, in the reference's words where it has some.
fn member_fail(src: &str, e: CoreError, l: Option<&str>) -> Value {
    match member_refusal(e) {
        Ok(text) => fail(src, &text, l),
        Err(e) => internal(src, e, l),
    }
}

/// The text of a core refusal of a member operation; other failures are given back.
pub(super) fn member_refusal(e: CoreError) -> Result<String, CoreError> {
    match e {
        CoreError::Forbidden("hierarchy") | CoreError::Forbidden("owner") => {
            Ok("Cannot manage users at or above your position".into())
        }
        CoreError::Forbidden(what) => Ok(format!(
            "Access denied: '{}' permission required",
            oc_perm(what)
        )),
        CoreError::NotFound(_) => Ok(USER_NOT_FOUND.into()),
        CoreError::Invalid(m) | CoreError::Conflict(m) => Ok(m),
        e => Err(e),
    }
}

/// The OriginChats name of a core permission reported by a refusal.
fn oc_perm(core: &str) -> &str {
    match core {
        "manage_members" => "manage_users",
        "manage_space" => "manage_server",
        "manage_rooms" => "manage_channels",
        "ban_members" | "kick_members" => "manage_users",
        other => other,
    }
}

impl OriginChats {
    /// The server settings in effect.
    pub fn server_settings(&self) -> ServerSettings {
        if let Some(s) = self
            .members
            .settings
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            return s;
        }
        ServerSettings {
            name: self.cfg.server_name.clone(),
            icon: self.cfg.server_icon.clone(),
            banner: self.cfg.server_banner.clone(),
        }
    }

    pub fn set_server_settings(&self, s: ServerSettings) {
        *self
            .members
            .settings
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some(s);
    }

    /// Loads the stored server settings (once they were ever changed).
    async fn load_settings(&self) {
        if let Ok((space, banner, updated)) = self.core.space_info(&self.space).await
            && updated
        {
            self.set_server_settings(ServerSettings {
                name: space.name,
                icon: space.icon_url.unwrap_or_default(),
                banner: banner.unwrap_or_default(),
            });
        }
    }

    /// Feeds the reference's limiter with the core's running timeouts: it lives in memory, and
    /// channels with permission lists consult only it, so a timeout set before a restart must
    /// hold there too.
    async fn seed_timeouts(&self) {
        const PAGE: u32 = 500;
        let now = now_ms();
        let mut after = String::new();
        loop {
            let page = match self
                .core
                .store()
                .space_members(self.space.clone(), after.clone(), PAGE)
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "originchats: cannot read the members' timeouts");
                    return;
                }
            };
            for (m, _) in &page {
                if let Some(until) = m.timeout_until.filter(|u| *u > now) {
                    self.limiter
                        .set_timeout_ms(&m.user_id, (until - now) as u64);
                }
            }
            match page.last() {
                Some((m, _)) if page.len() == PAGE as usize => after = m.user_id.0.clone(),
                _ => break,
            }
        }
    }

    /// Starts following the core (once): role, member, ban and server events of the space,
    /// from any dialect, refresh the roles cached on connections, room subscriptions and the
    /// server settings.
    pub async fn ensure_watching(self: &Arc<Self>) {
        if self.members.watching.swap(true, Ordering::AcqRel) {
            return;
        }
        self.load_settings().await;
        self.remember_roles().await;
        self.seed_timeouts().await;
        let (tx, mut rx) = mpsc::channel::<Event>(1024);
        self.core
            .hub()
            .observe(Topic::Space(self.space.clone()), tx);
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                let Some(oc) = weak.upgrade() else { break };
                oc.follow(event).await;
            }
        });
    }

    async fn follow(&self, event: Event) {
        match event {
            Event::RoleChanged { .. } => {
                self.members.epoch.fetch_add(1, Ordering::AcqRel);
                self.refresh_all_rooms().await;
                self.push_changed_roles().await;
            }
            Event::MemberUpdated { user, member, .. } => {
                self.members.epoch.fetch_add(1, Ordering::AcqRel);
                // A timeout set elsewhere holds in the reference's limiter too.
                if let Some(until) = member.timeout_until {
                    let left = (until - now_ms()).max(0) as u64;
                    if left > 0 {
                        self.limiter.set_timeout_ms(&user.id, left);
                    }
                } else {
                    self.limiter.clear_timeout(&user.id);
                }
                self.refresh_user_rooms(&user.id).await;
            }
            Event::MemberRemoved { user, .. } | Event::BanChanged { user, .. } => {
                self.members.epoch.fetch_add(1, Ordering::AcqRel);
                self.refresh_user_rooms(&user.id).await;
            }
            Event::SpaceUpdated { space } => {
                let banner = self
                    .core
                    .space_info(&self.space)
                    .await
                    .ok()
                    .and_then(|(_, b, _)| b);
                self.set_server_settings(ServerSettings {
                    name: space.name.clone(),
                    icon: space.icon_url.clone().unwrap_or_default(),
                    banner: banner.unwrap_or_default(),
                });
            }
            _ => {}
        }
    }

    /// Cached accounts reload before their next command (roles, nickname or membership changed).
    pub(crate) fn members_changed(&self) {
        self.members.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// After a ban or unban of `user`: its connections follow at once (the watcher would, a
    /// moment later).
    pub(crate) async fn moderated(&self, user: &UserId) {
        self.members_changed();
        self.refresh_user_rooms(user).await;
    }

    /// Re-subscribes every connection of `user` to the rooms it may view now.
    pub(crate) async fn refresh_user_rooms(&self, user: &UserId) {
        for (conn, u) in self.conns.authenticated() {
            if &u == user {
                self.resubscribe(conn, &u).await;
            }
        }
    }

    pub(crate) async fn refresh_all_rooms(&self) {
        for (conn, u) in self.conns.authenticated() {
            self.resubscribe(conn, &u).await;
        }
    }

    async fn resubscribe(&self, conn: crate::hub::ConnId, user: &UserId) {
        let Ok(account) = self.account_by_id(user).await else {
            return;
        };
        let Ok(channels) = self.viewable_rooms(&account).await else {
            return;
        };
        let Some((tx, kick)) = self.conns.handle(conn) else {
            return;
        };
        let rooms = channels.iter().map(|c| c.room.id.clone()).collect();
        let (added, removed) = self.conns.set_rooms(conn, rooms);
        let hub = self.core.hub();
        for r in added {
            hub.subscribe(
                Topic::Room(r),
                conn,
                crate::hub::Subscriber {
                    dialect: crate::dialects::ORIGINCHATS,
                    tx: tx.clone(),
                    kick: kick.clone(),
                },
            );
        }
        for r in removed {
            hub.unsubscribe(&Topic::Room(r), conn);
        }
    }

    /// Reloads the connection's cached account when roles changed since it was loaded (the
    /// reference caches roles at auth and never refreshes them: §1.10 🐞). A user no longer a
    /// member (banned, left) keeps the connection but no rooms.
    pub async fn refresh_account(&self, cx: &mut Cx) {
        let now = self.members.epoch.load(Ordering::Acquire);
        if cx.account.is_none() || cx.roles_epoch == now {
            return;
        }
        cx.roles_epoch = now;
        let id = cx.account.as_ref().map(|a| a.user.id.clone());
        if let Some(id) = id
            && let Ok(a) = self.account_by_id(&id).await
        {
            cx.account = Some(a);
        }
    }

    /// A user by username (case-insensitive) or id.
    pub async fn find_user(&self, name: &str) -> Result<Option<User>, CoreError> {
        let store = self.core.store();
        if let Some(u) = store.user_by_username(name.to_owned()).await? {
            return Ok(Some(u));
        }
        Ok(store.user(UserId(name.to_owned())).await?)
    }

    /// A member of the space by username or id (users who left or are banned are not found).
    async fn find_member(&self, name: &str) -> Result<Option<Account>, CoreError> {
        let Some(u) = self.find_user(name).await? else {
            return Ok(None);
        };
        if self
            .core
            .store()
            .member(self.space.clone(), u.id.clone())
            .await?
            .is_none()
        {
            return Ok(None);
        }
        Ok(Some(self.account(u).await?))
    }

    fn caller(cx: &Cx) -> Option<Account> {
        cx.account.clone()
    }

    async fn has_permission(&self, account: &Account, p: Permissions) -> bool {
        self.core
            .space_permissions(&account.user.id, &self.space)
            .await
            .is_ok_and(|have| have.contains(p))
    }

    /// `{"status","text"}` as others see it: `invisible` is `offline`, and so is anyone not
    /// connected (with their stored text).
    async fn visible_status(&self, user: &UserId, viewer_is_self: bool) -> Value {
        let (status, text) = self
            .core
            .chosen_status(user)
            .await
            .unwrap_or_else(|_| ("online".into(), String::new()));
        let connected = self.conns.user_connected(user);
        let shown = if !connected || (status == "invisible" && !viewer_is_self) {
            "offline".to_owned()
        } else {
            status
        };
        json!({"status": shown, "text": text})
    }

    pub async fn users_list(&self, cx: &mut Cx, r: proto::UsersList) -> Reply {
        const SRC: &str = "users_list";
        let l = r.listener.as_deref();
        let Some(me) = Self::caller(cx) else {
            return Reply::None;
        };
        let all = match self.roles().await {
            Ok(a) => a,
            Err(e) => return send(cx, internal(SRC, e, l)),
        };
        let members = match self
            .core
            .store()
            .space_members(self.space.clone(), String::new(), u32::MAX)
            .await
        {
            Ok(m) => m,
            Err(e) => return send(cx, internal(SRC, e.into(), l)),
        };
        let mut users = Vec::with_capacity(members.len());
        for (m, u) in members {
            if matches!(u.kind, UserKind::Ip | UserKind::System) {
                continue;
            }
            let (roles, color) = role_view(Some(&m), &all);
            users.push(json!({
                "username": u.username,
                "nickname": m.nickname.clone().or(u.display_name.clone()),
                "roles": roles,
                "color": color,
                "status": self.visible_status(&u.id, u.id == me.user.id).await,
                "cracked": OriginChats::is_cracked(&u),
                "pfp": u.avatar_url,
            }));
        }
        send(cx, with_listener(json!({"cmd": SRC, "users": users}), l))
    }

    pub async fn users_online(&self, cx: &mut Cx, r: proto::UsersOnline) -> Reply {
        const SRC: &str = "users_online";
        let l = r.listener.as_deref();
        let mut users = Vec::new();
        // One entry per authenticated connection, as the reference lists them; invisible
        // users are left out.
        for (_, id) in self.conns.authenticated() {
            let (status, text) = match self.core.chosen_status(&id).await {
                Ok(s) => s,
                Err(e) => return send(cx, internal(SRC, e, l)),
            };
            if status == "invisible" {
                continue;
            }
            match self.account_by_id(&id).await {
                Ok(a) => users.push(json!({
                    "username": a.user.username,
                    "nickname": a.nickname,
                    "roles": a.roles,
                    "color": a.color,
                    "status": {"status": status, "text": text},
                })),
                Err(e) => return send(cx, internal(SRC, e, l)),
            }
        }
        send(cx, with_listener(json!({"cmd": SRC, "users": users}), l))
    }

    /// Whether `user`'s stored status is `invisible`.
    pub async fn is_invisible(&self, user: &UserId) -> bool {
        self.core
            .chosen_status(user)
            .await
            .is_ok_and(|(s, _)| s == "invisible")
    }

    pub async fn status_set(&self, cx: &mut Cx, r: proto::StatusSet) -> Reply {
        const SRC: &str = "status_set";
        let l = r.listener.as_deref();
        let Some(me) = Self::caller(cx) else {
            return Reply::None;
        };
        let Some(status) = r.status else {
            return send(cx, fail(SRC, "Status is required", l));
        };
        let name = serde_json::to_value(status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let text = r.text.unwrap_or_default();
        let was_invisible = self.is_invisible(&me.user.id).await;
        if let Err(e) = self
            .core
            .set_status(&me.user, status_of(&name), text.clone())
            .await
        {
            return send(cx, internal(SRC, e, l));
        }
        self.members.set_invisible(&me.user.id, name == "invisible");
        let shown = json!({"status": name, "text": text});
        if name == "invisible" {
            if !was_invisible {
                self.conns.send_all(
                    &encode(&json!({"cmd": "user_disconnect", "username": me.user.username})),
                    None,
                );
            }
            return send(cx, with_listener(json!({"cmd": SRC, "status": shown}), l));
        }
        if was_invisible {
            self.conns.send_all(
                &encode(&json!({"cmd": "user_connect", "user": me.summary()})),
                None,
            );
        }
        let frame = json!({"cmd": "status_get", "username": me.user.username, "status": shown,
            "global": true});
        self.conns.send_all(&encode(&frame), Some(cx.conn));
        send(cx, with_listener(frame, l))
    }

    pub async fn status_get(&self, cx: &mut Cx, r: proto::StatusGet) -> Reply {
        const SRC: &str = "status_get";
        let l = r.listener.as_deref();
        let Some(me) = Self::caller(cx) else {
            return Reply::None;
        };
        let Some(name) = r.user.filter(|u| !u.is_empty()) else {
            return send(cx, fail(SRC, USER_REQUIRED, l));
        };
        let user = match self.find_user(&name).await {
            Ok(Some(u)) => u,
            Ok(None) => return send(cx, fail(SRC, USER_NOT_FOUND, l)),
            Err(e) => return send(cx, internal(SRC, e, l)),
        };
        let (status, text) = match self.core.chosen_status(&user.id).await {
            Ok(s) => s,
            Err(e) => return send(cx, internal(SRC, e, l)),
        };
        // The stored status, except that nobody else learns of `invisible`.
        let shown = if status == "invisible" && user.id != me.user.id {
            "offline".to_owned()
        } else {
            status
        };
        send(
            cx,
            with_listener(
                json!({"cmd": "status", "username": user.username,
                    "status": {"status": shown, "text": text}}),
                l,
            ),
        )
    }

    pub async fn user_update(&self, cx: &mut Cx, r: proto::UserUpdate) -> Reply {
        const SRC: &str = "user_update";
        let l = r.listener.as_deref();
        let Some(me) = Self::caller(cx) else {
            return Reply::None;
        };
        if !self.has_permission(&me, Permissions::MANAGE_MEMBERS).await {
            return send(
                cx,
                fail(SRC, "Access denied: 'manage_users' permission required", l),
            );
        }
        let Some(name) = r.user.filter(|u| !u.is_empty()) else {
            return send(cx, fail(SRC, USER_REQUIRED, l));
        };
        let target = match self.find_member(&name).await {
            Ok(Some(a)) => a,
            Ok(None) => return send(cx, fail(SRC, USER_NOT_FOUND, l)),
            Err(e) => return send(cx, internal(SRC, e, l)),
        };
        let Some(updates) = r.updates else {
            return send(cx, fail(SRC, "Updates must be an object", l));
        };
        let mut username = None;
        let mut nickname: Option<Option<String>> = None;
        for (k, v) in &updates {
            match k.as_str() {
                "username" => match v.as_str().map(str::trim) {
                    Some(s) if !s.is_empty() => username = Some(s.to_owned()),
                    _ => return send(cx, fail(SRC, "Username must be a non-empty string", l)),
                },
                "nickname" => match v {
                    Value::Null => nickname = Some(None),
                    Value::String(s) => nickname = Some(Some(s.clone())),
                    _ => return send(cx, fail(SRC, "Nickname must be a string or null", l)),
                },
                other => {
                    return send(cx, fail(SRC, &format!("Cannot update field: {other}"), l));
                }
            }
        }
        let id = target.user.id.clone();
        let mut user = target.user.clone();
        if username.is_some() {
            user = match self
                .core
                .update_user_by(
                    &me.user,
                    &self.space,
                    &id,
                    UserProfile {
                        username,
                        ..Default::default()
                    },
                )
                .await
            {
                Ok(u) => u,
                Err(CoreError::NotFound(_)) => {
                    return send(cx, fail(SRC, "Target user not found", l));
                }
                Err(CoreError::Conflict(_)) => {
                    return send(cx, fail(SRC, "Username already taken", l));
                }
                Err(e) => return send(cx, member_fail(SRC, e, l)),
            };
        }
        let mut nick = target.nickname.clone();
        if let Some(n) = nickname {
            match self.core.set_nickname(&me.user, &self.space, &id, n).await {
                Ok(m) => nick = m.nickname,
                Err(CoreError::NotFound(_)) => {
                    return send(cx, fail(SRC, "Target user not found", l));
                }
                Err(e) => return send(cx, member_fail(SRC, e, l)),
            }
        }
        self.members.epoch.fetch_add(1, Ordering::AcqRel);
        self.conns.send_all(
            &encode(&json!({"cmd": "user_updated", "user_id": id.0,
                "username": user.username, "nickname": nick})),
            None,
        );
        send(
            cx,
            with_listener(
                json!({"cmd": SRC, "user": user.username, "nickname": nick}),
                l,
            ),
        )
    }

    pub async fn user_timeout(&self, cx: &mut Cx, r: proto::UserTimeout) -> Reply {
        const SRC: &str = "user_timeout";
        let l = r.listener.as_deref();
        let Some(me) = Self::caller(cx) else {
            return Reply::None;
        };
        if !me.has_role("owner") {
            return send(cx, with_listener(error(None, OWNER_REQUIRED), l));
        }
        let Some(name) = r.user.clone().filter(|u| !u.is_empty()) else {
            return send(cx, fail(SRC, USER_REQUIRED, l));
        };
        let Some(secs) = r.timeout.filter(|t| *t > 0) else {
            return send(cx, fail(SRC, "Timeout must be a positive integer", l));
        };
        let target = match self.find_member(&name).await {
            Ok(Some(a)) => a,
            Ok(None) => return send(cx, fail(SRC, USER_NOT_FOUND, l)),
            Err(e) => return send(cx, internal(SRC, e, l)),
        };
        let until = now_ms().saturating_add(secs.saturating_mul(1000));
        if let Err(e) = self
            .core
            .timeout_member(&me.user, &self.space, &target.user.id, Some(until), None)
            .await
        {
            return send(cx, member_fail(SRC, e, l));
        }
        if self.limiter.enabled {
            self.limiter
                .set_timeout_ms(&target.user.id, (secs as u64) * 1000);
            // The reference tells the target's first connection.
            if let Some(conn) = self
                .conns
                .authenticated()
                .into_iter()
                .find(|(_, u)| *u == target.user.id)
                .map(|(c, _)| c)
                && let Some((tx, kick)) = self.conns.handle(conn)
            {
                super::conns::push(
                    &tx,
                    &kick,
                    encode(&json!({"cmd": "rate_limit", "reason": "User timeout set",
                        "length": secs * 1000})),
                );
            }
        }
        send(
            cx,
            with_listener(json!({"cmd": SRC, "user": name, "timeout": secs}), l),
        )
    }

    pub async fn user_ban(&self, cx: &mut Cx, r: proto::UserBan) -> Reply {
        self.ban_command(cx, r.user, r.listener, true).await
    }

    pub async fn user_unban(&self, cx: &mut Cx, r: proto::UserUnban) -> Reply {
        self.ban_command(cx, r.user, r.listener, false).await
    }

    async fn ban_command(
        &self,
        cx: &mut Cx,
        user: Option<String>,
        listener: Option<String>,
        ban: bool,
    ) -> Reply {
        let src = if ban { "user_ban" } else { "user_unban" };
        let l = listener.as_deref();
        let Some(me) = Self::caller(cx) else {
            return Reply::None;
        };
        if !me.has_role("owner") {
            return send(cx, with_listener(error(None, OWNER_REQUIRED), l));
        }
        let Some(name) = user.filter(|u| !u.is_empty()) else {
            return send(cx, fail(src, USER_REQUIRED, l));
        };
        let target = match self.find_user(&name).await {
            Ok(Some(u)) => u,
            Ok(None) => return send(cx, fail(src, USER_NOT_FOUND, l)),
            Err(e) => return send(cx, internal(src, e, l)),
        };
        let done = if ban {
            self.core
                .ban_user(&me.user, &self.space, &target.id, None)
                .await
                .map(|_| true)
        } else {
            self.core
                .unban_user(&me.user, &self.space, &target.id)
                .await
                .map(|b| b.is_some())
        };
        match done {
            Ok(flag) => {
                self.moderated(&target.id).await;
                let key = if ban { "banned" } else { "unbanned" };
                send(
                    cx,
                    with_listener(json!({"cmd": src, "user": target.username, key: flag}), l),
                )
            }
            Err(e) => send(cx, member_fail(src, e, l)),
        }
    }

    pub async fn users_banned_list(&self, cx: &mut Cx, r: proto::UsersBannedList) -> Reply {
        const SRC: &str = "users_banned_list";
        let l = r.listener.as_deref();
        let Some(me) = Self::caller(cx) else {
            return Reply::None;
        };
        if !me.has_role("owner") {
            return send(cx, with_listener(error(None, OWNER_REQUIRED), l));
        }
        let bans = match self.core.bans(&me.user, &self.space).await {
            Ok(b) => b,
            Err(e) => return send(cx, member_fail(SRC, e, l)),
        };
        let mut users = Vec::with_capacity(bans.len());
        for b in bans {
            if let Ok(Some(u)) = self.core.store().user(b.user_id.clone()).await {
                users.push(u.username);
            }
        }
        send(cx, with_listener(json!({"cmd": SRC, "users": users}), l))
    }

    pub async fn user_leave(&self, cx: &mut Cx, r: proto::UserLeave) -> Reply {
        const SRC: &str = "user_leave";
        let l = r.listener.as_deref();
        let Some(me) = Self::caller(cx) else {
            return Reply::None;
        };
        if let Err(e) = self.core.remove_account(&me.user).await {
            return send(cx, internal(SRC, e, l));
        }
        self.members.epoch.fetch_add(1, Ordering::AcqRel);
        self.conns.send_all(
            &encode(&json!({"cmd": SRC, "username": me.user.username})),
            None,
        );
        send(
            cx,
            with_listener(
                json!({"cmd": SRC, "user": me.user.username, "val": "User left server"}),
                l,
            ),
        )
    }

    pub async fn user_roles_get(&self, cx: &mut Cx, r: proto::UserRolesGet) -> Reply {
        const SRC: &str = "user_roles_get";
        let l = r.listener.as_deref();
        let Some(name) = r.user.filter(|u| !u.is_empty()) else {
            return send(cx, fail(SRC, USER_REQUIRED, l));
        };
        match self.find_member(&name).await {
            Ok(Some(a)) => send(
                cx,
                with_listener(
                    json!({"cmd": SRC, "user": a.user.username, "roles": a.roles,
                        "color": a.color}),
                    l,
                ),
            ),
            Ok(None) => send(cx, fail(SRC, USER_NOT_FOUND, l)),
            Err(e) => send(cx, internal(SRC, e, l)),
        }
    }

    pub async fn user_roles_set(&self, cx: &mut Cx, r: proto::UserRolesSet) -> Reply {
        const SRC: &str = "user_roles_set";
        let l = r.listener.as_deref();
        let Some(me) = Self::caller(cx) else {
            return Reply::None;
        };
        if !self.has_permission(&me, Permissions::MANAGE_MEMBERS).await {
            return send(
                cx,
                fail(SRC, "Access denied: 'manage_users' permission required", l),
            );
        }
        let Some(name) = r.user.filter(|u| !u.is_empty()) else {
            return send(cx, fail(SRC, USER_REQUIRED, l));
        };
        let Some(wanted) = r.roles.filter(|v| !v.is_empty()) else {
            return send(cx, fail(SRC, "Roles list is required", l));
        };
        let target = match self.find_member(&name).await {
            Ok(Some(a)) => a,
            Ok(None) => return send(cx, fail(SRC, USER_NOT_FOUND, l)),
            Err(e) => return send(cx, internal(SRC, e, l)),
        };
        let all = match self.roles().await {
            Ok(a) => a,
            Err(e) => return send(cx, internal(SRC, e, l)),
        };
        let mut ids: Vec<RoleId> = Vec::new();
        for n in &wanted {
            match all.iter().find(|r| super::perms::role_name(r) == n) {
                Some(r) => ids.push(r.id.clone()),
                None => return send(cx, fail(SRC, &format!("Role '{n}' does not exist"), l)),
            }
        }
        match self
            .core
            .set_member_roles(&me.user, &self.space, &target.user.id, ids)
            .await
        {
            Ok(_) => {}
            Err(CoreError::Forbidden("hierarchy")) => {
                return send(
                    cx,
                    fail(SRC, "Cannot manage roles at or above your position", l),
                );
            }
            Err(e) => return send(cx, member_fail(SRC, e, l)),
        }
        self.members.epoch.fetch_add(1, Ordering::AcqRel);
        self.refresh_user_rooms(&target.user.id).await;
        let a = match self.account_by_id(&target.user.id).await {
            Ok(a) => a,
            Err(e) => return send(cx, internal(SRC, e, l)),
        };
        let frame = json!({"cmd": "user_roles_get", "user": a.user.username, "roles": a.roles,
            "color": a.color, "global": true});
        self.conns.send_all(&encode(&frame), Some(cx.conn));
        send(cx, with_listener(frame, l))
    }

    pub async fn pfp_set(&self, cx: &mut Cx, r: proto::PfpSet) -> Reply {
        const SRC: &str = "pfp_set";
        let l = r.listener.as_deref();
        let Some(me) = Self::caller(cx) else {
            return Reply::None;
        };
        if !self.cfg.cracked() {
            return send(
                cx,
                fail(
                    SRC,
                    "Profile pictures are managed by Rotur for this account",
                    l,
                ),
            );
        }
        let Some(url) = r.url.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()) else {
            return send(cx, fail(SRC, "URL required", l));
        };
        let ok_scheme = url
            .split_once("://")
            .is_some_and(|(s, rest)| matches!(s, "http" | "https") && !rest.is_empty());
        if !ok_scheme {
            return send(cx, fail(SRC, "Invalid URL format", l));
        }
        match self
            .core
            .update_own_profile(
                &me.user,
                UserProfile {
                    avatar_url: Some(Some(url.clone())),
                    ..Default::default()
                },
            )
            .await
        {
            Ok(u) => {
                if let Some(a) = cx.account.as_mut() {
                    a.user = u;
                }
                send(cx, with_listener(json!({"cmd": SRC, "val": url}), l))
            }
            Err(e) => {
                tracing::warn!(error = %e, "originchats: pfp_set failed");
                send(cx, fail(SRC, "Failed to update profile picture", l))
            }
        }
    }

    pub async fn pfp_get(&self, cx: &mut Cx, r: proto::PfpGet) -> Reply {
        const SRC: &str = "pfp_get";
        let l = r.listener.as_deref();
        let Some(name) = r.username.filter(|u| !u.is_empty()) else {
            return send(cx, fail(SRC, "Username required", l));
        };
        match self.find_user(&name).await {
            Ok(Some(u)) => send(
                cx,
                with_listener(
                    json!({"cmd": SRC, "val": u.avatar_url, "username": u.username}),
                    l,
                ),
            ),
            Ok(None) => send(cx, fail(SRC, USER_NOT_FOUND, l)),
            Err(e) => send(cx, internal(SRC, e, l)),
        }
    }
}
