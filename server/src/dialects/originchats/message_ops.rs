//! Commands on existing messages (§2.1): messages_get, message_get, message_edit,
//! message_delete, message_react_add / _remove, message_pin / _unpin.

use super::channels::Channel;
use super::frames::{error, with_listener};
use super::messages::{core_fail, fail, internal, send};
use super::render::CACHE;
use super::session::Cx;
use super::{Account, OriginChats};
use crate::core::CoreError;
use crate::core::ids::MessageId;
use crate::core::messages::{DeleteMode, Message};
use crate::net::ws::Reply;
use chorus_protocol::originchats as proto;
use serde_json::{Value, json};

/// The fields of `message_react_add` / `message_react_remove`.
pub struct React {
    pub id: Option<String>,
    pub emoji: Option<String>,
    pub channel: Option<String>,
    pub thread: Option<String>,
}

/// Adds `thread_id` to a reply of a thread context.
fn with_thread(mut v: Value, c: &Channel) -> Value {
    if let (Some(t), Some(o)) = (c.thread_id(), v.as_object_mut()) {
        o.insert("thread_id".into(), Value::String(t.to_owned()));
    }
    v
}

/// `channel` or `thread` in a permission error of a thread context.
fn place_word(c: &Channel) -> &'static str {
    if c.thread.is_some() {
        "thread"
    } else {
        "channel"
    }
}

/// Most messages one `messages_get` returns.
const MAX_PAGE: i64 = 200;

impl OriginChats {
    /// The channel or thread (`thread_id` wins) a message command names.
    async fn context(
        &self,
        cx: &Cx,
        channel: Option<&str>,
        thread: Option<&str>,
        missing: &str,
        src: &str,
        l: Option<&str>,
    ) -> Result<(Account, Channel), Reply> {
        let Some(account) = cx.account.clone() else {
            return Err(Reply::None);
        };
        if let Some(id) = thread {
            let c = self.thread_or_reply(cx, &account, id, src, l).await?;
            return Ok((account, c));
        }
        let Some(name) = channel else {
            return Err(send(cx, fail(src, missing, l)));
        };
        match self.find_channel(cx, name).await {
            Ok(Some(c)) => Ok((account, c)),
            Ok(None) => Err(send(cx, fail(src, "Channel not found", l))),
            Err(e) => Err(send(cx, internal(src, e, l))),
        }
    }

