//! Chat commands (§2.1): message_new, typing, …

use super::Account;
use super::OriginChats;
use super::channels::Channel;
use super::frames::{encode, error, with_listener};
use super::session::Cx;
use crate::core::CoreError;
use crate::core::events::Event;
use crate::core::ids::{MessageId, RoomId};
use crate::core::messages::{NewMessage, UserRef};
use crate::net::ws::Reply;
use chorus_protocol::originchats as proto;
use serde_json::{Value, json};

/// An error reply with `src`, `listener` echoed.
pub fn fail(src: &str, val: &str, listener: Option<&str>) -> Value {
    with_listener(error(Some(src), val), listener)
}

impl OriginChats {
    /// A channel by name among every channel of the space (viewable or not).
    pub async fn find_channel(&self, cx: &Cx, name: &str) -> Result<Option<Channel>, CoreError> {
        let Some(account) = &cx.account else {
            return Ok(None);
        };
        Ok(self
            .all_channels(account)
            .await?
            .into_iter()
            .find(|c| c.room.name == name))
    }

    pub async fn message_new(&self, cx: &mut Cx, r: proto::MessageNew) -> Reply {
        const SRC: &str = "message_new";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        let has_place = r.channel.is_some() || r.thread_id.is_some();
        let content_raw = r.content.clone().unwrap_or_default();
        let has_body =
            !content_raw.is_empty() || r.attachments.as_ref().is_some_and(|a| !a.is_empty());
        if !has_place || !has_body {
            let mut missing = Vec::new();
            if !has_place {
                missing.push("channel or thread_id");
            }
            if !has_body {
                missing.push("content or attachments");
            }
            return send(
                cx,
                fail(SRC, &format!("Missing fields: {}", missing.join(", ")), l),
            );
        }
        let content = content_raw.trim().to_owned();
        let wants_attachments = r.attachments.as_ref().is_some_and(|a| !a.is_empty());
        if content.is_empty() && !wants_attachments {
            return send(
                cx,
                fail(SRC, "Message content or attachments cannot be empty", l),
            );
        }
        if content.chars().count() > self.cfg.post_content {
            return send(
                cx,
                fail(
                    SRC,
                    &format!(
                        "Message too long. Maximum length is {} characters",
                        self.cfg.post_content
                    ),
                    l,
                ),
            );
        }
        if let Err(d) = self.limiter.check(&account.user.id) {
            return send(
                cx,
                with_listener(
                    json!({"cmd": "rate_limit", "reason": d.reason, "length": d.length_ms}),
                    l,
                ),
            );
        }
        let channel = if let Some(tid) = r.thread_id.as_deref() {
            // The thread path (§2.1 step 8): an archived thread reopens when posted to (the
            // core does it), a locked one refuses.
            match self.postable_thread(cx, &account, tid, SRC, l).await {
                Ok(c) => c,
                Err(reply) => return reply,
            }
        } else {
            let Some(channel_name) = r.channel.as_deref() else {
                return send(cx, fail(SRC, super::threads::NOT_FOUND, l));
            };
            let channel = match self.find_channel(cx, channel_name).await {
                Ok(Some(c)) => c,
                Ok(None) => return send(cx, fail(SRC, "Channel not found", l)),
                Err(e) => return send(cx, internal(SRC, e, l)),
            };
            if !channel.allows(&account, "send") {
                return send(
                    cx,
                    fail(
                        SRC,
                        "You do not have permission to send messages in this channel",
                        l,
                    ),
                );
            }
            if !channel.is_text() {
                return send(
                    cx,
                    fail(SRC, "Cannot send messages in this channel type", l),
                );
            }
            channel
        };
        let reply_to = match r.reply_to.as_deref() {
            None => None,
            Some(id) => {
                let found = self
                    .core
                    .store()
                    .message(MessageId(id.to_owned()))
                    .await
                    .ok()
                    .flatten()
                    .filter(|m| m.room_id == channel.room.id);
                match found {
                    Some(m) => {
                        super::render::CACHE.remember_author(&m);
                        Some(m.id)
                    }
                    None => {
                        return send(
                            cx,
                            fail(
                                SRC,
                                "The message you're trying to reply to was not found",
                                l,
                            ),
                        );
                    }
                }
            }
        };
        // step 11, the uploads the message carries
        let mut extra = None;
        if let Some(refs) = r.attachments.as_deref().filter(|a| !a.is_empty()) {
            match self.message_attachments(&account.user.id, refs).await {
                Ok(list) => {
                    let items: Vec<Value> = list.iter().map(|a| a.to_extra()).collect();
                    extra = Some(json!({ "attachments": items }));
                }
                Err(text) => return send(cx, fail(SRC, &text, l)),
            }
        }
        // Kept only when given, as the reference stores it.
        if let Some(ping) = r.ping {
            let e = extra.get_or_insert_with(|| json!({}));
            e["ping"] = Value::Bool(ping);
        }
        let new = NewMessage {
            room_id: channel.room.id.clone(),
            author: UserRef {
                id: account.user.id.clone(),
                username: account.user.username.clone(),
            },
            author_name: None,
            content,
            reply_to,
            forwarded_from: None,
            extra,
        };
        let listener = r.listener.clone();
        let place = super::render::Place {
            channel: channel.channel_name().to_owned(),
            thread_id: channel.thread_id().map(str::to_owned),
        };
        match self.core.submit_message(new).await {
            Ok(durable) => Reply::Later(Box::pin(async move {
                match durable.await {
                    // The broadcast (the caller is a viewer) is the reply; a caller that sent a
                    // listener also gets its own copy with the listener.
                    Ok(m) => listener.map(|l| {
                        encode(&with_listener(
                            super::render::message_new(&m, &place),
                            Some(&l),
                        ))
                    }),
                    Err(e) => Some(encode(&core_fail(SRC, e, listener.as_deref()))),
                }
            })),
            Err(e) => send(cx, core_fail(SRC, e, l)),
        }
    }

