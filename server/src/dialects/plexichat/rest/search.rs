//! Search (§2.10, §2.9): `GET /search/users`, `GET /search/servers` and the in-channel
//! `GET /channels/{id}/messages/search`. Message search is the core's (the one behind
//! `GET /search/messages`); users and servers are matched here over what the caller may see.

use super::threads::limit_of;
use super::{ApiError, Authed, ok, px};
use crate::core::ids::{SpaceId, UserId};
use crate::core::lookups::MessageSearch;
use crate::core::permissions::Permissions;
use crate::core::users::{User, UserKind};
use crate::dialects::plexichat::{Plexichat, ids, wire};
use crate::net::AppState;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

/// Default page size of the user and server searches (the reference's search default).
const DEFAULT_LIMIT: u32 = 25;

/// How well `needle` (lowercase) matches `text`: exact 1.0, prefix 0.75, anywhere 0.5.
fn score(text: &str, needle: &str) -> Option<f64> {
    let text = text.to_lowercase();
    if text == needle {
        Some(1.0)
    } else if text.starts_with(needle) {
        Some(0.75)
    } else if text.contains(needle) {
        Some(0.5)
    } else {
        None
    }
}

fn required_query(q: &HashMap<String, String>) -> Result<String, ApiError> {
    q.get("query")
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("Invalid query: Field required"))
}

fn page_limit(q: &HashMap<String, String>) -> Result<u32, ApiError> {
    q.get("limit").map_or(Ok(DEFAULT_LIMIT), |v| limit_of(v))
}

/// The cursor of these searches is the offset of the next result.
fn page_offset(q: &HashMap<String, String>) -> Result<usize, ApiError> {
    match q.get("cursor").filter(|s| !s.is_empty()) {
        None => Ok(0),
        Some(c) => c
            .parse()
            .map_err(|_| ApiError::bad_request("Invalid cursor")),
    }
}

/// One page of scored results (best first), with the cursor of the next page.
fn page(mut scored: Vec<(f64, String, Value)>, offset: usize, limit: u32) -> Value {
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let total = scored.len();
    let results: Vec<Value> = scored
        .into_iter()
        .skip(offset)
        .take(limit as usize)
        .map(|(_, _, v)| v)
        .collect();
    let end = offset + results.len();
    let next = (end < total).then(|| end.to_string());
    json!({"results": results, "next_cursor": next})
}

/// A server the caller belongs to (404 `Server not found` otherwise, as `GET /servers/{id}`).
async fn member_space(px: &Plexichat, me: &UserId, server: &str) -> Result<SpaceId, ApiError> {
    let space = ids::core(server)
        .map(SpaceId)
        .ok_or_else(|| ApiError::bad_request("Invalid server ID"))?;
    let member = px
        .db
        .user_spaces(&me.0)
        .await?
        .iter()
        .any(|(id, _)| *id == space.0);
    if member {
        Ok(space)
    } else {
        Err(ApiError::not_found("Server not found"))
    }
}

/// Every member of `space`, keyed by user id.
async fn space_users(
    px: &Plexichat,
    space: &SpaceId,
    into: &mut BTreeMap<String, User>,
) -> Result<(), ApiError> {
    const CHUNK: u32 = 1000;
    let mut after = String::new();
    loop {
        let chunk = px
            .core
            .store()
            .space_members(space.clone(), after.clone(), CHUNK)
            .await?;
        let full = chunk.len() as u32 == CHUNK;
        for (member, user) in chunk {
            after = member.user_id.0.clone();
            into.insert(user.id.0.clone(), user);
        }
        if !full {
            return Ok(());
        }
    }
}

