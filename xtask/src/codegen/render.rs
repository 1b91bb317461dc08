//! IR → Rust source, through the askama template `xtask/templates/generated.rs`.
//!
//! This module turns the IR into a view of ready-made snippets (types, serde attributes,
//! checks); the template arranges them into the module.

use super::ir::{Check, Dialect, Direction, Field, Kind, Message, Shape, TagConst, TypeDef};
use super::names::rust_field;
use super::openapi::RestApi;
use askama::Template;

#[derive(Template)]
#[template(path = "generated.rs", escape = "none")]
struct Generated {
    spec_file: String,
    title: String,
    errors: ErrorsView,
    structs: Vec<StructView>,
    enums: Vec<EnumView>,
    newtypes: Vec<NewtypeView>,
    client: DirView,
    server: DirView,
    ops: Vec<OpView>,
    client_tags: Vec<String>,
}

struct ErrorsView {
    not_json: String,
    not_object: String,
    missing_tag: String,
    unknown_tag: String,
    invalid: String,
}

struct StructView {
    name: String,
    doc: Vec<String>,
    fields: Vec<FieldView>,
    validate: Vec<String>,
    serialize: Vec<String>,
}

struct NewtypeView {
    name: String,
    doc: Vec<String>,
    ty: String,
    validate: Vec<String>,
}

struct FieldView {
    doc: Vec<String>,
    rust: String,
    wire: String,
    ty: String,
    /// Reads the value from `map` (a `MapAccess`).
    read: String,
    /// The local that collects the value while reading the object, and its type.
    slot: String,
    value_ty: String,
    /// Turns the slot into the field.
    finish: String,
}

struct EnumView {
    name: String,
    doc: Vec<String>,
    /// (Rust variant, wire literal)
    variants: Vec<(String, String)>,
}

struct DirView {
    enum_name: String,
    envelope: Option<EnvelopeView>,
    tag_key: String,
    messages: Vec<MsgView>,
    has_untagged: bool,
    /// Integer or several tag keys: decoded through `crate::de::read_tags`.
    composite: Option<CompositeView>,
}

struct CompositeView {
    /// `["op", "t"]`
    keys: Vec<String>,
    /// A closure telling whether the first key's value alone identifies the message.
    decided: String,
    accessors: Vec<AccessorView>,
}

/// `pub fn op(&self) -> i64`: one tag key's value.
struct AccessorView {
    name: String,
    key: String,
    ty: String,
    /// (variant, value expression)
    arms: Vec<(String, String)>,
}

struct EnvelopeView {
    name: String,
    content_lit: String,
}

struct MsgView {
    key: String,
    doc: Vec<String>,
    payload: String,
    /// The readable tag literal, or `None` for untagged frames.
    tag: Option<String>,
    /// The pattern matching the tag values of a composite direction.
    pattern: String,
    pointer: String,
    wording_name: String,
    wording: Vec<(String, String, String)>,
    decode: String,
    serialize: Vec<String>,
}

struct OpView {
    method: String,
    key: String,
    payload: String,
    doc: Vec<String>,
}

fn lit(s: &str) -> String {
    format!("{s:?}")
}

fn doc_lines(text: &str) -> Vec<String> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    text.trim()
        .lines()
        .map(|l| {
            let l = l.trim_end();
            if l.is_empty() {
                "///".to_owned()
            } else {
                format!("/// {l}")
            }
        })
        .collect()
}

/// The Rust type of a shape, ignoring the nullability of the shape itself.
fn base_type(shape: &Shape) -> String {
    match &shape.kind {
        Kind::Str => "String".into(),
        Kind::Int => "i64".into(),
        // A `Number` keeps `24` and `24.0` apart, so frames re-encode as they came.
        Kind::Num => "::serde_json::Number".into(),
        Kind::Bool => "bool".into(),
        Kind::Named { name, .. } => name.clone(),
        Kind::Array(item) => format!("Vec<{}>", inner_type(item)),
        Kind::Map(value) => format!("::indexmap::IndexMap<String, {}>", inner_type(value)),
        Kind::Raw(_) => "::serde_json::Value".into(),
    }
}

