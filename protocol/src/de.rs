//! Hand-written support for the generated decoders: tag peeking, strict optional fields,
//! JSON-Schema-compatible integers, constraint checks and error wording.
//!
//! The generated code decides *what* to check (from the spec); this module says *how*.

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// Why a frame was rejected, and the dialect's own wording for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    kind: DecodeErrorKind,
    message: Cow<'static, str>,
    tag: Option<String>,
    path: String,
    detail: String,
}

/// The class of a decode failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// The text is not JSON at all.
    NotJson,
    /// The JSON value is not an object.
    NotObject,
    /// The object has no tag (or a tag that is not a string).
    MissingTag,
    /// The tag names no message of this direction.
    UnknownTag,
    /// The message is known but violates its schema; `keyword` is the JSON Schema keyword.
    Invalid { keyword: &'static str },
}

impl DecodeError {
    /// The dialect's wording, ready to put in its error frame.
    pub fn message(&self) -> &str {
        &self.message
    }
    pub fn kind(&self) -> DecodeErrorKind {
        self.kind
    }
    /// The tag of the frame, when it could be read.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }
    /// Where in the frame the violation is (`data.text`, `items[2].id`); empty for the root.
    pub fn path(&self) -> &str {
        &self.path
    }
    /// A technical description of the failure (for logs, not for clients).
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if !self.detail.is_empty() {
            write!(f, " ({}", self.detail)?;
            if !self.path.is_empty() {
                write!(f, " at {}", self.path)?;
            }
            write!(f, ")")?;
        }
        Ok(())
    }
}

impl std::error::Error for DecodeError {}

/// A dialect's wording for decode failures (from `x-chorus.errors` in its spec).
#[derive(Debug)]
pub struct Errors {
    pub not_json: &'static str,
    pub not_object: &'static str,
    pub missing_tag: &'static str,
    /// May contain `{tag}`.
    pub unknown_tag: &'static str,
    pub invalid: &'static str,
}

/// One `x-error`/`x-errors` entry: frames failing `keyword` (`*` = any) at `path` get `text`.
///
/// Path patterns use wire names separated by `.`, `[]` for any array index and `*` for any map key.
#[derive(Debug)]
pub struct Wording {
    pub path: &'static str,
    pub keyword: &'static str,
    pub text: &'static str,
}

/// A segment of the location of a violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A schema violation found by generated `validate` code. The path is collected innermost
/// first while the error propagates, so a valid frame pays nothing for it.
#[derive(Debug)]
pub struct Violation {
    pub keyword: &'static str,
    pub reason: String,
    rev_path: Vec<Segment>,
}

impl Violation {
    pub fn new(keyword: &'static str, reason: impl Into<String>) -> Self {
        Violation {
            keyword,
            reason: reason.into(),
            rev_path: Vec::new(),
        }
    }
    /// Prefix the location with an object key.
    pub fn at_key(mut self, key: &str) -> Self {
        self.rev_path.push(Segment::Key(key.to_owned()));
        self
    }
    /// Prefix the location with an array index.
    pub fn at_index(mut self, index: usize) -> Self {
        self.rev_path.push(Segment::Index(index));
        self
    }
    fn path(&self) -> Vec<Segment> {
        self.rev_path.iter().rev().cloned().collect()
    }
}

/// Implemented by every generated payload type: checks the constraints serde cannot.
pub trait Validate {
    fn validate(&self) -> Result<(), Violation>;
}

impl<T: Validate> Validate for Box<T> {
    fn validate(&self) -> Result<(), Violation> {
        (**self).validate()
    }
}

/// Writes the wire fields of a generated struct into a map that already holds the envelope.
pub trait SerializeFields {
    fn serialize_fields<M: serde::ser::SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;
}

// ---------------------------------------------------------------------------------------------
// Reading the tag
// ---------------------------------------------------------------------------------------------

/// Reads the string tag `key` of a frame.
///
/// Fast path: the frame starts with `{"<key>":"<value without escapes>"` (what browsers'
/// `JSON.stringify` of `{key: …, …}` produces). Otherwise the whole object is scanned once.
pub fn read_tag<'a>(
    input: &'a str,
    key: &str,
    errors: &Errors,
) -> Result<Cow<'a, str>, DecodeError> {
    if let Some(tag) = anchored_tag(input, key) {
        return Ok(Cow::Borrowed(tag));
    }
    scan_tag(input, key, errors)
}

