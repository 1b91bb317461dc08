//! Uploads and media (§2.11) over the core's attachments: `POST /channels/{id}/attachments`
//! (multipart field `file`, streamed to disk), attachments on messages, and
//! `GET /api/v1/media/attachments/{filename}` (a signed URL, or `Bearer`/`plexichat_token`
//! cookie with an access check; `ETag`/`If-None-Match`, `Range`, `?download=1`).
//!
//! A Plexichat file name is `<attachment id as a snowflake>.<ext>`; URLs carry the reference's
//! signature (`fid`, `exp`, `sig` = URL-safe base64 of HMAC-SHA256 over `path|fid|exp`, valid
//! 3600 s).

use super::messages::room_id;
use super::{ApiError, Authed, bearer, ok, px};
use crate::core::attachments::{self as core_files, Attachment, Lifetime, Upload, UploadError};
use crate::core::permissions::Permissions;
use crate::core::users::User;
use crate::dialects::plexichat::ids::{self, wire};
use crate::net::AppState;
use crate::net::files::serve_file;
use axum::extract::multipart::Field;
use axum::extract::{Multipart, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chorus_protocol::gateway as gw;
use chorus_protocol::plexichat_rest as rest;
use futures_util::StreamExt;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use std::sync::OnceLock;

const MIB: u64 = 1024 * 1024;
/// Signed URLs stay valid this long.
const SIGNATURE_MS: i64 = 3_600_000;
/// At most this many attachments on one message (`messaging.max_attachments_per_message`).
pub const MAX_PER_MESSAGE: usize = 10;

static SIGNING_KEY: OnceLock<Vec<u8>> = OnceLock::new();

/// Sets the URL signing key (`plexichat.media_signing_key`; empty: a random key per start).
pub fn configure(key: &str) {
    let key = if key.is_empty() {
        let mut k = Vec::with_capacity(32);
        k.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        k.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        k
    } else {
        key.as_bytes().to_vec()
    };
    let _ = SIGNING_KEY.set(key);
}

fn key() -> &'static [u8] {
    SIGNING_KEY.get_or_init(|| {
        let mut k = Vec::with_capacity(32);
        k.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        k.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        k
    })
}

fn signature(path: &str, fid: &str, exp: i64) -> String {
    use base64::Engine as _;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key()).expect("any key length");
    mac.update(format!("{path}|{fid}|{exp}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// `<snowflake>.<ext>` of an attachment.
pub fn file_name(core_id: &str, mime: &str) -> String {
    format!("{}.{}", wire(core_id), core_files::extension_for(mime))
}

/// `/api/v1/media/attachments/<file name>?fid=&exp=&sig=`, valid for an hour.
pub fn signed_url(core_id: &str, mime: &str) -> String {
    let path = format!("/api/v1/media/attachments/{}", file_name(core_id, mime));
    let fid = wire(core_id);
    let exp = crate::core::ids::now_ms() + SIGNATURE_MS;
    let sig = signature(&path, &fid, exp);
    format!("{path}?fid={fid}&exp={exp}&sig={sig}")
}

/// A message attachment (`extra.attachments[i]`) as Plexichat shows it.
pub fn message_attachment(a: &Value) -> gw::Attachment {
    let id = a.get("id").and_then(Value::as_str).unwrap_or("");
    let mime = a
        .get("mime_type")
        .and_then(Value::as_str)
        .unwrap_or("application/octet-stream");
    gw::Attachment {
        id: wire(id),
        filename: a
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("attachment")
            .to_owned(),
        content_type: mime.to_owned(),
        size: a.get("size").and_then(Value::as_i64).unwrap_or(0),
        url: signed_url(id, mime),
        hash: a.get("sha256").and_then(Value::as_str).map(str::to_owned),
    }
}

/// The uploads a new message carries, by the `url` of each descriptor (the file name in it
/// names the upload): each must be the sender's own live upload.
pub async fn message_attachments(
    core: &crate::core::Core,
    user: &User,
    list: &[rest::Attachment],
) -> Result<Vec<Attachment>, ApiError> {
    if list.len() > MAX_PER_MESSAGE {
        return Err(ApiError::bad_request(format!(
            "Too many attachments (max {MAX_PER_MESSAGE})"
        )));
    }
    let mut ids_ = Vec::with_capacity(list.len());
    for a in list {
        let path = a.url.split(['?', '#']).next().unwrap_or("");
        let name = path.rsplit('/').next().unwrap_or("");
        let stem = name.split('.').next().unwrap_or("");
        let id = ids::core(stem).ok_or_else(|| ApiError::bad_request("Attachment not found"))?;
        ids_.push(id);
    }
    match core.attachments_for_message(&user.id, &ids_).await {
        Ok(v) => Ok(v),
        Err(core_files::AttachError::NotOwner(_)) => {
            Err(ApiError::forbidden("You can only attach your own uploads"))
        }
        Err(core_files::AttachError::Disabled) => {
            Err(ApiError::bad_request("Attachments are disabled"))
        }
        Err(core_files::AttachError::NotFound(_)) => {
            Err(ApiError::bad_request("Attachment not found"))
        }
        Err(core_files::AttachError::Core(e)) => Err(ApiError::core(e, "Attachment")),
    }
}

/// Per-type size caps and allowed types of the reference (`_config.py`).
fn media_kind(ct: &str) -> &'static str {
    let ct = ct.to_ascii_lowercase();
    if ct.starts_with("image/") {
        "image"
    } else if ct.starts_with("video/") {
        "video"
    } else if ct.starts_with("audio/") {
        "audio"
    } else if matches!(
        ct.as_str(),
        "application/pdf" | "text/plain" | "application/msword"
    ) {
        "document"
    } else {
        "other"
    }
}

fn size_cap(kind: &str) -> u64 {
    match kind {
        "video" => 100 * MIB,
        "audio" => 50 * MIB,
        "document" => 25 * MIB,
        _ => 10 * MIB,
    }
}

fn allowed(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "image" => &["image/jpeg", "image/png", "image/gif", "image/webp"],
        "video" => &["video/mp4", "video/webm", "video/quicktime"],
        "audio" => &["audio/mpeg", "audio/ogg", "audio/wav", "audio/webm"],
        "document" => &["application/pdf", "text/plain", "application/zip"],
        _ => return None,
    })
}

