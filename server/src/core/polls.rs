//! Polls: a question with 2–10 options attached to an ordinary message of a room, votes (single
//! or multiple choice), an optional expiry and an explicit end. The poll message is a core
//! message, so every dialect shows it; dialects that know polls render the poll itself.

use super::events::Event;
use super::ids::{MessageId, RoomId, UserId, now_ms};
use super::messages::{Message, MessageRecord, UserRef};
use super::operations::{Core, MAX_MESSAGE_CHARS};
use super::permissions::Permissions;
use super::users::User;
use super::{CoreError, CoreResult};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

/// Fewest and most options of a poll.
pub const MIN_OPTIONS: usize = 2;
pub const MAX_OPTIONS: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollOption {
    pub id: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poll {
    pub id: String,
    pub message_id: MessageId,
    pub room_id: RoomId,
    pub question: String,
    pub options: Vec<PollOption>,
    pub allow_multiselect: bool,
    /// Milliseconds since the epoch; votes after it are refused.
    pub expires_at: Option<i64>,
    pub created_by: UserRef,
    pub created_at: i64,
    pub ended_at: Option<i64>,
}

impl Poll {
    pub fn ended(&self) -> bool {
        self.ended_at.is_some()
    }

    pub fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|t| now > t)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollVote {
    pub user: UserRef,
    pub option_id: String,
    pub voted_at: i64,
}

/// A poll with every vote, in voting order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollState {
    pub poll: Poll,
    pub votes: Vec<PollVote>,
}

impl PollState {
    /// The option ids `user` voted for.
    pub fn votes_of(&self, user: &UserId) -> Vec<String> {
        self.votes
            .iter()
            .filter(|v| &v.user.id == user)
            .map(|v| v.option_id.clone())
            .collect()
    }

    /// Votes per option (in option order), with the voters in voting order.
    pub fn tally(&self) -> Vec<(&PollOption, Vec<&UserRef>)> {
        self.poll
            .options
            .iter()
            .map(|o| {
                let voters = self
                    .votes
                    .iter()
                    .filter(|v| v.option_id == o.id)
                    .map(|v| &v.user)
                    .collect();
                (o, voters)
            })
            .collect()
    }
}

/// What a client asked to create.
#[derive(Debug, Clone)]
pub struct NewPoll {
    pub room_id: RoomId,
    pub author: UserRef,
    pub question: String,
    pub options: Vec<PollOption>,
    pub allow_multiselect: bool,
    pub expires_at: Option<i64>,
    /// The text other dialects show for the poll message.
    pub content: String,
    /// Extra data of the poll message (a JSON object; `poll_id` is added).
    pub extra: Option<serde_json::Value>,
}

type Delivered = Arc<Mutex<Option<tokio::sync::oneshot::Receiver<()>>>>;

/// The hub and a slot for the delivery receipt of the event a commit hook publishes.
fn acked_slot(core: &Core) -> (Arc<crate::hub::Hub>, Delivered, Delivered) {
    let d: Delivered = Arc::default();
    (core.hub().clone(), d.clone(), d)
}

/// Waits until the published event sits in every subscriber's queue, so a reply sent next
/// follows the broadcast (the reference awaits its side packets before replying).
async fn wait_delivered(d: &Delivered) {
    let rx = d.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(rx) = rx {
        let _ = rx.await;
    }
}

fn hide(e: CoreError) -> CoreError {
    match e {
        CoreError::NotFound(_) => CoreError::NotFound("poll"),
        e => e,
    }
}

