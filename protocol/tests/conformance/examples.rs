//! Every example in every spec: valid against its own schema, decoded by the generated code,
//! re-encoded to the same JSON, and snapshotted byte for byte.

use crate::dialects::{self, message_at, validator};
use serde_json::Value;
use std::fmt::Write as _;

#[test]
fn every_example_validates_decodes_and_round_trips() {
    for d in dialects::all() {
        let doc: Value = serde_json::from_str(d.spec).unwrap();
        let mut snapshot = String::new();
        let mut count = 0;
        for (direction, messages, round_trip) in [
            ("client", d.client, d.client_round_trip),
            ("server", d.server, d.server_round_trip),
        ] {
            for (tag, pointer) in messages {
                let schema = validator(&doc, pointer);
                let message = message_at(&doc, pointer);
                let examples = message["examples"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{}: {pointer} has no examples", d.name));
                assert!(
                    !examples.is_empty(),
                    "{}: {pointer} has no examples",
                    d.name
                );
                for example in examples {
                    let name = example["name"].as_str().unwrap_or("?");
                    let payload = &example["payload"];
                    let errors: Vec<String> =
                        schema.iter_errors(payload).map(|e| e.to_string()).collect();
                    assert!(
                        errors.is_empty(),
                        "{}: example {name} of {pointer} violates its schema: {errors:?}",
                        d.name
                    );
                    let text = payload.to_string();
                    let encoded = round_trip(&text).unwrap_or_else(|e| {
                        panic!(
                            "{}: example {name} of {pointer} does not decode: {e}",
                            d.name
                        )
                    });
                    let back: Value = serde_json::from_str(&encoded).unwrap();
                    assert_eq!(
                        &back, payload,
                        "{}: example {name} of {pointer} does not re-encode to itself",
                        d.name
                    );
                    writeln!(snapshot, "{direction} {tag} {name}: {encoded}").unwrap();
                    count += 1;
                }
            }
        }
        assert!(count > 0);
        insta::assert_snapshot!(format!("{}_examples", d.name), snapshot);
    }
}

#[test]
fn tags_come_first_when_encoding() {
    // Chorus's own clients then hit the anchored fast path of `decode`: the tag keys a message
    // has lead the frame, in their declared order.
    for d in dialects::all() {
        let doc: Value = serde_json::from_str(d.spec).unwrap();
        for (direction, messages, round_trip, keys) in [
            ("client", d.client, d.client_round_trip, d.client_tag_keys),
            ("server", d.server, d.server_round_trip, d.server_tag_keys),
        ] {
            for (tag, pointer) in messages.iter().filter(|(t, _)| !t.is_empty()) {
                let example = &message_at(&doc, pointer)["examples"][0]["payload"];
                let encoded = round_trip(&example.to_string()).unwrap();
                let lead: Vec<String> = keys
                    .iter()
                    .filter_map(|k| example.get(*k).map(|v| format!("\"{k}\":{v}")))
                    .collect();
                assert!(!lead.is_empty(), "{} {direction} {tag}: no tag key", d.name);
                let prefix = format!("{{{}", lead.join(","));
                assert!(
                    encoded.starts_with(&prefix),
                    "{} {direction} {tag}: the tag keys do not lead the frame: {encoded}",
                    d.name
                );
            }
        }
    }
}
