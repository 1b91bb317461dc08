//! Message edits after posting: content edits, deletes, explicit reactions, pins.

use super::{Selector, SqliteStore, load_messages};
use crate::core::ids::{MessageId, UserId, now_ms};
use crate::core::messages::{DeleteMode, Message, ReactionAction};
use crate::store::{CommitHook, StoreError, StoreResult};
use sqlx::SqliteConnection;

/// The live (not soft-deleted) message `id`, inside the writer's transaction.
async fn live(conn: &mut SqliteConnection, id: &MessageId) -> StoreResult<Message> {
    load_messages(conn, Selector::One(id))
        .await?
        .pop()
        .ok_or(StoreError::NotFound("message"))
}

pub(super) async fn edit(
    store: &SqliteStore,
    id: MessageId,
    content: String,
    edited_at: i64,
    hook: Option<CommitHook<Message>>,
) -> StoreResult<Message> {
    store
        .write(
            move |conn| {
                let (id, content) = (id.clone(), content.clone());
                Box::pin(async move {
                    live(conn, &id).await?;
                    sqlx::query("UPDATE messages SET content = ?2, edited_at = ?3 WHERE id = ?1")
                        .bind(id.as_str())
                        .bind(&content)
                        .bind(edited_at)
                        .execute(&mut *conn)
                        .await?;
                    live(conn, &id).await
                })
            },
            hook,
        )
        .await
}

pub(super) async fn delete(
    store: &SqliteStore,
    id: MessageId,
    mode: DeleteMode,
    hook: Option<CommitHook<Message>>,
) -> StoreResult<Message> {
    store
        .write(
            move |conn| {
                let id = id.clone();
                Box::pin(async move {
                    let before = live(conn, &id).await?;
                    let sql = match mode {
                        DeleteMode::Hard => "DELETE FROM messages WHERE id = ?1",
                        DeleteMode::Soft => "UPDATE messages SET deleted = 1 WHERE id = ?1",
                    };
                    sqlx::query(sql)
                        .bind(id.as_str())
                        .execute(&mut *conn)
                        .await?;
                    if mode == DeleteMode::Soft {
                        sqlx::query("DELETE FROM pins WHERE message_id = ?1")
                            .bind(id.as_str())
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(before)
                })
            },
            hook,
        )
        .await
}

pub(super) async fn set_reaction(
    store: &SqliteStore,
    id: MessageId,
    user: UserId,
    emoji: String,
    present: bool,
    hook: Option<CommitHook<(Option<ReactionAction>, Message)>>,
) -> StoreResult<(Option<ReactionAction>, Message)> {
    store
        .write(
            move |conn| {
                let (id, user, emoji) = (id.clone(), user.clone(), emoji.clone());
                Box::pin(async move {
                    live(conn, &id).await?;
                    let changed = if present {
                        sqlx::query(
                            "INSERT OR IGNORE INTO reactions (message_id, emoji, user_id, created_at)
                             VALUES (?1, ?2, ?3, ?4)",
                        )
                        .bind(id.as_str())
                        .bind(&emoji)
                        .bind(user.as_str())
                        .bind(now_ms())
                        .execute(&mut *conn)
                        .await?
                    } else {
                        sqlx::query(
                            "DELETE FROM reactions WHERE message_id = ?1 AND emoji = ?2 AND user_id = ?3",
                        )
                        .bind(id.as_str())
                        .bind(&emoji)
                        .bind(user.as_str())
                        .execute(&mut *conn)
                        .await?
                    }
                    .rows_affected()
                        > 0;
                    let action = changed.then_some(if present {
                        ReactionAction::Added
                    } else {
                        ReactionAction::Removed
                    });
                    Ok((action, live(conn, &id).await?))
                })
            },
            hook,
        )
        .await
}

pub(super) async fn set_pinned(
    store: &SqliteStore,
    id: MessageId,
    pinned: bool,
    by: UserId,
    hook: Option<CommitHook<Message>>,
) -> StoreResult<Message> {
    store
        .write(
            move |conn| {
                let (id, by) = (id.clone(), by.clone());
                Box::pin(async move {
                    let msg = live(conn, &id).await?;
                    sqlx::query("UPDATE messages SET pinned = ?2 WHERE id = ?1")
                        .bind(id.as_str())
                        .bind(pinned as i64)
                        .execute(&mut *conn)
                        .await?;
                    if pinned {
                        sqlx::query(
                            "INSERT OR IGNORE INTO pins (room_id, message_id, pinned_by, pinned_at)
                             VALUES (?1, ?2, ?3, ?4)",
                        )
                        .bind(msg.room_id.as_str())
                        .bind(id.as_str())
                        .bind(by.as_str())
                        .bind(now_ms())
                        .execute(&mut *conn)
                        .await?;
                    } else {
                        sqlx::query("DELETE FROM pins WHERE message_id = ?1")
                            .bind(id.as_str())
                            .execute(&mut *conn)
                            .await?;
                    }
                    live(conn, &id).await
                })
            },
            hook,
        )
        .await
}
