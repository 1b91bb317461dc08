//! The wire protocols of the Chorus dialects, generated from `spec/*.yaml` by
//! `cargo xtask codegen`. Each module has the frame types of both directions, `decode` (which
//! enforces every constraint of the spec and words errors as the dialect does), a `Handler`
//! trait with one method per client operation, and the spec itself as JSON.
//!
//! `plexichat_rest` is the REST side, from an OpenAPI document: typed request and response
//! bodies (`decode` with the same strictness and wording machinery) and a route table of
//! [`rest::Route`]s.
//!
//! The crate does no I/O and depends on nothing server-side: clients can use it alone.

pub mod de;
pub mod gateway;
pub mod messaging;
#[cfg(feature = "oracle")]
pub mod oracle;
pub mod originchats;
pub mod plexichat_rest;
pub mod reactions;
pub mod rest;
