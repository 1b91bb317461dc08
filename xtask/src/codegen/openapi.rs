//! The OpenAPI 3.1 front-end: request and response bodies of every operation become types built
//! by the same schema machinery as the AsyncAPI frames (`ir::Builder`), plus a route table.
//! The conventions it checks are in spec/README.md ("OpenAPI documents").

use super::ir::{Builder, Errors, Kind, TypeDef, collect_wording, describe};
use super::names::pascal;
use super::yaml::Node;
use anyhow::{Context, Result, bail, ensure};
use indexmap::IndexMap;
use std::collections::BTreeSet;

pub struct RestApi {
    pub module: String,
    pub spec_file: String,
    pub title: String,
    pub errors: Errors,
    pub types: IndexMap<String, TypeDef>,
    /// Every body type, once: request bodies first, in the order they were reached.
    pub bodies: IndexMap<String, Body>,
    pub routes: Vec<Route>,
}

pub struct Body {
    /// The Rust type (the `components/schemas` key).
    pub name: String,
    /// `#/components/schemas/<name>`.
    pub schema: String,
    /// Whether the body is an object (decoded through `crate::de::parse_body`).
    pub object: bool,
    /// Whether some operation takes it as its request body.
    pub request: bool,
    pub wording: Vec<(String, String, String)>,
}

