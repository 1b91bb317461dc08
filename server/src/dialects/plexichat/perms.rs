//! Plexichat's server permission keys (§3.2) ↔ the core's permission bits. Keys with no core
//! counterpart (`server.automod`, `events.*`, `templates.manage`, `onboarding.manage`,
//! `messages.export_transcript`) are accepted and not kept.

use crate::core::permissions::Permissions as P;
use indexmap::IndexMap;

pub const KEYS: &[(&str, P)] = &[
    ("administrator", P::ADMINISTRATOR),
    ("server.manage", P::MANAGE_SPACE),
    ("server.view_audit_log", P::VIEW_AUDIT_LOG),
    ("channels.manage", P::MANAGE_ROOMS),
    ("channels.view", P::VIEW_ROOM),
    ("roles.manage", P::MANAGE_ROLES),
    ("members.kick", P::KICK_MEMBERS),
    ("members.ban", P::BAN_MEMBERS),
    ("members.manage_nicknames", P::MANAGE_NICKNAMES),
    ("members.manage_roles", P::MANAGE_MEMBERS),
    ("invites.create", P::CREATE_INVITES),
    ("invites.manage", P::MANAGE_INVITES),
    ("emojis.manage", P::MANAGE_EMOJIS),
    ("messages.send", P::SEND_MESSAGES),
    ("messages.read", P::READ_HISTORY),
    (
        "messages.manage",
        P(P::MANAGE_MESSAGES.0 | P::PIN_MESSAGES.0),
    ),
    ("messages.embed_links", P::EMBED_LINKS),
    ("messages.attach_files", P::ATTACH_FILES),
    ("messages.mention_everyone", P::MENTION_EVERYONE),
    ("messages.add_reactions", P::ADD_REACTIONS),
    ("messages.use_external_emojis", P::USE_EXTERNAL_EMOJIS),
    ("messages.bypass_slowmode", P::BYPASS_SLOWMODE),
    ("voice.connect", P::VOICE_CONNECT),
    ("voice.speak", P::VOICE_SPEAK),
    ("voice.mute_members", P::VOICE_MUTE_MEMBERS),
    ("voice.deafen_members", P::VOICE_MUTE_MEMBERS),
    ("voice.move_members", P::VOICE_MOVE_MEMBERS),
    // Checked by the reference although not in its catalogue.
    ("webhooks.manage", P::MANAGE_WEBHOOKS),
];

/// Core bits for a `{"key": bool}` dict (true entries only). Messages a member may send they
/// may also edit and delete (the reference's own-message rule).
pub fn from_keys(dict: &IndexMap<String, bool>) -> P {
    let mut p = P::NONE;
    for (k, v) in dict {
        if !*v {
            continue;
        }
        if let Some((_, bits)) = KEYS.iter().find(|(name, _)| name == k) {
            p = p | *bits;
        }
    }
    if p.contains(P::SEND_MESSAGES) {
        p = p | P::EDIT_OWN | P::DELETE_OWN;
    }
    p
}

/// The `{"key": true}` dict of core bits (every key whose bits are all present).
pub fn to_keys(p: P) -> IndexMap<String, bool> {
    let all = p.contains(P::ADMINISTRATOR);
    KEYS.iter()
        .filter(|(_, bits)| all || p.contains(*bits))
        .map(|(k, _)| ((*k).to_owned(), true))
        .collect()
}
