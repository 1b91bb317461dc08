//! The hub: topics (room, user, space) → subscribers (connections).
//!
//! - `publish` enqueues an event; one dispatcher task delivers events in publish order (the
//!   core publishes from the store's commit hook, so that is commit order).
//! - Each event is rendered at most once per dialect and the bytes are shared (reference
//!   counted) by every subscriber of that dialect.
//! - Each connection has a bounded outbound queue. A subscriber whose queue is full is too slow:
//!   it is kicked (its connection closes with [`SLOW_CONSUMER_CLOSE`]) instead of buffering
//!   without bound.

use crate::core::events::{Event, Topic};
use axum::extract::ws::Utf8Bytes;
use indexmap::IndexMap;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use tokio::sync::{Notify, mpsc, oneshot};

/// Index of a dialect's renderer in the hub.
pub type DialectId = usize;

/// Close code and reason for a subscriber that could not keep up.
pub const SLOW_CONSUMER_CLOSE: (u16, &str) = (1008, "slow consumer: outbound queue overflow");

/// Turns core events into one dialect's wire frames.
pub trait Renderer: Send + Sync {
    /// The frame for `event`, or None when the dialect has nothing to say about it.
    fn render(&self, event: &Event) -> Option<Utf8Bytes>;
}

/// One queued outbound frame.
#[derive(Clone)]
pub struct Frame {
    pub text: Utf8Bytes,
    /// For creation events, the store sequence number of the created item (else 0).
    pub created_seq: i64,
}

/// Set when a connection must be closed by the hub.
#[derive(Default)]
pub struct Kick {
    kicked: AtomicBool,
    /// The close is a deliberate one (a ban): frames already queued go out first.
    orderly: AtomicBool,
    notify: Notify,
}

/// Close code and reason of a connection the server closes on purpose (after its queue).
pub const ORDERLY_CLOSE: (u16, &str) = (1000, "");

impl Kick {
    pub fn kick(&self) {
        if !self.kicked.swap(true, Ordering::AcqRel) {
            self.notify.notify_one();
        }
    }

    /// Closes the connection once the frames queued so far are written.
    pub fn close_after_queued(&self) {
        self.orderly.store(true, Ordering::Release);
        self.kick();
    }

    /// Whether the kick asks for an orderly close.
    pub fn is_orderly(&self) -> bool {
        self.orderly.load(Ordering::Acquire)
    }

    pub async fn kicked(&self) {
        self.notify.notified().await
    }

    pub fn is_kicked(&self) -> bool {
        self.kicked.load(Ordering::Acquire)
    }
}

#[derive(Clone)]
pub struct Subscriber {
    pub dialect: DialectId,
    pub tx: mpsc::Sender<Frame>,
    pub kick: Arc<Kick>,
}

pub type ConnId = u64;

/// An event waiting for the dispatcher: where it goes, and who waits for its delivery.
type Queued = (Topic, Event, Option<oneshot::Sender<()>>);

pub struct Hub {
    topics: RwLock<HashMap<Topic, IndexMap<ConnId, Subscriber>>>,
    renderers: Vec<Arc<dyn Renderer>>,
    queue: mpsc::UnboundedSender<Queued>,
    next_conn: AtomicU64,
    pub slow_consumers_kicked: AtomicU64,
    /// In-process observers of every event (bots, plugins, push), after delivery.
    taps: RwLock<Vec<mpsc::Sender<Event>>>,
    /// In-process observers of a topic (dialect bookkeeping), see `observe`.
    observers: RwLock<HashMap<Topic, Vec<mpsc::Sender<Event>>>>,
    /// threads: child topic → parent topic. Subscribers of the parent also receive the child's
    /// events (a thread is heard by everyone following its forum or channel).
    links: RwLock<HashMap<Topic, Topic>>,
}

impl Hub {
    /// A hub and its dispatcher task (spawn it; it ends when the hub is dropped).
    pub fn new(
        renderers: Vec<Arc<dyn Renderer>>,
    ) -> (Arc<Hub>, impl Future<Output = ()> + Send + 'static) {
        let (tx, mut rx) = mpsc::unbounded_channel::<Queued>();
        let hub = Arc::new(Hub {
            topics: RwLock::new(HashMap::new()),
            renderers,
            queue: tx,
            next_conn: AtomicU64::new(1),
            slow_consumers_kicked: AtomicU64::new(0),
            taps: RwLock::new(Vec::new()),
            observers: RwLock::new(HashMap::new()),
            links: RwLock::new(HashMap::new()),
        });
        let weak = Arc::downgrade(&hub);
        let dispatcher = async move {
            while let Some((topic, event, delivered)) = rx.recv().await {
                let Some(hub) = weak.upgrade() else { break };
                hub.deliver(&topic, &event);
                if let Some(d) = delivered {
                    let _ = d.send(());
                }
                hub.feed_taps(&event);
            }
        };
        (hub, dispatcher)
    }

