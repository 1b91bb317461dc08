//! The OriginChats HTTP routes of §1.9 besides `/info`: `/index.html`, `/emojis/{file|id}`,
//! `/server-assets/{icon|banner}`, `GET /attachments/{id}`, `POST /attachments/upload`,
//! `POST /webhooks?token=` (also `/webhooks/{anything}`, with GitHub push events), the JSON 404
//! for other GETs and `OPTIONS` 204 on any path outside `/api/v1`. Every answer carries the
//! reference's CORS headers.
//!
//! Uploads authenticate like the reference (a fresh Rotur validator for the handshake's
//! `validator_key`) or, so that local (`cracked`) accounts can upload too, with a Chorus session
//! token: `Authorization: Bearer <token>`, or the token (`ready.validator`) as `validator`.

use super::OriginChats;
use super::attachments::{info, normalized_base};
use super::auth::RoturError;
use crate::config::Config;
use crate::core::CoreError;
use crate::core::attachments::{Lifetime, Upload, UploadError};
use crate::core::ids::UserId;
use crate::core::users::User;
use crate::core::webhooks::WebhookPost;
use crate::net::AppState;
use crate::net::files::{mime_for_name, serve_file};
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::{Map, Value, json};
use std::path::PathBuf;
use std::sync::OnceLock;
use tokio::sync::Semaphore;

const CORS: [(&str, &str); 4] = [
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
];

/// Adds the reference's CORS headers.
pub fn with_cors(mut res: Response) -> Response {
    for (k, v) in CORS {
        res.headers_mut().insert(k, HeaderValue::from_static(v));
    }
    res
}

/// Webhook post bodies are at most 10 MB (§2.16).
const WEBHOOK_BODY_MAX: usize = 10 * 1024 * 1024;
/// Upload bodies are base64 in JSON and held in memory while decoded: few at a time.
static UPLOADS_IN_FLIGHT: Semaphore = Semaphore::const_new(4);

/// The local server icon and banner (`originchats.server_icon`/`server_banner` naming a file in
/// `<data_dir>/server-assets/`), and the URLs the handshake shows for them.
#[derive(Default)]
struct Assets {
    /// (file, public URL, the configured value that names the file)
    icon: Option<(PathBuf, String, String)>,
    banner: Option<(PathBuf, String, String)>,
}

static ASSETS: OnceLock<Assets> = OnceLock::new();
static DATA_DIR: OnceLock<PathBuf> = OnceLock::new();

/// Finds the local server assets and the public base (call once the main listener is bound).
pub fn configure(config: &Config, listen: std::net::SocketAddr) {
    let oc = &config.originchats;
    let _ = DATA_DIR.set(config.storage.data_dir.clone());
    super::attachments::set_public_base(&oc.server_url);
    let tls = !config.server.tls_cert.is_empty();
    let base = normalized_base(&oc.server_url)
        .unwrap_or_else(|| format!("http{}://{listen}", if tls { "s" } else { "" }));
    let dir = config.storage.data_dir.join("server-assets");
    let find = |value: &str, name: &str| {
        if value.is_empty() || value.contains("://") {
            return None;
        }
        let file = std::path::Path::new(value).file_name()?;
        let path = dir.join(file);
        if path.is_file() {
            Some((
                path,
                format!("{base}/server-assets/{name}"),
                value.to_owned(),
            ))
        } else {
            tracing::warn!(file = %path.display(), "originchats: server {name} file is missing");
            None
        }
    };
    let _ = ASSETS.set(Assets {
        icon: find(&oc.server_icon, "icon"),
        banner: find(&oc.server_banner, "banner"),
    });
}

/// The handshake's (and `/info`'s) icon or banner: the public URL of the local file when
/// `value` is the configured file name, else `value` itself (e.g. a URL set by
/// `server_update`).
pub fn asset_url<'a>(name: &str, value: &'a str) -> std::borrow::Cow<'a, str> {
    let assets = ASSETS.get();
    let local = match name {
        "icon" => assets.and_then(|a| a.icon.as_ref()),
        _ => assets.and_then(|a| a.banner.as_ref()),
    };
    match local {
        Some((_, url, configured)) if configured == value => url.clone().into(),
        _ => value.into(),
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/index.html", get(index))
        .route("/emojis/{param}", get(emoji))
        .route("/server-assets/{name}", get(server_asset))
        .route(
            "/attachments/upload",
            post(upload).get(|st: State<AppState>, h: HeaderMap| async move {
                attachment_file(st, Path("upload".to_owned()), h).await
            }),
        )
        .route("/attachments/{attachment_id}", get(attachment_file))
        .route("/webhooks", post(webhook_post).get(not_found))
        .route("/webhooks/{*rest}", post(webhook_post).get(not_found))
}

