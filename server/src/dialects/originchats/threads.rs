//! Forum threads (§2.6): thread_create, thread_get, thread_messages, thread_update,
//! thread_delete, thread_join, thread_leave, and thread contexts (`thread_id`) of the message
//! commands. Threads are core threads; their broadcasts are core events rendered in
//! [`super::render`] for the connections following the forum.

use super::channels::Channel;
use super::frames::{timestamp, with_listener};
use super::messages::{fail, internal, send};
use super::render::{CACHE, Place};
use super::session::Cx;
use super::{Account, OriginChats};
use crate::core::CoreError;
use crate::core::ids::RoomId;
use crate::core::rooms::RoomKind;
use crate::core::threads::{self as core_threads, Thread, ThreadChanges};
use crate::net::ws::Reply;
use chorus_protocol::originchats as proto;
use serde_json::{Value, json};
use std::sync::Arc;

pub const NOT_FOUND: &str = "Thread not found";
pub const NO_VIEW: &str = "You do not have permission to view this thread";
pub const LOCKED: &str = "This thread is locked";
pub const ARCHIVED: &str = "This thread is archived";
const ID_REQUIRED: &str = "Thread ID is required";

/// The client form of a thread (§3.6): usernames, seconds, the newest message.
pub fn thread_json(t: &Thread) -> Value {
    let mut v = json!({
        "id": t.room.id.as_str(),
        "name": t.room.name,
        "parent_channel": t.parent.name,
        "created_at": timestamp(t.room.created_at),
        "locked": t.room.locked,
        "archived": t.room.archived,
        "participants": t.participants.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(),
        "last_message": t.last_message.as_ref().map(|(_, at)| timestamp(*at)),
        "last_message_id": t.last_message.as_ref().map(|(id, _)| id.as_str()),
    });
    if let (Some(c), Some(o)) = (&t.creator, v.as_object_mut()) {
        o.insert("created_by".into(), Value::String(c.username.clone()));
    }
    v
}

/// Where a thread's events show up.
pub fn thread_place(t: &Thread) -> Place {
    Place {
        channel: t.parent.name.clone(),
        thread_id: Some(t.room.id.as_str().to_owned()),
    }
}

/// Why a thread context could not be had.
pub enum ThreadMiss {
    NotFound,
    Failed(CoreError),
}

impl OriginChats {
    /// Thread `id` as a message context: its room, with the forum's permissions.
    pub async fn thread_context(&self, account: &Account, id: &str) -> Result<Channel, ThreadMiss> {
        let thread = match self.core.thread_unchecked(&RoomId(id.to_owned())).await {
            Ok(t) => t,
            Err(CoreError::NotFound(_)) => return Err(ThreadMiss::NotFound),
            Err(e) => return Err(ThreadMiss::Failed(e)),
        };
        let parent = self
            .all_channels(account)
            .await
            .map_err(ThreadMiss::Failed)?
            .into_iter()
            .find(|c| c.room.id == thread.parent.id)
            .ok_or(ThreadMiss::NotFound)?;
        CACHE.set_room(thread.room.id.clone(), thread_place(&thread));
        Ok(Channel {
            room: thread.room.clone(),
            perms: parent.perms,
            lists: parent.lists,
            thread: Some(Arc::new(thread)),
        })
    }

    /// A thread context or the error reply (`Thread not found`).
    pub async fn thread_or_reply(
        &self,
        cx: &Cx,
        account: &Account,
        id: &str,
        src: &str,
        l: Option<&str>,
    ) -> Result<Channel, Reply> {
        match self.thread_context(account, id).await {
            Ok(c) => Ok(c),
            Err(ThreadMiss::NotFound) => Err(send(cx, fail(src, NOT_FOUND, l))),
            Err(ThreadMiss::Failed(e)) => Err(send(cx, internal(src, e, l))),
        }
    }

    /// A thread `account` may post to (message_new, poll_create), or the error reply: not
    /// found, locked, or no `send` on the parent. An archived thread is fine (posting reopens
    /// it in the core).
    pub async fn postable_thread(
        &self,
        cx: &Cx,
        account: &Account,
        id: &str,
        src: &str,
        l: Option<&str>,
    ) -> Result<Channel, Reply> {
        let c = self.thread_or_reply(cx, account, id, src, l).await?;
        if c.room.locked {
            return Err(send(cx, fail(src, LOCKED, l)));
        }
        if !c.allows(account, "send") {
            return Err(send(
                cx,
                fail(
                    src,
                    "You do not have permission to send messages in this thread",
                    l,
                ),
            ));
        }
        Ok(c)
    }

    /// Remembers where the threads of `channels` show up, for rendering their events.
    pub async fn remember_threads(&self, channels: &[Channel]) {
        for c in channels {
            if !matches!(c.room.kind, RoomKind::Forum | RoomKind::Text) {
                continue;
            }
            let Ok(threads) = self.core.store().threads(c.room.id.clone()).await else {
                continue;
            };
            for t in threads {
                CACHE.set_room(
                    t.id.clone(),
                    Place {
                        channel: c.room.name.clone(),
                        thread_id: Some(t.id.as_str().to_owned()),
                    },
                );
            }
        }
    }

