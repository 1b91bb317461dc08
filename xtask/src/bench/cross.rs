//! `cargo xtask bench cross`: one room, three dialects. Reaction chat clients send into
//! `general` at a fixed total rate; as many reaction chat, OriginChats and Plexichat gateway
//! clients receive every message. The core stores each message once and the hub renders it
//! once per dialect, so the numbers show what serving several protocols costs next to one.
//! Per dialect: deliveries/s and delivery latency (send → receipt, one clock); for the server:
//! CPU and peak RSS.

use super::common::{self, LatencySummary, ServerProc, Table, Ws};
use super::fanout::{ReceiverResult, Shared, receiver, send_all};
use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

#[derive(clap::Args, Clone)]
pub struct Args {
    /// Receiving clients of each dialect (the reaction chat's include the senders).
    #[arg(long, short = 'n', default_value_t = 300)]
    clients: usize,
    /// Reaction chat clients that send, each from its own loopback address.
    #[arg(long, default_value_t = 20)]
    senders: usize,
    /// Total messages per second; a comma-separated list runs one round per rate, each against
    /// a fresh server.
    #[arg(long, value_delimiter = ',', default_values_t = [100.0, 300.0])]
    rate: Vec<f64>,
    /// Seconds of sending per round.
    #[arg(long, default_value_t = 8.0)]
    duration: f64,
    /// Seconds to wait after the last send for deliveries still in flight.
    #[arg(long, default_value_t = 5.0)]
    drain: f64,
    #[command(flatten)]
    chorus: super::chorus::Opts,
    /// Print only; do not append to BENCHMARKS.md.
    #[arg(long)]
    no_record: bool,
}

/// Per-sender messages a minute the bench stays under (the reaction chat allows 60).
const PER_SENDER_PER_MINUTE: f64 = 55.0;
const PASSWORD: &str = "bench-password-1";
/// The gateway's per-connection dispatch limit (120 a minute, the reference's) would drop most
/// of the load; the benchmark measures delivery, so it is off.
const FIXED: &[(&str, &str)] = &[
    ("originchats.auth_mode", "cracked-only"),
    ("plexichat.gateway_events_per_minute", "0"),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Reactions,
    OriginChats,
    Plexichat,
}

impl Dialect {
    const ALL: [Dialect; 3] = [Dialect::Reactions, Dialect::OriginChats, Dialect::Plexichat];

    fn name(self) -> &'static str {
        match self {
            Dialect::Reactions => "reaction chat (/ws)",
            Dialect::OriginChats => "OriginChats (/)",
            Dialect::Plexichat => "Plexichat gateway (/gateway)",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Dialect::Reactions => "/ws",
            Dialect::OriginChats => "/",
            Dialect::Plexichat => "/gateway",
        }
    }
}

struct PerDialect {
    dialect: Dialect,
    connected: usize,
    failed: usize,
    delivered: u64,
    expected: u64,
    closed: u64,
    close_reason: Option<String>,
    deliveries_per_s: f64,
    latency: LatencySummary,
}