fn json_error(status: StatusCode, msg: &str) -> Response {
    (status, axum::Json(json!({ "error": msg }))).into_response()
}

fn text(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Every other path: GET/HEAD → 404 `{"error":"Not found"}`, OPTIONS → 204, else 405.
pub async fn not_found(method: Method) -> Response {
    with_cors(match method {
        Method::GET | Method::HEAD => json_error(StatusCode::NOT_FOUND, "Not found"),
        Method::OPTIONS => StatusCode::NO_CONTENT.into_response(),
        _ => (
            StatusCode::METHOD_NOT_ALLOWED,
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::ALLOW, "GET,HEAD"),
            ],
            "405: Method Not Allowed",
        )
            .into_response(),
    })
}

/// `OPTIONS` on any path (but Plexichat's `/api/v1`, which has its own rules) → 204 with CORS.
pub async fn preflight(req: Request, next: Next) -> Response {
    if req.method() == Method::OPTIONS && !req.uri().path().starts_with("/api/v1") {
        return with_cors(StatusCode::NO_CONTENT.into_response());
    }
    next.run(req).await
}

const INDEX_HTML: &str = "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>OriginChats server</title></head>\n<body>\n<h1>This is an OriginChats server</h1>\n<p>Connect to it with an OriginChats client.</p>\n</body>\n</html>\n";

async fn index() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        INDEX_HTML,
    )
        .into_response()
}

const CACHE_HOUR: &str = "public, max-age=3600";

async fn emoji(State(st): State<AppState>, Path(param): Path<String>, h: HeaderMap) -> Response {
    let oc = &st.originchats;
    let param = param.trim().to_owned();
    let allowed = &oc.core.files().config.emoji_allowed_file_types;
    // A file name (a bare name with an allowed extension), then an id.
    let is_file_name = !param.is_empty()
        && !param.starts_with('.')
        && !param.contains(['/', '\\'])
        && param
            .rsplit_once('.')
            .is_some_and(|(_, ext)| allowed.iter().any(|a| a.eq_ignore_ascii_case(ext)));
    let mut found = None;
    if let Ok(list) = oc.core.emojis(&oc.space).await {
        if is_file_name {
            found = list.iter().find(|e| e.file_name == param).cloned();
        }
        if found.is_none() {
            found = list.into_iter().find(|e| e.id.to_string() == param);
        }
    }
    let Some(e) = found else {
        return text(StatusCode::NOT_FOUND, "Emoji not found");
    };
    let path = oc.core.emoji_path(&e);
    match serve_file(
        &path,
        mime_for_name(&e.file_name),
        &h,
        &[(header::CACHE_CONTROL, CACHE_HOUR.into())],
    )
    .await
    {
        Ok(r) => r,
        Err(_) => text(StatusCode::NOT_FOUND, "Emoji not found"),
    }
}

async fn server_asset(Path(name): Path<String>, h: HeaderMap) -> Response {
    let name = name.trim_matches('/');
    let assets = ASSETS.get();
    let path = match name {
        "icon" => assets.and_then(|a| a.icon.as_ref()),
        "banner" => assets.and_then(|a| a.banner.as_ref()),
        _ => None,
    };
    let Some((path, _, _)) = path else {
        return text(StatusCode::NOT_FOUND, "Server asset not found");
    };
    let mime = mime_for_name(&path.to_string_lossy());
    match serve_file(
        path,
        mime,
        &h,
        &[(header::CACHE_CONTROL, CACHE_HOUR.into())],
    )
    .await
    {
        Ok(r) => r,
        Err(_) => text(StatusCode::NOT_FOUND, "Server asset not found"),
    }
}

async fn attachment_file(
    State(st): State<AppState>,
    Path(id): Path<String>,
    h: HeaderMap,
) -> Response {
    let id = id.trim();
    if id.is_empty() {
        return json_error(StatusCode::BAD_REQUEST, "Attachment ID required");
    }
    let core = &st.originchats.core;
    if !core.files().config.enabled {
        return json_error(StatusCode::SERVICE_UNAVAILABLE, "Attachments are disabled");
    }
    let a = match core.attachment(id).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            return json_error(StatusCode::NOT_FOUND, "Attachment not found or expired");
        }
        Err(e) => {
            tracing::error!(error = %e, "originchats: attachment lookup failed");
            return json_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
        }
    };
    let path = core.files().attachment_path(&a);
    match serve_file(
        &path,
        &a.mime_type,
        &h,
        &[(header::CACHE_CONTROL, CACHE_HOUR.into())],
    )
    .await
    {
        Ok(r) => r,
        Err(_) => json_error(StatusCode::NOT_FOUND, "Attachment file not found"),
    }
}