    /// Thread contexts of changing commands (edit, delete, react): open and viewable.
    fn thread_gate(&self, account: &Account, c: &Channel) -> Option<&'static str> {
        let t = c.thread.as_ref()?;
        if t.room.locked {
            Some(super::threads::LOCKED)
        } else if t.room.archived {
            Some(super::threads::ARCHIVED)
        } else if !c.allows(account, "view") {
            Some(super::threads::NO_VIEW)
        } else {
            None
        }
    }

    /// One page of history (§5.3): an integer `start` skips that many of the newest
    /// messages, a message id `start` pages before it; oldest first.
    pub async fn history_page(
        &self,
        account: &Account,
        channel: &Channel,
        start: &Value,
        limit_sent: Option<i64>,
    ) -> Result<Vec<Message>, CoreError> {
        let limit = match limit_sent {
            None | Some(0) => 100,
            Some(n) => n.min(MAX_PAGE),
        };
        if limit < 0 {
            return Ok(Vec::new());
        }
        let messages = match start {
            Value::String(id) => match self.message_in(account, channel, id).await {
                None => Vec::new(),
                Some(m) => self
                    .core
                    .history_before(
                        &account.user.id,
                        &channel.room.id,
                        Some(m.seq),
                        limit as u32,
                    )
                    .await
                    .unwrap_or_default(),
            },
            other => {
                let skip = other.as_i64().unwrap_or(0).max(0);
                let want = (skip + limit).min(u32::MAX as i64) as u32;
                let all = self
                    .core
                    .history_before(&account.user.id, &channel.room.id, None, want)
                    .await?;
                let end = all.len().saturating_sub(skip as usize);
                let begin = end.saturating_sub(limit as usize);
                all[begin..end].to_vec()
            }
        };
        Ok(messages.into_iter().filter(|m| !m.deleted).collect())
    }

    /// A message of `channel`, or None.
    async fn message_in(&self, account: &Account, channel: &Channel, id: &str) -> Option<Message> {
        self.core
            .message(&account.user.id, &MessageId(id.to_owned()))
            .await
            .ok()
            .filter(|m| m.room_id == channel.room.id && !m.deleted)
            .map(|m| (*m).clone())
    }

    pub async fn messages_get(&self, cx: &mut Cx, r: proto::MessagesGet) -> Reply {
        const SRC: &str = "messages_get";
        let l = r.listener.as_deref();
        let (account, channel) = match self
            .context(
                cx,
                r.channel.as_deref(),
                r.thread_id.as_deref(),
                "Channel not found",
                SRC,
                l,
            )
            .await
        {
            Ok(c) => c,
            Err(reply) => return reply,
        };
        if channel.thread.is_some() {
            // Locked and archived threads stay readable (the reference refuses them here,
            // though the official client opens threads with messages_get).
            if !channel.allows(&account, "view") {
                return send(cx, fail(SRC, super::threads::NO_VIEW, l));
            }
        } else if !channel.allows(&account, "view") {
            return send(
                cx,
                with_listener(error(None, "Access denied to this channel"), l),
            );
        } else if !channel.is_text() {
            return send(
                cx,
                with_listener(
                    error(None, "Cannot use this command in this channel type"),
                    l,
                ),
            );
        }
        let limit_sent = r.limit.flatten();
        let start = r.start.clone().unwrap_or(json!(0));
        let messages = match self
            .history_page(&account, &channel, &start, limit_sent)
            .await
        {
            Ok(m) => m,
            Err(e) => return send(cx, core_fail(SRC, e, l)),
        };
        let end = match &start {
            Value::String(_) => Value::Null,
            other => json!(other.as_i64().unwrap_or(0) + limit_sent.unwrap_or(100)),
        };
        // Auto-ack (§2.1): reading the channel marks its newest message read, and every
        // connection of the user hears it before this reply.
        match self.mark_read(&account, &channel, None).await {
            Ok(Some(last)) => self.send_unreads_update(&account, &channel, Some(&last)),
            Ok(None) => {}
            Err(e) => return send(cx, core_fail(SRC, e, l)),
        }
        let list: Vec<Value> = messages.iter().map(|m| CACHE.message(m)).collect();
        let mut reply = json!({"cmd": SRC, "channel": channel.channel_name(), "messages": list,
            "range": {"start": start, "end": end}});
        if let (Some(t), Some(o)) = (channel.thread_id(), reply.as_object_mut()) {
            o.insert("thread_id".into(), Value::String(t.to_owned()));
        }
        send(cx, with_listener(reply, l))
    }

    pub async fn message_get(&self, cx: &mut Cx, r: proto::MessageGet) -> Reply {
        const SRC: &str = "message_get";
        let l = r.listener.as_deref();
        let Some(id) = r.id.as_deref() else {
            return send(
                cx,
                fail(SRC, "Channel/thread and message ID are required", l),
            );
        };
        let (account, channel) = match self
            .context(
                cx,
                r.channel.as_deref(),
                r.thread_id.as_deref(),
                "Channel/thread and message ID are required",
                SRC,
                l,
            )
            .await
        {
            Ok(c) => c,
            Err(reply) => return reply,
        };
        if !channel.allows(&account, "view") {
            return send(cx, fail(SRC, "Message not found", l));
        }
        match self.message_in(&account, &channel, id).await {
            Some(m) => send(
                cx,
                with_listener(
                    with_thread(
                        json!({"cmd": SRC, "channel": channel.channel_name(),
                            "message": CACHE.message(&m)}),
                        &channel,
                    ),
                    l,
                ),
            ),
            None => send(cx, fail(SRC, "Message not found", l)),
        }
    }

    pub async fn message_edit(&self, cx: &mut Cx, r: proto::MessageEdit) -> Reply {
        const SRC: &str = "message_edit";
        let l = r.listener.as_deref();
        let content = r.content.clone().unwrap_or_default();
        let (Some(id), false, true) = (
            r.id.as_deref(),
            content.trim().is_empty(),
            r.channel.is_some() || r.thread_id.is_some(),
        ) else {
            return send(cx, fail(SRC, "Invalid message edit format", l));
        };
        let (account, channel) = match self
            .context(
                cx,
                r.channel.as_deref(),
                r.thread_id.as_deref(),
                "Channel or thread_id required",
                SRC,
                l,
            )
            .await
        {
            Ok(c) => c,
            Err(reply) => return reply,
        };
        if let Some(refusal) = self.thread_gate(&account, &channel) {
            return send(cx, fail(SRC, refusal, l));
        }
        if let Err(d) = self.limiter.check(&account.user.id) {
            return send(
                cx,
                with_listener(json!({"cmd": "rate_limit", "length": d.length_ms}), l),
            );
        }
        let Some(msg) = self.message_in(&account, &channel, id).await else {
            return send(cx, fail(SRC, "Message not found or cannot be edited", l));
        };
        if msg.author.id != account.user.id {
            return send(
                cx,
                fail(SRC, "You do not have permission to edit this message", l),
            );
        }
        if !channel.allows(&account, "edit_own") {
            return send(
                cx,
                fail(
                    SRC,
                    &format!(
                        "You do not have permission to edit your own message in this {}",
                        place_word(&channel)
                    ),
                    l,
                ),
            );
        }
        match self
            .core
            .edit_message(&account.user, &msg.id, content.trim().to_owned())
            .await
        {
            Ok(m) => match l {
                // The broadcast reaches the caller; a listener gets its own copy.
                Some(l) => send(
                    cx,
                    with_listener(
                        with_thread(
                            json!({"cmd": SRC, "id": m.id.0, "content": m.content,
                                "message": CACHE.message(&m), "channel": channel.channel_name(),
                                "global": true}),
                            &channel,
                        ),
                        Some(l),
                    ),
                ),
                None => Reply::None,
            },
            Err(CoreError::Forbidden(_)) => send(
                cx,
                fail(
                    SRC,
                    "You do not have permission to edit your own message in this channel",
                    l,
                ),
            ),
            Err(e) => send(cx, core_fail(SRC, e, l)),
        }
    }

    pub async fn message_delete(&self, cx: &mut Cx, r: proto::MessageDelete) -> Reply {
        const SRC: &str = "message_delete";
        let l = r.listener.as_deref();
        let (Some(id), true) = (
            r.id.as_deref(),
            r.channel.is_some() || r.thread_id.is_some(),
        ) else {
            return send(cx, fail(SRC, "Invalid message delete format", l));
        };
        let (account, channel) = match self
            .context(
                cx,
                r.channel.as_deref(),
                r.thread_id.as_deref(),
                "Channel or thread_id required",
                SRC,
                l,
            )
            .await
        {
            Ok(c) => c,
            Err(reply) => return reply,
        };
        if let Some(refusal) = self.thread_gate(&account, &channel) {
            return send(cx, fail(SRC, refusal, l));
        }
        let Some(msg) = self.message_in(&account, &channel, id).await else {
            return send(cx, fail(SRC, "Message not found or cannot be deleted", l));
        };
        let own = msg.author.id == account.user.id;
        if own && !channel.allows(&account, "delete_own") {
            return send(
                cx,
                fail(
                    SRC,
                    &format!(
                        "You do not have permission to delete your own message in this {}",
                        place_word(&channel)
                    ),
                    l,
                ),
            );
        }
        if !own && !channel.allows(&account, "delete") {
            return send(
                cx,
                fail(SRC, "You do not have permission to delete this message", l),
            );
        }
        match self
            .core
            .delete_message(&account.user, &msg.id, DeleteMode::Hard)
            .await
        {
            Ok(_) => match l {
                Some(l) => send(
                    cx,
                    with_listener(
                        with_thread(
                            json!({"cmd": SRC, "id": msg.id.0, "channel": channel.channel_name(),
                                "global": true}),
                            &channel,
                        ),
                        Some(l),
                    ),
                ),
                None => Reply::None,
            },
            Err(CoreError::Forbidden(_)) => send(
                cx,
                fail(SRC, "You do not have permission to delete this message", l),
            ),
            Err(e) => send(cx, core_fail(SRC, e, l)),
        }
    }

    pub async fn react(&self, cx: &mut Cx, add: bool, r: React, l: Option<&str>) -> Reply {
        let React {
            id,
            emoji,
            channel,
            thread,
        } = r;
        let src = if add {
            "message_react_add"
        } else {
            "message_react_remove"
        };
        let (Some(id), Some(emoji)) = (
            id.filter(|s| !s.is_empty()),
            emoji.filter(|s| !s.is_empty()),
        ) else {
            return send(cx, fail(src, "Message ID and emoji are required", l));
        };
        if emoji.chars().count() > 200 {
            return send(cx, fail(src, "Invalid emoji", l));
        }
        let (account, channel) = match self
            .context(
                cx,
                channel.as_deref(),
                thread.as_deref(),
                "Channel or thread_id required",
                src,
                l,
            )
            .await
        {
            Ok(c) => c,
            Err(reply) => return reply,
        };
        if let Some(refusal) = self.thread_gate(&account, &channel) {
            return send(cx, fail(src, refusal, l));
        }
        let denied = if add {
            "You do not have permission to add reactions to this message"
        } else {
            "You do not have permission to remove reactions from this message"
        };
        if !channel.allows(&account, "react") {
            return send(cx, fail(src, denied, l));
        }
        let failed = if add {
            "Failed to add reaction"
        } else {
            "Failed to remove reaction"
        };
        let Some(msg) = self.message_in(&account, &channel, &id).await else {
            let missing = if channel.thread.is_some() {
                "Message not found"
            } else {
                failed
            };
            return send(cx, fail(src, missing, l));
        };
        match self
            .core
            .set_reaction(&account.user, &msg.id, &emoji, add)
            .await
        {
            Ok((Some(_), _)) => match l {
                Some(l) => send(
                    cx,
                    with_listener(
                        with_thread(
                            json!({"cmd": src, "id": msg.id.0, "emoji": emoji,
                                "channel": channel.channel_name(),
                                "from": account.user.username, "global": true}),
                            &channel,
                        ),
                        Some(l),
                    ),
                ),
                None => Reply::None,
            },
            Ok((None, _)) => send(cx, fail(src, failed, l)),
            Err(CoreError::Forbidden(_)) => send(cx, fail(src, denied, l)),
            Err(e) => send(cx, core_fail(src, e, l)),
        }
    }

    pub async fn pin(
        &self,
        cx: &mut Cx,
        pinned: bool,
        channel: Option<String>,
        id: Option<String>,
        l: Option<&str>,
    ) -> Reply {
        let src = if pinned {
            "message_pin"
        } else {
            "message_unpin"
        };
        let Some(name) = channel else {
            return send(
                cx,
                with_listener(error(None, "Channel name not provided"), l),
            );
        };
        let (account, channel) = match self
            .context(cx, Some(&name), None, "Channel name not provided", src, l)
            .await
        {
            Ok(c) => c,
            Err(reply) => return reply,
        };
        if !channel.allows(&account, "pin") {
            return send(
                cx,
                fail(
                    src,
                    "You do not have permission to pin messages in this channel",
                    l,
                ),
            );
        }
        let Some(id) = id.filter(|s| !s.is_empty()) else {
            return send(cx, fail(src, "Message ID is required", l));
        };
        let Some(msg) = self.message_in(&account, &channel, &id).await else {
            return send(cx, fail(src, "Message not found", l));
        };
        match self.core.set_pinned(&account.user, &msg.id, pinned).await {
            Ok(_) => match l {
                Some(l) => send(
                    cx,
                    with_listener(
                        json!({"cmd": src, "id": msg.id.0, "channel": channel.room.name,
                            "pinned": pinned, "global": true}),
                        Some(l),
                    ),
                ),
                None => Reply::None,
            },
            Err(CoreError::Forbidden(_)) => send(
                cx,
                fail(
                    src,
                    "You do not have permission to pin messages in this channel",
                    l,
                ),
            ),
            Err(e) => send(cx, core_fail(src, e, l)),
        }
    }
}
