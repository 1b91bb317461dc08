//! §2.8: rate_limit_status / rate_limit_reset, server_update (stored in the core's space, so
//! later handshakes, `server_info` and `/info` show it: fixing the reference's 🐞), and the
//! moderation log (`modlog_get`, `modlog_summary`) over the core's audit log.

use super::OriginChats;
use super::frames::{encode, with_listener};
use super::messages::{fail, internal, send};
use super::session::Cx;
use crate::core::CoreError;
use crate::core::audit::{AuditEntry, AuditFilter};
use crate::core::moderation::SpaceUpdate;
use crate::core::permissions::Permissions;
use crate::net::ws::Reply;
use chorus_protocol::originchats as proto;
use serde_json::{Map, Value, json};

const DISABLED: &str = "Rate limiter not available or disabled";
const MODLOG_DENIED: &str = "Access denied: 'view_audit_log' or 'manage_users' permission required";
const MANAGE_SERVER: &str = "Access denied: 'manage_server' permission required";

fn entry_json(e: &AuditEntry) -> Value {
    let actor = e.actor_id.clone().unwrap_or_default();
    json!({
        "id": format!("{}-{}", e.created_at, actor),
        "action": e.action,
        "category": e.category,
        "actor_id": actor,
        "actor_name": e.actor_name.clone().unwrap_or_default(),
        "target_id": e.target_id,
        "target_name": e.target_name,
        "details": if e.details.is_object() { e.details.clone() } else { json!({}) },
        "timestamp": e.created_at as f64 / 1000.0,
    })
}

impl OriginChats {
    async fn space_perms(&self, cx: &Cx) -> Permissions {
        let Some(a) = &cx.account else {
            return Permissions::NONE;
        };
        self.core
            .space_permissions(&a.user.id, &self.space)
            .await
            .unwrap_or(Permissions::NONE)
    }

    pub async fn rate_limit_status(&self, cx: &mut Cx, r: proto::RateLimitStatus) -> Reply {
        const SRC: &str = "rate_limit_status";
        let l = r.listener.as_deref();
        let Some(me) = cx.account.clone() else {
            return Reply::None;
        };
        let target = match r.user.as_deref().filter(|u| !u.is_empty()) {
            None => me.user.clone(),
            Some(name) => match self.find_user(name).await {
                Ok(Some(u)) => u,
                Ok(None) => return send(cx, fail(SRC, super::members::USER_NOT_FOUND, l)),
                Err(e) => return send(cx, internal(SRC, e, l)),
            },
        };
        if target.id != me.user.id && !me.has_role("owner") {
            return send(
                cx,
                fail(
                    SRC,
                    "Access denied: can only check your own rate limit status",
                    l,
                ),
            );
        }
        if !self.limiter.enabled {
            return send(cx, fail(SRC, DISABLED, l));
        }
        let (minute, limit, recent, burst, cooldown) = self.limiter.status(&target.id);
        send(
            cx,
            with_listener(
                json!({"cmd": SRC, "user": target.username, "status": {
                    "messages_this_minute": minute,
                    "messages_per_minute_limit": limit,
                    "recent_messages": recent,
                    "burst_limit": burst,
                    "cooldown_remaining": cooldown,
                }}),
                l,
            ),
        )
    }

    pub async fn rate_limit_reset(&self, cx: &mut Cx, r: proto::RateLimitReset) -> Reply {
        const SRC: &str = "rate_limit_reset";
        let l = r.listener.as_deref();
        if !self
            .space_perms(cx)
            .await
            .contains(Permissions::MANAGE_SPACE)
        {
            return send(cx, fail(SRC, MANAGE_SERVER, l));
        }
        let Some(name) = r.user.clone().filter(|u| !u.is_empty()) else {
            return send(cx, fail(SRC, super::members::USER_REQUIRED, l));
        };
        if !self.limiter.enabled {
            return send(cx, fail(SRC, DISABLED, l));
        }
        let user = match self.find_user(&name).await {
            Ok(Some(u)) => u,
            Ok(None) => return send(cx, fail(SRC, super::members::USER_NOT_FOUND, l)),
            Err(e) => return send(cx, internal(SRC, e, l)),
        };
        self.limiter.reset(&user.id);
        send(
            cx,
            with_listener(
                json!({"cmd": SRC, "user": name, "val": format!("Rate limit reset for user {name}")}),
                l,
            ),
        )
    }

    /// `server_info` from the stored settings (the configuration until `server_update`).
    pub async fn server_info_frame(&self) -> Value {
        let s = self.server_settings();
        json!({"cmd": "server_info", "name": s.name, "icon": s.icon, "banner": s.banner})
    }