pub struct Route {
    pub method: String,
    pub path: String,
    pub operation_id: String,
    pub doc: String,
    /// (body type, JSON pointer of the media type object, which holds the examples).
    pub request: Option<(String, String)>,
    /// (status, body type and media pointer).
    pub responses: Vec<(u16, Option<(String, String)>)>,
    pub success: u16,
    /// Whether the operation may be called without credentials (`security: []`).
    pub public: bool,
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
const JSON: &str = "application/json";
const SCHEMAS: &str = "#/components/schemas/";

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

pub fn is_openapi(doc: &Node) -> bool {
    doc.get("openapi").is_some()
}

pub fn build(spec_file: &str, doc: &Node) -> Result<RestApi> {
    let version = doc.str_at("openapi").unwrap_or_default();
    ensure!(
        version.starts_with("3.1."),
        "{spec_file}: openapi must be 3.1.x (found {version:?})"
    );
    let chorus = doc
        .get("x-chorus")
        .with_context(|| format!("{spec_file}: no x-chorus block at the root"))?;
    let module = chorus
        .str_at("module")
        .context("x-chorus.module")?
        .to_owned();
    let errors = {
        let e = chorus.get("errors").context("x-chorus.errors")?;
        for k in e.as_map().context("x-chorus.errors is a map")?.keys() {
            ensure!(
                ["not_json", "not_object", "invalid"].contains(&k.as_str()),
                "x-chorus.errors.{k}: bodies have no tag; only not_json, not_object and invalid apply"
            );
        }
        let get = |k: &str| -> Result<String> {
            Ok(e.str_at(k)
                .with_context(|| format!("x-chorus.errors.{k}"))?
                .to_owned())
        };
        let invalid = get("invalid")?;
        Errors {
            not_json: get("not_json")?,
            not_object: get("not_object")?,
            missing_tag: invalid.clone(),
            unknown_tag: invalid.clone(),
            invalid,
        }
    };
    let paths = doc
        .get("paths")
        .and_then(Node::as_map)
        .context("no paths")?;

    // Pass 1: the operations, with their bodies' schema names.
    let mut ops: Vec<Route> = Vec::new();
    let mut ids = BTreeSet::new();
    for (path, item) in paths {
        ensure!(path.starts_with('/'), "path {path} must start with /");
        let item = item.as_map().with_context(|| format!("path {path}"))?;
        for key in item.keys() {
            ensure!(
                METHODS.contains(&key.as_str())
                    || ["parameters", "summary", "description"].contains(&key.as_str()),
                "path {path}: unsupported key {key}"
            );
        }
        for (method, op) in item {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let at = format!("{} {path}", method.to_uppercase());
            let operation_id = op
                .str_at("operationId")
                .with_context(|| format!("{at}: no operationId"))?
                .to_owned();
            ensure!(
                ids.insert(pascal(&operation_id)),
                "{at}: operationId {operation_id} is not unique"
            );
            let pointer = format!("#/paths/{}/{method}", escape(path));
            let request = match op.get("requestBody") {
                None => None,
                // A file upload: the server reads the form itself (no generated type).
                Some(rb) if only_media(rb, &["multipart/form-data"]) => None,
                Some(rb) => {
                    ensure!(
                        rb.get("$ref").is_none(),
                        "{at}: write the requestBody inline"
                    );
                    Some(
                        media(doc, rb, &format!("{pointer}/requestBody"))
                            .with_context(|| format!("{at}: requestBody"))?,
                    )
                }
            };
            let responses = op
                .get("responses")
                .and_then(Node::as_map)
                .with_context(|| format!("{at}: no responses"))?;
            let mut statuses = Vec::new();
            for (status, response) in responses {
                let code: u16 = status
                    .parse()
                    .ok()
                    .filter(|c| (100..600).contains(c))
                    .with_context(|| {
                        format!("{at}: response {status}: only numeric status codes are supported")
                    })?;
                let (response, at_ptr) = match response.str_at("$ref") {
                    Some(r) => {
                        ensure!(
                            r.starts_with("#/components/responses/"),
                            "{at}: response {status}: only #/components/responses refs"
                        );
                        let target = doc
                            .pointer(r)
                            .with_context(|| format!("unresolvable {r}"))?;
                        (target, r.to_owned())
                    }
                    None => (response, format!("{pointer}/responses/{status}")),
                };
                let body = if only_media(response, BINARY) {
                    // File contents, not JSON: nothing to type or validate.
                    None
                } else if response.get("content").is_some() {
                    Some(
                        media(doc, response, &at_ptr)
                            .with_context(|| format!("{at}: response {status}"))?,
                    )
                } else {
                    None
                };
                statuses.push((code, body));
            }
            let success = statuses
                .iter()
                .map(|(c, _)| *c)
                .filter(|c| (200..300).contains(c))
                .min()
                .with_context(|| format!("{at}: no 2xx response"))?;
            let public = matches!(op.get("security"), Some(Node::Seq(s)) if s.is_empty());
            let mut doc_parts = Vec::new();
            for k in ["summary", "description"] {
                if let Some(s) = op.str_at(k) {
                    doc_parts.push(s.trim().to_owned());
                }
            }
            ops.push(Route {
                method: method.to_uppercase(),
                path: path.clone(),
                operation_id,
                doc: doc_parts.join("\n\n"),
                request,
                responses: statuses,
                success,
                public,
            });
        }
    }
    ensure!(!ops.is_empty(), "{spec_file}: no operations");

    // Pass 2: the types. Request bodies first, with the client-side rules (their formats must
    // be enforceable), then the responses.
    let mut b = Builder::new(doc);
    let mut bodies: IndexMap<String, Body> = IndexMap::new();
    let mut add = |b: &mut Builder, name: &str, request: bool| -> Result<()> {
        if let Some(body) = bodies.get_mut(name) {
            body.request |= request;
            return Ok(());
        }
        let schema = format!("{SCHEMAS}{name}");
        let node = doc.pointer(&schema).expect("checked by media()");
        let reference = Node::Map(IndexMap::from([(
            "$ref".to_owned(),
            Node::Str(schema.clone()),
        )]));
        let shape = b
            .shape(&reference, name, request)
            .with_context(|| format!("components/schemas/{name}"))?;
        ensure!(
            !shape.nullable,
            "components/schemas/{name}: a body cannot be null"
        );
        let object = match shape.kind {
            Kind::Named {
                is_struct: true, ..
            } => true,
            Kind::Named { .. } => bail!("components/schemas/{name}: a body cannot be an enum"),
            _ => {
                // A map (`additionalProperties: <schema>`) is a JSON object too.
                let map = matches!(shape.kind, Kind::Map(_));
                ensure!(
                    !request || map,
                    "components/schemas/{name}: a request body must be an object"
                );
                b.newtype(name, describe(node), shape);
                map
            }
        };
        let mut wording = Vec::new();
        collect_wording(doc, node, "", &mut wording, &mut BTreeSet::new())?;
        bodies.insert(
            name.to_owned(),
            Body {
                name: name.to_owned(),
                schema,
                object,
                request,
                wording,
            },
        );
        Ok(())
    };
    for o in &ops {
        if let Some((name, _)) = &o.request {
            add(&mut b, name, true).with_context(|| format!("{spec_file}: {}", o.operation_id))?;
        }
    }
    for o in &ops {
        for (name, _) in o.responses.iter().filter_map(|(_, body)| body.as_ref()) {
            add(&mut b, name, false).with_context(|| format!("{spec_file}: {}", o.operation_id))?;
        }
    }
    let title = doc
        .pointer("#/info/title")
        .and_then(Node::as_str)
        .unwrap_or(&module)
        .to_owned();
    Ok(RestApi {
        module,
        spec_file: spec_file.to_owned(),
        title,
        errors,
        types: b.into_types(),
        bodies,
        routes: ops,
    })
}

/// Media types of file contents (responses that are not JSON).
const BINARY: &[&str] = &["application/octet-stream", "*/*"];

/// Whether `holder`'s `content` has exactly one media type, one of `types`.
fn only_media(holder: &Node, types: &[&str]) -> bool {
    holder
        .get("content")
        .and_then(Node::as_map)
        .is_some_and(|c| c.len() == 1 && c.keys().all(|k| types.contains(&k.as_str())))
}

/// The JSON body of a request body or response object: `content` has exactly
/// `application/json`, whose `schema` is a `$ref` to `#/components/schemas/<Name>` and which
/// has at least one example. Returns (Name, pointer of the media type object).
fn media(doc: &Node, holder: &Node, pointer: &str) -> Result<(String, String)> {
    let content = holder
        .get("content")
        .and_then(Node::as_map)
        .context("no content")?;
    ensure!(
        content.len() == 1 && content.contains_key(JSON),
        "content must be exactly {JSON}"
    );
    let m = &content[JSON];
    let schema = m.get("schema").context("no schema")?;
    let r = schema
        .str_at("$ref")
        .context("the schema must be a $ref to #/components/schemas/<Name>")?;
    ensure!(
        schema.as_map().is_some_and(|m| m.len() == 1),
        "no keywords next to $ref"
    );
    let name = r
        .strip_prefix(SCHEMAS)
        .with_context(|| format!("only {SCHEMAS} refs are supported: {r}"))?;
    ensure!(doc.pointer(r).is_some(), "unresolvable {r}");
    ensure!(m.get("example").is_none(), "use `examples`, not `example`");
    let examples = m
        .get("examples")
        .and_then(Node::as_map)
        .filter(|e| !e.is_empty())
        .context("at least one entry in `examples` is required")?;
    for (key, example) in examples {
        let example = match example.str_at("$ref") {
            Some(r) => {
                ensure!(
                    r.starts_with("#/components/examples/"),
                    "example {key}: only #/components/examples refs"
                );
                doc.pointer(r)
                    .with_context(|| format!("unresolvable {r}"))?
            }
            None => example,
        };
        ensure!(
            example.get("value").is_some(),
            "example {key} has no `value` (externalValue is not supported)"
        );
    }
    Ok((
        name.to_owned(),
        format!("{pointer}/content/{}", escape(JSON)),
    ))
}

#[cfg(test)]
mod tests {
    use super::build;
    use crate::codegen::{render, yaml};