impl Core {
    /// Posts a poll message and its poll. Subscribers of the room receive `MessageCreated` (the
    /// message's `extra.poll_id` names the poll) before this resolves.
    pub async fn create_poll(&self, new: NewPoll) -> CoreResult<(Arc<Message>, Arc<Poll>)> {
        let room = self
            .require(
                &new.author.id,
                &new.room_id,
                Permissions::SEND_MESSAGES,
                "send_messages",
            )
            .await?;
        if !room.kind.holds_messages() {
            return Err(CoreError::Invalid(
                "this room does not hold messages".into(),
            ));
        }
        // A poll is a message: an archived thread reopens for it as for any post.
        if room.kind == super::rooms::RoomKind::Thread {
            self.open_thread_for_send(&room).await?;
        } else if room.locked || room.archived {
            return Err(CoreError::Forbidden("room is locked"));
        }
        if new.question.trim().is_empty() {
            return Err(CoreError::Invalid("Question is required".into()));
        }
        if new.options.len() < MIN_OPTIONS {
            return Err(CoreError::Invalid("At least 2 options are required".into()));
        }
        if new.options.len() > MAX_OPTIONS {
            return Err(CoreError::Invalid(
                "Cannot have more than 10 options".into(),
            ));
        }
        let content = if new.content.trim().is_empty() {
            new.question.clone()
        } else {
            new.content.clone()
        };
        let content: String = content.chars().take(MAX_MESSAGE_CHARS).collect();
        let poll_id = uuid::Uuid::now_v7().to_string();
        let now = now_ms();
        let mut extra = match new.extra {
            Some(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        extra.insert("poll_id".into(), serde_json::Value::String(poll_id.clone()));
        let rec = MessageRecord {
            id: MessageId::generate(),
            room_id: new.room_id.clone(),
            author: new.author.clone(),
            author_name: None,
            content,
            created_at: now,
            reply_to: None,
            forwarded_from: None,
            extra: Some(serde_json::Value::Object(extra)),
        };
        let poll = Poll {
            id: poll_id,
            message_id: rec.id.clone(),
            room_id: new.room_id,
            question: new.question,
            options: new.options,
            allow_multiselect: new.allow_multiselect,
            expires_at: new.expires_at,
            created_by: new.author,
            created_at: now,
            ended_at: None,
        };
        let hub = self.hub().clone();
        let delivered: Arc<Mutex<Option<tokio::sync::oneshot::Receiver<()>>>> = Arc::default();
        let slot = delivered.clone();
        let (message, poll) = self
            .store()
            .create_poll(
                rec,
                poll,
                Some(Box::new(move |(m, _): &(Message, Poll)| {
                    let rx = hub.publish_acked(Event::MessageCreated {
                        message: Arc::new(m.clone()),
                    });
                    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(rx);
                })),
            )
            .await?;
        let rx = delivered.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(rx) = rx {
            // The broadcast is queued for every subscriber before the caller's reply.
            let _ = rx.await;
        }
        Ok((Arc::new(message), Arc::new(poll)))
    }

    /// A poll (by poll id or by its message id) with its votes, if `user` may view its room.
    pub async fn poll_state(
        &self,
        user: &UserId,
        poll_id: Option<&str>,
        message_id: Option<&MessageId>,
    ) -> CoreResult<PollState> {
        let state = match (poll_id, message_id) {
            (Some(id), _) => self.store().poll(id.to_owned()).await?,
            (None, Some(m)) => self.store().poll_by_message(m.clone()).await?,
            (None, None) => {
                return Err(CoreError::Invalid(
                    "poll_id or message_id is required".into(),
                ));
            }
        }
        .ok_or(CoreError::NotFound("poll"))?;
        let (_, perms) = self
            .permissions(user, &state.poll.room_id)
            .await
            .map_err(hide)?;
        if !perms.contains(Permissions::VIEW_ROOM) {
            return Err(CoreError::Forbidden("view_poll"));
        }
        Ok(state)
    }

    /// Votes for `option_ids`. In a single-choice poll each vote replaces the voter's earlier one
    /// (the last id wins); in a multiple-choice poll votes accumulate. Voting again for an option
    /// changes nothing. Subscribers of the room receive `PollVoted`.
    pub async fn vote_poll(
        &self,
        voter: &User,
        poll_id: &str,
        option_ids: Vec<String>,
    ) -> CoreResult<PollState> {
        let state = self.poll_state(&voter.id, Some(poll_id), None).await?;
        let poll = &state.poll;
        if option_ids.is_empty() {
            return Err(CoreError::Invalid(
                "option_id or option_ids is required".into(),
            ));
        }
        let now = now_ms();
        if poll.ended() {
            return Err(CoreError::Invalid("Poll has ended".into()));
        }
        if poll.expired(now) {
            return Err(CoreError::Invalid("Poll has expired".into()));
        }
        if let Some(bad) = option_ids
            .iter()
            .find(|id| !poll.options.iter().any(|o| &o.id == *id))
        {
            return Err(CoreError::Invalid(format!("Invalid option: {bad}")));
        }
        let (chosen, replace) = if poll.allow_multiselect {
            (option_ids.clone(), false)
        } else {
            (option_ids.last().cloned().into_iter().collect(), true)
        };
        let (hub, slot, delivered) = acked_slot(self);
        let who = UserRef {
            id: voter.id.clone(),
            username: voter.username.clone(),
        };
        let sent = option_ids;
        let state = self
            .store()
            .vote_poll(
                poll.id.clone(),
                voter.id.clone(),
                chosen,
                replace,
                now,
                Some(Box::new(move |s: &PollState| {
                    let rx = hub.publish_acked(Event::PollVoted {
                        state: Arc::new(s.clone()),
                        voter: who,
                        option_ids: sent,
                    });
                    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(rx);
                })),
            )
            .await?;
        wait_delivered(&delivered).await;
        Ok(state)
    }

    /// Ends a poll: its creator, or anyone with `MANAGE_MESSAGES` in its room. Subscribers of the
    /// room receive `PollEnded`.
    pub async fn end_poll(&self, actor: &User, poll_id: &str) -> CoreResult<PollState> {
        let state = self.poll_state(&actor.id, Some(poll_id), None).await?;
        if state.poll.ended() {
            return Err(CoreError::Conflict("Poll has already ended".into()));
        }
        if state.poll.created_by.id != actor.id {
            let (_, perms) = self.permissions(&actor.id, &state.poll.room_id).await?;
            if !perms.contains(Permissions::MANAGE_MESSAGES) {
                return Err(CoreError::Forbidden("manage_messages"));
            }
        }
        self.finish_poll(&state.poll.id).await
    }

    async fn finish_poll(&self, poll_id: &str) -> CoreResult<PollState> {
        let (hub, slot, delivered) = acked_slot(self);
        let state = self
            .store()
            .end_poll(
                poll_id.to_owned(),
                now_ms(),
                Some(Box::new(move |s: &PollState| {
                    let rx = hub.publish_acked(Event::PollEnded {
                        state: Arc::new(s.clone()),
                    });
                    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(rx);
                })),
            )
            .await?;
        wait_delivered(&delivered).await;
        Ok(state)
    }

    /// Ends polls whose expiry has passed (at most `limit`), publishing `PollEnded` for each.
    pub async fn end_expired_polls(&self, limit: u32) -> CoreResult<Vec<PollState>> {
        let ids = self.store().expired_polls(now_ms(), limit).await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            match self.finish_poll(&id).await {
                Ok(s) => out.push(s),
                // Ended meanwhile by someone else.
                Err(CoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}
