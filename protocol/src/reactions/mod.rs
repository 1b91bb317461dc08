//! The reaction chat (`/ws`): `{"type", "data"}` frames, see `spec/reactions.yaml`.

mod generated;
pub use generated::*;
