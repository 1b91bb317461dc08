//! HTTP: one listener that upgrades WebSockets by path, optional extra listeners bound to one
//! dialect, and graceful shutdown.

// serving stored files
pub mod files;
pub mod listener;
// messaging dialect
pub mod messaging;
pub mod proxy;
// TLS listeners
pub mod tls;
pub mod ws;

use crate::config::Config;
use crate::core::events::Topic;
use crate::dialects::REACTIONS;
use crate::dialects::reactions::{Cx, Reactions, ReactionsSession};
use crate::hub::{Kick, Subscriber};
use axum::Router;
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use listener::{GuardedListener, Peer};
use proxy::TrustedProxies;
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub reactions: Arc<Reactions>,
    // originchats
    pub originchats: Arc<crate::dialects::originchats::OriginChats>,
    // messaging dialect
    pub messaging: Arc<crate::dialects::messaging::Messaging>,
    pub trusted: Arc<TrustedProxies>,
    pub shutdown: CancellationToken,
    pub tracker: TaskTracker,
    // Plexichat
    pub plexichat: Arc<crate::dialects::plexichat::Plexichat>,
}

/// The main router: every dialect by path.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/ws", get(reactions_ws))
        // originchats
        .route("/", get(crate::dialects::originchats::ws_route))
        // messaging dialect
        .route("/messaging/", get(messaging::messaging_ws))
        .route("/messaging", get(messaging::messaging_ws))
        // Plexichat: /api/v1, /health, /gateway
        .merge(crate::dialects::plexichat::routes(&state))
        .route("/healthz", get(|| async { "ok" }))
        .merge(crate::dialects::originchats::http::http_routes())
        // OriginChats' JSON 404 for other paths, OPTIONS 204 outside /api/v1
        .fallback(crate::dialects::originchats::files_http::not_found)
        .layer(axum::middleware::from_fn(
            crate::dialects::originchats::files_http::preflight,
        ))
        .with_state(state)
}

/// A router that serves one dialect on every path (extra listeners).
pub fn single_dialect_router(state: AppState, protocol: &str) -> Option<Router> {
    match protocol {
        "reactions" => Some(Router::new().fallback(get(reactions_ws)).with_state(state)),
        // originchats
        "originchats" => Some(
            Router::new()
                // the HTTP routes share the port, as in the reference
                .merge(crate::dialects::originchats::http::http_routes())
                .fallback(get(crate::dialects::originchats::ws_route))
                .layer(axum::middleware::from_fn(
                    crate::dialects::originchats::files_http::preflight,
                ))
                .with_state(state),
        ),
        // messaging dialect
        "messaging" => Some(
            Router::new()
                .fallback(get(messaging::messaging_ws))
                .with_state(state),
        ),
        _ => None,
    }
}

pub(crate) fn configure(ws: WebSocketUpgrade, config: &Config) -> WebSocketUpgrade {
    let c = &config.websocket;
    ws.read_buffer_size(c.read_buffer)
        .write_buffer_size(c.write_buffer)
        .max_write_buffer_size(c.write_buffer.max(c.max_message_size) * 16)
        .max_message_size(c.max_message_size)
        .max_frame_size(c.max_message_size)
}

async fn reactions_ws(
    State(st): State<AppState>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let ip = st.trusted.client_ip(
        peer.ip(),
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok()),
    );
    let user = match st.reactions.core.ip_user(&ip.to_string()).await {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(error = %e, "cannot identify reaction chat client");
            return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "unavailable").into_response();
        }
    };
    let tracker = st.tracker.clone();
    configure(ws, &st.config).on_upgrade(move |socket| {
        tracker.track_future(async move {
            let hub = st.reactions.core.hub().clone();
            let conn = hub.next_conn_id();
            let (tx, rx) = mpsc::channel(st.config.websocket.outbound_queue);
            let kick = Arc::new(Kick::default());
            // Subscribe before loading history, so nothing committed in between is missed.
            hub.subscribe(
                Topic::Room(st.reactions.room.clone()),
                conn,
                Subscriber {
                    dialect: REACTIONS,
                    tx,
                    kick: kick.clone(),
                },
            );
            st.reactions.core.presence.connect(&user.id);
            tracing::debug!(conn, %ip, "reaction chat connected");
            let session = ReactionsSession {
                dialect: st.reactions.clone(),
                cx: Cx { user },
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

/// Serves `router` over TLS on `listener` until `shutdown` is cancelled.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    permits: Arc<Semaphore>,
    router: Router,
    shutdown: CancellationToken,
    tls: Arc<rustls::ServerConfig>,
) -> std::io::Result<()> {
    let listener = tls::TlsListener::new(GuardedListener::new(listener, permits), tls)?;
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<Peer>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await
}

/// Serves `router` on `listener`, over TLS when `tls` is set, until `shutdown` is cancelled.
pub async fn serve_maybe_tls(
    listener: tokio::net::TcpListener,
    permits: Arc<Semaphore>,
    router: Router,
    shutdown: CancellationToken,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> std::io::Result<()> {
    match tls {
        Some(tls) => serve_tls(listener, permits, router, shutdown, tls).await,
        None => serve(listener, permits, router, shutdown).await,
    }
}

/// Serves `router` on `listener` until `shutdown` is cancelled.
pub async fn serve(
    listener: tokio::net::TcpListener,
    permits: Arc<Semaphore>,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let listener = GuardedListener::new(listener, permits);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<Peer>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await
}
