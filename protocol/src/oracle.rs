//! The spec's own schemas as validators (feature `oracle`): tests, benchmarks and clients can
//! check any frame or body against the spec it came from.

use serde_json::Value;

/// A validator for the schema at `pointer` (e.g. `#/components/messages/Message/payload`) inside
/// a spec document, resolving `$ref`s against that document.
///
/// AsyncAPI documents are JSON Schema draft 7 with `format: uuid` added (draft 7 predates it; the
/// specs use it, hyphenated form only, as 2019-09 defines it); OpenAPI 3.1 documents are
/// draft 2020-12. Formats are checked.
pub fn validator(doc: &Value, pointer: &str) -> Result<jsonschema::Validator, String> {
    let openapi = doc.get("openapi").is_some();
    let mut root = doc.clone();
    let object = root
        .as_object_mut()
        .ok_or("the spec document is not an object")?;
    let meta = if openapi {
        "https://json-schema.org/draft/2020-12/schema"
    } else {
        "http://json-schema.org/draft-07/schema#"
    };
    object.insert("$schema".into(), Value::String(meta.into()));
    object.insert("allOf".into(), serde_json::json!([{ "$ref": pointer }]));
    let built = if openapi {
        jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&root)
    } else {
        jsonschema::draft7::options()
            .should_validate_formats(true)
            .with_format("uuid", |s: &str| {
                s.len() == 36 && uuid::Uuid::try_parse(s).is_ok()
            })
            .build(&root)
    };
    built.map_err(|e| format!("schema at {pointer} does not compile: {e}"))
}
