//! Polls (§2.9): a `poll` in `POST /channels/{id}/messages` creates a core poll (the same poll
//! OriginChats clients see and vote on), and `POST /polls/{poll_id}/vote` votes. A message's
//! `poll` is the poll itself; `poll_results` the tally, shown as `results_visibility` allows.

use super::{ApiError, Authed, body, ok, px};
use crate::core::CoreError;
use crate::core::ids::{RoomId, UserId, now_ms};
use crate::core::messages::{Message, UserRef};
use crate::core::polls::{NewPoll, PollOption, PollState};
use crate::dialects::plexichat::{Plexichat, ids, wire};
use crate::net::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use chorus_protocol::gateway as gw;
use chorus_protocol::plexichat_rest::{Poll as PollRequest, VotePollRequest};
use serde_json::{Value, json};

/// The key of a poll message's extra data holding the poll as Plexichat shows it when it was
/// created, so a MESSAGE_CREATE (rendered without a store lookup) carries the poll.
const SNAPSHOT_KEY: &str = "plexichat_poll";
const VISIBILITIES: [&str; 3] = ["always", "after_vote", "after_end"];

/// When the poll's results show; polls made elsewhere (OriginChats) show them all along.
fn visibility_of(message: &Message) -> String {
    message
        .extra
        .as_deref()
        .and_then(|x| x.get(SNAPSHOT_KEY))
        .and_then(|p| p.get("results_visibility"))
        .and_then(Value::as_str)
        .filter(|v| VISIBILITIES.contains(v))
        .unwrap_or("always")
        .to_owned()
}

/// The `poll` object of a message.
fn poll_json(state: &PollState, visibility: &str, now: i64) -> Value {
    let p = &state.poll;
    json!({
        "id": ids::wire(&p.id),
        "message_id": ids::wire(&p.message_id.0),
        "channel_id": ids::wire(&p.room_id.0),
        "question": p.question,
        "options": p.options.iter().map(|o| json!({"id": o.id, "text": o.text})).collect::<Vec<_>>(),
        "allow_multiple_choice": p.allow_multiselect,
        "results_visibility": visibility,
        "expires_at": p.expires_at,
        "ended": p.ended() || p.expired(now),
    })
}

/// The tally as `viewer` may see it (None while `results_visibility` hides it).
fn results_json(state: &PollState, visibility: &str, viewer: &UserId, now: i64) -> Option<Value> {
    let mine = state.votes_of(viewer);
    let over = state.poll.ended() || state.poll.expired(now);
    let shown = match visibility {
        "after_vote" => !mine.is_empty() || over,
        "after_end" => over,
        _ => true,
    };
    if !shown {
        return None;
    }
    let mut voters: Vec<&UserId> = state.votes.iter().map(|v| &v.user.id).collect();
    voters.sort();
    voters.dedup();
    let options: Vec<Value> = state
        .tally()
        .iter()
        .map(|(o, who)| json!({"option_id": o.id, "votes": who.len()}))
        .collect();
    Some(json!({
        "total_votes": state.votes.len(),
        "voter_count": voters.len(),
        "options": options,
        "my_votes": mine,
    }))
}