struct Outcome {
    sent: u64,
    planned: u64,
    dialects: Vec<PerDialect>,
    server_cpu_s: f64,
    active_s: f64,
    peak_rss: u64,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    common::ensure_release()?;
    let nofile = common::raise_nofile();
    anyhow::ensure!(args.senders <= args.clients, "more senders than clients");
    let bin = super::chorus::binary(&args.chorus)?;
    println!(
        "cross: {} clients per dialect, rates {:?} msg/s for {} s each; machine: {}; load \
         average {}; RLIMIT_NOFILE {nofile}",
        args.clients,
        args.rate,
        args.duration,
        common::machine(),
        common::loadavg()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut notes = Vec::new();
    let mut results = Vec::new();
    for &rate in &args.rate {
        anyhow::ensure!(rate > 0.0, "--rate must be positive");
        let needed =
            ((rate * args.duration.min(60.0) / PER_SENDER_PER_MINUTE).ceil() as usize).max(1);
        let senders = args.senders.max(needed).min(args.clients);
        if senders > args.senders {
            notes.push(format!(
                "{rate} msg/s: senders raised from {} to {senders} (reaction chat limit: 60/min \
                 per IP)",
                args.senders
            ));
        }
        let per_sender = (rate * args.duration / senders as f64).round().max(1.0) as u64;
        let (server, token) = start(&bin, &args)?;
        eprintln!(
            "bench: {rate} msg/s, chorus pid {} on {}",
            server.pid(),
            server.addr
        );
        let out = rt.block_on(load(&server, &token, &args, rate, senders, per_sender))?;
        server.stop();
        results.push((rate, out));
    }
    rt.shutdown_timeout(Duration::from_secs(1));

    let mut table = Table::new(&[
        "msg/s",
        "receivers",
        "clients",
        "deliveries/s",
        "undelivered",
        "p50 ms",
        "p99 ms",
        "max ms",
    ]);
    let mut server_table = Table::new(&[
        "msg/s",
        "clients (all dialects)",
        "deliveries/s (all)",
        "server CPU %",
        "deliveries / server CPU-s",
        "peak RSS MiB",
    ]);
    for (rate, o) in &results {
        let mut all = 0;
        for d in &o.dialects {
            table.row(vec![
                format!("{rate}"),
                d.dialect.name().into(),
                format!("{}", d.connected),
                format!("{:.0}", d.deliveries_per_s),
                format!("{}", d.expected.saturating_sub(d.delivered)),
                format!("{:.2}", d.latency.p50_ms),
                format!("{:.2}", d.latency.p99_ms),
                format!("{:.2}", d.latency.max_ms),
            ]);
            all += d.delivered;
            if d.failed > 0 {
                notes.push(format!(
                    "{rate} msg/s: {} {} clients failed to connect or log in",
                    d.failed,
                    d.dialect.name()
                ));
            }
            if d.closed > 0 {
                notes.push(format!(
                    "{rate} msg/s: {} {} clients closed during the run (first: {})",
                    d.closed,
                    d.dialect.name(),
                    d.close_reason.as_deref().unwrap_or("?")
                ));
            }
        }
        server_table.row(vec![
            format!("{rate}"),
            format!("{}", o.dialects.iter().map(|d| d.connected).sum::<usize>()),
            format!("{:.0}", all as f64 / o.active_s),
            format!("{:.0}", 100.0 * o.server_cpu_s / o.active_s),
            format!("{:.0}", all as f64 / o.server_cpu_s.max(1e-9)),
            format!("{:.1}", common::mib(o.peak_rss)),
        ]);
        if o.sent < o.planned {
            notes.push(format!(
                "{rate} msg/s: only {} of {} messages sent",
                o.sent, o.planned
            ));
        }
    }
    println!();
    print!("{}", table.text());
    println!();
    print!("{}", server_table.text());
    for n in &notes {
        println!("note: {n}");
    }
    if let Some(busy) = common::busy_note() {
        println!("note: {busy}");
    }
    if !args.no_record {
        notes.push(
            "senders are reaction chat clients; every client of every dialect receives every \
             message (OriginChats `message_new`, Plexichat MESSAGE_CREATE); deliveries/s = \
             messages received / (last receipt − first send); CPU = utime+stime of the server \
             over that span; the load generator shares the same cores"
                .into(),
        );
        common::append_report(
            "cross",
            &[
                (
                    "parameters".into(),
                    format!(
                        "{} clients per dialect in `general` (reaction chat, OriginChats logged \
                         in as one local account, Plexichat gateway sessions of one user), rates \
                         {:?} msg/s, {} s of sending per round, drain ≤ {} s; a fresh server \
                         per round",
                        args.clients, args.rate, args.duration, args.drain
                    ),
                ),
                (
                    "chorus".into(),
                    super::chorus::describe(&args.chorus, FIXED),
                ),
            ],
            &[&table, &server_table],
            &notes,
        )?;
    }
    Ok(())
}

/// A fresh data directory with the two bench accounts, and the server on it; returns the
/// Plexichat account's session token.
fn start(bin: &super::chorus::Binary, args: &Args) -> anyhow::Result<(ServerProc, String)> {
    let data = common::TempDir::new("chorus-bench")?;
    let cli = |argv: &[&str]| -> anyhow::Result<String> {
        let out = Command::new(&bin.path)
            .args(argv)
            .env_remove("CHORUS_CONFIG")
            .env("CHORUS__STORAGE__DATA_DIR", data.path())
            .env("CHORUS__LOG__LEVEL", "warn")
            .output()
            .with_context(|| format!("running chorus {argv:?}"))?;
        anyhow::ensure!(out.status.success(), "chorus {argv:?}: {out:?}");
        Ok(String::from_utf8(out.stdout)?.trim().to_owned())
    };
    cli(&["user", "add", "benchoc", "--password", PASSWORD])?;
    cli(&["user", "add", "benchpx", "--password", PASSWORD])?;
    let token = cli(&["token", "issue", "benchpx"])?;
    let server = super::chorus::start(bin, &args.chorus, FIXED, Some(data))?;
    Ok((server, token))
}

/// Reads frames until `done` accepts one (30 s at most).
async fn until(ws: &mut Ws, what: &str, done: impl Fn(&Value) -> bool) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .with_context(|| format!("no {what} in 30 s"))?
            .with_context(|| format!("closed before {what}"))??;
        if let Message::Text(t) = msg
            && done(&serde_json::from_str(t.as_str()).unwrap_or(Value::Null))
        {
            return Ok(());
        }
    }
}

/// Logs a fresh connection in, as its dialect's client would.
async fn log_in(dialect: Dialect, ws: &mut Ws, token: &str) -> anyhow::Result<()> {
    match dialect {
        Dialect::Reactions => Ok(()),
        Dialect::OriginChats => {
            until(ws, "handshake", |v| v["cmd"] == "handshake").await?;
            let login = json!({"cmd": "login", "username": "benchoc", "password": PASSWORD});
            ws.send(Message::Text(login.to_string().into())).await?;
            until(ws, "ready", |v| v["cmd"] == "ready").await
        }
        Dialect::Plexichat => {
            until(ws, "HELLO", |v| v["op"] == 10).await?;
            let identify = json!({"op": 2, "d": {"token": token}});
            ws.send(Message::Text(identify.to_string().into())).await?;
            until(ws, "READY", |v| v["t"] == "READY").await
        }
    }
}