    pub async fn typing(&self, cx: &mut Cx, r: proto::Typing) -> Reply {
        const SRC: &str = "typing";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        if r.channel.is_none() && r.thread_id.is_none() {
            return send(cx, fail(SRC, "Channel name or thread_id not provided", l));
        }
        if let Err(d) = self.limiter.check(&account.user.id) {
            return send(
                cx,
                with_listener(
                    json!({"cmd": "rate_limit", "reason": d.reason, "length": d.length_ms}),
                    l,
                ),
            );
        }
        if let Some(tid) = r.thread_id.as_deref() {
            let c = match self.thread_context(&account, tid).await {
                Ok(c) => c,
                Err(super::threads::ThreadMiss::NotFound) => {
                    return send(cx, fail(SRC, super::threads::NOT_FOUND, l));
                }
                Err(super::threads::ThreadMiss::Failed(e)) => {
                    return send(cx, internal(SRC, e, l));
                }
            };
            if c.thread.is_none() {
                return send(cx, fail(SRC, "Thread has no parent channel", l));
            }
            if !c.allows(&account, "send") {
                return send(
                    cx,
                    fail(
                        SRC,
                        "You do not have permission to send messages in this thread",
                        l,
                    ),
                );
            }
            let frame = json!({"cmd": "typing", "channel": c.channel_name(),
                "user": account.user.username, "thread_id": tid, "global": true});
            // The thread room's topic reaches the forum's followers.
            self.publish_typing(&account, &c.room.id, cx.conn);
            return send(cx, with_listener(frame, l));
        }
        let Some(name) = r.channel.as_deref() else {
            return send(cx, fail(SRC, super::threads::NOT_FOUND, l));
        };
        let channel = match self.find_channel(cx, name).await {
            Ok(Some(c)) => c,
            Ok(None) => return send(cx, fail(SRC, "Channel not found", l)),
            Err(e) => return send(cx, internal(SRC, e, l)),
        };
        if !channel.is_text() || !channel.allows(&account, "view") {
            return send(cx, fail(SRC, "Access denied to this channel", l));
        }
        let frame = json!({"cmd": "typing", "channel": channel.room.name,
            "user": account.user.username, "thread_id": null, "global": true});
        self.publish_typing(&account, &channel.room.id, cx.conn);
        send(cx, with_listener(frame, l))
    }

    /// Typing goes through the core, so every dialect's viewers see it (Plexichat as
    /// TYPING_START); the typing connection has its reply instead of a copy.
    fn publish_typing(&self, account: &Account, room: &RoomId, conn: crate::hub::ConnId) {
        self.core.hub().publish(Event::Typing {
            room_id: room.clone(),
            user: UserRef {
                id: account.user.id.clone(),
                username: account.user.username.clone(),
            },
            started: true,
            from_conn: Some(conn),
        });
    }
}

/// Queues a direct reply behind everything already queued for the connection.
pub fn send(cx: &Cx, v: Value) -> Reply {
    cx.send(&v);
    Reply::None
}

pub fn internal(src: &str, e: CoreError, l: Option<&str>) -> Value {
    tracing::error!(error = %e, src, "originchats: internal error");
    fail(src, "Internal server error", l)
}

/// A core refusal in the words of the command.
pub fn core_fail(src: &str, e: CoreError, l: Option<&str>) -> Value {
    let text = match (&e, src) {
        (CoreError::Forbidden(_), "message_new") => {
            "You do not have permission to send messages in this channel".to_owned()
        }
        (CoreError::NotFound("message"), _) => "Message not found".to_owned(),
        (CoreError::NotFound(_), _) => "Channel not found".to_owned(),
        (CoreError::Invalid(m) | CoreError::Conflict(m), _) => m.clone(),
        (CoreError::Forbidden(_) | CoreError::Unauthorized, _) => "Access denied".to_owned(),
        (CoreError::Unavailable, _) => "Server is shutting down".to_owned(),
        (CoreError::Internal(_), _) => return internal(src, e, l),
    };
    fail(src, &text, l)
}
