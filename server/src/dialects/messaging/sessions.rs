//! Live connections per user (multi-device fan-out) and the heartbeat/expiry rules.
//!
//! As in the original: a connection is active while its last `session.heartbeat` (or its
//! connect) is younger than `INACTIVITY_THRESHOLD`. Rooms created or joined later reach only
//! active connections; each new connect of a user drops that user's expired connections from
//! every room (they then stop receiving broadcasts, as in the original).

use crate::core::events::Topic;
use crate::core::ids::{UserId, now_ms};
use crate::hub::{ConnId, Hub, Subscriber};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

pub struct Conn {
    pub conn: ConnId,
    pub sub: Subscriber,
    last_seen: AtomicI64,
    topics: Mutex<HashSet<Topic>>,
}

impl Conn {
    pub fn new(conn: ConnId, sub: Subscriber) -> Arc<Conn> {
        Arc::new(Conn {
            conn,
            sub,
            last_seen: AtomicI64::new(now_ms()),
            topics: Mutex::new(HashSet::new()),
        })
    }

    pub fn heartbeat(&self) {
        self.last_seen.store(now_ms(), Ordering::Release);
    }

    fn active(&self, threshold_ms: i64) -> bool {
        self.last_seen.load(Ordering::Acquire) >= now_ms() - threshold_ms
    }

    fn subscribe(&self, hub: &Hub, topic: Topic) {
        let mut t = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        if t.insert(topic.clone()) {
            hub.subscribe(topic, self.conn, self.sub.clone());
        }
    }

    fn unsubscribe(&self, hub: &Hub, topic: &Topic) {
        let mut t = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        if t.remove(topic) {
            hub.unsubscribe(topic, self.conn);
        }
    }

    fn unsubscribe_all(&self, hub: &Hub) {
        let mut t = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        for topic in t.drain() {
            hub.unsubscribe(&topic, self.conn);
        }
    }
}

pub struct Registry {
    hub: Arc<Hub>,
    threshold_ms: i64,
    users: Mutex<HashMap<UserId, Vec<Arc<Conn>>>>,
}

impl Registry {
    pub fn new(hub: Arc<Hub>, threshold_secs: f64) -> Self {
        Self {
            hub,
            threshold_ms: (threshold_secs * 1000.0) as i64,
            users: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, Vec<Arc<Conn>>>> {
        self.users.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a new connection: drops the user's expired connections from every topic,
    /// then subscribes this one to the user's topic and `rooms`.
    pub fn connect(&self, user: &UserId, conn: Arc<Conn>, rooms: Vec<Topic>) {
        let mut users = self.lock();
        let list = users.entry(user.clone()).or_default();
        for c in list.iter() {
            if !c.active(self.threshold_ms) {
                c.unsubscribe_all(&self.hub);
            }
        }
        conn.subscribe(&self.hub, Topic::User(user.clone()));
        for t in rooms {
            conn.subscribe(&self.hub, t);
        }
        list.push(conn);
    }

    pub fn disconnect(&self, user: &UserId, conn: ConnId) {
        let mut users = self.lock();
        if let Some(list) = users.get_mut(user) {
            list.retain(|c| {
                if c.conn == conn {
                    c.unsubscribe_all(&self.hub);
                    false
                } else {
                    true
                }
            });
            if list.is_empty() {
                users.remove(user);
            }
        }
    }

    /// Subscribes every active connection of `user` to `topic`.
    pub fn join(&self, user: &UserId, topic: &Topic) {
        let users = self.lock();
        if let Some(list) = users.get(user) {
            for c in list.iter().filter(|c| c.active(self.threshold_ms)) {
                c.subscribe(&self.hub, topic.clone());
            }
        }
    }

    /// Unsubscribes every connection from `topic` (a deleted room).
    pub fn drop_topic(&self, topic: &Topic) {
        let users = self.lock();
        for c in users.values().flatten() {
            c.unsubscribe(&self.hub, topic);
        }
    }

    /// Unsubscribes every connection of `user` from `topic`.
    pub fn leave(&self, user: &UserId, topic: &Topic) {
        let users = self.lock();
        if let Some(list) = users.get(user) {
            for c in list {
                c.unsubscribe(&self.hub, topic);
            }
        }
    }
}