fn inner_type(shape: &Shape) -> String {
    if shape.nullable {
        format!("Option<{}>", base_type(shape))
    } else {
        base_type(shape)
    }
}

fn is_int_vec(shape: &Shape) -> bool {
    matches!(&shape.kind, Kind::Array(item) if matches!(item.kind, Kind::Int) && !item.nullable)
}

fn is_int_map(shape: &Shape) -> bool {
    matches!(&shape.kind, Kind::Map(value) if matches!(value.kind, Kind::Int) && !value.nullable)
}

/// (Rust type of the field, expression reading its value from `map`).
///
/// The field's value `V` is `T`, or `Option<T>` when nullable; optional fields are `Option<V>`
/// (absent → `None`), so `null` is only accepted where the schema allows it.
fn field_type(f: &Field) -> (String, String, String) {
    let base = base_type(&f.shape);
    let raw = matches!(f.shape.kind, Kind::Raw(_));
    let nullable = f.shape.nullable && !raw;
    let (value_ty, read) = if matches!(f.shape.kind, Kind::Int) {
        if nullable {
            (
                "Option<i64>".to_owned(),
                "map.next_value::<Option<crate::de::Int>>()?.map(|i| i.0)".to_owned(),
            )
        } else {
            (
                "i64".to_owned(),
                "map.next_value::<crate::de::Int>()?.0".to_owned(),
            )
        }
    } else if is_int_map(&f.shape) && !nullable {
        (
            base.clone(),
            "crate::de::Int::map(map.next_value::<::indexmap::IndexMap<String, crate::de::Int>>()?)"
                .to_owned(),
        )
    } else if is_int_vec(&f.shape) && !nullable {
        (
            base.clone(),
            "crate::de::Int::vec(map.next_value::<Vec<crate::de::Int>>()?)".to_owned(),
        )
    } else if nullable {
        (
            format!("Option<{base}>"),
            format!("map.next_value::<Option<{base}>>()?"),
        )
    } else {
        (base.clone(), format!("map.next_value::<{base}>()?"))
    };
    let ty = if f.required {
        value_ty.clone()
    } else {
        format!("Option<{value_ty}>")
    };
    (ty, value_ty, read)
}

/// Check statements for a value `v` (an expression of type `&T`); errors are located by `wrap`.
fn checks(shape: &Shape, v: &str, wrap: &str, depth: usize, out: &mut Vec<String>) {
    let fail = format!(".map_err(|e| e{wrap})?;");
    let number = if matches!(shape.kind, Kind::Num) {
        format!("crate::de::number_value({v})")
    } else {
        format!("*{v}")
    };
    for c in &shape.checks {
        let call = match c {
            Check::MaxLength(n) => format!("crate::de::check_max_length({v}, {n})"),
            Check::MinLength(n) => format!("crate::de::check_min_length({v}, {n})"),
            Check::Uuid => format!("crate::de::check_uuid({v})"),
            Check::DateTime => format!("crate::de::check_date_time({v})"),
            Check::ConstStr(s) => format!("crate::de::check_const_str({v}, {})", lit(s)),
            Check::Minimum(l) => format!("crate::de::check_minimum({number}, {l})"),
            Check::Maximum(l) => format!("crate::de::check_maximum({number}, {l})"),
            Check::MinItems(n) => format!("crate::de::check_min_items({}.len(), {n})", receiver(v)),
            Check::MaxItems(n) => format!("crate::de::check_max_items({}.len(), {n})", receiver(v)),
        };
        out.push(format!("{call}{fail}"));
    }
    match &shape.kind {
        Kind::Named {
            is_struct: true, ..
        } => out.push(format!("crate::de::Validate::validate({v}){fail}")),
        Kind::Raw(types) if !types.is_empty() => {
            let list: Vec<String> = types.iter().map(|t| lit(t)).collect();
            out.push(format!(
                "crate::de::check_json_type({v}, crate::de::JsonTypes(&[{}])){fail}",
                list.join(", ")
            ));
        }
        Kind::Array(item) => {
            let (i, x) = (format!("i{depth}"), format!("x{depth}"));
            let mut inner = Vec::new();
            checks(
                item,
                &x,
                &format!(".at_index({i}){wrap}"),
                depth + 1,
                &mut inner,
            );
            if !inner.is_empty() {
                let body = unwrap_nullable(item, &x, inner);
                out.push(format!(
                    "for ({i}, {x}) in ({v}).iter().enumerate() {{ {} }}",
                    body
                ));
            }
        }
        Kind::Map(value) => {
            let (k, x) = (format!("k{depth}"), format!("x{depth}"));
            let mut inner = Vec::new();
            checks(
                value,
                &x,
                &format!(".at_key({k}){wrap}"),
                depth + 1,
                &mut inner,
            );
            if !inner.is_empty() {
                let body = unwrap_nullable(value, &x, inner);
                out.push(format!("for ({k}, {x}) in ({v}).iter() {{ {} }}", body));
            }
        }
        _ => {}
    }
}

