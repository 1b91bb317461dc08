//! The reference's rate limiter (§4.2): per user (all connections), consumed by `message_new`,
//! `typing` and `message_edit`; a manual timeout, a one-minute window, and a burst rule
//! (`burst_limit` messages within 10 s) that starts a cooldown.

use crate::core::ids::UserId;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
const BURST_WINDOW: Duration = Duration::from_secs(10);

#[derive(Default)]
struct State {
    window: VecDeque<Instant>,
    last_burst: Option<Instant>,
    timeout_until: Option<Instant>,
}

pub struct Limiter {
    pub enabled: bool,
    per_minute: usize,
    burst: usize,
    cooldown: Duration,
    users: Mutex<HashMap<UserId, State>>,
}

/// A denial: the reason and the wait in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Denied {
    pub reason: String,
    pub length_ms: u64,
}

impl Limiter {
    pub fn new(enabled: bool, per_minute: usize, burst: usize, cooldown_secs: u64) -> Self {
        Self {
            enabled,
            per_minute,
            burst,
            cooldown: Duration::from_secs(cooldown_secs),
            users: Mutex::new(HashMap::new()),
        }
    }

    /// Records one action of `user` when allowed.
    pub fn check(&self, user: &UserId) -> Result<(), Denied> {
        if !self.enabled {
            return Ok(());
        }
        let now = Instant::now();
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        let st = users.entry(user.clone()).or_default();
        if let Some(until) = st.timeout_until {
            if until > now {
                let left = (until - now).as_secs_f64();
                return Err(Denied {
                    reason: format!("You are in timeout for {left:.1} more seconds"),
                    length_ms: (left * 1000.0) as u64,
                });
            }
            st.timeout_until = None;
        }
        while st
            .window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            st.window.pop_front();
        }
        if let Some(b) = st.last_burst
            && now.duration_since(b) < self.cooldown
        {
            let left = (self.cooldown - now.duration_since(b)).as_secs_f64();
            return Err(Denied {
                reason: format!("You are in cooldown for {left:.1} more seconds"),
                length_ms: (left * 1000.0) as u64,
            });
        }
        if st.window.len() >= self.per_minute {
            let oldest = st.window.front().copied().unwrap_or(now);
            let wait = (WINDOW.saturating_sub(now.duration_since(oldest))).as_secs_f64();
            return Err(Denied {
                reason: format!("Rate limit exceeded. Wait {wait:.1} seconds"),
                length_ms: (wait * 1000.0) as u64,
            });
        }
        let recent = st
            .window
            .iter()
            .filter(|t| now.duration_since(**t) < BURST_WINDOW)
            .count();
        if recent >= self.burst {
            st.last_burst = Some(now);
            return Err(Denied {
                reason: format!(
                    "Burst limit exceeded. You're in cooldown for {} seconds",
                    self.cooldown.as_secs()
                ),
                length_ms: self.cooldown.as_millis() as u64,
            });
        }
        st.window.push_back(now);
        Ok(())
    }

    /// A manual timeout (`user_timeout`, `/mute`).
    pub fn set_timeout(&self, user: &UserId, secs: u64) {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        users.entry(user.clone()).or_default().timeout_until =
            Some(Instant::now() + Duration::from_secs(secs));
    }

    /// A manual timeout of `ms` milliseconds (also when set through another dialect).
    pub fn set_timeout_ms(&self, user: &UserId, ms: u64) {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        users.entry(user.clone()).or_default().timeout_until =
            Some(Instant::now() + Duration::from_millis(ms));
    }

    /// Lifts a manual timeout.
    pub fn clear_timeout(&self, user: &UserId) {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(st) = users.get_mut(user) {
            st.timeout_until = None;
        }
    }

    /// `rate_limit_status`: (messages in the last minute, limit, in the last 10 s, burst
    /// limit, cooldown seconds left).
    pub fn status(&self, user: &UserId) -> (usize, usize, usize, usize, f64) {
        let now = Instant::now();
        let users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        let (minute, recent, cooldown) = match users.get(user) {
            Some(st) => {
                let minute = st
                    .window
                    .iter()
                    .filter(|t| now.duration_since(**t) < WINDOW)
                    .count();
                let recent = st
                    .window
                    .iter()
                    .filter(|t| now.duration_since(**t) < BURST_WINDOW)
                    .count();
                let cooldown = st
                    .last_burst
                    .map(|b| {
                        self.cooldown
                            .saturating_sub(now.duration_since(b))
                            .as_secs_f64()
                    })
                    .unwrap_or(0.0);
                (minute, recent, cooldown)
            }
            None => (0, 0, 0.0),
        };
        (minute, self.per_minute, recent, self.burst, cooldown)
    }

    /// Clears the window and burst state (not a manual timeout), as `rate_limit_reset`.
    pub fn reset(&self, user: &UserId) {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(st) = users.get_mut(user) {
            st.window.clear();
            st.last_burst = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_cooldown() {
        let l = Limiter::new(true, 60, 3, 30);
        let u = UserId("u".into());
        for _ in 0..3 {
            l.check(&u).unwrap();
        }
        let d = l.check(&u).unwrap_err();
        assert_eq!(
            d.reason,
            "Burst limit exceeded. You're in cooldown for 30 seconds"
        );
        assert_eq!(d.length_ms, 30_000);
        assert!(
            l.check(&u)
                .unwrap_err()
                .reason
                .starts_with("You are in cooldown for ")
        );
    }

    #[test]
    fn per_minute_and_timeout() {
        let l = Limiter::new(true, 2, 100, 30);
        let u = UserId("u".into());
        l.check(&u).unwrap();
        l.check(&u).unwrap();
        assert!(
            l.check(&u)
                .unwrap_err()
                .reason
                .starts_with("Rate limit exceeded. Wait ")
        );
        l.set_timeout(&u, 5);
        assert!(
            l.check(&u)
                .unwrap_err()
                .reason
                .starts_with("You are in timeout for ")
        );
        assert!(Limiter::new(false, 0, 0, 0).check(&u).is_ok());
    }
}
