//! The dialect's own persistence (`0004_plexichat.sql`) and the read queries the core does not
//! offer, on the core's SQLite store: reads through its read pool, writes inside its single
//! writer's transactions (`SqliteStore::write`).

use crate::core::audit::AuditEntry;
use crate::core::ids::{RoleId, RoomId, SpaceId, UserId};
use crate::core::permissions::Permissions;
use crate::store::sqlite::SqliteStore;
use crate::store::{CommitHook, StoreError, StoreResult};
use futures_util::FutureExt;
use sqlx::Row;
use std::sync::Arc;

pub struct Db {
    store: Arc<SqliteStore>,
}

/// A server (space) as the REST API lists it.
#[derive(Debug, Clone)]
pub struct Server {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub icon_url: Option<String>,
    pub owner_id: Option<String>,
    pub created_at: i64,
    pub member_count: i64,
    /// The first text channel, by position.
    pub default_channel_id: Option<String>,
}

/// What creating a server wrote.
#[derive(Debug, Clone)]
pub struct CreatedServer {
    pub space: SpaceId,
    pub general: RoomId,
}

impl Db {
    pub fn new(store: Arc<SqliteStore>) -> Self {
        Self { store }
    }

    fn pool(&self) -> &sqlx::SqlitePool {
        self.store.read_pool()
    }

    pub async fn insert_account(
        &self,
        user: &str,
        email: &str,
        age_verified: bool,
        now: i64,
    ) -> StoreResult<()> {
        let (user, email) = (user.to_owned(), email.to_owned());
        self.store
            .write(
                move |conn| {
                    let (user, email) = (user.clone(), email.clone());
                    async move {
                        let taken: Option<i64> = sqlx::query_scalar(
                            "SELECT 1 FROM plexichat_accounts WHERE email = ?1 AND user_id <> ?2",
                        )
                        .bind(&email)
                        .bind(&user)
                        .fetch_optional(&mut *conn)
                        .await?;
                        if taken.is_some() {
                            return Err(StoreError::Conflict("email".into()));
                        }
                        sqlx::query(
                            "INSERT OR REPLACE INTO plexichat_accounts
                             (user_id, email, age_verified, created_at) VALUES (?1, ?2, ?3, ?4)",
                        )
                        .bind(&user)
                        .bind(&email)
                        .bind(age_verified)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                        Ok(())
                    }
                    .boxed()
                },
                None,
            )
            .await
    }

