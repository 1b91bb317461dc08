//! Message lookups (§2.1): messages_around, message_replies, messages_search,
//! messages_pinned. The queries are core operations; this module words them.

use super::channels::Channel;
use super::frames::{error, with_listener};
use super::messages::{core_fail, fail, internal, send};
use super::render::CACHE;
use super::session::Cx;
use super::{Account, OriginChats};
use crate::core::ids::MessageId;
use crate::core::lookups::MessageSearch;
use crate::net::ws::Reply;
use chorus_protocol::originchats as proto;
use serde_json::{Value, json};

/// The search scan stops at this many hits before `limits.search_results` cuts them.
const SEARCH_SCAN: usize = 50;
/// Largest `bounds.above` / `bounds.below`.
const MAX_BOUND: i64 = 200;

impl OriginChats {
    /// `require_text_channel_access`: a text channel the user may view, or the error reply
    /// (these errors carry no `src`).
    async fn text_access(
        &self,
        cx: &Cx,
        name: Option<&str>,
        l: Option<&str>,
    ) -> Result<(Account, Channel), Reply> {
        let Some(account) = cx.account.clone() else {
            return Err(Reply::None);
        };
        let Some(name) = name.filter(|s| !s.is_empty()) else {
            return Err(send(
                cx,
                with_listener(error(None, "Channel name not provided"), l),
            ));
        };
        let found = match self.find_channel(cx, name).await {
            Ok(c) => c,
            Err(e) => return Err(send(cx, internal("channel", e, l))),
        };
        let Some(c) = found.filter(|c| c.allows(&account, "view")) else {
            return Err(send(
                cx,
                with_listener(error(None, "Access denied to this channel"), l),
            ));
        };
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

    pub async fn messages_around(&self, cx: &mut Cx, r: proto::MessagesAround) -> Reply {
        const SRC: &str = "messages_around";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        let Some(around) = r.around.as_deref().filter(|s| !s.is_empty()) else {
            return send(cx, fail(SRC, "around (message ID) is required", l));
        };
        let channel = if let Some(tid) = r.thread_id.as_deref() {
            let c = match self.thread_or_reply(cx, &account, tid, SRC, l).await {
                Ok(c) => c,
                Err(reply) => return reply,
            };
            if !c.allows(&account, "view") {
                return send(cx, fail(SRC, super::threads::NO_VIEW, l));
            }
            c
        } else {
            let Some(name) = r.channel.as_deref() else {
                return send(cx, fail(SRC, "Channel not found", l));
            };
            let c = match self.find_channel(cx, name).await {
                Ok(Some(c)) => c,
                Ok(None) => return send(cx, fail(SRC, "Channel not found", l)),
                Err(e) => return send(cx, internal(SRC, e, l)),
            };
            if !c.allows(&account, "view") {
                return send(
                    cx,
                    with_listener(error(None, "Access denied to this channel"), l),
                );
            }
            if !c.is_text() {
                return send(
                    cx,
                    with_listener(
                        error(None, "Cannot use this command in this channel type"),
                        l,
                    ),
                );
            }
            c
        };
        let bound = |v: Option<i64>| v.unwrap_or(50).clamp(0, MAX_BOUND) as u32;
        let (above, below) = match &r.bounds {
            Some(b) => (bound(b.above), bound(b.below)),
            None => (50, 50),
        };
        let found = self
            .core
            .messages_around(
                &account.user.id,
                &channel.room.id,
                &MessageId(around.to_owned()),
                above,
                below,
            )
            .await;
        let window = match found {
            Ok(w) => w,
            Err(crate::core::CoreError::NotFound(_)) => {
                return send(cx, fail(SRC, "Message not found", l));
            }
            Err(e) => return send(cx, core_fail(SRC, e, l)),
        };
        let end = window.first_index + window.messages.len() as i64;
        let list: Vec<Value> = window.messages.iter().map(|m| CACHE.message(m)).collect();
        send(
            cx,
            with_listener(
                json!({"cmd": SRC, "channel": channel.channel_name(),
                    "thread_id": channel.thread_id(), "messages": list,
                    "range": {"start": window.first_index, "end": end}}),
                l,
            ),
        )
    }

    pub async fn message_replies(&self, cx: &mut Cx, r: proto::MessageReplies) -> Reply {
        const SRC: &str = "message_replies";
        let l = r.listener.as_deref();
        let (Some(name), Some(id)) = (
            r.channel.as_deref().filter(|s| !s.is_empty()),
            r.id.as_deref().filter(|s| !s.is_empty()),
        ) else {
            return send(cx, fail(SRC, "Channel name and message ID are required", l));
        };
        let (account, channel) = match self.text_access(cx, Some(name), l).await {
            Ok(v) => v,
            Err(reply) => return reply,
        };
        let limit = r.limit.unwrap_or(50).clamp(0, u32::MAX as i64) as u32;
        match self
            .core
            .message_replies(
                &account.user.id,
                &channel.room.id,
                &MessageId(id.to_owned()),
                limit,
            )
            .await
        {
            Ok(replies) => {
                let list: Vec<Value> = replies.iter().map(|m| CACHE.message(m)).collect();
                send(
                    cx,
                    with_listener(
                        json!({"cmd": SRC, "channel": channel.room.name, "message_id": id,
                            "replies": list}),
                        l,
                    ),
                )
            }
            Err(e) => send(cx, core_fail(SRC, e, l)),
        }
    }

    pub async fn messages_search(&self, cx: &mut Cx, r: proto::MessagesSearch) -> Reply {
        const SRC: &str = "messages_search";
        let l = r.listener.as_deref();
        let (Some(name), Some(query)) = (
            r.channel.as_deref().filter(|s| !s.is_empty()),
            r.query.as_deref().filter(|s| !s.is_empty()),
        ) else {
            return send(cx, fail(SRC, "Channel name and query are required", l));
        };
        let (account, channel) = match self.text_access(cx, Some(name), l).await {
            Ok(v) => v,
            Err(reply) => return reply,
        };
        let search = MessageSearch {
            rooms: vec![channel.room.id.clone()],
            needle: query.to_owned(),
            author: None,
            before_seq: None,
            limit: SEARCH_SCAN as u32,
        };
        match self.core.search_messages(&account.user.id, search).await {
            Ok(mut hits) => {
                hits.truncate(self.cfg.search_results);
                let list: Vec<Value> = hits.iter().map(|m| CACHE.message(m)).collect();
                send(
                    cx,
                    with_listener(
                        json!({"cmd": SRC, "channel": channel.room.name, "query": query,
                            "results": list}),
                        l,
                    ),
                )
            }
            Err(e) => send(cx, core_fail(SRC, e, l)),
        }
    }

    pub async fn messages_pinned(&self, cx: &mut Cx, r: proto::MessagesPinned) -> Reply {
        const SRC: &str = "messages_pinned";
        let l = r.listener.as_deref();
        let (account, channel) = match self.text_access(cx, r.channel.as_deref(), l).await {
            Ok(v) => v,
            Err(reply) => return reply,
        };
        match self
            .core
            .pinned_messages(&account.user.id, &channel.room.id)
            .await
        {
            Ok(pins) => {
                let list: Vec<Value> = pins.iter().map(|m| CACHE.message(m)).collect();
                send(
                    cx,
                    with_listener(
                        json!({"cmd": SRC, "channel": channel.room.name, "messages": list}),
                        l,
                    ),
                )
            }
            Err(e) => send(cx, core_fail(SRC, e, l)),
        }
    }
}