    pub async fn server_update(&self, cx: &mut Cx, r: proto::ServerUpdate) -> Reply {
        const SRC: &str = "server_update";
        let l = r.listener.as_deref();
        let Some(me) = cx.account.clone() else {
            return Reply::None;
        };
        if !self
            .space_perms(cx)
            .await
            .contains(Permissions::MANAGE_SPACE)
        {
            return send(cx, fail(SRC, MANAGE_SERVER, l));
        }
        // null is ignored, as in the reference (nothing can be cleared).
        let (name, icon, banner) = (r.name.flatten(), r.icon.flatten(), r.banner.flatten());
        if name.is_none() && icon.is_none() && banner.is_none() {
            return send(cx, fail(SRC, "No updates provided", l));
        }
        let current = self.server_settings();
        // The first update stores every setting, so the configured ones are kept.
        let update = SpaceUpdate {
            name: Some(name.unwrap_or(current.name)),
            description: None,
            icon_url: Some(Some(icon.unwrap_or(current.icon))),
            banner_url: Some(Some(banner.unwrap_or(current.banner))),
        };
        let space = match self.core.update_space(&me.user, &self.space, update).await {
            Ok(s) => s,
            Err(CoreError::Forbidden(_)) => return send(cx, fail(SRC, MANAGE_SERVER, l)),
            Err(CoreError::Invalid(m)) => return send(cx, fail(SRC, &m, l)),
            Err(e) => return send(cx, internal(SRC, e, l)),
        };
        let banner = self
            .core
            .space_info(&self.space)
            .await
            .ok()
            .and_then(|(_, b, _)| b)
            .unwrap_or_default();
        let settings = super::members::ServerSettings {
            name: space.name.clone(),
            icon: space.icon_url.clone().unwrap_or_default(),
            banner,
        };
        self.set_server_settings(settings.clone());
        let frame = json!({"cmd": SRC, "name": settings.name, "icon": settings.icon,
            "banner": settings.banner});
        self.conns.send_all(&encode(&frame), None);
        send(cx, with_listener(frame, l))
    }

    pub async fn modlog_get(&self, cx: &mut Cx, r: proto::ModlogGet) -> Reply {
        const SRC: &str = "modlog_get";
        let l = r.listener.as_deref();
        let Some(me) = cx.account.clone() else {
            return Reply::None;
        };
        let after = match &r.after {
            None => None,
            Some(n) => match n.as_f64() {
                Some(f) if f.is_finite() && f >= 0.0 => Some((f * 1000.0) as i64),
                _ => return send(cx, fail(SRC, "After must be a valid Unix timestamp", l)),
            },
        };
        let limit = r.limit.unwrap_or(100);
        let offset = r.offset.unwrap_or(0);
        let filter = AuditFilter {
            space_id: self.space.clone(),
            category: r.category.clone(),
            actor_id: r.actor.clone(),
            target_id: r.target.clone(),
            action: r.action.clone(),
            after,
            limit: limit as u32,
            offset: offset as u32,
        };
        match self.core.audit_log(&me.user, filter).await {
            Ok((entries, total)) => send(
                cx,
                with_listener(
                    json!({"cmd": SRC, "entries": entries.iter().map(entry_json).collect::<Vec<_>>(),
                        "total": total, "offset": offset, "limit": limit}),
                    l,
                ),
            ),
            Err(CoreError::Forbidden(_)) => send(cx, fail(SRC, MODLOG_DENIED, l)),
            Err(CoreError::Invalid(_)) => send(cx, fail(SRC, "Limit must be between 1 and 200", l)),
            Err(e) => send(cx, internal(SRC, e, l)),
        }
    }

    pub async fn modlog_summary(&self, cx: &mut Cx, r: proto::ModlogSummary) -> Reply {
        const SRC: &str = "modlog_summary";
        let l = r.listener.as_deref();
        let Some(me) = cx.account.clone() else {
            return Reply::None;
        };
        match self.core.audit_counts(&me.user, &self.space).await {
            Ok(rows) => {
                let (mut actions, mut cats) = (Map::new(), Map::new());
                let mut total = 0i64;
                for (cat, action, n) in rows {
                    actions.insert(format!("{cat}.{action}"), json!(n));
                    let c = cats.entry(cat).or_insert(json!(0));
                    *c = json!(c.as_i64().unwrap_or(0) + n);
                    total += n;
                }
                send(
                    cx,
                    with_listener(
                        json!({"cmd": SRC, "action_counts": actions, "category_totals": cats,
                            "total": total}),
                        l,
                    ),
                )
            }
            Err(CoreError::Forbidden(_)) => send(cx, fail(SRC, MODLOG_DENIED, l)),
            Err(e) => send(cx, internal(SRC, e, l)),
        }
    }
}
