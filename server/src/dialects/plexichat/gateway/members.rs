//! REQUEST_GUILD_MEMBERS (op 8) → GUILD_MEMBERS_CHUNK (needs the GUILD_MEMBERS intent).

use super::sessions::{GwSession, intents};
use crate::core::ids::SpaceId;
use crate::dialects::plexichat::{Plexichat, ids::wire};
use axum::extract::ws::Utf8Bytes;
use chorus_protocol::gateway as gw;

/// Members per chunk.
const CHUNK: usize = 1000;

/// The chunks answering `req` (none when the user is not a member, the intent is missing or
/// the store fails: the reference ignores such requests).
pub async fn chunks(
    px: &Plexichat,
    session: &GwSession,
    space: &SpaceId,
    req: &gw::RequestGuildMembersData,
) -> Vec<Utf8Bytes> {
    if session.intents & intents::GUILD_MEMBERS == 0 {
        return Vec::new();
    }
    let Ok(mine) = px.db.user_spaces(&session.user.id.0).await else {
        return Vec::new();
    };
    if !mine.iter().any(|(id, _)| *id == space.0) {
        return Vec::new();
    }
    let query = req.query.as_deref().unwrap_or("").to_lowercase();
    let limit = req.limit.filter(|l| *l > 0).map(|l| l as usize);
    let wanted: Option<Vec<String>> = req.user_ids.as_ref().map(|v| {
        v.iter()
            .filter_map(|w| crate::dialects::plexichat::ids::core(w))
            .collect()
    });
    let default = px.core.default_role_of(space).await;
    let mut members = Vec::new();
    let mut after = String::new();
    'pages: loop {
        let Ok(page) = px
            .core
            .members(&session.user, space, &after, CHUNK as u32)
            .await
        else {
            return Vec::new();
        };
        let last = page.len() < CHUNK;
        for (m, u) in page {
            after = m.user_id.0.clone();
            if !u.username.to_lowercase().starts_with(&query) {
                continue;
            }
            if wanted.as_ref().is_some_and(|w| !w.contains(&m.user_id.0)) {
                continue;
            }
            let uid = m.user_id.clone();
            let shown = px.statuses.shown(
                &uid,
                px.core.presence.status(&uid) != crate::core::users::Status::Offline,
            );
            members.push(gw::ChunkMember {
                user_id: wire(&m.user_id.0),
                username: u.username,
                nickname: m.nickname,
                avatar_url: u.avatar_url,
                joined_at: m.joined_at,
                roles: m
                    .roles
                    .iter()
                    .filter(|r| Some(*r) != default.as_ref())
                    .map(|r| wire(&r.0))
                    .collect(),
                presence: gw::MemberPresence {
                    status: match shown.status {
                        "idle" => gw::MemberPresenceStatus::Idle,
                        "dnd" => gw::MemberPresenceStatus::Dnd,
                        "online" => gw::MemberPresenceStatus::Online,
                        _ => gw::MemberPresenceStatus::Offline,
                    },
                },
            });
            if limit.is_some_and(|l| members.len() >= l) {
                break 'pages;
            }
        }
        if last {
            break;
        }
    }
    let not_found: Vec<String> = match (&req.user_ids, &wanted) {
        (Some(asked), Some(_)) => asked
            .iter()
            .filter(|w| !members.iter().any(|m| m.user_id == **w))
            .cloned()
            .collect(),
        _ => Vec::new(),
    };
    let count = members.len().div_ceil(CHUNK).max(1);
    let mut out = Vec::with_capacity(count);
    let mut rest = members.into_iter().peekable();
    for index in 0..count {
        let part: Vec<gw::ChunkMember> = rest.by_ref().take(CHUNK).collect();
        let d = gw::GuildMembersChunkData {
            guild_id: wire(&space.0),
            members: part,
            chunk_index: index as i64,
            chunk_count: count as i64,
            not_found: if index == 0 {
                not_found.clone()
            } else {
                Vec::new()
            },
        };
        if let Ok(d) = serde_json::to_string(&d) {
            out.push(session.dispatch("GUILD_MEMBERS_CHUNK", &d));
        }
    }
    out
}
