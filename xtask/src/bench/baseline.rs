//! The bare floor for `bench fanout` and `bench connections`: a minimal tokio-tungstenite
//! broadcast server. Every text frame a client sends is broadcast verbatim to every connected
//! client (the sender included, as the reaction chat does). No parsing, no storage, default
//! tokio-tungstenite settings; one writer task per connection that batches what is queued
//! before flushing. Run by the benchmarks as its own process:
//! `xtask bench baseline-server --addr 127.0.0.1:PORT`.

use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9100")]
    addr: SocketAddr,
    /// Capacity of the broadcast queue (a receiver that falls further behind loses frames).
    #[arg(long, default_value_t = 4096)]
    queue: usize,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    super::common::raise_nofile();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(serve(args))
}

async fn serve(args: Args) -> anyhow::Result<()> {
    let listener = TcpListener::bind(args.addr).await?;
    let (tx, _) = broadcast::channel::<Utf8Bytes>(args.queue);
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(_) => {
                // Out of descriptors or similar: back off instead of spinning.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let tx = tx.clone();
        tokio::spawn(async move {
            let _ = connection(stream, tx).await;
        });
    }
}

async fn connection(stream: TcpStream, tx: broadcast::Sender<Utf8Bytes>) -> anyhow::Result<()> {
    stream.set_nodelay(true)?;
    let ws = tokio_tungstenite::accept_async(stream).await?;
    let (mut sink, mut source) = ws.split();
    let mut rx = tx.subscribe();
    let writer = tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(text) => {
                    if sink.feed(Message::Text(text)).await.is_err() {
                        return;
                    }
                    while let Ok(text) = rx.try_recv() {
                        if sink.feed(Message::Text(text)).await.is_err() {
                            return;
                        }
                    }
                    if sink.flush().await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    while let Some(msg) = source.next().await {
        match msg {
            Ok(Message::Text(text)) => {
                let _ = tx.send(text);
            }
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
    writer.abort();
    Ok(())
}