    /// The caller receives a broadcast of the parent through the hub when it follows the
    /// parent; it gets a direct copy when it does not, or when it sent a listener.
    fn after_broadcast(&self, cx: &Cx, parent: &RoomId, frame: Value, l: Option<&str>) -> Reply {
        if l.is_some() || !self.conns.can_view(cx.conn, parent) {
            return send(cx, with_listener(frame, l));
        }
        Reply::None
    }

    /// The viewable thread of a thread command, or its error reply.
    async fn viewable_thread(
        &self,
        cx: &Cx,
        id: Option<&str>,
        src: &str,
        l: Option<&str>,
    ) -> Result<(Account, Channel), Reply> {
        let Some(account) = cx.account.clone() else {
            return Err(Reply::None);
        };
        let Some(id) = id.filter(|s| !s.is_empty()) else {
            return Err(send(cx, fail(src, ID_REQUIRED, l)));
        };
        let c = self.thread_or_reply(cx, &account, id, src, l).await?;
        if !c.allows(&account, "view") {
            return Err(send(cx, fail(src, NO_VIEW, l)));
        }
        Ok((account, c))
    }

    pub async fn thread_create(&self, cx: &mut Cx, r: proto::ThreadCreate) -> Reply {
        const SRC: &str = "thread_create";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        let (Some(channel), Some(name)) = (
            r.channel.as_deref().filter(|s| !s.is_empty()),
            r.name.as_deref().filter(|s| !s.is_empty()),
        ) else {
            return send(cx, fail(SRC, "Channel and thread name are required", l));
        };
        let forum = match self.find_channel(cx, channel).await {
            Ok(Some(c)) => c,
            Ok(None) => return send(cx, fail(SRC, "Channel not found", l)),
            Err(e) => return send(cx, internal(SRC, e, l)),
        };
        if forum.room.kind != RoomKind::Forum {
            return send(
                cx,
                fail(SRC, "Threads can only be created in forum channels", l),
            );
        }
        const DENIED: &str = "You do not have permission to create threads in this channel";
        if !forum.allows(&account, "create_thread") {
            return send(cx, fail(SRC, DENIED, l));
        }
        if name.trim().is_empty() {
            return send(cx, fail(SRC, "Thread name cannot be empty", l));
        }
        match self
            .core
            .create_thread(&account.user, &forum.room.id, name, None)
            .await
        {
            Ok(t) => {
                CACHE.set_room(t.room.id.clone(), thread_place(&t));
                let frame = json!({"cmd": SRC, "thread": thread_json(&t),
                    "channel": forum.room.name, "global": true});
                self.after_broadcast(cx, &forum.room.id, frame, l)
            }
            Err(CoreError::Forbidden(_) | CoreError::NotFound(_)) => send(cx, fail(SRC, DENIED, l)),
            Err(CoreError::Invalid(m)) => send(cx, fail(SRC, &m, l)),
            Err(e) => send(cx, internal(SRC, e, l)),
        }
    }

    pub async fn thread_get(&self, cx: &mut Cx, r: proto::ThreadGet) -> Reply {
        const SRC: &str = "thread_get";
        let l = r.listener.as_deref();
        let (_, c) = match self
            .viewable_thread(cx, r.thread_id.as_deref(), SRC, l)
            .await
        {
            Ok(v) => v,
            Err(reply) => return reply,
        };
        let Some(t) = &c.thread else {
            return Reply::None;
        };
        send(
            cx,
            with_listener(json!({"cmd": SRC, "thread": thread_json(t)}), l),
        )
    }

    pub async fn thread_messages(&self, cx: &mut Cx, r: proto::ThreadMessages) -> Reply {
        const SRC: &str = "thread_messages";
        let l = r.listener.as_deref();
        let (account, c) = match self
            .viewable_thread(cx, r.thread_id.as_deref(), SRC, l)
            .await
        {
            Ok(v) => v,
            Err(reply) => return reply,
        };
        let start = r.start.clone().unwrap_or(json!(0));
        let messages = match self
            .history_page(&account, &c, &start, r.limit.flatten())
            .await
        {
            Ok(m) => m,
            Err(e) => return send(cx, internal(SRC, e, l)),
        };
        let list: Vec<Value> = messages.iter().map(|m| CACHE.message(m)).collect();
        send(
            cx,
            with_listener(
                json!({"cmd": SRC, "thread_id": c.room.id.as_str(), "messages": list}),
                l,
            ),
        )
    }

