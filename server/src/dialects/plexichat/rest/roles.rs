//! Server roles with the reference's permission keys and hierarchy rules (§3): role CRUD needs
//! `roles.manage`, giving or taking roles `members.manage_roles`; either way the actor must be
//! the owner or hold a role strictly above the target role. `@everyone` cannot be renamed,
//! moved, deleted, given or taken.

use super::{ApiError, Authed, body, ok, px, success};
use crate::core::CoreError;
use crate::core::ids::{SpaceId, UserId};
use crate::core::permissions::{Permissions, Role};
use crate::core::roles::{NewRole, Placement, RoleDetails, RoleEdit};
use crate::dialects::plexichat::gateway::render::role_json;
use crate::dialects::plexichat::{Plexichat, ids, perms};
use crate::net::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use chorus_protocol::plexichat_rest::{CreateRoleRequest, UpdateRoleRequest};

fn space_id(id: &str) -> Result<SpaceId, ApiError> {
    ids::core(id)
        .map(SpaceId)
        .ok_or_else(|| ApiError::bad_request("Invalid server ID"))
}

fn check_color(c: &Option<String>) -> Result<(), ApiError> {
    match c {
        Some(c)
            if !(c.len() == 7
                && c.starts_with('#')
                && c[1..].bytes().all(|b| b.is_ascii_hexdigit())) =>
        {
            Err(ApiError::bad_request(
                "Invalid color: String should match pattern '^#[0-9A-Fa-f]{6}$'",
            ))
        }
        _ => Ok(()),
    }
}

/// What the actor may do in the server: (is owner, permissions, highest role position).
struct Standing {
    owner: bool,
    perms: Permissions,
    top: i64,
}

async fn standing(px: &Plexichat, user: &UserId, space: &SpaceId) -> Result<Standing, ApiError> {
    let store = px.core.store();
    let Some(member) = store.member(space.clone(), user.clone()).await? else {
        return Err(ApiError::not_found("Server not found"));
    };
    let owner = store.space_owner(space.clone()).await?.as_ref() == Some(user);
    let perms = px
        .core
        .space_permissions(user, space)
        .await
        .map_err(|e| ApiError::core(e, "Server"))?;
    let top = store
        .roles(space.clone())
        .await?
        .iter()
        .filter(|r| r.is_default || member.roles.contains(&r.id))
        .map(|r| r.position)
        .max()
        .unwrap_or(0);
    Ok(Standing { owner, perms, top })
}

fn hierarchy() -> ApiError {
    ApiError::forbidden("You cannot manage a role at or above your highest role")
}

async fn role(px: &Plexichat, space: &SpaceId, id: &str) -> Result<Role, ApiError> {
    let id = ids::core(id).ok_or_else(|| ApiError::bad_request("Invalid role ID"))?;
    px.core
        .store()
        .roles(space.clone())
        .await?
        .into_iter()
        .find(|r| r.id.0 == id)
        .ok_or_else(|| ApiError::not_found("Role not found"))
}

/// A core refusal in the words of this API (the core checked permissions and hierarchy).
fn role_error(e: CoreError) -> ApiError {
    match e {
        CoreError::Conflict(_) => ApiError::bad_request("A role with this name already exists"),
        CoreError::Forbidden("hierarchy") => hierarchy(),
        CoreError::NotFound("member") => ApiError::not_found("Member not found"),
        CoreError::NotFound(_) => ApiError::not_found("Role not found"),
        e => ApiError::core(e, "Role"),
    }
}

pub async fn list(
    State(st): State<AppState>,
    auth: Authed,
    Path(server): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let space = space_id(&server)?;
    standing(px, &auth.user.id, &space).await?;
    let roles = px.core.store().roles(space.clone()).await?;
    Ok(ok(&roles
        .iter()
        .map(|r| role_json(&space.0, r))
        .collect::<Vec<_>>()))
}

pub async fn permissions(
    State(st): State<AppState>,
    auth: Authed,
    Path(server): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let space = space_id(&server)?;
    let s = standing(px, &auth.user.id, &space).await?;
    Ok(ok(&perms::to_keys(s.perms)))
}

