//! The gateway at `/gateway` (`spec/gateway.yaml`).

pub mod compress;
pub mod conn;
pub mod members;
pub mod render;
pub mod sessions;
pub mod voice;

use crate::net::AppState;
use axum::Router;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new().route("/gateway", get(upgrade))
}

async fn upgrade(State(st): State<AppState>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let c = &st.config.websocket;
    // Frames up to 4x the limit reach the session, which closes oversized ones with 4002.
    let ws = ws
        .read_buffer_size(c.read_buffer)
        .write_buffer_size(c.write_buffer)
        .max_write_buffer_size(c.write_buffer.max(c.max_message_size) * 16)
        .max_message_size(c.max_message_size * 4)
        .max_frame_size(c.max_message_size * 4);
    let tracker = st.tracker.clone();
    ws.on_upgrade(move |socket| {
        tracker.track_future(async move {
            conn::Connection::new(st, socket, host).run().await;
        })
    })
}
