//! Role operations: create, update, delete, reorder, and members' roles (assign, remove, set,
//! self-assign). Hierarchy: higher `position` = more authority; the space owner may manage
//! every role, anyone else only roles strictly below their own highest role.

use super::audit::{AuditTarget, categories};
use super::events::Event;
use super::ids::{RoleId, SpaceId, UserId};
use super::operations::Core;
use super::permissions::{Permissions, Role};
use super::spaces::Member;
use super::users::User;
use super::{CoreError, CoreResult};
use crate::core::messages::UserRef;
use std::collections::HashMap;

/// Role fields only some dialects show (OriginChats `description`, `category`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleDetails {
    pub description: Option<String>,
    pub category: Option<String>,
}

/// Where a new role goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Above every role (Plexichat: max + 1).
    Top,
    /// Just above the default role (OriginChats appends new roles at the bottom).
    AboveDefault,
    /// Below the `n` highest roles (OriginChats `position`, 0 = the top); never below the
    /// default role. A member who is not the owner may not place it above their own top role.
    Rank(usize),
}

#[derive(Debug, Clone)]
pub struct NewRole {
    pub name: String,
    pub permissions: Permissions,
    pub color: Option<String>,
    pub hoist: bool,
    pub mentionable: bool,
    pub self_assignable: bool,
    pub details: RoleDetails,
    pub placement: Placement,
}

/// Changes to a role; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct RoleEdit {
    pub name: Option<String>,
    pub permissions: Option<Permissions>,
    pub color: Option<Option<String>>,
    pub hoist: Option<bool>,
    pub mentionable: Option<bool>,
    pub self_assignable: Option<bool>,
    pub description: Option<Option<String>>,
    pub category: Option<Option<String>>,
    pub position: Option<i64>,
}

/// What a member may do in a space: owner?, effective space permissions, highest role position.
#[derive(Debug, Clone)]
pub struct Standing {
    pub owner: bool,
    pub perms: Permissions,
    pub top: i64,
    pub member: Member,
}

/// The core position a new role takes to sit just below the `n` highest roles (ties ranked
/// as OriginChats ranks them), and above the default role.
fn rank_position(roles: &[Role], n: usize) -> i64 {
    let mut ranked: Vec<&Role> = roles.iter().filter(|r| !r.is_default).collect();
    ranked.sort_by(|a, b| b.position.cmp(&a.position).then(a.id.cmp(&b.id)));
    ranked.get(n).map_or(1, |below| below.position.max(0) + 1)
}

impl Standing {
    /// May manage (edit, delete, give, take) a role at `position`.
    pub fn outranks(&self, position: i64) -> bool {
        self.owner || self.top > position
    }
}

/// Longest role name.
pub const MAX_ROLE_NAME_CHARS: usize = 100;

impl Core {
    /// The standing of `user` in `space`; `NotFound("member")` for non-members (and the banned).
    pub async fn standing(&self, user: &UserId, space: &SpaceId) -> CoreResult<Standing> {
        let member = self
            .store()
            .member(space.clone(), user.clone())
            .await?
            .ok_or(CoreError::NotFound("member"))?;
        let owner = self.store().space_owner(space.clone()).await?.as_ref() == Some(user);
        let roles = self.store().roles(space.clone()).await?;
        let mine = roles
            .iter()
            .filter(|r| r.is_default || member.roles.contains(&r.id));
        let top = mine.clone().map(|r| r.position).max().unwrap_or(0);
        let base = mine.fold(Permissions::NONE, |acc, r| acc | r.permissions);
        let perms = if owner || base.contains(Permissions::ADMINISTRATOR) {
            Permissions::ALL
        } else {
            base
        };
        Ok(Standing {
            owner,
            perms,
            top,
            member,
        })
    }

    async fn standing_with(
        &self,
        actor: &UserId,
        space: &SpaceId,
        needed: Permissions,
        what: &'static str,
    ) -> CoreResult<Standing> {
        let s = self.standing(actor, space).await?;
        if !s.perms.contains(needed) {
            return Err(CoreError::Forbidden(what));
        }
        Ok(s)
    }