fn anchored_tag<'a>(input: &'a str, key: &str) -> Option<&'a str> {
    let rest = input.strip_prefix("{\"")?;
    let rest = rest.strip_prefix(key)?;
    let rest = rest.strip_prefix("\":\"")?;
    let end = rest.find('"')?;
    let tag = &rest[..end];
    if tag.contains('\\') {
        return None;
    }
    Some(tag)
}

fn scan_tag<'a>(input: &'a str, key: &str, errors: &Errors) -> Result<Cow<'a, str>, DecodeError> {
    let mut de = serde_json::Deserializer::from_str(input);
    // One scan for one key: the same visitor as composite tags.
    let keys = [key];
    let scanned = TagsSeed(&keys)
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v));
    match scanned {
        Err(e) => Err(simple(
            DecodeErrorKind::NotJson,
            errors.not_json,
            e.to_string(),
        )),
        Ok(None) => Err(simple(
            DecodeErrorKind::NotObject,
            errors.not_object,
            "the frame is not a JSON object".into(),
        )),
        Ok(Some([TagSlot::Str(tag)])) => Ok(tag),
        Ok(Some([TagSlot::Absent])) => Err(simple(
            DecodeErrorKind::MissingTag,
            errors.missing_tag,
            format!("no `{key}` key"),
        )),
        Ok(Some([TagSlot::Int(_) | TagSlot::Other])) => Err(simple(
            DecodeErrorKind::MissingTag,
            errors.missing_tag,
            format!("`{key}` is not a string"),
        )),
    }
}

fn simple(kind: DecodeErrorKind, message: &'static str, detail: String) -> DecodeError {
    DecodeError {
        kind,
        message: Cow::Borrowed(message),
        tag: None,
        path: String::new(),
        detail,
    }
}

// ---------------------------------------------------------------------------------------------
// Composite and integer tags (`x-chorus.<dir>.tag: [op, t]`, `op: {type: integer, const: 10}`)
// ---------------------------------------------------------------------------------------------

/// The value of one tag key in a frame, as read by [`read_tags`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagSlot<'a> {
    /// The key is not in the frame (or was not needed to identify it).
    Absent,
    /// An integer (`10`, or `10.0`: JSON Schema compares numbers by value).
    Int(i64),
    Str(Cow<'a, str>),
    /// Any other JSON value, `null` included: it identifies no message.
    Other,
}

impl TagSlot<'_> {
    /// A borrowed view, for matching against literal patterns.
    pub fn as_ref(&self) -> TagRef<'_> {
        match self {
            TagSlot::Absent => TagRef::Absent,
            TagSlot::Int(i) => TagRef::Int(*i),
            TagSlot::Str(s) => TagRef::Str(s),
            TagSlot::Other => TagRef::Other,
        }
    }
}

/// A borrowed [`TagSlot`]: generated decoders match `[TagRef::Int(0), TagRef::Str("READY")]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagRef<'a> {
    Absent,
    Int(i64),
    Str(&'a str),
    Other,
}

/// Reads the tag keys `keys` of a frame.
///
/// Fast path: the frame starts with the keys in order, with integer or escape-free string
/// values (`{"op":0,"t":"MESSAGE_CREATE",…`, what Chorus itself encodes). When `decided` says
/// the first value alone identifies the message (`{"op":11}`), the other keys are not read and
/// stay [`TagSlot::Absent`]. Otherwise the whole object is scanned once for every key.
///
/// The first key must hold a string or an integer, else the frame has no tag.
pub fn read_tags<'a, const N: usize>(
    input: &'a str,
    keys: &[&str; N],
    decided: impl Fn(TagRef<'_>) -> bool,
    errors: &Errors,
) -> Result<[TagSlot<'a>; N], DecodeError> {
    if let Some(tags) = anchored_tags(input, keys, &decided) {
        return Ok(tags);
    }
    let mut de = serde_json::Deserializer::from_str(input);
    let scanned = TagsSeed(keys)
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v));
    let tags = match scanned {
        Err(e) => {
            return Err(simple(
                DecodeErrorKind::NotJson,
                errors.not_json,
                e.to_string(),
            ));
        }
        Ok(None) => {
            return Err(simple(
                DecodeErrorKind::NotObject,
                errors.not_object,
                "the frame is not a JSON object".into(),
            ));
        }
        Ok(Some(tags)) => tags,
    };
    let key = keys[0];
    match tags[0] {
        TagSlot::Int(_) | TagSlot::Str(_) => Ok(tags),
        TagSlot::Absent => Err(simple(
            DecodeErrorKind::MissingTag,
            errors.missing_tag,
            format!("no `{key}` key"),
        )),
        TagSlot::Other => Err(simple(
            DecodeErrorKind::MissingTag,
            errors.missing_tag,
            format!("`{key}` is neither a string nor an integer"),
        )),
    }
}

