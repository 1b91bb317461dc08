//! Polls and their votes (`0009_bots.sql`). A poll is created in the same transaction as its
//! message, so a poll message never exists without its poll.

use super::{SqliteStore, backend, insert_messages, message_from_record};
use crate::core::ids::{MessageId, RoomId, UserId};
use crate::core::messages::{Message, MessageRecord, UserRef};
use crate::core::polls::{Poll, PollOption, PollState, PollVote};
use crate::store::{CommitHook, StoreError, StoreResult};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

const POLL_COLUMNS: &str = "p.id, p.message_id, p.room_id, p.question, p.options, \
     p.allow_multiselect, p.expires_at, p.created_by, u.username AS creator, p.created_at, \
     p.ended_at";

fn poll_from_row(row: &SqliteRow) -> StoreResult<Poll> {
    let options: String = row.try_get("options")?;
    let options: Vec<PollOption> = serde_json::from_str(&options).map_err(backend)?;
    Ok(Poll {
        id: row.try_get("id")?,
        message_id: MessageId(row.try_get("message_id")?),
        room_id: RoomId(row.try_get("room_id")?),
        question: row.try_get("question")?,
        options,
        allow_multiselect: row.try_get::<i64, _>("allow_multiselect")? != 0,
        expires_at: row.try_get("expires_at")?,
        created_by: UserRef {
            id: UserId(row.try_get("created_by")?),
            username: row.try_get("creator")?,
        },
        created_at: row.try_get("created_at")?,
        ended_at: row.try_get("ended_at")?,
    })
}

async fn votes(conn: &mut SqliteConnection, poll: &str) -> StoreResult<Vec<PollVote>> {
    let rows = sqlx::query(
        "SELECT v.user_id, u.username, v.option_id, v.voted_at FROM poll_votes v
         JOIN users u ON u.id = v.user_id WHERE v.poll_id = ?1 ORDER BY v.voted_at, v.rowid",
    )
    .bind(poll)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PollVote {
                user: UserRef {
                    id: UserId(r.try_get("user_id")?),
                    username: r.try_get("username")?,
                },
                option_id: r.try_get("option_id")?,
                voted_at: r.try_get("voted_at")?,
            })
        })
        .collect()
}

/// `column` is `p.id` or `p.message_id`.
async fn state(
    conn: &mut SqliteConnection,
    column: &str,
    value: &str,
) -> StoreResult<Option<PollState>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {POLL_COLUMNS} FROM polls p JOIN users u ON u.id = p.created_by WHERE {column} = ?1"
    )))
    .bind(value)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let poll = poll_from_row(&row)?;
    let votes = votes(conn, &poll.id).await?;
    Ok(Some(PollState { poll, votes }))
}

pub(super) async fn create(
    store: &SqliteStore,
    rec: MessageRecord,
    poll: Poll,
    hook: Option<CommitHook<(Message, Poll)>>,
) -> StoreResult<(Message, Poll)> {
    store
        .write(
            move |conn| {
                let (rec, poll) = (rec.clone(), poll.clone());
                Box::pin(async move {
                    let seq = insert_messages(conn, &[&rec])
                        .await?
                        .pop()
                        .ok_or_else(|| backend("no message inserted"))?;
                    let options = serde_json::to_string(&poll.options).map_err(backend)?;
                    sqlx::query(
                        "INSERT INTO polls (id, message_id, room_id, question, options,
                             allow_multiselect, expires_at, created_by, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    )
                    .bind(&poll.id)
                    .bind(poll.message_id.as_str())
                    .bind(poll.room_id.as_str())
                    .bind(&poll.question)
                    .bind(options)
                    .bind(poll.allow_multiselect as i64)
                    .bind(poll.expires_at)
                    .bind(poll.created_by.id.as_str())
                    .bind(poll.created_at)
                    .execute(&mut *conn)
                    .await?;
                    Ok((message_from_record(&rec, seq), poll))
                })
            },
            hook,
        )
        .await
}

pub(super) async fn by_id(store: &SqliteStore, id: String) -> StoreResult<Option<PollState>> {
    let mut conn = store.read_pool().acquire().await?;
    state(&mut conn, "p.id", &id).await
}

pub(super) async fn by_message(
    store: &SqliteStore,
    message: MessageId,
) -> StoreResult<Option<PollState>> {
    let mut conn = store.read_pool().acquire().await?;
    state(&mut conn, "p.message_id", message.as_str()).await
}

pub(super) async fn vote(
    store: &SqliteStore,
    poll: String,
    user: UserId,
    option_ids: Vec<String>,
    replace: bool,
    now: i64,
    hook: Option<CommitHook<PollState>>,
) -> StoreResult<PollState> {
    store
        .write(
            move |conn| {
                let (poll, user, option_ids) = (poll.clone(), user.clone(), option_ids.clone());
                Box::pin(async move {
                    let ended: Option<Option<i64>> =
                        sqlx::query_scalar("SELECT ended_at FROM polls WHERE id = ?1")
                            .bind(&poll)
                            .fetch_optional(&mut *conn)
                            .await?;
                    match ended {
                        None => return Err(StoreError::NotFound("poll")),
                        Some(Some(_)) => return Err(StoreError::Conflict("Poll has ended".into())),
                        Some(None) => {}
                    }
                    if replace {
                        let keep = option_ids.first().map(String::as_str).unwrap_or("");
                        sqlx::query(
                            "DELETE FROM poll_votes WHERE poll_id = ?1 AND user_id = ?2
                               AND option_id <> ?3",
                        )
                        .bind(&poll)
                        .bind(user.as_str())
                        .bind(keep)
                        .execute(&mut *conn)
                        .await?;
                    }
                    for option in &option_ids {
                        sqlx::query(
                            "INSERT OR IGNORE INTO poll_votes (poll_id, user_id, option_id, voted_at)
                             VALUES (?1, ?2, ?3, ?4)",
                        )
                        .bind(&poll)
                        .bind(user.as_str())
                        .bind(option)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                    }
                    state(conn, "p.id", &poll)
                        .await?
                        .ok_or(StoreError::NotFound("poll"))
                })
            },
            hook,
        )
        .await
}

pub(super) async fn end(
    store: &SqliteStore,
    poll: String,
    at: i64,
    hook: Option<CommitHook<PollState>>,
) -> StoreResult<PollState> {
    store
        .write(
            move |conn| {
                let poll = poll.clone();
                Box::pin(async move {
                    let changed = sqlx::query(
                        "UPDATE polls SET ended_at = ?2 WHERE id = ?1 AND ended_at IS NULL",
                    )
                    .bind(&poll)
                    .bind(at)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                    let state = state(conn, "p.id", &poll)
                        .await?
                        .ok_or(StoreError::NotFound("poll"))?;
                    if changed == 0 {
                        return Err(StoreError::Conflict("Poll has already ended".into()));
                    }
                    Ok(state)
                })
            },
            hook,
        )
        .await
}

pub(super) async fn expired(store: &SqliteStore, now: i64, limit: u32) -> StoreResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM polls WHERE ended_at IS NULL AND expires_at IS NOT NULL
           AND expires_at < ?1 ORDER BY expires_at LIMIT ?2",
    )
    .bind(now)
    .bind(limit as i64)
    .fetch_all(store.read_pool())
    .await?)
}