    pub async fn user_by_email(&self, email: &str) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT user_id FROM plexichat_accounts WHERE email = ?1")
                .bind(email)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// (email, age_verified) of a Plexichat-registered account.
    pub async fn account(&self, user: &str) -> StoreResult<Option<(Option<String>, bool)>> {
        let row =
            sqlx::query("SELECT email, age_verified FROM plexichat_accounts WHERE user_id = ?1")
                .bind(user)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    pub async fn delete_token(&self, digest: &str) -> StoreResult<()> {
        let digest = digest.to_owned();
        self.store
            .write(
                move |conn| {
                    let digest = digest.clone();
                    async move {
                        sqlx::query("DELETE FROM tokens WHERE digest = ?1")
                            .bind(&digest)
                            .execute(&mut *conn)
                            .await?;
                        Ok(())
                    }
                    .boxed()
                },
                None,
            )
            .await
    }

    /// (space id, name) of every space `user` belongs to.
    pub async fn user_spaces(&self, user: &str) -> StoreResult<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT s.id, s.name FROM spaces s JOIN members m ON m.space_id = s.id
             WHERE m.user_id = ?1 AND m.banned = 0 ORDER BY s.created_at, s.id",
        )
        .bind(user)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// The servers `user` is a member of (all of them with `only` None, else that one).
    pub async fn servers(&self, user: &str, only: Option<&str>) -> StoreResult<Vec<Server>> {
        let rows = sqlx::query(
            "SELECT s.id, s.name, s.description, s.icon_url, s.owner_id, s.created_at,
                    (SELECT COUNT(*) FROM members c WHERE c.space_id = s.id AND c.banned = 0),
                    (SELECT r.id FROM rooms r WHERE r.space_id = s.id AND r.kind = 'text'
                     ORDER BY r.position, r.created_at LIMIT 1)
             FROM spaces s JOIN members m ON m.space_id = s.id
             WHERE m.user_id = ?1 AND m.banned = 0 AND (?2 IS NULL OR s.id = ?2)
             ORDER BY s.created_at, s.id",
        )
        .bind(user)
        .bind(only)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| Server {
                id: r.get(0),
                name: r.get(1),
                description: r.get(2),
                icon_url: r.get(3),
                owner_id: r.get(4),
                created_at: r.get(5),
                member_count: r.get(6),
                default_channel_id: r.get(7),
            })
            .collect())
    }

    /// Creates a server owned by `owner`: its `@everyone` role, the owner's membership and a
    /// `general` text channel. `hook` runs after the commit.
    pub async fn create_server(
        &self,
        owner: &UserId,
        name: &str,
        description: Option<&str>,
        now: i64,
        hook: Option<CommitHook<CreatedServer>>,
    ) -> StoreResult<CreatedServer> {
        let created = CreatedServer {
            space: SpaceId::generate(),
            general: RoomId::generate(),
        };
        let role = RoleId::generate();
        let everyone = serde_json::to_string(&Permissions::DEFAULT_MEMBER.to_names())
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let (owner, name, description) = (
            owner.0.clone(),
            name.to_owned(),
            description.map(str::to_owned),
        );
        let out = created.clone();
        self.store
            .write(
                move |conn| {
                    let (c, role, everyone) = (out.clone(), role.clone(), everyone.clone());
                    let (owner, name, description) =
                        (owner.clone(), name.clone(), description.clone());
                    async move {
                        sqlx::query(
                            "INSERT INTO spaces (id, name, description, owner_id, created_at)
                             VALUES (?1, ?2, ?3, ?4, ?5)",
                        )
                        .bind(&c.space.0)
                        .bind(&name)
                        .bind(&description)
                        .bind(&owner)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                        sqlx::query(
                            "INSERT INTO roles (id, space_id, name, permissions, position, is_default)
                             VALUES (?1, ?2, '@everyone', ?3, 0, 1)",
                        )
                        .bind(&role.0)
                        .bind(&c.space.0)
                        .bind(&everyone)
                        .execute(&mut *conn)
                        .await?;
                        sqlx::query(
                            "INSERT INTO members (space_id, user_id, joined_at) VALUES (?1, ?2, ?3)",
                        )
                        .bind(&c.space.0)
                        .bind(&owner)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                        sqlx::query(
                            "INSERT INTO member_roles (space_id, user_id, role_id, ord)
                             VALUES (?1, ?2, ?3, 0)",
                        )
                        .bind(&c.space.0)
                        .bind(&owner)
                        .bind(&role.0)
                        .execute(&mut *conn)
                        .await?;
                        sqlx::query(
                            "INSERT INTO rooms (id, space_id, kind, name, position, creator_id,
                                                created_at, updated_at)
                             VALUES (?1, ?2, 'text', 'general', 0, ?3, ?4, ?4)",
                        )
                        .bind(&c.general.0)
                        .bind(&c.space.0)
                        .bind(&owner)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                        Ok(c)
                    }
                    .boxed()
                },
                hook,
            )
            .await?;
        Ok(created)
    }

    /// Ids of the pinned live messages of `room`, newest first.
    pub async fn pinned_ids(&self, room: &str) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM messages WHERE room_id = ?1 AND pinned = 1 AND deleted = 0
             ORDER BY seq DESC",
        )
        .bind(room)
        .fetch_all(self.pool())
        .await?)
    }
}

