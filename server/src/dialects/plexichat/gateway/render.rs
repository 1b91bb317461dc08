//! Core events → gateway dispatches. The hub renders an event once for every Plexichat
//! connection, but a dispatch's `s` is per connection and its delivery depends on the
//! connection's intents and channel visibility, so the shared rendering is an intermediate
//! form: records `<t>\t<room id>\t<flags>\t<excluded user>\n<d JSON>` separated by `\x1e`
//! (never inside JSON). Each session filters, numbers and wraps them in `{"op":0,"t","s","d"}`
//! ([`super::sessions`]). Flag `S`: `d` ends with an open key (`"server_id":`) that the
//! session completes with the room's server id (or null) and the closing brace. A record with
//! an excluded user is not sent to that user's sessions (read receipts go to the others).

use crate::core::events::Event;
use crate::core::messages::ReactionAction;
use crate::core::rooms::{Room, RoomKind};
use crate::core::voice::VoiceChange;
use crate::dialects::plexichat::rest::threads;
use crate::dialects::plexichat::{ids::wire, wire as shapes};
use crate::hub::Renderer;
use axum::extract::ws::Utf8Bytes;
use chorus_protocol::gateway as gw;

pub struct PlexichatRenderer;

const SEP: char = '\u{1e}';
/// An internal record: the session starts following a private room; never sent.
pub const PRIVATE_JOIN: &str = "_PRIVATE_JOIN";

/// An internal record: `d` is a whole frame relayed to one session as it is (voice signalling).
pub const RAW: &str = "_RAW";

fn record<T: serde::Serialize>(out: &mut String, t: &str, room: &str, d: &T) {
    record_excluding(out, t, room, d, "");
}

/// A record not sent to the sessions of `exclude` (a core user id; empty: nobody).
fn record_excluding<T: serde::Serialize>(
    out: &mut String,
    t: &str,
    room: &str,
    d: &T,
    exclude: &str,
) {
    if let Ok(d) = serde_json::to_string(d) {
        push_record(out, t, room, "", exclude, &d);
    }
}

fn push_record(out: &mut String, t: &str, room: &str, flags: &str, exclude: &str, d: &str) {
    if !out.is_empty() {
        out.push(SEP);
    }
    out.push_str(&format!("{t}\t{room}\t{flags}\t{exclude}\n{d}"));
}

/// A relayed frame as a hub frame for one session's queue.
pub fn raw(frame: &str) -> Utf8Bytes {
    let mut out = String::new();
    push_record(&mut out, RAW, "", "", "", frame);
    Utf8Bytes::from(out)
}

/// The `message_ids` of a rendered MESSAGE_DELETE_BULK `d`.
pub fn bulk_ids(d: &str) -> std::collections::HashSet<String> {
    serde_json::from_str::<gw::MessageDeleteBulkData>(d)
        .map(|b| b.message_ids.into_iter().collect())
        .unwrap_or_default()
}

