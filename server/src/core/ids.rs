//! Identifiers. Every id is an opaque string; new ids are UUIDv7 (time-ordered, valid `format: uuid`).

use std::fmt;

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
    };
}

id_type!(
    /// A user (local account, IP-identified guest, external identity, bot or the system).
    UserId
);
id_type!(
    /// A space: a Plexichat server, the OriginChats server.
    SpaceId
);
id_type!(
    /// A room of any kind (text, voice, forum, thread, DM, group, broadcast channel, ...).
    RoomId
);
id_type!(
    /// A message.
    MessageId
);
id_type!(
    /// A role inside a space.
    RoleId
);

/// The id of the space every installation starts with (created by the first migration).
pub const DEFAULT_SPACE: &str = "00000000-0000-7000-8000-000000000001";
/// The `@everyone` role of the default space.
pub const DEFAULT_ROLE: &str = "00000000-0000-7000-8000-000000000002";
/// The `general` room of the default space.
pub const GENERAL_ROOM: &str = "00000000-0000-7000-8000-000000000003";

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
