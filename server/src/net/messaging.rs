//! `/messaging/?token=`: the django-realtime-chat-messaging endpoint.
//!
//! An unknown or missing token is accepted and then closed at once with 4001 (what the
//! original's docs and tests promise; the original's close-before-accept becomes a handshake
//! rejection under real ASGI servers, which browsers only see as 1006).

use super::{AppState, configure, ws};
use crate::dialects::MESSAGING;
use crate::dialects::messaging::sessions::Conn;
use crate::dialects::messaging::{Cx, MessagingSession};
use crate::hub::{Kick, Subscriber};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use axum::extract::{Query, State, WebSocketUpgrade};
use axum::response::Response;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc;

pub const AUTH_FAILED: (u16, &str) = (4001, "Authentication failed");

pub async fn messaging_ws(
    State(st): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let token = query.get("token").map(String::as_str).unwrap_or("");
    let user = st.messaging.authenticate(token).await;
    let tracker = st.tracker.clone();
    configure(ws, &st.config).on_upgrade(move |mut socket| {
        tracker.track_future(async move {
            let Some(user) = user else {
                let _ = socket
                    .send(Message::Close(Some(CloseFrame {
                        code: AUTH_FAILED.0,
                        reason: Utf8Bytes::from_static(AUTH_FAILED.1),
                    })))
                    .await;
                return;
            };
            let dialect = st.messaging.clone();
            crate::dialects::messaging::render::shared().install(&dialect);
            let hub = dialect.core.hub().clone();
            let conn = hub.next_conn_id();
            let (tx, rx) = mpsc::channel(st.config.websocket.outbound_queue);
            let kick = Arc::new(Kick::default());
            let entry = Conn::new(
                conn,
                Subscriber {
                    dialect: MESSAGING,
                    tx,
                    kick: kick.clone(),
                },
            );
            let rooms = match dialect.core.user_private_rooms(&user.id).await {
                Ok(rooms) => rooms,
                Err(e) => {
                    tracing::error!(error = %e, "messaging: cannot list the user's rooms");
                    Vec::new()
                }
            };
            // Subscribe before loading notifications, so nothing committed in between is missed.
            dialect.registry.connect(
                &user.id,
                entry.clone(),
                rooms
                    .into_iter()
                    .map(|r| crate::core::events::Topic::Room(r.id))
                    .collect(),
            );
            dialect.core.presence.connect(&user.id);
            tracing::debug!(conn, user = %user.username, "messaging connected");
            let session = MessagingSession {
                dialect,
                cx: Cx {
                    user,
                    conn: entry,
                    raw: serde_json::Value::Null,
                },
                conn,
            };
            ws::run(
                socket,
                session,
                ws::Driver {
                    rx,
                    kick,
                    shutdown: st.shutdown.clone(),
                },
            )
            .await;
        })
    })
}
