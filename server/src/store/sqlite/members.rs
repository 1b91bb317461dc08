//! Roles, memberships, bans, profiles, spaces and the audit log (`0007_moderation.sql`).

use super::SqliteStore;
use crate::core::audit::{AuditEntry, AuditFilter};
use crate::core::ids::{RoleId, SpaceId, UserId};
use crate::core::moderation::{Ban, MemberProfile, SpaceUpdate, UserProfile};
use crate::core::permissions::{Permissions, Role};
use crate::core::roles::RoleDetails;
use crate::core::spaces::{Member, Space};
use crate::core::users::{User, UserKind};
use crate::store::members::MemberStore;
use crate::store::{BoxFut, CommitHook, StoreError, StoreResult};
use futures_util::FutureExt;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use std::collections::HashMap;

const ROLE_COLUMNS: &str =
    "id, name, permissions, position, color, hoist, mentionable, self_assignable, is_default";

fn role_from_row(r: &SqliteRow) -> StoreResult<Role> {
    let perms: String = r.try_get("permissions")?;
    let names: Vec<String> = serde_json::from_str(&perms).unwrap_or_default();
    Ok(Role {
        id: RoleId(r.try_get("id")?),
        name: r.try_get("name")?,
        permissions: Permissions::from_names(names.iter().map(String::as_str)),
        position: r.try_get("position")?,
        color: r.try_get("color")?,
        hoist: r.try_get::<i64, _>("hoist")? != 0,
        mentionable: r.try_get::<i64, _>("mentionable")? != 0,
        self_assignable: r.try_get::<i64, _>("self_assignable")? != 0,
        is_default: r.try_get::<i64, _>("is_default")? != 0,
    })
}

async fn fetch_role(conn: &mut SqliteConnection, space: &str, id: &str) -> StoreResult<Role> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ROLE_COLUMNS} FROM roles WHERE space_id = ?1 AND id = ?2"
    )))
    .bind(space)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound("role"))?;
    role_from_row(&row)
}

fn user_from_row(row: &SqliteRow) -> StoreResult<User> {
    Ok(User {
        id: UserId(row.try_get("id")?),
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        kind: UserKind::parse(row.try_get::<&str, _>("kind")?),
        avatar_url: row.try_get("avatar_url")?,
        created_at: row.try_get("created_at")?,
    })
}

/// A (non-banned) member as stored, with its roles in order.
async fn fetch_member(
    conn: &mut SqliteConnection,
    space: &str,
    user: &str,
) -> StoreResult<Option<Member>> {
    let Some(row) = sqlx::query(
        "SELECT nickname, joined_at, timeout_until FROM members
         WHERE space_id = ?1 AND user_id = ?2 AND banned = 0",
    )
    .bind(space)
    .bind(user)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let roles: Vec<String> = sqlx::query_scalar(
        "SELECT role_id FROM member_roles WHERE space_id = ?1 AND user_id = ?2 ORDER BY ord",
    )
    .bind(space)
    .bind(user)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Some(Member {
        space_id: SpaceId(space.to_owned()),
        user_id: UserId(user.to_owned()),
        nickname: row.try_get("nickname")?,
        roles: roles.into_iter().map(RoleId).collect(),
        joined_at: row.try_get("joined_at")?,
        timeout_until: row.try_get("timeout_until")?,
    }))
}

fn ban_from_row(r: &SqliteRow) -> StoreResult<Ban> {
    Ok(Ban {
        space_id: SpaceId(r.try_get("space_id")?),
        user_id: UserId(r.try_get("user_id")?),
        reason: r.try_get("reason")?,
        banned_by: r.try_get::<Option<String>, _>("banned_by")?.map(UserId),
        banned_at: r.try_get("banned_at")?,
    })
}

fn space_from_row(r: &SqliteRow) -> StoreResult<Space> {
    Ok(Space {
        id: SpaceId(r.try_get("id")?),
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        icon_url: r.try_get("icon_url")?,
        owner_id: r.try_get::<Option<String>, _>("owner_id")?.map(UserId),
        created_at: r.try_get("created_at")?,
    })
}

fn unique_to_conflict(e: sqlx::Error, what: &str) -> StoreError {
    match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(what.into()),
        e => e.into(),
    }
}

