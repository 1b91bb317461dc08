//! Core objects in Plexichat's JSON shapes.

use super::ids::wire;
use crate::core::messages::Message;
use crate::core::users::User;
use chorus_protocol::gateway as gw;
use chorus_protocol::plexichat_rest as rest;

/// `MessageResponse` (REST and MESSAGE_CREATE/UPDATE); `viewer` decides `reactions[].me`.
pub fn message(m: &Message, viewer: Option<&str>) -> gw::Message {
    gw::Message {
        id: wire(&m.id.0),
        channel_id: wire(&m.room_id.0),
        author_id: wire(&m.author.id.0),
        // attachment- and poll-only messages show a zero-width space, as the reference
        content: if m.content.is_empty() || super::rest::polls::poll_only(m) {
            "\u{200b}".to_owned()
        } else {
            m.content.clone()
        },
        created_at: m.created_at,
        edited_at: m.edited_at,
        reply_to_id: m.reply_to.as_ref().map(|r| wire(&r.0)),
        attachments: crate::core::attachments::message_attachments(m.extra.as_deref())
            .iter()
            .map(super::rest::media::message_attachment)
            .collect(),
        embeds: Vec::new(),
        pinned: m.pinned,
        status: None,
        delivery_count: 0,
        read_count: 0,
        read: false,
        read_by: Vec::new(),
        author_username: m
            .author_name
            .clone()
            .unwrap_or_else(|| m.author.username.clone()),
        author_avatar_url: None,
        author_badges: Vec::new(),
        reactions: m
            .reactions
            .iter()
            .map(|g| gw::ReactionCount {
                emoji: g.emoji.clone(),
                count: g.users.len() as i64,
                me: viewer.is_some_and(|v| g.users.iter().any(|u| u.id.0 == v)),
                url: None,
                is_custom: g.emoji.starts_with("<:") || g.emoji.starts_with("<a:"),
                custom_emoji_id: custom_emoji_id(&g.emoji),
            })
            .collect(),
        metadata: serde_json::Value::Null,
        poll: super::rest::polls::snapshot(m),
        poll_results: serde_json::Value::Null,
    }
}

/// The id of a custom emoji `<:name:id>` / `<a:name:id>`.
fn custom_emoji_id(emoji: &str) -> Option<String> {
    let inner = emoji
        .strip_prefix("<a:")
        .or_else(|| emoji.strip_prefix("<:"))?
        .strip_suffix('>')?;
    inner.rsplit_once(':').map(|(_, id)| id.to_owned())
}

/// `UserResponse`.
pub fn user(u: &User, email: Option<String>, age_verified: bool) -> rest::User {
    rest::User {
        id: wire(&u.id.0),
        username: u.username.clone(),
        email,
        avatar_url: u.avatar_url.clone(),
        created_at: u.created_at,
        email_verified: false,
        totp_enabled: false,
        age_verified,
        badges: Vec::new(),
        deletion_status: "active".into(),
        deletion_at: None,
    }
}

pub fn login_user(u: rest::User) -> rest::LoginResponseUser {
    rest::LoginResponseUser {
        id: u.id,
        username: u.username,
        email: u.email,
        avatar_url: u.avatar_url,
        created_at: u.created_at,
        email_verified: u.email_verified,
        totp_enabled: u.totp_enabled,
        age_verified: u.age_verified,
        badges: u.badges,
        deletion_status: u.deletion_status,
        deletion_at: u.deletion_at,
    }
}
