//! Core events as OriginChats frames. Rendered once for every OriginChats subscriber of the
//! event's room (the hub only delivers to connections subscribed to rooms they may view).

use super::frames::{self, message};
use crate::core::events::Event;
use crate::core::ids::{MessageId, RoomId};
use crate::core::messages::{Message, ReactionAction};
use crate::hub::Renderer;
use axum::extract::ws::Utf8Bytes;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, RwLock};

/// Where a room shows up on the wire.
#[derive(Debug, Clone)]
pub struct Place {
    /// The channel name (the parent forum's, for a thread).
    pub channel: String,
    /// The thread id, for a thread.
    pub thread_id: Option<String>,
}

/// What the renderer needs and events do not carry: room names, and the authors of messages
/// (for `reply_to.user`). Filled by the dialect as it lists rooms and messages.
#[derive(Default)]
pub struct RenderCache {
    rooms: RwLock<HashMap<RoomId, Place>>,
    authors: Mutex<HashMap<MessageId, String>>,
}

pub static CACHE: LazyLock<RenderCache> = LazyLock::new(RenderCache::default);

impl RenderCache {
    pub fn set_room(&self, room: RoomId, place: Place) {
        self.rooms
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(room, place);
    }

    pub fn forget_room(&self, room: &RoomId) {
        self.rooms
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(room);
    }

    pub fn place(&self, room: &RoomId) -> Option<Place> {
        self.rooms
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(room)
            .cloned()
    }

    pub fn remember_author(&self, m: &Message) {
        let mut a = self.authors.lock().unwrap_or_else(|e| e.into_inner());
        if a.len() > 200_000 {
            a.clear();
        }
        a.insert(m.id.clone(), m.author.username.clone());
    }

    pub fn author(&self, id: &MessageId) -> Option<String> {
        self.authors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    /// The client form of `m`, with `reply_to.user` when the replied message's author is known.
    pub fn message(&self, m: &Message) -> Value {
        self.remember_author(m);
        let reply_user = m.reply_to.as_ref().and_then(|r| self.author(r));
        message(m, reply_user.as_deref())
    }
}

/// `{"cmd":"message_new","message",…,"global":true}` for a live message, with `pings`.
pub fn message_new(m: &Message, place: &Place) -> Value {
    // bots: poll messages and slash answers have the reference's own message_new forms.
    if let Some(v) = super::bots::message_new_form(m, place) {
        return v;
    }
    let mut msg = CACHE.message(m);
    let (users, roles) = frames::mentions(&m.content);
    let replies: Vec<String> = m
        .reply_to
        .as_ref()
        .filter(|_| frames::reply_pings(m))
        .and_then(|r| CACHE.author(r))
        .into_iter()
        .collect();
    if let Some(o) = msg.as_object_mut() {
        o.insert(
            "pings".into(),
            json!({"users": users, "roles": roles, "replies": replies}),
        );
    }
    json!({
        "cmd": "message_new",
        "message": msg,
        "channel": place.channel,
        "thread_id": place.thread_id,
        "global": true,
    })
}

fn with_thread(mut v: Value, thread: Option<String>) -> Value {
    if let (Some(t), Some(o)) = (thread, v.as_object_mut()) {
        o.insert("thread_id".into(), Value::String(t));
    }
    v
}

pub struct OriginChatsRenderer;

impl Renderer for OriginChatsRenderer {
    fn render(&self, event: &Event) -> Option<Utf8Bytes> {
        let frame = match event {
            Event::MessageCreated { message } => {
                let place = CACHE.place(&message.room_id)?;
                message_new(message, &place)
            }
            Event::ReactionToggled {
                action,
                emoji,
                user,
                message,
            } => {
                let place = CACHE.place(&message.room_id)?;
                let mut v = json!({
                    "cmd": match action {
                        ReactionAction::Added => "message_react_add",
                        ReactionAction::Removed => "message_react_remove",
                    },
                    "id": message.id.0,
                    "emoji": emoji,
                    "channel": place.channel,
                    "from": user.username,
                    "global": true,
                });
                if let (Some(t), Some(o)) = (place.thread_id, v.as_object_mut()) {
                    o.insert("thread_id".into(), Value::String(t));
                }
                v
            }
            Event::MessageEdited { message } => {
                let place = CACHE.place(&message.room_id)?;
                with_thread(
                    json!({
                        "cmd": "message_edit",
                        "id": message.id.0,
                        "content": message.content,
                        "message": CACHE.message(message),
                        "channel": place.channel,
                        "global": true,
                    }),
                    place.thread_id,
                )
            }
            Event::MessageDeleted { message } => {
                let place = CACHE.place(&message.room_id)?;
                with_thread(
                    json!({
                        "cmd": "message_delete",
                        "id": message.id.0,
                        "channel": place.channel,
                        "global": true,
                    }),
                    place.thread_id,
                )
            }
            Event::MessagePinned {
                message, pinned, ..
            } => {
                let place = CACHE.place(&message.room_id)?;
                json!({
                    "cmd": if *pinned { "message_pin" } else { "message_unpin" },
                    "id": message.id.0,
                    "channel": place.channel,
                    "pinned": pinned,
                    "global": true,
                })
            }
            // bots (polls)
            Event::PollVoted {
                state,
                voter,
                option_ids,
            } => super::bots::polls::vote_update(state, voter, option_ids),
            Event::PollEnded { state } => super::bots::polls::end_update(state),
            // threads (to the forum's followers) and voice
            Event::ThreadCreated { thread } => {
                CACHE.set_room(thread.room.id.clone(), super::threads::thread_place(thread));
                json!({"cmd": "thread_create", "thread": super::threads::thread_json(thread),
                    "channel": thread.parent.name, "global": true})
            }
            Event::ThreadUpdated { thread } => {
                json!({"cmd": "thread_update", "thread": super::threads::thread_json(thread),
                    "global": true})
            }
            Event::ThreadDeleted { thread } => {
                CACHE.forget_room(&thread.room.id);
                json!({"cmd": "thread_delete", "thread_id": thread.room.id.as_str(),
                    "channel": thread.parent.name, "global": true})
            }
            Event::ThreadJoined { thread, user } | Event::ThreadLeft { thread, user } => json!({
                "cmd": if matches!(event, Event::ThreadJoined { .. }) {
                    "thread_join"
                } else {
                    "thread_leave"
                },
                "thread": super::threads::thread_json(thread),
                "thread_id": thread.room.id.as_str(),
                "user": user.username,
                "global": true,
            }),
            // Typing from every dialect (OriginChats has no "stopped typing").
            Event::Typing {
                room_id,
                user,
                started: true,
                ..
            } => {
                let place = CACHE.place(room_id)?;
                json!({"cmd": "typing", "channel": place.channel, "user": user.username,
                    "thread_id": place.thread_id, "global": true})
            }
            Event::VoiceChanged {
                room_id,
                participant,
                change,
            } => super::voice::voice_event(&CACHE.place(room_id)?.channel, participant, *change),
            _ => return None,
        };
        Some(frames::encode(&frame))
    }
}
