//! OriginChats HTTP routes on the main listener (§1.9), with the reference's CORS headers.

use crate::net::AppState;
use crate::store::sqlite::SqliteStore;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use std::sync::{Arc, OnceLock};

/// The store, for the dialect's own tables and counts (set once by `app.rs`).
static STORE: OnceLock<Arc<SqliteStore>> = OnceLock::new();

pub fn set_store(store: Arc<SqliteStore>) {
    let _ = STORE.set(store);
}

pub fn store() -> Option<&'static Arc<SqliteStore>> {
    STORE.get()
}

/// The OriginChats HTTP routes, merged into the main router.
pub fn http_routes() -> Router<AppState> {
    Router::new()
        .route("/info", get(info).options(preflight))
        // files
        .merge(super::files_http::routes())
        .layer(axum::middleware::map_response(cors))
}

/// Adds the reference's CORS headers to every response of these routes.
async fn cors(mut res: Response) -> Response {
    let h = res.headers_mut();
    for (k, v) in [
        ("access-control-allow-origin", "*"),
        ("access-control-allow-methods", "GET, HEAD, OPTIONS, POST"),
        (
            "access-control-allow-headers",
            "Content-Type, Authorization, Range",
        ),
        (
            "access-control-expose-headers",
            "Content-Length, Content-Type, Cache-Control",
        ),
    ] {
        h.insert(k, HeaderValue::from_static(v));
    }
    res
}

async fn preflight() -> StatusCode {
    StatusCode::NO_CONTENT
}

fn json_error(status: StatusCode, msg: &str) -> Response {
    (status, axum::Json(json!({ "error": msg }))).into_response()
}

async fn total_users(space: &str) -> i64 {
    let Some(store) = store() else { return 0 };
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM members WHERE space_id = ? AND banned = 0")
        .bind(space)
        .fetch_one(store.read_pool())
        .await
        .unwrap_or(0)
}

/// `GET /info`: the server and its statistics.
async fn info(State(state): State<AppState>) -> Response {
    let oc = &state.originchats;
    oc.ensure_watching().await;
    let users = total_users(&oc.space.0).await;
    match oc.info_json(users).await {
        Ok(v) => {
            let mut res = axum::Json(v).into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            res
        }
        Err(e) => {
            tracing::warn!("originchats /info: {e}");
            json_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
        }
    }
}