/// A stored invite.
#[derive(Debug, Clone)]
pub struct Invite {
    pub code: String,
    pub space_id: String,
    pub space_name: String,
    pub room_id: String,
    pub inviter_id: String,
    pub max_age: i64,
    pub max_uses: i64,
    pub temporary: bool,
    pub uses: i64,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

fn invite_from_row(r: &sqlx::sqlite::SqliteRow) -> Invite {
    Invite {
        code: r.get(0),
        space_id: r.get(1),
        space_name: r.get(2),
        room_id: r.get(3),
        inviter_id: r.get(4),
        max_age: r.get(5),
        max_uses: r.get(6),
        temporary: r.get(7),
        uses: r.get(8),
        created_at: r.get(9),
        expires_at: r.get(10),
    }
}

impl Db {
    pub async fn insert_invite(&self, inv: Invite) -> StoreResult<()> {
        self.store
            .write(
                move |conn| {
                    let i = inv.clone();
                    async move {
                        sqlx::query(
                            "INSERT OR REPLACE INTO plexichat_invites (code, space_id, room_id,
                             inviter_id, max_age, max_uses, temporary, uses, created_at, expires_at)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9)",
                        )
                        .bind(&i.code)
                        .bind(&i.space_id)
                        .bind(&i.room_id)
                        .bind(&i.inviter_id)
                        .bind(i.max_age)
                        .bind(i.max_uses)
                        .bind(i.temporary)
                        .bind(i.created_at)
                        .bind(i.expires_at)
                        .execute(&mut *conn)
                        .await?;
                        Ok(())
                    }
                    .boxed()
                },
                None,
            )
            .await
    }

    /// A usable invite (not expired, uses left).
    pub async fn invite(&self, code: &str, now: i64) -> StoreResult<Option<Invite>> {
        let row = sqlx::query(
            "SELECT i.code, i.space_id, s.name, i.room_id, i.inviter_id, i.max_age,
                    i.max_uses, i.temporary, i.uses, i.created_at, i.expires_at FROM plexichat_invites i JOIN spaces s ON s.id = i.space_id
             WHERE i.code = ?1 AND (i.expires_at IS NULL OR i.expires_at > ?2)
               AND (i.max_uses = 0 OR i.uses < i.max_uses)",
        )
        .bind(code)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(invite_from_row))
    }

    pub async fn space_invites(&self, space: &str) -> StoreResult<Vec<Invite>> {
        let rows = sqlx::query(
            "SELECT i.code, i.space_id, s.name, i.room_id, i.inviter_id, i.max_age,
                    i.max_uses, i.temporary, i.uses, i.created_at, i.expires_at FROM plexichat_invites i JOIN spaces s ON s.id = i.space_id
             WHERE i.space_id = ?1 ORDER BY i.created_at",
        )
        .bind(space)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(invite_from_row).collect())
    }

    pub async fn delete_invite(&self, code: &str) -> StoreResult<()> {
        let code = code.to_owned();
        self.store
            .write(
                move |conn| {
                    let code = code.clone();
                    async move {
                        sqlx::query("DELETE FROM plexichat_invites WHERE code = ?1")
                            .bind(&code)
                            .execute(&mut *conn)
                            .await?;
                        Ok(())
                    }
                    .boxed()
                },
                None,
            )
            .await
    }

    /// Uses an invite: makes `user` a member with the space's default role. Returns whether
    /// the user was already a member (then no use is counted).
    pub async fn join_with_invite(
        &self,
        code: &str,
        space: &str,
        user: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let (code, space, user) = (code.to_owned(), space.to_owned(), user.to_owned());
        self.store
            .write(
                move |conn| {
                    let (code, space, user) = (code.clone(), space.clone(), user.clone());
                    async move {
                        let member: Option<i64> = sqlx::query_scalar(
                            "SELECT banned FROM members WHERE space_id = ?1 AND user_id = ?2",
                        )
                        .bind(&space)
                        .bind(&user)
                        .fetch_optional(&mut *conn)
                        .await?;
                        match member {
                            Some(0) => return Ok(true),
                            Some(_) => return Err(StoreError::Conflict("banned".into())),
                            None => {}
                        }
                        sqlx::query(
                            "INSERT INTO members (space_id, user_id, joined_at) VALUES (?1, ?2, ?3)",
                        )
                        .bind(&space)
                        .bind(&user)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                        sqlx::query(
                            "INSERT INTO member_roles (space_id, user_id, role_id, ord)
                             SELECT ?1, ?2, id, 0 FROM roles WHERE space_id = ?1 AND is_default = 1",
                        )
                        .bind(&space)
                        .bind(&user)
                        .execute(&mut *conn)
                        .await?;
                        sqlx::query("UPDATE plexichat_invites SET uses = uses + 1 WHERE code = ?1")
                            .bind(&code)
                            .execute(&mut *conn)
                            .await?;
                        Ok(false)
                    }
                    .boxed()
                },
                None,
            )
            .await
    }
}

