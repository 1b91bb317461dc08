//! Gateway sessions: what survives a dropped connection for `resume_window_secs` — the hub
//! subscription (its queue keeps filling while no connection reads it), the sequence counter
//! and a bounded buffer of the last dispatches sent, replayed on RESUME.

use super::render;
use crate::core::Core;
use crate::core::events::Topic;
use crate::core::ids::{RoomId, SpaceId};
use crate::core::permissions::Permissions;
use crate::core::users::User;
use crate::dialects::PLEXICHAT;
use crate::dialects::plexichat::Plexichat;
use crate::dialects::plexichat::ids::wire;
use crate::hub::{ConnId, Frame, Hub, Kick, Subscriber};
use axum::extract::ws::Utf8Bytes;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Intent bits (`GatewayIntent`).
pub mod intents {
    pub const GUILDS: i64 = 1 << 0;
    pub const GUILD_MEMBERS: i64 = 1 << 1;
    pub const GUILD_BANS: i64 = 1 << 2;
    pub const GUILD_VOICE_STATES: i64 = 1 << 7;
    pub const GUILD_PRESENCES: i64 = 1 << 8;
    pub const GUILD_MESSAGES: i64 = 1 << 9;
    pub const GUILD_MESSAGE_REACTIONS: i64 = 1 << 10;
    pub const GUILD_MESSAGE_TYPING: i64 = 1 << 11;
    pub const DIRECT_MESSAGES: i64 = 1 << 12;
    pub const DIRECT_MESSAGE_TYPING: i64 = 1 << 14;
    pub const DEFAULT: i64 = 1_081_085;
    pub const ALL: i64 = 1_900_543;
}

/// The intent a dispatch needs (0: none), following the reference's `filter_by_intents`.
pub fn required_intent(t: &str, dm: bool) -> i64 {
    use intents::*;
    if dm {
        return match t {
            "MESSAGE_CREATE" | "MESSAGE_UPDATE" | "MESSAGE_DELETE" => DIRECT_MESSAGES,
            // Reaction events carry no routing ids in the reference: guild intent even in DMs.
            "MESSAGE_REACTION_ADD" | "MESSAGE_REACTION_REMOVE" | "MESSAGE_REACTION_REMOVE_ALL" => {
                GUILD_MESSAGE_REACTIONS
            }
            "TYPING_START" => DIRECT_MESSAGE_TYPING,
            _ => 0,
        };
    }
    match t {
        "MESSAGE_CREATE" | "MESSAGE_UPDATE" | "MESSAGE_DELETE" | "MESSAGE_DELETE_BULK" => {
            GUILD_MESSAGES
        }
        "MESSAGE_REACTION_ADD" | "MESSAGE_REACTION_REMOVE" | "MESSAGE_REACTION_REMOVE_ALL" => {
            GUILD_MESSAGE_REACTIONS
        }
        "TYPING_START" => GUILD_MESSAGE_TYPING,
        "PRESENCE_UPDATE" => GUILD_PRESENCES,
        "VOICE_STATE_UPDATE" => GUILD_VOICE_STATES,
        "GUILD_MEMBER_ADD"
        | "GUILD_MEMBER_REMOVE"
        | "GUILD_MEMBER_UPDATE"
        | "GUILD_MEMBERS_CHUNK" => GUILD_MEMBERS,
        "GUILD_BAN_ADD" | "GUILD_BAN_REMOVE" => GUILD_BANS,
        "GUILD_CREATE"
        | "GUILD_UPDATE"
        | "GUILD_DELETE"
        | "GUILD_ROLE_CREATE"
        | "GUILD_ROLE_UPDATE"
        | "GUILD_ROLE_DELETE"
        | "CHANNEL_CREATE"
        | "CHANNEL_UPDATE"
        | "CHANNEL_DELETE"
        | "CHANNEL_PINS_UPDATE"
        | "THREAD_CREATE"
        | "THREAD_UPDATE"
        | "THREAD_DELETE" => GUILDS,
        _ => 0,
    }
}

