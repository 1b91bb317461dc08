//! Building OriginChats frames (flat `{"cmd": …}` JSON objects).

use crate::core::messages::Message;
use axum::extract::ws::Utf8Bytes;
use serde_json::{Map, Value, json};

/// `{"cmd":"error","src":src,"val":val}` (no `src` for the reference's helper errors).
pub fn error(src: Option<&str>, val: &str) -> Value {
    match src {
        Some(src) => json!({"cmd": "error", "src": src, "val": val}),
        None => json!({"cmd": "error", "val": val}),
    }
}

pub fn auth_error(val: &str) -> Value {
    json!({"cmd": "auth_error", "val": val})
}

/// Copies a request's `listener` into a direct reply.
pub fn with_listener(mut v: Value, listener: Option<&str>) -> Value {
    if let (Some(l), Some(obj)) = (listener, v.as_object_mut()) {
        obj.insert("listener".into(), Value::String(l.to_owned()));
    }
    v
}

pub fn encode(v: &Value) -> Utf8Bytes {
    Utf8Bytes::from(v.to_string())
}

/// Seconds since the epoch as the reference's float timestamps.
pub fn timestamp(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

/// The client-facing form of a stored message (§3.4): usernames, `type`, `pinned` and
/// `interaction` always present, `edited` only when edited. `reply_user` is the author of the
/// replied-to message, when known.
pub fn message(m: &Message, reply_user: Option<&str>) -> Value {
    let mut o = Map::new();
    o.insert("user".into(), Value::String(display_author(m)));
    o.insert("content".into(), Value::String(m.content.clone()));
    o.insert("timestamp".into(), timestamp(m.created_at));
    o.insert("id".into(), Value::String(m.id.0.clone()));
    o.insert("type".into(), Value::String("message".into()));
    // embeds, attachments and webhook attribution kept in `extra`
    if let Some(extra) = m.extra.as_deref() {
        if let Some(e) = extra.get("embeds").filter(|e| e.is_array()) {
            o.insert("embeds".into(), e.clone());
        }
        let atts = crate::core::attachments::message_attachments(Some(extra));
        if !atts.is_empty() {
            let list = atts
                .iter()
                .map(super::attachments::info_from_extra)
                .collect();
            o.insert("attachments".into(), Value::Array(list));
        }
        if let Some(w) = crate::core::webhooks::message_webhook(m) {
            o.insert("webhook".into(), w.clone());
        }
        if let Some(p) = extra.get("ping").filter(|p| p.is_boolean()) {
            o.insert("ping".into(), p.clone());
        }
    }
    if let Some(r) = &m.reply_to
        && let Some(u) = reply_user
    {
        o.insert("reply_to".into(), json!({"id": r.0, "user": u}));
    }
    if !m.reactions.is_empty() {
        let mut reactions = Map::new();
        for g in &m.reactions {
            reactions.insert(
                g.emoji.clone(),
                Value::Array(
                    g.users
                        .iter()
                        .map(|u| Value::String(u.username.clone()))
                        .collect(),
                ),
            );
        }
        o.insert("reactions".into(), Value::Object(reactions));
    }
    if m.edited_at.is_some() {
        o.insert("edited".into(), Value::Bool(true));
    }
    o.insert("pinned".into(), Value::Bool(m.pinned));
    o.insert("interaction".into(), Value::Null);
    super::bots::message_extras(&mut o, m);
    Value::Object(o)
}

/// Whether a reply pings the replied-to author (`ping: false` on the message turns it off).
pub fn reply_pings(m: &Message) -> bool {
    m.extra
        .as_deref()
        .and_then(|e| e.get("ping"))
        .and_then(Value::as_bool)
        != Some(false)
}

/// The `user` of a message: the author's username (a per-message display name such as the
/// reaction chat's `author_name` is not an OriginChats concept; the username identifies).
fn display_author(m: &Message) -> String {
    // Webhook posts are the server's (`originChats`), attributed in `webhook`.
    if crate::core::webhooks::message_webhook(m).is_some() {
        return "originChats".into();
    }
    m.author.username.clone()
}

/// `@name` mentions (`@([A-Za-z0-9_]+)`, not `@&`) and `@&role` mentions of a text.
pub fn mentions(content: &str) -> (Vec<String>, Vec<String>) {
    let (mut users, mut roles) = (Vec::new(), Vec::new());
    let b = content.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'@' {
            let (role, start) = if b.get(i + 1) == Some(&b'&') {
                (true, i + 2)
            } else {
                (false, i + 1)
            };
            let mut end = start;
            while end < b.len() && word(b[end]) {
                end += 1;
            }
            if end > start {
                let name = content[start..end].to_owned();
                let list = if role { &mut roles } else { &mut users };
                if !list.contains(&name) {
                    list.push(name);
                }
            }
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    (users, roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_split_users_and_roles() {
        let (u, r) = mentions("hi @bob and @&admin, @bob again @ alone @al_1!");
        assert_eq!(u, vec!["bob", "al_1"]);
        assert_eq!(r, vec!["admin"]);
    }
}