/// A stored application.
#[derive(Debug, Clone)]
pub struct Application {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub description: Option<String>,
    pub bot_id: Option<String>,
    pub created_at: i64,
}

impl Db {
    pub async fn save_application(&self, a: Application) -> StoreResult<()> {
        self.store
            .write(
                move |conn| {
                    let a = a.clone();
                    async move {
                        sqlx::query(
                            "INSERT OR REPLACE INTO plexichat_applications
                             (id, owner_id, name, description, bot_id, created_at)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        )
                        .bind(&a.id)
                        .bind(&a.owner_id)
                        .bind(&a.name)
                        .bind(&a.description)
                        .bind(&a.bot_id)
                        .bind(a.created_at)
                        .execute(&mut *conn)
                        .await?;
                        Ok(())
                    }
                    .boxed()
                },
                None,
            )
            .await
    }

    pub async fn application(&self, id: &str) -> StoreResult<Option<Application>> {
        let row = sqlx::query(
            "SELECT id, owner_id, name, description, bot_id, created_at
             FROM plexichat_applications WHERE id = ?1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| Application {
            id: r.get(0),
            owner_id: r.get(1),
            name: r.get(2),
            description: r.get(3),
            bot_id: r.get(4),
            created_at: r.get(5),
        }))
    }
}

/// A user's two-factor state.
#[derive(Debug, Clone, Default)]
pub struct TwoFactor {
    pub secret: Option<String>,
    pub enabled: bool,
    /// SHA-256 hex of the unused backup codes.
    pub backup_codes: Vec<String>,
}

impl Db {
    pub async fn two_factor(&self, user: &str) -> StoreResult<TwoFactor> {
        let row = sqlx::query(
            "SELECT totp_secret, totp_enabled, backup_codes FROM plexichat_accounts
             WHERE user_id = ?1",
        )
        .bind(user)
        .fetch_optional(self.pool())
        .await?;
        Ok(row
            .map(|r| TwoFactor {
                secret: r.get(0),
                enabled: r.get(1),
                backup_codes: serde_json::from_str(r.get::<&str, _>(2)).unwrap_or_default(),
            })
            .unwrap_or_default())
    }

    pub async fn set_two_factor(&self, user: &str, tf: TwoFactor, now: i64) -> StoreResult<()> {
        let user = user.to_owned();
        let codes = serde_json::to_string(&tf.backup_codes)
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        self.store
            .write(
                move |conn| {
                    let (user, codes, tf) = (user.clone(), codes.clone(), tf.clone());
                    async move {
                        sqlx::query(
                            "INSERT OR IGNORE INTO plexichat_accounts (user_id, created_at)
                             VALUES (?1, ?2)",
                        )
                        .bind(&user)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                        sqlx::query(
                            "UPDATE plexichat_accounts SET totp_secret = ?2, totp_enabled = ?3,
                             backup_codes = ?4 WHERE user_id = ?1",
                        )
                        .bind(&user)
                        .bind(&tf.secret)
                        .bind(tf.enabled)
                        .bind(&codes)
                        .execute(&mut *conn)
                        .await?;
                        Ok(())
                    }
                    .boxed()
                },
                None,
            )
            .await
    }