    /// The roles of a space, highest first.
    pub async fn space_roles(&self, space: &SpaceId) -> CoreResult<Vec<Role>> {
        Ok(self.store().roles(space.clone()).await?)
    }

    pub async fn role_details(&self, space: &SpaceId) -> CoreResult<HashMap<RoleId, RoleDetails>> {
        Ok(self.store().role_details(space.clone()).await?)
    }

    async fn role_in(&self, space: &SpaceId, id: &RoleId) -> CoreResult<Role> {
        self.space_roles(space)
            .await?
            .into_iter()
            .find(|r| &r.id == id)
            .ok_or(CoreError::NotFound("role"))
    }

    fn role_published(
        &self,
        space: &SpaceId,
        created: bool,
        deleted: bool,
    ) -> impl Fn(&Role) + Send + 'static {
        let hub = self.hub().clone();
        let space = space.clone();
        move |r: &Role| {
            hub.publish(Event::RoleChanged {
                space_id: space.clone(),
                role: r.clone(),
                created,
                deleted,
            })
        }
    }

    /// Creates a role (`MANAGE_ROLES`); `Conflict` when the name is taken.
    pub async fn create_role(
        &self,
        actor: &User,
        space: &SpaceId,
        new: NewRole,
    ) -> CoreResult<Role> {
        let standing = self
            .standing_with(&actor.id, space, Permissions::MANAGE_ROLES, "manage_roles")
            .await?;
        let name = new.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > MAX_ROLE_NAME_CHARS {
            return Err(CoreError::Invalid(format!(
                "role name must be 1-{MAX_ROLE_NAME_CHARS} characters"
            )));
        }
        let roles = self.space_roles(space).await?;
        if roles.iter().any(|r| r.name == name) {
            return Err(CoreError::Conflict("role name".into()));
        }
        let position = match new.placement {
            Placement::Top => roles.iter().map(|r| r.position + 1).max().unwrap_or(1),
            Placement::AboveDefault | Placement::Rank(_) => {
                let at = match new.placement {
                    Placement::Rank(n) => {
                        let at = rank_position(&roles, n);
                        // The actor's own top role moves up with the others, so `at` may
                        // equal it.
                        if !standing.owner && at > standing.top {
                            return Err(CoreError::Forbidden("hierarchy"));
                        }
                        at
                    }
                    _ => 1,
                };
                // Make room at `at`: every role from there up moves one higher.
                let shifted: Vec<(RoleId, i64)> = roles
                    .iter()
                    .filter(|r| !r.is_default && r.position >= at)
                    .map(|r| (r.id.clone(), r.position + 1))
                    .collect();
                if !shifted.is_empty() {
                    let hub = self.hub().clone();
                    let sp = space.clone();
                    self.store()
                        .set_role_positions(
                            space.clone(),
                            shifted,
                            Some(Box::new(move |moved: &Vec<Role>| {
                                for r in moved {
                                    hub.publish(Event::RoleChanged {
                                        space_id: sp.clone(),
                                        role: r.clone(),
                                        created: false,
                                        deleted: false,
                                    });
                                }
                            })),
                        )
                        .await?;
                }
                at
            }
        };
        let role = Role {
            id: RoleId::generate(),
            name,
            permissions: new.permissions,
            position,
            color: new.color,
            hoist: new.hoist,
            mentionable: new.mentionable,
            self_assignable: new.self_assignable,
            is_default: false,
        };
        let publish = self.role_published(space, true, false);
        let role = self
            .store()
            .save_role(
                space.clone(),
                role,
                new.details,
                Some(Box::new(move |r: &Role| publish(r))),
            )
            .await?;
        self.invalidate_permissions();
        self.audit(
            space,
            Some(actor),
            "role_create",
            categories::ROLES,
            AuditTarget::role(&role),
            serde_json::json!({}),
        )
        .await;
        Ok(role)
    }

    /// Changes a role (`MANAGE_ROLES`, hierarchy). `action` names the change in the audit log.
    pub async fn update_role(
        &self,
        actor: &User,
        space: &SpaceId,
        id: &RoleId,
        edit: RoleEdit,
        action: &str,
    ) -> CoreResult<Role> {
        let s = self
            .standing_with(&actor.id, space, Permissions::MANAGE_ROLES, "manage_roles")
            .await?;
        let mut role = self.role_in(space, id).await?;
        if !s.outranks(role.position) {
            return Err(CoreError::Forbidden("hierarchy"));
        }
        if role.is_default && (edit.name.is_some() || edit.position.is_some()) {
            return Err(CoreError::Invalid(
                "the default role cannot be renamed or moved".into(),
            ));
        }
        let mut details = self
            .role_details(space)
            .await?
            .remove(&role.id)
            .unwrap_or_default();
        if let Some(n) = edit.name {
            let n = n.trim().to_owned();
            if n.is_empty() || n.chars().count() > MAX_ROLE_NAME_CHARS {
                return Err(CoreError::Invalid(format!(
                    "role name must be 1-{MAX_ROLE_NAME_CHARS} characters"
                )));
            }
            role.name = n;
        }
        if let Some(p) = edit.permissions {
            role.permissions = p;
        }
        if let Some(c) = edit.color {
            role.color = c;
        }
        if let Some(h) = edit.hoist {
            role.hoist = h;
        }
        if let Some(m) = edit.mentionable {
            role.mentionable = m;
        }
        if let Some(a) = edit.self_assignable {
            role.self_assignable = a;
        }
        if let Some(d) = edit.description {
            details.description = d;
        }
        if let Some(c) = edit.category {
            details.category = c;
        }
        if let Some(p) = edit.position {
            if !s.owner && p >= s.top {
                return Err(CoreError::Forbidden("hierarchy"));
            }
            if p < 1 {
                return Err(CoreError::Invalid(
                    "only the default role sits at position 0".into(),
                ));
            }
            role.position = p;
        }
        let publish = self.role_published(space, false, false);
        let role = self
            .store()
            .save_role(
                space.clone(),
                role,
                details,
                Some(Box::new(move |r: &Role| publish(r))),
            )
            .await?;
        self.invalidate_permissions();
        self.audit(
            space,
            Some(actor),
            action,
            categories::ROLES,
            AuditTarget::role(&role),
            serde_json::json!({}),
        )
        .await;
        Ok(role)
    }

    /// Deletes a role (`MANAGE_ROLES`, hierarchy; never the default role).
    pub async fn delete_role(
        &self,
        actor: &User,
        space: &SpaceId,
        id: &RoleId,
    ) -> CoreResult<Role> {
        let s = self
            .standing_with(&actor.id, space, Permissions::MANAGE_ROLES, "manage_roles")
            .await?;
        let role = self.role_in(space, id).await?;
        if role.is_default {
            return Err(CoreError::Invalid(
                "the default role cannot be deleted".into(),
            ));
        }
        if !s.outranks(role.position) {
            return Err(CoreError::Forbidden("hierarchy"));
        }
        let publish = self.role_published(space, false, true);
        let role = self
            .store()
            .delete_role(
                space.clone(),
                role.id.clone(),
                Some(Box::new(move |r: &Role| publish(r))),
            )
            .await?;
        self.invalidate_permissions();
        self.audit(
            space,
            Some(actor),
            "role_delete",
            categories::ROLES,
            AuditTarget::role(&role),
            serde_json::json!({}),
        )
        .await;
        Ok(role)
    }

    /// Reorders roles (`MANAGE_ROLES`): `order` lists roles highest first; roles not listed keep
    /// their relative order below them; the default role stays last. Without ownership only
    /// roles below the actor's highest role may move, and only below it. Returns every role,
    /// highest first.
    pub async fn reorder_roles(
        &self,
        actor: &User,
        space: &SpaceId,
        order: &[RoleId],
    ) -> CoreResult<Vec<Role>> {
        let s = self
            .standing_with(&actor.id, space, Permissions::MANAGE_ROLES, "manage_roles")
            .await?;
        let roles = self.space_roles(space).await?;
        for id in order {
            if !roles.iter().any(|r| &r.id == id) {
                return Err(CoreError::NotFound("role"));
            }
        }
        let mut ranked: Vec<&Role> = order
            .iter()
            .filter_map(|id| roles.iter().find(|r| &r.id == id && !r.is_default))
            .collect();
        for r in roles.iter().filter(|r| !r.is_default) {
            if !ranked.iter().any(|x| x.id == r.id) {
                ranked.push(r);
            }
        }
        let n = ranked.len() as i64;
        let mut changes = Vec::new();
        for (i, r) in ranked.iter().enumerate() {
            let p = n - i as i64;
            if p != r.position {
                if !s.owner && (r.position >= s.top || p >= s.top) {
                    return Err(CoreError::Forbidden("hierarchy"));
                }
                changes.push((r.id.clone(), p));
            }
        }
        if !changes.is_empty() {
            let hub = self.hub().clone();
            let sp = space.clone();
            self.store()
                .set_role_positions(
                    space.clone(),
                    changes,
                    Some(Box::new(move |changed: &Vec<Role>| {
                        for r in changed {
                            hub.publish(Event::RoleChanged {
                                space_id: sp.clone(),
                                role: r.clone(),
                                created: false,
                                deleted: false,
                            });
                        }
                    })),
                )
                .await?;
            self.invalidate_permissions();
        }
        self.audit(
            space,
            Some(actor),
            "role_reorder",
            categories::ROLES,
            AuditTarget::None,
            serde_json::json!({}),
        )
        .await;
        self.space_roles(space).await
    }

    /// The id of the space's default role (`@everyone`).
    pub(crate) async fn default_role_of(&self, space: &SpaceId) -> Option<RoleId> {
        self.space_roles(space)
            .await
            .ok()?
            .into_iter()
            .find(|r| r.is_default)
            .map(|r| r.id)
    }

    /// Publishes `MemberUpdated` with the member's roles but the default one.
    pub(crate) async fn member_published(
        &self,
        space: &SpaceId,
        user: UserRef,
    ) -> impl Fn(&Member) + Send + 'static + use<> {
        let hub = self.hub().clone();
        let space = space.clone();
        let default = self.default_role_of(&space).await;
        move |m: &Member| {
            let mut member = m.clone();
            member.roles.retain(|r| Some(r) != default.as_ref());
            hub.publish(Event::MemberUpdated {
                space_id: space.clone(),
                user: user.clone(),
                member,
            })
        }
    }

    async fn user_ref(&self, id: &UserId) -> CoreResult<UserRef> {
        let u = self
            .store()
            .user(id.clone())
            .await?
            .ok_or(CoreError::NotFound("user"))?;
        Ok(UserRef {
            id: u.id,
            username: u.username,
        })
    }

    async fn write_member_roles(
        &self,
        space: &SpaceId,
        target: &UserId,
        roles: Vec<RoleId>,
    ) -> CoreResult<Member> {
        let who = self.user_ref(target).await?;
        let publish = self.member_published(space, who).await;
        let m = self
            .store()
            .set_member_roles(
                space.clone(),
                target.clone(),
                roles,
                Some(Box::new(move |m: &Member| publish(m))),
            )
            .await?;
        self.invalidate_permissions();
        Ok(m)
    }

    /// Gives (`add`) or takes one role (`MANAGE_MEMBERS`, hierarchy; never the default role).
    pub async fn change_member_role(
        &self,
        actor: &User,
        space: &SpaceId,
        target: &UserId,
        role: &RoleId,
        add: bool,
    ) -> CoreResult<Member> {
        let s = self
            .standing_with(
                &actor.id,
                space,
                Permissions::MANAGE_MEMBERS,
                "manage_members",
            )
            .await?;
        let member = self
            .store()
            .member(space.clone(), target.clone())
            .await?
            .ok_or(CoreError::NotFound("member"))?;
        let r = self.role_in(space, role).await?;
        if r.is_default {
            return Err(CoreError::Invalid(
                "the default role cannot be given or taken".into(),
            ));
        }
        if !s.outranks(r.position) {
            return Err(CoreError::Forbidden("hierarchy"));
        }
        let mut roles = member.roles.clone();
        let has = roles.contains(&r.id);
        match (add, has) {
            (true, true) | (false, false) => return Ok(member),
            (true, false) => roles.push(r.id.clone()),
            (false, true) => roles.retain(|x| x != &r.id),
        }
        let m = self.write_member_roles(space, target, roles).await?;
        self.audit(
            space,
            Some(actor),
            if add {
                "member_role_add"
            } else {
                "member_role_remove"
            },
            categories::USERS,
            self.audit_user(target).await,
            serde_json::json!({"role": r.name}),
        )
        .await;
        Ok(m)
    }

    /// Replaces a member's roles, in order (`MANAGE_MEMBERS`; every role given or taken must be
    /// below the actor's highest role unless the actor owns the space). The default role is
    /// kept whatever the list says.
    pub async fn set_member_roles(
        &self,
        actor: &User,
        space: &SpaceId,
        target: &UserId,
        roles: Vec<RoleId>,
    ) -> CoreResult<Member> {
        let s = self
            .standing_with(
                &actor.id,
                space,
                Permissions::MANAGE_MEMBERS,
                "manage_members",
            )
            .await?;
        let member = self
            .store()
            .member(space.clone(), target.clone())
            .await?
            .ok_or(CoreError::NotFound("member"))?;
        let all = self.space_roles(space).await?;
        let mut wanted: Vec<RoleId> = Vec::new();
        for id in roles {
            let r = all
                .iter()
                .find(|r| r.id == id)
                .ok_or(CoreError::NotFound("role"))?;
            if !r.is_default && !wanted.contains(&r.id) {
                wanted.push(r.id.clone());
            }
        }
        let current: Vec<&RoleId> = member
            .roles
            .iter()
            .filter(|id| all.iter().any(|r| &r.id == *id && !r.is_default))
            .collect();
        for r in &all {
            let changes = wanted.contains(&r.id) != current.contains(&&r.id);
            if changes && !r.is_default && !s.outranks(r.position) {
                return Err(CoreError::Forbidden("hierarchy"));
            }
        }
        if let Some(d) = all.iter().find(|r| r.is_default) {
            wanted.push(d.id.clone());
        }
        let m = self.write_member_roles(space, target, wanted).await?;
        self.audit(
            space,
            Some(actor),
            "user_roles_set",
            categories::USERS,
            self.audit_user(target).await,
            serde_json::json!({}),
        )
        .await;
        Ok(m)
    }

    /// A member gives themself (`add`) or drops a self-assignable role.
    pub async fn self_assign_role(
        &self,
        user: &User,
        space: &SpaceId,
        role: &RoleId,
        add: bool,
    ) -> CoreResult<Member> {
        let member = self
            .store()
            .member(space.clone(), user.id.clone())
            .await?
            .ok_or(CoreError::NotFound("member"))?;
        let r = self.role_in(space, role).await?;
        if !r.self_assignable || r.is_default {
            return Err(CoreError::Forbidden("self_assignable"));
        }
        let mut roles = member.roles.clone();
        if add == roles.contains(&r.id) {
            return Err(CoreError::Conflict(if add {
                "already assigned".into()
            } else {
                "not assigned".into()
            }));
        }
        if add {
            roles.push(r.id.clone());
        } else {
            roles.retain(|x| x != &r.id);
        }
        let m = self.write_member_roles(space, &user.id, roles).await?;
        self.audit(
            space,
            Some(user),
            if add {
                "self_role_add"
            } else {
                "self_role_remove"
            },
            categories::ROLES,
            AuditTarget::role(&r),
            serde_json::json!({}),
        )
        .await;
        Ok(m)
    }
}

/// Shared by dialects rendering roles: the role list sorted highest first (`roles` already is).
pub fn by_rank(roles: &[Role]) -> Vec<&Role> {
    let mut v: Vec<&Role> = roles.iter().collect();
    v.sort_by(|a, b| b.position.cmp(&a.position).then(a.id.cmp(&b.id)));
    v
}
