//! The intermediate representation: what one dialect's generated module contains, built from
//! the spec tree. Every rule of `spec/README.md` is checked here; anything outside the supported
//! subset is an error naming the place in the spec.

use super::names::{pascal, rust_field, variant_name};
use super::yaml::Node;
use anyhow::{Context, Result, anyhow, bail, ensure};
use indexmap::IndexMap;
use std::collections::BTreeSet;

pub struct Dialect {
    pub module: String,
    pub spec_file: String,
    pub title: String,
    pub errors: Errors,
    pub client: Direction,
    pub server: Direction,
    /// Named types (structs and enums) in the order they were first reached.
    pub types: IndexMap<String, TypeDef>,
    pub operations: Vec<Operation>,
}

pub struct Errors {
    pub not_json: String,
    pub not_object: String,
    pub missing_tag: String,
    pub unknown_tag: String,
    pub invalid: String,
}

pub struct Direction {
    /// The keys whose constants identify a frame (`x-chorus.<dir>.tag`: one key or a list).
    pub tag_keys: Vec<String>,
    /// `Some("data")`: adjacent frames `{tag, data}`; `None`: flat frames.
    pub content: Option<String>,
    pub messages: Vec<Message>,
}

pub struct Message {
    /// Variant name (the message key).
    pub key: String,
    /// The frame's identity, one entry per tag key (`None`: the key is not part of it);
    /// `None` for an untagged frame.
    pub tag: Option<Vec<Option<TagConst>>>,
    /// Rust type of the payload (a struct).
    pub payload: String,
    /// An adjacent frame whose content key may be absent (the payload is then `Option<_>`).
    pub optional_content: bool,
    /// Envelope constants: (key, JSON literal).
    pub consts: Vec<(String, String)>,
    pub pointer: String,
    pub doc: String,
    /// (path pattern, keyword, text) rows for the wording of decode errors.
    pub wording: Vec<(String, String, String)>,
}

/// A tag value: the `const` of a tag property.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum TagConst {
    Str(String),
    Int(i64),
}

impl TagConst {
    fn kind(&self) -> &'static str {
        match self {
            TagConst::Str(_) => "string",
            TagConst::Int(_) => "integer",
        }
    }
    /// The value as it reads in a readable tag (`send_message`, `10`).
    pub fn text(&self) -> String {
        match self {
            TagConst::Str(s) => s.clone(),
            TagConst::Int(i) => i.to_string(),
        }
    }
}

impl Direction {
    /// Whether this direction has the original form: one key with string values. Its code is
    /// generated as before composite and integer tags existed.
    pub fn is_simple(&self) -> bool {
        self.tag_keys.len() == 1
            && self.messages.iter().all(|m| {
                m.tag
                    .iter()
                    .flatten()
                    .all(|c| matches!(c, Some(TagConst::Str(_))))
            })
    }

    /// The readable form of a message's tag: the value for one key, `op=0,t=READY` for several.
    pub fn readable_tag(&self, m: &Message) -> Option<String> {
        let tag = m.tag.as_ref()?;
        if self.tag_keys.len() == 1 {
            return tag[0].as_ref().map(TagConst::text);
        }
        let parts: Vec<String> = self
            .tag_keys
            .iter()
            .zip(tag)
            .filter_map(|(k, c)| c.as_ref().map(|c| format!("{k}={}", c.text())))
            .collect();
        Some(parts.join(","))
    }
}

pub struct Operation {
    pub method: String,
    pub message: String,
    pub payload: String,
    pub doc: String,
}

pub enum TypeDef {
    Struct(StructDef),
    Enum(EnumDef),
    /// A non-object content (`data` that is a map or a list): a transparent wrapper.
    Newtype(NewtypeDef),
}

pub struct NewtypeDef {
    pub name: String,
    pub doc: String,
    pub shape: Shape,
}

pub struct StructDef {
    pub name: String,
    pub doc: String,
    pub fields: Vec<Field>,
}

pub struct EnumDef {
    pub name: String,
    pub doc: String,
    /// (Rust variant, wire value)
    pub variants: Vec<(String, String)>,
}

pub struct Field {
    pub wire: String,
    pub rust: String,
    pub doc: String,
    pub required: bool,
    pub shape: Shape,
}

#[derive(Clone)]
pub struct Shape {
    pub kind: Kind,
    pub nullable: bool,
    pub checks: Vec<Check>,
}

