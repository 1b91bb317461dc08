//! Role commands (§2.4): roles_list, role_create/update/set/delete/reorder,
//! role_permissions_set/get, self_role_add/remove, self_roles_list. Roles are the core's roles
//! of the space; names, not ids, are used for every guard (fixing the reference's 🐞), and
//! every change is also seen by Plexichat (GUILD_ROLE_*).

use super::frames::{encode, with_listener};
use super::messages::{fail, internal, send};
use super::perms::{self, PROTECTED, SYSTEM, positions, role_json, role_name};
use super::session::Cx;
use super::{Account, OriginChats};
use crate::core::CoreError;
use crate::core::permissions::{Permissions, Role};
use crate::core::roles::{NewRole, Placement, RoleDetails, RoleEdit};
use crate::net::ws::Reply;
use chorus_protocol::originchats as proto;
use serde_json::{Map, Value, json};
use std::sync::atomic::Ordering;

const MANAGE_ROLES: &str = "Access denied: 'manage_roles' permission required";
const HIERARCHY: &str = "Cannot manage roles at or above your position";

/// The fields a role may be given (role_create, role_update, role_set `data`).
#[derive(Default)]
struct Fields {
    name: Option<String>,
    description: Option<Option<String>>,
    color: Option<Option<String>>,
    hoisted: Option<bool>,
    self_assignable: Option<bool>,
    permissions: Option<Vec<String>>,
    category: Option<Option<String>>,
}

impl Fields {
    fn edit(self, rename: bool) -> RoleEdit {
        RoleEdit {
            name: if rename { self.name } else { None },
            permissions: self
                .permissions
                .map(|p| perms::from_names(p.iter().map(String::as_str))),
            color: self.color,
            hoist: self.hoisted,
            self_assignable: self.self_assignable,
            description: self.description,
            category: self.category,
            ..Default::default()
        }
    }

    /// From a free-form `data` object (role_set); wrongly typed fields are ignored.
    fn from_map(m: &indexmap::IndexMap<String, Value>) -> Self {
        let opt_str = |v: &Value| match v {
            Value::Null => Some(None),
            Value::String(s) => Some(Some(s.clone())),
            _ => None,
        };
        Fields {
            name: m.get("name").and_then(Value::as_str).map(str::to_owned),
            description: m.get("description").and_then(opt_str),
            color: m.get("color").and_then(opt_str),
            hoisted: m.get("hoisted").and_then(Value::as_bool),
            self_assignable: m.get("self_assignable").and_then(Value::as_bool),
            permissions: m.get("permissions").and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            }),
            category: m.get("category").and_then(opt_str),
        }
    }
}

impl OriginChats {
    /// `{"cmd":"roles_list","roles":{name: Role}}`, highest rank first.
    async fn roles_list_frame(&self) -> Result<Value, CoreError> {
        let all = self.roles().await?;
        let details = self.core.role_details(&self.space).await?;
        let pos = positions(&all);
        let mut ranked: Vec<&Role> = all.iter().collect();
        ranked.sort_by_key(|r| pos.get(&r.id).copied().unwrap_or(i64::MAX));
        let mut roles = Map::new();
        for r in ranked {
            let p = pos.get(&r.id).copied().unwrap_or(0);
            roles.insert(
                role_name(r).to_owned(),
                Value::Object(role_json(r, details.get(&r.id), p)),
            );
        }
        Ok(json!({"cmd": "roles_list", "roles": roles}))
    }