async fn load(
    server: &ServerProc,
    token: &str,
    args: &Args,
    rate: f64,
    senders: usize,
    per_sender: u64,
) -> anyhow::Result<Outcome> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut sinks = Vec::new();
    let mut idle_sinks = Vec::new();
    let mut groups = Vec::new();
    for (k, dialect) in Dialect::ALL.into_iter().enumerate() {
        let t = Instant::now();
        let first = k * args.clients;
        let (clients, mut failed, first_err) = common::connect_many(
            server.addr,
            dialect.path(),
            first,
            args.clients,
            0,
            64 * 1024,
            64,
        )
        .await;
        let logged_in: Vec<_> = futures_util::stream::iter(clients)
            .map(
                |(i, mut ws)| async move { log_in(dialect, &mut ws, token).await.map(|_| (i, ws)) },
            )
            .buffer_unordered(32)
            .collect()
            .await;
        let shared = Arc::new(Shared::default());
        let mut receivers = Vec::new();
        let mut login_err = None;
        for r in logged_in {
            let (i, ws) = match r {
                Ok(v) => v,
                Err(e) => {
                    failed += 1;
                    login_err.get_or_insert(e.to_string());
                    continue;
                }
            };
            let (sink, stream) = ws.split();
            if dialect == Dialect::Reactions && sinks.len() < senders {
                sinks.push((i, sink));
            } else {
                idle_sinks.push(sink);
            }
            receivers.push(tokio::spawn(receiver(
                stream,
                stop_rx.clone(),
                shared.clone(),
            )));
        }
        eprintln!(
            "bench: {} {} clients ready in {:.1} s ({failed} failed{})",
            receivers.len(),
            dialect.name(),
            t.elapsed().as_secs_f64(),
            first_err
                .or(login_err)
                .map(|e| format!(", first: {e}"))
                .unwrap_or_default()
        );
        groups.push((dialect, failed, shared, receivers));
    }
    anyhow::ensure!(!sinks.is_empty(), "no sender could connect");
    // Let the server finish registering subscribers (and send any history).
    tokio::time::sleep(Duration::from_millis(500)).await;

    let sent_total = Arc::new(Shared::default());
    let period = Duration::from_secs_f64(sinks.len() as f64 / rate);
    let cpu0 = server.cpu();
    let first_send = common::now_nanos();
    let n_senders = sinks.len();
    let kept = send_all(sinks, period, per_sender, &sent_total).await?;
    let sent = sent_total.sent.load(Ordering::Relaxed);
    let expected_all: u64 = groups.iter().map(|g| sent * g.3.len() as u64).sum();
    let delivered_all = |groups: &[(Dialect, usize, Arc<Shared>, Vec<_>)]| -> u64 {
        groups
            .iter()
            .map(|g| g.2.delivered.load(Ordering::Relaxed))
            .sum()
    };
    let drain_until = Instant::now() + Duration::from_secs_f64(args.drain);
    while delivered_all(&groups) < expected_all && Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cpu1 = server.cpu();
    let peak_rss = server.hwm();
    let _ = stop_tx.send(true);
    let last = groups
        .iter()
        .map(|g| g.2.last_delivery.load(Ordering::Relaxed))
        .max()
        .unwrap_or(first_send);
    let active_s = (last.saturating_sub(first_send) as f64 / 1e9).max(1e-9);
    let mut dialects = Vec::new();
    for (dialect, failed, shared, receivers) in groups {
        let connected = receivers.len();
        let mut latencies = Vec::new();
        let (mut closed, mut close_reason) = (0, None);
        for r in receivers {
            let r: ReceiverResult = r.await?;
            latencies.extend_from_slice(&r.latencies_us);
            if r.closed {
                closed += 1;
                close_reason = close_reason.or(r.close_reason);
            }
        }
        let delivered = shared.delivered.load(Ordering::Relaxed);
        let own_last = shared.last_delivery.load(Ordering::Relaxed);
        let span = (own_last.saturating_sub(first_send) as f64 / 1e9).max(1e-9);
        dialects.push(PerDialect {
            dialect,
            connected,
            failed,
            delivered,
            expected: sent * connected as u64,
            closed,
            close_reason,
            deliveries_per_s: delivered as f64 / span,
            latency: common::Latencies(latencies).summary(),
        });
    }
    drop(kept);
    drop(idle_sinks);
    Ok(Outcome {
        sent,
        planned: per_sender * n_senders as u64,
        dialects,
        server_cpu_s: (cpu1.0 - cpu0.0) + (cpu1.1 - cpu0.1),
        active_s,
        peak_rss,
    })
}