fn audit_from_row(r: &SqliteRow) -> StoreResult<AuditEntry> {
    let details: String = r.try_get("details")?;
    Ok(AuditEntry {
        space_id: SpaceId(r.try_get("space_id")?),
        actor_id: r.try_get("actor_id")?,
        actor_name: r.try_get("actor_name")?,
        action: r.try_get("action")?,
        category: r.try_get("category")?,
        target_id: r.try_get("target_id")?,
        target_name: r.try_get("target_name")?,
        details: serde_json::from_str(&details).unwrap_or_else(|_| serde_json::json!({})),
        created_at: r.try_get("created_at")?,
    })
}

impl MemberStore for SqliteStore {
    fn save_role(
        &self,
        space: SpaceId,
        role: Role,
        details: RoleDetails,
        hook: Option<CommitHook<Role>>,
    ) -> BoxFut<'_, Role> {
        Box::pin(async move {
            let perms = serde_json::to_string(&role.permissions.to_names())
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            self.write(
                move |conn| {
                    let (space, r, perms, d) =
                        (space.clone(), role.clone(), perms.clone(), details.clone());
                    async move {
                        sqlx::query(
                            "INSERT INTO roles (id, space_id, name, permissions, position, color,
                                 hoist, mentionable, self_assignable, is_default, description,
                                 category)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                             ON CONFLICT(id) DO UPDATE SET name = ?3, permissions = ?4,
                                 position = ?5, color = ?6, hoist = ?7, mentionable = ?8,
                                 self_assignable = ?9, description = ?11, category = ?12",
                        )
                        .bind(r.id.as_str())
                        .bind(space.as_str())
                        .bind(&r.name)
                        .bind(&perms)
                        .bind(r.position)
                        .bind(&r.color)
                        .bind(r.hoist)
                        .bind(r.mentionable)
                        .bind(r.self_assignable)
                        .bind(r.is_default)
                        .bind(&d.description)
                        .bind(&d.category)
                        .execute(&mut *conn)
                        .await
                        .map_err(|e| unique_to_conflict(e, "role name"))?;
                        fetch_role(conn, space.as_str(), r.id.as_str()).await
                    }
                    .boxed()
                },
                hook,
            )
            .await
        })
    }

    fn delete_role(
        &self,
        space: SpaceId,
        role: RoleId,
        hook: Option<CommitHook<Role>>,
    ) -> BoxFut<'_, Role> {
        Box::pin(self.write(
            move |conn| {
                let (space, role) = (space.clone(), role.clone());
                async move {
                    let r = fetch_role(conn, space.as_str(), role.as_str()).await?;
                    sqlx::query("DELETE FROM roles WHERE id = ?1")
                        .bind(role.as_str())
                        .execute(&mut *conn)
                        .await?;
                    Ok(r)
                }
                .boxed()
            },
            hook,
        ))
    }

    fn set_role_positions(
        &self,
        space: SpaceId,
        positions: Vec<(RoleId, i64)>,
        hook: Option<CommitHook<Vec<Role>>>,
    ) -> BoxFut<'_, Vec<Role>> {
        Box::pin(self.write(
            move |conn| {
                let (space, positions) = (space.clone(), positions.clone());
                async move {
                    let mut out = Vec::with_capacity(positions.len());
                    for (id, p) in &positions {
                        sqlx::query(
                            "UPDATE roles SET position = ?3 WHERE space_id = ?1 AND id = ?2",
                        )
                        .bind(space.as_str())
                        .bind(id.as_str())
                        .bind(p)
                        .execute(&mut *conn)
                        .await?;
                        out.push(fetch_role(conn, space.as_str(), id.as_str()).await?);
                    }
                    Ok(out)
                }
                .boxed()
            },
            hook,
        ))
    }

    fn role_details(&self, space: SpaceId) -> BoxFut<'_, HashMap<RoleId, RoleDetails>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT id, description, category FROM roles WHERE space_id = ?1
                 AND (description IS NOT NULL OR category IS NOT NULL)",
            )
            .bind(space.as_str())
            .fetch_all(self.read_pool())
            .await?;
            rows.iter()
                .map(|r| {
                    Ok((
                        RoleId(r.try_get("id")?),
                        RoleDetails {
                            description: r.try_get("description")?,
                            category: r.try_get("category")?,
                        },
                    ))
                })
                .collect()
        })
    }

    fn set_member_roles(
        &self,
        space: SpaceId,
        user: UserId,
        roles: Vec<RoleId>,
        hook: Option<CommitHook<Member>>,
    ) -> BoxFut<'_, Member> {
        Box::pin(self.write(
            move |conn| {
                let (space, user, roles) = (space.clone(), user.clone(), roles.clone());
                async move {
                    if fetch_member(conn, space.as_str(), user.as_str())
                        .await?
                        .is_none()
                    {
                        return Err(StoreError::NotFound("member"));
                    }
                    sqlx::query("DELETE FROM member_roles WHERE space_id = ?1 AND user_id = ?2")
                        .bind(space.as_str())
                        .bind(user.as_str())
                        .execute(&mut *conn)
                        .await?;
                    for (ord, role) in roles.iter().enumerate() {
                        sqlx::query(
                            "INSERT OR IGNORE INTO member_roles (space_id, user_id, role_id, ord)
                             VALUES (?1, ?2, ?3, ?4)",
                        )
                        .bind(space.as_str())
                        .bind(user.as_str())
                        .bind(role.as_str())
                        .bind(ord as i64)
                        .execute(&mut *conn)
                        .await?;
                    }
                    fetch_member(conn, space.as_str(), user.as_str())
                        .await?
                        .ok_or(StoreError::NotFound("member"))
                }
                .boxed()
            },
            hook,
        ))
    }

    fn set_member_profile(
        &self,
        space: SpaceId,
        user: UserId,
        profile: MemberProfile,
        hook: Option<CommitHook<Member>>,
    ) -> BoxFut<'_, Member> {
        Box::pin(self.write(
            move |conn| {
                let (space, user, p) = (space.clone(), user.clone(), profile.clone());
                async move {
                    let done = sqlx::query(
                        "UPDATE members SET nickname = ?3, timeout_until = ?4, timeout_reason = ?5
                         WHERE space_id = ?1 AND user_id = ?2 AND banned = 0",
                    )
                    .bind(space.as_str())
                    .bind(user.as_str())
                    .bind(&p.nickname)
                    .bind(p.timeout_until)
                    .bind(&p.timeout_reason)
                    .execute(&mut *conn)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound("member"));
                    }
                    fetch_member(conn, space.as_str(), user.as_str())
                        .await?
                        .ok_or(StoreError::NotFound("member"))
                }
                .boxed()
            },
            hook,
        ))
    }

    fn timeout_reason(&self, space: SpaceId, user: UserId) -> BoxFut<'_, Option<String>> {
        Box::pin(async move {
            let r: Option<Option<String>> = sqlx::query_scalar(
                "SELECT timeout_reason FROM members WHERE space_id = ?1 AND user_id = ?2",
            )
            .bind(space.as_str())
            .bind(user.as_str())
            .fetch_optional(self.read_pool())
            .await?;
            Ok(r.flatten())
        })
    }

    fn remove_member(
        &self,
        space: SpaceId,
        user: UserId,
        hook: Option<CommitHook<bool>>,
    ) -> BoxFut<'_, bool> {
        Box::pin(self.write(
            move |conn| {
                let (space, user) = (space.clone(), user.clone());
                async move {
                    let done = sqlx::query(
                        "DELETE FROM members WHERE space_id = ?1 AND user_id = ?2 AND banned = 0",
                    )
                    .bind(space.as_str())
                    .bind(user.as_str())
                    .execute(&mut *conn)
                    .await?;
                    Ok(done.rows_affected() > 0)
                }
                .boxed()
            },
            hook,
        ))
    }

    fn space_members(
        &self,
        space: SpaceId,
        after: String,
        limit: u32,
    ) -> BoxFut<'_, Vec<(Member, User)>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT m.nickname, m.joined_at, m.timeout_until,
                        (SELECT json_group_array(role_id) FROM
                            (SELECT mr.role_id FROM member_roles mr
                             WHERE mr.space_id = m.space_id AND mr.user_id = m.user_id
                             ORDER BY mr.ord)) AS roles,
                        u.id, u.username, u.display_name, u.kind, u.avatar_url, u.created_at
                 FROM members m JOIN users u ON u.id = m.user_id
                 WHERE m.space_id = ?1 AND m.banned = 0 AND m.user_id > ?2
                 ORDER BY m.user_id LIMIT ?3",
            )
            .bind(space.as_str())
            .bind(&after)
            .bind(limit)
            .fetch_all(self.read_pool())
            .await?;
            rows.iter()
                .map(|r| {
                    let user = user_from_row(r)?;
                    let roles: Vec<String> =
                        serde_json::from_str(r.try_get::<&str, _>("roles")?).unwrap_or_default();
                    Ok((
                        Member {
                            space_id: space.clone(),
                            user_id: user.id.clone(),
                            nickname: r.try_get("nickname")?,
                            roles: roles.into_iter().map(RoleId).collect(),
                            joined_at: r.try_get("joined_at")?,
                            timeout_until: r.try_get("timeout_until")?,
                        },
                        user,
                    ))
                })
                .collect()
        })
    }

    fn ban(&self, ban: Ban, hook: Option<CommitHook<Ban>>) -> BoxFut<'_, Ban> {
        Box::pin(self.write(
            move |conn| {
                let b = ban.clone();
                async move {
                    sqlx::query(
                        "INSERT INTO space_bans (space_id, user_id, reason, banned_by, banned_at)
                         VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (space_id, user_id) DO UPDATE SET reason = ?3,
                             banned_by = ?4, banned_at = ?5",
                    )
                    .bind(b.space_id.as_str())
                    .bind(b.user_id.as_str())
                    .bind(&b.reason)
                    .bind(b.banned_by.as_ref().map(|u| u.as_str()))
                    .bind(b.banned_at)
                    .execute(&mut *conn)
                    .await?;
                    sqlx::query(
                        "INSERT INTO members (space_id, user_id, joined_at, banned)
                         VALUES (?1, ?2, ?3, 1)
                         ON CONFLICT (space_id, user_id) DO UPDATE SET banned = 1",
                    )
                    .bind(b.space_id.as_str())
                    .bind(b.user_id.as_str())
                    .bind(b.banned_at)
                    .execute(&mut *conn)
                    .await?;
                    Ok(b)
                }
                .boxed()
            },
            hook,
        ))
    }

    fn unban(
        &self,
        space: SpaceId,
        user: UserId,
        keep_member: bool,
        hook: Option<CommitHook<Option<Ban>>>,
    ) -> BoxFut<'_, Option<Ban>> {
        Box::pin(self.write(
            move |conn| {
                let (space, user) = (space.clone(), user.clone());
                async move {
                    let row = sqlx::query(
                        "SELECT space_id, user_id, reason, banned_by, banned_at FROM space_bans
                         WHERE space_id = ?1 AND user_id = ?2",
                    )
                    .bind(space.as_str())
                    .bind(user.as_str())
                    .fetch_optional(&mut *conn)
                    .await?;
                    let Some(row) = row else { return Ok(None) };
                    let ban = ban_from_row(&row)?;
                    sqlx::query("DELETE FROM space_bans WHERE space_id = ?1 AND user_id = ?2")
                        .bind(space.as_str())
                        .bind(user.as_str())
                        .execute(&mut *conn)
                        .await?;
                    let sql = if keep_member {
                        "UPDATE members SET banned = 0 WHERE space_id = ?1 AND user_id = ?2"
                    } else {
                        "DELETE FROM members WHERE space_id = ?1 AND user_id = ?2 AND banned = 1"
                    };
                    sqlx::query(sql)
                        .bind(space.as_str())
                        .bind(user.as_str())
                        .execute(&mut *conn)
                        .await?;
                    Ok(Some(ban))
                }
                .boxed()
            },
            hook,
        ))
    }

    fn ban_of(&self, space: SpaceId, user: UserId) -> BoxFut<'_, Option<Ban>> {
        Box::pin(async move {
            let row = sqlx::query(
                "SELECT space_id, user_id, reason, banned_by, banned_at FROM space_bans
                 WHERE space_id = ?1 AND user_id = ?2",
            )
            .bind(space.as_str())
            .bind(user.as_str())
            .fetch_optional(self.read_pool())
            .await?;
            row.as_ref().map(ban_from_row).transpose()
        })
    }

    fn bans(&self, space: SpaceId) -> BoxFut<'_, Vec<Ban>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT space_id, user_id, reason, banned_by, banned_at FROM space_bans
                 WHERE space_id = ?1 ORDER BY banned_at, user_id",
            )
            .bind(space.as_str())
            .fetch_all(self.read_pool())
            .await?;
            rows.iter().map(ban_from_row).collect()
        })
    }

    fn update_user(
        &self,
        user: UserId,
        profile: UserProfile,
        hook: Option<CommitHook<User>>,
    ) -> BoxFut<'_, User> {
        Box::pin(self.write(
            move |conn| {
                let (user, p) = (user.clone(), profile.clone());
                async move {
                    if let Some(name) = &p.username {
                        sqlx::query("UPDATE users SET username = ?2 WHERE id = ?1")
                            .bind(user.as_str())
                            .bind(name)
                            .execute(&mut *conn)
                            .await
                            .map_err(|e| unique_to_conflict(e, "username"))?;
                    }
                    if let Some(d) = &p.display_name {
                        sqlx::query("UPDATE users SET display_name = ?2 WHERE id = ?1")
                            .bind(user.as_str())
                            .bind(d)
                            .execute(&mut *conn)
                            .await?;
                    }
                    if let Some(a) = &p.avatar_url {
                        sqlx::query("UPDATE users SET avatar_url = ?2 WHERE id = ?1")
                            .bind(user.as_str())
                            .bind(a)
                            .execute(&mut *conn)
                            .await?;
                    }
                    if let Some((status, text)) = &p.status {
                        sqlx::query("UPDATE users SET status = ?2, status_text = ?3 WHERE id = ?1")
                            .bind(user.as_str())
                            .bind(status.as_str())
                            .bind(text)
                            .execute(&mut *conn)
                            .await?;
                    }
                    let row = sqlx::query(
                        "SELECT id, username, display_name, kind, avatar_url, created_at
                         FROM users WHERE id = ?1",
                    )
                    .bind(user.as_str())
                    .fetch_optional(&mut *conn)
                    .await?
                    .ok_or(StoreError::NotFound("user"))?;
                    user_from_row(&row)
                }
                .boxed()
            },
            hook,
        ))
    }

    fn user_spaces(&self, user: UserId) -> BoxFut<'_, Vec<SpaceId>> {
        Box::pin(async move {
            let ids: Vec<String> = sqlx::query_scalar(
                "SELECT space_id FROM members WHERE user_id = ?1 AND banned = 0",
            )
            .bind(user.as_str())
            .fetch_all(self.read_pool())
            .await?;
            Ok(ids.into_iter().map(SpaceId).collect())
        })
    }

    fn user_status(&self, user: UserId) -> BoxFut<'_, Option<(String, String)>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT status, status_text FROM users WHERE id = ?1")
                .bind(user.as_str())
                .fetch_optional(self.read_pool())
                .await?;
            row.map(|r| Ok((r.try_get("status")?, r.try_get("status_text")?)))
                .transpose()
        })
    }

    fn all_users(&self) -> BoxFut<'_, Vec<(User, String, String)>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT id, username, display_name, kind, avatar_url, created_at, status,
                        status_text FROM users WHERE kind NOT IN ('ip', 'system')
                 ORDER BY created_at, id",
            )
            .fetch_all(self.read_pool())
            .await?;
            rows.iter()
                .map(|r| {
                    Ok((
                        user_from_row(r)?,
                        r.try_get("status")?,
                        r.try_get("status_text")?,
                    ))
                })
                .collect()
        })
    }

    fn delete_user(&self, user: UserId, hook: Option<CommitHook<bool>>) -> BoxFut<'_, bool> {
        Box::pin(self.write(
            move |conn| {
                let user = user.clone();
                async move {
                    let mut n = 0;
                    for sql in [
                        "DELETE FROM members WHERE user_id = ?1 AND banned = 0",
                        "DELETE FROM credentials WHERE user_id = ?1",
                        "DELETE FROM tokens WHERE user_id = ?1",
                    ] {
                        n += sqlx::query(sql)
                            .bind(user.as_str())
                            .execute(&mut *conn)
                            .await?
                            .rows_affected();
                    }
                    Ok(n > 0)
                }
                .boxed()
            },
            hook,
        ))
    }

    fn space(&self, space: SpaceId) -> BoxFut<'_, Option<(Space, Option<String>, bool)>> {
        Box::pin(async move {
            let row = sqlx::query(
                "SELECT id, name, description, icon_url, owner_id, created_at, banner_url,
                        updated_at FROM spaces WHERE id = ?1",
            )
            .bind(space.as_str())
            .fetch_optional(self.read_pool())
            .await?;
            row.map(|r| {
                Ok((
                    space_from_row(&r)?,
                    r.try_get("banner_url")?,
                    r.try_get::<Option<i64>, _>("updated_at")?.is_some(),
                ))
            })
            .transpose()
        })
    }

    fn update_space(
        &self,
        space: SpaceId,
        update: SpaceUpdate,
        hook: Option<CommitHook<Space>>,
    ) -> BoxFut<'_, Space> {
        Box::pin(self.write(
            move |conn| {
                let (space, u) = (space.clone(), update.clone());
                async move {
                    let now = crate::core::ids::now_ms();
                    let exists = sqlx::query("UPDATE spaces SET updated_at = ?2 WHERE id = ?1")
                        .bind(space.as_str())
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                    if exists.rows_affected() == 0 {
                        return Err(StoreError::NotFound("space"));
                    }
                    if let Some(n) = &u.name {
                        sqlx::query("UPDATE spaces SET name = ?2 WHERE id = ?1")
                            .bind(space.as_str())
                            .bind(n)
                            .execute(&mut *conn)
                            .await?;
                    }
                    for (col, v) in [
                        ("description", &u.description),
                        ("icon_url", &u.icon_url),
                        ("banner_url", &u.banner_url),
                    ] {
                        if let Some(v) = v {
                            sqlx::query(sqlx::AssertSqlSafe(format!(
                                "UPDATE spaces SET {col} = ?2 WHERE id = ?1"
                            )))
                            .bind(space.as_str())
                            .bind(v)
                            .execute(&mut *conn)
                            .await?;
                        }
                    }
                    let row = sqlx::query(
                        "SELECT id, name, description, icon_url, owner_id, created_at
                         FROM spaces WHERE id = ?1",
                    )
                    .bind(space.as_str())
                    .fetch_one(&mut *conn)
                    .await?;
                    space_from_row(&row)
                }
                .boxed()
            },
            hook,
        ))
    }

    fn delete_space(&self, space: SpaceId, hook: Option<CommitHook<bool>>) -> BoxFut<'_, bool> {
        Box::pin(self.write(
            move |conn| {
                let space = space.clone();
                async move {
                    let done = sqlx::query("DELETE FROM spaces WHERE id = ?1")
                        .bind(space.as_str())
                        .execute(&mut *conn)
                        .await?;
                    Ok(done.rows_affected() > 0)
                }
                .boxed()
            },
            hook,
        ))
    }

    fn insert_audit(&self, entry: AuditEntry) -> BoxFut<'_, ()> {
        Box::pin(self.write(
            move |conn| {
                let e = entry.clone();
                async move {
                    sqlx::query(
                        "INSERT INTO audit_log (space_id, actor_id, actor_name, action, category,
                             target_id, target_name, details, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    )
                    .bind(e.space_id.as_str())
                    .bind(&e.actor_id)
                    .bind(&e.actor_name)
                    .bind(&e.action)
                    .bind(&e.category)
                    .bind(&e.target_id)
                    .bind(&e.target_name)
                    .bind(e.details.to_string())
                    .bind(e.created_at)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                }
                .boxed()
            },
            None,
        ))
    }

    fn audit_entries(&self, f: AuditFilter) -> BoxFut<'_, (Vec<AuditEntry>, i64)> {
        Box::pin(async move {
            const WHERE: &str = "WHERE space_id = ?1 AND (?2 IS NULL OR category = ?2)
                AND (?3 IS NULL OR actor_id = ?3) AND (?4 IS NULL OR target_id = ?4)
                AND (?5 IS NULL OR action = ?5) AND (?6 IS NULL OR created_at > ?6)";
            let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM audit_log {WHERE}"
            )))
            .bind(f.space_id.as_str())
            .bind(&f.category)
            .bind(&f.actor_id)
            .bind(&f.target_id)
            .bind(&f.action)
            .bind(f.after)
            .fetch_one(self.read_pool())
            .await?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT space_id, actor_id, actor_name, action, category, target_id, target_name,
                        details, created_at FROM audit_log {WHERE}
                 ORDER BY seq DESC LIMIT ?7 OFFSET ?8"
            )))
            .bind(f.space_id.as_str())
            .bind(&f.category)
            .bind(&f.actor_id)
            .bind(&f.target_id)
            .bind(&f.action)
            .bind(f.after)
            .bind(f.limit)
            .bind(f.offset)
            .fetch_all(self.read_pool())
            .await?;
            let entries = rows
                .iter()
                .map(audit_from_row)
                .collect::<StoreResult<_>>()?;
            Ok((entries, total))
        })
    }

    fn audit_counts(&self, space: SpaceId) -> BoxFut<'_, Vec<(String, String, i64)>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT category, action, COUNT(*) AS n FROM audit_log WHERE space_id = ?1
                 GROUP BY category, action ORDER BY MIN(seq)",
            )
            .bind(space.as_str())
            .fetch_all(self.read_pool())
            .await?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.try_get("category")?,
                        r.try_get("action")?,
                        r.try_get("n")?,
                    ))
                })
                .collect()
        })
    }
}