    /// Held by a role command from its core change until it has pushed (or recorded) the new
    /// `roles_list`: the watcher handles the command's own role events only afterwards and
    /// then sees that list already pushed.
    async fn roles_push_lock(&self) -> tokio::sync::MutexGuard<'_, Option<Value>> {
        self.members.roles_pushed.lock().await
    }

    /// `roles_list` to every authenticated connection (the caller included), before the reply.
    async fn broadcast_roles(&self, pushed: &mut Option<Value>) {
        self.members.epoch.fetch_add(1, Ordering::AcqRel);
        self.refresh_all_rooms().await;
        match self.roles_list_frame().await {
            Ok(f) => {
                self.conns.send_all(&encode(&f), None);
                *pushed = Some(f);
            }
            Err(e) => tracing::warn!(error = %e, "originchats: cannot list roles"),
        }
    }

    /// A role change of a command that sends no `roles_list` (role_permissions_set): the
    /// current list counts as known, so the watcher does not push it either.
    async fn roles_known(&self, pushed: &mut Option<Value>) {
        if let Ok(f) = self.roles_list_frame().await {
            *pushed = Some(f);
        }
    }

    /// Remembers the roles as OriginChats clients know them when watching begins.
    pub(crate) async fn remember_roles(&self) {
        let frame = self.roles_list_frame().await.ok();
        *self.roles_push_lock().await = frame;
    }

    /// After a role change from any dialect: `roles_list` to every authenticated connection,
    /// unless it shows nothing new (a role command of this dialect pushed it already).
    pub(crate) async fn push_changed_roles(&self) {
        let mut pushed = self.roles_push_lock().await;
        match self.roles_list_frame().await {
            Ok(f) if pushed.as_ref() != Some(&f) => {
                self.conns.send_all(&encode(&f), None);
                *pushed = Some(f);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "originchats: cannot list roles"),
        }
    }

    async fn may_manage_roles(&self, a: &Account) -> bool {
        self.core
            .space_permissions(&a.user.id, &self.space)
            .await
            .is_ok_and(|p| p.contains(Permissions::MANAGE_ROLES))
    }

    /// A role by id, else by its OriginChats name.
    async fn role_by(
        &self,
        id: Option<&str>,
        name: Option<&str>,
    ) -> Result<Option<Role>, CoreError> {
        let all = self.roles().await?;
        if let Some(id) = id.filter(|s| !s.is_empty()) {
            return Ok(all.into_iter().find(|r| r.id.0 == id));
        }
        Ok(name.and_then(|n| all.into_iter().find(|r| role_name(r) == n)))
    }

    /// The first channel whose permission lists name `role` (`!role` included).
    async fn channel_using(&self, account: &Account, role: &str) -> Option<String> {
        let channels = self.all_channels(account).await.ok()?;
        let denied = format!("!{role}");
        channels.into_iter().find_map(|c| {
            let lists = c.lists.as_ref()?;
            let uses = lists.values().any(|v| {
                v.as_array().is_some_and(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .any(|e| e == role || e == denied)
                })
            });
            uses.then(|| c.room.name.clone())
        })
    }

    fn role_error(src: &str, e: CoreError, l: Option<&str>) -> Value {
        match e {
            CoreError::Forbidden("hierarchy") => fail(src, HIERARCHY, l),
            CoreError::Forbidden(_) => fail(src, MANAGE_ROLES, l),
            CoreError::NotFound(_) => fail(src, "Role not found", l),
            CoreError::Conflict(_) => fail(src, "Role already exists", l),
            CoreError::Invalid(m) => fail(src, &m, l),
            e => internal(src, e, l),
        }
    }

    pub async fn roles_list(&self, cx: &mut Cx, r: proto::RolesList) -> Reply {
        let l = r.listener.as_deref();
        match self.roles_list_frame().await {
            Ok(f) => send(cx, with_listener(f, l)),
            Err(e) => send(cx, internal("roles_list", e, l)),
        }
    }

    pub async fn role_create(&self, cx: &mut Cx, r: proto::RoleCreate) -> Reply {
        const SRC: &str = "role_create";
        let l = r.listener.as_deref();
        let Some(me) = cx.account.clone() else {
            return Reply::None;
        };
        if !self.may_manage_roles(&me).await {
            return send(cx, fail(SRC, MANAGE_ROLES, l));
        }
        let Some(name) = r
            .name
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
        else {
            return send(cx, fail(SRC, "Role name is required", l));
        };
        let self_assignable = r.self_assignable.unwrap_or(false);
        if self_assignable && PROTECTED.contains(&name.as_str()) {
            return send(
                cx,
                fail(
                    SRC,
                    &format!("Role '{name}' cannot be made self-assignable"),
                    l,
                ),
            );
        }
        if name == super::USER_ROLE {
            return send(cx, fail(SRC, "Role already exists", l));
        }
        let new = NewRole {
            name,
            permissions: perms::from_names(r.permissions.iter().flatten().map(String::as_str)),
            color: r.color.flatten(),
            hoist: r.hoisted.unwrap_or(false),
            mentionable: false,
            self_assignable,
            details: RoleDetails {
                description: r.description,
                category: r.category.flatten(),
            },
            // A `position` is a rank from the top; `user` stays last whatever it says.
            placement: match r.position {
                Some(p) => Placement::Rank(usize::try_from(p).unwrap_or(0)),
                None => Placement::AboveDefault,
            },
        };
        let mut pushed = self.roles_push_lock().await;
        match self.core.create_role(&me.user, &self.space, new).await {
            Ok(role) => {
                self.broadcast_roles(&mut pushed).await;
                send(
                    cx,
                    with_listener(json!({"cmd": SRC, "id": role.id.0, "name": role.name}), l),
                )
            }
            Err(e) => send(cx, Self::role_error(SRC, e, l)),
        }
    }

    /// role_update and role_set: find, check, apply `fields`.
    async fn edit_role(
        &self,
        cx: &mut Cx,
        src: &'static str,
        id: Option<String>,
        name: Option<String>,
        fields: Option<Fields>,
        l: Option<&str>,
    ) -> Reply {
        let Some(me) = cx.account.clone() else {
            return Reply::None;
        };
        if id.as_deref().is_none_or(str::is_empty) && name.as_deref().is_none_or(str::is_empty) {
            return send(cx, fail(src, "Role id or name is required", l));
        }
        if !self.may_manage_roles(&me).await {
            return send(cx, fail(src, MANAGE_ROLES, l));
        }
        let Some(fields) = fields else {
            return send(cx, fail(src, "Role data is required", l));
        };
        // With `id` as the key, `name` is a rename (role_update); role_set renames by data.
        let by_id = id.as_deref().is_some_and(|s| !s.is_empty());
        let lookup_name = if by_id { None } else { name.as_deref() };
        let role = match self.role_by(id.as_deref(), lookup_name).await {
            Ok(Some(r)) => r,
            Ok(None) => return send(cx, fail(src, "Role not found", l)),
            Err(e) => return send(cx, internal(src, e, l)),
        };
        let mut fields = fields;
        if src == "role_update" && by_id {
            fields.name = name.clone();
        }
        let current = role_name(&role).to_owned();
        let rename = fields.name.as_deref().is_some_and(|n| n != current);
        if rename && let Some(c) = self.channel_using(&me, &current).await {
            return send(
                cx,
                fail(
                    src,
                    &format!("Cannot rename role: it is used in channel '{c}' permissions"),
                    l,
                ),
            );
        }
        let final_name = fields.name.clone().filter(|_| rename).unwrap_or(current);
        if fields.self_assignable == Some(true) && PROTECTED.contains(&final_name.as_str()) {
            return send(
                cx,
                fail(
                    src,
                    &format!("Role '{final_name}' cannot be made self-assignable"),
                    l,
                ),
            );
        }
        let mut pushed = self.roles_push_lock().await;
        match self
            .core
            .update_role(&me.user, &self.space, &role.id, fields.edit(rename), src)
            .await
        {
            Ok(updated) => {
                self.broadcast_roles(&mut pushed).await;
                send(
                    cx,
                    with_listener(
                        json!({"cmd": src, "id": updated.id.0, "name": role_name(&updated),
                            "updated": true}),
                        l,
                    ),
                )
            }
            Err(e) => send(cx, Self::role_error(src, e, l)),
        }
    }

    pub async fn role_update(&self, cx: &mut Cx, r: proto::RoleUpdate) -> Reply {
        let l = r.listener.clone();
        let fields = Fields {
            name: None,
            description: r.description.map(Some),
            color: r.color,
            hoisted: r.hoisted,
            self_assignable: r.self_assignable,
            permissions: r.permissions,
            category: r.category,
        };
        self.edit_role(cx, "role_update", r.id, r.name, Some(fields), l.as_deref())
            .await
    }

    pub async fn role_set(&self, cx: &mut Cx, r: proto::RoleSet) -> Reply {
        let l = r.listener.clone();
        let fields = r.data.as_ref().map(Fields::from_map);
        self.edit_role(cx, "role_set", r.id, r.name, fields, l.as_deref())
            .await
    }

    pub async fn role_delete(&self, cx: &mut Cx, r: proto::RoleDelete) -> Reply {
        const SRC: &str = "role_delete";
        let l = r.listener.as_deref();
        let Some(me) = cx.account.clone() else {
            return Reply::None;
        };
        if r.id.as_deref().is_none_or(str::is_empty) && r.name.as_deref().is_none_or(str::is_empty)
        {
            return send(cx, fail(SRC, "Role id or name is required", l));
        }
        if !self.may_manage_roles(&me).await {
            return send(cx, fail(SRC, MANAGE_ROLES, l));
        }
        let role = match self.role_by(r.id.as_deref(), r.name.as_deref()).await {
            Ok(Some(r)) => r,
            Ok(None) => return send(cx, fail(SRC, "Role not found", l)),
            Err(e) => return send(cx, internal(SRC, e, l)),
        };
        let name = role_name(&role).to_owned();
        if SYSTEM.contains(&name.as_str()) || role.is_default {
            return send(cx, fail(SRC, "Cannot delete system roles", l));
        }
        if let Some(c) = self.channel_using(&me, &name).await {
            return send(
                cx,
                fail(
                    SRC,
                    &format!("Role is used in channel '{c}' permissions"),
                    l,
                ),
            );
        }
        let mut pushed = self.roles_push_lock().await;
        match self.core.delete_role(&me.user, &self.space, &role.id).await {
            Ok(gone) => {
                self.broadcast_roles(&mut pushed).await;
                send(
                    cx,
                    with_listener(
                        json!({"cmd": SRC, "id": gone.id.0, "name": name, "deleted": true}),
                        l,
                    ),
                )
            }
            Err(e) => send(cx, Self::role_error(SRC, e, l)),
        }
    }

    pub async fn role_reorder(&self, cx: &mut Cx, r: proto::RoleReorder) -> Reply {
        const SRC: &str = "role_reorder";
        let l = r.listener.as_deref();
        let Some(me) = cx.account.clone() else {
            return Reply::None;
        };
        if !self.may_manage_roles(&me).await {
            return send(cx, fail(SRC, MANAGE_ROLES, l));
        }
        let Some(order) = r.roles.clone() else {
            return send(cx, fail(SRC, "Roles array is required", l));
        };
        let all = match self.roles().await {
            Ok(a) => a,
            Err(e) => return send(cx, internal(SRC, e, l)),
        };
        let mut ids = Vec::with_capacity(order.len());
        for key in &order {
            match all.iter().find(|r| r.id.0 == *key || role_name(r) == key) {
                Some(r) => ids.push(r.id.clone()),
                None => return send(cx, fail(SRC, "Failed to reorder roles", l)),
            }
        }
        let mut pushed = self.roles_push_lock().await;
        match self.core.reorder_roles(&me.user, &self.space, &ids).await {
            Ok(_) => {
                self.broadcast_roles(&mut pushed).await;
                send(cx, with_listener(json!({"cmd": SRC, "roles": order}), l))
            }
            Err(CoreError::NotFound(_)) => send(cx, fail(SRC, "Failed to reorder roles", l)),
            Err(e) => send(cx, Self::role_error(SRC, e, l)),
        }
    }

    pub async fn role_permissions_set(&self, cx: &mut Cx, r: proto::RolePermissionsSet) -> Reply {
        const SRC: &str = "role_permissions_set";
        let l = r.listener.as_deref();
        let Some(me) = cx.account.clone() else {
            return Reply::None;
        };
        if r.id.as_deref().is_none_or(str::is_empty) && r.name.as_deref().is_none_or(str::is_empty)
        {
            return send(cx, fail(SRC, "Role id or name is required", l));
        }
        if !self.may_manage_roles(&me).await {
            return send(cx, fail(SRC, MANAGE_ROLES, l));
        }
        let Some(list) = r.permissions.clone() else {
            return send(cx, fail(SRC, "Permissions must be an array", l));
        };
        let role = match self.role_by(r.id.as_deref(), r.name.as_deref()).await {
            Ok(Some(r)) => r,
            Ok(None) => return send(cx, fail(SRC, "Role not found", l)),
            Err(e) => return send(cx, internal(SRC, e, l)),
        };
        let edit = RoleEdit {
            permissions: Some(perms::from_names(list.iter().map(String::as_str))),
            ..Default::default()
        };
        let mut pushed = self.roles_push_lock().await;
        match self
            .core
            .update_role(&me.user, &self.space, &role.id, edit, SRC)
            .await
        {
            Ok(updated) => {
                self.members.epoch.fetch_add(1, Ordering::AcqRel);
                self.refresh_all_rooms().await;
                // No broadcast here, as in the reference.
                self.roles_known(&mut pushed).await;
                send(
                    cx,
                    with_listener(
                        json!({"cmd": SRC, "id": updated.id.0, "name": role_name(&updated),
                            "permissions": perms::to_names(updated.permissions),
                            "updated": true}),
                        l,
                    ),
                )
            }
            Err(e) => send(cx, Self::role_error(SRC, e, l)),
        }
    }

    pub async fn role_permissions_get(&self, cx: &mut Cx, r: proto::RolePermissionsGet) -> Reply {
        const SRC: &str = "role_permissions_get";
        let l = r.listener.as_deref();
        if r.id.as_deref().is_none_or(str::is_empty) && r.name.as_deref().is_none_or(str::is_empty)
        {
            return send(cx, fail(SRC, "Role id or name is required", l));
        }
        match self.role_by(r.id.as_deref(), r.name.as_deref()).await {
            Ok(Some(role)) => send(
                cx,
                with_listener(
                    json!({"cmd": SRC, "id": role.id.0, "name": role_name(&role),
                        "permissions": perms::to_names(role.permissions)}),
                    l,
                ),
            ),
            Ok(None) => send(cx, fail(SRC, "Role not found", l)),
            Err(e) => send(cx, internal(SRC, e, l)),
        }
    }

    async fn self_role(
        &self,
        cx: &mut Cx,
        role: Option<String>,
        l: Option<&str>,
        add: bool,
    ) -> Reply {
        let src = if add {
            "self_role_add"
        } else {
            "self_role_remove"
        };
        let Some(me) = cx.account.clone() else {
            return Reply::None;
        };
        let Some(name) = role.filter(|r| !r.is_empty()) else {
            return send(cx, fail(src, "Role name is required", l));
        };
        let role = match self.role_by(None, Some(&name)).await {
            Ok(Some(r)) => r,
            Ok(None) => return send(cx, fail(src, "Role not found", l)),
            Err(e) => return send(cx, internal(src, e, l)),
        };
        match self
            .core
            .self_assign_role(&me.user, &self.space, &role.id, add)
            .await
        {
            Ok(_) => {}
            Err(CoreError::Forbidden(_)) => {
                return send(cx, fail(src, "This role is not self-assignable", l));
            }
            Err(CoreError::Conflict(_)) => {
                let text = if add {
                    "You already have this role"
                } else {
                    "You don't have this role"
                };
                return send(cx, fail(src, text, l));
            }
            Err(e) => {
                tracing::warn!(error = %e, "originchats: self role change failed");
                let text = if add {
                    "Failed to assign role"
                } else {
                    "Failed to remove role"
                };
                return send(cx, fail(src, text, l));
            }
        }
        self.members.epoch.fetch_add(1, Ordering::AcqRel);
        self.refresh_user_rooms(&me.user.id).await;
        let a = match self.account_by_id(&me.user.id).await {
            Ok(a) => a,
            Err(e) => return send(cx, internal(src, e, l)),
        };
        self.conns.send_all(
            &encode(&json!({"cmd": "user_roles_get", "user": a.user.username,
                "roles": a.roles, "color": a.color})),
            None,
        );
        let roles = a.roles.clone();
        cx.account = Some(a);
        send(
            cx,
            with_listener(
                json!({"cmd": src, "role": name, "success": true, "roles": roles}),
                l,
            ),
        )
    }

    pub async fn self_role_add(&self, cx: &mut Cx, r: proto::SelfRoleAdd) -> Reply {
        let l = r.listener.clone();
        self.self_role(cx, r.role, l.as_deref(), true).await
    }

    pub async fn self_role_remove(&self, cx: &mut Cx, r: proto::SelfRoleRemove) -> Reply {
        let l = r.listener.clone();
        self.self_role(cx, r.role, l.as_deref(), false).await
    }

    pub async fn self_roles_list(&self, cx: &mut Cx, r: proto::SelfRolesList) -> Reply {
        const SRC: &str = "self_roles_list";
        let l = r.listener.as_deref();
        let Some(me) = cx.account.clone() else {
            return Reply::None;
        };
        let (all, details) = match (
            self.roles().await,
            self.core.role_details(&self.space).await,
        ) {
            (Ok(a), Ok(d)) => (a, d),
            (Err(e), _) | (_, Err(e)) => return send(cx, internal(SRC, e, l)),
        };
        let pos = positions(&all);
        let mut ranked: Vec<&Role> = all.iter().filter(|r| r.self_assignable).collect();
        ranked.sort_by_key(|r| pos.get(&r.id).copied().unwrap_or(i64::MAX));
        let roles: Vec<Value> = ranked
            .into_iter()
            .map(|r| {
                let mut o = role_json(r, details.get(&r.id), pos.get(&r.id).copied().unwrap_or(0));
                o.insert("assigned".into(), json!(me.has_role(role_name(r))));
                Value::Object(o)
            })
            .collect();
        send(cx, with_listener(json!({"cmd": SRC, "roles": roles}), l))
    }
}
