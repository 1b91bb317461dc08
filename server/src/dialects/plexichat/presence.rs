//! What Plexichat shows of a user's presence: the status and custom status last set (op 3,
//! `PUT /users/@me/presence`) while connected, and when the user was last connected. The core's
//! presence counts the connections.

use crate::core::ids::{UserId, now_ms};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// `online`, `idle`, `dnd` or `offline` (`invisible` is shown as offline).
    pub status: &'static str,
    pub custom_status: Option<String>,
    pub custom_emoji: Option<String>,
}

#[derive(Default)]
pub struct Statuses {
    shown: Mutex<HashMap<UserId, Shown>>,
    last_seen: Mutex<HashMap<UserId, i64>>,
}

impl Statuses {
    pub fn set(
        &self,
        user: &UserId,
        status: &'static str,
        custom_status: Option<String>,
        custom_emoji: Option<String>,
    ) {
        self.shown.lock().unwrap_or_else(|e| e.into_inner()).insert(
            user.clone(),
            Shown {
                status,
                custom_status,
                custom_emoji,
            },
        );
    }

    /// The user's last connection closed.
    pub fn went_offline(&self, user: &UserId) {
        self.shown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(user);
        self.last_seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(user.clone(), now_ms());
    }

    /// What others see (offline when not connected).
    pub fn shown(&self, user: &UserId, connected: bool) -> Shown {
        let shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        match shown.get(user) {
            Some(s) if connected => s.clone(),
            _ => Shown {
                status: if connected { "online" } else { "offline" },
                custom_status: None,
                custom_emoji: None,
            },
        }
    }

    /// When the user's last connection closed (None: connected now, or never seen).
    pub fn last_seen(&self, user: &UserId) -> Option<i64> {
        self.last_seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(user)
            .copied()
    }
}
