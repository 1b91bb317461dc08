//! One WebSocket connection: a single task that reads client frames, hands them to the dialect
//! session, and writes queued hub frames in batches (feed several, flush once).

use crate::hub::{Frame, Kick, ORDERLY_CLOSE, SLOW_CONSUMER_CLOSE};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::FuturesOrdered;
use futures_util::{SinkExt, StreamExt};
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Most queued frames written before one flush.
const WRITE_BATCH: usize = 64;
/// Most client operations of one connection waiting for their writes to become durable; the
/// connection reads no further frames while this many are outstanding.
const MAX_PIPELINE: usize = 32;

/// A reply that becomes known once an operation's write is durable (None: no reply).
pub type Later = Pin<Box<dyn Future<Output = Option<Utf8Bytes>> + Send + 'static>>;

/// What a client frame produced. Replies reach the client in the order of the frames.
pub enum Reply {
    None,
    Now(Utf8Bytes),
    Later(Later),
}

/// Writes frames to this connection only (replies, history).
pub struct Out<'a> {
    ws: &'a mut WebSocket,
    unflushed: usize,
}

impl Out<'_> {
    pub async fn send(&mut self, text: Utf8Bytes) -> Result<(), axum::Error> {
        self.ws.feed(Message::Text(text)).await?;
        self.unflushed += 1;
        if self.unflushed >= WRITE_BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    pub async fn flush(&mut self) -> Result<(), axum::Error> {
        self.unflushed = 0;
        self.ws.flush().await
    }
}

/// A dialect's per-connection state.
pub trait Session: Send {
    /// Runs once after the upgrade (e.g. send history). Returns the highest store sequence
    /// already shown, so queued creation events up to it are skipped.
    fn open(&mut self, out: &mut Out<'_>) -> impl Future<Output = Result<i64, axum::Error>> + Send;
    /// Handles one text frame. Operations that write may return `Reply::Later` right after
    /// queueing their write, so a client can pipeline frames.
    fn text(&mut self, text: &str) -> impl Future<Output = Reply> + Send;
    fn binary(&mut self) -> Reply;
    /// Runs when the connection ends, however it ends.
    fn closed(&mut self);
}

pub struct Driver {
    pub rx: mpsc::Receiver<Frame>,
    pub kick: Arc<Kick>,
    pub shutdown: CancellationToken,
}

pub async fn run<S: Session>(mut ws: WebSocket, mut session: S, driver: Driver) {
    let Driver {
        mut rx,
        kick,
        shutdown,
    } = driver;
    let mut shown = {
        let mut out = Out {
            ws: &mut ws,
            unflushed: 0,
        };
        // Boxed: keeps the large history-loading state out of the long-lived connection task.
        match Box::pin(session.open(&mut out)).await {
            Ok(seq) => match out.flush().await {
                Ok(()) => seq,
                Err(_) => {
                    session.closed();
                    return;
                }
            },
            Err(_) => {
                session.closed();
                return;
            }
        }
    };
    let mut pending: FuturesOrdered<Later> = FuturesOrdered::new();
    let close: Option<(u16, &'static str)> = loop {
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => {
                // Finish the operations in flight, deliver what is already queued (committed
                // events), then say goodbye.
                while let Some(reply) = pending.next().await {
                    if let Some(t) = reply && ws.feed(Message::Text(t)).await.is_err() {
                        break;
                    }
                }
                while let Ok(f) = rx.try_recv() {
                    if write_frame(&mut ws, f, &mut shown).await.is_err() { break; }
                }
                let _ = ws.flush().await;
                break Some((1001, "server shutting down"));
            }
            _ = kick.kicked() => {
                if !kick.is_orderly() {
                    break Some(SLOW_CONSUMER_CLOSE);
                }
                // A deliberate close: what was queued before it (the reason) goes out first.
                while let Ok(f) = rx.try_recv() {
                    if write_frame(&mut ws, f, &mut shown).await.is_err() { break; }
                }
                let _ = ws.flush().await;
                break Some(ORDERLY_CLOSE);
            }
            // Queued events before replies: a reply never overtakes an event published
            // before its operation completed.
            frame = rx.recv() => {
                let Some(frame) = frame else { break Some(SLOW_CONSUMER_CLOSE) };
                if write_frame(&mut ws, frame, &mut shown).await.is_err() { break None; }
                let mut batch = 1;
                while batch < WRITE_BATCH {
                    let Ok(f) = rx.try_recv() else { break };
                    if write_frame(&mut ws, f, &mut shown).await.is_err() { break; }
                    batch += 1;
                }
                if ws.flush().await.is_err() { break None; }
            }
            Some(reply) = pending.next(), if !pending.is_empty() => {
                if let Some(t) = reply && ws.send(Message::Text(t)).await.is_err() {
                    break None;
                }
            }
            msg = ws.recv(), if pending.len() < MAX_PIPELINE => {
                let reply = match msg {
                    // Boxed: an idle connection's task stays small.
                    Some(Ok(Message::Text(t))) => Box::pin(session.text(t.as_str())).await,
                    Some(Ok(Message::Binary(_))) => session.binary(),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => Reply::None,
                    Some(Ok(Message::Close(_))) | None => break None,
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "websocket read error");
                        break None;
                    }
                };
                let ok = match reply {
                    Reply::None => ws.flush().await.is_ok(),
                    Reply::Now(t) if pending.is_empty() => ws.send(Message::Text(t)).await.is_ok(),
                    Reply::Now(t) => {
                        pending.push_back(Box::pin(std::future::ready(Some(t))));
                        true
                    }
                    Reply::Later(f) => {
                        pending.push_back(f);
                        true
                    }
                };
                if !ok { break None; }
            }
        }
    };
    if let Some((code, reason)) = close {
        let _ = ws
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: Utf8Bytes::from_static(reason),
            })))
            .await;
        // Wait briefly for the client's close reply so the close is clean.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
            while let Some(Ok(m)) = ws.recv().await {
                if matches!(m, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
    session.closed();
}

async fn write_frame(ws: &mut WebSocket, f: Frame, shown: &mut i64) -> Result<(), axum::Error> {
    if f.created_seq != 0 && f.created_seq <= *shown {
        return Ok(());
    }
    if f.created_seq != 0 {
        *shown = f.created_seq;
    }
    ws.feed(Message::Text(f.text)).await
}