const BLOCKED_MIME: &[&str] = &[
    "application/x-msdownload",
    "application/x-executable",
    "application/x-sh",
    "application/x-bat",
    "application/javascript",
    "text/javascript",
    "text/html",
    "application/x-httpd-php",
];

const BLOCKED_EXT: &[&str] = &[
    ".exe", ".bat", ".cmd", ".com", ".scr", ".pif", ".msi", ".dll", ".vbs", ".js", ".jar", ".sh",
    ".ps1", ".php", ".app",
];

/// The magic bytes the declared type must start with (none listed: anything goes).
pub(super) fn magic_ok(ct: &str, head: &[u8]) -> bool {
    let sigs: &[&[u8]] = match ct {
        "image/jpeg" => &[b"\xff\xd8\xff"],
        "image/png" => &[b"\x89PNG\r\n\x1a\n"],
        "image/gif" => &[b"GIF87a", b"GIF89a"],
        "image/webp" | "audio/wav" => &[b"RIFF"],
        "image/bmp" => &[b"BM"],
        "video/webm" | "audio/webm" => &[b"\x1a\x45\xdf\xa3"],
        "audio/mpeg" => &[b"\xff\xfb", b"\xff\xfa", b"\xff\xf3", b"\xff\xf2", b"ID3"],
        "audio/ogg" => &[b"OggS"],
        "application/pdf" => &[b"%PDF"],
        "application/zip" => &[b"PK\x03\x04", b"PK\x05\x06"],
        "video/mp4" | "video/quicktime" => {
            return head.len() >= 12 && head[..12].windows(4).any(|w| w == b"ftyp");
        }
        _ => return true,
    };
    sigs.iter().any(|s| head.starts_with(s))
}

