//! `cargo xtask bench ingest`: C reaction chat clients (each from its own loopback address) each
//! keep up to W `send_message` frames in flight; a message counts as acknowledged when its own
//! `message` broadcast comes back, which Chorus sends only after the write is durable. Reports
//! acknowledged messages/s and acknowledgement latency. Afterwards Chorus is killed with
//! SIGKILL, restarted on the same data directory, and a fresh client counts the messages it
//! replays on connect: every acknowledged message must be there.
//!
//! Every client also receives every other client's messages (the reaction chat broadcasts to
//! all), so a round with C clients also costs C deliveries per message: the default rounds
//! (1, 2, 4, 8 clients, 64 messages in flight each) show where the store stops being the limit
//! and the fan-out starts.

use super::common::{self, LatencySummary, ServerProc, Table, Target};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, watch};
use tokio_tungstenite::tungstenite::Message;

#[derive(clap::Args, Clone)]
pub struct Args {
    /// Concurrent clients; a comma-separated list runs one round per value (fresh server each).
    #[arg(long, short = 'c', value_delimiter = ',', default_values_t = [1, 2, 4, 8])]
    clients: Vec<usize>,
    /// Messages each client keeps in flight (sent, not yet echoed). Chorus pipelines up to 32
    /// operations per connection (server/src/net/ws.rs `MAX_PIPELINE`); more keeps it full.
    #[arg(long, short = 'w', default_value_t = 64)]
    window: usize,
    /// Seconds of sending per round.
    #[arg(long, default_value_t = 6.0)]
    duration: f64,
    /// Seconds to wait after the last send for outstanding acknowledgements.
    #[arg(long, default_value_t = 10.0)]
    drain: f64,
    /// Skip the SIGKILL + restart check of what was persisted.
    #[arg(long)]
    no_verify: bool,
    /// Which servers to run against (the baseline stores nothing: it is the echo floor).
    #[arg(long, value_enum, default_value = "chorus")]
    target: Target,
    #[command(flatten)]
    chorus: super::chorus::Opts,
    /// Print only; do not append to BENCHMARKS.md.
    #[arg(long)]
    no_record: bool,
}

/// The reaction chat allows 60 messages a minute per IP; ingest lifts that limit (a few clients
/// send thousands of messages a second).
const INGEST_SETTINGS: &[(&str, &str)] = &[
    ("reactions.rate_limit_messages", "1000000000"),
    ("reactions.rate_limit_window_secs", "1"),
];

