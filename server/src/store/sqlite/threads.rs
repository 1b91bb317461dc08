//! Threads (rooms of kind `thread` under a parent room) and message lookups: search, replies,
//! pins, counts.

use super::{ROOM_COLUMNS, Selector, SqliteStore, load_messages, room_from_row};
use crate::core::ids::{MessageId, RoomId, UserId};
use crate::core::lookups::MessageSearch;
use crate::core::messages::{Message, UserRef};
use crate::core::rooms::Room;
use crate::core::rooms::RoomKind;
use crate::store::{CommitHook, StoreError, StoreResult};
use sqlx::Row;

/// Rows read per batch while searching (content only; full messages are loaded for hits).
const SEARCH_BATCH: i64 = 500;

pub(super) async fn threads(store: &SqliteStore, parent: RoomId) -> StoreResult<Vec<Room>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ROOM_COLUMNS} FROM rooms WHERE parent_id = ?1 AND kind = 'thread'
         ORDER BY created_at DESC, id DESC"
    )))
    .bind(parent.as_str())
    .fetch_all(store.read_pool())
    .await?;
    rows.iter().map(room_from_row).collect()
}

pub(super) async fn thread_links(store: &SqliteStore) -> StoreResult<Vec<(RoomId, RoomId)>> {
    let rows = sqlx::query(
        "SELECT id, parent_id FROM rooms WHERE kind = 'thread' AND parent_id IS NOT NULL",
    )
    .fetch_all(store.read_pool())
    .await?;
    rows.iter()
        .map(|r| Ok((RoomId(r.try_get(0)?), RoomId(r.try_get(1)?))))
        .collect()
}

pub(super) async fn member_refs(store: &SqliteStore, room: RoomId) -> StoreResult<Vec<UserRef>> {
    let rows = sqlx::query(
        "SELECT m.user_id, u.username FROM room_members m JOIN users u ON u.id = m.user_id
         WHERE m.room_id = ?1 ORDER BY m.joined_at, m.rowid",
    )
    .bind(room.as_str())
    .fetch_all(store.read_pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(UserRef {
                id: UserId(r.try_get(0)?),
                username: r.try_get(1)?,
            })
        })
        .collect()
}

pub(super) async fn count_before(
    store: &SqliteStore,
    room: RoomId,
    seq: Option<i64>,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages WHERE room_id = ?1 AND seq < ?2 AND deleted = 0",
    )
    .bind(room.as_str())
    .bind(seq.unwrap_or(i64::MAX))
    .fetch_one(store.read_pool())
    .await?)
}

/// Full messages for ids, in the order given.
async fn load_ids(store: &SqliteStore, ids: &[String]) -> StoreResult<Vec<Message>> {
    let mut conn = store.read_pool().acquire().await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let id = MessageId(id.clone());
        out.extend(load_messages(&mut conn, Selector::One(&id)).await?);
    }
    Ok(out)
}

pub(super) async fn search(store: &SqliteStore, q: MessageSearch) -> StoreResult<Vec<Message>> {
    if q.rooms.is_empty() || q.limit == 0 {
        return Ok(Vec::new());
    }
    // Case folding in Rust (SQLite's lower() only folds ASCII); rows are read newest first in
    // batches, and the scan stops at `limit` hits.
    let needle = q.needle.to_lowercase();
    let placeholders = vec!["?"; q.rooms.len()].join(", ");
    let sql = format!(
        "SELECT seq, id, content FROM messages
         WHERE room_id IN ({placeholders}) AND deleted = 0 AND seq < ? AND (? IS NULL OR author_id = ?)
         ORDER BY seq DESC LIMIT {SEARCH_BATCH}"
    );
    let mut hits: Vec<String> = Vec::new();
    let mut before = q.before_seq.unwrap_or(i64::MAX);
    loop {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
        for r in &q.rooms {
            query = query.bind(r.as_str());
        }
        let author = q.author.as_ref().map(|a| a.as_str().to_owned());
        let rows = query
            .bind(before)
            .bind(author.clone())
            .bind(author)
            .fetch_all(store.read_pool())
            .await?;
        let exhausted = (rows.len() as i64) < SEARCH_BATCH;
        for row in &rows {
            before = row.try_get(0)?;
            let content: &str = row.try_get(2)?;
            if content.to_lowercase().contains(&needle) {
                hits.push(row.try_get(1)?);
                if hits.len() >= q.limit as usize {
                    return load_ids(store, &hits).await;
                }
            }
        }
        if exhausted {
            return load_ids(store, &hits).await;
        }
    }
}

pub(super) async fn replies(
    store: &SqliteStore,
    room: RoomId,
    id: MessageId,
    limit: u32,
) -> StoreResult<Vec<Message>> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM messages WHERE reply_to = ?1 AND room_id = ?2 AND deleted = 0
         ORDER BY seq LIMIT ?3",
    )
    .bind(id.as_str())
    .bind(room.as_str())
    .bind(limit as i64)
    .fetch_all(store.read_pool())
    .await?;
    load_ids(store, &ids).await
}

pub(super) async fn pinned(store: &SqliteStore, room: RoomId) -> StoreResult<Vec<Message>> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT m.id FROM pins p JOIN messages m ON m.id = p.message_id
         WHERE p.room_id = ?1 AND m.deleted = 0 ORDER BY m.seq DESC",
    )
    .bind(room.as_str())
    .fetch_all(store.read_pool())
    .await?;
    load_ids(store, &ids).await
}

pub(super) async fn set_kind(
    store: &SqliteStore,
    id: RoomId,
    kind: RoomKind,
    hook: Option<CommitHook<Room>>,
) -> StoreResult<Room> {
    store
        .write(
            move |conn| {
                let id = id.clone();
                Box::pin(async move {
                    sqlx::query("UPDATE rooms SET kind = ?2, updated_at = ?3 WHERE id = ?1")
                        .bind(id.as_str())
                        .bind(kind.as_str())
                        .bind(crate::core::ids::now_ms())
                        .execute(&mut *conn)
                        .await?;
                    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SELECT {ROOM_COLUMNS} FROM rooms WHERE id = ?1"
                    )))
                    .bind(id.as_str())
                    .fetch_optional(&mut *conn)
                    .await?
                    .ok_or(StoreError::NotFound("room"))?;
                    room_from_row(&row)
                })
            },
            hook,
        )
        .await
}
