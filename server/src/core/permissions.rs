//! Roles and permissions, modelled to cover the four dialects:
//! - space roles with a permission set and a position (Plexichat roles, OriginChats roles);
//! - per-room overrides for a role or a member, deny then allow (Plexichat channel overrides,
//!   OriginChats channel permission lists with `!role` denies);
//! - per-room membership roles for private rooms (messaging group admins, channel moderators).
//!
//! Each dialect maps its own permission names onto these bits.

use super::ids::{RoleId, UserId};

/// A set of permissions (bit flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Permissions(pub u64);

macro_rules! perms {
    ($($name:ident = $bit:expr, $wire:literal;)*) => {
        impl Permissions {
            $(pub const $name: Permissions = Permissions(1 << $bit);)*
            /// Every permission.
            pub const ALL: Permissions = Permissions(0 $(| (1 << $bit))*);
            /// (bit, stable name) of every permission: the names used in storage.
            pub const NAMES: &'static [(Permissions, &'static str)] = &[$((Permissions::$name, $wire)),*];
        }
    };
}

perms! {
    ADMINISTRATOR = 0, "administrator";
    VIEW_ROOM = 1, "view_room";
    READ_HISTORY = 2, "read_history";
    SEND_MESSAGES = 3, "send_messages";
    ADD_REACTIONS = 4, "add_reactions";
    EDIT_OWN = 5, "edit_own";
    DELETE_OWN = 6, "delete_own";
    MANAGE_MESSAGES = 7, "manage_messages";
    PIN_MESSAGES = 8, "pin_messages";
    CREATE_THREADS = 9, "create_threads";
    MANAGE_THREADS = 10, "manage_threads";
    MANAGE_ROOMS = 11, "manage_rooms";
    MANAGE_ROLES = 12, "manage_roles";
    MANAGE_SPACE = 13, "manage_space";
    MANAGE_MEMBERS = 14, "manage_members";
    KICK_MEMBERS = 15, "kick_members";
    BAN_MEMBERS = 16, "ban_members";
    MANAGE_NICKNAMES = 17, "manage_nicknames";
    CHANGE_NICKNAME = 18, "change_nickname";
    MENTION_EVERYONE = 19, "mention_everyone";
    ATTACH_FILES = 20, "attach_files";
    EMBED_LINKS = 21, "embed_links";
    USE_EXTERNAL_EMOJIS = 22, "use_external_emojis";
    CREATE_INVITES = 23, "create_invites";
    MANAGE_INVITES = 24, "manage_invites";
    VIEW_AUDIT_LOG = 25, "view_audit_log";
    VOICE_CONNECT = 26, "voice_connect";
    VOICE_SPEAK = 27, "voice_speak";
    VOICE_MUTE_MEMBERS = 28, "voice_mute_members";
    VOICE_MOVE_MEMBERS = 29, "voice_move_members";
    BYPASS_SLOWMODE = 30, "bypass_slowmode";
    MANAGE_EMOJIS = 31, "manage_emojis";
    MANAGE_WEBHOOKS = 32, "manage_webhooks";
    USE_SLASH_COMMANDS = 33, "use_slash_commands";
    // OriginChats role permissions without another home
    VOICE_STREAM = 34, "voice_stream";
    VOICE_ACTIVITY = 35, "voice_activity";
}

impl Permissions {
    pub const NONE: Permissions = Permissions(0);

    /// What a plain member gets by default (`@everyone` / OriginChats `user`).
    pub const DEFAULT_MEMBER: Permissions = Permissions(
        Self::VIEW_ROOM.0
            | Self::READ_HISTORY.0
            | Self::SEND_MESSAGES.0
            | Self::ADD_REACTIONS.0
            | Self::EDIT_OWN.0
            | Self::DELETE_OWN.0
            | Self::CHANGE_NICKNAME.0
            | Self::ATTACH_FILES.0
            | Self::EMBED_LINKS.0
            | Self::USE_EXTERNAL_EMOJIS.0
            | Self::CREATE_INVITES.0
            | Self::VOICE_CONNECT.0
            | Self::VOICE_SPEAK.0
            | Self::USE_SLASH_COMMANDS.0,
    );

    pub fn contains(self, other: Permissions) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn union(self, other: Permissions) -> Permissions {
        Permissions(self.0 | other.0)
    }

    pub fn minus(self, other: Permissions) -> Permissions {
        Permissions(self.0 & !other.0)
    }

    /// Storage form: the names of the set bits.
    pub fn to_names(self) -> Vec<&'static str> {
        Self::NAMES
            .iter()
            .filter(|(p, _)| self.contains(*p))
            .map(|(_, n)| *n)
            .collect()
    }

    /// Parse the storage form; unknown names are ignored (forward compatibility).
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Permissions {
        let mut out = Permissions::NONE;
        for name in names {
            if let Some((p, _)) = Self::NAMES.iter().find(|(_, n)| *n == name) {
                out = out.union(*p);
            }
        }
        out
    }
}