struct Outcome {
    clients: usize,
    connected: usize,
    sent: u64,
    acked: u64,
    errors: u64,
    first_error: Option<String>,
    acked_per_s: f64,
    active_s: f64,
    latency: LatencySummary,
    server_cpu_s: f64,
    peak_rss: u64,
    persisted: Option<u64>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    common::ensure_release()?;
    let nofile = common::raise_nofile();
    let chorus_bin = if args.target.chorus() {
        Some(super::chorus::binary(&args.chorus)?)
    } else {
        None
    };
    println!(
        "ingest: {:?} clients × {} in flight for {} s; machine: {}; load average {}; \
         RLIMIT_NOFILE {nofile}",
        args.clients,
        args.window,
        args.duration,
        common::machine(),
        common::loadavg()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut results: Vec<(&str, Outcome)> = Vec::new();
    for &clients in &args.clients {
        if args.target.baseline() {
            let server = common::start_baseline()?;
            let out = rt.block_on(load(&server, clients, &args))?;
            server.stop();
            results.push(("baseline (no storage)", out));
        }
        let Some(bin) = &chorus_bin else { continue };
        let server = super::chorus::start(bin, &args.chorus, INGEST_SETTINGS, None)?;
        eprintln!(
            "bench: chorus pid {} on {}, {clients} clients",
            server.pid(),
            server.addr
        );
        let mut out = rt.block_on(load(&server, clients, &args))?;
        if !args.no_verify {
            let data = server.crash();
            let server = super::chorus::start(bin, &args.chorus, INGEST_SETTINGS, data)?;
            let n = rt.block_on(count_replay(&server))?;
            server.stop();
            out.persisted = Some(n);
        } else {
            server.stop();
        }
        results.push(("chorus", out));
    }
    rt.shutdown_timeout(Duration::from_secs(1));

    let mut table = Table::new(&[
        "server",
        "clients",
        "acked msg/s",
        "acked",
        "deliveries/s (all clients)",
        "p50 ms",
        "p99 ms",
        "max ms",
        "server CPU %",
        "peak RSS MiB",
        "after SIGKILL + restart",
    ]);
    let mut notes = Vec::new();
    for (name, o) in &results {
        table.row(vec![
            name.to_string(),
            o.clients.to_string(),
            format!("{:.0}", o.acked_per_s),
            o.acked.to_string(),
            format!("{:.0}", o.acked_per_s * o.connected as f64),
            format!("{:.2}", o.latency.p50_ms),
            format!("{:.2}", o.latency.p99_ms),
            format!("{:.2}", o.latency.max_ms),
            format!("{:.0}", 100.0 * o.server_cpu_s / o.active_s),
            format!("{:.1}", common::mib(o.peak_rss)),
            match o.persisted {
                Some(n) => format!("{n} of {} replayed", o.acked),
                None => "-".into(),
            },
        ]);
        if o.errors > 0 {
            notes.push(format!(
                "{name}: {} error frames, first: {}",
                o.errors,
                o.first_error.as_deref().unwrap_or("?")
            ));
        }
        if o.connected < o.clients {
            notes.push(format!(
                "{name}: only {} of {} clients connected",
                o.connected, o.clients
            ));
        }
        if o.sent > o.acked + o.errors {
            notes.push(format!(
                "{name}: {} messages sent but neither acknowledged nor refused",
                o.sent - o.acked - o.errors
            ));
        }
        if let Some(n) = o.persisted
            && n < o.acked
        {
            notes.push(format!(
                "{name}: LOST {} acknowledged messages across SIGKILL + restart",
                o.acked - n
            ));
        }
    }
    println!();
    print!("{}", table.text());
    for n in &notes {
        println!("note: {n}");
    }
    if let Some(busy) = common::busy_note() {
        println!("note: {busy}");
    }
    if !args.no_record {
        notes.push(
            "acked msg/s = messages whose own broadcast came back / (last ack − first send); \
             latency = send → own broadcast; each client also receives all other clients' \
             messages; the replay count is the number of `message` frames a fresh client gets \
             on connect after the server was SIGKILLed and restarted on the same data directory"
                .into(),
        );
        common::append_report(
            "ingest",
            &[
                (
                    "parameters".into(),
                    format!(
                        "{:?} clients (own loopback addresses, one round each) × {} messages \
                         in flight, {} s per round",
                        args.clients, args.window, args.duration
                    ),
                ),
                (
                    "chorus".into(),
                    super::chorus::describe(&args.chorus, INGEST_SETTINGS),
                ),
            ],
            &[&table],
            &notes,
        )?;
    }
    Ok(())
}

struct Shared {
    acked: AtomicU64,
    sent: AtomicU64,
    errors: AtomicU64,
    last_ack: AtomicU64,
}

async fn load(server: &ServerProc, n: usize, args: &Args) -> anyhow::Result<Outcome> {
    let (clients, failed, first_err) =
        common::connect_many(server.addr, "/ws", 0, n, 0, 128 * 1024, 64).await;
    if failed > 0 {
        eprintln!(
            "bench: {failed} clients failed to connect: {}",
            first_err.unwrap_or_default()
        );
    }
    anyhow::ensure!(!clients.is_empty(), "no client could connect");
    let connected = clients.len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let shared = Arc::new(Shared {
        acked: AtomicU64::new(0),
        sent: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        last_ack: AtomicU64::new(0),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let cpu0 = server.cpu();
    let first_send = common::now_nanos();
    let deadline = Instant::now() + Duration::from_secs_f64(args.duration);
    let mut senders = Vec::new();
    let mut receivers = Vec::new();
    for (client, ws) in clients {
        let (mut sink, mut stream) = ws.split();
        let permits = Arc::new(Semaphore::new(args.window));
        {
            let permits = permits.clone();
            let shared = shared.clone();
            senders.push(tokio::spawn(async move {
                let mut seq = 0u64;
                while Instant::now() < deadline {
                    let Ok(p) = permits.acquire().await else {
                        break;
                    };
                    p.forget();
                    let frame = common::send_message_frame(&common::bench_text(client, seq));
                    if sink.send(Message::Text(frame.into())).await.is_err() {
                        break;
                    }
                    shared.sent.fetch_add(1, Ordering::Relaxed);
                    seq += 1;
                }
                sink
            }));
        }
        let shared = shared.clone();
        let mut stop = stop_rx.clone();
        receivers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut first_error = None;
            loop {
                tokio::select! {
                    biased;
                    _ = stop.changed() => break,
                    msg = stream.next() => match msg {
                        Some(Ok(Message::Text(text))) => {
                            if let Some((t, c)) = common::parse_marker(&text) {
                                if c == client {
                                    let now = common::now_nanos();
                                    lat.push((now.saturating_sub(t) / 1000).min(u32::MAX as u64) as u32);
                                    shared.acked.fetch_add(1, Ordering::Relaxed);
                                    shared.last_ack.fetch_max(now, Ordering::Relaxed);
                                    permits.add_permits(1);
                                }
                            } else if let Some(e) = common::error_text(&text) {
                                shared.errors.fetch_add(1, Ordering::Relaxed);
                                first_error.get_or_insert(e);
                                permits.add_permits(1);
                            }
                        }
                        Some(Ok(_)) => {}
                        _ => break,
                    }
                }
            }
            permits.close();
            (lat, first_error)
        }));
    }
    let mut sinks = Vec::new();
    for s in senders {
        sinks.push(s.await?);
    }
    let drain_until = Instant::now() + Duration::from_secs_f64(args.drain);
    loop {
        let done = shared.acked.load(Ordering::Relaxed) + shared.errors.load(Ordering::Relaxed);
        if done >= shared.sent.load(Ordering::Relaxed) || Instant::now() >= drain_until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let cpu1 = server.cpu();
    let peak_rss = server.hwm();
    let _ = stop_tx.send(true);
    let mut latencies = Vec::new();
    let mut first_error = None;
    for r in receivers {
        let (lat, e) = r.await?;
        latencies.extend(lat);
        if first_error.is_none() {
            first_error = e;
        }
    }
    drop(sinks);
    let acked = shared.acked.load(Ordering::Relaxed);
    let active_s = (shared
        .last_ack
        .load(Ordering::Relaxed)
        .saturating_sub(first_send) as f64
        / 1e9)
        .max(1e-9);
    Ok(Outcome {
        clients: n,
        connected,
        sent: shared.sent.load(Ordering::Relaxed),
        acked,
        errors: shared.errors.load(Ordering::Relaxed),
        first_error,
        acked_per_s: acked as f64 / active_s,
        active_s,
        latency: common::Latencies(latencies).summary(),
        server_cpu_s: (cpu1.0 + cpu1.1) - (cpu0.0 + cpu0.1),
        peak_rss,
        persisted: None,
    })
}

/// Connects one fresh client and counts the bench `message` frames replayed on connect (until
/// 2 s pass without a frame).
async fn count_replay(server: &ServerProc) -> anyhow::Result<u64> {
    // A source address no bench client used.
    let mut ws =
        common::connect_from(common::client_ip(1_000_000), server.addr, "/ws", 128 * 1024).await?;
    let mut n = 0u64;
    let give_up = Instant::now() + Duration::from_secs(120);
    while Instant::now() < give_up {
        match tokio::time::timeout(Duration::from_secs(2), ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                if common::parse_marker(&text).is_some() {
                    n += 1;
                }
            }
            Ok(Some(Ok(_))) => {}
            Ok(_) | Err(_) => break,
        }
    }
    Ok(n)
}