fn anchored_tags<'a, const N: usize>(
    input: &'a str,
    keys: &[&str; N],
    decided: impl Fn(TagRef<'_>) -> bool,
) -> Option<[TagSlot<'a>; N]> {
    let mut tags = [const { TagSlot::Absent }; N];
    let mut rest = input.strip_prefix('{')?;
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            rest = rest.strip_prefix(',')?;
        }
        rest = rest
            .strip_prefix('"')?
            .strip_prefix(*key)?
            .strip_prefix("\":")?;
        let (value, after) = anchored_value(rest)?;
        tags[i] = value;
        rest = after;
        if i == 0 && decided(tags[0].as_ref()) {
            break;
        }
    }
    Some(tags)
}

/// An escape-free string or a plain integer at the start of `rest`.
fn anchored_value(rest: &str) -> Option<(TagSlot<'_>, &str)> {
    if let Some(s) = rest.strip_prefix('"') {
        let end = s.find('"')?;
        let value = &s[..end];
        if value.contains('\\') {
            return None;
        }
        return Some((TagSlot::Str(Cow::Borrowed(value)), &s[end + 1..]));
    }
    let digits = rest.strip_prefix('-').unwrap_or(rest);
    let n = digits.bytes().take_while(u8::is_ascii_digit).count();
    let len = rest.len() - digits.len() + n;
    // Only `,` or `}` may follow: `1.5`, `1e3` and `012` take the full scan.
    if n == 0
        || (n > 1 && digits.starts_with('0'))
        || !matches!(rest.as_bytes().get(len), Some(b',' | b'}'))
    {
        return None;
    }
    let value = rest[..len].parse().ok()?;
    Some((TagSlot::Int(value), &rest[len..]))
}

struct TagsSeed<'k, const N: usize>(&'k [&'k str; N]);

impl<'de, const N: usize> DeserializeSeed<'de> for TagsSeed<'_, N> {
    type Value = Option<[TagSlot<'de>; N]>; // None: the root is not an object
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(TagsVisitor(self.0))
    }
}

struct TagsVisitor<'k, const N: usize>(&'k [&'k str; N]);

impl<'de, const N: usize> Visitor<'de> for TagsVisitor<'_, N> {
    type Value = Option<[TagSlot<'de>; N]>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut tags = [const { TagSlot::Absent }; N];
        while let Some(k) = map.next_key::<Cow<'de, str>>()? {
            match self.0.iter().position(|key| *key == k) {
                // A repeated key: like the schema validators, the last one wins.
                Some(i) => tags[i] = tag_slot(map.next_value::<serde_json::Value>()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Some(tags))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

fn tag_slot(v: serde_json::Value) -> TagSlot<'static> {
    match v {
        serde_json::Value::String(s) => TagSlot::Str(Cow::Owned(s)),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => TagSlot::Int(i),
            None => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f >= -(2f64.powi(63)) && f < 2f64.powi(63) => {
                    TagSlot::Int(f as i64)
                }
                _ => TagSlot::Other,
            },
        },
        _ => TagSlot::Other,
    }
}

/// The readable form of tag values: the value for one key, `op=0,t=FOO` for several (keys
/// without a string or integer value are left out).
pub fn readable_tags(keys: &[&str], tags: &[TagRef<'_>]) -> String {
    let value = |t: &TagRef<'_>| match t {
        TagRef::Int(i) => Some(i.to_string()),
        TagRef::Str(s) => Some((*s).to_owned()),
        TagRef::Absent | TagRef::Other => None,
    };
    if let ([_], [t]) = (keys, tags) {
        return value(t).unwrap_or_default();
    }
    let parts: Vec<String> = keys
        .iter()
        .zip(tags)
        .filter_map(|(k, t)| value(t).map(|v| format!("{k}={v}")))
        .collect();
    parts.join(",")
}

