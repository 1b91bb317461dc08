//! Attachments and custom emoji (`0008_files.sql`). Webhooks are in `webhooks.rs`.

use super::SqliteStore;
use crate::core::attachments::{Attachment, NewAttachment};
use crate::core::emoji::Emoji;
use crate::core::ids::{RoomId, SpaceId, UserId};
use crate::core::webhooks::Webhook;
use crate::store::files::{EmojiChange, FileStore, WebhookChange};
use crate::store::{BoxFut, StoreError, StoreResult};
use futures_util::FutureExt;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

const ATTACHMENT_COLUMNS: &str =
    "id, uploader_id, room_id, file_name, original_name, mime_type, size,
     sha256, width, height, permanent, referenced, created_at, expires_at";

fn attachment_from_row(r: &SqliteRow) -> StoreResult<Attachment> {
    Ok(Attachment {
        id: r.try_get("id")?,
        uploader_id: UserId(r.try_get("uploader_id")?),
        room_id: r.try_get::<Option<String>, _>("room_id")?.map(RoomId),
        file_name: r.try_get("file_name")?,
        original_name: r.try_get("original_name")?,
        mime_type: r.try_get("mime_type")?,
        size: r.try_get("size")?,
        sha256: r.try_get("sha256")?,
        width: r.try_get("width")?,
        height: r.try_get("height")?,
        permanent: r.try_get::<i64, _>("permanent")? != 0,
        referenced: r.try_get::<i64, _>("referenced")? != 0,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

async fn fetch_attachment(
    conn: &mut SqliteConnection,
    id: &str,
) -> StoreResult<Option<Attachment>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE id = ?1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(attachment_from_row).transpose()
}

const EMOJI_COLUMNS: &str = "space_id, id, name, file_name, mime_type, created_by, created_at";

fn emoji_from_row(r: &SqliteRow) -> StoreResult<Emoji> {
    Ok(Emoji {
        space_id: SpaceId(r.try_get("space_id")?),
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        file_name: r.try_get("file_name")?,
        mime_type: r.try_get("mime_type")?,
        created_by: r.try_get::<Option<String>, _>("created_by")?.map(UserId),
        created_at: r.try_get("created_at")?,
    })
}

async fn fetch_emoji(
    conn: &mut SqliteConnection,
    space: &str,
    id: i64,
) -> StoreResult<Option<Emoji>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {EMOJI_COLUMNS} FROM custom_emojis WHERE space_id = ?1 AND id = ?2"
    )))
    .bind(space)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(emoji_from_row).transpose()
}

async fn name_taken(
    conn: &mut SqliteConnection,
    space: &str,
    name: &str,
    except: Option<i64>,
) -> StoreResult<bool> {
    Ok(sqlx::query(
        "SELECT 1 FROM custom_emojis WHERE space_id = ?1 AND name = ?2 COLLATE NOCASE
         AND id IS NOT ?3",
    )
    .bind(space)
    .bind(name)
    .bind(except)
    .fetch_optional(&mut *conn)
    .await?
    .is_some())
}

