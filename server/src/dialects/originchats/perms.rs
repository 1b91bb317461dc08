//! The role-permission layer (§4.1.2) in one place: OriginChats role permission names ↔ the
//! core's permission bits, and the OriginChats view of a role (its `position` counts from the
//! top, owner 0; the core's grows with authority).
//!
//! The core decides: `has_permission` is the core's space permissions (the space owner and
//! `administrator` holders have every permission; otherwise the union of the member's roles),
//! and role edits go through the core's hierarchy check.

use crate::core::ids::RoleId;
use crate::core::permissions::{Permissions as P, Role};
use crate::core::roles::RoleDetails;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// OriginChats name → core bit. The 20 names of the handshake first (in its order), then the
/// other names the reference's default roles carry. Several names may share one bit; rendering
/// uses the first.
pub const NAMES: &[(&str, P)] = &[
    ("administrator", P::ADMINISTRATOR),
    ("manage_server", P::MANAGE_SPACE),
    ("view_audit_log", P::VIEW_AUDIT_LOG),
    ("manage_roles", P::MANAGE_ROLES),
    ("manage_channels", P::MANAGE_ROOMS),
    ("manage_threads", P::MANAGE_THREADS),
    ("manage_users", P::MANAGE_MEMBERS),
    ("manage_messages", P::MANAGE_MESSAGES),
    ("read_message_history", P::READ_HISTORY),
    ("send_messages", P::SEND_MESSAGES),
    ("embed_links", P::EMBED_LINKS),
    ("attach_files", P::ATTACH_FILES),
    ("add_reactions", P::ADD_REACTIONS),
    ("external_emojis", P::USE_EXTERNAL_EMOJIS),
    ("connect", P::VOICE_CONNECT),
    ("speak", P::VOICE_SPEAK),
    ("stream", P::VOICE_STREAM),
    ("use_voice_activity", P::VOICE_ACTIVITY),
    ("mention_everyone", P::MENTION_EVERYONE),
    ("use_slash_commands", P::USE_SLASH_COMMANDS),
    ("manage_nicknames", P::MANAGE_NICKNAMES),
    ("kick_members", P::KICK_MEMBERS),
    ("ban_members", P::BAN_MEMBERS),
    ("create_invite", P::CREATE_INVITES),
    ("manage_invites", P::MANAGE_INVITES),
    ("mute_members", P::VOICE_MUTE_MEMBERS),
    ("deafen_members", P::VOICE_MUTE_MEMBERS),
    ("move_members", P::VOICE_MOVE_MEMBERS),
    ("change_nickname", P::CHANGE_NICKNAME),
];

/// Core bits of a list of OriginChats names (unknown names are not kept).
pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> P {
    let mut p = P::NONE;
    for n in names {
        if let Some((_, bits)) = NAMES.iter().find(|(name, _)| *name == n) {
            p = p | *bits;
        }
    }
    p
}

/// The OriginChats names of core bits, in the table's order, one name per bit.
pub fn to_names(p: P) -> Vec<&'static str> {
    let mut seen = P::NONE;
    let mut out = Vec::new();
    for (name, bits) in NAMES {
        if p.contains(*bits) && !seen.contains(*bits) {
            out.push(*name);
            seen = seen | *bits;
        }
    }
    out
}

/// The core bit of one OriginChats permission name.
pub fn bit(name: &str) -> Option<P> {
    NAMES.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

/// The name OriginChats shows for a core role (the default role is `user`).
pub fn role_name(r: &Role) -> &str {
    if r.is_default {
        super::USER_ROLE
    } else {
        &r.name
    }
}

/// OriginChats positions: rank from the top (owner 0), the default role last.
pub fn positions(roles: &[Role]) -> HashMap<RoleId, i64> {
    let mut ranked: Vec<&Role> = roles.iter().collect();
    ranked.sort_by(|a, b| {
        a.is_default
            .cmp(&b.is_default)
            .then(b.position.cmp(&a.position))
            .then(a.id.cmp(&b.id))
    });
    ranked
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.clone(), i as i64))
        .collect()
}

/// A Role object (§3.2) with `name` included.
pub fn role_json(r: &Role, details: Option<&RoleDetails>, position: i64) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("id".into(), json!(r.id.0));
    o.insert("name".into(), json!(role_name(r)));
    if let Some(d) = details.and_then(|d| d.description.as_ref()) {
        o.insert("description".into(), json!(d));
    }
    o.insert("color".into(), json!(r.color));
    o.insert("hoisted".into(), json!(r.hoist));
    o.insert("permissions".into(), json!(to_names(r.permissions)));
    o.insert("self_assignable".into(), json!(r.self_assignable));
    o.insert(
        "category".into(),
        json!(details.and_then(|d| d.category.clone())),
    );
    o.insert("position".into(), json!(position));
    o
}

/// Roles the reference protects: never self-assignable (§3.2 `PROTECTED_ROLES`).
pub const PROTECTED: [&str; 3] = ["owner", "admin", "moderator"];
/// Roles `role_delete` refuses ("Cannot delete system roles").
pub const SYSTEM: [&str; 3] = ["owner", "admin", "user"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handshake_names_all_map_and_round_trip() {
        for name in super::super::PERMISSION_NAMES {
            let p = from_names([name]);
            assert_ne!(p, P::NONE, "{name}");
            assert_eq!(to_names(p), vec![name]);
        }
        assert_eq!(from_names(["nonsense"]), P::NONE);
        // deafen_members shares mute_members' bit and renders as it.
        assert_eq!(
            to_names(from_names(["deafen_members"])),
            vec!["mute_members"]
        );
    }
}