#[derive(Clone)]
pub enum Kind {
    Str,
    Int,
    Num,
    Bool,
    /// A generated struct or enum.
    Named {
        name: String,
        is_struct: bool,
    },
    Array(Box<Shape>),
    Map(Box<Shape>),
    /// Raw JSON whose type must be one of these (empty: any).
    Raw(Vec<String>),
}

#[derive(Clone)]
pub enum Check {
    MaxLength(u64),
    MinLength(u64),
    Uuid,
    DateTime,
    ConstStr(String),
    Minimum(String),
    Maximum(String),
    MinItems(u64),
    MaxItems(u64),
}

const JSON_TYPES: [&str; 7] = [
    "string", "integer", "number", "boolean", "object", "array", "null",
];
const SCHEMA_KEYWORDS: [&str; 19] = [
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "maxLength",
    "minLength",
    "format",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "$ref",
    "description",
    "default",
    "examples",
    "title",
];
const FORMATS_ANNOTATION_ONLY: [&str; 5] = ["int32", "int64", "double", "float", "byte"];
const FORMATS_SERVER_ONLY: [&str; 4] = ["uri", "email", "date", "hostname"];

pub fn build(spec_file: &str, doc: &Node) -> Result<Dialect> {
    let version = doc.str_at("asyncapi").unwrap_or_default();
    ensure!(
        version.starts_with("3."),
        "{spec_file}: asyncapi must be 3.x (found {version:?})"
    );
    let channels = doc
        .get("channels")
        .and_then(Node::as_map)
        .context("no channels")?;
    ensure!(
        channels.len() == 1,
        "{spec_file}: exactly one channel (the WebSocket connection) is supported"
    );
    let (channel_name, channel) = channels.first().expect("one channel");
    let chorus = channel
        .get("x-chorus")
        .with_context(|| format!("{spec_file}: channel `{channel_name}` has no x-chorus block"))?;
    let module = chorus
        .str_at("module")
        .context("x-chorus.module")?
        .to_owned();
    let errors = {
        let e = chorus.get("errors").context("x-chorus.errors")?;
        let get = |k: &str| -> Result<String> {
            Ok(e.str_at(k)
                .with_context(|| format!("x-chorus.errors.{k}"))?
                .to_owned())
        };
        Errors {
            not_json: get("not_json")?,
            not_object: get("not_object")?,
            missing_tag: get("missing_tag")?,
            unknown_tag: get("unknown_tag")?,
            invalid: get("invalid")?,
        }
    };
    let envelope = |dir: &str| -> Result<(Vec<String>, Option<String>)> {
        let d = chorus.get(dir).with_context(|| format!("x-chorus.{dir}"))?;
        let tag = match d.get("tag") {
            Some(Node::Str(k)) => vec![k.clone()],
            Some(Node::Seq(keys)) => keys
                .iter()
                .map(|k| k.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .with_context(|| format!("x-chorus.{dir}.tag: a list of keys"))?,
            _ => bail!("x-chorus.{dir}.tag must be a key or a list of keys"),
        };
        ensure!(!tag.is_empty(), "x-chorus.{dir}.tag lists no key");
        let unique: BTreeSet<&String> = tag.iter().collect();
        ensure!(
            unique.len() == tag.len(),
            "x-chorus.{dir}.tag lists a key twice"
        );
        let content = match d.get("content") {
            None | Some(Node::Null) => None,
            Some(Node::Str(s)) => Some(s.clone()),
            Some(_) => bail!("x-chorus.{dir}.content must be a string or null"),
        };
        if let Some(c) = &content {
            ensure!(
                !tag.contains(c),
                "x-chorus.{dir}: the content key cannot be a tag key"
            );
        }
        Ok((tag, content))
    };

    // Which messages each direction has, from the operations.
    let mut direction_of: IndexMap<String, &'static str> = IndexMap::new();
    let mut receive_ops: Vec<(String, String, String)> = Vec::new(); // (op key, message key, doc)
    let operations = doc
        .get("operations")
        .and_then(Node::as_map)
        .context("no operations")?;
    let channel_prefix = format!("#/channels/{channel_name}/messages/");
    for (op_key, op) in operations {
        let action = op.str_at("action").context("operation action")?;
        let dir = match action {
            "receive" => "client",
            "send" => "server",
            other => bail!("operation {op_key}: unknown action {other}"),
        };
        let refs = op
            .get("messages")
            .and_then(Node::as_seq)
            .with_context(|| format!("operation {op_key} lists no messages"))?;
        if dir == "client" {
            ensure!(
                refs.len() == 1,
                "receive operation {op_key} must reference exactly one message"
            );
        }
        for r in refs {
            let target = r.str_at("$ref").context("message $ref")?;
            let key = target.strip_prefix(&channel_prefix).with_context(|| {
                format!("operation {op_key}: messages must point into {channel_prefix}")
            })?;
            if let Some(prev) = direction_of.insert(key.to_owned(), dir) {
                ensure!(
                    prev == dir,
                    "message {key} is used in both directions; define one message per direction"
                );
            }
            if dir == "client" {
                let doc = op_doc(op);
                receive_ops.push((op_key.clone(), key.to_owned(), doc));
            }
        }
    }

    let mut b = Builder::new(doc);
    let (ctag, ccontent) = envelope("client")?;
    let (stag, scontent) = envelope("server")?;
    let mut client = Direction {
        tag_keys: ctag,
        content: ccontent,
        messages: Vec::new(),
    };
    let mut server = Direction {
        tag_keys: stag,
        content: scontent,
        messages: Vec::new(),
    };
    let channel_messages = channel
        .get("messages")
        .and_then(Node::as_map)
        .context("channel has no messages")?;
    let schema_keys: BTreeSet<&str> = doc
        .pointer("#/components/schemas")
        .and_then(Node::as_map)
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    for (key, reference) in channel_messages {
        let target = reference.str_at("$ref").context("channel message $ref")?;
        let message = doc
            .pointer(target)
            .with_context(|| format!("unresolvable {target}"))?;
        ensure!(
            !schema_keys.contains(key.as_str()),
            "message key {key} clashes with components/schemas/{key}"
        );
        let dir = *direction_of
            .get(key)
            .with_context(|| format!("message {key} is not used by any operation"))?;
        let direction = if dir == "client" {
            &mut client
        } else {
            &mut server
        };
        let m = b
            .message(key, target, message, direction, dir == "client")
            .with_context(|| format!("{spec_file}: message {key}"))?;
        direction.messages.push(m);
    }
    for (name, d) in [("client", &client), ("server", &server)] {
        check_tags(d).with_context(|| format!("{spec_file}: {name} messages"))?;
    }
    let mut ops = Vec::new();
    let mut methods = BTreeSet::new();
    for (op_key, msg_key, doc) in receive_ops {
        let method = rust_field(&op_key);
        ensure!(
            methods.insert(method.clone()),
            "two operations map to {method}"
        );
        let m = client
            .messages
            .iter()
            .find(|m| m.key == msg_key)
            .expect("every receive message was built");
        ops.push(Operation {
            method,
            message: msg_key,
            payload: m.payload.clone(),
            doc,
        });
    }
    let title = doc
        .pointer("#/info/title")
        .and_then(Node::as_str)
        .unwrap_or(&module)
        .to_owned();
    Ok(Dialect {
        module,
        spec_file: spec_file.to_owned(),
        title,
        errors,
        client,
        server,
        types: b.types,
        operations: ops,
    })
}

/// Every tag key has values of one type, and no frame can match two messages: any two tagged
/// messages have a key where both have a value and the values differ.
fn check_tags(d: &Direction) -> Result<()> {
    let tagged: Vec<(&Message, &Vec<Option<TagConst>>)> = d
        .messages
        .iter()
        .filter_map(|m| m.tag.as_ref().map(|t| (m, t)))
        .collect();
    for (i, key) in d.tag_keys.iter().enumerate() {
        let kinds: BTreeSet<&str> = tagged
            .iter()
            .filter_map(|(_, t)| t[i].as_ref().map(TagConst::kind))
            .collect();
        ensure!(
            kinds.len() <= 1,
            "the values of tag key `{key}` mix types ({kinds:?})"
        );
    }
    if !d.is_simple() {
        for key in &d.tag_keys {
            let method = rust_field(key);
            ensure!(
                !["decode", "decode_untagged", "tag"].contains(&method.as_str()),
                "tag key `{key}` would clash with the generated method {method}()"
            );
        }
    }
    for (a, (ma, ta)) in tagged.iter().enumerate() {
        for (mb, tb) in &tagged[a + 1..] {
            let apart = ta
                .iter()
                .zip(tb.iter())
                .any(|(x, y)| matches!((x, y), (Some(x), Some(y)) if x != y));
            ensure!(
                apart,
                "messages {} and {} cannot be told apart by their tags ({})",
                ma.key,
                mb.key,
                d.readable_tag(ma).unwrap_or_default()
            );
        }
    }
    Ok(())
}

fn op_doc(op: &Node) -> String {
    let mut parts = Vec::new();
    for k in ["title", "summary", "description"] {
        if let Some(s) = op.str_at(k) {
            parts.push(s.trim().to_owned());
        }
    }
    parts.join("\n\n")
}

pub(super) fn describe(n: &Node) -> String {
    let mut parts = Vec::new();
    for k in ["title", "summary", "description"] {
        if let Some(s) = n.str_at(k) {
            let s = s.trim();
            if !parts.iter().any(|p: &String| p == s) {
                parts.push(s.to_owned());
            }
        }
    }
    if let Some(note) = n.str_at("x-chorus-note") {
        parts.push(format!("Chorus: {}", note.trim()));
    }
    parts.join("\n\n")
}

/// Schema → Rust types, shared by the AsyncAPI and OpenAPI front-ends.
pub(super) struct Builder<'a> {
    doc: &'a Node,
    types: IndexMap<String, TypeDef>,
    in_progress: BTreeSet<String>,
}

