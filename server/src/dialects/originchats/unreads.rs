//! Unreads (§2.12): `unreads_ack`, `unreads_get`, `unreads_count`; last-read markers per user
//! and channel (or thread room) in `originchats_unreads`.

use super::channels::Channel;
use super::frames::{error, with_listener};
use super::http::store;
use super::messages::{fail, internal, send};
use super::session::Cx;
use super::{Account, OriginChats};
use crate::core::CoreError;
use crate::core::ids::RoomId;
use crate::net::ws::Reply;
use crate::store::StoreError;
use chorus_protocol::originchats as proto;
use serde_json::{Map, Value, json};

/// Both counts are capped like the reference's scan of the newest 200 messages.
const CAP: i64 = 200;

fn store_err(e: impl std::fmt::Display) -> CoreError {
    CoreError::Internal(e.to_string())
}

impl OriginChats {
    /// The viewable text channel of an unreads command, or the error reply.
    async fn unread_channel(
        &self,
        cx: &Cx,
        channel: Option<&str>,
        thread: Option<&str>,
        src: &str,
        l: Option<&str>,
    ) -> Result<(Account, Channel), Reply> {
        let Some(account) = cx.account.clone() else {
            return Err(Reply::None);
        };
        if let Some(id) = thread {
            // a thread's last-read marker is kept under its room.
            let c = self.thread_or_reply(cx, &account, id, src, l).await?;
            if !c.allows(&account, "view") {
                return Err(send(cx, fail(src, super::threads::NO_VIEW, l)));
            }
            return Ok((account, c));
        }
        let Some(name) = channel else {
            return Err(send(cx, fail(src, "Channel or thread_id is required", l)));
        };
        let c = match self.find_channel(cx, name).await {
            Ok(Some(c)) => c,
            Ok(None) => return Err(send(cx, fail(src, "Channel not found", l))),
            Err(e) => return Err(send(cx, internal(src, e, l))),
        };
        if !c.allows(&account, "view") {
            return Err(send(
                cx,
                with_listener(error(None, "Access denied to this channel"), l),
            ));
        }
        if !c.is_text() {
            return Err(send(
                cx,
                with_listener(
                    error(None, "Cannot use this command in this channel type"),
                    l,
                ),
            ));
        }
        Ok((account, c))
    }

    async fn last_read(
        &self,
        account: &Account,
        room: &RoomId,
    ) -> Result<Option<String>, CoreError> {
        let Some(s) = store() else { return Ok(None) };
        sqlx::query_scalar::<_, String>(
            "SELECT last_read FROM originchats_unreads WHERE user_id = ? AND room_id = ?",
        )
        .bind(account.user.id.as_str())
        .bind(room.as_str())
        .fetch_optional(s.read_pool())
        .await
        .map_err(store_err)
    }

