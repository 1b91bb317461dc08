//! Attachments: uploaded files shared by every dialect.
//!
//! - The bytes are streamed to `<data_dir>/attachments/<id>.<ext>` (size-limited while they
//!   arrive, SHA-256 computed on the way, fsynced, then renamed into place); the metadata goes
//!   to the store (`attachments` table). Image dimensions are read from the file's header.
//! - Lifetime follows OriginChats §5.4: smaller files live longer, capped at
//!   `free_tier_max_expiration_days`; uploaders on a permanent tier (their Rotur subscription,
//!   looked up and cached) get `permanent_expiration_days`. Plexichat uploads live until deleted.
//! - A message that uses attachments lists them in `extra.attachments` (objects with an `id`,
//!   see [`Attachment::to_extra`]); the store's triggers mark them `referenced` in the same
//!   transaction, and deleting the message deletes them.
//! - A background sweeper removes expired attachments, and unreferenced ones older than
//!   `unreferenced_hours`, with their files.

use super::attachment_images;
use super::ids::{RoomId, SpaceId, UserId, now_ms};
use super::permissions::Permissions;
use super::users::{User, UserKind};
use super::{Core, CoreError, CoreResult};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

const DAY_MS: f64 = 86_400_000.0;
const MB: f64 = 1024.0 * 1024.0;

/// The `[files]` configuration section (OriginChats §4.3 `attachments` / `uploads` keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilesConfig {
    /// Attachments on or off (upload, download, attaching to messages).
    pub enabled: bool,
    /// Largest upload, in bytes.
    pub max_size: u64,
    /// OriginChats: accepted MIME types (`*`, `type/*` or exact).
    pub allowed_types: Vec<String>,
    /// -1: unlimited; 0: no uploads; n: the oldest upload goes when the n+1-th arrives.
    pub max_attachments_per_user: i64,
    /// Rotur subscriptions whose uploads are permanent.
    pub permanent_tiers: Vec<String>,
    pub permanent_expiration_days: f64,
    pub free_tier_max_expiration_days: f64,
    /// Seconds a looked-up subscription is reused.
    pub subscription_cache_ttl: u64,
    /// Uploads no message uses are removed after this many hours.
    pub unreferenced_hours: f64,
    /// Seconds between sweeps of expired and unreferenced attachments.
    pub sweep_interval_secs: u64,
    /// Image formats custom emoji may have.
    pub emoji_allowed_file_types: Vec<String>,
    /// How OriginChats image uploads are re-encoded.
    pub compression: super::attachment_images::CompressionConfig,
}

impl Default for FilesConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_size: 104_857_600,
            allowed_types: vec![
                "image/*".into(),
                "video/*".into(),
                "audio/*".into(),
                "application/pdf".into(),
            ],
            max_attachments_per_user: -1,
            permanent_tiers: vec!["pro".into(), "max".into()],
            permanent_expiration_days: 365.0,
            free_tier_max_expiration_days: 7.0,
            subscription_cache_ttl: 300,
            unreferenced_hours: 1.0,
            sweep_interval_secs: 60,
            emoji_allowed_file_types: vec!["gif".into(), "jpg".into(), "jpeg".into(), "png".into()],
            compression: Default::default(),
        }
    }
}

impl FilesConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.sweep_interval_secs == 0 {
            return Err("files.sweep_interval_secs must be at least 1".into());
        }
        if !(self.unreferenced_hours >= 0.0 && self.unreferenced_hours.is_finite()) {
            return Err("files.unreferenced_hours must be a non-negative number".into());
        }
        self.compression.validate()
    }

    /// `is_type_allowed` of the reference.
    pub fn type_allowed(&self, mime: &str) -> bool {
        self.allowed_types.is_empty()
            || self.allowed_types.iter().any(|p| {
                p == "*"
                    || p == mime
                    || p.strip_suffix('*')
                        .is_some_and(|base| base.ends_with('/') && mime.starts_with(base))
            })
    }
}

