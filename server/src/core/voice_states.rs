//! Voice state: who is in which voice room, with which flags. Kept in memory (like presence, it
//! describes live connections); each change publishes `VoiceStateChanged` on the room.

use super::events::Event;
use super::ids::{RoomId, SpaceId, UserId, now_ms};
use super::permissions::Permissions;
use super::rooms::RoomKind;
use super::users::User;
use super::{Core, CoreError, CoreResult};
use std::collections::HashMap;
use std::sync::Mutex;

/// The flags a client sets for itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VoiceFlags {
    pub self_mute: bool,
    pub self_deaf: bool,
    pub self_video: bool,
    pub self_stream: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceState {
    pub user_id: UserId,
    /// The room the user is in (None: they just left).
    pub room_id: Option<RoomId>,
    pub space_id: Option<SpaceId>,
    pub flags: VoiceFlags,
    /// Server-side mute and deafen (moderators; not settable yet).
    pub mute: bool,
    pub deaf: bool,
    pub joined_at: i64,
}

#[derive(Default)]
pub struct VoiceStates {
    by_user: Mutex<HashMap<UserId, VoiceState>>,
}

impl VoiceStates {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, VoiceState>> {
        self.by_user.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The user's current state, if they are in a voice room.
    pub fn of(&self, user: &UserId) -> Option<VoiceState> {
        self.lock().get(user).cloned()
    }

    /// Everyone in `room`.
    pub fn in_room(&self, room: &RoomId) -> Vec<VoiceState> {
        self.lock()
            .values()
            .filter(|s| s.room_id.as_ref() == Some(room))
            .cloned()
            .collect()
    }
}

impl Core {
    /// Puts `actor` in the voice room `room` (moving them out of any other) with `flags`
    /// (`VOICE_CONNECT`). Already there: only the flags change.
    pub async fn voice_state_join(
        &self,
        actor: &User,
        room: &RoomId,
        flags: VoiceFlags,
    ) -> CoreResult<VoiceState> {
        let room_rec = self
            .require(&actor.id, room, Permissions::VOICE_CONNECT, "voice_connect")
            .await?;
        if room_rec.kind != RoomKind::Voice {
            return Err(CoreError::Invalid("not a voice channel".into()));
        }
        let (state, left) = {
            let mut map = self.voice_states.lock();
            let previous = map.get(&actor.id).cloned();
            let joined_at = match &previous {
                Some(p) if p.room_id.as_ref() == Some(room) => p.joined_at,
                _ => now_ms(),
            };
            let state = VoiceState {
                user_id: actor.id.clone(),
                room_id: Some(room.clone()),
                space_id: room_rec.space_id.clone(),
                flags,
                mute: false,
                deaf: false,
                joined_at,
            };
            map.insert(actor.id.clone(), state.clone());
            let left = previous.filter(|p| p.room_id.as_ref() != Some(room));
            (state, left)
        };
        if let Some(mut old) = left
            && let Some(old_room) = old.room_id.take()
        {
            self.hub().publish(Event::VoiceStateChanged {
                state: old,
                room_id: old_room,
            });
        }
        self.hub().publish(Event::VoiceStateChanged {
            state: state.clone(),
            room_id: room.clone(),
        });
        Ok(state)
    }

    /// Changes the flags of `actor` in their current voice room (None: not in one).
    pub fn voice_state_set_flags(&self, actor: &UserId, flags: VoiceFlags) -> Option<VoiceState> {
        let state = {
            let mut map = self.voice_states.lock();
            let s = map.get_mut(actor)?;
            s.flags = flags;
            s.clone()
        };
        let room = state.room_id.clone()?;
        self.hub().publish(Event::VoiceStateChanged {
            state: state.clone(),
            room_id: room,
        });
        Some(state)
    }

    /// Takes `actor` out of their voice room; the room receives their state with no room.
    pub fn voice_state_leave(&self, actor: &UserId) -> Option<VoiceState> {
        let mut state = self.voice_states.lock().remove(actor)?;
        let room = state.room_id.take()?;
        self.hub().publish(Event::VoiceStateChanged {
            state: state.clone(),
            room_id: room,
        });
        Some(state)
    }
}
