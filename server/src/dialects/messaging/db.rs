//! The dialect's own tables (migration 0003) and the reads it renders frames from.

use super::errors::{Fail, Res};
use crate::store::sqlite::SqliteStore;
use sqlx::Row;
use sqlx::sqlite::SqlitePool;
use std::sync::Arc;

/// A bound value.
#[derive(Clone, Debug)]
pub enum B {
    T(String),
    I(i64),
}

#[derive(Clone, Debug)]
pub struct Stmt {
    sql: &'static str,
    binds: Vec<B>,
}

pub fn stmt(sql: &'static str, binds: Vec<B>) -> Stmt {
    Stmt { sql, binds }
}

/// Runs `stmts` in one transaction of the store's writer.
pub async fn exec(store: &SqliteStore, stmts: Vec<Stmt>) -> Res<()> {
    if stmts.is_empty() {
        return Ok(());
    }
    let stmts = Arc::new(stmts);
    store
        .write(
            move |conn| {
                let stmts = stmts.clone();
                Box::pin(async move {
                    for s in stmts.iter() {
                        let mut q = sqlx::query(s.sql);
                        for b in &s.binds {
                            q = match b {
                                B::T(t) => q.bind(t.clone()),
                                B::I(i) => q.bind(*i),
                            };
                        }
                        q.execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            },
            None,
        )
        .await
        .map_err(Fail::from)
}

/// A stored message, as the dialect renders it.
#[derive(Clone, Debug)]
pub struct MsgRow {
    pub id: String,
    pub room_id: String,
    pub author_id: String,
    pub username: String,
    pub display_name: Option<String>,
    pub content: String,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted: bool,
    pub reply_to: Option<String>,
    pub forwarded_from: Option<String>,
    pub extra: serde_json::Value,
}

fn msg_row(r: &sqlx::sqlite::SqliteRow) -> Result<MsgRow, sqlx::Error> {
    let extra: String = r.try_get(11)?;
    Ok(MsgRow {
        id: r.try_get(0)?,
        room_id: r.try_get(1)?,
        author_id: r.try_get(2)?,
        username: r.try_get(3)?,
        display_name: r.try_get(4)?,
        content: r.try_get(5)?,
        created_at: r.try_get(6)?,
        edited_at: r.try_get(7)?,
        deleted: r.try_get::<i64, _>(8)? != 0,
        reply_to: r.try_get(9)?,
        forwarded_from: r.try_get(10)?,
        extra: serde_json::from_str(&extra).unwrap_or(serde_json::Value::Null),
    })
}

pub async fn message(pool: &SqlitePool, id: &str) -> Res<Option<MsgRow>> {
    let row = sqlx::query(
        "SELECT m.id, m.room_id, m.author_id, u.username, u.display_name, m.content, \
         m.created_at, m.edited_at, m.deleted, m.reply_to, m.forwarded_from, m.extra \
         FROM messages m JOIN users u ON u.id = m.author_id WHERE m.id = ?",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(match row {
        Some(r) => Some(msg_row(&r)?),
        None => None,
    })
}

/// Ids of a room's visible messages, newest first.
pub async fn room_message_ids(pool: &SqlitePool, room: &str) -> Res<Vec<String>> {
    let rows =
        sqlx::query("SELECT id FROM messages WHERE room_id = ? AND deleted = 0 ORDER BY seq DESC")
            .bind(room)
            .fetch_all(pool)
            .await?;
    rows.iter()
        .map(|r| r.try_get(0).map_err(Fail::from))
        .collect()
}

/// The newest visible message of a room and its time.
pub async fn last_message(pool: &SqlitePool, room: &str) -> Res<Option<(String, i64)>> {
    let row = sqlx::query(
        "SELECT id, created_at FROM messages WHERE room_id = ? AND deleted = 0 ORDER BY seq DESC LIMIT 1",
    )
    .bind(room)
    .fetch_optional(pool)
    .await?;
    Ok(match row {
        Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
        None => None,
    })
}

/// (user id, username, display name, value, time) rows.
pub type UserRows = Vec<(String, String, Option<String>, String, i64)>;

/// Rows of `sql` (bound to `msg`) in the `UserRows` layout.
async fn user_rows(pool: &SqlitePool, sql: &'static str, msg: &str) -> Res<UserRows> {
    let rows = sqlx::query(sql).bind(msg).fetch_all(pool).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push((
            r.try_get(0)?,
            r.try_get(1)?,
            r.try_get(2)?,
            r.try_get(3)?,
            r.try_get(4)?,
        ));
    }
    Ok(out)
}

pub async fn reactions(pool: &SqlitePool, msg: &str) -> Res<UserRows> {
    user_rows(
        pool,
        "SELECT r.user_id, u.username, u.display_name, r.emoji, r.created_at FROM reactions r \
         JOIN users u ON u.id = r.user_id WHERE r.message_id = ? ORDER BY r.created_at, r.rowid",
        msg,
    )
    .await
}

pub async fn receipts(pool: &SqlitePool, msg: &str) -> Res<UserRows> {
    user_rows(
        pool,
        "SELECT r.reader_id, u.username, u.display_name, '', r.read_at FROM messaging_read_receipts r \
         JOIN users u ON u.id = r.reader_id WHERE r.message_id = ? ORDER BY r.read_at, r.rowid",
        msg,
    )
    .await
}

pub async fn delivered(pool: &SqlitePool, msg: &str) -> Res<Vec<String>> {
    let rows = sqlx::query(
        "SELECT u.username FROM messaging_delivered d JOIN users u ON u.id = d.user_id \
         WHERE d.message_id = ? ORDER BY d.delivered_at, d.rowid",
    )
    .bind(msg)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| r.try_get(0).map_err(Fail::from))
        .collect()
}

/// Members of a room: (user id, username, display name, role, can_send), by join time.
pub async fn members(
    pool: &SqlitePool,
    room: &str,
) -> Res<Vec<(String, String, Option<String>, String, bool)>> {
    let rows = sqlx::query(
        "SELECT m.user_id, u.username, u.display_name, m.role, m.can_send FROM room_members m \
         JOIN users u ON u.id = m.user_id WHERE m.room_id = ? ORDER BY m.joined_at, m.rowid",
    )
    .bind(room)
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push((
            r.try_get(0)?,
            r.try_get(1)?,
            r.try_get(2)?,
            r.try_get(3)?,
            r.try_get::<i64, _>(4)? != 0,
        ));
    }
    Ok(out)
}

/// Private rooms (direct, group, broadcast) `user` belongs to.
pub async fn user_rooms(pool: &SqlitePool, user: &str) -> Res<Vec<String>> {
    let rows = sqlx::query(
        "SELECT r.id FROM room_members m JOIN rooms r ON r.id = m.room_id \
         WHERE m.user_id = ? AND r.kind IN ('direct', 'group', 'broadcast') ORDER BY r.created_at DESC",
    )
    .bind(user)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| r.try_get(0).map_err(Fail::from))
        .collect()
}

