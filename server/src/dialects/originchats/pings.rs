//! `pings_get` (§2.1): messages of the viewable text channels and of the threads of viewable
//! forums that mention the caller (`@name`, `@&role` of one of the caller's roles, or a reply
//! to the caller not sent with `ping: false`), newest first.

use super::frames::with_listener;
use super::messages::{fail, internal, send};
use super::render::CACHE;
use super::session::Cx;
use super::{Account, OriginChats};
use crate::core::CoreError;
use crate::core::ids::RoomId;
use crate::core::messages::Message;
use crate::core::rooms::RoomKind;
use crate::net::ws::Reply;
use chorus_protocol::originchats as proto;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Most messages scanned per channel.
const SCAN: u32 = 10_000;

/// `@<name>` in `text`, not followed by a word character.
fn mentions(text: &str, tag: &str) -> bool {
    let mut rest = text;
    while let Some(i) = rest.find(tag) {
        let after = &rest[i + tag.len()..];
        match after.chars().next() {
            Some(c) if c.is_ascii_alphanumeric() || c == '_' => rest = after,
            _ => return true,
        }
    }
    false
}

fn pings(account: &Account, m: &Message, authors: &HashMap<String, String>) -> bool {
    if mentions(&m.content, &format!("@{}", account.user.username)) {
        return true;
    }
    if account
        .roles
        .iter()
        .any(|r| mentions(&m.content, &format!("@&{r}")))
    {
        return true;
    }
    if !super::frames::reply_pings(m) {
        return false;
    }
    m.reply_to.as_ref().is_some_and(|r| {
        authors
            .get(r.as_str())
            .cloned()
            .or_else(|| CACHE.author(r))
            .is_some_and(|a| a == account.user.username)
    })
}

impl OriginChats {
    /// Adds the pings of `account` in `room` to `found` as (sequence, message with `channel`
    /// and, for a thread, `thread_id`).
    async fn scan_pings(
        &self,
        account: &Account,
        room: &RoomId,
        channel: &str,
        thread: Option<&RoomId>,
        found: &mut Vec<(i64, Value)>,
    ) -> Result<(), CoreError> {
        let msgs = self
            .core
            .history_before(&account.user.id, room, None, SCAN)
            .await?;
        let authors: HashMap<String, String> = msgs
            .iter()
            .map(|m| (m.id.as_str().to_owned(), m.author.username.clone()))
            .collect();
        for m in &msgs {
            if !m.deleted && pings(account, m, &authors) {
                let mut v = CACHE.message(m);
                if let Some(o) = v.as_object_mut() {
                    o.insert("channel".into(), json!(channel));
                    if let Some(t) = thread {
                        o.insert("thread_id".into(), json!(t.as_str()));
                    }
                }
                found.push((m.seq, v));
            }
        }
        Ok(())
    }

    pub async fn pings_get(&self, cx: &mut Cx, r: proto::PingsGet) -> Reply {
        const SRC: &str = "pings_get";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        let limit = r.limit.unwrap_or(50);
        if !(1..=100).contains(&limit) {
            return send(cx, fail(SRC, "Limit must be a number between 1 and 100", l));
        }
        let offset = r.offset.unwrap_or(0);
        if offset < 0 {
            return send(cx, fail(SRC, "Offset must be a non-negative number", l));
        }
        let found = async {
            let mut found: Vec<(i64, Value)> = Vec::new();
            for c in self.viewable_rooms(&account).await? {
                if c.is_text() {
                    self.scan_pings(&account, &c.room.id, &c.room.name, None, &mut found)
                        .await?;
                } else if c.room.kind == RoomKind::Forum {
                    // A forum's messages live in its threads, which its viewers may read.
                    for t in self.core.store().threads(c.room.id.clone()).await? {
                        self.scan_pings(&account, &t.id, &c.room.name, Some(&t.id), &mut found)
                            .await?;
                    }
                }
            }
            Ok::<_, CoreError>(found)
        }
        .await;
        let mut found = match found {
            Ok(f) => f,
            Err(e) => return send(cx, internal(SRC, e, l)),
        };
        found.sort_by_key(|f| std::cmp::Reverse(f.0));
        let total = found.len();
        let messages: Vec<Value> = found
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|(_, v)| v)
            .collect();
        send(
            cx,
            with_listener(
                json!({"cmd": SRC, "messages": messages, "offset": offset, "limit": limit, "total": total}),
                l,
            ),
        )
    }
}