/// `&self.x` as a method receiver: `(&self.x)`, so `.len()` applies to the field.
fn receiver(v: &str) -> String {
    if v.starts_with('&') {
        format!("({v})")
    } else {
        v.to_owned()
    }
}

fn unwrap_nullable(shape: &Shape, x: &str, inner: Vec<String>) -> String {
    if shape.nullable {
        format!("if let Some({x}) = {x} {{ {} }}", inner.join(" "))
    } else {
        inner.join(" ")
    }
}

fn field_checks(f: &Field) -> Option<String> {
    let wrap = format!(".at_key({})", lit(&f.wire));
    let mut out = Vec::new();
    let raw = matches!(f.shape.kind, Kind::Raw(_));
    match (f.required, f.shape.nullable && !raw) {
        (true, false) => {
            checks(&f.shape, &format!("&self.{}", f.rust), &wrap, 0, &mut out);
            (!out.is_empty()).then(|| out.join(" "))
        }
        (true, true) | (false, false) => {
            checks(&f.shape, "v", &wrap, 0, &mut out);
            (!out.is_empty())
                .then(|| format!("if let Some(v) = &self.{} {{ {} }}", f.rust, out.join(" ")))
        }
        (false, true) => {
            checks(&f.shape, "v", &wrap, 0, &mut out);
            (!out.is_empty()).then(|| {
                format!(
                    "if let Some(Some(v)) = &self.{} {{ {} }}",
                    f.rust,
                    out.join(" ")
                )
            })
        }
    }
}

fn field_serialize(f: &Field) -> String {
    let key = lit(&f.wire);
    let raw = matches!(f.shape.kind, Kind::Raw(_));
    if f.required {
        format!("map.serialize_entry({key}, &self.{})?;", f.rust)
    } else {
        let _ = raw;
        format!(
            "if let Some(v) = &self.{} {{ map.serialize_entry({key}, v)?; }}",
            f.rust
        )
    }
}

fn const_expr(json: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(json).expect("constants are JSON") {
        serde_json::Value::String(s) => lit(&s),
        serde_json::Value::Bool(b) => format!("&{b}"),
        serde_json::Value::Number(n) if n.is_i64() => format!("&{n}i64"),
        serde_json::Value::Null => "&()".into(),
        other => panic!("unsupported envelope constant {other}"),
    }
}

/// The Rust type a variant (and its handler method) carries.
fn payload_type(m: &Message) -> String {
    if m.optional_content {
        format!("Option<{}>", m.payload)
    } else {
        m.payload.clone()
    }
}

fn screaming(key: &str) -> String {
    rust_field(key).trim_start_matches("r#").to_uppercase()
}

fn dir_view(d: &Direction, enum_name: &str, prefix: &str) -> DirView {
    let envelope = d.content.as_ref().map(|c| EnvelopeView {
        name: format!("{prefix}Envelope"),
        content_lit: lit(c),
    });
    let messages = d
        .messages
        .iter()
        .map(|m| msg_view(m, d, envelope.as_ref()))
        .collect();
    DirView {
        enum_name: enum_name.to_owned(),
        tag_key: lit(&d.tag_keys[0]),
        has_untagged: d.messages.iter().any(|m| m.tag.is_none()),
        composite: (!d.is_simple()).then(|| composite_view(d)),
        envelope,
        messages,
    }
}

