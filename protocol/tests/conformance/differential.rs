//! Differential testing: for valid frames and systematically mutated ones, the generated
//! `decode` accepts exactly the frames the spec's JSON Schema accepts.
//!
//! Known, documented exceptions (never produced here): duplicate object keys (serde rejects
//! them, JSON Schema validators keep the last) and integers outside the `i64` range.

use crate::dialects::{self, Dialect, Oracle, RoundTrip, message_at};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Replacement values that probe types, lengths, formats and bounds.
pub(crate) fn probes() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(1.5),
        serde_json::from_str("3.0").unwrap(),
        json!(1_000_000),
        json!(""),
        json!("x"),
        json!("d7d9d9fd-478f-40e6-b651-49b7f19878a2"),
        json!("d7d9d9fd-478f-40e6-b651-49b7f19878aZ"),
        json!("é".repeat(500)),
        json!("a".repeat(501)),
        json!([]),
        json!(["x"]),
        json!({}),
        json!({"k": "v"}),
    ]
}

/// JSON pointers of every value inside `v` (the root excluded).
pub(crate) fn paths(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                paths(child, p, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                paths(child, p, out);
            }
        }
        _ => {}
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Mutation {
    Remove(usize),
    Replace(usize, usize),
    AddKey(usize),
    Root(usize),
}

pub(crate) fn apply(frame: &Value, all_paths: &[String], m: &Mutation) -> Value {
    let mut v = frame.clone();
    match m {
        Mutation::Remove(p) => {
            let p = &all_paths[p % all_paths.len()];
            let (parent, key) = p.rsplit_once('/').unwrap();
            match v.pointer_mut(parent) {
                Some(Value::Object(o)) => {
                    o.remove(&key.replace("~1", "/").replace("~0", "~"));
                }
                Some(Value::Array(a)) => {
                    let i: usize = key.parse().unwrap();
                    if i < a.len() {
                        a.remove(i);
                    }
                }
                _ => {}
            }
        }
        Mutation::Replace(p, probe) => {
            let p = &all_paths[p % all_paths.len()];
            let probes = probes();
            *v.pointer_mut(p).unwrap() = probes[probe % probes.len()].clone();
        }
        Mutation::AddKey(p) => {
            let p = &all_paths[p % all_paths.len()];
            if let Some(Value::Object(o)) = v.pointer_mut(p) {
                o.insert("zz_extra".into(), json!(1));
            } else if let Value::Object(o) = &mut v {
                o.insert("zz_extra".into(), json!([1]));
            }
        }
        Mutation::Root(probe) => {
            let probes = probes();
            v = probes[probe % probes.len()].clone();
        }
    }
    v
}

struct Corpus {
    name: &'static str,
    direction: &'static str,
    examples: Vec<Value>,
    oracle: Oracle,
    round_trip: RoundTrip,
}

/// Built once: compiling the validators dominates otherwise.
fn corpora() -> &'static [Corpus] {
    static CORPORA: std::sync::OnceLock<Vec<Corpus>> = std::sync::OnceLock::new();
    CORPORA.get_or_init(build_corpora)
}

fn build_corpora() -> Vec<Corpus> {
    let mut out = Vec::new();
    for d in dialects::all() {
        let Dialect {
            name,
            spec,
            client,
            server,
            client_round_trip,
            server_round_trip,
            ..
        } = d;
        let doc: Value = serde_json::from_str(spec).unwrap();
        for (direction, messages, round_trip) in [
            ("client", client, client_round_trip),
            ("server", server, server_round_trip),
        ] {
            let examples = messages
                .iter()
                .flat_map(|(_, p)| {
                    message_at(&doc, p)["examples"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                })
                .map(|e| e["payload"].clone())
                .collect();
            out.push(Corpus {
                name,
                direction,
                examples,
                oracle: Oracle::new(spec, messages),
                round_trip,
            });
        }
    }
    out
}

fn agree(c: &Corpus, frame: &Value) -> Result<(), String> {
    let text = frame.to_string();
    let schema_ok = c.oracle.accepts(frame);
    let decoded = (c.round_trip)(&text);
    if schema_ok != decoded.is_ok() {
        return Err(format!(
            "{} {}: schema says {}, decode says {:?} for {text}",
            c.name,
            c.direction,
            if schema_ok { "valid" } else { "invalid" },
            decoded
        ));
    }
    // What decodes must re-encode to a frame the schema accepts as well.
    if let Ok(encoded) = decoded {
        let back: Value = serde_json::from_str(&encoded).unwrap();
        if !c.oracle.accepts(&back) {
            return Err(format!(
                "{} {}: re-encoded frame is invalid: {encoded}",
                c.name, c.direction
            ));
        }
    }
    Ok(())
}

/// Every single mutation of every example, exhaustively.
#[test]
fn decode_agrees_with_the_schema_on_every_single_mutation() {
    let mut failures = Vec::new();
    let mut checked = 0usize;
    for c in corpora() {
        for example in &c.examples {
            let mut all = Vec::new();
            paths(example, String::new(), &mut all);
            let mut mutations = vec![Mutation::AddKey(usize::MAX)];
            mutations.extend((0..probes().len()).map(Mutation::Root));
            for p in 0..all.len() {
                mutations.push(Mutation::Remove(p));
                mutations.push(Mutation::AddKey(p));
                mutations.extend((0..probes().len()).map(|q| Mutation::Replace(p, q)));
            }
            if all.is_empty() {
                mutations.retain(|m| matches!(m, Mutation::Root(_)));
            }
            for m in &mutations {
                let frame = apply(example, &all, m);
                checked += 1;
                if let Err(e) = agree(c, &frame) {
                    failures.push(e);
                }
            }
        }
    }
    assert!(checked > 1000, "only {checked} frames checked");
    assert!(
        failures.is_empty(),
        "{} disagreements out of {checked}, first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(15)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Random chains of up to four mutations.
    #[test]
    fn decode_agrees_with_the_schema_on_mutation_chains(
        corpus in 0usize..8,
        example in any::<usize>(),
        chain in prop::collection::vec((0u8..3, any::<usize>(), any::<usize>()), 1..5),
    ) {
        let all_corpora = corpora();
        let c = &all_corpora[corpus % all_corpora.len()];
        prop_assume!(!c.examples.is_empty());
        let mut frame = c.examples[example % c.examples.len()].clone();
        for (kind, a, b) in chain {
            let mut all = Vec::new();
            paths(&frame, String::new(), &mut all);
            if all.is_empty() {
                break;
            }
            let m = match kind {
                0 => Mutation::Remove(a),
                1 => Mutation::Replace(a, b),
                _ => Mutation::AddKey(a),
            };
            frame = apply(&frame, &all, &m);
        }
        if let Err(e) = agree(c, &frame) {
            prop_assert!(false, "{}", e);
        }
    }
}