/// `rooms.updated_at`.
pub async fn room_updated_at(pool: &SqlitePool, room: &str) -> Res<i64> {
    let row = sqlx::query("SELECT updated_at FROM rooms WHERE id = ?")
        .bind(room)
        .fetch_optional(pool)
        .await?;
    Ok(match row {
        Some(r) => r.try_get(0)?,
        None => 0,
    })
}

pub async fn perms(pool: &SqlitePool, room: &str, user: &str) -> Res<Vec<String>> {
    let rows =
        sqlx::query("SELECT perm FROM messaging_room_perms WHERE room_id = ? AND user_id = ?")
            .bind(room)
            .bind(user)
            .fetch_all(pool)
            .await?;
    rows.iter()
        .map(|r| r.try_get(0).map_err(Fail::from))
        .collect()
}

/// A direct room holding exactly `a` and `b`.
pub async fn direct_between(pool: &SqlitePool, a: &str, b: &str) -> Res<Option<String>> {
    let row = sqlx::query(
        "SELECT r.id FROM rooms r WHERE r.kind = 'direct' \
         AND EXISTS (SELECT 1 FROM room_members WHERE room_id = r.id AND user_id = ?) \
         AND EXISTS (SELECT 1 FROM room_members WHERE room_id = r.id AND user_id = ?) LIMIT 1",
    )
    .bind(a)
    .bind(b)
    .fetch_optional(pool)
    .await?;
    Ok(match row {
        Some(r) => Some(r.try_get(0)?),
        None => None,
    })
}

/// The emoji of `user`'s reaction on `msg`, if any.
pub async fn user_reaction(pool: &SqlitePool, msg: &str, user: &str) -> Res<Option<String>> {
    let row =
        sqlx::query("SELECT emoji FROM reactions WHERE message_id = ? AND user_id = ? LIMIT 1")
            .bind(msg)
            .bind(user)
            .fetch_optional(pool)
            .await?;
    Ok(match row {
        Some(r) => Some(r.try_get(0)?),
        None => None,
    })
}

pub async fn has_receipt(pool: &SqlitePool, msg: &str, user: &str) -> Res<bool> {
    let row =
        sqlx::query("SELECT 1 FROM messaging_read_receipts WHERE message_id = ? AND reader_id = ?")
            .bind(msg)
            .bind(user)
            .fetch_optional(pool)
            .await?;
    Ok(row.is_some())
}

/// Pending notifications of `user`: (id, message id, room id, type), rooms newest first.
pub async fn pending(pool: &SqlitePool, user: &str) -> Res<Vec<(String, String, String, String)>> {
    let rows = sqlx::query(
        "SELECT n.id, n.message_id, n.room_id, n.notification_type FROM messaging_notifications n \
         JOIN messaging_notification_recipients r ON r.notification_id = n.id \
         JOIN rooms ro ON ro.id = n.room_id \
         WHERE r.user_id = ? ORDER BY ro.created_at DESC, n.created_at, n.rowid",
    )
    .bind(user)
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?));
    }
    Ok(out)
}

/// Statements creating a notification for `recipients`.
pub fn notification(
    message: &str,
    room: &str,
    kind: &str,
    recipients: &[String],
    now: i64,
) -> Vec<Stmt> {
    let id = uuid::Uuid::new_v4().to_string();
    let mut out = vec![stmt(
        "INSERT INTO messaging_notifications (id, message_id, room_id, notification_type, created_at) \
         VALUES (?, ?, ?, ?, ?)",
        vec![
            B::T(id.clone()),
            B::T(message.into()),
            B::T(room.into()),
            B::T(kind.into()),
            B::I(now),
        ],
    )];
    for r in recipients {
        out.push(stmt(
            "INSERT OR IGNORE INTO messaging_notification_recipients (notification_id, user_id) VALUES (?, ?)",
            vec![B::T(id.clone()), B::T(r.clone())],
        ));
    }
    out
}