/// The type a generic declaration really is, from the magic bytes.
pub(super) fn detect(head: &[u8], fallback: &str) -> String {
    for (sig, mime) in [
        (&b"\xff\xd8\xff"[..], "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"RIFF", "image/webp"),
        (b"%PDF", "application/pdf"),
    ] {
        if head.starts_with(sig) {
            return mime.to_owned();
        }
    }
    fallback.to_owned()
}

/// The reference's `_sanitize_filename`.
fn sanitize(name: &str) -> String {
    let name = name.replace('\\', "/");
    let base = name.rsplit('/').next().unwrap_or("").replace("..", "");
    let mut clean: String = base
        .chars()
        .filter(|c| *c as u32 >= 32 && *c != '\x7f')
        .collect();
    if clean.chars().count() > 250 {
        clean = clean.chars().take(250).collect();
    }
    if clean.trim().is_empty() || clean.trim() == "." {
        clean = format!("unnamed_file_{}", crate::core::ids::now_ms() / 1000);
    }
    clean
}

fn upload_json(a: &Attachment) -> Value {
    json!({
        "id": wire(&a.id),
        "filename": a.original_name,
        "size": a.size,
        "content_type": a.mime_type,
        "url": format!("/api/v1/media/attachments/{}", file_name(&a.id, &a.mime_type)),
        "hash": a.sha256,
        "thumbnails": null,
    })
}

/// `POST /channels/{id}/attachments`.
/// The multipart `file` field: its file name, its declared type (`application/octet-stream`
/// when none), its first bytes (enough to tell the real type) and then the whole body.
pub struct FilePart<'a> {
    pub file_name: Option<String>,
    pub declared: String,
    pub head: Vec<u8>,
    rest: futures_util::stream::BoxStream<'a, Result<Bytes, String>>,
}

impl<'a> FilePart<'a> {
    /// Every byte of the file, the first ones included, as an upload body.
    pub fn into_body(self) -> impl futures_util::Stream<Item = Result<Bytes, String>> + Send + 'a {
        let head = Bytes::from(self.head);
        futures_util::stream::once(async move { Ok(head) }).chain(self.rest)
    }
}

/// Reads the first 64 bytes of a multipart `file` field (400 "Invalid file: ..." when it is
/// unreadable). Finding the field stays with the caller: a borrow of the form returned from the
/// search loop is more than the borrow checker accepts.
pub async fn file_part(field: Field<'_>) -> Result<FilePart<'_>, ApiError> {
    let file_name = field.file_name().map(str::to_owned);
    let declared = field
        .content_type()
        .map(str::to_owned)
        .unwrap_or_else(|| "application/octet-stream".into());
    let mut stream = field.map(|c| c.map_err(|e| e.to_string())).boxed();
    let mut head = Vec::new();
    while head.len() < 64 {
        match stream.next().await {
            Some(Ok(chunk)) => head.extend_from_slice(&chunk),
            Some(Err(e)) => return Err(ApiError::bad_request(format!("Invalid file: {e}"))),
            None => break,
        }
    }
    Ok(FilePart {
        file_name,
        declared,
        head,
        rest: stream,
    })
}

pub async fn upload(
    State(st): State<AppState>,
    auth: Authed,
    Path(channel): Path<String>,
    mut form: Multipart,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let room = room_id(&channel)?;
    let visible = px
        .core
        .permissions(&auth.user.id, &room)
        .await
        .is_ok_and(|(_, p)| p.contains(Permissions::VIEW_ROOM));
    if !visible {
        return Err(ApiError::not_found("Channel not found"));
    }
    let field = loop {
        match form.next_field().await {
            Ok(Some(f)) if f.name() == Some("file") => break f,
            Ok(Some(_)) => continue,
            Ok(None) => return Err(ApiError::bad_request("Invalid file: Field required")),
            Err(e) => return Err(ApiError::bad_request(format!("Invalid file: {e}"))),
        }
    };
    let part = file_part(field).await?;
    let filename = sanitize(part.file_name.as_deref().unwrap_or("attachment"));
    let declared = part.declared.as_str();
    // The first bytes decide the real type of a generic declaration and must match a
    // specific one.
    let head = &part.head;
    let generic = matches!(
        declared.to_ascii_lowercase().as_str(),
        "application/octet-stream" | "text/plain" | "application/binary"
    );
    let ct = if generic {
        detect(head, declared)
    } else {
        declared.to_owned()
    };
    let kind = media_kind(&ct);
    let ct_lower = ct.to_ascii_lowercase();
    if BLOCKED_MIME.contains(&ct_lower.as_str()) {
        return Err(ApiError::bad_request(format!(
            "File type '{ct}' is blocked for security reasons."
        )));
    }
    if let Some(list) = allowed(kind)
        && !list.contains(&ct_lower.as_str())
    {
        return Err(ApiError::bad_request(format!(
            "Content type '{ct}' is not allowed for {kind} uploads."
        )));
    }
    if let Some((_, ext)) = filename.rsplit_once('.') {
        let ext = format!(".{}", ext.to_ascii_lowercase());
        if BLOCKED_EXT.contains(&ext.as_str()) {
            return Err(ApiError::bad_request(format!(
                "File type not allowed: {ext}"
            )));
        }
    }
    if !magic_ok(&ct_lower, head) {
        return Err(ApiError::bad_request(format!(
            "File content does not match declared type: {ct}"
        )));
    }
    let cap = size_cap(kind).min(px.core.files().config.max_size);
    let up = Upload {
        uploader: auth.user.id.clone(),
        room: Some(room),
        original_name: filename,
        mime_type: ct,
        lifetime: Lifetime::Forever,
        max_size: Some(cap),
        check_allowed_types: false,
        recode_images: false,
    };
    match px.core.upload_attachment(up, part.into_body()).await {
        Ok(a) => Ok(ok(&upload_json(&a))),
        Err(UploadError::TooLarge { max }) => Err(ApiError::bad_request(format!(
            "File size exceeds limit {max}"
        ))),
        Err(UploadError::Disabled | UploadError::NoUploads) => {
            Err(ApiError::bad_request("Uploads are disabled"))
        }
        Err(UploadError::Body(e)) => Err(ApiError::bad_request(format!("Invalid file: {e}"))),
        Err(UploadError::TypeNotAllowed(t)) => Err(ApiError::bad_request(format!(
            "File type '{t}' is not supported."
        ))),
        Err(e) => {
            tracing::error!(error = %e, "plexichat: upload failed");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Upload failed",
            ))
        }
    }
}

