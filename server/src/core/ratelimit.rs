//! Sliding-window rate limiting keyed by user, shared by all of a user's connections.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::ids::UserId;

pub struct RateLimiter {
    max: usize,
    window: Duration,
    hits: Mutex<HashMap<UserId, VecDeque<Instant>>>,
}

impl RateLimiter {
    pub fn new(max: usize, window: Duration) -> Self {
        Self {
            max,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Records a hit and returns true when `user` is within the limit; a denied attempt is not
    /// recorded.
    pub fn check(&self, user: &UserId) -> bool {
        let now = Instant::now();
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        if hits.len() > 10_000 {
            let window = self.window;
            hits.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        let q = hits.entry(user.clone()).or_default();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            q.pop_front();
        }
        if q.len() >= self.max {
            return false;
        }
        q.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_max_then_denies() {
        let rl = RateLimiter::new(3, Duration::from_secs(3600));
        let u = UserId("a".into());
        assert!(rl.check(&u) && rl.check(&u) && rl.check(&u));
        assert!(!rl.check(&u));
        assert!(rl.check(&UserId("b".into())));
    }

    #[test]
    fn window_expiry_resets() {
        let rl = RateLimiter::new(1, Duration::ZERO);
        let u = UserId("a".into());
        assert!(rl.check(&u));
        assert!(rl.check(&u));
    }
}
