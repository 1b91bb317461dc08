//! The audit log (OriginChats `modlog`): what moderators and managers did, per space. Written by
//! the role, member, ban, server, channel, message, emoji and webhook operations (and OriginChats
//! `plugins_reload`) through [`Core::audit`].

use super::ids::{SpaceId, UserId, now_ms};
use super::messages::Message;
use super::operations::Core;
use super::permissions::Role;
use super::rooms::{Room, RoomKind};
use super::users::User;
use super::{CoreError, CoreResult};
use serde_json::Value;

/// The categories of OriginChats' `constants.AUDIT_CATEGORIES`.
pub mod categories {
    pub const USERS: &str = "user_moderation";
    pub const ROLES: &str = "role_management";
    pub const CHANNELS: &str = "channel_management";
    pub const MESSAGES: &str = "message_moderation";
    pub const SERVER: &str = "server_management";
}

/// One logged action.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub space_id: SpaceId,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub action: String,
    pub category: String,
    pub target_id: Option<String>,
    pub target_name: Option<String>,
    pub details: Value,
    /// Milliseconds since the epoch.
    pub created_at: i64,
}

/// What an action was done to.
#[derive(Debug, Clone)]
pub enum AuditTarget {
    None,
    /// (id, name)
    Named(String, String),
}

impl AuditTarget {
    pub fn role(r: &Role) -> Self {
        AuditTarget::Named(r.id.0.clone(), r.name.clone())
    }

    pub fn user(u: &User) -> Self {
        AuditTarget::Named(u.id.0.clone(), u.username.clone())
    }

    pub fn room(r: &Room) -> Self {
        AuditTarget::Named(r.id.0.clone(), r.name.clone())
    }
}

/// Filters of an audit query (all optional but the space).
#[derive(Debug, Clone)]
pub struct AuditFilter {
    pub space_id: SpaceId,
    pub category: Option<String>,
    pub actor_id: Option<String>,
    pub target_id: Option<String>,
    pub action: Option<String>,
    /// Only entries after this time (ms).
    pub after: Option<i64>,
    pub limit: u32,
    pub offset: u32,
}

/// Longest audit query page.
pub const MAX_AUDIT_PAGE: u32 = 200;

impl Core {
    /// Records an action in the audit log. Logging never fails the action it describes: a
    /// storage failure is reported in the server log only.
    pub async fn audit(
        &self,
        space: &SpaceId,
        actor: Option<&User>,
        action: &str,
        category: &str,
        target: AuditTarget,
        details: Value,
    ) {
        let (target_id, target_name) = match target {
            AuditTarget::None => (None, None),
            AuditTarget::Named(id, name) => (Some(id), Some(name)),
        };
        let entry = AuditEntry {
            space_id: space.clone(),
            actor_id: actor.map(|a| a.id.0.clone()),
            actor_name: actor.map(|a| a.username.clone()),
            action: action.to_owned(),
            category: category.to_owned(),
            target_id,
            target_name,
            details,
            created_at: now_ms(),
        };
        if let Err(e) = self.store().insert_audit(entry.clone()).await {
            tracing::warn!(error = %e, action, "cannot write the audit log");
        }
        self.hub().publish(super::events::Event::ActionTaken {
            entry: std::sync::Arc::new(entry),
        });
    }

    /// Announces `user`'s own leaving of `space` (OriginChats' plugin event `user_leave`); the
    /// audit log does not record it, as the reference's modlog does not.
    pub fn announce_leave(&self, space: &SpaceId, user: &User) {
        let entry = AuditEntry {
            space_id: space.clone(),
            actor_id: Some(user.id.0.clone()),
            actor_name: Some(user.username.clone()),
            action: "user_leave".into(),
            category: categories::USERS.into(),
            target_id: Some(user.id.0.clone()),
            target_name: Some(user.username.clone()),
            details: serde_json::json!({}),
            created_at: now_ms(),
        };
        self.hub().publish(super::events::Event::ActionTaken {
            entry: std::sync::Arc::new(entry),
        });
    }

    /// Records a change to a space's channel. Threads and private rooms are not channels of
    /// the space's structure, so their changes are not logged (as in OriginChats).
    pub async fn audit_channel(&self, actor: &User, action: &str, room: &Room, details: Value) {
        let Some(space) = &room.space_id else { return };
        if room.kind.is_private() || room.kind == RoomKind::Thread {
            return;
        }
        self.audit(
            space,
            Some(actor),
            action,
            categories::CHANNELS,
            AuditTarget::room(room),
            details,
        )
        .await;
    }

    /// Records a message moderation action (`message_delete`, `message_pin`, `message_unpin`)
    /// in the space of the message's room; the target is the message's author. Messages of
    /// private rooms belong to no space and are not logged.
    pub async fn audit_message(&self, actor: &User, action: &str, message: &Message) {
        let Ok(Some(room)) = self.store().room(message.room_id.clone()).await else {
            return;
        };
        let Some(space) = &room.space_id else { return };
        if room.kind.is_private() {
            return;
        }
        let mut details = serde_json::json!({
            "message_id": message.id.0,
            "channel": room.name,
        });
        // A thread's messages name their forum as the channel, as OriginChats addresses them.
        if room.kind == RoomKind::Thread
            && let Some(parent) = &room.parent_id
            && let Ok(Some(forum)) = self.store().room(parent.clone()).await
        {
            details["channel"] = Value::String(forum.name);
            details["thread_id"] = Value::String(room.id.0.clone());
        }
        self.audit(
            space,
            Some(actor),
            action,
            categories::MESSAGES,
            AuditTarget::Named(message.author.id.0.clone(), message.author.username.clone()),
            details,
        )
        .await;
    }

    /// The audit target naming user `id` (its id alone when unknown).
    pub async fn audit_user(&self, id: &UserId) -> AuditTarget {
        match self.store().user(id.clone()).await {
            Ok(Some(u)) => AuditTarget::user(&u),
            _ => AuditTarget::Named(id.0.clone(), id.0.clone()),
        }
    }

    /// Audit entries, newest first, and how many match; needs `VIEW_AUDIT_LOG` or
    /// `MANAGE_MEMBERS` in the space.
    pub async fn audit_log(
        &self,
        actor: &User,
        filter: AuditFilter,
    ) -> CoreResult<(Vec<AuditEntry>, i64)> {
        self.require_audit(actor, &filter.space_id).await?;
        if filter.limit == 0 || filter.limit > MAX_AUDIT_PAGE {
            return Err(CoreError::Invalid(format!(
                "limit must be 1-{MAX_AUDIT_PAGE}"
            )));
        }
        Ok(self.store().audit_entries(filter).await?)
    }

    /// (category, action, count) of every logged action of a space (same permission).
    pub async fn audit_counts(
        &self,
        actor: &User,
        space: &SpaceId,
    ) -> CoreResult<Vec<(String, String, i64)>> {
        self.require_audit(actor, space).await?;
        Ok(self.store().audit_counts(space.clone()).await?)
    }

    async fn require_audit(&self, actor: &User, space: &SpaceId) -> CoreResult<()> {
        let p = self.space_permissions(&actor.id, space).await?;
        if p.contains(super::permissions::Permissions::VIEW_AUDIT_LOG)
            || p.contains(super::permissions::Permissions::MANAGE_MEMBERS)
        {
            Ok(())
        } else {
            Err(CoreError::Forbidden("view_audit_log"))
        }
    }
}