fn query_pairs(q: &str) -> Vec<(&str, &str)> {
    q.split('&').filter_map(|kv| kv.split_once('=')).collect()
}

/// `header=value` of a cookie header.
fn cookie<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `GET /api/v1/media/attachments/{filename}`.
pub async fn download(
    State(st): State<AppState>,
    Path(filename): Path<String>,
    RawQuery(q): RawQuery,
    req: Request,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let (parts, _) = req.into_parts();
    let q = q.unwrap_or_default();
    let pairs = query_pairs(&q);
    let get = |k: &str| pairs.iter().find(|(a, _)| *a == k).map(|(_, v)| *v);
    let path = format!("/api/v1/media/attachments/{filename}");
    let signed = match (get("fid"), get("exp"), get("sig")) {
        (Some(fid), Some(exp), Some(sig)) => exp.parse::<i64>().is_ok_and(|exp| {
            exp >= crate::core::ids::now_ms() && signature(&path, fid, exp) == sig
        }),
        _ => false,
    };
    let viewer = if signed {
        None
    } else {
        let token = match bearer(&parts)? {
            Some(t) => Some(t),
            None => cookie(&parts.headers, "plexichat_token").map(str::to_owned),
        };
        let Some(token) = token else {
            return Err(ApiError::unauthorized("Authentication required"));
        };
        match px.core.authenticate(&token).await {
            Ok(u) => Some(u),
            Err(_) => return Err(ApiError::unauthorized("Invalid token")),
        }
    };
    let stem = filename.split('.').next().unwrap_or("");
    let Some(id) = ids::core(stem) else {
        return Err(ApiError::not_found("File not found"));
    };
    let a = match px.core.attachment(&id).await {
        Ok(Some(a)) if file_name(&a.id, &a.mime_type) == filename => a,
        Ok(_) => return Err(ApiError::not_found("File not found")),
        Err(e) => return Err(ApiError::core(e, "File")),
    };
    if let Some(u) = &viewer {
        let may = px
            .core
            .may_download(&u.id, &a)
            .await
            .map_err(|e| ApiError::core(e, "File"))?;
        if !may {
            return Err(ApiError::forbidden("Access denied"));
        }
    }
    let etag = format!("\"{}-{}\"", wire(&a.id), a.size);
    if let Some(inm) = parts
        .headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        && (inm == etag || inm == etag.trim_matches('"'))
    {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let download = get("download") == Some("1");
    let disposition = if download {
        format!(
            "attachment; filename=\"{}\"",
            header_filename(&a.original_name)
        )
    } else {
        "inline".to_owned()
    };
    let path = px.core.files().attachment_path(&a);
    serve_file(
        &path,
        &a.mime_type,
        &parts.headers,
        &[
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, max-age=3600".into()),
            (header::ETAG, etag),
        ],
    )
    .await
    .map_err(|_| ApiError::not_found("File not found"))
}

/// ASCII letters, digits, `.` and `-` of a name, the rest as `_` (a safe header value).
fn header_filename(name: &str) -> String {
    let s: String = name
        .chars()
        .filter(char::is_ascii)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "attachment".into() } else { s }
}
