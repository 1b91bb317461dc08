//! django-realtime-chat-messaging (`/messaging/?token=`): `spec/messaging.yaml`.
//!
//! Rooms are the core's private rooms (OneToOneChat → Direct, GroupChat → Group, Channel →
//! Broadcast); messages go through the core so every dialect sees them. What the core does not
//! model (read receipts, delivery, notifications, object permissions, integer user ids) lives
//! in this dialect's tables (migration 0003).
//!
//! Fan-out: a dispatch to the "room group" is published on `Topic::Room`, one to a "user group"
//! on `Topic::User`; every live connection of a user subscribes to both (see `sessions`).

pub mod db;
pub mod errors;
mod guards;
mod messages;
pub mod render;
mod rooms;
pub mod sanitize;
pub mod sessions;
#[cfg(test)]
mod tests;
pub mod time;
pub mod users;

use crate::config::MessagingConfig;
use crate::core::Core;
use crate::core::events::{Event, Topic};
use crate::core::ids::RoomId;
use crate::core::users::User;
use crate::hub::ConnId;
use crate::net::ws::{Out, Reply, Session};
use crate::store::sqlite::SqliteStore;
use axum::extract::ws::Utf8Bytes;
use chorus_protocol::de::DecodeErrorKind;
use chorus_protocol::messaging::{
    self as proto, EmptyData, Handler, MessageIdsData, MessageModifyData, MessageReactData,
    MessageSendData, MessageTypingData, RoomCreateData, RoomIdData, RoomJoinData, RoomMembersData,
    RoomMessagesData, RoomModifyData, ServerFrame,
};
use errors::{Fail, Res};
use indexmap::IndexMap;
use render::shared;
use sessions::{Conn, Registry};
use std::sync::Arc;

pub use render::MessagingRenderer;

/// Shared state of the dialect.
pub struct Messaging {
    pub core: Arc<Core>,
    pub store: Arc<SqliteStore>,
    pub config: MessagingConfig,
    pub registry: Registry,
    jwt: Option<(jsonwebtoken::DecodingKey, String)>,
}

impl Messaging {
    pub async fn new(
        core: Arc<Core>,
        store: Arc<SqliteStore>,
        config: MessagingConfig,
    ) -> anyhow::Result<Self> {
        shared()
            .numbers
            .load(store.clone())
            .await
            .map_err(|e| anyhow::anyhow!("loading messaging user numbers: {e:?}"))?;
        let jwt = (!config.jwt_secret.is_empty()).then(|| {
            (
                jsonwebtoken::DecodingKey::from_secret(config.jwt_secret.as_bytes()),
                config.jwt_user_id_claim.clone(),
            )
        });
        Ok(Self {
            registry: Registry::new(core.hub().clone(), config.inactivity_threshold),
            core,
            store,
            config,
            jwt,
        })
    }

    /// The user `?token=` names, if any.
    pub async fn authenticate(&self, token: &str) -> Option<User> {
        let user =
            users::authenticate(&self.core, &shared().numbers, self.jwt.as_ref(), token).await?;
        // The user's protocol id is stored before the first frame shows it.
        if let Err(e) = shared().numbers.ensure(&user.id).await {
            tracing::error!(error = ?e, "messaging: cannot store a user number");
            return None;
        }
        Some(user)
    }

    /// Queues `frame` for every subscriber of `topic`, and waits until it is queued (so a
    /// reply sent afterwards follows it).
    pub async fn publish(&self, topic: Topic, frame: &ServerFrame) {
        let text = render::text(frame);
        let _ = self
            .core
            .hub()
            .publish_acked(Event::MessagingFrame { topic, text })
            .await;
    }

    pub async fn to_room(&self, room: &RoomId, frame: &ServerFrame) {
        self.publish(Topic::Room(room.clone()), frame).await
    }

    pub async fn to_user(&self, user: &crate::core::ids::UserId, frame: &ServerFrame) {
        self.publish(Topic::User(user.clone()), frame).await
    }

    /// `chat.notifications`: the user's pending notifications by room.
    pub async fn notifications(&self, user: &User) -> Res<ServerFrame> {
        let mut by_room: IndexMap<String, Vec<proto::ChatNotification>> = IndexMap::new();
        for (id, msg, room, kind) in db::pending(self.store.read_pool(), &user.id.0).await? {
            let Some(message) = self.message(&msg).await? else {
                continue;
            };
            let notification_type = match kind.as_str() {
                "REPLY" => proto::ChatNotificationNotificationType::Reply,
                "REACTION" => proto::ChatNotificationNotificationType::Reaction,
                _ => proto::ChatNotificationNotificationType::NewMessage,
            };
            by_room
                .entry(room)
                .or_default()
                .push(proto::ChatNotification {
                    id,
                    message,
                    notification_type,
                });
        }
        Ok(ServerFrame::ChatNotificationsEvent(
            proto::ChatNotificationsEventData(by_room),
        ))
    }
}

/// Per-connection context.
pub struct Cx {
    pub user: User,
    pub conn: Arc<Conn>,
    /// The raw `data` of the frame being handled, for the few checks the typed request
    /// cannot express (`{}` versus unknown keys in `message.modify`/`room.modify`).
    pub raw: serde_json::Value,
}

