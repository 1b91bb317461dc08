//! Profile images: `POST /users/@me/avatar` and `POST /servers/{id}/icon` (multipart `file`,
//! JPEG/PNG/GIF/WebP up to 5 MiB as `/capabilities` announces), stored as core attachments
//! kept byte for byte, and served publicly at `GET /api/v1/avatars/users/{id}` and
//! `/avatars/servers/{id}`. The new `avatar_url`/`icon_url` carries `?v=<attachment id>` so a
//! changed image gets a new URL; USER_UPDATE and GUILD_UPDATE follow as for the PATCH routes.

use super::members::standing;
use super::{ApiError, Authed, ok, px};
use crate::core::attachments::{Lifetime, Upload, UploadError};
use crate::core::ids::{SpaceId, UserId, now_ms};
use crate::core::moderation::SpaceUpdate;
use crate::core::permissions::Permissions;
use crate::dialects::plexichat::ids::{self, wire};
use crate::dialects::plexichat::{Plexichat, rest::me::dispatch_to};
use crate::net::AppState;
use crate::net::files::serve_file;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::json;

/// The image types `/capabilities` lists under `avatars.allowed_types`.
pub const IMAGE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];
/// `avatars.max_file_size`.
pub const MAX_IMAGE_BYTES: u64 = 5 * 1024 * 1024;

/// Streams the multipart `file` field of an image into a core attachment; its id.
async fn store_image(
    px: &Plexichat,
    uploader: &UserId,
    mut form: Multipart,
) -> Result<String, ApiError> {
    let field = loop {
        match form.next_field().await {
            Ok(Some(f)) if f.name() == Some("file") => break f,
            Ok(Some(_)) => continue,
            Ok(None) => return Err(ApiError::bad_request("Invalid file: Field required")),
            Err(e) => return Err(ApiError::bad_request(format!("Invalid file: {e}"))),
        }
    };
    let part = super::media::file_part(field).await?;
    let declared = part.declared.to_ascii_lowercase();
    let head = &part.head;
    // The bytes decide: a declared type must match them, a generic one is replaced by them.
    let ct = if IMAGE_TYPES.contains(&declared.as_str()) {
        declared
    } else {
        super::media::detect(head, &declared)
    };
    if !IMAGE_TYPES.contains(&ct.as_str()) {
        return Err(ApiError::bad_request(format!(
            "Content type '{ct}' is not allowed; use one of {}",
            IMAGE_TYPES.join(", ")
        )));
    }
    if !super::media::magic_ok(&ct, head) {
        return Err(ApiError::bad_request(format!(
            "File content does not match declared type: {ct}"
        )));
    }
    let up = Upload {
        uploader: uploader.clone(),
        room: None,
        original_name: format!("image.{}", ct.trim_start_matches("image/")),
        mime_type: ct,
        lifetime: Lifetime::Forever,
        max_size: Some(MAX_IMAGE_BYTES),
        check_allowed_types: false,
        recode_images: false,
    };
    match px.core.upload_attachment(up, part.into_body()).await {
        Ok(a) => Ok(a.id),
        Err(UploadError::TooLarge { max }) => Err(ApiError::bad_request(format!(
            "File size exceeds limit {max}"
        ))),
        Err(UploadError::Disabled | UploadError::NoUploads) => {
            Err(ApiError::bad_request("Uploads are disabled"))
        }
        Err(UploadError::Body(e)) => Err(ApiError::bad_request(format!("Invalid file: {e}"))),
        Err(e) => {
            tracing::error!(error = %e, "plexichat: image upload failed");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Upload failed",
            ))
        }
    }
}

/// `POST /users/@me/avatar`: the caller's `UserResponse` with the new `avatar_url`.
pub async fn upload_avatar(
    State(st): State<AppState>,
    auth: Authed,
    form: Multipart,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let me = &auth.user;
    let attachment = store_image(px, &me.id, form).await?;
    px.db
        .set_image("user", &me.id.0, &attachment, now_ms())
        .await?;
    let url = format!(
        "/api/v1/avatars/users/{}?v={}",
        wire(&me.id.0),
        wire(&attachment)
    );
    let user = px
        .core
        .update_profile(me, None, Some(Some(url)))
        .await
        .map_err(|e| ApiError::core(e, "User"))?;
    let out = super::auth::user_response(px, &user).await?;
    dispatch_to(
        px,
        &me.id,
        "USER_UPDATE",
        &json!({"user": {
            "id": out.id, "username": out.username,
            "avatar_url": out.avatar_url, "email": out.email,
        }}),
    );
    Ok(ok(&out))
}

/// `POST /servers/{server_id}/icon` (`server.manage`): the `ServerResponse` with the new
/// `icon_url`; members get GUILD_UPDATE.
pub async fn upload_icon(
    State(st): State<AppState>,
    auth: Authed,
    Path(server): Path<String>,
    form: Multipart,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let space = ids::core(&server)
        .map(SpaceId)
        .ok_or_else(|| ApiError::bad_request("Invalid server ID"))?;
    // Checked before the upload so a refused caller stores nothing.
    let (_, perms, _) = standing(px, &auth.user.id, &space).await?;
    if !perms.contains(Permissions::MANAGE_SPACE) {
        return Err(ApiError::forbidden("Missing permissions"));
    }
    let attachment = store_image(px, &auth.user.id, form).await?;
    px.db
        .set_image("server", &space.0, &attachment, now_ms())
        .await?;
    let update = SpaceUpdate {
        icon_url: Some(Some(format!(
            "/api/v1/avatars/servers/{server}?v={}",
            wire(&attachment)
        ))),
        ..SpaceUpdate::default()
    };
    px.core
        .update_space(&auth.user, &space, update)
        .await
        .map_err(|e| ApiError::core(e, "Server"))?;
    super::servers::get_one(State(st.clone()), auth, Path(server)).await
}

async fn serve_image(
    px: &Plexichat,
    kind: &'static str,
    id: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::not_found("Avatar not found");
    let owner = ids::core(id).ok_or_else(not_found)?;
    let attachment = px.db.image(kind, &owner).await?.ok_or_else(not_found)?;
    let a = px
        .core
        .attachment(&attachment)
        .await
        .map_err(|e| ApiError::core(e, "Avatar"))?
        .ok_or_else(not_found)?;
    let etag = format!("\"{}-{}\"", wire(&a.id), a.size);
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|inm| inm == etag)
    {
        return Ok(axum::response::IntoResponse::into_response(
            StatusCode::NOT_MODIFIED,
        ));
    }
    let path = px.core.files().attachment_path(&a);
    serve_file(
        &path,
        &a.mime_type,
        headers,
        &[
            (header::CACHE_CONTROL, "public, max-age=3600".into()),
            (header::ETAG, etag),
        ],
    )
    .await
    .map_err(|_| not_found())
}

/// `GET /avatars/users/{user_id}` (public).
pub async fn user_avatar(
    State(st): State<AppState>,
    Path(user): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    serve_image(px(&st), "user", &user, &headers).await
}

/// `GET /avatars/servers/{server_id}` (public).
pub async fn server_icon(
    State(st): State<AppState>,
    Path(server): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    serve_image(px(&st), "server", &server, &headers).await
}
