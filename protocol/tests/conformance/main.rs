//! Conformance of the generated protocol crate to the specs, with the `jsonschema` crate as the
//! oracle: every example decodes and re-encodes unchanged, and `decode` accepts exactly what the
//! schema accepts. The REST bodies of the OpenAPI document get the same checks (`rest`).

mod dialects;
mod differential;
mod examples;
mod gateway;
mod rest;
