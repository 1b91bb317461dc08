//! Storage of roles, memberships, bans, profiles, spaces and the audit log (the members and
//! moderation slice of the [`Store`](super::Store)).

use super::{BoxFut, CommitHook};
use crate::core::audit::{AuditEntry, AuditFilter};
use crate::core::ids::{RoleId, SpaceId, UserId};
use crate::core::moderation::{Ban, MemberProfile, SpaceUpdate, UserProfile};
use crate::core::permissions::Role;
use crate::core::roles::RoleDetails;
use crate::core::spaces::{Member, Space};
use crate::core::users::User;
use std::collections::HashMap;

pub trait MemberStore: Send + Sync {
    // --- roles
    /// Inserts or replaces a role (by id) with its details; `Conflict` when the name is taken.
    fn save_role(
        &self,
        space: SpaceId,
        role: Role,
        details: RoleDetails,
        hook: Option<CommitHook<Role>>,
    ) -> BoxFut<'_, Role>;
    /// Deletes a role (it leaves every member); returns it as it was.
    fn delete_role(
        &self,
        space: SpaceId,
        role: RoleId,
        hook: Option<CommitHook<Role>>,
    ) -> BoxFut<'_, Role>;
    /// Sets the positions of several roles in one transaction; returns the roles changed.
    fn set_role_positions(
        &self,
        space: SpaceId,
        positions: Vec<(RoleId, i64)>,
        hook: Option<CommitHook<Vec<Role>>>,
    ) -> BoxFut<'_, Vec<Role>>;
    /// Description and category of every role of the space that has one.
    fn role_details(&self, space: SpaceId) -> BoxFut<'_, HashMap<RoleId, RoleDetails>>;

    // --- members
    /// Replaces the member's roles (in this order); `NotFound` when not a (non-banned) member.
    fn set_member_roles(
        &self,
        space: SpaceId,
        user: UserId,
        roles: Vec<RoleId>,
        hook: Option<CommitHook<Member>>,
    ) -> BoxFut<'_, Member>;
    /// Sets the nickname and the timeout of a member; `NotFound` when not a member.
    fn set_member_profile(
        &self,
        space: SpaceId,
        user: UserId,
        profile: MemberProfile,
        hook: Option<CommitHook<Member>>,
    ) -> BoxFut<'_, Member>;
    /// The reason of a member's timeout.
    fn timeout_reason(&self, space: SpaceId, user: UserId) -> BoxFut<'_, Option<String>>;
    /// Removes a member (kick, leave); false when it was not one.
    fn remove_member(
        &self,
        space: SpaceId,
        user: UserId,
        hook: Option<CommitHook<bool>>,
    ) -> BoxFut<'_, bool>;
    /// Members (not banned) of a space with their users, by user id after `after`.
    fn space_members(
        &self,
        space: SpaceId,
        after: String,
        limit: u32,
    ) -> BoxFut<'_, Vec<(Member, User)>>;

    // --- bans
    /// Bans `ban.user_id` (a member or not); keeps a member's roles for an unban.
    fn ban(&self, ban: Ban, hook: Option<CommitHook<Ban>>) -> BoxFut<'_, Ban>;
    /// Lifts a ban; `keep_member` keeps the user a member (else the flagged row goes). Returns
    /// the ban lifted, None when there was none.
    fn unban(
        &self,
        space: SpaceId,
        user: UserId,
        keep_member: bool,
        hook: Option<CommitHook<Option<Ban>>>,
    ) -> BoxFut<'_, Option<Ban>>;
    fn ban_of(&self, space: SpaceId, user: UserId) -> BoxFut<'_, Option<Ban>>;
    /// Bans of a space, oldest first.
    fn bans(&self, space: SpaceId) -> BoxFut<'_, Vec<Ban>>;

    // --- users
    /// Changes username, display name, avatar, status; `Conflict` when the username is taken.
    fn update_user(
        &self,
        user: UserId,
        profile: UserProfile,
        hook: Option<CommitHook<User>>,
    ) -> BoxFut<'_, User>;
    /// The spaces `user` is a (non-banned) member of.
    fn user_spaces(&self, user: UserId) -> BoxFut<'_, Vec<SpaceId>>;
    /// (status, status text) chosen by the user.
    fn user_status(&self, user: UserId) -> BoxFut<'_, Option<(String, String)>>;
    /// Every user of a kind other than ip/system, by creation, with (status, text).
    fn all_users(&self) -> BoxFut<'_, Vec<(User, String, String)>>;
    /// Deletes a user with its memberships, tokens and credentials (messages stay, authored by
    /// the id); returns whether it existed.
    fn delete_user(&self, user: UserId, hook: Option<CommitHook<bool>>) -> BoxFut<'_, bool>;

    // --- spaces
    /// A space, with its banner and whether it was ever updated.
    fn space(&self, space: SpaceId) -> BoxFut<'_, Option<(Space, Option<String>, bool)>>;
    fn update_space(
        &self,
        space: SpaceId,
        update: SpaceUpdate,
        hook: Option<CommitHook<Space>>,
    ) -> BoxFut<'_, Space>;
    fn delete_space(&self, space: SpaceId, hook: Option<CommitHook<bool>>) -> BoxFut<'_, bool>;

    // --- audit log
    fn insert_audit(&self, entry: AuditEntry) -> BoxFut<'_, ()>;
    /// Entries matching `filter`, newest first, and the total of matching entries.
    fn audit_entries(&self, filter: AuditFilter) -> BoxFut<'_, (Vec<AuditEntry>, i64)>;
    /// (category, action, count) of a space's entries.
    fn audit_counts(&self, space: SpaceId) -> BoxFut<'_, Vec<(String, String, i64)>>;
}