fn tag_pattern(c: &TagConst) -> String {
    match c {
        TagConst::Str(s) => format!("crate::de::TagRef::Str({})", lit(s)),
        TagConst::Int(i) => format!("crate::de::TagRef::Int({i})"),
    }
}

fn tag_value(c: &TagConst) -> String {
    match c {
        TagConst::Str(s) => lit(s),
        TagConst::Int(i) => format!("{i}"),
    }
}

fn composite_view(d: &Direction) -> CompositeView {
    let tagged: Vec<&Vec<Option<TagConst>>> =
        d.messages.iter().filter_map(|m| m.tag.as_ref()).collect();
    // First values whose messages need no other key (by construction, one message each).
    let mut alone: Vec<String> = tagged
        .iter()
        .filter(|t| t[1..].iter().all(Option::is_none))
        .filter_map(|t| t[0].as_ref().map(tag_pattern))
        .collect();
    alone.dedup();
    let decided = if alone.len() == tagged.len() {
        "|_| true".to_owned()
    } else if alone.is_empty() {
        "|_| false".to_owned()
    } else {
        format!("|first| matches!(first, {})", alone.join(" | "))
    };
    let accessors = d
        .tag_keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let values: Vec<Option<&TagConst>> = d
                .messages
                .iter()
                .map(|m| m.tag.as_ref().and_then(|t| t[i].as_ref()))
                .collect();
            let always = values.iter().all(Option::is_some);
            let base = match values.iter().flatten().next() {
                Some(TagConst::Int(_)) => "i64",
                _ => "&'static str",
            };
            let ty = if always {
                base.to_owned()
            } else {
                format!("Option<{base}>")
            };
            let arms = d
                .messages
                .iter()
                .zip(&values)
                .map(|(m, v)| {
                    let expr = match v {
                        Some(c) if always => tag_value(c),
                        Some(c) => format!("Some({})", tag_value(c)),
                        None => "None".to_owned(),
                    };
                    (m.key.clone(), expr)
                })
                .collect();
            AccessorView {
                name: rust_field(key),
                key: key.clone(),
                ty,
                arms,
            }
        })
        .collect();
    CompositeView {
        keys: d.tag_keys.iter().map(|k| lit(k)).collect(),
        decided,
        accessors,
    }
}

fn msg_view(m: &Message, d: &Direction, envelope: Option<&EnvelopeView>) -> MsgView {
    let wording_name = format!("WORDING_{}", screaming(&m.key));
    let readable = d.readable_tag(m);
    let tag_arg = match &readable {
        Some(t) => format!("Some({})", lit(t)),
        None => "None".into(),
    };
    let consts_check = if m.consts.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = m
            .consts
            .iter()
            .map(|(k, v)| format!("({}, {})", lit(k), lit(v)))
            .collect();
        format!(
            "crate::de::check_consts(input, &[{}], {tag_arg}, {wording_name}, &ERRORS)?;",
            list.join(", ")
        )
    };
    let pattern = match &m.tag {
        Some(tag) => {
            let parts: Vec<String> = tag
                .iter()
                .map(|c| {
                    c.as_ref()
                        .map(tag_pattern)
                        .unwrap_or_else(|| "_".to_owned())
                })
                .collect();
            format!("[{}]", parts.join(", "))
        }
        None => String::new(),
    };
    let parse = match (envelope, &m.tag) {
        (Some(env), Some(_)) => format!(
            "crate::de::parse::<{}{}<{}>>(input, {tag_arg}, {wording_name}, &ERRORS).map(|e| Self::{}(e.content))",
            env.name,
            if m.optional_content { "Optional" } else { "" },
            m.payload,
            m.key
        ),
        _ => format!(
            "crate::de::parse::<{}>(input, {tag_arg}, {wording_name}, &ERRORS).map(Self::{})",
            m.payload, m.key
        ),
    };
    let decode = if consts_check.is_empty() {
        parse
    } else {
        format!("{{ {consts_check} {parse} }}")
    };
    let mut serialize = Vec::new();
    for (key, value) in d.tag_keys.iter().zip(m.tag.iter().flatten()) {
        let Some(value) = value else { continue };
        let value = match value {
            TagConst::Str(s) => lit(s),
            TagConst::Int(i) => format!("&{i}i64"),
        };
        serialize.push(format!("map.serialize_entry({}, {value})?;", lit(key)));
    }
    for (k, v) in &m.consts {
        serialize.push(format!(
            "map.serialize_entry({}, {})?;",
            lit(k),
            const_expr(v)
        ));
    }
    match (&d.content, &m.tag) {
        (Some(c), Some(_)) if m.optional_content => serialize.push(format!(
            "if let Some(content) = payload {{ map.serialize_entry({}, content)?; }}",
            lit(c)
        )),
        (Some(c), Some(_)) => serialize.push(format!("map.serialize_entry({}, payload)?;", lit(c))),
        _ => serialize
            .push("crate::de::SerializeFields::serialize_fields(payload, &mut map)?;".into()),
    }
    MsgView {
        key: m.key.clone(),
        doc: doc_lines(&m.doc),
        payload: payload_type(m),
        tag: readable.as_deref().map(lit),
        pattern,
        pointer: lit(&m.pointer),
        wording_name,
        wording: m
            .wording
            .iter()
            .map(|(p, k, t)| (lit(p), lit(k), lit(t)))
            .collect(),
        decode,
        serialize,
    }
}

