//! Plexichat: the REST core under `/api/v1` (`spec/plexichat-rest.yaml`) and the gateway at
//! `/gateway` (`spec/gateway.yaml`).
//!
//! - [`ids`]: core ids on the wire (decimal strings);
//! - [`db`]: the dialect's own tables (`0004_plexichat.sql`) and read queries the core does not
//!   offer yet;
//! - [`rest`]: the axum routes, errors, auth, rate limits;
//! - [`gateway`]: connections, sessions with their replay buffers, the renderer;
//! - [`wire`]: core objects as Plexichat JSON (messages, users).

pub mod db;
pub mod gateway;
pub mod ids;
pub mod perms;
pub mod presence;
pub mod rest;
pub mod state;
pub mod tokens;
pub mod totp;
pub mod wire;

use crate::config::PlexichatConfig;
use crate::core::Core;
use crate::net::AppState;
use axum::Router;
use std::sync::Arc;
use std::time::Instant;

/// Shared state of the dialect.
pub struct Plexichat {
    pub core: Arc<Core>,
    pub config: PlexichatConfig,
    pub db: db::Db,
    pub sessions: Arc<gateway::sessions::Sessions>,
    pub limiter: rest::ratelimit::Limiter,
    pub lockout: rest::auth::Lockout,
    pub challenges: rest::twofa::Challenges,
    pub started: Instant,
    /// Shown status and custom status of connected users, last-seen times.
    pub statuses: presence::Statuses,
    /// Settings, notifications, relationships (`0010_plexichat_user_state.sql`).
    pub state: state::StateDb,
    /// When each session token's last use was recorded.
    pub activity: rest::sessions::Activity,
}

impl Plexichat {
    pub fn new(
        core: Arc<Core>,
        config: PlexichatConfig,
        sqlite: Arc<crate::store::sqlite::SqliteStore>,
    ) -> Self {
        rest::media::configure(&config.media_signing_key); // files
        Self {
            core,
            state: state::StateDb::new(sqlite.clone()),
            statuses: presence::Statuses::default(),
            db: db::Db::new(sqlite),
            sessions: Arc::default(),
            limiter: rest::ratelimit::Limiter::default(),
            lockout: rest::auth::Lockout::default(),
            challenges: rest::twofa::Challenges::default(),
            started: Instant::now(),
            activity: rest::sessions::Activity::default(),
            config,
        }
    }
}

impl Plexichat {
    /// Follows every core event from now on: a message from any dialect that mentions
    /// Plexichat users (`<@id>`, `@username`) notifies them (call once, before serving).
    pub fn start_notifications(self: &Arc<Self>) {
        let mut tap = self.core.hub().tap(4096);
        let px = self.clone();
        tokio::spawn(async move {
            while let Some(ev) = tap.recv().await {
                if let crate::core::events::Event::MessageCreated { message } = ev {
                    rest::notifications::notify_mentions(&px, &message).await;
                }
            }
        });
    }
}

/// Every Plexichat route (`/api/v1/...`, `/health`, `/gateway`), to merge into the main router.
pub fn routes(state: &AppState) -> Router<AppState> {
    rest::routes(state).merge(gateway::routes())
}
