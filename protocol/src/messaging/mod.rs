//! django-realtime-chat-messaging (`/messaging/`): `{"event_type", "data"}` in, `{"eventType", "data"}` out, see `spec/messaging.yaml`.

mod generated;
pub use generated::*;
