//! The error envelope `{"error": {"code", "detail"}}` and its codes 4002–4006.

use crate::core::CoreError;
use chorus_protocol::de::{DecodeError, DecodeErrorKind};
use serde_json::{Value, json};

pub const NOT_FOUND: &str = "Resource not found.";
pub const INTEGRITY: &str = "Database constraint violated.";
pub const INTERNAL: &str = "Internal server error.";

/// A failed event, answered on the requesting socket only.
#[derive(Debug)]
pub enum Fail {
    /// 4002, a plain string detail.
    Permission(&'static str),
    /// 4003, a list or a field dict.
    Validation(Value),
    /// 4004 "Resource not found."
    NotFound,
    /// 4005 "Database constraint violated."
    Integrity,
    /// 4006 "Internal server error."
    Internal(String),
}

pub type Res<T> = Result<T, Fail>;

impl Fail {
    /// 4003 with `["msg"]`.
    pub fn invalid(msg: impl Into<String>) -> Fail {
        Fail::Validation(json!([msg.into()]))
    }

    /// 4003 with a signal error wrapped by DRF: `["['msg']"]`.
    pub fn wrapped(msg: &str) -> Fail {
        Fail::Validation(json!([format!("['{msg}']")]))
    }

    /// 4003 with `{"field": ["msg"]}`.
    pub fn field(field: &str, msg: impl Into<String>) -> Fail {
        Fail::Validation(json!({ field: [msg.into()] }))
    }

    pub fn code(&self) -> i64 {
        match self {
            Fail::Permission(_) => 4002,
            Fail::Validation(_) => 4003,
            Fail::NotFound => 4004,
            Fail::Integrity => 4005,
            Fail::Internal(_) => 4006,
        }
    }