/// The message id of a rendered MESSAGE_DELETE `d` (`{"channel_id":"…","id":"…",…`, still
/// open; no other key ends in `"id"`).
pub fn deleted_id(d: &str) -> Option<&str> {
    let at = d.find(r#""id":""#)? + 6;
    d[at..].split('"').next()
}

/// A record whose `d` gets the room's server id appended under `key`.
fn record_with_server(out: &mut String, t: &str, room: &str, d: serde_json::Value, key: &str) {
    let Ok(mut d) = serde_json::to_string(&d) else {
        return;
    };
    d.pop(); // the closing brace
    if d.len() > 1 {
        d.push(',');
    }
    d.push_str(&format!("\"{key}\":"));
    push_record(out, t, room, "S", "", &d);
}

/// `RoleResponse`.
pub fn role_json(space: &str, r: &crate::core::permissions::Role) -> gw::Role {
    gw::Role {
        id: wire(&r.id.0),
        server_id: wire(space),
        name: r.name.clone(),
        color: r.color.clone(),
        position: r.position,
        permissions: crate::dialects::plexichat::perms::to_keys(r.permissions),
        hoist: r.hoist,
        mentionable: r.mentionable,
        is_default: r.is_default,
    }
}

/// `ChannelResponse` of a server channel.
pub fn channel(room: &Room) -> Option<gw::Channel> {
    let space = room.space_id.as_ref()?;
    if room.kind.is_private() {
        return None;
    }
    Some(gw::Channel {
        id: wire(&room.id.0),
        server_id: wire(&space.0),
        name: room.name.clone(),
        channel_type: match room.kind {
            RoomKind::Voice => gw::ChannelType::Voice,
            RoomKind::Broadcast => gw::ChannelType::Announcement,
            _ => gw::ChannelType::Text,
        },
        topic: room.topic.clone(),
        position: room.position,
        category_id: room.parent_id.as_ref().map(|p| wire(&p.0)),
        nsfw: room
            .extra
            .get("nsfw")
            .and_then(|v| v.as_bool())
            .unwrap_or(false),
        slowmode_seconds: room.slowmode_seconds,
        read_receipts_enabled: room
            .extra
            .get("read_receipts_enabled")
            .and_then(|v| v.as_bool())
            .unwrap_or(true),
        created_at: room.created_at,
        recipient_id: None,
        recipient: serde_json::Value::Null,
    })
}

impl Renderer for PlexichatRenderer {
    fn render(&self, event: &Event) -> Option<Utf8Bytes> {
        let mut out = String::new();
        match event {
            Event::MessageCreated { message } => record(
                &mut out,
                "MESSAGE_CREATE",
                &message.room_id.0,
                &shapes::message(message, None),
            ),
            Event::MessageEdited { message } => record(
                &mut out,
                "MESSAGE_UPDATE",
                &message.room_id.0,
                &shapes::message(message, None),
            ),
            Event::MessageDeleted { message } => record_with_server(
                &mut out,
                "MESSAGE_DELETE",
                &message.room_id.0,
                serde_json::json!({"id": wire(&message.id.0), "channel_id": wire(&message.room_id.0)}),
                "server_id",
            ),
            Event::MessagePinned { message, .. } => {
                record(
                    &mut out,
                    "MESSAGE_UPDATE",
                    &message.room_id.0,
                    &shapes::message(message, None),
                );
                record_with_server(
                    &mut out,
                    "CHANNEL_PINS_UPDATE",
                    &message.room_id.0,
                    serde_json::json!({"channel_id": wire(&message.room_id.0), "pinned_message_ids": []}),
                    "guild_id",
                );
            }
            Event::ReactionToggled {
                action,
                emoji,
                user,
                message,
            } => record(
                &mut out,
                match action {
                    ReactionAction::Added => "MESSAGE_REACTION_ADD",
                    ReactionAction::Removed => "MESSAGE_REACTION_REMOVE",
                },
                &message.room_id.0,
                &gw::ReactionData {
                    user_id: wire(&user.id.0),
                    message_id: wire(&message.id.0),
                    channel_id: wire(&message.room_id.0),
                    emoji: emoji.clone(),
                },
            ),
            // A new DM or group: sessions of its members follow it (not a dispatch).
            Event::RoomCreated { room } if room.kind.is_private() => {
                record(&mut out, PRIVATE_JOIN, &room.id.0, &serde_json::json!({}))
            }
            Event::RoomCreated { room } => {
                record(&mut out, "CHANNEL_CREATE", &room.id.0, &channel(room)?)
            }
            Event::RoomUpdated { room } => {
                record(&mut out, "CHANNEL_UPDATE", &room.id.0, &channel(room)?)
            }
            Event::RoomDeleted { room } => {
                let c = channel(room)?;
                record(
                    &mut out,
                    "CHANNEL_DELETE",
                    &room.id.0,
                    &gw::ChannelDeleteData {
                        id: c.id,
                        server_id: c.server_id,
                    },
                )
            }
            Event::Typing {
                room_id,
                user,
                started: true,
                ..
            } => record(
                &mut out,
                "TYPING_START",
                &room_id.0,
                &gw::TypingStartData {
                    channel_id: wire(&room_id.0),
                    user_id: wire(&user.id.0),
                    username: user.username.clone(),
                },
            ),
            Event::Typing {
                room_id,
                user,
                started: false,
                ..
            } => record(
                &mut out,
                "TYPING_STOP",
                &room_id.0,
                &gw::TypingStopData {
                    channel_id: wire(&room_id.0),
                    user_id: wire(&user.id.0),
                },
            ),
            Event::SpaceJoined {
                space,
                rooms,
                member_count,
                ..
            } => record(
                &mut out,
                "GUILD_CREATE",
                &space.id.0,
                &gw::GuildCreateData {
                    id: wire(&space.id.0),
                    name: space.name.clone(),
                    owner_id: space
                        .owner_id
                        .as_ref()
                        .map(|o| wire(&o.0))
                        .unwrap_or_default(),
                    member_count: *member_count,
                    channels: rooms
                        .iter()
                        .filter_map(channel)
                        .map(|c| gw::GuildChannel {
                            id: c.id,
                            name: c.name,
                            r#type: c.channel_type,
                            position: c.position,
                        })
                        .collect(),
                    roles: Vec::new(),
                    members: Vec::new(),
                },
            ),
            Event::RoleChanged {
                space_id,
                role,
                deleted: true,
                ..
            } => record(
                &mut out,
                "GUILD_ROLE_DELETE",
                &space_id.0,
                &gw::GuildRoleDeleteData {
                    guild_id: wire(&space_id.0),
                    role_id: wire(&role.id.0),
                },
            ),
            Event::RoleChanged {
                space_id,
                role,
                created,
                ..
            } => record(
                &mut out,
                if *created {
                    "GUILD_ROLE_CREATE"
                } else {
                    "GUILD_ROLE_UPDATE"
                },
                &space_id.0,
                &gw::GuildRoleData {
                    guild_id: wire(&space_id.0),
                    role: role_json(&space_id.0, role),
                },
            ),
            Event::PresenceChanged {
                user,
                status,
                custom_status,
                custom_emoji,
            } => record(
                &mut out,
                "PRESENCE_UPDATE",
                // In place of a room: whose presence it is (not sent back to them).
                &user.0,
                &serde_json::json!({
                    "user_id": wire(&user.0),
                    "status": status,
                    "custom_status": custom_status,
                    "custom_emoji": custom_emoji,
                }),
            ),
            Event::MemberJoined {
                space_id,
                user,
                joined_at,
            } => record(
                &mut out,
                "GUILD_MEMBER_ADD",
                &space_id.0,
                &gw::GuildMemberAddData {
                    guild_id: wire(&space_id.0),
                    user: gw::MemberUser {
                        id: wire(&user.id.0),
                        username: user.username.clone(),
                        avatar_url: None,
                    },
                    roles: Vec::new(),
                    joined_at: *joined_at,
                },
            ),
            // members and moderation
            Event::MemberUpdated {
                space_id,
                user,
                member,
            } => record(
                &mut out,
                "GUILD_MEMBER_UPDATE",
                &space_id.0,
                &gw::GuildMemberUpdateData {
                    guild_id: wire(&space_id.0),
                    user: gw::MemberUser {
                        id: wire(&user.id.0),
                        username: user.username.clone(),
                        avatar_url: None,
                    },
                    nickname: member.nickname.clone(),
                    roles: member.roles.iter().map(|r| wire(&r.0)).collect(),
                    timeout_until: member.timeout_until,
                },
            ),
            // In place of a room: who left (their sessions stop following the server).
            Event::MemberRemoved { space_id, user } => record(
                &mut out,
                "GUILD_MEMBER_REMOVE",
                &user.id.0,
                &gw::GuildMemberRemoveData {
                    guild_id: wire(&space_id.0),
                    user: gw::MemberUser {
                        id: wire(&user.id.0),
                        username: user.username.clone(),
                        avatar_url: None,
                    },
                },
            ),
            Event::BanChanged {
                space_id,
                user,
                reason,
                banned,
            } => record(
                &mut out,
                if *banned {
                    "GUILD_BAN_ADD"
                } else {
                    "GUILD_BAN_REMOVE"
                },
                &user.id.0,
                &gw::GuildBanData {
                    guild_id: wire(&space_id.0),
                    user_id: wire(&user.id.0),
                    reason: if *banned { Some(reason.clone()) } else { None },
                },
            ),
            Event::SpaceUpdated { space } => record(
                &mut out,
                "GUILD_UPDATE",
                &space.id.0,
                &gw::GuildUpdateData {
                    id: wire(&space.id.0),
                    name: space.name.clone(),
                    description: space.description.clone(),
                    icon_url: space.icon_url.clone(),
                    owner_id: space.owner_id.as_ref().map(|o| wire(&o.0)),
                },
            ),
            Event::SpaceDeleted { space_id } => record(
                &mut out,
                "GUILD_DELETE",
                &space_id.0,
                &gw::GuildDeleteData {
                    id: wire(&space_id.0),
                },
            ),
            // THREAD_* go to the parent channel's followers.
            Event::ThreadCreated { thread } => record(
                &mut out,
                "THREAD_CREATE",
                &thread.parent.id.0,
                &threads::thread_dispatch(thread),
            ),
            Event::ThreadUpdated { thread } => record(
                &mut out,
                "THREAD_UPDATE",
                &thread.parent.id.0,
                &threads::thread_dispatch(thread),
            ),
            Event::ThreadDeleted { thread } => record(
                &mut out,
                "THREAD_DELETE",
                &thread.parent.id.0,
                &threads::thread_delete_dispatch(thread),
            ),
            // read receipts, bulk deletes, reaction clears, voice, own dispatches
            Event::ReadStateChanged {
                user,
                room_id,
                message_id,
            } => record_excluding(
                &mut out,
                "MESSAGE_ACK",
                &room_id.0,
                &gw::MessageAckData {
                    channel_id: wire(&room_id.0),
                    user_id: wire(&user.id.0),
                    message_id: message_id.as_ref().map(|m| wire(&m.0)),
                },
                &user.id.0,
            ),
            Event::MessagesBulkDeleted {
                room_id,
                space_id,
                messages,
            } => record(
                &mut out,
                "MESSAGE_DELETE_BULK",
                &room_id.0,
                &gw::MessageDeleteBulkData {
                    channel_id: wire(&room_id.0),
                    guild_id: space_id.as_ref().map(|s| wire(&s.0)),
                    message_ids: messages.iter().map(|m| wire(&m.id.0)).collect(),
                },
            ),
            Event::ReactionsCleared { message, space_id } => record(
                &mut out,
                "MESSAGE_REACTION_REMOVE_ALL",
                &message.room_id.0,
                &gw::ReactionRemoveAllData {
                    channel_id: wire(&message.room_id.0),
                    message_id: wire(&message.id.0),
                    guild_id: space_id.as_ref().map(|s| wire(&s.0)),
                },
            ),
            // Joins from every dialect; leaving shows as no channel.
            Event::VoiceChanged {
                room_id,
                participant: p,
                change,
            } => record(
                &mut out,
                "VOICE_STATE_UPDATE",
                &room_id.0,
                &gw::VoiceStateData {
                    user_id: wire(&p.user.id.0),
                    channel_id: (*change != VoiceChange::Left).then(|| wire(&room_id.0)),
                    self_mute: p.flags.self_mute,
                    self_deaf: p.flags.self_deaf,
                    mute: p.mute,
                    deaf: p.deaf,
                    suppress: false,
                    guild_id: p.space_id.as_ref().map(|s| wire(&s.0)),
                },
            ),
            Event::PlexichatDispatch { t, d, .. } => push_record(&mut out, t, "", "", "", d),
            _ => return None,
        }
        (!out.is_empty()).then(|| Utf8Bytes::from(out))
    }
}

/// One rendered dispatch: event name, room id, whether `d` awaits its server id, the user whose
/// sessions skip it, `d`.
pub struct Record<'a> {
    pub t: &'a str,
    pub room: &'a str,
    pub needs_server: bool,
    pub exclude: Option<&'a str>,
    pub d: &'a str,
}

/// The records of a rendered event.
pub fn records(text: &str) -> impl Iterator<Item = Record<'_>> {
    text.split(SEP).filter_map(|r| {
        let (header, d) = r.split_once('\n')?;
        let mut h = header.split('\t');
        Some(Record {
            t: h.next()?,
            room: h.next()?,
            needs_server: h.next()? == "S",
            exclude: h.next().filter(|x| !x.is_empty()),
            d,
        })
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn deleted_ids_are_found() {
        assert_eq!(
            super::deleted_id(r#"{"channel_id":"12","id":"34","server_id":"#),
            Some("34")
        );
        let ids = super::bulk_ids(r#"{"channel_id":"1","guild_id":null,"message_ids":["2","3"]}"#);
        assert!(ids.contains("2") && ids.contains("3") && ids.len() == 2);
    }
}
