//! `embeds_list` (§2.1): the embeds of one message (from the message's `extra.embeds`).

use super::OriginChats;
use super::frames::with_listener;
use super::messages::{fail, internal, send};
use super::session::Cx;
use crate::core::ids::MessageId;
use crate::net::ws::Reply;
use chorus_protocol::originchats as proto;
use serde_json::{Value, json};

impl OriginChats {
    pub async fn embeds_list(&self, cx: &mut Cx, r: proto::EmbedsList) -> Reply {
        const SRC: &str = "embeds_list";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        let Some(id) = r.id.clone().filter(|s| !s.is_empty()) else {
            return send(cx, fail(SRC, "Message ID is required", l));
        };
        if r.channel.is_none() && r.thread_id.is_none() {
            return send(cx, fail(SRC, "Channel or thread_id is required", l));
        }
        // A thread or a channel that exists and is viewable.
        let channel = match (r.thread_id.as_deref(), r.channel.as_deref()) {
            (Some(tid), _) => match self.thread_context(&account, tid).await {
                Ok(c) => Some(c).filter(|c| c.allows(&account, "view")),
                Err(super::threads::ThreadMiss::NotFound) => None,
                Err(super::threads::ThreadMiss::Failed(e)) => return send(cx, internal(SRC, e, l)),
            },
            (None, None) => None,
            (None, Some(name)) => match self.find_channel(cx, name).await {
                Ok(c) => c.filter(|c| c.allows(&account, "view")),
                Err(e) => return send(cx, internal(SRC, e, l)),
            },
        };
        let Some(channel) = channel else {
            return send(cx, fail(SRC, "Channel or thread not found", l));
        };
        let message = self
            .core
            .message(&account.user.id, &MessageId(id.clone()))
            .await
            .ok()
            .filter(|m| m.room_id == channel.room.id && !m.deleted);
        let Some(m) = message else {
            return send(cx, fail(SRC, "Message not found", l));
        };
        let embeds = m
            .extra
            .as_ref()
            .and_then(|x| x.get("embeds").cloned())
            .filter(Value::is_array)
            .unwrap_or_else(|| json!([]));
        send(
            cx,
            with_listener(json!({"cmd": SRC, "id": id, "embeds": embeds}), l),
        )
    }
}