/// The views of the named types, shared by both templates (through `types.rs`).
fn type_views(
    types: &indexmap::IndexMap<String, TypeDef>,
) -> (Vec<StructView>, Vec<EnumView>, Vec<NewtypeView>) {
    let mut structs = Vec::new();
    let mut enums = Vec::new();
    let mut newtypes = Vec::new();
    for t in types.values() {
        match t {
            TypeDef::Newtype(n) => {
                let mut validate = Vec::new();
                checks(&n.shape, "&self.0", "", 0, &mut validate);
                newtypes.push(NewtypeView {
                    name: n.name.clone(),
                    doc: doc_lines(&n.doc),
                    ty: inner_type(&n.shape),
                    validate,
                });
            }
            TypeDef::Struct(s) => structs.push(StructView {
                name: s.name.clone(),
                doc: doc_lines(&s.doc),
                fields: s
                    .fields
                    .iter()
                    .map(|f| {
                        let (ty, value_ty, read) = field_type(f);
                        let slot = format!("slot_{}", f.rust.trim_start_matches("r#"));
                        let finish = if f.required {
                            format!(
                                "{slot}.ok_or_else(|| <A::Error as serde::de::Error>::missing_field({}))?",
                                lit(&f.wire)
                            )
                        } else {
                            slot.clone()
                        };
                        FieldView {
                            doc: doc_lines(&f.doc),
                            rust: f.rust.clone(),
                            wire: lit(&f.wire),
                            ty,
                            read,
                            slot,
                            value_ty,
                            finish,
                        }
                    })
                    .collect(),
                validate: s.fields.iter().filter_map(field_checks).collect(),
                serialize: s.fields.iter().map(field_serialize).collect(),
            }),
            TypeDef::Enum(e) => enums.push(EnumView {
                name: e.name.clone(),
                doc: doc_lines(&e.doc),
                variants: e
                    .variants
                    .iter()
                    .map(|(r, w)| (r.clone(), lit(w)))
                    .collect(),
            }),
        }
    }
    (structs, enums, newtypes)
}

