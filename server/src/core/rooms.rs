//! Rooms of every kind the four dialects know.

use super::ids::{RoomId, SpaceId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomKind {
    /// A text channel in a space.
    Text,
    /// A voice channel in a space.
    Voice,
    /// A visual separator (OriginChats `separator`), or a Plexichat category.
    Separator,
    /// A forum whose messages live in threads.
    Forum,
    /// A thread inside a forum (or a Plexichat thread).
    Thread,
    /// An announcement/broadcast channel: subscribers read, moderators send (messaging `Channel`).
    Broadcast,
    /// Exactly two participants (messaging `OneToOneChat`, Plexichat DM).
    Direct,
    /// A private group conversation with admins (messaging `GroupChat`).
    Group,
}

impl RoomKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoomKind::Text => "text",
            RoomKind::Voice => "voice",
            RoomKind::Separator => "separator",
            RoomKind::Forum => "forum",
            RoomKind::Thread => "thread",
            RoomKind::Broadcast => "broadcast",
            RoomKind::Direct => "direct",
            RoomKind::Group => "group",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "text" => RoomKind::Text,
            "voice" => RoomKind::Voice,
            "separator" => RoomKind::Separator,
            "forum" => RoomKind::Forum,
            "thread" => RoomKind::Thread,
            "broadcast" => RoomKind::Broadcast,
            "direct" => RoomKind::Direct,
            "group" => RoomKind::Group,
            _ => return None,
        })
    }

    /// Rooms whose access is by explicit membership rather than by space roles.
    pub fn is_private(self) -> bool {
        matches!(
            self,
            RoomKind::Direct | RoomKind::Group | RoomKind::Broadcast
        )
    }

    /// Whether messages can be posted in this kind of room at all.
    pub fn holds_messages(self) -> bool {
        !matches!(self, RoomKind::Separator | RoomKind::Forum)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub id: RoomId,
    /// None for DMs and groups that live outside any space.
    pub space_id: Option<SpaceId>,
    pub kind: RoomKind,
    pub name: String,
    pub topic: Option<String>,
    pub position: i64,
    /// Forum of a thread; category of a channel.
    pub parent_id: Option<RoomId>,
    pub creator_id: Option<UserId>,
    pub is_public: bool,
    pub locked: bool,
    pub archived: bool,
    pub max_members: Option<i64>,
    pub slowmode_seconds: i64,
    pub created_at: i64,
    /// Dialect-specific fields (OriginChats icon/wallpaper, messaging preferences): a JSON object.
    pub extra: serde_json::Value,
}

/// A room a client asked to create.
#[derive(Debug, Clone)]
pub struct NewRoom {
    /// None for private rooms outside any space (DMs, groups, messaging channels).
    pub space_id: Option<SpaceId>,
    pub kind: RoomKind,
    pub name: String,
    pub topic: Option<String>,
    pub parent_id: Option<RoomId>,
    /// None: after the last room of the space.
    pub position: Option<i64>,
    pub is_public: bool,
    pub max_members: Option<i64>,
    /// Private rooms: the initial members (the creator is added as `Owner` when absent).
    pub members: Vec<(UserId, RoomRole)>,
    pub extra: Option<serde_json::Value>,
}

/// A participant's standing in a private room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RoomRole {
    Member,
    Moderator,
    Admin,
    Owner,
}

impl RoomRole {
    pub fn as_str(self) -> &'static str {
        match self {
            RoomRole::Member => "member",
            RoomRole::Moderator => "moderator",
            RoomRole::Admin => "admin",
            RoomRole::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "member" => RoomRole::Member,
            "moderator" => RoomRole::Moderator,
            "admin" => RoomRole::Admin,
            "owner" => RoomRole::Owner,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomMember {
    pub room_id: RoomId,
    pub user_id: UserId,
    pub role: RoomRole,
    pub can_send: bool,
    pub joined_at: i64,
}