/// A stored attachment.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub id: String,
    pub uploader_id: UserId,
    pub room_id: Option<RoomId>,
    /// `<id>.<ext>` under the attachments directory.
    pub file_name: String,
    pub original_name: String,
    pub mime_type: String,
    pub size: i64,
    pub sha256: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub permanent: bool,
    pub referenced: bool,
    pub created_at: i64,
    /// Milliseconds; None: never.
    pub expires_at: Option<i64>,
}

/// What the store keeps for a new attachment.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub attachment: Attachment,
    /// Whether it may be swept while no message uses it.
    pub sweep_unreferenced: bool,
}

impl Attachment {
    pub fn is_live(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|e| e > now)
    }

    /// The form a message carries in `extra.attachments` (every dialect renders it).
    pub fn to_extra(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "name": self.original_name,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "size": self.size,
            "sha256": self.sha256,
            "permanent": self.permanent,
            "expires_at": self.expires_at,
        });
        if let (Some(w), Some(h), Some(o)) = (self.width, self.height, v.as_object_mut()) {
            o.insert("width".into(), json!(w));
            o.insert("height".into(), json!(h));
        }
        v
    }
}

/// The attachments a stored message carries (`extra.attachments`), as stored.
pub fn message_attachments(extra: Option<&Value>) -> &[Value] {
    extra
        .and_then(|x| x.get("attachments"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Whether a message's `extra` gives it a body without text (attachments or embeds): such a
/// message may have empty content.
pub fn has_body_without_text(extra: Option<&Value>) -> bool {
    let non_empty = |k: &str| {
        extra
            .and_then(|x| x.get(k))
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    };
    non_empty("attachments") || non_empty("embeds")
}

/// How long an upload lives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lifetime {
    /// OriginChats: by size and tier, optionally shortened by `expires_in_days`; swept when no
    /// message uses it.
    Tiered {
        permanent: bool,
        expires_in_days: Option<f64>,
    },
    /// Until deleted (Plexichat media).
    Forever,
}

/// An upload about to be streamed in.
#[derive(Debug, Clone)]
pub struct Upload {
    pub uploader: UserId,
    pub room: Option<RoomId>,
    pub original_name: String,
    pub mime_type: String,
    pub lifetime: Lifetime,
    /// A dialect's own, smaller size cap (the configured `max_size` always applies).
    pub max_size: Option<u64>,
    /// Check the type against `files.allowed_types` (OriginChats); other dialects check their
    /// own rules before uploading.
    pub check_allowed_types: bool,
    /// Re-encode images as `files.compression` says (OriginChats, §5.4); other dialects keep
    /// uploads byte for byte.
    pub recode_images: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("attachments are disabled")]
    Disabled,
    #[error("type {0} is not allowed")]
    TypeNotAllowed(String),
    #[error("the file exceeds {max} bytes")]
    TooLarge { max: u64 },
    #[error("uploads are disabled (max_attachments_per_user = 0)")]
    NoUploads,
    /// The request body could not be read.
    #[error("{0}")]
    Body(String),
    #[error("storage error: {0}")]
    Io(String),
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl From<crate::store::StoreError> for UploadError {
    fn from(e: crate::store::StoreError) -> Self {
        UploadError::Core(e.into())
    }
}

/// Why attachments cannot go on a message.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    #[error("attachments are disabled")]
    Disabled,
    #[error("attachment {0} not found or expired")]
    NotFound(String),
    #[error("attachment {0} is someone else's")]
    NotOwner(String),
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl From<crate::store::StoreError> for AttachError {
    fn from(e: crate::store::StoreError) -> Self {
        AttachError::Core(e.into())
    }
}

/// The days an upload lives (§5.4).
pub fn expiration_days(size: i64, permanent: bool, custom: Option<f64>, cfg: &FilesConfig) -> f64 {
    if permanent {
        let days = cfg.permanent_expiration_days;
        return match custom {
            Some(c) if c < days => c,
            _ => days,
        };
    }
    let mb = size as f64 / MB;
    let by_size = if mb <= 5.0 {
        49.0
    } else if mb >= 100.0 {
        1.0
    } else if mb <= 25.0 {
        7.0 + (25.0 - mb) * (42.0 / 20.0)
    } else {
        7.0 - (mb - 25.0) * (6.0 / 75.0)
    };
    let capped = by_size.min(cfg.free_tier_max_expiration_days);
    match custom {
        Some(c) => c.min(capped),
        None => capped,
    }
}

fn expires_at(now: i64, size: i64, lifetime: Lifetime, cfg: &FilesConfig) -> (Option<i64>, bool) {
    match lifetime {
        Lifetime::Forever => (None, false),
        Lifetime::Tiered {
            permanent,
            expires_in_days,
        } => {
            let days = expiration_days(size, permanent, expires_in_days, cfg);
            (Some(now + (days * DAY_MS) as i64), permanent)
        }
    }
}

/// The file extension the reference gives a MIME type (`bin` for the rest).
pub fn extension_for(mime: &str) -> &'static str {
    match mime {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/svg+xml" => "svg",
        "video/mp4" => "mp4",
        "video/webm" => "webm",
        "audio/mpeg" => "mp3",
        "audio/wav" => "wav",
        "audio/ogg" => "ogg",
        "application/pdf" => "pdf",
        _ => "bin",
    }
}

/// Rotur subscription lookups (`GET <rotur>/profile?include_posts=0&name=`), cached per username.
pub struct RoturTiers {
    client: reqwest::Client,
    base: String,
    cache: Mutex<HashMap<String, (String, Instant)>>,
}

impl RoturTiers {
    pub fn new(base: &str, timeout: Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .unwrap_or_default();
        Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The user's subscription tier (lower case), None when Rotur cannot tell.
    async fn tier(&self, username: &str, ttl: Duration) -> Option<String> {
        let key = username.to_lowercase();
        if let Some((tier, at)) = self.lock().get(&key)
            && at.elapsed() < ttl
        {
            return Some(tier.clone());
        }
        let resp = self
            .client
            .get(format!("{}/profile", self.base))
            .query(&[("include_posts", "0"), ("name", username)])
            .send()
            .await
            .map_err(|e| tracing::warn!(error = %e, "Rotur profile lookup failed"))
            .ok()?;
        if resp.status() != reqwest::StatusCode::OK {
            return None;
        }
        let v: Value = serde_json::from_slice(&resp.bytes().await.ok()?).ok()?;
        let tier = v
            .get("subscription")
            .and_then(Value::as_str)
            .map(str::to_lowercase)
            .unwrap_or_else(|| "none".into());
        let mut cache = self.lock();
        if cache.len() > 10_000 {
            cache.retain(|_, (_, at)| at.elapsed() < ttl);
            if cache.len() > 10_000 {
                cache.clear();
            }
        }
        cache.insert(key, (tier.clone(), Instant::now()));
        Some(tier)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, Instant)>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The configured file service of a core.
pub struct Files {
    pub config: FilesConfig,
    attachments_dir: PathBuf,
    emoji_dir: PathBuf,
    /// None: nobody gets a permanent tier (no Rotur, or OriginChats' cracked modes).
    rotur: Option<RoturTiers>,
}

impl Files {
    pub fn new(config: FilesConfig, data_dir: &Path, rotur: Option<RoturTiers>) -> Self {
        Self {
            config,
            attachments_dir: data_dir.join("attachments"),
            emoji_dir: data_dir.join("emojis"),
            rotur,
        }
    }

    pub fn attachment_path(&self, a: &Attachment) -> PathBuf {
        self.attachments_dir.join(&a.file_name)
    }

    pub fn emoji_dir(&self, space: &SpaceId) -> PathBuf {
        self.emoji_dir.join(space.as_str())
    }
}

/// Where a core without configured files keeps them (unit tests).
fn fallback_files() -> Files {
    Files::new(
        FilesConfig::default(),
        &std::env::temp_dir().join(format!("chorus-files-{}", std::process::id())),
        None,
    )
}

pub type FilesSlot = OnceLock<Files>;

impl Core {
    /// Sets the file configuration (once, at start-up).
    pub fn configure_files(&self, files: Files) {
        if self.files.set(files).is_err() {
            tracing::warn!("files were already configured");
        }
    }

    pub fn files(&self) -> &Files {
        self.files.get_or_init(fallback_files)
    }

    /// Whether `user`'s uploads are permanent (a Rotur user on a `permanent_tiers` plan).
    pub async fn has_permanent_uploads(&self, user: &User) -> bool {
        let files = self.files();
        let Some(rotur) = &files.rotur else {
            return false;
        };
        if user.kind != UserKind::External {
            return false;
        }
        let ttl = Duration::from_secs(files.config.subscription_cache_ttl);
        match rotur.tier(&user.username, ttl).await {
            Some(tier) => files
                .config
                .permanent_tiers
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&tier)),
            None => false,
        }
    }

    /// Streams an upload to disk and records it. Re-uploading bytes one already uploaded
    /// returns that attachment with its lifetime renewed.
    pub async fn upload_attachment<S, E>(
        &self,
        up: Upload,
        body: S,
    ) -> Result<Attachment, UploadError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let files = self.files();
        let cfg = &files.config;
        if !cfg.enabled {
            return Err(UploadError::Disabled);
        }
        if up.check_allowed_types && !cfg.type_allowed(&up.mime_type) {
            return Err(UploadError::TypeNotAllowed(up.mime_type));
        }
        if cfg.max_attachments_per_user == 0 {
            return Err(UploadError::NoUploads);
        }
        let max = up.max_size.map_or(cfg.max_size, |m| m.min(cfg.max_size));
        tokio::fs::create_dir_all(&files.attachments_dir)
            .await
            .map_err(|e| UploadError::Io(e.to_string()))?;
        let id = uuid::Uuid::now_v7().to_string();
        let tmp = files.attachments_dir.join(format!(".upload-{id}"));
        let written = write_limited(&tmp, body, max).await;
        let (mut size, mut sha256) = match written {
            Ok(v) => v,
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(e);
            }
        };
        let mut recoded = None;
        if up.recode_images && cfg.compression.enabled && attachment_images::recodes(&up.mime_type)
        {
            let (path, mime, c) = (tmp.clone(), up.mime_type.clone(), cfg.compression.clone());
            recoded =
                tokio::task::spawn_blocking(move || attachment_images::recode(&path, &mime, &c))
                    .await
                    .ok()
                    .flatten();
            if recoded.is_some() {
                // Size and hash describe the stored file (the same upload recodes the same).
                match file_digest(&tmp).await {
                    Ok(v) => (size, sha256) = v,
                    Err(e) => {
                        let _ = tokio::fs::remove_file(&tmp).await;
                        return Err(e);
                    }
                }
            }
        }
        let now = now_ms();
        let (expires, permanent) = expires_at(now, size as i64, up.lifetime, cfg);
        let store = self.store();
        // The same bytes again from the same uploader: renew the existing attachment.
        if let Some(existing) = store
            .attachment_by_hash(up.uploader.clone(), sha256.clone(), now)
            .await?
        {
            let _ = tokio::fs::remove_file(&tmp).await;
            if let Some(a) = store
                .refresh_attachment(existing.id, expires, permanent, up.original_name)
                .await?
            {
                return Ok(a);
            }
            return Err(UploadError::Io("the attachment vanished".into()));
        }
        if cfg.max_attachments_per_user > 0 {
            let (count, oldest) = store.uploads_of(up.uploader.clone(), now).await?;
            if count >= cfg.max_attachments_per_user
                && let Some(old) = oldest
            {
                self.remove_attachments(vec![old]).await?;
            }
        }
        let (width, height) = match recoded {
            Some((w, h)) => (Some(i64::from(w)), Some(i64::from(h))),
            None if up.mime_type.starts_with("image/") && up.mime_type != "image/svg+xml" => {
                image_dimensions(tmp.clone()).await
            }
            None => (None, None),
        };
        let file_name = format!("{id}.{}", extension_for(&up.mime_type));
        let path = files.attachments_dir.join(&file_name);
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(|e| UploadError::Io(e.to_string()))?;
        let rec = Attachment {
            id,
            uploader_id: up.uploader,
            room_id: up.room,
            file_name,
            original_name: up.original_name,
            mime_type: up.mime_type,
            size: size as i64,
            sha256,
            width,
            height,
            permanent,
            referenced: false,
            created_at: now,
            expires_at: expires,
        };
        let new = NewAttachment {
            attachment: rec,
            sweep_unreferenced: matches!(up.lifetime, Lifetime::Tiered { .. }),
        };
        match store.insert_attachment(new).await {
            Ok(a) => Ok(a),
            Err(e) => {
                let _ = tokio::fs::remove_file(&path).await;
                Err(UploadError::Core(e.into()))
            }
        }
    }

    /// A live attachment (None when unknown or expired).
    pub async fn attachment(&self, id: &str) -> CoreResult<Option<Attachment>> {
        let now = now_ms();
        Ok(self
            .store()
            .attachment(id.to_owned())
            .await?
            .filter(|a| a.is_live(now)))
    }

    /// Checks that `author` may put these uploads on a message (each must exist, be live and
    /// be theirs); returns them in the order given.
    pub async fn attachments_for_message(
        &self,
        author: &UserId,
        ids: &[String],
    ) -> Result<Vec<Attachment>, AttachError> {
        if !self.files().config.enabled {
            return Err(AttachError::Disabled);
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let a = self
                .attachment(id)
                .await?
                .ok_or_else(|| AttachError::NotFound(id.clone()))?;
            if &a.uploader_id != author {
                return Err(AttachError::NotOwner(id.clone()));
            }
            if !out.iter().any(|x: &Attachment| x.id == a.id) {
                out.push(a);
            }
        }
        Ok(out)
    }

    /// Deletes an attachment: its uploader may, and so may administrators of the space.
    pub async fn delete_attachment(&self, actor: &User, id: &str) -> CoreResult<Attachment> {
        let a = self
            .attachment(id)
            .await?
            .ok_or(CoreError::NotFound("attachment"))?;
        if a.uploader_id != actor.id {
            let space = match &a.room_id {
                Some(r) => self
                    .store()
                    .room(r.clone())
                    .await?
                    .and_then(|r| r.space_id)
                    .unwrap_or_else(|| self.default_space().clone()),
                None => self.default_space().clone(),
            };
            let perms = self.space_permissions(&actor.id, &space).await?;
            if !perms.contains(Permissions::ADMINISTRATOR) {
                return Err(CoreError::Forbidden("delete_attachment"));
            }
        }
        self.remove_attachments(vec![a.clone()]).await?;
        Ok(a)
    }

    /// Whether `user` may download attachment `a`: they uploaded it, may view the room it was
    /// uploaded for, or may view a room where a message uses it.
    pub async fn may_download(&self, user: &UserId, a: &Attachment) -> CoreResult<bool> {
        if &a.uploader_id == user {
            return Ok(true);
        }
        let mut rooms = self.store().attachment_rooms(a.id.clone()).await?;
        rooms.extend(a.room_id.clone());
        for room in &rooms {
            match self.permissions(user, room).await {
                Ok((_, p)) if p.contains(Permissions::VIEW_ROOM) => return Ok(true),
                Ok(_) | Err(CoreError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }

    async fn remove_attachments(&self, list: Vec<Attachment>) -> CoreResult<usize> {
        if list.is_empty() {
            return Ok(0);
        }
        let files = self.files();
        let ids = list.iter().map(|a| a.id.clone()).collect();
        let gone = self.store().delete_attachments(ids).await?;
        for name in &gone {
            if let Err(e) = tokio::fs::remove_file(files.attachments_dir.join(name)).await
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(error = %e, file = %name, "cannot remove an attachment file");
            }
        }
        Ok(gone.len())
    }

    /// Removes expired attachments and old unreferenced ones; returns how many went.
    pub async fn sweep_attachments(&self) -> CoreResult<usize> {
        let cfg = &self.files().config;
        let now = now_ms();
        let unreferenced_before = now - (cfg.unreferenced_hours * 3_600_000.0) as i64;
        let mut total = 0;
        loop {
            let batch = self
                .store()
                .sweepable_attachments(now, unreferenced_before, 500)
                .await?;
            let n = batch.len();
            total += self.remove_attachments(batch).await?;
            if n < 500 {
                return Ok(total);
            }
        }
    }

    /// Sweeps now and then every `sweep_interval_secs` until `stop` is cancelled.
    pub fn spawn_attachment_sweeper(
        self: &Arc<Self>,
        stop: tokio_util::sync::CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let core = self.clone();
        let every = Duration::from_secs(core.files().config.sweep_interval_secs.max(1));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tick.tick() => {}
                }
                match core.sweep_attachments().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, "attachments swept"),
                    Err(CoreError::Unavailable) => return,
                    Err(e) => tracing::warn!(error = %e, "attachment sweep failed"),
                }
            }
        })
    }
}

