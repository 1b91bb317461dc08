//! Custom emoji per space (OriginChats §2.9): sequential numeric ids, names
//! `[A-Za-z0-9_]{1,64}` unique case-insensitively, images decoded and verified with the `image`
//! crate and kept as uploaded under `<data_dir>/emojis/<space>/<id>.<format>`.

use super::audit::{AuditTarget, categories};
use super::ids::{SpaceId, UserId, now_ms};
use super::permissions::Permissions;
use super::users::User;
use super::{Core, CoreError, CoreResult};
use crate::store::files::EmojiChange;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emoji {
    pub space_id: SpaceId,
    pub id: i64,
    pub name: String,
    /// `<id>.<ext>`: the name clients fetch it by.
    pub file_name: String,
    pub mime_type: String,
    pub created_by: Option<UserId>,
    pub created_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum EmojiError {
    #[error("managing emoji needs manage_space")]
    Forbidden,
    /// A bad name (pattern or taken) or a bad image (not decodable, format not allowed).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl From<crate::store::StoreError> for EmojiError {
    fn from(e: crate::store::StoreError) -> Self {
        EmojiError::Core(e.into())
    }
}

/// `^[A-Za-z0-9_]{1,64}$` after trimming.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A decoded, verified emoji image: its bytes, the format's lower-case name (Pillow's, as the
/// reference names files: `png`, `jpeg`, `gif`, `webp`) and MIME type.
pub struct EmojiImage {
    pub bytes: Vec<u8>,
    pub extension: String,
    pub mime_type: String,
}

/// Decodes `data:image/<subtype>;base64,<data>` (the part after the last comma, as the
/// reference reads it) and checks that it is a complete image of an allowed format.
pub fn decode_image(data_uri: &str, allowed: &[String]) -> Result<EmojiImage, EmojiError> {
    use base64::Engine as _;
    let b64 = data_uri.rsplit(',').next().unwrap_or("").trim();
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let bytes = engine
        .decode(b64)
        .map_err(|e| EmojiError::Invalid(format!("not base64: {e}")))?;
    let format = image::guess_format(&bytes)
        .map_err(|e| EmojiError::Invalid(format!("not an image: {e}")))?;
    let (extension, mime) = match format {
        image::ImageFormat::Png => ("png", "image/png"),
        image::ImageFormat::Jpeg => ("jpeg", "image/jpeg"),
        image::ImageFormat::Gif => ("gif", "image/gif"),
        image::ImageFormat::WebP => ("webp", "image/webp"),
        other => {
            return Err(EmojiError::Invalid(format!(
                "unsupported image format {other:?}"
            )));
        }
    };
    if !allowed.iter().any(|a| a.eq_ignore_ascii_case(extension)) {
        return Err(EmojiError::Invalid(format!("{extension} is not allowed")));
    }
    image::load_from_memory_with_format(&bytes, format)
        .map_err(|e| EmojiError::Invalid(format!("broken image: {e}")))?;
    Ok(EmojiImage {
        bytes,
        extension: extension.to_owned(),
        mime_type: mime.to_owned(),
    })
}

impl Core {
    async fn require_emoji_manager(&self, actor: &User, space: &SpaceId) -> Result<(), EmojiError> {
        let p = self.space_permissions(&actor.id, space).await?;
        if p.contains(Permissions::MANAGE_SPACE) || p.contains(Permissions::MANAGE_EMOJIS) {
            Ok(())
        } else {
            Err(EmojiError::Forbidden)
        }
    }

    pub fn emoji_path(&self, e: &Emoji) -> PathBuf {
        self.files().emoji_dir(&e.space_id).join(&e.file_name)
    }

    /// Adds an emoji under the next id of the space.
    pub async fn add_emoji(
        &self,
        actor: &User,
        space: &SpaceId,
        name: &str,
        data_uri: &str,
    ) -> Result<Emoji, EmojiError> {
        self.require_emoji_manager(actor, space).await?;
        let name = name.trim();
        if !valid_name(name) {
            return Err(EmojiError::Invalid("bad emoji name".into()));
        }
        let img = decode_image(data_uri, &self.files().config.emoji_allowed_file_types)?;
        if self
            .store()
            .emoji_by_name(space.clone(), name.to_owned())
            .await?
            .is_some()
        {
            return Err(EmojiError::Invalid("emoji name taken".into()));
        }
        let dir = self.files().emoji_dir(space);
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        let emoji = self
            .store()
            .insert_emoji(
                space.clone(),
                name.to_owned(),
                img.extension.clone(),
                img.mime_type.clone(),
                Some(actor.id.clone()),
                now_ms(),
            )
            .await
            .map_err(|e| match CoreError::from(e) {
                CoreError::Conflict(m) => EmojiError::Invalid(m),
                e => EmojiError::Core(e),
            })?;
        if let Err(e) = write_file(dir.join(&emoji.file_name), img.bytes).await {
            let _ = self.store().delete_emoji(space.clone(), emoji.id).await;
            return Err(EmojiError::Core(e));
        }
        self.audit(
            space,
            Some(actor),
            "emoji_add",
            categories::SERVER,
            emoji_target(&emoji),
            serde_json::json!({"file_name": emoji.file_name}),
        )
        .await;
        Ok(emoji)
    }

    /// Renames an emoji and/or replaces its image; false when there is no such emoji or a
    /// change is refused (bad or taken name, bad image): nothing changes then.
    pub async fn update_emoji(
        &self,
        actor: &User,
        space: &SpaceId,
        id: i64,
        name: Option<&str>,
        image: Option<&str>,
    ) -> Result<bool, EmojiError> {
        self.require_emoji_manager(actor, space).await?;
        let Some(current) = self.store().emoji(space.clone(), id).await? else {
            return Ok(false);
        };
        let mut change = EmojiChange::default();
        if let Some(n) = name {
            let n = n.trim();
            if !valid_name(n) {
                return Ok(false);
            }
            if let Some(other) = self
                .store()
                .emoji_by_name(space.clone(), n.to_owned())
                .await?
                && other.id != id
            {
                return Ok(false);
            }
            change.name = Some(n.to_owned());
        }
        let mut new_image = None;
        if let Some(uri) = image {
            let Ok(img) = decode_image(uri, &self.files().config.emoji_allowed_file_types) else {
                return Ok(false);
            };
            let file_name = format!("{id}.{}", img.extension);
            change.file_name = Some(file_name.clone());
            change.mime_type = Some(img.mime_type.clone());
            new_image = Some((file_name, img.bytes));
        }
        let dir = self.files().emoji_dir(space);
        if let Some((file_name, bytes)) = &new_image {
            tokio::fs::create_dir_all(&dir)
                .await
                .map_err(|e| CoreError::Internal(e.to_string()))?;
            // A new format gets a new file name; the same name is overwritten in place.
            write_file(dir.join(file_name), bytes.clone()).await?;
        }
        let updated = match self.store().update_emoji(space.clone(), id, change).await {
            Ok(u) => u,
            Err(crate::store::StoreError::Conflict(_)) => return Ok(false),
            Err(e) => return Err(EmojiError::Core(e.into())),
        };
        if let (Some(u), Some(_)) = (&updated, &new_image)
            && u.file_name != current.file_name
        {
            let _ = tokio::fs::remove_file(dir.join(&current.file_name)).await;
        }
        if let Some(u) = &updated {
            let mut changes = Vec::new();
            if name.is_some() {
                changes.push("name");
            }
            if new_image.is_some() {
                changes.push("image");
            }
            self.audit(
                space,
                Some(actor),
                "emoji_update",
                categories::SERVER,
                emoji_target(u),
                serde_json::json!({"changes": changes, "old_name": current.name}),
            )
            .await;
        }
        Ok(updated.is_some())
    }

    /// Deletes an emoji and its file; false when there was none.
    pub async fn delete_emoji(
        &self,
        actor: &User,
        space: &SpaceId,
        id: i64,
    ) -> Result<bool, EmojiError> {
        self.require_emoji_manager(actor, space).await?;
        match self.store().delete_emoji(space.clone(), id).await? {
            Some(e) => {
                let _ = tokio::fs::remove_file(self.emoji_path(&e)).await;
                self.audit(
                    space,
                    Some(actor),
                    "emoji_delete",
                    categories::SERVER,
                    emoji_target(&e),
                    serde_json::json!({}),
                )
                .await;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The space's emoji, by id.
    pub async fn emojis(&self, space: &SpaceId) -> CoreResult<Vec<Emoji>> {
        Ok(self.store().emojis(space.clone()).await?)
    }

    pub async fn emoji(&self, space: &SpaceId, id: i64) -> CoreResult<Option<Emoji>> {
        Ok(self.store().emoji(space.clone(), id).await?)
    }

    /// An emoji by name (case-insensitive).
    pub async fn emoji_by_name(&self, space: &SpaceId, name: &str) -> CoreResult<Option<Emoji>> {
        Ok(self
            .store()
            .emoji_by_name(space.clone(), name.trim().to_owned())
            .await?)
    }
}

/// An emoji as the target of an audit entry: its numeric id and name.
fn emoji_target(e: &Emoji) -> AuditTarget {
    AuditTarget::Named(e.id.to_string(), e.name.clone())
}

/// Writes a whole small file and syncs it.
async fn write_file(path: PathBuf, bytes: Vec<u8>) -> CoreResult<()> {
    use tokio::io::AsyncWriteExt;
    let mut f = tokio::fs::File::create(&path)
        .await
        .map_err(|e| CoreError::Internal(e.to_string()))?;
    f.write_all(&bytes)
        .await
        .map_err(|e| CoreError::Internal(e.to_string()))?;
    f.sync_all()
        .await
        .map_err(|e| CoreError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        ["gif", "jpg", "jpeg", "png"].map(String::from).to_vec()
    }

    /// A 1×1 PNG.
    const PNG: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

    #[test]
    fn images_are_decoded_and_checked() {
        let img = decode_image(PNG, &allowed()).unwrap();
        assert_eq!(img.extension, "png");
        assert_eq!(img.mime_type, "image/png");
        // Without the prefix, and without padding, still an image.
        let bare = PNG.rsplit(',').next().unwrap().trim_end_matches('=');
        assert!(decode_image(bare, &allowed()).is_ok());
        assert!(decode_image(PNG, &["gif".to_string()]).is_err());
        assert!(decode_image("data:image/png;base64,aGVsbG8=", &allowed()).is_err());
        assert!(decode_image("data:image/png;base64,%%%", &allowed()).is_err());
        // A truncated PNG: the header says PNG, the data is cut.
        let cut = &PNG[..PNG.len() - 30];
        assert!(decode_image(cut, &allowed()).is_err());
    }

    #[test]
    fn names() {
        assert!(valid_name("wave_2"));
        assert!(!valid_name(""));
        assert!(!valid_name("no-dash"));
        assert!(!valid_name(&"a".repeat(65)));
    }
}