fn is_json(h: &HeaderMap) -> bool {
    h.get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Reads at most `max` bytes of body; Err(true) when it is longer, Err(false) on a read error.
async fn read_body(body: Body, max: usize) -> Result<Bytes, bool> {
    axum::body::to_bytes(body, max).await.map_err(|e| {
        let mut src: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = src {
            if s.is::<http_body_util::LengthLimitError>() {
                return true;
            }
            src = s.source();
        }
        false
    })
}

fn str_field<'a>(v: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

impl OriginChats {
    /// Who an upload is from: a Chorus session token, else a Rotur validator (§1.9).
    async fn upload_user(
        &self,
        headers: &HeaderMap,
        data: &Map<String, Value>,
    ) -> Result<User, Response> {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if let Some(token) = bearer {
            return self
                .core
                .authenticate(token)
                .await
                .map_err(|_| json_error(StatusCode::UNAUTHORIZED, "Invalid credentials"));
        }
        let key = str_field(data, "validator_key");
        let validator = str_field(data, "validator");
        if let Some(v) = validator
            && let Ok(user) = self.core.authenticate(v).await
        {
            return Ok(user);
        }
        let (Some(key), Some(validator)) = (key, validator) else {
            return Err(json_error(
                StatusCode::UNAUTHORIZED,
                "validator_key and validator are required for authentication",
            ));
        };
        if self.cfg.auth_mode == "cracked-only" {
            return Err(json_error(StatusCode::UNAUTHORIZED, "Invalid credentials"));
        }
        let ident = match self.rotur_validate(key, validator).await {
            Ok(i) => i,
            Err(RoturError::Unreachable) => {
                return Err(json_error(
                    StatusCode::BAD_GATEWAY,
                    "Failed to validate credentials",
                ));
            }
            Err(RoturError::Invalid) => {
                return Err(json_error(StatusCode::UNAUTHORIZED, "Invalid credentials"));
            }
        };
        match self
            .core
            .store()
            .user(UserId(format!("rotur:{}", ident.id)))
            .await
        {
            Ok(Some(u)) => Ok(u),
            _ => Err(json_error(StatusCode::UNAUTHORIZED, "User not found")),
        }
    }
}

/// `POST /attachments/upload` (§1.9, docs/commands/attachment_upload.md).
async fn upload(State(st): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let oc = &st.originchats;
    if !is_json(&headers) {
        return json_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        );
    }
    let cfg = &oc.core.files().config;
    if !cfg.enabled {
        return json_error(StatusCode::SERVICE_UNAVAILABLE, "Attachments are disabled");
    }
    let _slot = UPLOADS_IN_FLIGHT.acquire().await;
    // The file travels as base64 inside JSON: allow for that, so a file of max_size fits.
    let max_body = (cfg.max_size as usize / 3 * 4).saturating_add(64 * 1024);
    let raw = match read_body(body, max_body).await {
        Ok(b) => b,
        Err(true) => {
            return json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("Request body too large (max {} bytes)", cfg.max_size),
            );
        }
        Err(false) => return json_error(StatusCode::BAD_REQUEST, "Failed to read request body"),
    };
    let data = match serde_json::from_slice::<Value>(&raw) {
        Ok(Value::Object(m)) => m,
        _ => return json_error(StatusCode::BAD_REQUEST, "Invalid JSON body"),
    };
    drop(raw);
    let user = match oc.upload_user(&headers, &data).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let (Some(file), Some(name), Some(mime), Some(channel)) = (
        str_field(&data, "file"),
        str_field(&data, "name"),
        str_field(&data, "mime_type"),
        str_field(&data, "channel"),
    ) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "Missing required fields: file, name, mime_type, channel",
        );
    };
    let account = match oc.account(user.clone()).await {
        Ok(a) => a,
        Err(_) => return json_error(StatusCode::UNAUTHORIZED, "User not found"),
    };
    let channel = match oc.all_channels(&account).await {
        Ok(list) => list.into_iter().find(|c| c.room.name == channel),
        Err(e) => {
            tracing::error!(error = %e, "originchats: channel lookup failed");
            return json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Failed to save attachment",
            );
        }
    };
    let Some(channel) = channel else {
        return json_error(StatusCode::NOT_FOUND, "Channel does not exist");
    };
    if !channel.allows(&account, "send") {
        return json_error(
            StatusCode::FORBIDDEN,
            "You don't have permission to send in this channel",
        );
    }
    let expires_in_days = data.get("expires_in_days").and_then(Value::as_f64);
    let permanent = oc.core.has_permanent_uploads(&user).await;
    // `data:<type>;base64,<data>` or bare base64, as the reference decodes it.
    let b64 = match file.strip_prefix("data:") {
        Some(rest) => rest.split_once(',').map_or("", |(_, d)| d),
        None => file,
    };
    let bytes = {
        use base64::Engine as _;
        let engine = base64::engine::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::GeneralPurposeConfig::new()
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
        );
        match engine.decode(b64.trim()) {
            Ok(b) => Bytes::from(b),
            Err(_) => {
                return json_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Failed to save attachment",
                );
            }
        }
    };
    let up = Upload {
        uploader: user.id.clone(),
        room: Some(channel.room.id.clone()),
        original_name: name.to_owned(),
        mime_type: mime.to_owned(),
        lifetime: Lifetime::Tiered {
            permanent,
            expires_in_days,
        },
        max_size: None,
        check_allowed_types: true,
        recode_images: true,
    };
    let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) });
    match oc.core.upload_attachment(up, body).await {
        Ok(a) => (
            StatusCode::CREATED,
            axum::Json(json!({"attachment": info(&a), "permanent": permanent})),
        )
            .into_response(),
        Err(e) => {
            if !matches!(
                e,
                UploadError::TypeNotAllowed(_)
                    | UploadError::TooLarge { .. }
                    | UploadError::NoUploads
            ) {
                tracing::error!(error = %e, "originchats: upload failed");
            }
            json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Failed to save attachment",
            )
        }
    }
}

