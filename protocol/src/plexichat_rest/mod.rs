//! The Plexichat REST core (`/api/v1`): request and response bodies and the route table,
//! generated from `spec/plexichat-rest.yaml` (OpenAPI 3.1).
//!
//! Request bodies decode with [`LoginRequest::decode`] and friends, which enforce every
//! constraint of the schema and word failures as `x-chorus.errors` says; every body type
//! serializes back to its wire JSON. [`ROUTES`] lists each operation's method, path template,
//! operationId, body types and statuses.

mod generated;
pub use generated::*;
