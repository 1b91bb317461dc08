//! The Plexichat gateway (`/gateway`): flat `{"op", "t", "s", "d"}` frames identified by their
//! op code and, for dispatches (op 0), by the event name in `t`; see `spec/gateway.yaml`.

mod generated;
pub use generated::*;