/// The error for tag values that identify no message.
pub fn unknown_tags(keys: &[&str], tags: &[TagRef<'_>], errors: &Errors) -> DecodeError {
    unknown_tag(&readable_tags(keys, tags), errors)
}

/// Whether the text is a JSON object without a `key` member (used to try untagged messages).
pub fn lacks_tag(input: &str, key: &str) -> bool {
    let mut de = serde_json::Deserializer::from_str(input);
    matches!(
        TagsSeed(&[key]).deserialize(&mut de),
        Ok(Some([TagSlot::Absent]))
    )
}

/// The error for a tag that names no message.
pub fn unknown_tag(tag: &str, errors: &Errors) -> DecodeError {
    DecodeError {
        kind: DecodeErrorKind::UnknownTag,
        message: Cow::Owned(errors.unknown_tag.replace("{tag}", tag)),
        tag: Some(tag.to_owned()),
        path: String::new(),
        detail: format!("unknown tag `{tag}`"),
    }
}

/// The error for an untagged frame that matches none of the untagged messages.
pub fn missing_tag(key: &str, errors: &Errors) -> DecodeError {
    simple(
        DecodeErrorKind::MissingTag,
        errors.missing_tag,
        format!("no `{key}` key"),
    )
}

// ---------------------------------------------------------------------------------------------
// Parsing one message
// ---------------------------------------------------------------------------------------------

/// Parses `input` as `T` and validates it; on failure, reports the location and the wording.
pub fn parse<'a, T>(
    input: &'a str,
    tag: Option<&str>,
    wording: &[Wording],
    errors: &Errors,
) -> Result<T, DecodeError>
where
    T: Deserialize<'a> + Validate,
{
    match serde_json::from_str::<T>(input) {
        Ok(value) => match value.validate() {
            Ok(()) => Ok(value),
            Err(v) => {
                let path = v.path();
                Err(invalid(tag, v.keyword, &path, v.reason, wording, errors))
            }
        },
        // Slow path, only for rejected frames: parse again to learn where it failed.
        Err(_) => {
            let mut de = serde_json::Deserializer::from_str(input);
            let err = match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Ok(_) => unreachable!("the same input parsed differently twice"),
                Err(e) => e,
            };
            let mut path = segments(err.path());
            let reason = err.inner().to_string();
            if err.inner().is_syntax() || err.inner().is_eof() {
                return Err(simple(DecodeErrorKind::NotJson, errors.not_json, reason));
            }
            let keyword = classify(&reason, &mut path);
            Err(invalid(tag, keyword, &path, reason, wording, errors))
        }
    }
}

/// Parses a JSON-object body (an HTTP request or response) as `T` and validates it. Like
/// [`parse`], with one more distinction: a body that is JSON but not an object gets `not_object`.
pub fn parse_body<'a, T>(
    input: &'a str,
    wording: &[Wording],
    errors: &Errors,
) -> Result<T, DecodeError>
where
    T: Deserialize<'a> + Validate,
{
    parse(input, None, wording, errors).map_err(|e| {
        if e.kind == (DecodeErrorKind::Invalid { keyword: "type" }) && e.path.is_empty() {
            simple(DecodeErrorKind::NotObject, errors.not_object, e.detail)
        } else {
            e
        }
    })
}

/// Checks envelope constants (`"global": true`, `"type": "broadcast_group"`) of a frame.
pub fn check_consts(
    input: &str,
    consts: &[(&str, &str)],
    tag: Option<&str>,
    wording: &[Wording],
    errors: &Errors,
) -> Result<(), DecodeError> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(input)
        .map_err(|e| simple(DecodeErrorKind::NotObject, errors.not_object, e.to_string()))?;
    for (key, literal) in consts {
        let expected: serde_json::Value =
            serde_json::from_str(literal).expect("generated constants are valid JSON");
        match object.get(*key) {
            Some(v) if *v == expected => {}
            Some(_) => {
                let path = [Segment::Key((*key).to_owned())];
                let reason = format!("`{key}` must be {literal}");
                return Err(invalid(tag, "const", &path, reason, wording, errors));
            }
            None => {
                let path = [Segment::Key((*key).to_owned())];
                let reason = format!("missing field `{key}`");
                return Err(invalid(tag, "required", &path, reason, wording, errors));
            }
        }
    }
    Ok(())
}

