//! Polls (§2.13) over the core's polls: `poll_create` in a channel or a thread (the flat
//! `message_new` side packet to the channel's viewers, then the reply), `poll_vote`, `poll_end`, `poll_results`,
//! `poll_get`. Voters are always usernames (the reference sends raw user ids in votes).

use super::super::channels::Channel;
use super::super::frames::{timestamp, with_listener};
use super::super::messages::{fail, internal, send};
use super::super::render::CACHE;
use super::super::session::Cx;
use super::super::{Account, OriginChats};
use crate::core::CoreError;
use crate::core::ids::{MessageId, RoomId, UserId, now_ms};
use crate::core::messages::UserRef;
use crate::core::polls::{NewPoll, PollOption, PollState};
use crate::net::ws::Reply;
use chorus_protocol::originchats as proto;
use serde_json::{Value, json};

fn seconds(ms: Option<i64>) -> Value {
    ms.map_or(Value::Null, timestamp)
}

fn options_json(options: &[PollOption]) -> Value {
    Value::Array(
        options
            .iter()
            .map(|o| {
                let mut v = json!({"id": o.id, "text": o.text});
                if let (Some(e), Some(obj)) = (&o.emoji, v.as_object_mut()) {
                    obj.insert("emoji".into(), Value::String(e.clone()));
                }
                v
            })
            .collect(),
    )
}

/// The `poll` embed of a poll message.
pub fn poll_embed(
    question: &str,
    options: &[PollOption],
    multi: bool,
    expires: Option<i64>,
) -> Value {
    json!({
        "type": "poll",
        "poll": {
            "question": question,
            "options": options_json(options),
            "allow_multiselect": multi,
            "expires_at": seconds(expires),
        },
        "title": question,
    })
}

/// PollResults; with `viewer`, each result says whether they voted for it and voters are shown
/// only once the poll has ended (`poll_results`).
pub fn results(state: &PollState, viewer: Option<&UserId>) -> Value {
    let p = &state.poll;
    let mine = viewer.map(|v| state.votes_of(v));
    let list: Vec<Value> = state
        .tally()
        .into_iter()
        .map(|(o, voters)| {
            let names: Vec<&str> = match &mine {
                Some(_) if !p.ended() => Vec::new(),
                _ => voters.iter().map(|u| u.username.as_str()).collect(),
            };
            let mut r = json!({"id": o.id, "text": o.text, "emoji": o.emoji,
                "votes": voters.len(), "voters": names});
            if let (Some(m), Some(obj)) = (&mine, r.as_object_mut()) {
                obj.insert("voted".into(), Value::Bool(m.contains(&o.id)));
            }
            r
        })
        .collect();
    json!({
        "poll_id": p.id,
        "question": p.question,
        "allow_multiselect": p.allow_multiselect,
        "ended": p.ended(),
        "ended_at": seconds(p.ended_at),
        "total_votes": state.votes.len(),
        "results": list,
    })
}

/// The channel name and thread id of a poll's room (a thread shows its parent's name); nulls
/// when the room is not a known channel.
pub fn place_of(room: &RoomId) -> (Value, Value) {
    match CACHE.place(room) {
        Some(p) => (
            Value::String(p.channel),
            p.thread_id.map_or(Value::Null, Value::String),
        ),
        None => (Value::Null, Value::Null),
    }
}

/// `poll_vote_update` for the channel's viewers.
pub fn vote_update(state: &PollState, voter: &UserRef, option_ids: &[String]) -> Value {
    let (channel, thread_id) = place_of(&state.poll.room_id);
    json!({
        "cmd": "poll_vote_update",
        "poll_id": state.poll.id,
        "message_id": state.poll.message_id.0,
        "channel": channel,
        "thread_id": thread_id,
        "user": voter.username,
        "option_ids": option_ids,
        "results": results(state, None),
    })
}

/// `poll_end` for the channel's viewers.
pub fn end_update(state: &PollState) -> Value {
    let (channel, thread_id) = place_of(&state.poll.room_id);
    json!({
        "cmd": "poll_end",
        "poll_id": state.poll.id,
        "message_id": state.poll.message_id.0,
        "channel": channel,
        "thread_id": thread_id,
        "results": results(state, None),
    })
}

/// A core refusal of a poll command in the reference's words.
fn poll_fail(src: &str, e: CoreError, l: Option<&str>) -> Value {
    match e {
        CoreError::NotFound(_) => fail(src, "Poll not found", l),
        CoreError::Forbidden("view_poll") => {
            fail(src, "You do not have permission to view this poll", l)
        }
        CoreError::Forbidden("manage_messages") => fail(
            src,
            "Access denied: 'manage_messages' permission required",
            l,
        ),
        CoreError::Forbidden(_) => fail(
            src,
            "You do not have permission to send messages in this channel",
            l,
        ),
        CoreError::Invalid(m) | CoreError::Conflict(m) => fail(src, &m, l),
        e => internal(src, e, l),
    }
}

