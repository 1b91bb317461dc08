//! The dialects under test, and the schema oracle for each.

use chorus_protocol::{gateway, messaging, originchats, reactions};
use serde_json::Value;

/// Decodes a frame and re-encodes it, or reports the decode error's wording.
pub type RoundTrip = fn(&str) -> Result<String, String>;

pub struct Dialect {
    pub name: &'static str,
    pub spec: &'static str,
    pub client: &'static [(&'static str, &'static str)],
    pub server: &'static [(&'static str, &'static str)],
    /// The keys identifying a frame of each direction, in the order they are encoded.
    pub client_tag_keys: &'static [&'static str],
    pub server_tag_keys: &'static [&'static str],
    pub client_round_trip: RoundTrip,
    pub server_round_trip: RoundTrip,
}

macro_rules! dialect {
    // A dialect whose frames are identified by one string key.
    ($m:ident) => {
        dialect!($m, &[$m::ClientFrame::TAG_KEY], &[$m::ServerFrame::TAG_KEY])
    };
    // Integer or composite tags: the generated `TAG_KEYS`.
    ($m:ident, keys) => {
        dialect!($m, $m::ClientFrame::TAG_KEYS, $m::ServerFrame::TAG_KEYS)
    };
    ($m:ident, $client_keys:expr, $server_keys:expr) => {
        Dialect {
            name: stringify!($m),
            spec: $m::SPEC_JSON,
            client: $m::CLIENT_MESSAGES,
            server: $m::SERVER_MESSAGES,
            client_tag_keys: $client_keys,
            server_tag_keys: $server_keys,
            client_round_trip: |s| {
                $m::ClientFrame::decode(s)
                    .map(|f| serde_json::to_string(&f).expect("frames always encode"))
                    .map_err(|e| e.message().to_owned())
            },
            server_round_trip: |s| {
                $m::ServerFrame::decode(s)
                    .map(|f| serde_json::to_string(&f).expect("frames always encode"))
                    .map_err(|e| e.message().to_owned())
            },
        }
    };
}

pub fn all() -> Vec<Dialect> {
    vec![
        dialect!(reactions),
        dialect!(originchats),
        dialect!(messaging),
        dialect!(gateway, keys),
    ]
}

/// The JSON Schema validators of one direction's messages (draft 7, formats checked).
pub struct Oracle {
    validators: Vec<jsonschema::Validator>,
}

impl Oracle {
    pub fn new(spec: &str, messages: &[(&str, &str)]) -> Oracle {
        let doc: Value = serde_json::from_str(spec).expect("the embedded spec is JSON");
        let validators = messages
            .iter()
            .map(|(_, pointer)| validator(&doc, pointer))
            .collect();
        Oracle { validators }
    }

    /// A frame is valid for a direction when it matches one of its messages.
    pub fn accepts(&self, frame: &Value) -> bool {
        self.validators.iter().any(|v| v.is_valid(frame))
    }
}

/// A validator for the schema at `pointer`, resolving `$ref`s inside the spec document.
pub fn validator(doc: &Value, pointer: &str) -> jsonschema::Validator {
    chorus_protocol::oracle::validator(doc, pointer).unwrap_or_else(|e| panic!("{e}"))
}

/// The message object a payload pointer belongs to (`…/Message/payload` → `…/Message`).
pub fn message_at<'a>(doc: &'a Value, payload_pointer: &str) -> &'a Value {
    let message = payload_pointer
        .strip_prefix('#')
        .and_then(|p| p.strip_suffix("/payload"))
        .expect("payload pointers end in /payload");
    doc.pointer(message).expect("the message exists")
}
