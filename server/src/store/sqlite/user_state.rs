//! Per-user state (read markers, profile edits) and bulk message operations.

use super::{Selector, SqliteStore, load_messages};
use crate::core::ids::{MessageId, RoomId, UserId};
use crate::core::messages::{DeleteMode, Message};
use crate::store::{BoxFut, CommitHook, StoreError, UserStateStore};
use sqlx::Row;

impl UserStateStore for SqliteStore {
    fn read_marker(&self, user: UserId, room: RoomId) -> BoxFut<'_, Option<(MessageId, i64, i64)>> {
        Box::pin(async move {
            let row = sqlx::query(
                "SELECT r.last_read, COALESCE(m.seq, 0), r.updated_at FROM read_states r
                 LEFT JOIN messages m ON m.id = r.last_read
                 WHERE r.user_id = ?1 AND r.room_id = ?2",
            )
            .bind(user.as_str())
            .bind(room.as_str())
            .fetch_optional(self.read_pool())
            .await?;
            Ok(row.map(|r| (MessageId(r.get(0)), r.get(1), r.get(2))))
        })
    }

    fn set_read_marker(
        &self,
        user: UserId,
        room: RoomId,
        marker: Option<MessageId>,
        now: i64,
        hook: Option<CommitHook<()>>,
    ) -> BoxFut<'_, ()> {
        Box::pin(async move {
            self.write(
                move |conn| {
                    let (user, room, marker) = (user.clone(), room.clone(), marker.clone());
                    Box::pin(async move {
                        match marker {
                            Some(m) => sqlx::query(
                                "INSERT INTO read_states (user_id, room_id, last_read, updated_at)
                                 VALUES (?1, ?2, ?3, ?4)
                                 ON CONFLICT (user_id, room_id)
                                 DO UPDATE SET last_read = ?3, updated_at = ?4",
                            )
                            .bind(user.as_str())
                            .bind(room.as_str())
                            .bind(m.as_str())
                            .bind(now)
                            .execute(&mut *conn)
                            .await?,
                            None => {
                                sqlx::query(
                                    "DELETE FROM read_states WHERE user_id = ?1 AND room_id = ?2",
                                )
                                .bind(user.as_str())
                                .bind(room.as_str())
                                .execute(&mut *conn)
                                .await?
                            }
                        };
                        Ok(())
                    })
                },
                hook,
            )
            .await
        })
    }

    fn count_unread(
        &self,
        room: RoomId,
        user: UserId,
        after_seq: i64,
        upto_seq: i64,
    ) -> BoxFut<'_, i64> {
        Box::pin(async move {
            // A range of the (room_id, seq) index: never more than the unread messages.
            Ok(sqlx::query_scalar(
                "SELECT COUNT(*) FROM messages WHERE room_id = ?1 AND seq > ?2 AND seq <= ?3
                 AND deleted = 0 AND author_id <> ?4",
            )
            .bind(room.as_str())
            .bind(after_seq)
            .bind(upto_seq)
            .bind(user.as_str())
            .fetch_one(self.read_pool())
            .await?)
        })
    }

    fn delete_messages(
        &self,
        room: RoomId,
        ids: Vec<MessageId>,
        mode: DeleteMode,
        hook: Option<CommitHook<Vec<Message>>>,
    ) -> BoxFut<'_, Vec<Message>> {
        Box::pin(async move {
            self.write(
                move |conn| {
                    let (room, ids) = (room.clone(), ids.clone());
                    Box::pin(async move {
                        let mut gone = Vec::with_capacity(ids.len());
                        for id in &ids {
                            let Some(m) = load_messages(conn, Selector::One(id)).await?.pop()
                            else {
                                continue;
                            };
                            if m.room_id != room || gone.iter().any(|g: &Message| g.id == m.id) {
                                continue;
                            }
                            let sql = match mode {
                                DeleteMode::Hard => "DELETE FROM messages WHERE id = ?1",
                                DeleteMode::Soft => "UPDATE messages SET deleted = 1 WHERE id = ?1",
                            };
                            sqlx::query(sql)
                                .bind(id.as_str())
                                .execute(&mut *conn)
                                .await?;
                            gone.push(m);
                        }
                        Ok(gone)
                    })
                },
                hook,
            )
            .await
        })
    }

    fn clear_reactions(
        &self,
        message: MessageId,
        hook: Option<CommitHook<Message>>,
    ) -> BoxFut<'_, Message> {
        Box::pin(async move {
            self.write(
                move |conn| {
                    let message = message.clone();
                    Box::pin(async move {
                        sqlx::query("DELETE FROM reactions WHERE message_id = ?1")
                            .bind(message.as_str())
                            .execute(&mut *conn)
                            .await?;
                        load_messages(conn, Selector::One(&message))
                            .await?
                            .pop()
                            .ok_or(StoreError::NotFound("message"))
                    })
                },
                hook,
            )
            .await
        })
    }

    fn reaction_users(
        &self,
        message: MessageId,
        emoji: String,
        after: Option<UserId>,
        limit: u32,
    ) -> BoxFut<'_, Vec<(UserId, i64)>> {
        Box::pin(async move {
            let after_rowid: i64 = match &after {
                None => 0,
                Some(u) => sqlx::query_scalar(
                    "SELECT rowid FROM reactions WHERE message_id = ?1 AND emoji = ?2
                     AND user_id = ?3",
                )
                .bind(message.as_str())
                .bind(&emoji)
                .bind(u.as_str())
                .fetch_optional(self.read_pool())
                .await?
                .unwrap_or(0),
            };
            let rows = sqlx::query(
                "SELECT user_id, created_at FROM reactions
                 WHERE message_id = ?1 AND emoji = ?2 AND rowid > ?3 ORDER BY rowid LIMIT ?4",
            )
            .bind(message.as_str())
            .bind(&emoji)
            .bind(after_rowid)
            .bind(limit as i64)
            .fetch_all(self.read_pool())
            .await?;
            Ok(rows.iter().map(|r| (UserId(r.get(0)), r.get(1))).collect())
        })
    }
}