impl OriginChats {
    /// The poll of a command, checked against the OriginChats view rule of its channel.
    async fn poll_for(
        &self,
        cx: &Cx,
        account: &Account,
        poll_id: Option<&str>,
        message_id: Option<&str>,
        src: &str,
        l: Option<&str>,
    ) -> Result<PollState, Reply> {
        if poll_id.is_none() && message_id.is_none() {
            return Err(send(cx, fail(src, "poll_id or message_id is required", l)));
        }
        let mid = message_id.map(|m| MessageId(m.to_owned()));
        let state = self
            .core
            .poll_state(&account.user.id, poll_id, mid.as_ref())
            .await
            .map_err(|e| send(cx, poll_fail(src, e, l)))?;
        let viewable = match self.channel_of_room(account, &state.poll.room_id).await {
            Some(c) => c.allows(account, "view"),
            // A thread's poll is viewable where its forum is.
            None => match self
                .thread_context(account, state.poll.room_id.as_str())
                .await
            {
                Ok(c) => c.allows(account, "view"),
                Err(_) => true,
            },
        };
        if !viewable {
            return Err(send(
                cx,
                fail(src, "You do not have permission to view this poll", l),
            ));
        }
        Ok(state)
    }

    async fn channel_of_room(&self, account: &Account, room: &RoomId) -> Option<Channel> {
        self.all_channels(account)
            .await
            .ok()?
            .into_iter()
            .find(|c| &c.room.id == room)
    }