pub struct GwSession {
    pub id: String,
    pub user: User,
    pub token_digest: String,
    pub intents: i64,
    /// Most hub dispatches sent per minute (0: no limit); the rest are dropped unnumbered.
    pub events_per_minute: u32,
    /// The hub subscriber id (kept across resumes; a voice room joined from this session is
    /// left when it ends).
    pub conn: ConnId,
    pub kick: Arc<Kick>,
    /// Set when the session's token was revoked: the kick then closes with 4004.
    pub revoked: std::sync::atomic::AtomicBool,
    /// The sending side of the session's hub queue (for rooms subscribed later).
    pub tx: mpsc::Sender<Frame>,
    pub state: Mutex<SessionState>,
}

pub struct SessionState {
    /// The last `s` sent.
    pub seq: i64,
    /// (s, frame) of the last dispatches.
    pub buffer: VecDeque<(i64, Utf8Bytes)>,
    pub capacity: usize,
    /// The hub queue, while no connection holds it.
    pub rx: Option<mpsc::Receiver<Frame>>,
    pub attached: bool,
    pub detached_at: Instant,
    pub topics: Vec<Topic>,
    /// Rooms that are DMs/groups (for the DM intents).
    pub private_rooms: HashSet<RoomId>,
    /// The server of each server channel the session sees.
    pub room_spaces: HashMap<RoomId, SpaceId>,
    /// Ids of a MESSAGE_DELETE_BULK just dispatched: the MESSAGE_DELETE of each that follows
    /// (for the other dialects) is not sent again.
    pub bulk_deleted: HashSet<String>,
    /// The outbound event limit's current window (§1.13): its start and the events sent in it.
    pub window_start: Instant,
    pub window_events: u32,
}

impl SessionState {
    pub fn new(
        capacity: usize,
        topics: Vec<Topic>,
        private_rooms: HashSet<RoomId>,
        room_spaces: HashMap<RoomId, SpaceId>,
    ) -> Self {
        Self {
            seq: 0,
            buffer: VecDeque::new(),
            capacity,
            rx: None,
            attached: true,
            detached_at: Instant::now(),
            topics,
            private_rooms,
            room_spaces,
            bulk_deleted: HashSet::new(),
            window_start: Instant::now(),
            window_events: 0,
        }
    }

    /// Counts one outbound event against the per-minute limit (0: none); false when over it.
    fn allow_event(&mut self, per_minute: u32) -> bool {
        if per_minute == 0 {
            return true;
        }
        if self.window_start.elapsed() >= Duration::from_secs(60) {
            self.window_start = Instant::now();
            self.window_events = 0;
        }
        if self.window_events >= per_minute {
            return false;
        }
        self.window_events += 1;
        true
    }
}

