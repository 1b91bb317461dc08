//! Per-user state only Plexichat has (`0010_plexichat_user_state.sql`,
//! `0011_plexichat_notes.sql`): settings, messaging preferences, notifications, relationships
//! and notes channels. Reads use the store's read pool, writes its single writer
//! (`SqliteStore::write`).

use crate::store::sqlite::SqliteStore;
use crate::store::{StoreError, StoreResult};
use sqlx::Row;
use std::sync::Arc;

/// Most settings one user may keep, and the key and value limits (the reference's
/// `SettingsConfig`).
pub const MAX_SETTINGS: i64 = 100;
pub const MAX_KEY_CHARS: usize = 100;
pub const RESERVED_PREFIX: &str = "__internal";

pub struct StateDb {
    store: Arc<SqliteStore>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub key: String,
    pub value: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessagingSettings {
    pub read_receipts_enabled: bool,
    pub typing_indicators_enabled: bool,
    pub compact_messages_enabled: bool,
    /// `everyone`, `friends` or `none`.
    pub allow_dms_from: String,
    pub auto_create_dms: bool,
}

impl Default for MessagingSettings {
    fn default() -> Self {
        Self {
            read_receipts_enabled: true,
            typing_indicators_enabled: true,
            compact_messages_enabled: false,
            allow_dms_from: "everyone".into(),
            auto_create_dms: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: String,
    pub user_id: String,
    pub kind: String,
    pub title: String,
    pub content: String,
    pub link: Option<String>,
    pub sender_id: Option<String>,
    pub room_id: Option<String>,
    pub read: bool,
    pub created_at: i64,
}

/// How `user_id` sees `other_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relationship {
    pub other_id: String,
    /// `friend`, `pending_outgoing`, `pending_incoming` or `blocked`.
    pub status: String,
    pub message: Option<String>,
    pub created_at: i64,
}

/// One side of a relationship change: (user, other, new status; None removes the row).
pub type RelationshipChange = (String, String, Option<(String, Option<String>)>);

fn notification_from_row(r: &sqlx::sqlite::SqliteRow) -> Notification {
    Notification {
        id: r.get(0),
        user_id: r.get(1),
        kind: r.get(2),
        title: r.get(3),
        content: r.get(4),
        link: r.get(5),
        sender_id: r.get(6),
        room_id: r.get(7),
        read: r.get(8),
        created_at: r.get(9),
    }
}

const NOTIFICATION_COLUMNS: &str =
    "id, user_id, kind, title, content, link, sender_id, room_id, read, created_at";

impl StateDb {
    pub fn new(store: Arc<SqliteStore>) -> Self {
        Self { store }
    }

    fn pool(&self) -> &sqlx::SqlitePool {
        self.store.read_pool()
    }

    // ------------------------------------------------------------------ settings

    pub async fn settings(&self, user: &str) -> StoreResult<Vec<Setting>> {
        let rows = sqlx::query(
            "SELECT key, value, created_at, updated_at FROM plexichat_settings
             WHERE user_id = ?1 ORDER BY created_at, key",
        )
        .bind(user)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| Setting {
                key: r.get(0),
                value: r.get(1),
                created_at: r.get(2),
                updated_at: r.get(3),
            })
            .collect())
    }

    /// Stores `pairs` (all or none); `Conflict("limit")` when new keys would pass
    /// [`MAX_SETTINGS`]. Returns the stored settings, in the order given.
    pub async fn put_settings(
        &self,
        user: &str,
        pairs: Vec<(String, String)>,
        now: i64,
    ) -> StoreResult<Vec<Setting>> {
        let user = user.to_owned();
        self.store
            .write(
                move |conn| {
                    let (user, pairs) = (user.clone(), pairs.clone());
                    Box::pin(async move {
                        // Check the limit before writing: an error here must leave nothing
                        // half-written (the writer commits what a failed op already did).
                        let mut created = Vec::with_capacity(pairs.len());
                        for (key, _) in &pairs {
                            let at: Option<i64> = sqlx::query_scalar(
                                "SELECT created_at FROM plexichat_settings
                                 WHERE user_id = ?1 AND key = ?2",
                            )
                            .bind(&user)
                            .bind(key)
                            .fetch_optional(&mut *conn)
                            .await?;
                            created.push(at);
                        }
                        let count: i64 = sqlx::query_scalar(
                            "SELECT COUNT(*) FROM plexichat_settings WHERE user_id = ?1",
                        )
                        .bind(&user)
                        .fetch_one(&mut *conn)
                        .await?;
                        let mut new_keys: Vec<&str> = pairs
                            .iter()
                            .zip(&created)
                            .filter(|(_, c)| c.is_none())
                            .map(|((k, _), _)| k.as_str())
                            .collect();
                        new_keys.sort_unstable();
                        new_keys.dedup();
                        if count + new_keys.len() as i64 > MAX_SETTINGS {
                            return Err(StoreError::Conflict("limit".into()));
                        }
                        let mut out = Vec::with_capacity(pairs.len());
                        for ((key, value), created) in pairs.into_iter().zip(created) {
                            sqlx::query(
                                "INSERT INTO plexichat_settings
                                 (user_id, key, value, created_at, updated_at)
                                 VALUES (?1, ?2, ?3, ?4, ?4)
                                 ON CONFLICT (user_id, key) DO UPDATE SET value = ?3, updated_at = ?4",
                            )
                            .bind(&user)
                            .bind(&key)
                            .bind(&value)
                            .bind(now)
                            .execute(&mut *conn)
                            .await?;
                            out.push(Setting {
                                key,
                                value,
                                created_at: created.unwrap_or(now),
                                updated_at: now,
                            });
                        }
                        Ok(out)
                    })
                },
                None,
            )
            .await
    }