    /// A page of the core's audit log of `space`, newest first, as (entry number, entry):
    /// entries numbered below `before` only, by `actor` only, of one of `actions` only.
    pub async fn audit_page(
        &self,
        space: &SpaceId,
        actor: Option<&str>,
        actions: Option<&[&str]>,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<(i64, AuditEntry)>> {
        let actions = actions
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let rows = sqlx::query(
            "SELECT seq, space_id, actor_id, actor_name, action, category, target_id,
                    target_name, details, created_at FROM audit_log
             WHERE space_id = ?1 AND (?2 IS NULL OR actor_id = ?2)
               AND (?3 IS NULL OR action IN (SELECT value FROM json_each(?3)))
               AND (?4 IS NULL OR seq < ?4)
             ORDER BY seq DESC LIMIT ?5",
        )
        .bind(space.as_str())
        .bind(actor)
        .bind(actions)
        .bind(before)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let details: String = r.try_get("details")?;
                let entry = AuditEntry {
                    space_id: SpaceId(r.try_get("space_id")?),
                    actor_id: r.try_get("actor_id")?,
                    actor_name: r.try_get("actor_name")?,
                    action: r.try_get("action")?,
                    category: r.try_get("category")?,
                    target_id: r.try_get("target_id")?,
                    target_name: r.try_get("target_name")?,
                    details: serde_json::from_str(&details)
                        .unwrap_or_else(|_| serde_json::json!({})),
                    created_at: r.try_get("created_at")?,
                };
                Ok((r.try_get("seq")?, entry))
            })
            .collect()
    }
}

/// One live token of a user, as `/auth/sessions` shows it.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub digest: String,
    /// None for tokens another dialect issued (they have no Plexichat session row).
    pub id: Option<String>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_activity: Option<i64>,
}

impl Db {
    /// Records where a just-issued session token came from.
    pub async fn insert_session(
        &self,
        digest: &str,
        id: &str,
        user: &str,
        ip_address: Option<String>,
        user_agent: Option<String>,
        now: i64,
    ) -> StoreResult<()> {
        let (digest, id, user) = (digest.to_owned(), id.to_owned(), user.to_owned());
        self.store
            .write(
                move |conn| {
                    let (digest, id, user) = (digest.clone(), id.clone(), user.clone());
                    let (ip, ua) = (ip_address.clone(), user_agent.clone());
                    async move {
                        sqlx::query(
                            "INSERT OR REPLACE INTO plexichat_sessions
                             (digest, id, user_id, ip_address, user_agent, created_at,
                              last_activity)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                        )
                        .bind(&digest)
                        .bind(&id)
                        .bind(&user)
                        .bind(&ip)
                        .bind(&ua)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                        Ok(())
                    }
                    .boxed()
                },
                None,
            )
            .await
    }

    /// Every unexpired token of `user` (any dialect's), oldest first.
    pub async fn sessions(&self, user: &str, now: i64) -> StoreResult<Vec<SessionRow>> {
        let rows = sqlx::query(
            "SELECT t.digest, s.id, s.ip_address, s.user_agent, t.created_at, t.expires_at,
                    s.last_activity
             FROM tokens t LEFT JOIN plexichat_sessions s ON s.digest = t.digest
             WHERE t.user_id = ?1 AND (t.expires_at IS NULL OR t.expires_at > ?2)
             ORDER BY t.created_at, t.digest",
        )
        .bind(user)
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SessionRow {
                    digest: r.try_get(0)?,
                    id: r.try_get(1)?,
                    ip_address: r.try_get(2)?,
                    user_agent: r.try_get(3)?,
                    created_at: r.try_get(4)?,
                    expires_at: r.try_get(5)?,
                    last_activity: r.try_get(6)?,
                })
            })
            .collect()
    }

    pub async fn touch_session(&self, digest: &str, now: i64) -> StoreResult<()> {
        let digest = digest.to_owned();
        self.store
            .write(
                move |conn| {
                    let digest = digest.clone();
                    async move {
                        sqlx::query(
                            "UPDATE plexichat_sessions SET last_activity = ?2 WHERE digest = ?1",
                        )
                        .bind(&digest)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                        Ok(())
                    }
                    .boxed()
                },
                None,
            )
            .await
    }

    /// Deletes the given tokens of `user` (their session rows go with them); how many existed.
    pub async fn revoke_tokens(&self, user: &str, digests: Vec<String>) -> StoreResult<u64> {
        let user = user.to_owned();
        let list =
            serde_json::to_string(&digests).map_err(|e| StoreError::Backend(e.to_string()))?;
        self.store
            .write(
                move |conn| {
                    let (user, list) = (user.clone(), list.clone());
                    async move {
                        let done = sqlx::query(
                            "DELETE FROM tokens WHERE user_id = ?1
                             AND digest IN (SELECT value FROM json_each(?2))",
                        )
                        .bind(&user)
                        .bind(&list)
                        .execute(&mut *conn)
                        .await?;
                        Ok(done.rows_affected())
                    }
                    .boxed()
                },
                None,
            )
            .await
    }
}

