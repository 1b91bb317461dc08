//! The reaction chat (`/ws`): `spec/reactions.yaml`.
//!
//! Users are identified by client IP. On connect every message of the configured room is sent,
//! oldest first; then live `message` / `reaction_updated` frames follow.

use crate::core::Core;
use crate::core::CoreError;
use crate::core::events::{Event, Topic};
use crate::core::ids::{MessageId, RoomId};
use crate::core::messages::{Message, NewMessage, ReactionAction, UserRef};
use crate::core::ratelimit::RateLimiter;
use crate::core::users::User;
use crate::hub::{ConnId, Renderer};
use crate::net::ws::{Out, Reply, Session};
use axum::extract::ws::Utf8Bytes;
use chorus_protocol::reactions::{
    self as proto, AddReactionData, ChatMessage, ErrorData, Handler, ReactionUpdatedData,
    ReactionUpdatedDataAction, SendMessageData, ServerFrame,
};
use indexmap::IndexMap;
use std::sync::Arc;
use std::time::Duration;

pub const RATE_LIMITED: &str = "Rate limit exceeded. Maximum 60 messages per minute.";
pub const INVALID_FORMAT: &str = "Invalid message format";
pub const NOT_FOUND: &str = "Message not found";
/// Messages per history page sent on connect.
const HISTORY_PAGE: u32 = 500;

/// Shared state of the dialect.
pub struct Reactions {
    pub core: Arc<Core>,
    pub room: RoomId,
    limiter: RateLimiter,
}

impl Reactions {
    pub fn new(core: Arc<Core>, room: RoomId, rate_max: usize, window: Duration) -> Self {
        Self {
            core,
            room,
            limiter: RateLimiter::new(rate_max, window),
        }
    }
}

/// Per-connection context.
pub struct Cx {
    pub user: User,
}

impl Handler for Reactions {
    type Context = Cx;
    /// What this client alone gets (errors), now or once the write is durable; broadcasts go
    /// through the hub.
    type Output = Reply;

    async fn send_message(&self, cx: &mut Cx, req: SendMessageData) -> Reply {
        if !self.limiter.check(&cx.user.id) {
            return Reply::Now(encode(&error(RATE_LIMITED)));
        }
        let new = NewMessage {
            room_id: self.room.clone(),
            author: UserRef {
                id: cx.user.id.clone(),
                username: cx.user.username.clone(),
            },
            author_name: Some(req.author_name.unwrap_or_else(|| "Anonymous".into())),
            content: req.text,
            reply_to: None,
            forwarded_from: None,
            extra: None,
        };
        match self.core.submit_message(new).await {
            Ok(durable) => Reply::Later(Box::pin(async move {
                durable.await.err().map(|e| encode(&core_error(e)))
            })),
            Err(e) => Reply::Now(encode(&core_error(e))),
        }
    }

    async fn add_reaction(&self, cx: &mut Cx, req: AddReactionData) -> Reply {
        match self
            .core
            .toggle_reaction(&cx.user, &MessageId(req.message_id), &req.emoji)
            .await
        {
            Ok(_) => Reply::None,
            Err(e) => Reply::Now(encode(&core_error(e))),
        }
    }
}

fn error(msg: &str) -> ServerFrame {
    ServerFrame::Error(ErrorData {
        error: msg.to_owned(),
    })
}

fn core_error(e: CoreError) -> ServerFrame {
    match e {
        CoreError::NotFound("message") => error(NOT_FOUND),
        CoreError::NotFound(what) => error(&format!("{what} not found")),
        CoreError::Forbidden(_) | CoreError::Unauthorized => error("Permission denied"),
        CoreError::Invalid(m) | CoreError::Conflict(m) => error(&m),
        CoreError::Unavailable => error("Server is shutting down"),
        CoreError::Internal(m) => {
            tracing::error!(error = %m, "reaction chat: internal error");
            error("Internal server error")
        }
    }
}

/// The spec's `ChatMessage` for a core message.
pub fn chat_message(m: &Message) -> ChatMessage {
    let mut reactions = IndexMap::with_capacity(m.reactions.len());
    for g in &m.reactions {
        reactions.insert(
            g.emoji.clone(),
            g.users.iter().map(|u| u.username.clone()).collect(),
        );
    }
    ChatMessage {
        id: m.id.0.clone(),
        text: m.content.clone(),
        author_id: m.author.username.clone(),
        author_name: m
            .author_name
            .clone()
            .unwrap_or_else(|| m.author.username.clone()),
        created_at: m.created_at.div_euclid(1000),
        reactions,
    }
}

fn encode(frame: &ServerFrame) -> Utf8Bytes {
    // Serializing these plain structs cannot fail.
    Utf8Bytes::from(serde_json::to_string(frame).unwrap_or_default())
}

pub struct ReactionsRenderer;

impl Renderer for ReactionsRenderer {
    fn render(&self, event: &Event) -> Option<Utf8Bytes> {
        let frame = match event {
            Event::MessageCreated { message } => ServerFrame::Message(chat_message(message)),
            Event::ReactionToggled {
                action,
                emoji,
                user,
                message,
            } => ServerFrame::ReactionUpdated(ReactionUpdatedData {
                message_id: message.id.0.clone(),
                emoji: emoji.clone(),
                user_id: user.username.clone(),
                action: match action {
                    ReactionAction::Added => ReactionUpdatedDataAction::Added,
                    ReactionAction::Removed => ReactionUpdatedDataAction::Removed,
                },
                message: chat_message(message),
            }),
            // The reaction chat has no frames for edits, deletes, pins or rooms.
            _ => return None,
        };
        Some(encode(&frame))
    }
}

/// One reaction-chat connection.
pub struct ReactionsSession {
    pub dialect: Arc<Reactions>,
    pub cx: Cx,
    pub conn: ConnId,
}

impl Session for ReactionsSession {
    async fn open(&mut self, out: &mut Out<'_>) -> Result<i64, axum::Error> {
        let mut after = 0;
        loop {
            let page = match self
                .dialect
                .core
                .history(&self.cx.user.id, &self.dialect.room, after, HISTORY_PAGE)
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    out.send(encode(&core_error(e))).await?;
                    return Ok(after);
                }
            };
            let full = page.len() as u32 == HISTORY_PAGE;
            for m in &page {
                after = m.seq;
                out.send(encode(&ServerFrame::Message(chat_message(m))))
                    .await?;
            }
            if !full {
                return Ok(after);
            }
        }
    }

    async fn text(&mut self, text: &str) -> Reply {
        match proto::decode(text) {
            Ok(frame) => proto::dispatch(&*self.dialect, &mut self.cx, frame).await,
            Err(e) => Reply::Now(encode(&error(e.message()))),
        }
    }

    fn binary(&mut self) -> Reply {
        Reply::Now(encode(&error(INVALID_FORMAT)))
    }

    fn closed(&mut self) {
        self.dialect
            .core
            .hub()
            .unsubscribe(&Topic::Room(self.dialect.room.clone()), self.conn);
        self.dialect.core.presence.disconnect(&self.cx.user.id);
    }
}