    /// (unread_count, total_messages), both capped at 200.
    async fn unread_counts(
        &self,
        room: &RoomId,
        last_read: Option<&str>,
    ) -> Result<(i64, i64), CoreError> {
        let Some(s) = store() else { return Ok((0, 0)) };
        let count = |after: Option<String>| {
            let pool = s.read_pool().clone();
            let room = room.as_str().to_owned();
            async move {
                sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE room_id = ?1 AND deleted = 0 \
                     AND seq > COALESCE((SELECT seq FROM messages WHERE id = ?2), 0) LIMIT ?3)",
                )
                .bind(room)
                .bind(after)
                .bind(CAP)
                .fetch_one(&pool)
                .await
                .map_err(store_err)
            }
        };
        let total = count(None).await?;
        let unread = match last_read {
            None => total,
            Some(id) => count(Some(id.to_owned())).await?,
        };
        Ok((unread, total))
    }

    /// Stores `message_id` (default: the newest message) as the user's last-read of `channel`;
    /// returns it (None: the channel has no messages).
    pub(super) async fn mark_read(
        &self,
        account: &Account,
        channel: &Channel,
        message_id: Option<String>,
    ) -> Result<Option<String>, CoreError> {
        let last = match message_id {
            Some(id) => Some(id),
            None => self
                .core
                .history_before(&account.user.id, &channel.room.id, None, 1)
                .await?
                .last()
                .map(|m| m.id.as_str().to_owned()),
        };
        // Re-reading a channel already read to its end (every messages_get does) stores
        // nothing: a durable write per history page would cost an fsync each.
        let unchanged = match &last {
            Some(id) => self.last_read(account, &channel.room.id).await?.as_ref() == Some(id),
            None => true,
        };
        if let (false, Some(id), Some(s)) = (unchanged, last.clone(), store()) {
            let user = account.user.id.as_str().to_owned();
            let room = channel.room.id.as_str().to_owned();
            let now = chrono_now();
            s.write(
                move |conn| {
                    let (user, room, id) = (user.clone(), room.clone(), id.clone());
                    Box::pin(async move {
                        sqlx::query(
                            "INSERT INTO originchats_unreads (user_id, room_id, last_read, updated_at) \
                             VALUES (?, ?, ?, ?) ON CONFLICT (user_id, room_id) \
                             DO UPDATE SET last_read = excluded.last_read, updated_at = excluded.updated_at",
                        )
                        .bind(user)
                        .bind(room)
                        .bind(id)
                        .bind(now)
                        .execute(conn)
                        .await
                        .map_err(|e| StoreError::Backend(e.to_string()))?;
                        Ok(())
                    })
                },
                None,
            )
            .await?;
        }
        Ok(last)
    }

    /// `{"cmd":"unreads_update","last_read","channel"|"thread_id"}` to every connection of the
    /// user (no listener: a side packet).
    pub(super) fn send_unreads_update(
        &self,
        account: &Account,
        channel: &Channel,
        last: Option<&str>,
    ) {
        let (key, name) = place_key(channel);
        let update = json!({"cmd": "unreads_update", "last_read": last, key: name});
        self.conns
            .send_user(&account.user.id, &update.to_string().into());
    }

    pub async fn unreads_ack(&self, cx: &mut Cx, r: proto::UnreadsAck) -> Reply {
        const SRC: &str = "unreads_ack";
        let l = r.listener.as_deref();
        let (account, channel) = match self
            .unread_channel(cx, r.channel.as_deref(), r.thread_id.as_deref(), SRC, l)
            .await
        {
            Ok(c) => c,
            Err(reply) => return reply,
        };
        let last = match self
            .mark_read(&account, &channel, r.message_id.clone())
            .await
        {
            Ok(last) => last,
            Err(e) => return send(cx, internal(SRC, e, l)),
        };
        let (key, name) = place_key(&channel);
        self.send_unreads_update(&account, &channel, last.as_deref());
        send(
            cx,
            with_listener(json!({"cmd": SRC, key: name, "last_read": last}), l),
        )
    }

    pub async fn unreads_count(&self, cx: &mut Cx, r: proto::UnreadsCount) -> Reply {
        const SRC: &str = "unreads_count";
        let l = r.listener.as_deref();
        let (account, channel) = match self
            .unread_channel(cx, r.channel.as_deref(), r.thread_id.as_deref(), SRC, l)
            .await
        {
            Ok(c) => c,
            Err(reply) => return reply,
        };
        let res = async {
            let last = self.last_read(&account, &channel.room.id).await?;
            let (unread, total) = self
                .unread_counts(&channel.room.id, last.as_deref())
                .await?;
            let (key, name) = place_key(&channel);
            Ok::<_, CoreError>(json!({
                "cmd": SRC,
                key: name,
                "unread_count": unread,
                "last_read": last,
                "total_messages": total,
            }))
        }
        .await;
        match res {
            Ok(v) => send(cx, with_listener(v, l)),
            Err(e) => send(cx, internal(SRC, e, l)),
        }
    }

    pub async fn unreads_get(&self, cx: &mut Cx, r: proto::UnreadsGet) -> Reply {
        const SRC: &str = "unreads_get";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        let res = async {
            let mut out = Map::new();
            for c in self.viewable_rooms(&account).await? {
                if c.room.kind == crate::core::rooms::RoomKind::Forum {
                    // each thread of a viewable forum, as `thread/<id>`.
                    for t in self.core.store().threads(c.room.id.clone()).await? {
                        let last = self.last_read(&account, &t.id).await?;
                        let (unread, total) = self.unread_counts(&t.id, last.as_deref()).await?;
                        out.insert(
                            format!("thread/{}", t.id.as_str()),
                            json!({"last_read": last, "unread_count": unread,
                                "total_messages": total, "parent_channel": c.room.name}),
                        );
                    }
                    continue;
                }
                if !c.is_text() {
                    continue;
                }
                let last = self.last_read(&account, &c.room.id).await?;
                let (unread, total) = self.unread_counts(&c.room.id, last.as_deref()).await?;
                out.insert(
                    c.room.name.clone(),
                    json!({"last_read": last, "unread_count": unread, "total_messages": total}),
                );
            }
            Ok::<_, CoreError>(Value::Object(out))
        }
        .await;
        match res {
            Ok(v) => send(cx, with_listener(json!({"cmd": SRC, "unreads": v}), l)),
            Err(e) => send(cx, internal(SRC, e, l)),
        }
    }
}

/// The key naming the place of an unreads reply: `channel`, or `thread_id` for a thread.
fn place_key(c: &Channel) -> (&'static str, String) {
    match c.thread_id() {
        Some(t) => ("thread_id", t.to_owned()),
        None => ("channel", c.room.name.clone()),
    }
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