pub async fn create(
    State(st): State<AppState>,
    auth: Authed,
    Path(server): Path<String>,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let space = space_id(&server)?;
    let req = body(&text, CreateRoleRequest::decode)?;
    let color = req.color.flatten();
    check_color(&color)?;
    let s = standing(px, &auth.user.id, &space).await?;
    if !s.perms.contains(Permissions::MANAGE_ROLES) {
        return Err(ApiError::forbidden("Missing permissions"));
    }
    let new = NewRole {
        name: req.name,
        permissions: perms::from_keys(&req.permissions.unwrap_or_default()),
        color,
        hoist: req.hoist.unwrap_or(false),
        mentionable: req.mentionable.unwrap_or(false),
        self_assignable: false,
        details: RoleDetails::default(),
        placement: Placement::Top,
    };
    let role = px
        .core
        .create_role(&auth.user, &space, new)
        .await
        .map_err(role_error)?;
    Ok(ok(&role_json(&space.0, &role)))
}

pub async fn update(
    State(st): State<AppState>,
    auth: Authed,
    Path((server, role_id)): Path<(String, String)>,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let space = space_id(&server)?;
    let req = body(&text, UpdateRoleRequest::decode)?;
    let s = standing(px, &auth.user.id, &space).await?;
    if !s.perms.contains(Permissions::MANAGE_ROLES) {
        return Err(ApiError::forbidden("Missing permissions"));
    }
    let r = role(px, &space, &role_id).await?;
    if !s.owner && r.position >= s.top {
        return Err(hierarchy());
    }
    if r.is_default && (req.name.is_some() || req.position.is_some()) {
        return Err(ApiError::bad_request(
            "The @everyone role cannot be renamed or moved",
        ));
    }
    if let Some(c) = &req.color {
        check_color(c)?;
    }
    if let Some(p) = req.position
        && !s.owner
        && p >= s.top
    {
        return Err(hierarchy());
    }
    let edit = RoleEdit {
        name: req.name,
        permissions: req.permissions.as_ref().map(perms::from_keys),
        color: req.color,
        hoist: req.hoist,
        mentionable: req.mentionable,
        position: req.position,
        ..Default::default()
    };
    let r = px
        .core
        .update_role(&auth.user, &space, &r.id, edit, "role_update")
        .await
        .map_err(role_error)?;
    Ok(ok(&role_json(&space.0, &r)))
}

pub async fn delete(
    State(st): State<AppState>,
    auth: Authed,
    Path((server, role_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let space = space_id(&server)?;
    let s = standing(px, &auth.user.id, &space).await?;
    if !s.perms.contains(Permissions::MANAGE_ROLES) {
        return Err(ApiError::forbidden("Missing permissions"));
    }
    let r = role(px, &space, &role_id).await?;
    if r.is_default {
        return Err(ApiError::bad_request(
            "The @everyone role cannot be deleted",
        ));
    }
    if !s.owner && r.position >= s.top {
        return Err(hierarchy());
    }
    px.core
        .delete_role(&auth.user, &space, &r.id)
        .await
        .map_err(role_error)?;
    Ok(success())
}

async fn member_role(
    st: AppState,
    auth: Authed,
    server: String,
    member: String,
    role_id: String,
    add: bool,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let space = space_id(&server)?;
    let s = standing(px, &auth.user.id, &space).await?;
    if !s.perms.contains(Permissions::MANAGE_MEMBERS) {
        return Err(ApiError::forbidden("Missing permissions"));
    }
    let target =
        UserId(ids::core(&member).ok_or_else(|| ApiError::bad_request("Invalid member ID"))?);
    if px
        .core
        .store()
        .member(space.clone(), target.clone())
        .await?
        .is_none()
    {
        return Err(ApiError::not_found("Member not found"));
    }
    let r = role(px, &space, &role_id).await?;
    if r.is_default {
        return Err(ApiError::bad_request(
            "The @everyone role cannot be given or taken",
        ));
    }
    if !s.owner && r.position >= s.top {
        return Err(hierarchy());
    }
    px.core
        .change_member_role(&auth.user, &space, &target, &r.id, add)
        .await
        .map_err(role_error)?;
    Ok(success())
}

pub async fn add_member_role(
    State(st): State<AppState>,
    auth: Authed,
    Path((server, member, role_id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    member_role(st, auth, server, member, role_id, true).await
}

pub async fn remove_member_role(
    State(st): State<AppState>,
    auth: Authed,
    Path((server, member, role_id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    member_role(st, auth, server, member, role_id, false).await
}