impl<'a> Builder<'a> {
    pub(super) fn new(doc: &'a Node) -> Self {
        Builder {
            doc,
            types: IndexMap::new(),
            in_progress: BTreeSet::new(),
        }
    }

    /// The named types built so far, in the order they were first reached.
    pub(super) fn into_types(self) -> IndexMap<String, TypeDef> {
        self.types
    }

    /// Registers a transparent wrapper for a non-object body (a list, a map).
    pub(super) fn newtype(&mut self, name: &str, doc: String, shape: Shape) {
        self.types.insert(
            name.to_owned(),
            TypeDef::Newtype(NewtypeDef {
                name: name.to_owned(),
                doc,
                shape,
            }),
        );
    }

    fn message(
        &mut self,
        key: &str,
        pointer: &str,
        message: &Node,
        dir: &Direction,
        client_side: bool,
    ) -> Result<Message> {
        ensure!(
            message
                .get("examples")
                .and_then(Node::as_seq)
                .is_some_and(|e| !e.is_empty()),
            "has no examples"
        );
        let payload = message.get("payload").context("no payload")?;
        let payload = self.resolve(payload)?;
        ensure!(
            payload.str_at("type") == Some("object"),
            "payload must be `type: object`"
        );
        let untagged = matches!(message.get("x-chorus-untagged"), Some(Node::Bool(true)));
        ensure!(
            !(untagged && client_side),
            "client messages must carry the tag"
        );
        let props = payload
            .get("properties")
            .and_then(Node::as_map)
            .cloned()
            .unwrap_or_default();
        let required = required_set(payload);
        for r in &required {
            ensure!(
                props.contains_key(r),
                "required property {r} is not declared"
            );
        }
        let mut tag: Vec<Option<TagConst>> = vec![None; dir.tag_keys.len()];
        let mut consts = Vec::new();
        let mut rest: IndexMap<String, Node> = IndexMap::new();
        for (name, original) in &props {
            let schema = self.resolve(original)?;
            if let (Some(i), false) = (dir.tag_keys.iter().position(|k| k == name), untagged) {
                let value = match schema.get("const") {
                    Some(Node::Str(v)) => TagConst::Str(v.clone()),
                    Some(Node::Int(v)) => TagConst::Int(*v),
                    Some(_) => bail!("tag `{name}`: only string and integer values are supported"),
                    None => bail!(
                        "tag `{name}` needs a const (leave the property out when it is not part of \
                         this message's identity)"
                    ),
                };
                let expected = match value {
                    TagConst::Str(_) => "string",
                    TagConst::Int(_) => "integer",
                };
                ensure!(
                    schema.str_at("type").is_none_or(|t| t == expected),
                    "tag `{name}`: `type` must be {expected}"
                );
                ensure!(required.contains(name), "the tag `{name}` must be required");
                tag[i] = Some(value);
            } else if let (Some(c), true) = (schema.get("const"), required.contains(name)) {
                ensure!(
                    !client_side,
                    "envelope constants on client frames are not supported"
                );
                consts.push((name.clone(), c.to_json()));
            } else {
                rest.insert(name.clone(), original.clone());
            }
        }
        ensure!(
            untagged || tag[0].is_some(),
            "payload has no `{}` tag property",
            dir.tag_keys[0]
        );
        let tag = (!untagged).then_some(tag);
        let optional_content = dir
            .content
            .as_ref()
            .is_some_and(|c| !untagged && !required.contains(c));
        let payload_type = match (&dir.content, untagged) {
            (Some(content), false) => {
                ensure!(
                    rest.len() == 1 && rest.contains_key(content),
                    "an adjacent frame has only the tag, constants and `{content}`"
                );
                let data_name = format!("{key}Data");
                let shape = self.shape(&rest[content], &data_name, client_side)?;
                ensure!(!shape.nullable, "`{content}` cannot be nullable");
                match shape.kind {
                    Kind::Named {
                        name,
                        is_struct: true,
                    } => name,
                    _ => {
                        let doc = describe(self.target(&rest[content]));
                        self.types.insert(
                            data_name.clone(),
                            TypeDef::Newtype(NewtypeDef {
                                name: data_name.clone(),
                                doc,
                                shape,
                            }),
                        );
                        data_name
                    }
                }
            }
            _ => {
                let mut object = payload.clone();
                if let Node::Map(m) = &mut object {
                    m.insert("properties".into(), Node::Map(rest.clone()));
                    let kept = required
                        .iter()
                        .filter(|r| rest.contains_key(*r))
                        .map(|r| Node::Str(r.clone()))
                        .collect();
                    m.insert("required".into(), Node::Seq(kept));
                }
                self.object(key, &object, client_side, describe(message))?;
                key.to_owned()
            }
        };
        let mut wording = Vec::new();
        collect_wording(self.doc, payload, "", &mut wording, &mut BTreeSet::new())?;
        Ok(Message {
            key: key.to_owned(),
            tag,
            payload: payload_type,
            optional_content,
            consts,
            pointer: format!("{pointer}/payload"),
            doc: describe(message),
            wording,
        })
    }

