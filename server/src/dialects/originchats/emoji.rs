//! Custom emoji (§2.9): `emoji_add/update/delete/get_all/get_id/get_filename`, over the core's
//! emoji of the space. Images are served at `/emojis/<fileName or id>` (`files_http`).

use super::OriginChats;
use super::frames::with_listener;
use super::messages::{fail, internal, send};
use super::session::Cx;
use crate::core::emoji::EmojiError;
use crate::core::permissions::Permissions;
use crate::net::ws::Reply;
use chorus_protocol::originchats as proto;
use serde_json::{Map, Value, json};

pub const MANAGE_SERVER: &str = "Access denied: 'manage_server' permission required";

impl OriginChats {
    /// The reference's `manage_server` role permission (the core's `MANAGE_SPACE` for now).
    pub async fn can_manage_server(&self, cx: &Cx) -> bool {
        let Some(a) = &cx.account else { return false };
        self.core
            .space_permissions(&a.user.id, &self.space)
            .await
            .is_ok_and(|p| p.contains(Permissions::MANAGE_SPACE))
    }

    pub async fn emoji_add(&self, cx: &mut Cx, r: proto::EmojiAdd) -> Reply {
        const SRC: &str = "emoji_add";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        if !self.can_manage_server(cx).await {
            return send(cx, fail(SRC, MANAGE_SERVER, l));
        }
        match self
            .core
            .add_emoji(&account.user, &self.space, &r.name, &r.image)
            .await
        {
            Ok(e) => send(
                cx,
                with_listener(
                    json!({"cmd": SRC, "id": e.id.to_string(), "added": true}),
                    l,
                ),
            ),
            Err(EmojiError::Forbidden) => send(cx, fail(SRC, MANAGE_SERVER, l)),
            Err(EmojiError::Invalid(why)) => {
                tracing::debug!(%why, "originchats: emoji_add refused");
                send(cx, fail(SRC, "Error adding emoji", l))
            }
            Err(EmojiError::Core(e)) => {
                tracing::error!(error = %e, "originchats: emoji_add failed");
                send(cx, fail(SRC, "Error adding emoji", l))
            }
        }
    }

    pub async fn emoji_delete(&self, cx: &mut Cx, r: proto::EmojiDelete) -> Reply {
        const SRC: &str = "emoji_delete";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        if !self.can_manage_server(cx).await {
            return send(cx, fail(SRC, MANAGE_SERVER, l));
        }
        match self
            .core
            .delete_emoji(&account.user, &self.space, r.emoji_id)
            .await
        {
            Ok(deleted) => send(
                cx,
                with_listener(json!({"cmd": SRC, "id": r.emoji_id, "deleted": deleted}), l),
            ),
            Err(EmojiError::Forbidden) => send(cx, fail(SRC, MANAGE_SERVER, l)),
            Err(EmojiError::Invalid(_)) => send(
                cx,
                with_listener(json!({"cmd": SRC, "id": r.emoji_id, "deleted": false}), l),
            ),
            Err(EmojiError::Core(e)) => send(cx, internal(SRC, e, l)),
        }
    }

    pub async fn emoji_update(&self, cx: &mut Cx, r: proto::EmojiUpdate) -> Reply {
        const SRC: &str = "emoji_update";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        if !self.can_manage_server(cx).await {
            return send(cx, fail(SRC, MANAGE_SERVER, l));
        }
        if r.name.is_none() && r.image.is_none() {
            return send(
                cx,
                fail(
                    SRC,
                    "At least one field to update is required (name or image)",
                    l,
                ),
            );
        }
        match self
            .core
            .update_emoji(
                &account.user,
                &self.space,
                r.emoji_id,
                r.name.as_deref(),
                r.image.as_deref(),
            )
            .await
        {
            Ok(updated) => send(
                cx,
                with_listener(json!({"cmd": SRC, "id": r.emoji_id, "updated": updated}), l),
            ),
            Err(EmojiError::Forbidden) => send(cx, fail(SRC, MANAGE_SERVER, l)),
            Err(EmojiError::Invalid(_)) => send(
                cx,
                with_listener(json!({"cmd": SRC, "id": r.emoji_id, "updated": false}), l),
            ),
            Err(EmojiError::Core(e)) => send(cx, internal(SRC, e, l)),
        }
    }

    pub async fn emoji_get_all(&self, cx: &mut Cx, r: proto::EmojiGetAll) -> Reply {
        const SRC: &str = "emoji_get_all";
        let l = r.listener.as_deref();
        match self.core.emojis(&self.space).await {
            Ok(list) => {
                let mut emojis = Map::new();
                for e in list {
                    emojis.insert(
                        e.id.to_string(),
                        json!({"name": e.name, "fileName": e.file_name}),
                    );
                }
                send(
                    cx,
                    with_listener(json!({"cmd": SRC, "emojis": Value::Object(emojis)}), l),
                )
            }
            Err(e) => send(cx, internal(SRC, e, l)),
        }
    }

    pub async fn emoji_get_id(&self, cx: &mut Cx, r: proto::EmojiGetId) -> Reply {
        const SRC: &str = "emoji_get_id";
        let l = r.listener.as_deref();
        match self.core.emoji_by_name(&self.space, &r.name).await {
            Ok(Some(e)) => send(
                cx,
                with_listener(
                    json!({"cmd": SRC, "name": r.name, "id": e.id.to_string()}),
                    l,
                ),
            ),
            Ok(None) => send(cx, fail(SRC, "Emoji not found", l)),
            Err(e) => send(cx, internal(SRC, e, l)),
        }
    }

    pub async fn emoji_get_filename(&self, cx: &mut Cx, r: proto::EmojiGetFilename) -> Reply {
        const SRC: &str = "emoji_get_filename";
        let l = r.listener.as_deref();
        match self.core.emoji_by_name(&self.space, &r.name).await {
            Ok(Some(e)) if e.file_name.is_empty() => send(cx, fail(SRC, "Emoji file not found", l)),
            Ok(Some(e)) => send(
                cx,
                with_listener(
                    json!({"cmd": SRC, "name": r.name, "filepath": e.file_name}),
                    l,
                ),
            ),
            Ok(None) => send(cx, fail(SRC, "Emoji not found", l)),
            Err(e) => send(cx, internal(SRC, e, l)),
        }
    }
}