    /// Deletes a setting; false when there was none.
    pub async fn delete_setting(&self, user: &str, key: &str) -> StoreResult<bool> {
        let (user, key) = (user.to_owned(), key.to_owned());
        self.store
            .write(
                move |conn| {
                    let (user, key) = (user.clone(), key.clone());
                    Box::pin(async move {
                        let r = sqlx::query(
                            "DELETE FROM plexichat_settings WHERE user_id = ?1 AND key = ?2",
                        )
                        .bind(&user)
                        .bind(&key)
                        .execute(&mut *conn)
                        .await?;
                        Ok(r.rows_affected() > 0)
                    })
                },
                None,
            )
            .await
    }

    // ------------------------------------------------------------------ messaging settings

    pub async fn messaging_settings(&self, user: &str) -> StoreResult<MessagingSettings> {
        let row = sqlx::query(
            "SELECT read_receipts_enabled, typing_indicators_enabled, compact_messages_enabled,
                    allow_dms_from, auto_create_dms
             FROM plexichat_messaging_settings WHERE user_id = ?1",
        )
        .bind(user)
        .fetch_optional(self.pool())
        .await?;
        Ok(row
            .map(|r| MessagingSettings {
                read_receipts_enabled: r.get(0),
                typing_indicators_enabled: r.get(1),
                compact_messages_enabled: r.get(2),
                allow_dms_from: r.get(3),
                auto_create_dms: r.get(4),
            })
            .unwrap_or_default())
    }

    pub async fn set_messaging_settings(
        &self,
        user: &str,
        s: MessagingSettings,
    ) -> StoreResult<()> {
        let user = user.to_owned();
        self.store
            .write(
                move |conn| {
                    let (user, s) = (user.clone(), s.clone());
                    Box::pin(async move {
                        sqlx::query(
                            "INSERT OR REPLACE INTO plexichat_messaging_settings
                             (user_id, read_receipts_enabled, typing_indicators_enabled,
                              compact_messages_enabled, allow_dms_from, auto_create_dms)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        )
                        .bind(&user)
                        .bind(s.read_receipts_enabled)
                        .bind(s.typing_indicators_enabled)
                        .bind(s.compact_messages_enabled)
                        .bind(&s.allow_dms_from)
                        .bind(s.auto_create_dms)
                        .execute(&mut *conn)
                        .await?;
                        Ok(())
                    })
                },
                None,
            )
            .await
    }

    // ------------------------------------------------------------------ notifications