fn segments(path: &serde_path_to_error::Path) -> Vec<Segment> {
    use serde_path_to_error::Segment as S;
    path.iter()
        .filter_map(|s| match s {
            S::Seq { index } => Some(Segment::Index(*index)),
            S::Map { key } => Some(Segment::Key(key.clone())),
            S::Enum { .. } | S::Unknown => None,
        })
        .collect()
}

/// Maps serde's error text onto the JSON Schema keyword it corresponds to.
fn classify(reason: &str, path: &mut Vec<Segment>) -> &'static str {
    if let Some(rest) = reason.strip_prefix("missing field `") {
        if let Some(field) = rest.split('`').next() {
            path.push(Segment::Key(field.to_owned()));
        }
        "required"
    } else if reason.starts_with("unknown variant") {
        "enum"
    } else if reason.starts_with("duplicate field") {
        "duplicate"
    } else {
        "type"
    }
}

fn invalid(
    tag: Option<&str>,
    keyword: &'static str,
    path: &[Segment],
    reason: String,
    wording: &[Wording],
    errors: &Errors,
) -> DecodeError {
    let text = wording
        .iter()
        .find(|w| (w.keyword == keyword || w.keyword == "*") && path_matches(w.path, path))
        .map(|w| w.text)
        .unwrap_or(errors.invalid);
    DecodeError {
        kind: DecodeErrorKind::Invalid { keyword },
        message: Cow::Borrowed(text),
        tag: tag.map(str::to_owned),
        path: render_path(path),
        detail: reason,
    }
}

fn path_matches(pattern: &str, path: &[Segment]) -> bool {
    let mut parts = pattern_parts(pattern);
    let mut segs = path.iter();
    loop {
        match (parts.next(), segs.next()) {
            (None, None) => return true,
            (Some("[]"), Some(Segment::Index(_))) => {}
            (Some("*"), Some(Segment::Key(_))) => {}
            (Some(p), Some(Segment::Key(k))) if p == k => {}
            _ => return false,
        }
    }
}

/// `data.items[].name` → `data`, `items`, `[]`, `name`.
fn pattern_parts(pattern: &str) -> impl Iterator<Item = &str> {
    pattern
        .split('.')
        .filter(|p| !p.is_empty())
        .flat_map(|p| match p.strip_suffix("[]") {
            Some(head) => [Some(head).filter(|h| !h.is_empty()), Some("[]")],
            None => [Some(p), None],
        })
        .flatten()
}

fn render_path(path: &[Segment]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Segment::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Segment::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Field deserializers used by generated code
// ---------------------------------------------------------------------------------------------

/// An optional field that may be absent but, per the schema, never `null`.
pub fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// A JSON Schema `integer`: any JSON number with no fractional part (`3` and `3.0` alike).
pub struct Int(pub i64);

impl Int {
    pub fn vec(v: Vec<Int>) -> Vec<i64> {
        v.into_iter().map(|i| i.0).collect()
    }
    pub fn map(m: indexmap::IndexMap<String, Int>) -> indexmap::IndexMap<String, i64> {
        m.into_iter().map(|(k, i)| (k, i.0)).collect()
    }
}

/// An object key, borrowed from the input when it has no escapes.
pub struct Key<'de>(Cow<'de, str>);