    /// Follows a `$ref` (to anywhere in the document).
    fn resolve<'n>(&self, n: &'n Node) -> Result<&'n Node>
    where
        'a: 'n,
    {
        match n.str_at("$ref") {
            Some(r) => self
                .doc
                .pointer(r)
                .with_context(|| format!("unresolvable {r}")),
            None => Ok(n),
        }
    }

    /// Builds a struct for an object schema and returns its name.
    fn object(&mut self, name: &str, schema: &Node, client_side: bool, doc: String) -> Result<()> {
        if self.types.contains_key(name) || self.in_progress.contains(name) {
            return Ok(());
        }
        check_keywords(schema)?;
        if let Some(ap) = schema.get("additionalProperties") {
            ensure!(
                !matches!(ap, Node::Bool(false)),
                "{name}: additionalProperties: false is not supported"
            );
        }
        self.in_progress.insert(name.to_owned());
        let required = required_set(schema);
        let mut fields = Vec::new();
        let mut rust_names = BTreeSet::new();
        if let Some(props) = schema.get("properties").and_then(Node::as_map) {
            for (wire, prop) in props {
                let context = format!("{name}{}", pascal(wire));
                let shape = self
                    .shape(prop, &context, client_side)
                    .with_context(|| format!("property {name}.{wire}"))?;
                let rust = rust_field(wire);
                ensure!(
                    rust_names.insert(rust.clone()),
                    "{name}: two properties map to the Rust field {rust}"
                );
                let target = self.target(prop);
                fields.push(Field {
                    wire: wire.clone(),
                    rust,
                    doc: describe(target),
                    required: required.contains(wire),
                    shape,
                });
            }
        }
        for r in &required {
            ensure!(
                fields.iter().any(|f| &f.wire == r),
                "{name}: required property {r} is not declared"
            );
        }
        self.in_progress.remove(name);
        self.types.insert(
            name.to_owned(),
            TypeDef::Struct(StructDef {
                name: name.to_owned(),
                doc,
                fields,
            }),
        );
        Ok(())
    }

    /// The schema a `$ref` points to (or the node itself).
    fn target<'n>(&self, n: &'n Node) -> &'n Node
    where
        'a: 'n,
    {
        match n.str_at("$ref").and_then(|r| self.doc.pointer(r)) {
            Some(t) => t,
            None => n,
        }
    }

    pub(super) fn shape(
        &mut self,
        schema: &Node,
        context: &str,
        client_side: bool,
    ) -> Result<Shape> {
        if let Some(r) = schema.str_at("$ref") {
            let m = schema.as_map().expect("a $ref is in a map");
            ensure!(
                m.keys().all(|k| k == "$ref"),
                "keywords next to $ref are ignored by JSON Schema draft 7; move them into {r}"
            );
            let name = r
                .strip_prefix("#/components/schemas/")
                .with_context(|| format!("only #/components/schemas refs are supported: {r}"))?;
            let target = self
                .doc
                .pointer(r)
                .with_context(|| format!("unresolvable {r}"))?;
            let shape = self.shape_inline(target, name, client_side, true)?;
            return Ok(shape);
        }
        self.shape_inline(schema, context, client_side, false)
    }

    fn shape_inline(
        &mut self,
        schema: &Node,
        name: &str,
        client_side: bool,
        named: bool,
    ) -> Result<Shape> {
        check_keywords(schema)?;
        let types: Vec<String> = match schema.get("type") {
            None => Vec::new(),
            Some(Node::Str(t)) => vec![t.clone()],
            Some(Node::Seq(ts)) => ts
                .iter()
                .map(|t| {
                    t.as_str()
                        .map(str::to_owned)
                        .context("type list of strings")
                })
                .collect::<Result<_>>()?,
            Some(_) => bail!("bad `type`"),
        };
        for t in &types {
            ensure!(JSON_TYPES.contains(&t.as_str()), "unknown type {t}");
        }
        let nullable = types.iter().any(|t| t == "null");
        let concrete: Vec<&String> = types.iter().filter(|t| *t != "null").collect();
        let mut checks = Vec::new();
        let main = match concrete.as_slice() {
            [one] => one.as_str(),
            [] if schema.get("properties").is_some() => "object",
            [] if schema.get("enum").is_some() => "string",
            [] if matches!(schema.get("const"), Some(Node::Str(_))) => "string",
            _ => {
                // Several types, or none: raw JSON with its type checked.
                let mut allowed: Vec<String> = types.clone();
                if concrete.is_empty() && !nullable {
                    allowed.clear();
                }
                return Ok(Shape {
                    kind: Kind::Raw(allowed),
                    nullable: false,
                    checks,
                });
            }
        };
        let kind = match main {
            "string" => {
                if let Some(values) = schema.get("enum") {
                    let values = values.as_seq().context("enum must be a list")?;
                    let mut variants = Vec::new();
                    let mut used = BTreeSet::new();
                    for v in values {
                        let wire = v.as_str().context("only string enums are supported")?;
                        let mut rust = variant_name(wire);
                        let mut n = 2;
                        while !used.insert(rust.clone()) {
                            rust = format!("{}{n}", variant_name(wire));
                            n += 1;
                        }
                        variants.push((rust, wire.to_owned()));
                    }
                    if !self.types.contains_key(name) {
                        self.types.insert(
                            name.to_owned(),
                            TypeDef::Enum(EnumDef {
                                name: name.to_owned(),
                                doc: describe(schema),
                                variants,
                            }),
                        );
                    }
                    Kind::Named {
                        name: name.to_owned(),
                        is_struct: false,
                    }
                } else {
                    if let Some(n) = schema.get("maxLength") {
                        checks.push(Check::MaxLength(n.as_u64().context("maxLength")?));
                    }
                    if let Some(n) = schema.get("minLength") {
                        checks.push(Check::MinLength(n.as_u64().context("minLength")?));
                    }
                    if let Some(c) = schema.get("const") {
                        let c = c.as_str().context("string const")?;
                        checks.push(Check::ConstStr(c.to_owned()));
                    }
                    match schema.str_at("format") {
                        None => {}
                        Some("uuid") => checks.push(Check::Uuid),
                        Some("date-time") => checks.push(Check::DateTime),
                        Some(f) if FORMATS_SERVER_ONLY.contains(&f) => ensure!(
                            !client_side,
                            "format {f} is only supported on server→client frames"
                        ),
                        Some(f) => bail!("unsupported string format {f}"),
                    }
                    Kind::Str
                }
            }
            "integer" | "number" => {
                if let Some(f) = schema.str_at("format") {
                    ensure!(
                        FORMATS_ANNOTATION_ONLY.contains(&f),
                        "unsupported number format {f}"
                    );
                }
                ensure!(schema.get("const").is_none(), "numeric const not supported");
                for (k, check) in [
                    ("minimum", Check::Minimum as fn(String) -> Check),
                    ("maximum", Check::Maximum),
                ] {
                    if let Some(n) = schema.get(k) {
                        let lit = match (n, main) {
                            (Node::Int(i), "integer") => format!("{i}i64"),
                            (Node::Int(i), _) => format!("{i}f64"),
                            (Node::Float(f), "number") => format!("{f:?}f64"),
                            _ => bail!("{k} must be a number of the field's type"),
                        };
                        checks.push(check(lit));
                    }
                }
                if main == "integer" {
                    Kind::Int
                } else {
                    Kind::Num
                }
            }
            "boolean" => {
                ensure!(schema.get("const").is_none(), "boolean const not supported");
                Kind::Bool
            }
            "array" => {
                let items = schema.get("items").context("array without items")?;
                let item = self.shape(items, &format!("{name}Item"), client_side)?;
                if let Some(n) = schema.get("minItems") {
                    checks.push(Check::MinItems(n.as_u64().context("minItems")?));
                }
                if let Some(n) = schema.get("maxItems") {
                    checks.push(Check::MaxItems(n.as_u64().context("maxItems")?));
                }
                Kind::Array(Box::new(item))
            }
            "object" => match (schema.get("properties"), schema.get("additionalProperties")) {
                (None, Some(ap @ Node::Map(_))) => {
                    let value = self.shape(ap, &format!("{name}Value"), client_side)?;
                    Kind::Map(Box::new(value))
                }
                (None, _) if !named => Kind::Raw(if nullable {
                    vec!["object".into(), "null".into()]
                } else {
                    vec!["object".into()]
                }),
                _ => {
                    self.object(name, schema, client_side, describe(schema))?;
                    Kind::Named {
                        name: name.to_owned(),
                        is_struct: true,
                    }
                }
            },
            "null" => Kind::Raw(vec!["null".into()]),
            other => bail!("unsupported type {other}"),
        };
        // A raw object stays raw with null folded into its allowed types.
        if let Kind::Raw(_) = kind {
            return Ok(Shape {
                kind,
                nullable: false,
                checks,
            });
        }
        Ok(Shape {
            kind,
            nullable,
            checks,
        })
    }
}