impl GwSession {
    pub fn lock(&self) -> std::sync::MutexGuard<'_, SessionState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Numbers and records a dispatch; returns the frame to send.
    pub fn dispatch(&self, t: &str, d: &str) -> Utf8Bytes {
        let mut st = self.lock();
        st.seq += 1;
        let s = st.seq;
        let text = Utf8Bytes::from(format!(r#"{{"op":0,"t":"{t}","s":{s},"d":{d}}}"#));
        if st.capacity > 0 {
            if st.buffer.len() >= st.capacity {
                st.buffer.pop_front();
            }
            st.buffer.push_back((s, text.clone()));
        }
        text
    }

    /// One rendered record as this session's dispatch, or None when its intents filter it out,
    /// it is about this session's own user, or the outbound event limit is reached.
    pub fn deliver(&self, rec: &render::Record<'_>) -> Option<Utf8Bytes> {
        if rec.exclude == Some(self.user.id.0.as_str()) {
            return None;
        }
        let room = RoomId(rec.room.to_owned());
        let (dm, space) = {
            let st = self.lock();
            (
                st.private_rooms.contains(&room),
                st.room_spaces.get(&room).cloned(),
            )
        };
        let needed = required_intent(rec.t, dm);
        if needed != 0 && self.intents & needed == 0 {
            return None;
        }
        if !self.lock().allow_event(self.events_per_minute) {
            return None;
        }
        if rec.needs_server {
            let server = space
                .map(|s| format!("\"{}\"", wire(&s.0)))
                .unwrap_or_else(|| "null".into());
            Some(self.dispatch(rec.t, &format!("{}{server}}}", rec.d)))
        } else {
            Some(self.dispatch(rec.t, rec.d))
        }
    }

    pub fn subscribe(&self, hub: &Hub, topic: Topic) {
        let mut st = self.lock();
        if !st.topics.contains(&topic) {
            hub.subscribe(
                topic.clone(),
                self.conn,
                Subscriber {
                    dialect: PLEXICHAT,
                    tx: self.tx.clone(),
                    kick: self.kick.clone(),
                },
            );
            st.topics.push(topic);
        }
    }

    pub fn unsubscribe(&self, hub: &Hub, topic: &Topic) {
        let mut st = self.lock();
        if let Some(i) = st.topics.iter().position(|t| t == topic) {
            st.topics.swap_remove(i);
            hub.unsubscribe(topic, self.conn);
        }
    }

    /// Starts following a server channel the user sees (before anything is posted in it).
    pub fn follow_room(&self, hub: &Hub, space: &SpaceId, room: &RoomId) {
        self.lock().room_spaces.insert(room.clone(), space.clone());
        self.subscribe(hub, Topic::Room(room.clone()));
    }

    /// Starts following a DM or group the user belongs to.
    pub fn follow_private(&self, hub: &Hub, room: &RoomId) {
        self.lock().private_rooms.insert(room.clone());
        self.subscribe(hub, Topic::Room(room.clone()));
    }

    /// Whether the session follows `space`.
    pub fn in_space(&self, space: &SpaceId) -> bool {
        self.lock().topics.contains(&Topic::Space(space.clone()))
    }

    /// A hub frame as this session's dispatches. Channel events also keep the session's room
    /// subscriptions in step with what the user may see (a channel it cannot see is not
    /// announced).
    pub async fn absorb(&self, px: &Plexichat, frame: &Frame) -> Vec<Utf8Bytes> {
        let mut out = Vec::new();
        for rec in render::records(frame.text.as_str()) {
            let room = RoomId(rec.room.to_owned());
            // A thread's events arrive through its channel: learn the thread's server the
            // first time a dispatch needs it.
            if rec.needs_server {
                let known = {
                    let st = self.lock();
                    st.room_spaces.contains_key(&room) || st.private_rooms.contains(&room)
                };
                if !known
                    && let Ok((r, _)) = px.core.permissions(&self.user.id, &room).await
                    && let Some(space) = r.space_id
                {
                    self.lock().room_spaces.insert(room.clone(), space);
                }
            }
            match rec.t {
                "CHANNEL_CREATE" | "CHANNEL_UPDATE" => {
                    let visible = px
                        .core
                        .permissions(&self.user.id, &room)
                        .await
                        .is_ok_and(|(_, p)| p.contains(Permissions::VIEW_ROOM));
                    if !visible {
                        self.unsubscribe(px.core.hub(), &Topic::Room(room));
                        continue;
                    }
                    if let Ok((r, _)) = px.core.permissions(&self.user.id, &room).await
                        && let Some(space) = r.space_id
                    {
                        self.lock().room_spaces.insert(room.clone(), space);
                    }
                    self.subscribe(px.core.hub(), Topic::Room(room));
                }
                "CHANNEL_DELETE" => self.unsubscribe(px.core.hub(), &Topic::Room(room)),
                "PRESENCE_UPDATE" if rec.room == self.user.id.0 => continue,
                render::PRIVATE_JOIN => {
                    self.follow_private(px.core.hub(), &room);
                    continue;
                }
                // Signalling relayed to this session: sent as it is, never numbered.
                render::RAW => {
                    out.push(Utf8Bytes::from(rec.d.to_owned()));
                    continue;
                }
                "MESSAGE_DELETE_BULK" => {
                    let ids = render::bulk_ids(rec.d);
                    self.lock().bulk_deleted = ids;
                }
                "MESSAGE_DELETE" => {
                    let mut st = self.lock();
                    if let Some(id) = render::deleted_id(rec.d)
                        && st.bulk_deleted.remove(id)
                    {
                        continue;
                    }
                    st.bulk_deleted.clear();
                }
                _ => {}
            }
            if let Some(f) = self.deliver(&rec) {
                out.push(f);
            }
            // a member removed or banned, or a deleted server, is no longer
            // followed (after its own dispatch).
            match rec.t {
                "GUILD_MEMBER_REMOVE" | "GUILD_BAN_ADD" if rec.room == self.user.id.0 => {
                    let guild = serde_json::from_str::<serde_json::Value>(rec.d)
                        .ok()
                        .and_then(|d| d.get("guild_id")?.as_str().map(str::to_owned))
                        .and_then(|g| crate::dialects::plexichat::ids::core(&g));
                    if let Some(g) = guild {
                        self.leave_space(px.core.hub(), &SpaceId(g));
                    }
                }
                "GUILD_DELETE" => self.leave_space(px.core.hub(), &SpaceId(rec.room.to_owned())),
                _ => {}
            }
        }
        out
    }

    /// Stops following a server and its channels.
    pub fn leave_space(&self, hub: &Hub, space: &SpaceId) {
        let rooms: Vec<RoomId> = self
            .lock()
            .room_spaces
            .iter()
            .filter(|(_, sp)| *sp == space)
            .map(|(r, _)| r.clone())
            .collect();
        for r in rooms {
            self.unsubscribe(hub, &Topic::Room(r.clone()));
            self.lock().room_spaces.remove(&r);
        }
        self.unsubscribe(hub, &Topic::Space(space.clone()));
    }

    /// The buffered dispatches after `seq`, or None when some of them were already dropped.
    pub fn replay_after(&self, seq: i64) -> Option<Vec<Utf8Bytes>> {
        let st = self.lock();
        if seq > st.seq {
            return None;
        }
        let oldest = st.buffer.front().map(|(s, _)| *s).unwrap_or(st.seq + 1);
        if seq + 1 < oldest {
            return None;
        }
        Some(
            st.buffer
                .iter()
                .filter(|(s, _)| *s > seq)
                .map(|(_, f)| f.clone())
                .collect(),
        )
    }
}

#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Arc<GwSession>>>,
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<GwSession>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn insert(&self, s: Arc<GwSession>) {
        self.lock().insert(s.id.clone(), s);
    }

    pub fn get(&self, id: &str) -> Option<Arc<GwSession>> {
        self.lock().get(id).cloned()
    }

    /// Every live or resumable session.
    pub fn all(&self) -> Vec<Arc<GwSession>> {
        self.lock().values().cloned().collect()
    }

    /// Closes every session identified with one of the revoked token `digests`: a connected
    /// one is kicked (its connection closes with 4004), a resumable one ends now.
    pub fn close_revoked(&self, digests: &HashSet<String>, core: &Core) {
        for session in self.all() {
            if !digests.contains(&session.token_digest) {
                continue;
            }
            session
                .revoked
                .store(true, std::sync::atomic::Ordering::Release);
            session.kick.kick();
            if !session.lock().attached {
                self.end(&session, core);
            }
        }
    }

    /// A connection let go of `session`: it stays resumable for `window`, then ends.
    pub fn detach(
        self: &Arc<Self>,
        session: Arc<GwSession>,
        rx: mpsc::Receiver<Frame>,
        window: Duration,
        core: Arc<Core>,
    ) {
        {
            let mut st = session.lock();
            st.rx = Some(rx);
            st.attached = false;
            st.detached_at = Instant::now();
        }
        let sessions = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(window).await;
            let expired = {
                let st = session.lock();
                !st.attached && st.detached_at.elapsed() >= window
            };
            if expired {
                sessions.end(&session, &core);
            }
        });
    }

    /// Forgets a session, drops its subscriptions and takes its user out of voice if it put
    /// them there.
    pub fn end(&self, session: &GwSession, core: &Core) {
        let hub = core.hub();
        core.voice_session_closed(&session.user.id, session.conn);
        self.lock().remove(&session.id);
        let topics = std::mem::take(&mut session.lock().topics);
        for t in topics {
            hub.unsubscribe(&t, session.conn);
        }
        session.lock().rx = None;
    }
}