/// Whether the message is a poll sent without text over Plexichat.
pub fn poll_only(m: &Message) -> bool {
    m.extra
        .as_deref()
        .and_then(|x| x.get(SNAPSHOT_KEY))
        .and_then(|p| p.get("poll_only"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The poll of a poll message as stored with it (see [`SNAPSHOT_KEY`]), for renders that have
/// no store at hand (MESSAGE_CREATE); null for other messages.
pub fn snapshot(m: &Message) -> Value {
    let extra = m.extra.as_deref();
    let poll_id = extra.and_then(|x| x.get("poll_id")).and_then(Value::as_str);
    let preview = extra
        .and_then(|x| x.get(SNAPSHOT_KEY))
        .and_then(|p| p.get("poll"));
    match (poll_id, preview) {
        (Some(id), Some(Value::Object(p))) => {
            let mut p = p.clone();
            p.insert("id".into(), Value::String(ids::wire(id)));
            p.insert("message_id".into(), Value::String(ids::wire(&m.id.0)));
            p.insert("channel_id".into(), Value::String(ids::wire(&m.room_id.0)));
            Value::Object(p)
        }
        _ => Value::Null,
    }
}

/// `MessageResponse` for `viewer`, with the poll's current state and results when the message
/// is a poll.
pub async fn message_for(px: &Plexichat, m: &Message, viewer: &UserId) -> gw::Message {
    let mut out = wire::message(m, Some(&viewer.0));
    let poll_id = m
        .extra
        .as_deref()
        .and_then(|x| x.get("poll_id"))
        .and_then(Value::as_str);
    if let Some(id) = poll_id
        && let Ok(state) = px.core.poll_state(viewer, Some(id), None).await
    {
        let now = now_ms();
        let visibility = visibility_of(m);
        out.poll = poll_json(&state, &visibility, now);
        out.poll_results = results_json(&state, &visibility, viewer, now).unwrap_or(Value::Null);
    }
    out
}

/// Creates the poll message of `POST /channels/{id}/messages` with a `poll`.
pub async fn create(
    px: &Plexichat,
    author: &crate::core::users::User,
    room: RoomId,
    content: String,
    req: &PollRequest,
    extra: Option<Value>,
) -> Result<Message, ApiError> {
    let visibility = req.results_visibility.map_or("always", |v| v.as_str());
    let options: Vec<PollOption> = req
        .options
        .iter()
        .enumerate()
        .map(|(i, text)| PollOption {
            id: i.to_string(),
            text: text.clone(),
            emoji: None,
        })
        .collect();
    let now = now_ms();
    let expires_at = req.duration_hours.map(|h| now + h * 3_600_000);
    let multiple = req.allow_multiple_choice.unwrap_or(false);
    // Other dialects show the question as the text of a poll-only message; Plexichat shows
    // the reference's zero-width space.
    let poll_only = content.trim().is_empty();
    // The poll as it stands at creation: no votes, not ended.
    let preview = json!({
        "question": req.question,
        "options": options.iter().map(|o| json!({"id": o.id, "text": o.text})).collect::<Vec<_>>(),
        "allow_multiple_choice": multiple,
        "results_visibility": visibility,
        "expires_at": expires_at,
        "ended": false,
    });
    let new = NewPoll {
        room_id: room,
        author: UserRef {
            id: author.id.clone(),
            username: author.username.clone(),
        },
        question: req.question.clone(),
        options,
        allow_multiselect: multiple,
        expires_at,
        content,
        extra: Some({
            let mut extra = extra.unwrap_or_else(|| json!({}));
            extra[SNAPSHOT_KEY] = json!({"results_visibility": visibility, "poll": preview,
                "poll_only": poll_only});
            extra
        }),
    };
    let (message, _) = px.core.create_poll(new).await.map_err(|e| match e {
        CoreError::Forbidden(_) => {
            ApiError::forbidden("You do not have permission to send messages in this channel")
        }
        e => ApiError::core(e, "Channel"),
    })?;
    Ok((*message).clone())
}

fn poll_error(e: CoreError) -> ApiError {
    match e {
        CoreError::NotFound(_) | CoreError::Forbidden(_) => ApiError::not_found("Poll not found"),
        CoreError::Invalid(m) => ApiError::bad_request(m),
        e => ApiError::core(e, "Poll"),
    }
}

/// `POST /polls/{poll_id}/vote` with `{"option_ids":[...]}`: in a single-choice poll the vote
/// replaces the caller's earlier one; in a multiple-choice poll choices add up (the core's
/// rule, shared with OriginChats). Answers the poll and its results as the voter now sees them.
pub async fn vote(
    State(st): State<AppState>,
    auth: Authed,
    Path(poll): Path<String>,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let id = ids::core(&poll).ok_or_else(|| ApiError::bad_request("Invalid poll ID"))?;
    let req: VotePollRequest = body(&text, VotePollRequest::decode)?;
    let before = px
        .core
        .poll_state(&auth.user.id, Some(&id), None)
        .await
        .map_err(poll_error)?;
    let mut chosen = req.option_ids.clone();
    chosen.dedup();
    if chosen.len() > 1 && !before.poll.allow_multiselect {
        return Err(ApiError::bad_request("This poll allows only one choice"));
    }
    let state = px
        .core
        .vote_poll(&auth.user, &id, chosen)
        .await
        .map_err(poll_error)?;
    let message = px
        .core
        .store()
        .message(state.poll.message_id.clone())
        .await?
        .ok_or_else(|| ApiError::not_found("Poll not found"))?;
    let now = now_ms();
    let visibility = visibility_of(&message);
    Ok(ok(&json!({
        "poll": poll_json(&state, &visibility, now),
        "poll_results": results_json(&state, &visibility, &auth.user.id, now),
    })))
}