impl std::ops::BitOr for Permissions {
    type Output = Permissions;
    fn bitor(self, rhs: Permissions) -> Permissions {
        self.union(rhs)
    }
}

/// A role in a space. Higher `position` = more authority (`@everyone` is 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub id: RoleId,
    pub name: String,
    pub permissions: Permissions,
    pub position: i64,
    pub color: Option<String>,
    pub hoist: bool,
    pub mentionable: bool,
    pub self_assignable: bool,
    pub is_default: bool,
}

/// Who a room override targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OverrideTarget {
    Role(RoleId),
    Member(UserId),
}

/// A per-room permission override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub target: OverrideTarget,
    pub allow: Permissions,
    pub deny: Permissions,
}

/// Everything needed to decide what `user` may do in one room.
#[derive(Debug, Clone, Default)]
pub struct PermissionContext {
    pub is_space_owner: bool,
    /// The member's roles in the room's space, `@everyone` included.
    pub roles: Vec<Role>,
    pub overrides: Vec<Override>,
    pub user: Option<UserId>,
    /// Timed out members lose sending, reacting and speaking.
    pub timed_out: bool,
}

impl PermissionContext {
    /// Effective permissions: owner → all; administrator → all (no overrides); otherwise the
    /// union of role permissions, then role override denies, role override allows, member deny,
    /// member allow; finally the timeout mask.
    pub fn effective(&self) -> Permissions {
        let mut perms = if self.is_space_owner {
            Permissions::ALL
        } else {
            let base = self
                .roles
                .iter()
                .fold(Permissions::NONE, |acc, r| acc.union(r.permissions));
            if base.contains(Permissions::ADMINISTRATOR) {
                Permissions::ALL
            } else {
                let mut p = base;
                let role_ids: Vec<&RoleId> = self.roles.iter().map(|r| &r.id).collect();
                let (mut role_allow, mut role_deny) = (Permissions::NONE, Permissions::NONE);
                let (mut member_allow, mut member_deny) = (Permissions::NONE, Permissions::NONE);
                for o in &self.overrides {
                    match &o.target {
                        OverrideTarget::Role(r) if role_ids.contains(&r) => {
                            role_allow = role_allow.union(o.allow);
                            role_deny = role_deny.union(o.deny);
                        }
                        OverrideTarget::Member(u) if Some(u) == self.user.as_ref() => {
                            member_allow = member_allow.union(o.allow);
                            member_deny = member_deny.union(o.deny);
                        }
                        _ => {}
                    }
                }
                p = p.minus(role_deny).union(role_allow);
                p = p.minus(member_deny).union(member_allow);
                p
            }
        };
        if self.timed_out {
            perms = perms.minus(Permissions(
                Permissions::SEND_MESSAGES.0
                    | Permissions::ADD_REACTIONS.0
                    | Permissions::VOICE_SPEAK.0
                    | Permissions::VOICE_CONNECT.0
                    | Permissions::ATTACH_FILES.0
                    | Permissions::EMBED_LINKS.0,
            ));
        }
        perms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(id: &str, p: Permissions) -> Role {
        Role {
            id: RoleId(id.into()),
            name: id.into(),
            permissions: p,
            position: 0,
            color: None,
            hoist: false,
            mentionable: false,
            self_assignable: false,
            is_default: false,
        }
    }

    #[test]
    fn overrides_deny_then_allow_and_member_wins() {
        let everyone = role("everyone", Permissions::DEFAULT_MEMBER);
        let mut cx = PermissionContext {
            roles: vec![everyone],
            user: Some(UserId("u".into())),
            ..Default::default()
        };
        assert!(cx.effective().contains(Permissions::SEND_MESSAGES));
        cx.overrides.push(Override {
            target: OverrideTarget::Role(RoleId("everyone".into())),
            allow: Permissions::NONE,
            deny: Permissions::SEND_MESSAGES,
        });
        assert!(!cx.effective().contains(Permissions::SEND_MESSAGES));
        cx.overrides.push(Override {
            target: OverrideTarget::Member(UserId("u".into())),
            allow: Permissions::SEND_MESSAGES,
            deny: Permissions::NONE,
        });
        assert!(cx.effective().contains(Permissions::SEND_MESSAGES));
        cx.timed_out = true;
        assert!(!cx.effective().contains(Permissions::SEND_MESSAGES));
        assert!(cx.effective().contains(Permissions::VIEW_ROOM));
    }

    #[test]
    fn names_round_trip() {
        let p = Permissions::DEFAULT_MEMBER;
        assert_eq!(Permissions::from_names(p.to_names()), p);
        assert_eq!(Permissions::from_names(["nope"]), Permissions::NONE);
    }
}