/// `GET /search/users?query=&server_id=`: users whose username or display name contains
/// `query`, among those the caller may see: members of a server they share (of `server_id`
/// only, when given), and without `server_id` also their relationships and DM partners. Users
/// in a block with the caller (either way) are left out.
pub async fn users(
    State(st): State<AppState>,
    auth: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let me = &auth.user.id;
    let needle = required_query(&q)?;
    let limit = page_limit(&q)?;
    let offset = page_offset(&q)?;
    let mut seen: BTreeMap<String, User> = BTreeMap::new();
    let relationships = px.state.relationships(&me.0).await?;
    if let Some(server) = q.get("server_id").filter(|s| !s.is_empty()) {
        let space = member_space(px, me, server).await?;
        space_users(px, &space, &mut seen).await?;
    } else {
        for (space, _) in px.db.user_spaces(&me.0).await? {
            space_users(px, &SpaceId(space), &mut seen).await?;
        }
        let mut others: Vec<UserId> = relationships
            .iter()
            .filter(|r| r.status != "blocked")
            .map(|r| UserId(r.other_id.clone()))
            .collect();
        for room in px
            .core
            .user_private_rooms(me)
            .await
            .map_err(|e| ApiError::core(e, "User"))?
        {
            let members = px
                .core
                .room_members(&room.id)
                .await
                .map_err(|e| ApiError::core(e, "User"))?;
            others.extend(members.into_iter().map(|m| m.user_id));
        }
        for id in others {
            if !seen.contains_key(&id.0)
                && let Some(u) = px.core.store().user(id).await?
            {
                seen.insert(u.id.0.clone(), u);
            }
        }
    }
    let mut scored = Vec::new();
    for (id, user) in seen {
        if matches!(user.kind, UserKind::Ip | UserKind::System) {
            continue;
        }
        let by_name = score(&user.username, &needle);
        let by_display = user.display_name.as_deref().and_then(|d| score(d, &needle));
        let Some(best) = by_name.into_iter().chain(by_display).reduce(f64::max) else {
            continue;
        };
        if id != me.0 && super::relationships::blocked_between(px, me, &user.id).await? {
            continue;
        }
        let row = json!({
            "user_id": ids::wire(&user.id.0),
            "username": user.username,
            "display_name": user.display_name,
            "avatar_url": user.avatar_url,
            "badges": [],
            "score": best,
        });
        scored.push((best, user.username.to_lowercase(), row));
    }
    Ok(ok(&page(scored, offset, limit)))
}

/// `GET /search/servers?query=&category=`: the caller's servers whose name or description
/// contains `query`. Chorus servers have no discovery listing and no category, so only joined
/// servers are found, and a `category` filter matches none.
pub async fn servers(
    State(st): State<AppState>,
    auth: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let needle = required_query(&q)?;
    let limit = page_limit(&q)?;
    let offset = page_offset(&q)?;
    let category = q.get("category").filter(|c| !c.is_empty());
    let mut scored = Vec::new();
    if category.is_none() {
        for s in px.db.servers(&auth.user.id.0, None).await? {
            let by_name = score(&s.name, &needle);
            // A description match ranks below any name match.
            let by_description = s
                .description
                .as_deref()
                .and_then(|d| score(d, &needle))
                .map(|v| v / 2.0);
            let Some(best) = by_name.or(by_description) else {
                continue;
            };
            let row = json!({
                "server_id": ids::wire(&s.id),
                "name": s.name,
                "description": s.description,
                "icon_url": s.icon_url,
                "member_count": s.member_count,
                "category": null,
                "score": best,
            });
            scored.push((best, s.name.to_lowercase(), row));
        }
    }
    Ok(ok(&page(scored, offset, limit)))
}

/// `GET /channels/{id}/messages/search?content=&limit=25`: the channel's messages containing
/// `content` (case-insensitive), newest first.
pub async fn channel_messages(
    State(st): State<AppState>,
    auth: Authed,
    Path(channel): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let me = &auth.user.id;
    let room = super::messages::room_id(&channel)?;
    let needle = q
        .get("content")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("Invalid content: Field required"))?
        .clone();
    let limit = page_limit(&q)?;
    super::messages::require(px, me, &room, Permissions::READ_HISTORY).await?;
    let search = MessageSearch {
        rooms: vec![room],
        needle,
        author: None,
        before_seq: None,
        limit,
    };
    let hits = px
        .core
        .search_messages(me, search)
        .await
        .map_err(|e| ApiError::core(e, "Channel"))?;
    let out: Vec<_> = hits.iter().map(|m| wire::message(m, Some(&me.0))).collect();
    Ok(ok(&out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_matches_rank_above_prefixes_and_substrings() {
        assert_eq!(score("Alice", "alice"), Some(1.0));
        assert_eq!(score("Alicia", "ali"), Some(0.75));
        assert_eq!(score("Malice", "ali"), Some(0.5));
        assert_eq!(score("Bob", "ali"), None);
    }

    #[test]
    fn pages_carry_the_offset_of_the_next_result() {
        let rows = (0..3)
            .map(|i| (0.5, format!("n{i}"), json!(i)))
            .collect::<Vec<_>>();
        let first = page(rows.clone(), 0, 2);
        assert_eq!(first, json!({"results": [0, 1], "next_cursor": "2"}));
        let last = page(rows, 2, 2);
        assert_eq!(last, json!({"results": [2], "next_cursor": null}));
    }
}