/// Streams `body` into `path`, refusing more than `max` bytes; returns (size, sha256 hex).
async fn write_limited<S, E>(path: &Path, body: S, max: u64) -> Result<(u64, String), UploadError>
where
    S: Stream<Item = Result<Bytes, E>> + Send,
    E: std::fmt::Display,
{
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(|e| UploadError::Io(e.to_string()))?;
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut body = std::pin::pin!(body);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| UploadError::Body(e.to_string()))?;
        size += chunk.len() as u64;
        if size > max {
            return Err(UploadError::TooLarge { max });
        }
        hasher.update(&chunk);
        file.write_all(&chunk)
            .await
            .map_err(|e| UploadError::Io(e.to_string()))?;
    }
    file.sync_all()
        .await
        .map_err(|e| UploadError::Io(e.to_string()))?;
    Ok((size, hex::encode(hasher.finalize())))
}

/// Width and height from an image file's header (None when it is not a readable image).
async fn image_dimensions(path: PathBuf) -> (Option<i64>, Option<i64>) {
    tokio::task::spawn_blocking(move || attachment_images::dimensions(&path))
        .await
        .ok()
        .flatten()
        .map_or((None, None), |(w, h)| {
            (Some(i64::from(w)), Some(i64::from(h)))
        })
}