    pub async fn insert_notifications(&self, list: Vec<Notification>) -> StoreResult<()> {
        if list.is_empty() {
            return Ok(());
        }
        self.store
            .write(
                move |conn| {
                    let list = list.clone();
                    Box::pin(async move {
                        for n in &list {
                            sqlx::query(
                                "INSERT INTO plexichat_notifications (id, user_id, kind, title,
                                 content, link, sender_id, room_id, read, created_at)
                                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                            )
                            .bind(&n.id)
                            .bind(&n.user_id)
                            .bind(&n.kind)
                            .bind(&n.title)
                            .bind(&n.content)
                            .bind(&n.link)
                            .bind(&n.sender_id)
                            .bind(&n.room_id)
                            .bind(n.read)
                            .bind(n.created_at)
                            .execute(&mut *conn)
                            .await?;
                        }
                        Ok(())
                    })
                },
                None,
            )
            .await
    }

    /// The newest `limit` notifications of `user` and how many are unread in all.
    pub async fn notifications(
        &self,
        user: &str,
        limit: u32,
        unread_only: bool,
    ) -> StoreResult<(Vec<Notification>, i64)> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM plexichat_notifications
             WHERE user_id = ?1 AND (?2 = 0 OR read = 0) ORDER BY created_at DESC, id DESC LIMIT ?3"
        )))
        .bind(user)
        .bind(unread_only)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let unread: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM plexichat_notifications WHERE user_id = ?1 AND read = 0",
        )
        .bind(user)
        .fetch_one(self.pool())
        .await?;
        Ok((rows.iter().map(notification_from_row).collect(), unread))
    }

    pub async fn notification(&self, user: &str, id: &str) -> StoreResult<Option<Notification>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM plexichat_notifications
             WHERE user_id = ?1 AND id = ?2"
        )))
        .bind(user)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(notification_from_row))
    }

    /// Marks notifications of `user` read: one (`id`), those of a room, or all (both None).
    /// Returns how many changed.
    pub async fn mark_notifications_read(
        &self,
        user: &str,
        id: Option<&str>,
        room: Option<&str>,
    ) -> StoreResult<u64> {
        let (user, id, room) = (
            user.to_owned(),
            id.map(str::to_owned),
            room.map(str::to_owned),
        );
        self.store
            .write(
                move |conn| {
                    let (user, id, room) = (user.clone(), id.clone(), room.clone());
                    Box::pin(async move {
                        let r = sqlx::query(
                            "UPDATE plexichat_notifications SET read = 1
                             WHERE user_id = ?1 AND read = 0 AND (?2 IS NULL OR id = ?2)
                               AND (?3 IS NULL OR room_id = ?3)",
                        )
                        .bind(&user)
                        .bind(&id)
                        .bind(&room)
                        .execute(&mut *conn)
                        .await?;
                        Ok(r.rows_affected())
                    })
                },
                None,
            )
            .await
    }

    pub async fn delete_notification(&self, user: &str, id: &str) -> StoreResult<bool> {
        let (user, id) = (user.to_owned(), id.to_owned());
        self.store
            .write(
                move |conn| {
                    let (user, id) = (user.clone(), id.clone());
                    Box::pin(async move {
                        let r = sqlx::query(
                            "DELETE FROM plexichat_notifications WHERE user_id = ?1 AND id = ?2",
                        )
                        .bind(&user)
                        .bind(&id)
                        .execute(&mut *conn)
                        .await?;
                        Ok(r.rows_affected() > 0)
                    })
                },
                None,
            )
            .await
    }

    // ------------------------------------------------------------------ relationships

    pub async fn relationships(&self, user: &str) -> StoreResult<Vec<Relationship>> {
        let rows = sqlx::query(
            "SELECT other_id, status, message, created_at FROM plexichat_relationships
             WHERE user_id = ?1 ORDER BY created_at, other_id",
        )
        .bind(user)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| Relationship {
                other_id: r.get(0),
                status: r.get(1),
                message: r.get(2),
                created_at: r.get(3),
            })
            .collect())
    }

    /// How `user` sees `other`.
    pub async fn relationship(&self, user: &str, other: &str) -> StoreResult<Option<Relationship>> {
        let row = sqlx::query(
            "SELECT other_id, status, message, created_at FROM plexichat_relationships
             WHERE user_id = ?1 AND other_id = ?2",
        )
        .bind(user)
        .bind(other)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| Relationship {
            other_id: r.get(0),
            status: r.get(1),
            message: r.get(2),
            created_at: r.get(3),
        }))
    }

    /// Applies several sides of a relationship change in one transaction.
    pub async fn change_relationships(
        &self,
        changes: Vec<RelationshipChange>,
        now: i64,
    ) -> StoreResult<()> {
        self.store
            .write(
                move |conn| {
                    let changes = changes.clone();
                    Box::pin(async move {
                        for (user, other, status) in &changes {
                            match status {
                                Some((status, message)) => {
                                    sqlx::query(
                                        "INSERT INTO plexichat_relationships
                                         (user_id, other_id, status, message, created_at)
                                         VALUES (?1, ?2, ?3, ?4, ?5)
                                         ON CONFLICT (user_id, other_id)
                                         DO UPDATE SET status = ?3, message = ?4, created_at = ?5",
                                    )
                                    .bind(user)
                                    .bind(other)
                                    .bind(status)
                                    .bind(message)
                                    .bind(now)
                                    .execute(&mut *conn)
                                    .await?;
                                }
                                None => {
                                    sqlx::query(
                                        "DELETE FROM plexichat_relationships
                                         WHERE user_id = ?1 AND other_id = ?2",
                                    )
                                    .bind(user)
                                    .bind(other)
                                    .execute(&mut *conn)
                                    .await?;
                                }
                            }
                        }
                        Ok(())
                    })
                },
                None,
            )
            .await
    }

    // ------------------------------------------------------------------ notes

    /// The room of `user`'s personal notes, if made.
    pub async fn notes_room(&self, user: &str) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT room_id FROM plexichat_notes WHERE user_id = ?1")
                .bind(user)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Records `room` as `user`'s notes unless one is recorded; returns the recorded one.
    pub async fn set_notes_room(&self, user: &str, room: &str) -> StoreResult<String> {
        let (user, room) = (user.to_owned(), room.to_owned());
        self.store
            .write(
                move |conn| {
                    let (user, room) = (user.clone(), room.clone());
                    Box::pin(async move {
                        sqlx::query(
                            "INSERT OR IGNORE INTO plexichat_notes (user_id, room_id)
                             VALUES (?1, ?2)",
                        )
                        .bind(&user)
                        .bind(&room)
                        .execute(&mut *conn)
                        .await?;
                        let kept: String = sqlx::query_scalar(
                            "SELECT room_id FROM plexichat_notes WHERE user_id = ?1",
                        )
                        .bind(&user)
                        .fetch_one(&mut *conn)
                        .await?;
                        Ok(kept)
                    })
                },
                None,
            )
            .await
    }
}