impl Key<'_> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IntVisitor;
        impl Visitor<'_> for IntVisitor {
            type Value = Int;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int, E> {
                Ok(Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int, E> {
                i64::try_from(v)
                    .map(Int)
                    .map_err(|_| E::custom("integer out of range"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Int, E> {
                if v.fract() == 0.0 && v >= -(2f64.powi(63)) && v < 2f64.powi(63) {
                    Ok(Int(v as i64))
                } else {
                    Err(E::invalid_type(de::Unexpected::Float(v), &self))
                }
            }
        }
        d.deserialize_any(IntVisitor)
    }
}

// ---------------------------------------------------------------------------------------------
// Constraint checks used by generated `validate` code
// ---------------------------------------------------------------------------------------------

/// JSON Schema string length counts Unicode code points.
pub fn check_max_length(s: &str, max: usize) -> Result<(), Violation> {
    // Byte length bounds code points from above: most strings never need counting.
    if s.len() <= max || s.chars().count() <= max {
        Ok(())
    } else {
        Err(Violation::new(
            "maxLength",
            format!("longer than {max} characters"),
        ))
    }
}

pub fn check_min_length(s: &str, min: usize) -> Result<(), Violation> {
    if s.len() >= min.saturating_mul(4) || s.chars().count() >= min {
        Ok(())
    } else {
        Err(Violation::new(
            "minLength",
            format!("shorter than {min} characters"),
        ))
    }
}

pub fn check_uuid(s: &str) -> Result<(), Violation> {
    let b = s.as_bytes();
    let ok = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
    if ok {
        Ok(())
    } else {
        Err(Violation::new("format", "not a uuid"))
    }
}

/// RFC 3339 `date-time` (JSON Schema's `format: date-time`): `2026-01-01T12:00:00.123456Z`.
pub fn check_date_time(s: &str) -> Result<(), Violation> {
    if is_date_time(s) {
        Ok(())
    } else {
        Err(Violation::new("format", "not an RFC 3339 date-time"))
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return false;
    }
    let (Some(year), Some(month), Some(day)) =
        (digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10]))
    else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days {
        return false;
    }
    let t = &b[11..];
    if t.len() < 9 || t[2] != b':' || t[5] != b':' {
        return false;
    }
    let (Some(hour), Some(minute), Some(second)) =
        (digits(&t[0..2]), digits(&t[3..5]), digits(&t[6..8]))
    else {
        return false;
    };
    if hour > 23 || minute > 59 || second > 60 {
        return false;
    }
    let mut rest = &t[8..];
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    // The offset; a leap second must fall on 23:59 UTC.
    let utc_minutes =
        |offset: i64| (i64::from(hour) * 60 + i64::from(minute) - offset).rem_euclid(24 * 60);
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (Some(oh), Some(om)) = (digits(&[*h1, *h2]), digits(&[*m1, *m2])) else {
                return false;
            };
            if oh > 23 || om > 59 {
                return false;
            }
            let o = i64::from(oh * 60 + om);
            if *sign == b'+' { o } else { -o }
        }
        _ => return false,
    };
    second != 60 || utc_minutes(offset) == 23 * 60 + 59
}

pub fn check_minimum<N: PartialOrd + fmt::Display>(v: N, min: N) -> Result<(), Violation> {
    if v >= min {
        Ok(())
    } else {
        Err(Violation::new("minimum", format!("less than {min}")))
    }
}

pub fn check_maximum<N: PartialOrd + fmt::Display>(v: N, max: N) -> Result<(), Violation> {
    if v <= max {
        Ok(())
    } else {
        Err(Violation::new("maximum", format!("greater than {max}")))
    }
}

/// The value of a JSON number, for range checks.
pub fn number_value(n: &serde_json::Number) -> f64 {
    n.as_f64().unwrap_or(f64::NAN)
}

pub fn check_min_items(len: usize, min: usize) -> Result<(), Violation> {
    if len >= min {
        Ok(())
    } else {
        Err(Violation::new(
            "minItems",
            format!("fewer than {min} items"),
        ))
    }
}

pub fn check_max_items(len: usize, max: usize) -> Result<(), Violation> {
    if len <= max {
        Ok(())
    } else {
        Err(Violation::new("maxItems", format!("more than {max} items")))
    }
}

pub fn check_const_str(s: &str, expected: &str) -> Result<(), Violation> {
    if s == expected {
        Ok(())
    } else {
        Err(Violation::new("const", format!("must be {expected:?}")))
    }
}

/// The JSON types a raw value may have (a `type: [a, b]` schema).
#[derive(Debug, Clone, Copy)]
pub struct JsonTypes(pub &'static [&'static str]);