    pub async fn poll_create(&self, cx: &mut Cx, r: proto::PollCreate) -> Reply {
        const SRC: &str = "poll_create";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        if r.channel.is_none() && r.thread_id.is_none() {
            return send(cx, fail(SRC, "Channel or thread_id is required", l));
        }
        let Some(question) = r.question.clone().filter(|q| !q.is_empty()) else {
            return send(cx, fail(SRC, "Question is required", l));
        };
        let raw = r.options.clone().unwrap_or_default();
        if raw.len() < 2 {
            return send(cx, fail(SRC, "At least 2 options are required", l));
        }
        if raw.len() > 10 {
            return send(cx, fail(SRC, "Cannot have more than 10 options", l));
        }
        let mut options = Vec::with_capacity(raw.len());
        for (i, o) in raw.iter().enumerate() {
            match o {
                Value::String(text) => options.push(PollOption {
                    id: i.to_string(),
                    text: text.clone(),
                    emoji: None,
                }),
                Value::Object(m) => {
                    let Some(text) = m.get("text") else {
                        return send(cx, fail(SRC, &format!("Option {i} must have 'text'"), l));
                    };
                    let as_text = |v: &Value| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    options.push(PollOption {
                        id: m.get("id").map_or_else(|| i.to_string(), as_text),
                        text: as_text(text),
                        emoji: m.get("emoji").filter(|e| !e.is_null()).map(as_text),
                    });
                }
                _ => return send(cx, fail(SRC, &format!("Option {i} must have 'text'"), l)),
            }
        }
        let multi = r.allow_multiselect.unwrap_or(false);
        let expires_at = match (&r.expires_at, &r.duration_hours) {
            (Some(t), _) => t.as_f64().map(|s| (s * 1000.0).round() as i64),
            (None, Some(h)) => h
                .as_f64()
                .filter(|h| *h != 0.0)
                .map(|h| now_ms() + (h * 3_600_000.0).round() as i64),
            _ => None,
        };
        // A thread id wins over a channel, as for message_new; the thread's parent decides.
        let channel = if let Some(tid) = r.thread_id.as_deref() {
            match self.postable_thread(cx, &account, tid, SRC, l).await {
                Ok(c) => c,
                Err(reply) => return reply,
            }
        } else {
            let Some(name) = r.channel.as_deref() else {
                return send(cx, fail(SRC, "Channel or thread_id is required", l));
            };
            let channel = match self.find_channel(cx, name).await {
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
            channel
        };
        let embed = poll_embed(&question, &options, multi, expires_at);
        let new = NewPoll {
            room_id: channel.room.id.clone(),
            author: UserRef {
                id: account.user.id.clone(),
                username: account.user.username.clone(),
            },
            question: question.clone(),
            options: options.clone(),
            allow_multiselect: multi,
            expires_at,
            content: format!("📊 {question}"),
            extra: Some(json!({"embeds": [embed]})),
        };
        match self.core.create_poll(new).await {
            // The flat message_new reached the channel's viewers (the caller too) first.
            Ok((message, poll)) => send(
                cx,
                with_listener(
                    json!({
                        "cmd": SRC,
                        "poll_id": poll.id,
                        "message_id": message.id.0,
                        "channel": channel.channel_name(),
                        "thread_id": channel.thread_id(),
                        "question": poll.question,
                        "options": options_json(&poll.options),
                        "allow_multiselect": poll.allow_multiselect,
                        "expires_at": seconds(poll.expires_at),
                    }),
                    l,
                ),
            ),
            Err(CoreError::Forbidden(_)) => send(
                cx,
                fail(SRC, "Access denied: 'send_messages' permission required", l),
            ),
            Err(e) => send(cx, poll_fail(SRC, e, l)),
        }
    }

    pub async fn poll_vote(&self, cx: &mut Cx, r: proto::PollVote) -> Reply {
        const SRC: &str = "poll_vote";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        let state = match self
            .poll_for(
                cx,
                &account,
                r.poll_id.as_deref(),
                r.message_id.as_deref(),
                SRC,
                l,
            )
            .await
        {
            Ok(s) => s,
            Err(reply) => return reply,
        };
        let ids: Vec<String> = match (
            r.option_ids.clone().filter(|v| !v.is_empty()),
            r.option_id.clone(),
        ) {
            (Some(list), _) => list,
            (None, Some(one)) if !one.is_empty() => vec![one],
            _ => return send(cx, fail(SRC, "option_id or option_ids is required", l)),
        };
        match self
            .core
            .vote_poll(&account.user, &state.poll.id, ids.clone())
            .await
        {
            // poll_vote_update reached the viewers (the caller too) first.
            Ok(after) => send(
                cx,
                with_listener(
                    json!({"cmd": SRC, "poll_id": after.poll.id, "option_ids": ids,
                        "results": results(&after, None)}),
                    l,
                ),
            ),
            Err(e) => send(cx, poll_fail(SRC, e, l)),
        }
    }

    pub async fn poll_end(&self, cx: &mut Cx, r: proto::PollEnd) -> Reply {
        const SRC: &str = "poll_end";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        let state = match self
            .poll_for(
                cx,
                &account,
                r.poll_id.as_deref(),
                r.message_id.as_deref(),
                SRC,
                l,
            )
            .await
        {
            Ok(s) => s,
            Err(reply) => return reply,
        };
        match self.core.end_poll(&account.user, &state.poll.id).await {
            Ok(after) => send(
                cx,
                with_listener(
                    json!({"cmd": SRC, "poll_id": after.poll.id, "results": results(&after, None)}),
                    l,
                ),
            ),
            Err(CoreError::Conflict(m)) if m == "Poll has already ended" => {
                send(cx, fail(SRC, &m, l))
            }
            Err(e) => send(cx, poll_fail(SRC, e, l)),
        }
    }

    pub async fn poll_results(&self, cx: &mut Cx, r: proto::PollResults) -> Reply {
        const SRC: &str = "poll_results";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        let state = match self
            .poll_for(
                cx,
                &account,
                r.poll_id.as_deref(),
                r.message_id.as_deref(),
                SRC,
                l,
            )
            .await
        {
            Ok(s) => s,
            Err(reply) => return reply,
        };
        send(
            cx,
            with_listener(
                json!({"cmd": SRC, "poll_id": state.poll.id, "message_id": state.poll.message_id.0,
                    "results": results(&state, Some(&account.user.id))}),
                l,
            ),
        )
    }

    pub async fn poll_get(&self, cx: &mut Cx, r: proto::PollGet) -> Reply {
        const SRC: &str = "poll_get";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        let state = match self
            .poll_for(
                cx,
                &account,
                r.poll_id.as_deref(),
                r.message_id.as_deref(),
                SRC,
                l,
            )
            .await
        {
            Ok(s) => s,
            Err(reply) => return reply,
        };
        let p = &state.poll;
        let (channel, thread_id) = place_of(&p.room_id);
        send(
            cx,
            with_listener(
                json!({"cmd": SRC, "poll": {
                    "id": p.id,
                    "message_id": p.message_id.0,
                    "channel": channel,
                    "thread_id": thread_id,
                    "question": p.question,
                    "options": options_json(&p.options),
                    "allow_multiselect": p.allow_multiselect,
                    "expires_at": seconds(p.expires_at),
                    "created_by": p.created_by.username,
                    "created_at": timestamp(p.created_at),
                    "ended": p.ended(),
                    "ended_at": seconds(p.ended_at),
                    "user_votes": state.votes_of(&account.user.id),
                }}),
                l,
            ),
        )
    }
}
