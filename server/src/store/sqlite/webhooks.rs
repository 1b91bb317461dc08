//! Core webhooks (`0008_files.sql`).

use super::SqliteStore;
use crate::core::ids::{RoomId, SpaceId, UserId};
use crate::core::webhooks::Webhook;
use crate::store::files::WebhookChange;
use crate::store::{BoxFut, StoreResult};
use futures_util::FutureExt;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

const COLUMNS: &str = "id, space_id, room_id, creator_id, user_id, name, avatar_url, created_at";

fn from_row(r: &SqliteRow) -> StoreResult<Webhook> {
    Ok(Webhook {
        id: r.try_get("id")?,
        space_id: SpaceId(r.try_get("space_id")?),
        room_id: RoomId(r.try_get("room_id")?),
        creator_id: UserId(r.try_get("creator_id")?),
        user_id: UserId(r.try_get("user_id")?),
        name: r.try_get("name")?,
        avatar_url: r.try_get("avatar_url")?,
        created_at: r.try_get("created_at")?,
    })
}

async fn fetch(conn: &mut SqliteConnection, id: &str) -> StoreResult<Option<Webhook>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhooks WHERE id = ?1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub(super) fn insert(s: &SqliteStore, w: Webhook, digest: String) -> BoxFut<'_, Webhook> {
    Box::pin(async move {
        s.write(
            move |conn| {
                let (w, digest) = (w.clone(), digest.clone());
                async move {
                    sqlx::query(
                        "INSERT INTO webhooks (id, space_id, room_id, creator_id, user_id, name,
                         avatar_url, token_digest, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    )
                    .bind(&w.id)
                    .bind(w.space_id.as_str())
                    .bind(w.room_id.as_str())
                    .bind(w.creator_id.as_str())
                    .bind(w.user_id.as_str())
                    .bind(&w.name)
                    .bind(&w.avatar_url)
                    .bind(&digest)
                    .bind(w.created_at)
                    .execute(&mut *conn)
                    .await?;
                    Ok(w)
                }
                .boxed()
            },
            None,
        )
        .await
    })
}

pub(super) fn by_id(s: &SqliteStore, id: String) -> BoxFut<'_, Option<Webhook>> {
    Box::pin(async move {
        let mut conn = s.pool.acquire().await?;
        fetch(&mut conn, &id).await
    })
}

pub(super) fn by_token(s: &SqliteStore, digest: String) -> BoxFut<'_, Option<Webhook>> {
    Box::pin(async move {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM webhooks WHERE token_digest = ?1"
        )))
        .bind(digest)
        .fetch_optional(&s.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    })
}

pub(super) fn token_digest(s: &SqliteStore, id: String) -> BoxFut<'_, Option<String>> {
    Box::pin(async move {
        Ok(
            sqlx::query_scalar("SELECT token_digest FROM webhooks WHERE id = ?1")
                .bind(id)
                .fetch_optional(&s.pool)
                .await?,
        )
    })
}

pub(super) fn list(
    s: &SqliteStore,
    space: SpaceId,
    room: Option<RoomId>,
) -> BoxFut<'_, Vec<Webhook>> {
    Box::pin(async move {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM webhooks WHERE space_id = ?1 AND (?2 IS NULL OR room_id = ?2)
             ORDER BY created_at, id"
        )))
        .bind(space.as_str())
        .bind(room.as_ref().map(|r| r.as_str()))
        .fetch_all(&s.pool)
        .await?;
        rows.iter().map(from_row).collect()
    })
}

pub(super) fn update(s: &SqliteStore, id: String, c: WebhookChange) -> BoxFut<'_, Option<Webhook>> {
    Box::pin(async move {
        s.write(
            move |conn| {
                let (id, c) = (id.clone(), c.clone());
                async move {
                    let (avatar_set, avatar) = match &c.avatar_url {
                        Some(a) => (1i64, a.clone()),
                        None => (0, None),
                    };
                    sqlx::query(
                        "UPDATE webhooks SET name = COALESCE(?2, name),
                         avatar_url = CASE WHEN ?3 = 1 THEN ?4 ELSE avatar_url END,
                         room_id = COALESCE(?5, room_id),
                         token_digest = COALESCE(?6, token_digest)
                         WHERE id = ?1",
                    )
                    .bind(&id)
                    .bind(&c.name)
                    .bind(avatar_set)
                    .bind(avatar)
                    .bind(c.room_id.as_ref().map(|r| r.as_str()))
                    .bind(&c.token_digest)
                    .execute(&mut *conn)
                    .await?;
                    fetch(conn, &id).await
                }
                .boxed()
            },
            None,
        )
        .await
    })
}

pub(super) fn delete(s: &SqliteStore, id: String) -> BoxFut<'_, bool> {
    Box::pin(async move {
        s.write(
            move |conn| {
                let id = id.clone();
                async move {
                    let n = sqlx::query("DELETE FROM webhooks WHERE id = ?1")
                        .bind(&id)
                        .execute(&mut *conn)
                        .await?
                        .rows_affected();
                    Ok(n > 0)
                }
                .boxed()
            },
            None,
        )
        .await
    })
}
