//! Spaces (a Plexichat server; the OriginChats server) and their members.

use super::ids::{RoleId, SpaceId, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Space {
    pub id: SpaceId,
    pub name: String,
    pub description: Option<String>,
    pub icon_url: Option<String>,
    pub owner_id: Option<UserId>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub space_id: SpaceId,
    pub user_id: UserId,
    pub nickname: Option<String>,
    /// Role ids in the member's order (OriginChats evaluates roles in order).
    pub roles: Vec<RoleId>,
    pub joined_at: i64,
    pub timeout_until: Option<i64>,
}