pub fn check_json_type(v: &serde_json::Value, allowed: JsonTypes) -> Result<(), Violation> {
    use serde_json::Value as V;
    let ok = allowed.0.iter().any(|t| match (*t, v) {
        ("null", V::Null) | ("boolean", V::Bool(_)) | ("string", V::String(_)) => true,
        ("array", V::Array(_)) | ("object", V::Object(_)) | ("number", V::Number(_)) => true,
        ("integer", V::Number(n)) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    });
    if ok {
        Ok(())
    } else {
        Err(Violation::new(
            "type",
            format!("must be one of {:?}", allowed.0),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchored_tag_needs_the_key_first_and_no_escapes() {
        assert_eq!(anchored_tag(r#"{"cmd":"ping"}"#, "cmd"), Some("ping"));
        assert_eq!(anchored_tag(r#"{ "cmd":"ping"}"#, "cmd"), None);
        assert_eq!(anchored_tag(r#"{"cmd":"p\"ing"}"#, "cmd"), None);
        assert_eq!(anchored_tag(r#"{"cmdx":"ping"}"#, "cmd"), None);
    }

    #[test]
    fn anchored_tags_read_integers_and_consecutive_keys() {
        let keys = &["op", "t"];
        let never = |_: TagRef<'_>| false;
        let tags = anchored_tags(r#"{"op":0,"t":"READY","s":1}"#, keys, never).unwrap();
        assert_eq!(tags[0], TagSlot::Int(0));
        assert_eq!(tags[1], TagSlot::Str(Cow::Borrowed("READY")));
        // The first value alone decides: the rest is not looked at.
        let hello = |t: TagRef<'_>| t == TagRef::Int(10);
        let tags = anchored_tags(r#"{"op":10,"d":{}}"#, keys, hello).unwrap();
        assert_eq!(tags, [TagSlot::Int(10), TagSlot::Absent]);
        assert!(anchored_tags(r#"{"op":11}"#, &["op"], never).is_some());
        assert!(anchored_tags(r#"{"op":-3}"#, &["op"], never).is_some());
        // Anything unusual takes the full scan.
        assert!(anchored_tags(r#"{"op":0,"d":{},"t":"READY"}"#, keys, never).is_none());
        assert!(anchored_tags(r#"{"op":1.0}"#, &["op"], never).is_none());
        assert!(anchored_tags(r#"{"op":01}"#, &["op"], never).is_none());
        assert!(anchored_tags(r#"{"op":1e1}"#, &["op"], never).is_none());
        assert!(anchored_tags(r#"{ "op":1}"#, &["op"], never).is_none());
    }

    #[test]
    fn scanned_tags_compare_numbers_by_value() {
        let errors = Errors {
            not_json: "j",
            not_object: "o",
            missing_tag: "m",
            unknown_tag: "u {tag}",
            invalid: "i",
        };
        let keys = &["op", "t"];
        let never = |_: TagRef<'_>| false;
        let tags = read_tags(r#"{"d":null,"t":"X","op":2.0}"#, keys, never, &errors).unwrap();
        assert_eq!(tags, [TagSlot::Int(2), TagSlot::Str(Cow::Borrowed("X"))]);
        let tags = read_tags(r#"{"op":2,"t":null}"#, keys, never, &errors).unwrap();
        assert_eq!(tags, [TagSlot::Int(2), TagSlot::Other]);
        let e = read_tags(r#"{"op":true}"#, keys, never, &errors).unwrap_err();
        assert_eq!(e.kind(), DecodeErrorKind::MissingTag);
        let e = read_tags(r#"{"t":"X"}"#, keys, never, &errors).unwrap_err();
        assert_eq!(e.kind(), DecodeErrorKind::MissingTag);
        let e = read_tags("[1]", keys, never, &errors).unwrap_err();
        assert_eq!(e.kind(), DecodeErrorKind::NotObject);
        let refs = [TagRef::Int(0), TagRef::Str("FOO")];
        let e = unknown_tags(keys, &refs, &errors);
        assert_eq!(e.message(), "u op=0,t=FOO");
        assert_eq!(e.tag(), Some("op=0,t=FOO"));
        assert_eq!(readable_tags(&["op"], &[TagRef::Int(5)]), "5");
        assert_eq!(
            readable_tags(keys, &[TagRef::Int(9), TagRef::Other]),
            "op=9"
        );
    }

    #[test]
    fn date_times() {
        assert!(is_date_time("2026-01-01T12:00:00.123456Z"));
        assert!(is_date_time("2024-02-29T00:00:00+01:00"));
        assert!(is_date_time("2026-06-30T23:59:60Z"));
        assert!(!is_date_time("2025-02-29T00:00:00Z"));
        assert!(!is_date_time("2026-01-01 12:00:00Z"));
        assert!(!is_date_time("2026-01-01T12:00:00"));
        assert!(!is_date_time("2026-01-01T12:00:60Z"));
        assert!(!is_date_time(""));
    }

    #[test]
    fn path_patterns_match_indices_and_map_keys() {
        let path = [
            Segment::Key("data".into()),
            Segment::Key("items".into()),
            Segment::Index(3),
            Segment::Key("name".into()),
        ];
        assert!(path_matches("data.items[].name", &path));
        assert!(!path_matches("data.items.name", &path));
        assert!(path_matches("data.*[].name", &path));
        assert_eq!(render_path(&path), "data.items[3].name");
    }
}
