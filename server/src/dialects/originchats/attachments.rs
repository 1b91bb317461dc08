//! Attachments over the WebSocket (§2.10 `attachment_get`, `attachment_delete`), attachments on
//! `message_new` (§2.1 step 11), and `AttachmentInfo` (§3.7) for messages and replies. Uploads
//! go over HTTP (`files_http`). The files themselves are the core's.

use super::OriginChats;
use super::frames::{timestamp, with_listener};
use super::messages::{fail, internal, send};
use super::session::Cx;
use crate::core::CoreError;
use crate::core::attachments::{AttachError, Attachment};
use crate::core::ids::UserId;
use crate::net::ws::Reply;
use chorus_protocol::originchats as proto;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

/// Where attachment URLs point: `server_url` as an http(s) base, or "" (relative URLs, as the
/// reference makes without `server.url`).
static PUBLIC_BASE: OnceLock<String> = OnceLock::new();

/// `server.url` as the public http(s) base: `wss://`/`https://` → `https://`, anything else →
/// `http://`, no trailing slash.
pub fn normalized_base(url: &str) -> Option<String> {
    let url = url.trim();
    if url.is_empty() {
        return None;
    }
    let lower = url.to_lowercase();
    let secure = lower.starts_with("wss://") || lower.starts_with("https://");
    let rest = match lower.split_once("://") {
        Some((_, r)) => r,
        None => &lower,
    };
    Some(format!(
        "http{}://{}",
        if secure { "s" } else { "" },
        rest.trim_end_matches('/')
    ))
}

pub fn set_public_base(server_url: &str) {
    let _ = PUBLIC_BASE.set(normalized_base(server_url).unwrap_or_default());
}

fn base() -> &'static str {
    PUBLIC_BASE.get().map(String::as_str).unwrap_or("")
}

/// AttachmentInfo of a message's stored attachment (`extra.attachments[i]`).
pub fn info_from_extra(a: &Value) -> Value {
    let mut o = Map::new();
    let id = a.get("id").and_then(Value::as_str).unwrap_or("");
    o.insert("id".into(), json!(id));
    o.insert(
        "name".into(),
        a.get("name").cloned().unwrap_or_else(|| json!("file")),
    );
    for k in ["mime_type", "size"] {
        o.insert(k.into(), a.get(k).cloned().unwrap_or(Value::Null));
    }
    o.insert("url".into(), json!(format!("{}/attachments/{id}", base())));
    let expires = a
        .get("expires_at")
        .and_then(Value::as_i64)
        .map_or(Value::Null, timestamp);
    o.insert("expires_at".into(), expires);
    o.insert(
        "permanent".into(),
        json!(a.get("permanent").and_then(Value::as_bool).unwrap_or(false)),
    );
    for k in ["width", "height"] {
        if let Some(v) = a.get(k).filter(|v| v.is_i64()) {
            o.insert(k.into(), v.clone());
        }
    }
    Value::Object(o)
}

/// AttachmentInfo of a stored attachment.
pub fn info(a: &Attachment) -> Value {
    info_from_extra(&a.to_extra())
}

/// The id OriginChats shows for a user (`created_by`, `uploader`): a Rotur user's own id, the
/// core id otherwise.
pub fn wire_user_id(id: &UserId) -> String {
    id.as_str()
        .strip_prefix("rotur:")
        .unwrap_or(id.as_str())
        .to_owned()
}

impl OriginChats {
    /// Step 11 of `message_new`: the attachments as the core checked them, or the reference's
    /// error text.
    pub async fn message_attachments(
        &self,
        author: &UserId,
        refs: &[proto::AttachmentRef],
    ) -> Result<Vec<Attachment>, String> {
        if !self.core.files().config.enabled {
            return Err("Attachments are disabled".into());
        }
        let mut ids = Vec::with_capacity(refs.len());
        for r in refs {
            match r.id.as_deref() {
                Some(id) if !id.is_empty() => ids.push(id.to_owned()),
                _ => return Err("Attachment ID is required".into()),
            }
        }
        match self.core.attachments_for_message(author, &ids).await {
            Ok(list) => Ok(list),
            Err(AttachError::Disabled) => Err("Attachments are disabled".into()),
            Err(AttachError::NotFound(id)) => Err(format!("Attachment {id} not found or expired")),
            Err(AttachError::NotOwner(_)) => Err("You can only attach your own uploads".into()),
            Err(AttachError::Core(e)) => {
                tracing::error!(error = %e, "originchats: attachment lookup failed");
                Err("Internal server error".into())
            }
        }
    }

    pub async fn attachment_get(&self, cx: &mut Cx, r: proto::AttachmentGet) -> Reply {
        const SRC: &str = "attachment_get";
        let l = r.listener.as_deref();
        match self.core.attachment(&r.attachment_id).await {
            Ok(Some(a)) => send(
                cx,
                with_listener(json!({"cmd": "attachment_info", "attachment": info(&a)}), l),
            ),
            Ok(None) => send(cx, fail(SRC, "Attachment not found or expired", l)),
            Err(e) => send(cx, internal(SRC, e, l)),
        }
    }

    pub async fn attachment_delete(&self, cx: &mut Cx, r: proto::AttachmentDelete) -> Reply {
        const SRC: &str = "attachment_delete";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        let Some(id) = r.attachment_id else {
            return send(
                cx,
                fail(
                    SRC,
                    "Invalid attachment_delete command: attachment_id: Field required",
                    l,
                ),
            );
        };
        match self.core.delete_attachment(&account.user, &id).await {
            Ok(_) => send(
                cx,
                with_listener(
                    json!({"cmd": "attachment_deleted", "attachment_id": id, "deleted": true}),
                    l,
                ),
            ),
            Err(CoreError::NotFound(_)) => send(cx, fail(SRC, "Attachment not found", l)),
            Err(CoreError::Forbidden(_)) => {
                send(cx, fail(SRC, "You can only delete your own attachments", l))
            }
            Err(e) => {
                tracing::error!(error = %e, "originchats: attachment delete failed");
                send(cx, fail(SRC, "Failed to delete attachment", l))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_bases() {
        assert_eq!(
            normalized_base("wss://Chats.Example.org/").as_deref(),
            Some("https://chats.example.org")
        );
        assert_eq!(
            normalized_base("http://a:5613").as_deref(),
            Some("http://a:5613")
        );
        assert_eq!(normalized_base("ws://a").as_deref(), Some("http://a"));
        assert_eq!(normalized_base("a.org").as_deref(), Some("http://a.org"));
        assert_eq!(normalized_base(""), None);
    }
}