    pub async fn thread_update(&self, cx: &mut Cx, r: proto::ThreadUpdate) -> Reply {
        const SRC: &str = "thread_update";
        let l = r.listener.as_deref();
        let (account, c) = match self
            .existing_thread(cx, r.thread_id.as_deref(), SRC, l)
            .await
        {
            Ok(v) => v,
            Err(reply) => return reply,
        };
        let changes = ThreadChanges {
            name: r.name.clone(),
            locked: r.locked,
            archived: r.archived,
            extra: None,
        };
        match self
            .core
            .update_thread(&account.user, &c.room.id, changes)
            .await
        {
            Ok(t) => {
                let frame = json!({"cmd": SRC, "thread": thread_json(&t), "global": true});
                self.after_broadcast(cx, &t.parent.id, frame, l)
            }
            Err(e) => send(cx, self.thread_fail(SRC, e, l)),
        }
    }

    pub async fn thread_delete(&self, cx: &mut Cx, r: proto::ThreadDelete) -> Reply {
        const SRC: &str = "thread_delete";
        let l = r.listener.as_deref();
        let (account, c) = match self
            .existing_thread(cx, r.thread_id.as_deref(), SRC, l)
            .await
        {
            Ok(v) => v,
            Err(reply) => return reply,
        };
        match self.core.delete_thread(&account.user, &c.room.id).await {
            Ok(t) => {
                CACHE.forget_room(&t.room.id);
                let frame = json!({"cmd": SRC, "thread_id": t.room.id.as_str(),
                    "channel": t.parent.name, "global": true});
                self.after_broadcast(cx, &t.parent.id, frame, l)
            }
            Err(CoreError::Forbidden(core_threads::NOT_CREATOR)) => send(
                cx,
                fail(SRC, "You do not have permission to delete this thread", l),
            ),
            Err(e) => send(cx, self.thread_fail(SRC, e, l)),
        }
    }

    pub async fn thread_join(&self, cx: &mut Cx, r: proto::ThreadJoin) -> Reply {
        const SRC: &str = "thread_join";
        let l = r.listener.as_deref();
        let (account, c) = match self
            .viewable_thread(cx, r.thread_id.as_deref(), SRC, l)
            .await
        {
            Ok(v) => v,
            Err(reply) => return reply,
        };
        if c.room.locked {
            return send(cx, fail(SRC, LOCKED, l));
        }
        match self.core.join_thread(&account.user, &c.room.id).await {
            Ok((t, changed)) => {
                let frame = json!({"cmd": SRC, "thread": thread_json(&t),
                    "thread_id": t.room.id.as_str(), "user": account.user.username,
                    "global": true});
                if changed {
                    self.after_broadcast(cx, &t.parent.id, frame, l)
                } else {
                    send(cx, with_listener(frame, l))
                }
            }
            Err(e) => send(cx, self.thread_fail(SRC, e, l)),
        }
    }

    pub async fn thread_leave(&self, cx: &mut Cx, r: proto::ThreadLeave) -> Reply {
        const SRC: &str = "thread_leave";
        let l = r.listener.as_deref();
        let (account, c) = match self
            .existing_thread(cx, r.thread_id.as_deref(), SRC, l)
            .await
        {
            Ok(v) => v,
            Err(reply) => return reply,
        };
        match self.core.leave_thread(&account.user, &c.room.id).await {
            Ok((t, changed)) => {
                let frame = json!({"cmd": SRC, "thread": thread_json(&t),
                    "thread_id": t.room.id.as_str(), "user": account.user.username,
                    "global": true});
                if changed {
                    self.after_broadcast(cx, &t.parent.id, frame, l)
                } else {
                    send(cx, with_listener(frame, l))
                }
            }
            Err(e) => send(cx, self.thread_fail(SRC, e, l)),
        }
    }

    /// A thread of a thread command that needs no view check (the core checks what it needs).
    async fn existing_thread(
        &self,
        cx: &Cx,
        id: Option<&str>,
        src: &str,
        l: Option<&str>,
    ) -> Result<(Account, Channel), Reply> {
        let Some(account) = cx.account.clone() else {
            return Err(Reply::None);
        };
        let Some(id) = id.filter(|s| !s.is_empty()) else {
            return Err(send(cx, fail(src, ID_REQUIRED, l)));
        };
        let c = self.thread_or_reply(cx, &account, id, src, l).await?;
        Ok((account, c))
    }

    /// A core refusal of a thread command in the reference's words.
    fn thread_fail(&self, src: &str, e: CoreError, l: Option<&str>) -> Value {
        match e {
            CoreError::NotFound(_) => fail(src, NOT_FOUND, l),
            CoreError::Forbidden(core_threads::LOCKED) => fail(src, LOCKED, l),
            CoreError::Forbidden(core_threads::NOT_CREATOR) => {
                fail(src, "You do not have permission to modify this thread", l)
            }
            CoreError::Forbidden(_) => fail(src, NO_VIEW, l),
            CoreError::Invalid(m) => fail(src, &m, l),
            e => internal(src, e, l),
        }
    }
}
