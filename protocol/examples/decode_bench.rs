//! Decode throughput: the generated `decode` against the generic alternative
//! (`serde_json::Value` + `jsonschema` validation of the same frame), one core.
//!
//! Run through `cargo xtask bench decode`, which records the table in BENCHMARKS.md.

use chorus_protocol::{messaging, oracle, originchats, reactions};
use serde_json::Value;
use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

struct Case {
    dialect: &'static str,
    tag: &'static str,
    spec: &'static str,
    messages: &'static [(&'static str, &'static str)],
    tag_key: &'static str,
    decode: fn(&str) -> bool,
}

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let budget = Duration::from_secs_f64(seconds);
    let cases = [
        Case {
            dialect: "reactions",
            tag: "send_message",
            spec: reactions::SPEC_JSON,
            messages: reactions::CLIENT_MESSAGES,
            tag_key: reactions::ClientFrame::TAG_KEY,
            decode: |s| reactions::decode(s).is_ok(),
        },
        Case {
            dialect: "originchats",
            tag: "message_new",
            spec: originchats::SPEC_JSON,
            messages: originchats::CLIENT_MESSAGES,
            tag_key: originchats::ClientFrame::TAG_KEY,
            decode: |s| originchats::decode(s).is_ok(),
        },
        Case {
            dialect: "messaging",
            tag: "message.send",
            spec: messaging::SPEC_JSON,
            messages: messaging::CLIENT_MESSAGES,
            tag_key: messaging::ClientFrame::TAG_KEY,
            decode: |s| messaging::decode(s).is_ok(),
        },
    ];
    println!(
        "| dialect | frame | bytes | generated decode (frames/s) | Value + jsonschema (frames/s) | ratio |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    for case in &cases {
        let doc: Value = serde_json::from_str(case.spec).expect("spec is JSON");
        let pointer = case
            .messages
            .iter()
            .find(|(t, _)| *t == case.tag)
            .map(|(_, p)| *p)
            .expect("the benchmarked tag exists");
        let message = doc
            .pointer(pointer.trim_start_matches('#').trim_end_matches("/payload"))
            .expect("message");
        let frame = message["examples"][0]["payload"].to_string();
        assert!(
            (case.decode)(&frame),
            "{}: the example must decode",
            case.dialect
        );

        // The generic decoder: parse to a tree, read the tag, validate against that message.
        let validators: HashMap<&str, jsonschema::Validator> = case
            .messages
            .iter()
            .map(|(tag, pointer)| {
                (
                    *tag,
                    oracle::validator(&doc, pointer).expect("schema compiles"),
                )
            })
            .collect();
        let generic = |s: &str| -> bool {
            let Ok(v) = serde_json::from_str::<Value>(s) else {
                return false;
            };
            let Some(tag) = v.get(case.tag_key).and_then(Value::as_str) else {
                return false;
            };
            validators.get(tag).is_some_and(|val| val.is_valid(&v))
        };
        assert!(generic(&frame));

        let generated = rate(budget, || (case.decode)(black_box(&frame)));
        let baseline = rate(budget, || generic(black_box(&frame)));
        println!(
            "| {} | `{}` | {} | {:.0} | {:.0} | {:.2}× |",
            case.dialect,
            case.tag,
            frame.len(),
            generated,
            baseline,
            generated / baseline
        );
    }
}

/// Calls per second of `f` over `budget` of wall time, after a short warm-up.
fn rate(budget: Duration, mut f: impl FnMut() -> bool) -> f64 {
    for _ in 0..10_000 {
        assert!(black_box(f()));
    }
    let start = Instant::now();
    let mut n: u64 = 0;
    while start.elapsed() < budget {
        for _ in 0..1000 {
            black_box(f());
        }
        n += 1000;
    }
    n as f64 / start.elapsed().as_secs_f64()
}
