//! The live OriginChats connections, for the dialect's own broadcasts (presence, typing, the
//! pushed channel list). Chat events from the core reach connections through the hub instead.

use crate::core::ids::{RoomId, UserId};
use crate::hub::{ConnId, Frame, Kick};
use axum::extract::ws::Utf8Bytes;
use indexmap::IndexMap;
use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use tokio::sync::mpsc;

pub struct Conn {
    pub tx: mpsc::Sender<Frame>,
    pub kick: Arc<Kick>,
    /// Set once authenticated.
    pub user: Option<UserId>,
    /// Rooms this connection may view (and is subscribed to on the hub).
    pub rooms: HashSet<RoomId>,
}

/// Connections in the order they opened (the reference's "first connection of a user").
#[derive(Default)]
pub struct Conns {
    map: RwLock<IndexMap<ConnId, Conn>>,
}

/// Queues `text` on a connection; a connection whose queue is full is closed as a slow consumer.
pub fn push(tx: &mpsc::Sender<Frame>, kick: &Kick, text: Utf8Bytes) {
    if let Err(mpsc::error::TrySendError::Full(_)) = tx.try_send(Frame {
        text,
        created_seq: 0,
    }) {
        kick.kick();
    }
}

impl Conns {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, IndexMap<ConnId, Conn>> {
        self.map.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, IndexMap<ConnId, Conn>> {
        self.map.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn insert(&self, id: ConnId, tx: mpsc::Sender<Frame>, kick: Arc<Kick>) {
        self.write().insert(
            id,
            Conn {
                tx,
                kick,
                user: None,
                rooms: HashSet::new(),
            },
        );
    }

    pub fn remove(&self, id: ConnId) -> Option<Conn> {
        self.write().shift_remove(&id)
    }

    pub fn set_user(&self, id: ConnId, user: UserId) {
        if let Some(c) = self.write().get_mut(&id) {
            c.user = Some(user);
        }
    }

    /// Replaces the viewable rooms of a connection; returns (added, removed).
    pub fn set_rooms(&self, id: ConnId, rooms: HashSet<RoomId>) -> (Vec<RoomId>, Vec<RoomId>) {
        let mut map = self.write();
        let Some(c) = map.get_mut(&id) else {
            return (Vec::new(), Vec::new());
        };
        let added = rooms.difference(&c.rooms).cloned().collect();
        let removed = c.rooms.difference(&rooms).cloned().collect();
        c.rooms = rooms;
        (added, removed)
    }

    /// The queue and kick switch of a connection.
    pub fn handle(&self, id: ConnId) -> Option<(mpsc::Sender<Frame>, Arc<Kick>)> {
        self.read().get(&id).map(|c| (c.tx.clone(), c.kick.clone()))
    }

    pub fn can_view(&self, id: ConnId, room: &RoomId) -> bool {
        self.read().get(&id).is_some_and(|c| c.rooms.contains(room))
    }

    /// Every authenticated connection (`except` excluded).
    pub fn send_all(&self, text: &Utf8Bytes, except: Option<ConnId>) {
        for (id, c) in self.read().iter() {
            if c.user.is_some() && Some(*id) != except {
                push(&c.tx, &c.kick, text.clone());
            }
        }
    }

    /// Every authenticated connection that can view `room`.
    pub fn send_viewers(&self, room: &RoomId, text: &Utf8Bytes, except: Option<ConnId>) {
        for (id, c) in self.read().iter() {
            if c.user.is_some() && Some(*id) != except && c.rooms.contains(room) {
                push(&c.tx, &c.kick, text.clone());
            }
        }
    }

    /// Every connection of `user`.
    pub fn send_user(&self, user: &UserId, text: &Utf8Bytes) {
        for c in self.read().values() {
            if c.user.as_ref() == Some(user) {
                push(&c.tx, &c.kick, text.clone());
            }
        }
    }

    /// Tells every connection of `user` why (`{"cmd":"disconnect","reason"}`) and closes it
    /// once that frame is written, as the reference's `disconnect_user`.
    pub fn disconnect_user(&self, user: &UserId, reason: &str) {
        let text =
            super::frames::encode(&serde_json::json!({"cmd": "disconnect", "reason": reason}));
        for c in self.read().values() {
            if c.user.as_ref() == Some(user) {
                push(&c.tx, &c.kick, text.clone());
                c.kick.close_after_queued();
            }
        }
    }

    /// The authenticated connections, in connection order.
    pub fn authenticated(&self) -> Vec<(ConnId, UserId)> {
        self.read()
            .iter()
            .filter_map(|(id, c)| c.user.clone().map(|u| (*id, u)))
            .collect()
    }

    pub fn user_connected(&self, user: &UserId) -> bool {
        self.read().values().any(|c| c.user.as_ref() == Some(user))
    }
}