    pub fn detail(&self) -> Value {
        match self {
            Fail::Permission(s) => Value::String((*s).to_owned()),
            Fail::Validation(v) => v.clone(),
            Fail::NotFound => Value::String(NOT_FOUND.into()),
            Fail::Integrity => Value::String(INTEGRITY.into()),
            Fail::Internal(m) => {
                tracing::error!(error = %m, "messaging: internal error");
                Value::String(INTERNAL.into())
            }
        }
    }
}

/// Decoder paths that are fields of a DRF serializer in the original, by event: their errors
/// are field dicts (`{"name": ["…"]}`) keyed by the last path segment.
const SERIALIZER_FIELDS: &[(&str, &str)] = &[
    // MessageSerializer
    ("message.send", "data.content"),
    ("message.send", "data.extra_fields.parent_message_id"),
    ("message.send", "data.extra_fields.forwarded_from_id"),
    ("message.modify", "data.extra_fields.content"),
    // ReactionSerializer
    ("message.react", "data.reaction_content"),
    // GroupChatSerializer / ChannelSerializer
    ("room.create", "data.name"),
    ("room.create", "data.description"),
    ("room.create", "data.extra_fields.max_participants"),
    ("room.create", "data.extra_fields.max_subscribers"),
    ("room.create", "data.extra_fields.avatar"),
    ("room.create", "data.extra_fields.join_approval_required"),
    ("room.create", "data.extra_fields.group_locked"),
    ("room.create", "data.extra_fields.is_public"),
    // Not validated by the original on update; Chorus applies the create rule, same shape.
    ("room.modify", "data.data.name"),
];

/// The value at a decoder path (`data.extra_fields.media[1].media_type`) of the raw frame.
fn raw_at<'a>(raw: &'a Value, path: &str) -> Option<&'a Value> {
    let mut v = raw;
    for part in path.split('.') {
        let (key, index) = match part.split_once('[') {
            Some((k, i)) => (k, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        v = v.get(key)?;
        if let Some(i) = index {
            v = v.get(i)?;
        }
    }
    Some(v)
}

/// Python's `str()` of a JSON value, as DRF formats it into messages.
fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

impl Fail {
    /// 4003 for a frame the decoder refused, in the shape the original's check has: DRF
    /// serializer fields give `{"field": ["msg"]}`, media items DRF's per-item list
    /// (`[{}, {"media_url": ["msg"]}]`), the handler's own checks `["msg"]`.
    pub fn decode(e: &DecodeError, input: &str) -> Fail {
        let msg = e.message().to_owned();
        let (Some(tag), DecodeErrorKind::Invalid { keyword }) = (e.tag(), e.kind()) else {
            return Fail::invalid(msg);
        };
        let path = e.path();
        let raw: Value = serde_json::from_str(input).unwrap_or(Value::Null);
        let value = raw_at(&raw, path);
        if tag == "message.send"
            && let Some(rest) = path.strip_prefix("data.extra_fields.media[")
            && let Some((index, field)) = rest.split_once("].")
            && let Ok(index) = index.parse::<usize>()
            && !field.contains(['.', '['])
        {
            let text = match (keyword, value) {
                ("enum", Some(v)) => format!("\"{}\" is not a valid choice.", py_str(v)),
                _ => msg,
            };
            let len = raw
                .pointer("/data/extra_fields/media")
                .and_then(Value::as_array)
                .map_or(0, Vec::len)
                .max(index + 1);
            let mut items = vec![json!({}); len];
            items[index] = json!({ field: [text] });
            return Fail::Validation(Value::Array(items));
        }
        if SERIALIZER_FIELDS.contains(&(tag, path)) {
            let field = path.rsplit('.').next().unwrap_or(path);
            let text = match (keyword, value) {
                // A related-message field looks the value up as a UUID primary key.
                ("format", Some(v)) if field.ends_with("_id") => {
                    format!("“{}” is not a valid UUID.", py_str(v))
                }
                _ => msg,
            };
            return Fail::field(field, text);
        }
        Fail::invalid(msg)
    }
}

impl From<CoreError> for Fail {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::NotFound(_) => Fail::NotFound,
            CoreError::Forbidden(_) | CoreError::Unauthorized => {
                Fail::Permission("User is not authorized access this room")
            }
            CoreError::Invalid(m) => Fail::invalid(m),
            CoreError::Conflict(_) => Fail::Integrity,
            CoreError::Unavailable => Fail::Internal("the server is shutting down".into()),
            CoreError::Internal(m) => Fail::Internal(m),
        }
    }
}

impl From<sqlx::Error> for Fail {
    fn from(e: sqlx::Error) -> Self {
        Fail::Internal(e.to_string())
    }
}

impl From<crate::store::StoreError> for Fail {
    fn from(e: crate::store::StoreError) -> Self {
        CoreError::from(e).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chorus_protocol::messaging::ClientFrame;

    fn detail(input: &str) -> Value {
        let e = ClientFrame::decode(input).expect_err("refused");
        Fail::decode(&e, input).detail()
    }

    #[test]
    fn serializer_fields_answer_with_field_dicts() {
        let long = "x".repeat(65);
        assert_eq!(
            detail(&format!(
                r#"{{"event_type":"room.create","data":{{"type":"GroupChat","name":"{long}"}}}}"#
            )),
            json!({"name": ["Ensure this field has no more than 64 characters."]})
        );
        assert_eq!(
            detail(
                r#"{"event_type":"message.send","data":{"room_id":"x","content":"a","extra_fields":{"media":[{"media_url":"u","media_type":"image"},{"media_type":"gif","media_url":"u"}]}}}"#
            ),
            json!([{}, {"media_type": ["\"gif\" is not a valid choice."]}])
        );
        assert_eq!(
            detail(
                r#"{"event_type":"message.send","data":{"room_id":"x","content":"a","extra_fields":{"parent_message_id":"nope"}}}"#
            ),
            json!({"parent_message_id": ["“nope” is not a valid UUID."]})
        );
        // Hand-written checks of the original stay lists.
        assert_eq!(
            detail(r#"{"event_type":"room.info","data":{"room_id":{}}}"#),
            json!(["Invalid room_id type"])
        );
    }
}