    pub fn next_conn_id(&self) -> ConnId {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    pub fn subscribe(&self, topic: Topic, conn: ConnId, sub: Subscriber) {
        let mut topics = self.topics.write().unwrap_or_else(|e| e.into_inner());
        topics.entry(topic).or_default().insert(conn, sub);
    }

    pub fn unsubscribe(&self, topic: &Topic, conn: ConnId) {
        let mut topics = self.topics.write().unwrap_or_else(|e| e.into_inner());
        if let Some(subs) = topics.get_mut(topic) {
            subs.swap_remove(&conn);
            if subs.is_empty() {
                topics.remove(topic);
            }
        }
    }

    pub fn subscriber_count(&self, topic: &Topic) -> usize {
        let topics = self.topics.read().unwrap_or_else(|e| e.into_inner());
        topics.get(topic).map_or(0, |s| s.len())
    }

    /// Queues `event` for delivery after every event published before it.
    pub fn publish(&self, event: Event) {
        let _ = self.queue.send((event.topic(), event, None));
    }

    /// Like `publish`, to an explicit topic (e.g. each member of a private room).
    pub fn publish_to(&self, topic: Topic, event: Event) {
        let _ = self.queue.send((topic, event, None));
    }

    /// Like `publish_to`; see `publish_acked`.
    pub fn publish_to_acked(&self, topic: Topic, event: Event) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        let _ = self.queue.send((topic, event, Some(tx)));
        rx
    }

    /// Like `publish`; the receiver resolves once the event sits in every subscriber's queue
    /// (so a reply sent after it reaches a client after the event).
    pub fn publish_acked(&self, event: Event) -> oneshot::Receiver<()> {
        self.publish_to_acked(event.topic(), event)
    }

    /// Every event published from now on, in publish order, for an in-process observer. The
    /// queue holds `capacity` events; an observer that falls further behind misses events
    /// (logged) rather than growing memory.
    pub fn tap(&self, capacity: usize) -> mpsc::Receiver<Event> {
        let (tx, rx) = mpsc::channel(capacity);
        self.taps
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(tx);
        rx
    }

    fn feed_taps(&self, event: &Event) {
        let taps = self.taps.read().unwrap_or_else(|e| e.into_inner());
        for tap in taps.iter() {
            if let Err(mpsc::error::TrySendError::Full(_)) = tap.try_send(event.clone()) {
                tracing::warn!("an event observer is behind; it misses an event");
            }
        }
    }

    /// Every event delivered on `topic` is also sent to `tx`, in delivery order (a dialect that
    /// keeps state about the topic, e.g. cached roles). A full observer misses events (it must
    /// then resync); a closed one is dropped.
    pub fn observe(&self, topic: Topic, tx: mpsc::Sender<Event>) {
        let mut obs = self.observers.write().unwrap_or_else(|e| e.into_inner());
        obs.entry(topic).or_default().push(tx);
    }

    fn notify_observers(&self, topic: &Topic, event: &Event) {
        let mut closed = false;
        if let Some(list) = self
            .observers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(topic)
        {
            for tx in list {
                if let Err(mpsc::error::TrySendError::Closed(_)) = tx.try_send(event.clone()) {
                    closed = true;
                }
            }
        }
        if closed {
            let mut obs = self.observers.write().unwrap_or_else(|e| e.into_inner());
            if let Some(list) = obs.get_mut(topic) {
                list.retain(|tx| !tx.is_closed());
            }
        }
    }

    /// Subscribers of `parent` also receive the events of `child`.
    pub fn link(&self, child: Topic, parent: Topic) {
        let mut links = self.links.write().unwrap_or_else(|e| e.into_inner());
        links.insert(child, parent);
    }

    /// Undoes `link`.
    pub fn unlink(&self, child: &Topic) {
        let mut links = self.links.write().unwrap_or_else(|e| e.into_inner());
        links.remove(child);
    }

    /// Whether `child` is linked to a parent topic.
    pub fn is_linked(&self, child: &Topic) -> bool {
        let links = self.links.read().unwrap_or_else(|e| e.into_inner());
        links.contains_key(child)
    }

    fn deliver(&self, topic: &Topic, event: &Event) {
        self.notify_observers(topic, event);
        let created_seq = event.created_seq().unwrap_or(0);
        let skipped = event.skipped_conn();
        let mut rendered: Vec<Option<Option<Utf8Bytes>>> = vec![None; self.renderers.len()];
        let mut dead: Vec<(Topic, ConnId)> = Vec::new();
        let parent = self
            .links
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(topic)
            .cloned();
        {
            let topics = self.topics.read().unwrap_or_else(|e| e.into_inner());
            let own = topics.get(topic);
            let linked = parent.as_ref().and_then(|p| topics.get(p).map(|s| (p, s)));
            if own.is_none() && linked.is_none() {
                return;
            }
            let empty = IndexMap::new();
            let own_subs = own.unwrap_or(&empty);
            // A connection following both the room and its parent hears the event once.
            let all =
                own_subs
                    .iter()
                    .map(|(c, s)| (topic, c, s))
                    .chain(linked.into_iter().flat_map(|(p, subs)| {
                        subs.iter()
                            .filter(|(c, _)| !own_subs.contains_key(*c))
                            .map(move |(c, s)| (p, c, s))
                    }));
            for (from, conn, sub) in all {
                if skipped == Some(*conn) {
                    continue;
                }
                let Some(slot) = rendered.get_mut(sub.dialect) else {
                    continue;
                };
                let text = slot.get_or_insert_with(|| self.renderers[sub.dialect].render(event));
                let Some(text) = text else { continue };
                match sub.tx.try_send(Frame {
                    text: text.clone(),
                    created_seq,
                }) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        if !sub.kick.is_kicked() {
                            self.slow_consumers_kicked.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(conn, "closing a slow consumer: outbound queue full");
                        }
                        sub.kick.kick();
                        dead.push((from.clone(), *conn));
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => dead.push((from.clone(), *conn)),
                }
            }
        }
        for (from, conn) in dead {
            self.unsubscribe(&from, conn);
        }
    }
}
