//! Conformance of the generated protocol crate to the specs, with the `jsonschema` crate as the
//! oracle: every example decodes and re-encodes unchanged, and `decode` accepts exactly what the
//! schema accepts.

mod dialects;
mod differential;
mod examples;
mod gateway;
