//! Presence: which users are connected, through how many connections, with which status.
//! In memory only (it describes live connections); the chosen status text is a user setting.

use super::ids::UserId;
use super::users::Status;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct Presence {
    online: Mutex<HashMap<UserId, (usize, Status)>>,
}

impl Presence {
    /// A connection of `user` opened; returns true when it is the user's first.
    pub fn connect(&self, user: &UserId) -> bool {
        let mut m = self.online.lock().unwrap_or_else(|e| e.into_inner());
        let e = m.entry(user.clone()).or_insert((0, Status::Online));
        e.0 += 1;
        e.0 == 1
    }

    /// A connection closed; returns true when it was the user's last.
    pub fn disconnect(&self, user: &UserId) -> bool {
        let mut m = self.online.lock().unwrap_or_else(|e| e.into_inner());
        match m.get_mut(user) {
            Some(e) if e.0 > 1 => {
                e.0 -= 1;
                false
            }
            Some(_) => {
                m.remove(user);
                true
            }
            None => false,
        }
    }

    pub fn status(&self, user: &UserId) -> Status {
        let m = self.online.lock().unwrap_or_else(|e| e.into_inner());
        m.get(user).map(|e| e.1).unwrap_or(Status::Offline)
    }

    pub fn online_count(&self) -> usize {
        self.online.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}
