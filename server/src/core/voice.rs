//! Voice channel participants, in memory (they describe live connections). Each participant
//! belongs to one session (a connection of a dialect): closing it leaves the channel. No media
//! or signalling passes through the server; clients exchange peer ids.

use super::events::Event;
use super::ids::{RoomId, UserId};
use super::messages::UserRef;
use super::operations::Core;
use indexmap::IndexMap;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceParticipant {
    pub user: UserRef,
    pub peer_id: String,
    pub muted: bool,
    /// The dialect connection that joined (dialect-chosen key).
    pub session: u64,
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

    /// The room `user` is in, with their entry.
    pub fn current(&self, user: &UserId) -> Option<(RoomId, VoiceParticipant)> {
        let g = self.lock();
        let room = g.by_user.get(user)?;
        let p = g.rooms.get(room)?.get(user)?;
        Some((room.clone(), p.clone()))
    }

    fn take(g: &mut VoiceRooms, user: &UserId) -> Option<(RoomId, VoiceParticipant)> {
        let room = g.by_user.remove(user)?;
        let members = g.rooms.get_mut(&room)?;
        let p = members.shift_remove(user);
        if members.is_empty() {
            g.rooms.remove(&room);
        }
        p.map(|p| (room, p))
    }
}

impl Core {
    /// Puts `participant` in `room` (leaving any other room first). Publishes `VoiceChanged`
    /// (`Left` for the old room, then `Joined`) on the rooms' topics.
    pub async fn voice_join(&self, room: &RoomId, participant: VoiceParticipant) {
        let left = {
            let mut g = self.voice.lock();
            let left = Voice::take(&mut g, &participant.user.id);
            g.by_user.insert(participant.user.id.clone(), room.clone());
            g.rooms
                .entry(room.clone())
                .or_default()
                .insert(participant.user.id.clone(), participant.clone());
            left
        };
        if let Some((old, p)) = left {
            self.hub().publish(Event::VoiceChanged {
                room_id: old,
                participant: p,
                change: VoiceChange::Left,
            });
        }
        // Resolve once delivered, so the caller's reply follows the broadcast.
        let _ = self
            .hub()
            .publish_acked(Event::VoiceChanged {
                room_id: room.clone(),
                participant,
                change: VoiceChange::Joined,
            })
            .await;
    }

    /// Takes `user` out of their voice room; returns it. Publishes `VoiceChanged` `Left`.
    pub async fn voice_leave(&self, user: &UserId) -> Option<RoomId> {
        let (room, delivered) = self.voice_take(user)?;
        let _ = delivered.await;
        Some(room)
    }

    fn voice_take(&self, user: &UserId) -> Option<(RoomId, tokio::sync::oneshot::Receiver<()>)> {
        let left = Voice::take(&mut self.voice.lock(), user);
        let (room, p) = left?;
        let delivered = self.hub().publish_acked(Event::VoiceChanged {
            room_id: room.clone(),
            participant: p,
            change: VoiceChange::Left,
        });
        Some((room, delivered))
    }

    /// Leaves voice when the session that joined closes.
    pub fn voice_session_closed(&self, user: &UserId, session: u64) {
        let mine = self
            .voice
            .current(user)
            .is_some_and(|(_, p)| p.session == session);
        if mine {
            self.voice_take(user);
        }
    }

    /// Sets `user`'s mute flag; returns the updated entry. Publishes `VoiceChanged` `Updated`.
    pub async fn voice_set_muted(
        &self,
        user: &UserId,
        muted: bool,
    ) -> Option<(RoomId, VoiceParticipant)> {
        let updated = {
            let mut g = self.voice.lock();
            let room = g.by_user.get(user).cloned()?;
            let p = g.rooms.get_mut(&room)?.get_mut(user)?;
            p.muted = muted;
            (room, p.clone())
        };
        let _ = self
            .hub()
            .publish_acked(Event::VoiceChanged {
                room_id: updated.0.clone(),
                participant: updated.1.clone(),
                change: VoiceChange::Updated,
            })
            .await;
        Some(updated)
    }
}