/// `POST /webhooks?token=` (§2.16).
async fn webhook_post(
    State(st): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let oc = &st.originchats;
    let token = q.as_deref().and_then(|q| {
        url_query(q)
            .into_iter()
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v)
    });
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return json_error(StatusCode::UNAUTHORIZED, "Webhook token required");
    };
    if !is_json(&headers) {
        return json_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        );
    }
    let raw = match read_body(body, WEBHOOK_BODY_MAX).await {
        Ok(b) => b,
        Err(true) => {
            return json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request body too large (max 10MB)",
            );
        }
        Err(false) => return json_error(StatusCode::BAD_REQUEST, "Failed to read request body"),
    };
    let webhook = match oc.core.webhook_by_token(&token).await {
        Ok(Some(w)) => w,
        Ok(None) => return json_error(StatusCode::UNAUTHORIZED, "Invalid webhook token"),
        Err(e) => {
            tracing::error!(error = %e, "originchats: webhook lookup failed");
            return json_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
        }
    };
    let data = match serde_json::from_slice::<Value>(&raw) {
        Ok(Value::Object(m)) => m,
        _ => return json_error(StatusCode::BAD_REQUEST, "Invalid JSON body"),
    };
    let room = oc
        .core
        .store()
        .room(webhook.room_id.clone())
        .await
        .ok()
        .flatten();
    if room.is_none() {
        return json_error(StatusCode::NOT_FOUND, "Channel not found");
    }
    let github = headers
        .get("x-github-event")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let post = if !github.is_empty() && data.contains_key("repository") && data.contains_key("ref")
    {
        if github != "push" {
            return json_error(
                StatusCode::BAD_REQUEST,
                &format!("Unhandled event type: {github}"),
            );
        }
        WebhookPost {
            content: String::new(),
            embeds: Some(json!([github_push_embed(&data)])),
            shown_as: Some((
                "github".into(),
                "GitHub".into(),
                Some(
                    "https://github.githubassets.com/images/modules/logos_page/GitHub-Mark.png"
                        .into(),
                ),
            )),
            ..WebhookPost::default()
        }
    } else {
        let embeds = data
            .get("embeds")
            .filter(|e| e.as_array().is_some_and(|a| !a.is_empty()))
            .cloned();
        let mut content = str_field(&data, "content")
            .or_else(|| str_field(&data, "text"))
            .unwrap_or("")
            .to_owned();
        if content.is_empty() && embeds.is_none() {
            content = str_field(&data, "message").unwrap_or("").to_owned();
        }
        if content.is_empty() && embeds.is_none() {
            return json_error(StatusCode::BAD_REQUEST, "No content provided");
        }
        WebhookPost {
            content,
            username: str_field(&data, "username").map(str::to_owned),
            avatar_url: str_field(&data, "avatar_url").map(str::to_owned),
            embeds,
            shown_as: None,
        }
    };
    let sent = match oc.core.post_webhook(&webhook, post).await {
        Ok(durable) => durable.await,
        Err(e) => Err(e),
    };
    match sent {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(CoreError::Invalid(m)) => json_error(StatusCode::BAD_REQUEST, &m),
        Err(CoreError::NotFound(_)) => json_error(StatusCode::NOT_FOUND, "Channel not found"),
        Err(e) => {
            tracing::error!(error = %e, "originchats: webhook post failed");
            json_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
        }
    }
}

