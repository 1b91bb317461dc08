//! Voice rooms: who is in which voice room, with which flags, joined from which connection. One
//! model for every dialect, kept in memory (like presence, it describes live connections): an
//! OriginChats participant carries the PeerJS id clients call each other by, a Plexichat one
//! its self-mute/deafen/video/stream flags, and both see each other. No media passes through the
//! server. Each change publishes `VoiceChanged` on the voice room.

use super::events::Event;
use super::ids::{RoomId, SpaceId, UserId, now_ms};
use super::messages::UserRef;
use super::permissions::Permissions;
use super::rooms::RoomKind;
use super::users::User;
use super::{Core, CoreError, CoreResult};
use indexmap::IndexMap;
use std::collections::HashMap;
use std::sync::Mutex;

/// The flags a client sets for itself (OriginChats' `muted` is `self_mute`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VoiceFlags {
    pub self_mute: bool,
    pub self_deaf: bool,
    pub self_video: bool,
    pub self_stream: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceParticipant {
    pub user: UserRef,
    pub room_id: RoomId,
    pub space_id: Option<SpaceId>,
    /// The peer id other clients connect to (OriginChats); None for joins without one.
    pub peer_id: Option<String>,
    pub flags: VoiceFlags,
    /// Server-side mute and deafen (moderators; not settable yet).
    pub mute: bool,
    pub deaf: bool,
    /// The connection that joined (a hub connection id): closing it leaves the room.
    pub session: u64,
    pub joined_at: i64,
}

impl VoiceParticipant {
    /// A fresh participant of `room` joined from connection `session`.
    pub fn new(user: UserRef, room_id: RoomId, space_id: Option<SpaceId>, session: u64) -> Self {
        VoiceParticipant {
            user,
            room_id,
            space_id,
            peer_id: None,
            flags: VoiceFlags::default(),
            mute: false,
            deaf: false,
            session,
            joined_at: now_ms(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoiceChange {
    Joined,
    Updated,
    Left,
}

#[derive(Default)]
pub struct Voice {
    inner: Mutex<VoiceRooms>,
}

#[derive(Default)]
struct VoiceRooms {
    /// Participants of each room in joining order (a room with none is removed).
    rooms: HashMap<RoomId, IndexMap<UserId, VoiceParticipant>>,
    /// The room each user is in.
    by_user: HashMap<UserId, RoomId>,
}

impl Voice {
    fn lock(&self) -> std::sync::MutexGuard<'_, VoiceRooms> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The participants of `room`, in joining order.
    pub fn participants(&self, room: &RoomId) -> Vec<VoiceParticipant> {
        self.lock()
            .rooms
            .get(room)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// `user`'s entry, if they are in a voice room.
    pub fn current(&self, user: &UserId) -> Option<VoiceParticipant> {
        let g = self.lock();
        let room = g.by_user.get(user)?;
        g.rooms.get(room)?.get(user).cloned()
    }

    fn take(g: &mut VoiceRooms, user: &UserId) -> Option<VoiceParticipant> {
        let room = g.by_user.remove(user)?;
        let members = g.rooms.get_mut(&room)?;
        let p = members.shift_remove(user);
        if members.is_empty() {
            g.rooms.remove(&room);
        }
        p
    }
}

impl Core {
    /// Puts `participant` in its room, taking the user out of any room they were in first (the
    /// same one included: a rejoin is a leave and a join). Resolves once both `VoiceChanged`
    /// events are delivered, so the caller's reply follows the broadcasts.
    pub async fn voice_join(&self, participant: VoiceParticipant) {
        let left = {
            let mut g = self.voice.lock();
            let left = Voice::take(&mut g, &participant.user.id);
            let room = participant.room_id.clone();
            g.by_user.insert(participant.user.id.clone(), room.clone());
            g.rooms
                .entry(room)
                .or_default()
                .insert(participant.user.id.clone(), participant.clone());
            left
        };
        if let Some(old) = left {
            self.publish_voice(old, VoiceChange::Left);
        }
        let _ = self.publish_voice(participant, VoiceChange::Joined).await;
    }

    /// Joins `room` as `actor` from connection `session` with `flags`, after checking what the
    /// core guards (`VOICE_CONNECT`, a voice room).
    pub async fn voice_join_checked(
        &self,
        actor: &User,
        room: &RoomId,
        flags: VoiceFlags,
        session: u64,
    ) -> CoreResult<VoiceParticipant> {
        let room_rec = self
            .require(&actor.id, room, Permissions::VOICE_CONNECT, "voice_connect")
            .await?;
        if room_rec.kind != RoomKind::Voice {
            return Err(CoreError::Invalid("not a voice channel".into()));
        }
        let user = UserRef {
            id: actor.id.clone(),
            username: actor.username.clone(),
        };
        let mut me = VoiceParticipant::new(user, room.clone(), room_rec.space_id.clone(), session);
        me.flags = flags;
        self.voice_join(me.clone()).await;
        Ok(me)
    }

    /// Takes `user` out of their voice room; returns the entry they had.
    pub async fn voice_leave(&self, user: &UserId) -> Option<VoiceParticipant> {
        let left = Voice::take(&mut self.voice.lock(), user)?;
        let _ = self.publish_voice(left.clone(), VoiceChange::Left).await;
        Some(left)
    }

    /// Leaves voice when the connection that joined closes (another connection of the same user
    /// that joined since keeps its place).
    pub fn voice_session_closed(&self, user: &UserId, session: u64) {
        let left = {
            let mut g = self.voice.lock();
            let mine = g
                .by_user
                .get(user)
                .and_then(|room| g.rooms.get(room)?.get(user))
                .is_some_and(|p| p.session == session);
            if mine {
                Voice::take(&mut g, user)
            } else {
                None
            }
        };
        if let Some(p) = left {
            self.publish_voice(p, VoiceChange::Left);
        }
    }

    /// Changes `user`'s flags in their voice room; returns the updated entry (None: not in one).
    pub async fn voice_set_flags(
        &self,
        user: &UserId,
        change: impl FnOnce(&mut VoiceFlags),
    ) -> Option<VoiceParticipant> {
        let updated = {
            let mut g = self.voice.lock();
            let room = g.by_user.get(user).cloned()?;
            let p = g.rooms.get_mut(&room)?.get_mut(user)?;
            change(&mut p.flags);
            p.clone()
        };
        let _ = self
            .publish_voice(updated.clone(), VoiceChange::Updated)
            .await;
        Some(updated)
    }

    fn publish_voice(
        &self,
        participant: VoiceParticipant,
        change: VoiceChange,
    ) -> tokio::sync::oneshot::Receiver<()> {
        self.hub().publish_acked(Event::VoiceChanged {
            room_id: participant.room_id.clone(),
            participant,
            change,
        })
    }
}