impl FileStore for SqliteStore {
    fn insert_attachment(&self, a: NewAttachment) -> BoxFut<'_, Attachment> {
        Box::pin(async move {
            self.write(
                move |conn| {
                    let NewAttachment {
                        attachment: a,
                        sweep_unreferenced,
                    } = a.clone();
                    async move {
                        sqlx::query(
                            "INSERT INTO attachments (id, uploader_id, room_id, file_name,
                             original_name, mime_type, size, sha256, width, height, permanent,
                             referenced, sweep_unreferenced, created_at, expires_at)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0, ?12, ?13, ?14)",
                        )
                        .bind(&a.id)
                        .bind(a.uploader_id.as_str())
                        .bind(a.room_id.as_ref().map(|r| r.as_str()))
                        .bind(&a.file_name)
                        .bind(&a.original_name)
                        .bind(&a.mime_type)
                        .bind(a.size)
                        .bind(&a.sha256)
                        .bind(a.width)
                        .bind(a.height)
                        .bind(a.permanent as i64)
                        .bind(sweep_unreferenced as i64)
                        .bind(a.created_at)
                        .bind(a.expires_at)
                        .execute(&mut *conn)
                        .await?;
                        Ok(a)
                    }
                    .boxed()
                },
                None,
            )
            .await
        })
    }

    fn attachment(&self, id: String) -> BoxFut<'_, Option<Attachment>> {
        Box::pin(async move {
            let mut conn = self.pool.acquire().await?;
            fetch_attachment(&mut conn, &id).await
        })
    }

    fn attachment_by_hash(
        &self,
        uploader: UserId,
        sha256: String,
        now: i64,
    ) -> BoxFut<'_, Option<Attachment>> {
        Box::pin(async move {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {ATTACHMENT_COLUMNS} FROM attachments
                 WHERE uploader_id = ?1 AND sha256 = ?2 AND (expires_at IS NULL OR expires_at > ?3)
                 ORDER BY created_at LIMIT 1"
            )))
            .bind(uploader.as_str())
            .bind(sha256)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
            row.as_ref().map(attachment_from_row).transpose()
        })
    }

    fn refresh_attachment(
        &self,
        id: String,
        expires_at: Option<i64>,
        permanent: bool,
        original_name: String,
    ) -> BoxFut<'_, Option<Attachment>> {
        Box::pin(async move {
            self.write(
                move |conn| {
                    let (id, name) = (id.clone(), original_name.clone());
                    async move {
                        sqlx::query(
                            "UPDATE attachments SET expires_at = ?2, permanent = ?3,
                             original_name = ?4 WHERE id = ?1",
                        )
                        .bind(&id)
                        .bind(expires_at)
                        .bind(permanent as i64)
                        .bind(&name)
                        .execute(&mut *conn)
                        .await?;
                        fetch_attachment(conn, &id).await
                    }
                    .boxed()
                },
                None,
            )
            .await
        })
    }

    fn uploads_of(&self, uploader: UserId, now: i64) -> BoxFut<'_, (i64, Option<Attachment>)> {
        Box::pin(async move {
            let live = "uploader_id = ?1 AND (expires_at IS NULL OR expires_at > ?2)";
            let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM attachments WHERE {live}"
            )))
            .bind(uploader.as_str())
            .bind(now)
            .fetch_one(&self.pool)
            .await?;
            let oldest = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE {live}
                 ORDER BY created_at LIMIT 1"
            )))
            .bind(uploader.as_str())
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
            Ok((count, oldest.as_ref().map(attachment_from_row).transpose()?))
        })
    }

    fn delete_attachments(&self, ids: Vec<String>) -> BoxFut<'_, Vec<String>> {
        Box::pin(async move {
            self.write(
                move |conn| {
                    let ids = ids.clone();
                    async move {
                        let mut gone = Vec::with_capacity(ids.len());
                        for id in &ids {
                            let name: Option<String> = sqlx::query_scalar(
                                "DELETE FROM attachments WHERE id = ?1 RETURNING file_name",
                            )
                            .bind(id)
                            .fetch_optional(&mut *conn)
                            .await?;
                            sqlx::query("DELETE FROM message_attachments WHERE attachment_id = ?1")
                                .bind(id)
                                .execute(&mut *conn)
                                .await?;
                            gone.extend(name);
                        }
                        Ok(gone)
                    }
                    .boxed()
                },
                None,
            )
            .await
        })
    }

    fn sweepable_attachments(
        &self,
        now: i64,
        unreferenced_before: i64,
        limit: u32,
    ) -> BoxFut<'_, Vec<Attachment>> {
        Box::pin(async move {
            // Two indexed scans (expiry; unreferenced by age), merged.
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {ATTACHMENT_COLUMNS} FROM attachments
                 WHERE expires_at IS NOT NULL AND expires_at <= ?1
                 UNION
                 SELECT {ATTACHMENT_COLUMNS} FROM attachments
                 WHERE referenced = 0 AND sweep_unreferenced = 1 AND created_at < ?2
                 LIMIT ?3"
            )))
            .bind(now)
            .bind(unreferenced_before)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(attachment_from_row).collect()
        })
    }

    fn attachment_rooms(&self, attachment: String) -> BoxFut<'_, Vec<RoomId>> {
        Box::pin(async move {
            let rooms: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT m.room_id FROM message_attachments ma
                 JOIN messages m ON m.id = ma.message_id
                 WHERE ma.attachment_id = ?1 AND m.deleted = 0 LIMIT 50",
            )
            .bind(attachment)
            .fetch_all(&self.pool)
            .await?;
            Ok(rooms.into_iter().map(RoomId).collect())
        })
    }

    fn insert_emoji(
        &self,
        space: SpaceId,
        name: String,
        extension: String,
        mime_type: String,
        created_by: Option<UserId>,
        created_at: i64,
    ) -> BoxFut<'_, Emoji> {
        Box::pin(async move {
            self.write(
                move |conn| {
                    let (space, name, ext, mime, by) = (
                        space.clone(),
                        name.clone(),
                        extension.clone(),
                        mime_type.clone(),
                        created_by.clone(),
                    );
                    async move {
                        if name_taken(conn, space.as_str(), &name, None).await? {
                            return Err(StoreError::Conflict(format!(
                                "an emoji named '{name}' exists"
                            )));
                        }
                        let id: i64 = sqlx::query_scalar(
                            "SELECT COALESCE(MAX(id) + 1, 0) FROM custom_emojis WHERE space_id = ?1",
                        )
                        .bind(space.as_str())
                        .fetch_one(&mut *conn)
                        .await?;
                        let e = Emoji {
                            space_id: space,
                            id,
                            name,
                            file_name: format!("{id}.{ext}"),
                            mime_type: mime,
                            created_by: by,
                            created_at,
                        };
                        sqlx::query(
                            "INSERT INTO custom_emojis (space_id, id, name, file_name, mime_type,
                             created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        )
                        .bind(e.space_id.as_str())
                        .bind(e.id)
                        .bind(&e.name)
                        .bind(&e.file_name)
                        .bind(&e.mime_type)
                        .bind(e.created_by.as_ref().map(|u| u.as_str()))
                        .bind(e.created_at)
                        .execute(&mut *conn)
                        .await?;
                        Ok(e)
                    }
                    .boxed()
                },
                None,
            )
            .await
        })
    }

    fn emojis(&self, space: SpaceId) -> BoxFut<'_, Vec<Emoji>> {
        Box::pin(async move {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {EMOJI_COLUMNS} FROM custom_emojis WHERE space_id = ?1 ORDER BY id"
            )))
            .bind(space.as_str())
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(emoji_from_row).collect()
        })
    }

    fn emoji(&self, space: SpaceId, id: i64) -> BoxFut<'_, Option<Emoji>> {
        Box::pin(async move {
            let mut conn = self.pool.acquire().await?;
            fetch_emoji(&mut conn, space.as_str(), id).await
        })
    }

    fn emoji_by_name(&self, space: SpaceId, name: String) -> BoxFut<'_, Option<Emoji>> {
        Box::pin(async move {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {EMOJI_COLUMNS} FROM custom_emojis
                 WHERE space_id = ?1 AND name = ?2 COLLATE NOCASE"
            )))
            .bind(space.as_str())
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
            row.as_ref().map(emoji_from_row).transpose()
        })
    }

    fn update_emoji(
        &self,
        space: SpaceId,
        id: i64,
        change: EmojiChange,
    ) -> BoxFut<'_, Option<Emoji>> {
        Box::pin(async move {
            self.write(
                move |conn| {
                    let (space, change) = (space.clone(), change.clone());
                    async move {
                        if fetch_emoji(conn, space.as_str(), id).await?.is_none() {
                            return Ok(None);
                        }
                        if let Some(n) = &change.name
                            && name_taken(conn, space.as_str(), n, Some(id)).await?
                        {
                            return Err(StoreError::Conflict(format!(
                                "an emoji named '{n}' exists"
                            )));
                        }
                        sqlx::query(
                            "UPDATE custom_emojis SET name = COALESCE(?3, name),
                             file_name = COALESCE(?4, file_name), mime_type = COALESCE(?5, mime_type)
                             WHERE space_id = ?1 AND id = ?2",
                        )
                        .bind(space.as_str())
                        .bind(id)
                        .bind(&change.name)
                        .bind(&change.file_name)
                        .bind(&change.mime_type)
                        .execute(&mut *conn)
                        .await?;
                        fetch_emoji(conn, space.as_str(), id).await
                    }
                    .boxed()
                },
                None,
            )
            .await
        })
    }

    fn delete_emoji(&self, space: SpaceId, id: i64) -> BoxFut<'_, Option<Emoji>> {
        Box::pin(async move {
            self.write(
                move |conn| {
                    let space = space.clone();
                    async move {
                        let Some(e) = fetch_emoji(conn, space.as_str(), id).await? else {
                            return Ok(None);
                        };
                        sqlx::query("DELETE FROM custom_emojis WHERE space_id = ?1 AND id = ?2")
                            .bind(space.as_str())
                            .bind(id)
                            .execute(&mut *conn)
                            .await?;
                        Ok(Some(e))
                    }
                    .boxed()
                },
                None,
            )
            .await
        })
    }

    fn insert_webhook(&self, w: Webhook, token_digest: String) -> BoxFut<'_, Webhook> {
        super::webhooks::insert(self, w, token_digest)
    }

    fn webhook(&self, id: String) -> BoxFut<'_, Option<Webhook>> {
        super::webhooks::by_id(self, id)
    }

    fn webhook_by_token(&self, token_digest: String) -> BoxFut<'_, Option<Webhook>> {
        super::webhooks::by_token(self, token_digest)
    }

    fn webhook_token_digest(&self, id: String) -> BoxFut<'_, Option<String>> {
        super::webhooks::token_digest(self, id)
    }

    fn webhooks(&self, space: SpaceId, room: Option<RoomId>) -> BoxFut<'_, Vec<Webhook>> {
        super::webhooks::list(self, space, room)
    }

    fn update_webhook(&self, id: String, change: WebhookChange) -> BoxFut<'_, Option<Webhook>> {
        super::webhooks::update(self, id, change)
    }

    fn delete_webhook(&self, id: String) -> BoxFut<'_, bool> {
        super::webhooks::delete(self, id)
    }
}