fn required_set(schema: &Node) -> BTreeSet<String> {
    schema
        .get("required")
        .and_then(Node::as_seq)
        .map(|r| {
            r.iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn check_keywords(schema: &Node) -> Result<()> {
    let Some(m) = schema.as_map() else {
        bail!("a schema must be an object");
    };
    for k in m.keys() {
        ensure!(
            SCHEMA_KEYWORDS.contains(&k.as_str()) || k.starts_with("x-"),
            "unsupported schema keyword `{k}` (see spec/README.md)"
        );
    }
    Ok(())
}

/// Collects `x-error`/`x-errors` rows with their path patterns.
pub(super) fn collect_wording(
    doc: &Node,
    schema: &Node,
    path: &str,
    out: &mut Vec<(String, String, String)>,
    seen: &mut BTreeSet<String>,
) -> Result<()> {
    let schema = match schema.str_at("$ref") {
        Some(r) => {
            if !seen.insert(format!("{r}@{path}")) || path.matches('.').count() > 8 {
                return Ok(());
            }
            doc.pointer(r).ok_or_else(|| anyhow!("unresolvable {r}"))?
        }
        None => schema,
    };
    if !path.is_empty() {
        if let Some(errs) = schema.get("x-errors").and_then(Node::as_map) {
            for (kw, text) in errs {
                let text = text.as_str().context("x-errors values are strings")?;
                out.push((path.to_owned(), kw.clone(), text.to_owned()));
            }
        }
        if let Some(text) = schema.str_at("x-error") {
            out.push((path.to_owned(), "*".to_owned(), text.to_owned()));
        }
    }
    if let Some(props) = schema.get("properties").and_then(Node::as_map) {
        for (k, p) in props {
            let sub = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            collect_wording(doc, p, &sub, out, seen)?;
        }
    }
    if let Some(items) = schema.get("items") {
        collect_wording(doc, items, &format!("{path}[]"), out, seen)?;
    }
    if let Some(ap @ Node::Map(_)) = schema.get("additionalProperties") {
        collect_wording(doc, ap, &format!("{path}.*"), out, seen)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Dialect, TagConst, build};
    use crate::codegen::{render, yaml};

    /// A one-channel spec with client messages tagged by `op` and server messages by the
    /// given `x-chorus.server.tag`, each server message with the given tag properties.
    fn spec(server_tag: &str, server: &[(&str, &str)]) -> String {
        let mut out = format!(
            "asyncapi: 3.0.0
info: {{title: T, version: '1'}}
channels:
  ws:
    address: /ws
    x-chorus:
      module: t
      client: {{tag: op, content: null}}
      server: {{tag: {server_tag}, content: null}}
      errors: {{not_json: j, not_object: o, missing_tag: m, unknown_tag: 'u {{tag}}', invalid: i}}
    messages:
      Ping: {{$ref: '#/components/messages/Ping'}}
"
        );
        for (key, _) in server {
            out += &format!("      {key}: {{$ref: '#/components/messages/{key}'}}\n");
        }
        out += "operations:
  ping:
    action: receive
    channel: {$ref: '#/channels/ws'}
    messages: [{$ref: '#/channels/ws/messages/Ping'}]
  events:
    action: send
    channel: {$ref: '#/channels/ws'}
    messages:
";
        for (key, _) in server {
            out += &format!("      - {{$ref: '#/channels/ws/messages/{key}'}}\n");
        }
        out += "components:
  messages:
    Ping:
      name: ping
      payload:
        type: object
        required: [op]
        properties:
          op: {type: integer, const: 1}
          d: {type: [integer, 'null']}
      examples: [{name: p, payload: {op: 1, d: null}}]
";
        for (key, props) in server {
            // The top-level property names: the words followed by `: {`.
            let required: Vec<&str> = props
                .match_indices(": {")
                .map(|(i, _)| {
                    let head = &props[..i];
                    let start = head.rfind([' ', '{']).map_or(0, |j| j + 1);
                    &head[start..]
                })
                .collect();
            out += &format!(
                "    {key}:
      name: {key}
      payload:
        type: object
        required: [{}, s]
        properties: {{{props}, s: {{type: integer}}}}
      examples: [{{name: e, payload: {{}}}}]
",
                required.join(", ")
            );
        }
        out
    }

    fn dialect(text: &str) -> anyhow::Result<Dialect> {
        build("t.yaml", &yaml::load(text)?)
    }

    #[test]
    fn composite_tags_identify_messages_by_their_constants() {
        let d = dialect(&spec(
            "[op, t]",
            &[
                ("Hello", "op: {type: integer, const: 10}"),
                ("Ready", "op: {const: 0}, t: {type: string, const: READY}"),
                ("Resumed", "op: {const: 0}, t: {const: RESUMED}"),
            ],
        ))
        .unwrap();
        let tags: Vec<_> = d
            .server
            .messages
            .iter()
            .map(|m| d.server.readable_tag(m))
            .collect();
        assert_eq!(
            tags,
            [
                Some("op=10".into()),
                Some("op=0,t=READY".into()),
                Some("op=0,t=RESUMED".into())
            ]
        );
        assert!(!d.server.is_simple() && !d.client.is_simple());
        assert!(d.server.messages[0].tag.as_ref().unwrap()[1].is_none());
        assert!(matches!(
            &d.client.messages[0].tag.as_ref().unwrap()[0],
            Some(TagConst::Int(1))
        ));
        let code = render::render(&d).unwrap();
        assert!(code.contains("[crate::de::TagRef::Int(0), crate::de::TagRef::Str(\"READY\")] =>"));
        assert!(code.contains("|first| matches!(first, crate::de::TagRef::Int(10))"));
        assert!(code.contains("pub fn t(&self) -> Option<&'static str>"));
        assert!(code.contains("pub fn op(&self) -> i64"));
    }

    #[test]
    fn frames_that_could_match_two_messages_are_rejected() {
        let e = dialect(&spec(
            "[op, t]",
            &[
                ("Status", "op: {const: 50}"),
                ("Ratchet", "op: {const: 50}, t: {const: RATCHET_UPDATE}"),
            ],
        ))
        .err()
        .unwrap();
        assert!(format!("{e:#}").contains("cannot be told apart"), "{e:#}");
    }

    #[test]
    fn tag_values_of_one_key_share_a_type() {
        let e = dialect(&spec(
            "op",
            &[("A", "op: {const: 0}"), ("B", "op: {const: '1'}")],
        ))
        .err()
        .unwrap();
        assert!(format!("{e:#}").contains("mix types"), "{e:#}");
        let e = dialect(&spec(
            "[op, t]",
            &[("A", "op: {const: 0}, t: {type: string}")],
        ))
        .err()
        .unwrap();
        assert!(format!("{e:#}").contains("needs a const"), "{e:#}");
    }
}