/// The embed of a GitHub `push` event.
fn github_push_embed(p: &Map<String, Value>) -> Value {
    let s = |v: Option<&Value>, k: &str| {
        v.and_then(|v| v.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let git_ref = p.get("ref").and_then(Value::as_str).unwrap_or("");
    let branch = git_ref.strip_prefix("refs/heads/").unwrap_or(git_ref);
    let repo = p.get("repository");
    let full_name = Some(s(repo, "full_name"))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "unknown".into());
    let repo_url = s(repo, "html_url");
    let sender = p.get("sender");
    let pusher = Some(s(sender, "login"))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "unknown".into());
    let commits = p
        .get("commits")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let flag = |k: &str| p.get(k).and_then(Value::as_bool).unwrap_or(false);
    let title = if flag("deleted") {
        format!("{branch} deleted")
    } else if flag("created") {
        format!("{branch} created")
    } else if flag("forced") {
        format!("{branch} force-pushed")
    } else {
        let n = commits.len();
        format!("{branch}: {n} commit{}", if n == 1 { "" } else { "s" })
    };
    let compare = p.get("compare").and_then(Value::as_str).unwrap_or("");
    let mut embed = json!({
        "title": title,
        "url": if compare.is_empty() { repo_url.clone() } else { compare.to_owned() },
        "color": 0x24292e,
        "author": {
            "name": format!("{pusher} - {full_name}"),
            "url": repo_url,
            "icon_url": s(sender, "avatar_url"),
        },
        "timestamp": httpdate_iso(std::time::SystemTime::now()),
    });
    if !commits.is_empty() {
        let lines: Vec<String> = commits
            .iter()
            .map(|c| {
                let id: String = s(Some(c), "id").chars().take(7).collect();
                let msg = s(Some(c), "message");
                let first = msg.split('\n').next().unwrap_or("");
                format!("[`{id}`]({}) {first}", s(Some(c), "url"))
            })
            .collect();
        if let Some(o) = embed.as_object_mut() {
            o.insert("description".into(), json!(lines.join("\n")));
        }
    }
    embed
}

/// `%Y-%m-%dT%H:%M:%SZ` in UTC.
fn httpdate_iso(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `a=b&c=d` with percent-decoding and `+` as space.
fn url_query(q: &str) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'%' if i + 2 < b.len() => {
                    match u8::from_str_radix(
                        std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or(""),
                        16,
                    ) {
                        Ok(v) => {
                            out.push(v);
                            i += 3;
                        }
                        Err(_) => {
                            out.push(b'%');
                            i += 1;
                        }
                    }
                }
                b'+' => {
                    out.push(b' ');
                    i += 1;
                }
                c => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    q.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(kv), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_773_182_676);
        assert_eq!(httpdate_iso(t), "2026-03-10T22:44:36Z");
        assert_eq!(httpdate_iso(std::time::UNIX_EPOCH), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn queries() {
        assert_eq!(
            url_query("token=a%2Bb&x=1+2&y"),
            vec![
                ("token".into(), "a+b".into()),
                ("x".into(), "1 2".into()),
                ("y".into(), String::new())
            ]
        );
        assert_eq!(url_query("t=%zz%4"), vec![("t".into(), "%zz%4".into())]);
    }

    #[test]
    fn push_embeds() {
        let p = json!({"ref": "refs/heads/main", "repository": {"full_name": "o/r", "html_url": "https://github.com/o/r"},
            "sender": {"login": "alice", "avatar_url": "https://a/x.png"}, "compare": "https://github.com/o/r/compare/a...b",
            "commits": [{"id": "0123456789", "message": "Fix it\n\nlong", "url": "https://github.com/o/r/commit/0123456789"}]});
        let e = github_push_embed(p.as_object().unwrap());
        assert_eq!(e["title"], "main: 1 commit");
        assert_eq!(e["author"]["name"], "alice - o/r");
        assert_eq!(e["url"], "https://github.com/o/r/compare/a...b");
        assert_eq!(
            e["description"],
            "[`0123456`](https://github.com/o/r/commit/0123456789) Fix it"
        );
        assert_eq!(e["color"], 0x24292e);
    }
}
