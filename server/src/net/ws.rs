//! One WebSocket connection: a single task that reads client frames, hands them to the dialect
//! session, and writes queued hub frames in batches (feed several, flush once).

use crate::hub::{Frame, Kick, SLOW_CONSUMER_CLOSE};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::SinkExt;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Most queued frames written before one flush.
const WRITE_BATCH: usize = 64;

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
    fn text(
        &mut self,
        text: &str,
        out: &mut Out<'_>,
    ) -> impl Future<Output = Result<(), axum::Error>> + Send;
    fn binary(&mut self, out: &mut Out<'_>)
    -> impl Future<Output = Result<(), axum::Error>> + Send;
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
        match session.open(&mut out).await {
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
    let close: Option<(u16, &'static str)> = loop {
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => {
                // Deliver what is already queued (committed events), then say goodbye.
                let mut n = 0;
                while let Ok(f) = rx.try_recv() {
                    if write_frame(&mut ws, f, &mut shown).await.is_err() { break; }
                    n += 1;
                }
                if n > 0 { let _ = ws.flush().await; }
                break Some((1001, "server shutting down"));
            }
            _ = kick.kicked() => break Some(SLOW_CONSUMER_CLOSE),
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
            msg = ws.recv() => {
                let mut out = Out { ws: &mut ws, unflushed: 0 };
                let r = match msg {
                    Some(Ok(Message::Text(t))) => session.text(t.as_str(), &mut out).await,
                    Some(Ok(Message::Binary(_))) => session.binary(&mut out).await,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
                    Some(Ok(Message::Close(_))) | None => break None,
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "websocket read error");
                        break None;
                    }
                };
                if r.is_err() || out.flush().await.is_err() { break None; }
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