/// A reply on this socket only, ordered after every frame already queued for it.
fn direct(text: String) -> Reply {
    Reply::Later(Box::pin(std::future::ready(Some(Utf8Bytes::from(text)))))
}

fn envelope(f: Fail) -> Reply {
    direct(render::encode(&ServerFrame::ErrorEnvelope(
        proto::ErrorEnvelope {
            error: proto::ErrorEnvelopeError {
                code: f.code(),
                detail: f.detail(),
            },
        },
    )))
}

fn done(r: Res<()>) -> Reply {
    match r {
        Ok(()) => Reply::None,
        Err(f) => envelope(f),
    }
}

impl Handler for Messaging {
    type Context = Cx;
    type Output = Reply;

    async fn message_send(&self, cx: &mut Cx, req: MessageSendData) -> Reply {
        done(self.send(cx, req).await)
    }
    async fn message_acknowledged(&self, cx: &mut Cx, req: MessageIdsData) -> Reply {
        done(self.acknowledge(cx, req).await)
    }
    async fn message_read(&self, cx: &mut Cx, req: MessageIdsData) -> Reply {
        done(self.read(cx, req).await)
    }
    async fn message_react(&self, cx: &mut Cx, req: MessageReactData) -> Reply {
        done(self.react(cx, req).await)
    }
    async fn message_typing(&self, cx: &mut Cx, req: MessageTypingData) -> Reply {
        done(self.typing(cx, req).await)
    }
    async fn message_modify(&self, cx: &mut Cx, req: MessageModifyData) -> Reply {
        done(self.modify(cx, req).await)
    }
    async fn room_create(&self, cx: &mut Cx, req: RoomCreateData) -> Reply {
        done(self.create_room(cx, req).await)
    }
    async fn room_list(&self, cx: &mut Cx, _req: Option<EmptyData>) -> Reply {
        done(self.list_rooms(cx).await)
    }
    async fn room_info(&self, cx: &mut Cx, req: RoomIdData) -> Reply {
        done(self.room_info(cx, req).await)
    }
    async fn room_messages(&self, cx: &mut Cx, req: RoomMessagesData) -> Reply {
        done(self.room_messages(cx, req).await)
    }
    async fn room_join(&self, cx: &mut Cx, req: RoomJoinData) -> Reply {
        done(self.join(cx, req).await)
    }
    async fn room_leave(&self, cx: &mut Cx, req: RoomIdData) -> Reply {
        done(self.leave(cx, req).await)
    }
    async fn room_add_members(&self, cx: &mut Cx, req: RoomMembersData) -> Reply {
        done(self.add_members(cx, req).await)
    }
    async fn room_remove_members(&self, cx: &mut Cx, req: RoomMembersData) -> Reply {
        done(self.remove_members(cx, req).await)
    }
    async fn room_modify(&self, cx: &mut Cx, req: RoomModifyData) -> Reply {
        done(self.modify_room(cx, req).await)
    }
    async fn session_heartbeat(&self, cx: &mut Cx, _req: Option<EmptyData>) -> Reply {
        cx.conn.heartbeat();
        direct(render::encode(&ServerFrame::SessionHeartbeatReply(
            proto::SessionHeartbeatReply {},
        )))
    }
}

/// One messaging connection.
pub struct MessagingSession {
    pub dialect: Arc<Messaging>,
    pub cx: Cx,
    pub conn: ConnId,
}

impl Session for MessagingSession {
    async fn open(&mut self, out: &mut Out<'_>) -> Result<i64, axum::Error> {
        if self.dialect.config.enable_notification {
            let frame = match self.dialect.notifications(&self.cx.user).await {
                Ok(f) => render::encode(&f),
                Err(e) => {
                    tracing::error!(error = ?e, "messaging: cannot load notifications");
                    render::encode(&ServerFrame::ChatNotificationsEvent(
                        proto::ChatNotificationsEventData(IndexMap::new()),
                    ))
                }
            };
            out.send(Utf8Bytes::from(frame)).await?;
        }
        Ok(0)
    }

    async fn text(&mut self, text: &str) -> Reply {
        match proto::decode(text) {
            Ok(frame) => {
                self.cx.raw = match &frame {
                    proto::ClientFrame::MessageModify(_) | proto::ClientFrame::RoomModify(_) => {
                        serde_json::from_str::<serde_json::Value>(text)
                            .ok()
                            .and_then(|mut v| v.get_mut("data").map(serde_json::Value::take))
                            .unwrap_or_default()
                    }
                    _ => serde_json::Value::Null,
                };
                proto::dispatch(&*self.dialect, &mut self.cx, frame).await
            }
            Err(e) => match e.kind() {
                DecodeErrorKind::MissingTag | DecodeErrorKind::UnknownTag => direct(
                    render::encode(&ServerFrame::InvalidEventType(proto::InvalidEventType {})),
                ),
                _ => envelope(Fail::decode(&e, text)),
            },
        }
    }

    fn binary(&mut self) -> Reply {
        envelope(Fail::invalid("Invalid JSON."))
    }

    fn closed(&mut self) {
        self.dialect
            .registry
            .disconnect(&self.cx.user.id, self.conn);
        self.dialect.core.presence.disconnect(&self.cx.user.id);
    }
}