    /// A one-operation document whose request body schema is `body`.
    fn spec(body: &str) -> String {
        format!(
            "openapi: 3.1.0
info: {{title: T, version: '1'}}
x-chorus:
  module: t
  errors: {{not_json: j, not_object: o, invalid: i}}
paths:
  /things/{{id}}:
    post:
      operationId: makeThing
      security: []
      requestBody:
        content:
          application/json:
            schema: {body}
            examples: {{a: {{value: {{name: x}}}}}}
      responses:
        '201':
          description: made
          content:
            application/json:
              schema: {{$ref: '#/components/schemas/Things'}}
              examples: {{a: {{value: []}}}}
        '204': {{description: nothing}}
components:
  schemas:
    Thing:
      type: object
      required: [name]
      properties:
        name: {{type: string, maxLength: 3, x-error: bad name}}
    Things:
      type: array
      items: {{$ref: '#/components/schemas/Thing'}}
"
        )
    }

    #[test]
    fn operations_become_bodies_and_routes() {
        let api = build(
            "t.yaml",
            &yaml::load(&spec("{$ref: '#/components/schemas/Thing'}")).unwrap(),
        )
        .unwrap();
        let route = &api.routes[0];
        assert_eq!(
            (
                route.method.as_str(),
                route.path.as_str(),
                route.success,
                route.public
            ),
            ("POST", "/things/{id}", 201, true)
        );
        assert!(api.bodies["Thing"].request && api.bodies["Thing"].object);
        assert!(!api.bodies["Things"].object);
        assert_eq!(api.bodies["Thing"].wording[0].2, "bad name");
        let code = render::render_rest(&api).unwrap();
        assert!(code.contains("pub const MAKE_THING: crate::rest::Route"));
        assert!(code.contains("pub struct Things(pub Vec<Thing>);"));
        assert!(code.contains("crate::de::parse_body::<Self>(input, WORDING_THING, &ERRORS)"));
    }

    #[test]
    fn file_uploads_and_downloads_are_untyped() {
        let doc = spec("{$ref: '#/components/schemas/Thing'}")
            .replace(
                "        content:\n          application/json:\n            schema: {$ref: '#/components/schemas/Thing'}\n            examples: {a: {value: {name: x}}}",
                "        content:\n          multipart/form-data:\n            schema: {type: object}",
            )
            .replace("        '204': {description: nothing}", "        '206':\n          description: part\n          content:\n            application/octet-stream: {}");
        assert!(doc.contains("multipart/form-data") && doc.contains("octet-stream"));
        let api = build("t.yaml", &yaml::load(&doc).unwrap()).unwrap();
        let route = &api.routes[0];
        assert!(route.request.is_none());
        assert!(
            route
                .responses
                .iter()
                .any(|(c, b)| *c == 206 && b.is_none())
        );
        // Any other non-JSON media type is still refused.
        let other = doc.replace("multipart/form-data", "text/csv");
        assert!(build("t.yaml", &yaml::load(&other).unwrap()).is_err());
    }

    #[test]
    fn inline_and_non_object_request_bodies_are_rejected() {
        for (body, why) in [
            ("{type: object}", "must be a $ref"),
            ("{$ref: '#/components/schemas/Things'}", "must be an object"),
        ] {
            let e = build("t.yaml", &yaml::load(&spec(body)).unwrap())
                .err()
                .unwrap();
            assert!(format!("{e:#}").contains(why), "{e:#}");
        }
    }
}
