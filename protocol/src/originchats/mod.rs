//! OriginChats (`/`, port 5613): flat `{"cmd", …}` frames, see `spec/originchats.yaml`.

mod generated;
pub use generated::*;