pub fn render(d: &Dialect) -> anyhow::Result<String> {
    let (structs, enums, newtypes) = type_views(&d.types);
    // Sorted by value (numerically for integer tags).
    let mut tagged: Vec<&Message> = d
        .client
        .messages
        .iter()
        .filter(|m| m.tag.is_some())
        .collect();
    tagged.sort_by(|a, b| a.tag.cmp(&b.tag));
    let client_tags: Vec<String> = tagged
        .iter()
        .filter_map(|m| d.client.readable_tag(m))
        .collect();
    let view = Generated {
        spec_file: d.spec_file.clone(),
        title: d.title.clone(),
        errors: ErrorsView {
            not_json: lit(&d.errors.not_json),
            not_object: lit(&d.errors.not_object),
            missing_tag: lit(&d.errors.missing_tag),
            unknown_tag: lit(&d.errors.unknown_tag),
            invalid: lit(&d.errors.invalid),
        },
        structs,
        enums,
        newtypes,
        client: dir_view(&d.client, "ClientFrame", "Client"),
        server: dir_view(&d.server, "ServerFrame", "Server"),
        ops: d
            .operations
            .iter()
            .map(|o| OpView {
                method: o.method.clone(),
                key: o.message.clone(),
                payload: d
                    .client
                    .messages
                    .iter()
                    .find(|m| m.key == o.message)
                    .map(payload_type)
                    .unwrap_or_else(|| o.payload.clone()),
                doc: doc_lines(&o.doc),
            })
            .collect(),
        client_tags: client_tags.iter().map(|t| lit(t)).collect(),
    };
    Ok(view.render()?)
}

#[derive(Template)]
#[template(path = "rest.rs", escape = "none")]
struct Rest {
    spec_file: String,
    title: String,
    errors: ErrorsView,
    structs: Vec<StructView>,
    enums: Vec<EnumView>,
    newtypes: Vec<NewtypeView>,
    bodies: Vec<BodyView>,
    routes: Vec<RouteView>,
}

struct BodyView {
    name: String,
    /// "request" or "response"
    role: &'static str,
    wording_name: String,
    wording: Vec<(String, String, String)>,
    parse: String,
}

struct RouteView {
    const_name: String,
    doc: Vec<String>,
    method: String,
    path: String,
    operation_id: String,
    public: bool,
    request: String,
    success: u16,
    responses: Vec<(u16, String)>,
}

fn body_expr(api: &RestApi, body: &Option<(String, String)>) -> String {
    match body {
        None => "None".into(),
        Some((name, media)) => format!(
            "Some(crate::rest::Body {{ type_name: {}, schema: {}, media: {}, reencode: {name}::reencode }})",
            lit(name),
            lit(&api.bodies[name].schema),
            lit(media)
        ),
    }
}

pub fn render_rest(api: &RestApi) -> anyhow::Result<String> {
    let (structs, enums, newtypes) = type_views(&api.types);
    let bodies = api
        .bodies
        .values()
        .map(|b| {
            let wording_name = format!("WORDING_{}", screaming(&b.name));
            let parse = if b.object {
                format!("crate::de::parse_body::<Self>(input, {wording_name}, &ERRORS)")
            } else {
                format!("crate::de::parse::<Self>(input, None, {wording_name}, &ERRORS)")
            };
            BodyView {
                name: b.name.clone(),
                role: if b.request { "request" } else { "response" },
                wording: b
                    .wording
                    .iter()
                    .map(|(p, k, t)| (lit(p), lit(k), lit(t)))
                    .collect(),
                wording_name,
                parse,
            }
        })
        .collect();
    let routes = api
        .routes
        .iter()
        .map(|r| RouteView {
            const_name: screaming(&r.operation_id),
            doc: doc_lines(&format!("`{} {}`: {}", r.method, r.path, r.doc)),
            method: lit(&r.method),
            path: lit(&r.path),
            operation_id: lit(&r.operation_id),
            public: r.public,
            request: body_expr(api, &r.request),
            success: r.success,
            responses: r
                .responses
                .iter()
                .map(|(status, body)| (*status, body_expr(api, body)))
                .collect(),
        })
        .collect();
    let view = Rest {
        spec_file: api.spec_file.clone(),
        title: api.title.clone(),
        errors: ErrorsView {
            not_json: lit(&api.errors.not_json),
            not_object: lit(&api.errors.not_object),
            missing_tag: lit(&api.errors.missing_tag),
            unknown_tag: lit(&api.errors.unknown_tag),
            invalid: lit(&api.errors.invalid),
        },
        structs,
        enums,
        newtypes,
        bodies,
        routes,
    };
    Ok(view.render()?)
}