/// (size, SHA-256 hex) of a file on disk.
async fn file_digest(path: &Path) -> Result<(u64, String), UploadError> {
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|e| UploadError::Io(e.to_string()))?;
    Ok((bytes.len() as u64, hex::encode(Sha256::digest(&bytes))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_follow_size_and_tier() {
        let cfg = FilesConfig::default();
        let mb = |m: f64| (m * MB) as i64;
        // Everything non-permanent is capped at 7 days by default.
        assert_eq!(expiration_days(mb(1.0), false, None, &cfg), 7.0);
        assert_eq!(expiration_days(mb(200.0), false, None, &cfg), 1.0);
        assert_eq!(expiration_days(mb(1.0), false, Some(2.0), &cfg), 2.0);
        assert_eq!(expiration_days(mb(1.0), false, Some(30.0), &cfg), 7.0);
        // Without the cap, the size scale shows.
        let open = FilesConfig {
            free_tier_max_expiration_days: 1000.0,
            ..FilesConfig::default()
        };
        assert_eq!(expiration_days(mb(5.0), false, None, &open), 49.0);
        assert_eq!(expiration_days(mb(25.0), false, None, &open), 7.0);
        assert!((expiration_days(mb(15.0), false, None, &open) - 28.0).abs() < 1e-9);
        assert!((expiration_days(mb(100.0) - 1, false, None, &open) - 1.0).abs() < 0.01);
        assert_eq!(expiration_days(mb(1.0), true, None, &cfg), 365.0);
        assert_eq!(expiration_days(mb(1.0), true, Some(10.0), &cfg), 10.0);
        assert_eq!(expiration_days(mb(1.0), true, Some(1000.0), &cfg), 365.0);
    }

    #[test]
    fn allowed_types_match_like_the_reference() {
        let cfg = FilesConfig::default();
        assert!(cfg.type_allowed("image/png"));
        assert!(cfg.type_allowed("application/pdf"));
        assert!(!cfg.type_allowed("application/zip"));
        assert!(!cfg.type_allowed("imagex/png"));
        let any = FilesConfig {
            allowed_types: vec!["*".into()],
            ..FilesConfig::default()
        };
        assert!(any.type_allowed("application/zip"));
    }

    #[test]
    fn bodies_without_text() {
        assert!(!has_body_without_text(None));
        assert!(!has_body_without_text(Some(&json!({"attachments": []}))));
        assert!(has_body_without_text(Some(
            &json!({"attachments": [{"id": "a"}]})
        )));
        assert!(has_body_without_text(Some(&json!({"embeds": [{}]}))));
    }
}

#[cfg(test)]
mod store_tests {
    use super::*;
    use crate::core::messages::{DeleteMode, NewMessage, UserRef};
    use crate::hub::Hub;
    use crate::store::sqlite::{SqliteSettings, SqliteStore};

    async fn core() -> (Arc<Core>, Arc<SqliteStore>, PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "chorus-files-test-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let store = Arc::new(
            SqliteStore::open(&dir.join("chorus.db"), SqliteSettings::default())
                .await
                .unwrap(),
        );
        let (hub, dispatcher) = Hub::new(Vec::new());
        tokio::spawn(dispatcher);
        let core = Arc::new(Core::new(store.clone(), hub));
        core.configure_files(Files::new(FilesConfig::default(), &dir, None));
        (core, store, dir)
    }

    /// Backdates an upload (as if it had been made `hours` ago).
    async fn age(store: &SqliteStore, id: &str, hours: i64) {
        let id = id.to_owned();
        store
            .write(
                move |conn| {
                    let id = id.clone();
                    Box::pin(async move {
                        sqlx::query(
                            "UPDATE attachments SET created_at = created_at - ?2 WHERE id = ?1",
                        )
                        .bind(&id)
                        .bind(hours * 3_600_000)
                        .execute(&mut *conn)
                        .await?;
                        Ok(())
                    })
                },
                None,
            )
            .await
            .unwrap();
    }

    fn body(chunks: &[&[u8]]) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send {
        let owned: Vec<_> = chunks
            .iter()
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        futures_util::stream::iter(owned)
    }

    fn upload(who: &User, mime: &str) -> Upload {
        Upload {
            uploader: who.id.clone(),
            room: None,
            original_name: "a.txt".into(),
            mime_type: mime.into(),
            lifetime: Lifetime::Tiered {
                permanent: false,
                expires_in_days: None,
            },
            max_size: None,
            check_allowed_types: true,
            recode_images: false,
        }
    }

    #[tokio::test]
    async fn uploads_are_stored_deduplicated_limited_and_go_with_their_message() {
        let (core, sqlite, dir) = core().await;
        let alice = core.create_account("alice", "pw", None).await.unwrap();
        let bob = core.create_account("bob", "pw", None).await.unwrap();
        let a = core
            .upload_attachment(
                upload(&alice, "application/pdf"),
                body(&[b"%PDF-1", b".4 hi"]),
            )
            .await
            .unwrap();
        assert_eq!(a.size, 11);
        assert_eq!(a.file_name, format!("{}.pdf", a.id));
        let path = core.files().attachment_path(&a);
        assert_eq!(std::fs::read(&path).unwrap(), b"%PDF-1.4 hi");
        // The same bytes again: the same attachment; from someone else: a new one.
        let again = core
            .upload_attachment(upload(&alice, "application/pdf"), body(&[b"%PDF-1.4 hi"]))
            .await
            .unwrap();
        assert_eq!(again.id, a.id);
        let bobs = core
            .upload_attachment(upload(&bob, "application/pdf"), body(&[b"%PDF-1.4 hi"]))
            .await
            .unwrap();
        assert_ne!(bobs.id, a.id);
        // Type and size limits.
        assert!(matches!(
            core.upload_attachment(upload(&alice, "application/zip"), body(&[b"PK"]))
                .await,
            Err(UploadError::TypeNotAllowed(_))
        ));
        let mut small = upload(&alice, "application/pdf");
        small.max_size = Some(4);
        assert!(matches!(
            core.upload_attachment(small, body(&[b"%PDF", b"-"])).await,
            Err(UploadError::TooLarge { max: 4 })
        ));
        // Only the uploader may attach it.
        assert!(matches!(
            core.attachments_for_message(&bob.id, std::slice::from_ref(&a.id))
                .await,
            Err(AttachError::NotOwner(_))
        ));
        let got = core
            .attachments_for_message(&alice.id, std::slice::from_ref(&a.id))
            .await
            .unwrap();
        let general = core.room_by_name("general").await.unwrap();
        let m = core
            .send_message(NewMessage {
                room_id: general.id.clone(),
                author: UserRef {
                    id: alice.id.clone(),
                    username: alice.username.clone(),
                },
                author_name: None,
                content: String::new(),
                reply_to: None,
                forwarded_from: None,
                extra: Some(json!({"attachments": [got[0].to_extra()]})),
            })
            .await
            .unwrap();
        let stored = core.attachment(&a.id).await.unwrap().unwrap();
        assert!(stored.referenced, "the trigger marks it referenced");
        // Unreferenced uploads go once old enough; referenced ones stay.
        age(&sqlite, &bobs.id, 2).await;
        age(&sqlite, &a.id, 2).await;
        assert_eq!(core.sweep_attachments().await.unwrap(), 1);
        assert!(core.attachment(&bobs.id).await.unwrap().is_none());
        assert!(core.attachment(&a.id).await.unwrap().is_some());
        // Deleting the message deletes its attachment and, at the sweep, its file.
        core.delete_message(&alice, &m.id, DeleteMode::Hard)
            .await
            .unwrap();
        assert!(core.attachment(&a.id).await.unwrap().is_none());
        assert_eq!(core.sweep_attachments().await.unwrap(), 1);
        assert!(!path.exists());

        // Deleting a room deletes its messages, and with them their attachments.
        let admin = core
            .create_account("root", "pw", Some("admin"))
            .await
            .unwrap();
        let room = core
            .create_room(
                &admin,
                crate::core::rooms::NewRoom {
                    space_id: Some(core.default_space().clone()),
                    kind: crate::core::rooms::RoomKind::Text,
                    name: "tmp".into(),
                    topic: None,
                    parent_id: None,
                    position: None,
                    is_public: true,
                    max_members: None,
                    members: Vec::new(),
                    extra: None,
                },
            )
            .await
            .unwrap();
        let c = core
            .upload_attachment(upload(&admin, "application/pdf"), body(&[b"%PDF-room"]))
            .await
            .unwrap();
        core.send_message(NewMessage {
            room_id: room.id.clone(),
            author: UserRef {
                id: admin.id.clone(),
                username: admin.username.clone(),
            },
            author_name: None,
            content: "file".into(),
            reply_to: None,
            forwarded_from: None,
            extra: Some(json!({"attachments": [c.to_extra()]})),
        })
        .await
        .unwrap();
        assert!(core.attachment(&c.id).await.unwrap().unwrap().referenced);
        core.delete_room(&admin, &room.id).await.unwrap();
        assert!(core.attachment(&c.id).await.unwrap().is_none());
        core.store().close().await.unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }
}
