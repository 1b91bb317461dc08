//! `GET /servers/{id}/audit-logs` (§2.8) over the core's audit log, the same log OriginChats
//! shows as its modlog. Needs `server.view_audit_log`; core action names are shown as the
//! reference's (`member_ban`, `role_update`, ...).

use super::threads::limit_of;
use super::{ApiError, Authed, ok, px};
use crate::core::audit::{AuditEntry, categories};
use crate::core::ids::{SpaceId, UserId};
use crate::core::permissions::Permissions;
use crate::dialects::plexichat::ids;
use crate::net::AppState;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;

const DEFAULT_LIMIT: u32 = 50;

/// The reference's name of a core audit action.
pub fn reference_action(core: &str) -> &str {
    match core {
        "user_ban" => "member_ban",
        "user_unban" => "member_unban",
        "user_timeout" => "member_timeout",
        "user_update" => "member_update",
        "member_role_add" | "member_role_remove" | "user_roles_set" | "self_role_add"
        | "self_role_remove" => "member_role_update",
        "role_create" | "role_delete" => core,
        // Renames, recolours, permission edits and reorders are all updates of roles.
        a if a.starts_with("role_") => "role_update",
        other => other,
    }
}

fn target_type(category: &str) -> Option<&'static str> {
    match category {
        categories::USERS => Some("user"),
        categories::ROLES => Some("role"),
        categories::CHANNELS => Some("channel"),
        categories::MESSAGES => Some("message"),
        categories::SERVER => Some("server"),
        _ => None,
    }
}

fn entry_json(number: i64, server_wire_id: &str, e: &AuditEntry) -> Value {
    let mut changes = match &e.details {
        Value::Object(m) => m.clone(),
        _ => serde_json::Map::new(),
    };
    // The reference keeps the reason in its own field.
    let reason = changes
        .remove("reason")
        .and_then(|r| r.as_str().map(str::to_owned));
    let kind = target_type(&e.category);
    let target_id = match (&e.target_id, kind) {
        (Some(t), _) => Some(ids::wire(t)),
        (None, Some("server")) => Some(server_wire_id.to_owned()),
        (None, _) => None,
    };
    let user = e
        .actor_id
        .as_ref()
        .map(|id| json!({"id": ids::wire(id), "username": e.actor_name}));
    json!({
        "id": number.to_string(),
        "server_id": server_wire_id,
        "user_id": e.actor_id.as_deref().map(ids::wire),
        "user": user,
        "action": reference_action(&e.action),
        "target_type": kind,
        "target_id": target_id,
        "target_name": e.target_name,
        "changes": if changes.is_empty() { Value::Null } else { Value::Object(changes) },
        "reason": reason,
        "created_at": e.created_at,
    })
}

/// `GET /servers/{server_id}/audit-logs?limit=50&user_id=&action_type=&before=`.
pub async fn list(
    State(st): State<AppState>,
    auth: Authed,
    Path(server): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let me = &auth.user.id;
    let space = ids::core(&server)
        .map(SpaceId)
        .ok_or_else(|| ApiError::bad_request("Invalid server ID"))?;
    let limit = q.get("limit").map_or(Ok(DEFAULT_LIMIT), |v| limit_of(v))?;
    let actor = match q.get("user_id").filter(|s| !s.is_empty()) {
        None => None,
        Some(u) => Some(UserId(
            ids::core(u).ok_or_else(|| ApiError::bad_request("Invalid user ID"))?,
        )),
    };
    let before = match q.get("before").filter(|s| !s.is_empty()) {
        None => None,
        Some(b) => Some(
            b.parse::<i64>()
                .map_err(|_| ApiError::bad_request("Invalid before"))?,
        ),
    };
    if px
        .core
        .store()
        .member(space.clone(), me.clone())
        .await?
        .is_none()
    {
        return Err(ApiError::not_found("Server not found"));
    }
    let perms = px
        .core
        .space_permissions(me, &space)
        .await
        .map_err(|e| ApiError::core(e, "Server"))?;
    if !perms.contains(Permissions::VIEW_AUDIT_LOG) {
        return Err(ApiError::forbidden("Missing permissions"));
    }
    // One reference name covers several core actions: filter on every core action of this
    // server's log that shows under the asked name.
    let wanted: Option<Vec<String>> = match q.get("action_type").filter(|s| !s.is_empty()) {
        None => None,
        Some(name) => Some(
            px.core
                .audit_counts(&auth.user, &space)
                .await
                .map_err(|e| ApiError::core(e, "Server"))?
                .into_iter()
                .map(|(_, action, _)| action)
                .filter(|a| reference_action(a) == name.as_str())
                .collect(),
        ),
    };
    let wanted_refs: Option<Vec<&str>> = wanted
        .as_ref()
        .map(|v| v.iter().map(String::as_str).collect());
    let entries = px
        .db
        .audit_page(
            &space,
            actor.as_ref().map(|a| a.0.as_str()),
            wanted_refs.as_deref(),
            before,
            limit,
        )
        .await?;
    let server_wire_id = ids::wire(&space.0);
    let out: Vec<Value> = entries
        .iter()
        .map(|(n, e)| entry_json(*n, &server_wire_id, e))
        .collect();
    Ok(ok(&out))
}

#[cfg(test)]
mod tests {
    use super::reference_action;

    #[test]
    fn core_actions_show_under_the_reference_names() {
        assert_eq!(reference_action("user_ban"), "member_ban");
        assert_eq!(reference_action("member_kick"), "member_kick");
        assert_eq!(reference_action("role_update"), "role_update");
        assert_eq!(reference_action("role_reorder"), "role_update");
        assert_eq!(reference_action("role_create"), "role_create");
        assert_eq!(reference_action("user_roles_set"), "member_role_update");
        assert_eq!(reference_action("server_update"), "server_update");
    }
}