impl Db {
    /// Drops the Plexichat account data of a removed user (its email becomes free again).
    pub async fn forget_account(&self, user: &str) -> StoreResult<()> {
        let user = user.to_owned();
        self.store
            .write(
                move |conn| {
                    let user = user.clone();
                    async move {
                        for sql in [
                            "DELETE FROM plexichat_accounts WHERE user_id = ?1",
                            "DELETE FROM plexichat_settings WHERE user_id = ?1",
                            "DELETE FROM plexichat_messaging_settings WHERE user_id = ?1",
                            "DELETE FROM plexichat_notifications WHERE user_id = ?1",
                            "DELETE FROM plexichat_relationships
                             WHERE user_id = ?1 OR other_id = ?1",
                        ] {
                            sqlx::query(sql).bind(&user).execute(&mut *conn).await?;
                        }
                        Ok(())
                    }
                    .boxed()
                },
                None,
            )
            .await
    }
}

impl Db {
    /// Makes `attachment` the current image of the user or server (`kind` `user`/`server`).
    pub async fn set_image(
        &self,
        kind: &'static str,
        owner: &str,
        attachment: &str,
        now: i64,
    ) -> StoreResult<()> {
        let (owner, attachment) = (owner.to_owned(), attachment.to_owned());
        self.store
            .write(
                move |conn| {
                    let (owner, attachment) = (owner.clone(), attachment.clone());
                    async move {
                        sqlx::query(
                            "INSERT OR REPLACE INTO plexichat_images
                             (kind, owner_id, attachment_id, updated_at) VALUES (?1, ?2, ?3, ?4)",
                        )
                        .bind(kind)
                        .bind(&owner)
                        .bind(&attachment)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                        Ok(())
                    }
                    .boxed()
                },
                None,
            )
            .await
    }

    /// The attachment id of the current image of a user or server.
    pub async fn image(&self, kind: &str, owner: &str) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT attachment_id FROM plexichat_images WHERE kind = ?1 AND owner_id = ?2",
        )
        .bind(kind)
        .bind(owner)
        .fetch_optional(self.pool())
        .await?)
    }
}

/// A report to keep (`plexichat_reports`).
#[derive(Debug, Clone)]
pub struct NewReport {
    pub id: String,
    /// `message` or `user`
    pub kind: &'static str,
    pub reporter_id: String,
    pub target_user_id: Option<String>,
    pub message_id: Option<String>,
    pub room_id: Option<String>,
    pub space_id: Option<String>,
    pub reason: String,
    pub category: String,
    pub details: Option<String>,
    pub evidence: Vec<String>,
    pub created_at: i64,
}

impl Db {
    pub async fn insert_report(&self, r: NewReport) -> StoreResult<()> {
        let evidence =
            serde_json::to_string(&r.evidence).map_err(|e| StoreError::Backend(e.to_string()))?;
        self.store
            .write(
                move |conn| {
                    let (r, evidence) = (r.clone(), evidence.clone());
                    async move {
                        sqlx::query(
                            "INSERT INTO plexichat_reports
                             (id, kind, reporter_id, target_user_id, message_id, room_id, space_id,
                              reason, category, details, evidence, created_at)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                        )
                        .bind(&r.id)
                        .bind(r.kind)
                        .bind(&r.reporter_id)
                        .bind(&r.target_user_id)
                        .bind(&r.message_id)
                        .bind(&r.room_id)
                        .bind(&r.space_id)
                        .bind(&r.reason)
                        .bind(&r.category)
                        .bind(&r.details)
                        .bind(&evidence)
                        .bind(r.created_at)
                        .execute(&mut *conn)
                        .await?;
                        Ok(())
                    }
                    .boxed()
                },
                None,
            )
            .await
    }
}
