//! `cargo xtask bench fanout`: N reaction chat clients in one room, S of them sending at a fixed
//! total rate; every message reaches every client (the sender included). Measures deliveries/s,
//! delivery latency (send → receipt of the broadcast, one clock, one process), server CPU and
//! peak RSS. The same load runs against the bare tokio-tungstenite broadcast server
//! (`baseline.rs`), and Chorus is reported as a ratio of that floor.

use super::common::{self, LatencySummary, ServerProc, Table, Target, Ws};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

#[derive(clap::Args, Clone)]
pub struct Args {
    /// Clients in the room (senders included).
    #[arg(long, short = 'n', default_value_t = 1000)]
    clients: usize,
    /// Clients that send (each from its own loopback address; raised automatically so that no
    /// sender goes over the reaction chat limit of 60 messages a minute).
    #[arg(long, default_value_t = 20)]
    senders: usize,
    /// Total messages per second, all senders together; a comma-separated list runs one round
    /// per rate (each against a fresh server).
    #[arg(long, value_delimiter = ',', default_values_t = [100.0, 400.0, 1600.0])]
    rate: Vec<f64>,
    /// Seconds of sending per round.
    #[arg(long, default_value_t = 8.0)]
    duration: f64,
    /// Seconds to wait after the last send for deliveries still in flight.
    #[arg(long, default_value_t = 5.0)]
    drain: f64,
    /// Which servers to run against.
    #[arg(long, value_enum, default_value = "both")]
    target: Target,
    #[command(flatten)]
    chorus: super::chorus::Opts,
    /// Print only; do not append to BENCHMARKS.md.
    #[arg(long)]
    no_record: bool,
}

/// Per-sender messages a minute the bench stays under (the reaction chat allows 60).
const PER_SENDER_PER_MINUTE: f64 = 55.0;

struct Outcome {
    connected: usize,
    connect_failed: usize,
    planned: u64,
    sent: u64,
    send_span_s: f64,
    delivered: u64,
    expected: u64,
    errors: u64,
    first_error: Option<String>,
    other_frames: u64,
    closed_early: u64,
    closed_senders: u64,
    close_reason: Option<String>,
    deliveries_per_s: f64,
    active_s: f64,
    latency: LatencySummary,
    server_user_s: f64,
    server_sys_s: f64,
    loadgen_cpu_s: f64,
    peak_rss: u64,
}

/// One load level: the same for both servers.
#[derive(Clone, Copy)]
struct Round {
    rate: f64,
    senders: usize,
    per_sender: u64,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    common::ensure_release()?;
    let nofile = common::raise_nofile();
    let mut notes = Vec::new();
    let mut rounds = Vec::new();
    for &rate in &args.rate {
        anyhow::ensure!(rate > 0.0, "--rate must be positive");
        // Messages one sender sends in any 60 s window must stay under the limit.
        let needed =
            ((rate * args.duration.min(60.0) / PER_SENDER_PER_MINUTE).ceil() as usize).max(1);
        let senders = args.senders.max(needed);
        if senders > args.senders {
            notes.push(format!(
                "{rate} msg/s: senders raised from {} to {senders} so that each stays under \
                 {PER_SENDER_PER_MINUTE} messages a minute (reaction chat limit: 60/min per IP)",
                args.senders
            ));
        }
        anyhow::ensure!(senders <= args.clients, "more senders than clients");
        let per_sender = (rate * args.duration / senders as f64).round().max(1.0) as u64;
        rounds.push(Round {
            rate,
            senders,
            per_sender,
        });
    }
    let chorus_bin = if args.target.chorus() {
        Some(super::chorus::binary(&args.chorus)?)
    } else {
        None
    };
    println!(
        "fanout: {} clients, rates {:?} msg/s for {} s each; machine: {}; load average {}; \
         RLIMIT_NOFILE {nofile}",
        args.clients,
        args.rate,
        args.duration,
        common::machine(),
        common::loadavg()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut results: Vec<(&str, Round, Outcome)> = Vec::new();
    for &round in &rounds {
        if args.target.baseline() {
            let server = common::start_baseline()?;
            eprintln!(
                "bench: {} msg/s, baseline server pid {} on {}",
                round.rate,
                server.pid(),
                server.addr
            );
            let out = rt.block_on(load(&server, "/ws", &args, round))?;
            server.stop();
            results.push(("baseline", round, out));
        }
        if let Some(bin) = &chorus_bin {
            let server = super::chorus::start(bin, &args.chorus, &[], None)?;
            eprintln!(
                "bench: {} msg/s, chorus pid {} on {}",
                round.rate,
                server.pid(),
                server.addr
            );
            let out = rt.block_on(load(&server, "/ws", &args, round))?;
            server.stop();
            results.push(("chorus", round, out));
        }
    }
    rt.shutdown_timeout(Duration::from_secs(1));

    let mut table = Table::new(&[
        "server",
        "msg/s",
        "offered deliveries/s",
        "deliveries/s",
        "undelivered",
        "p50 ms",
        "p99 ms",
        "max ms",
        "server CPU % (usr+sys)",
        "deliveries / server CPU-s",
        "peak RSS MiB",
        "load-gen CPU %",
    ]);
    for (name, round, o) in &results {
        let cpu = o.server_user_s + o.server_sys_s;
        table.row(vec![
            name.to_string(),
            format!("{}", round.rate),
            format!("{:.0}", round.rate * o.connected as f64),
            format!("{:.0}", o.deliveries_per_s),
            format!("{}", o.expected.saturating_sub(o.delivered)),
            format!("{:.2}", o.latency.p50_ms),
            format!("{:.2}", o.latency.p99_ms),
            format!("{:.2}", o.latency.max_ms),
            format!(
                "{:.0} ({:.0}+{:.0})",
                100.0 * cpu / o.active_s,
                100.0 * o.server_user_s / o.active_s,
                100.0 * o.server_sys_s / o.active_s
            ),
            format!("{:.0}", o.delivered as f64 / cpu.max(1e-9)),
            format!("{:.1}", common::mib(o.peak_rss)),
            format!("{:.0}", 100.0 * o.loadgen_cpu_s / o.active_s),
        ]);
        let at = format!("{name} at {} msg/s", round.rate);
        if o.connect_failed > 0 {
            notes.push(format!(
                "{at}: {} of {} clients failed to connect",
                o.connect_failed,
                o.connected + o.connect_failed
            ));
        }
        if o.errors > 0 {
            notes.push(format!(
                "{at}: {} error frames, first: {}",
                o.errors,
                o.first_error.as_deref().unwrap_or("?")
            ));
        }
        if o.other_frames > 0 {
            notes.push(format!("{at}: {} unexpected frames", o.other_frames));
        }
        if o.closed_early > 0 {
            notes.push(format!(
                "{at}: {} clients closed by the server during the run ({} of them senders; \
                 first: {})",
                o.closed_early,
                o.closed_senders,
                o.close_reason.as_deref().unwrap_or("?")
            ));
        }
        let planned_span = round.per_sender as f64 * round.senders as f64 / round.rate;
        if o.send_span_s > planned_span * 1.1 + 0.1 {
            notes.push(format!(
                "{at}: sending took {:.1} s instead of {planned_span:.1} s (senders behind \
                 schedule: the offered rate was not reached)",
                o.send_span_s
            ));
        }
        if o.sent < o.planned {
            notes.push(format!(
                "{at}: only {} of {} messages sent (a sender's socket failed)",
                o.sent, o.planned
            ));
        }
    }
    let mut ratio_lines = Vec::new();
    for round in &rounds {
        let find = |n: &str| {
            results
                .iter()
                .find(|(name, r, _)| *name == n && r.rate == round.rate)
                .map(|(_, _, o)| o)
        };
        if let (Some(b), Some(c)) = (find("baseline"), find("chorus")) {
            let per_cpu = |o: &Outcome| o.delivered as f64 / (o.server_user_s + o.server_sys_s);
            ratio_lines.push(format!(
                "chorus / baseline at {} msg/s: deliveries/s {:.0} %, deliveries per server \
                 CPU-second {:.0} %, p99 latency {:.1}×",
                round.rate,
                100.0 * c.deliveries_per_s / b.deliveries_per_s,
                100.0 * per_cpu(c) / per_cpu(b),
                c.latency.p99_ms / b.latency.p99_ms
            ));
        }
    }
    println!();
    print!("{}", table.text());
    for l in &ratio_lines {
        println!("{l}");
    }
    for n in &notes {
        println!("note: {n}");
    }
    if let Some(busy) = common::busy_note() {
        println!("note: {busy}");
    }
    if !args.no_record {
        let mut all_notes: Vec<String> = ratio_lines.iter().map(|l| format!("**{l}**")).collect();
        all_notes.extend(notes);
        all_notes.push(
            "deliveries/s = messages received by all clients / (last receipt − first send); \
             latency = send → receipt, same process clock; CPU = utime+stime of the server \
             process over that span (from /proc/<pid>/stat); peak RSS = VmHWM; the load \
             generator shares the same cores"
                .into(),
        );
        let senders: Vec<String> = rounds.iter().map(|r| r.senders.to_string()).collect();
        common::append_report(
            "fanout",
            &[
                (
                    "parameters".into(),
                    format!(
                        "{} clients in one room (senders included), rates {:?} msg/s total, \
                         senders {} (one per rate), {} s of sending per round, drain ≤ {} s; \
                         a fresh server process per round",
                        args.clients,
                        args.rate,
                        senders.join("/"),
                        args.duration,
                        args.drain
                    ),
                ),
                ("chorus".into(), super::chorus::describe(&args.chorus, &[])),
            ],
            &[&table],
            &all_notes,
        )?;
    }
    Ok(())
}

pub(super) type Sink = futures_util::stream::SplitSink<Ws, Message>;

/// Sends `per_sender` reaction chat messages from each sink, spread evenly over each `period`
/// (one sender after another), counting them in `shared`; gives the sinks back when done.
pub(super) async fn send_all(
    sinks: Vec<(usize, Sink)>,
    period: Duration,
    per_sender: u64,
    shared: &Arc<Shared>,
) -> anyhow::Result<Vec<Sink>> {
    let senders = sinks.len();
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for (k, (client, mut sink)) in sinks.into_iter().enumerate() {
        let shared = shared.clone();
        let offset = period.mul_f64(k as f64 / senders as f64);
        tasks.push(tokio::spawn(async move {
            let mut ticker = tokio::time::interval_at(start + offset, period);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            for seq in 0..per_sender {
                ticker.tick().await;
                let frame = common::send_message_frame(&common::bench_text(client, seq));
                if sink.send(Message::Text(frame.into())).await.is_err() {
                    break;
                }
                shared.sent.fetch_add(1, Ordering::Relaxed);
                shared
                    .last_send
                    .fetch_max(common::now_nanos(), Ordering::Relaxed);
            }
            sink
        }));
    }
    let mut kept = Vec::new();
    for t in tasks {
        kept.push(t.await?);
    }
    Ok(kept)
}

/// Counters every client task of a run updates.
#[derive(Default)]
pub(super) struct Shared {
    pub delivered: AtomicU64,
    pub last_delivery: AtomicU64,
    pub sent: AtomicU64,
    pub last_send: AtomicU64,
}

pub(super) struct ReceiverResult {
    pub latencies_us: Vec<u32>,
    pub errors: u64,
    pub first_error: Option<String>,
    pub other: u64,
    pub closed: bool,
    pub close_reason: Option<String>,
}

/// Reads one client's frames until `stop`: a frame carrying a bench marker is a delivery (its
/// latency recorded), anything else is counted.
pub(super) async fn receiver(
    mut stream: futures_util::stream::SplitStream<Ws>,
    mut stop: watch::Receiver<bool>,
    shared: Arc<Shared>,
) -> ReceiverResult {
    let mut r = ReceiverResult {
        latencies_us: Vec::new(),
        errors: 0,
        first_error: None,
        other: 0,
        closed: false,
        close_reason: None,
    };
    loop {
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    if let Some((t, _)) = common::parse_marker(&text) {
                        let now = common::now_nanos();
                        r.latencies_us.push((now.saturating_sub(t) / 1000).min(u32::MAX as u64) as u32);
                        shared.delivered.fetch_add(1, Ordering::Relaxed);
                        shared.last_delivery.fetch_max(now, Ordering::Relaxed);
                    } else if let Some(e) = common::error_text(&text) {
                        r.errors += 1;
                        r.first_error.get_or_insert(e);
                    } else {
                        r.other += 1;
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    r.closed = !*stop.borrow();
                    r.close_reason = Some(match frame {
                        Some(f) => format!("close {} {:?}", u16::from(f.code), f.reason.as_str()),
                        None => "close without code".into(),
                    });
                    break;
                }
                Some(Err(e)) => {
                    r.closed = !*stop.borrow();
                    r.close_reason = Some(format!("error: {e}"));
                    break;
                }
                None => {
                    r.closed = !*stop.borrow();
                    r.close_reason = Some("connection ended".into());
                    break;
                }
                Some(Ok(_)) => {}
            }
        }
    }
    r
}

async fn load(
    server: &ServerProc,
    path: &str,
    args: &Args,
    round: Round,
) -> anyhow::Result<Outcome> {
    let t_connect = Instant::now();
    let (clients, connect_failed, first_err) =
        common::connect_many(server.addr, path, 0, args.clients, 0, 64 * 1024, 128).await;
    eprintln!(
        "bench: {} clients connected to {} in {:.1} s ({} failed{})",
        clients.len(),
        server.name,
        t_connect.elapsed().as_secs_f64(),
        connect_failed,
        first_err
            .map(|e| format!(", first: {e}"))
            .unwrap_or_default()
    );
    anyhow::ensure!(!clients.is_empty(), "no client could connect");
    let connected = clients.len();
    let shared = Arc::new(Shared::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut sinks = Vec::new();
    let mut idle_sinks = Vec::new();
    let mut receivers = Vec::new();
    for (i, ws) in clients {
        let (sink, stream) = ws.split();
        if sinks.len() < round.senders {
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
    // Let the server finish registering subscribers (and send any history).
    tokio::time::sleep(Duration::from_millis(500)).await;

    let senders = sinks.len();
    let period = Duration::from_secs_f64(senders as f64 / round.rate);
    let per_sender = round.per_sender;
    let cpu0 = server.cpu();
    let self0 = common::cpu_seconds(std::process::id()).unwrap_or_default();
    let first_send = common::now_nanos();
    let kept_sinks = send_all(sinks, period, per_sender, &shared).await?;
    let sent = shared.sent.load(Ordering::Relaxed);
    let expected = sent * connected as u64;
    let drain_until = Instant::now() + Duration::from_secs_f64(args.drain);
    while shared.delivered.load(Ordering::Relaxed) < expected && Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cpu1 = server.cpu();
    let self1 = common::cpu_seconds(std::process::id()).unwrap_or_default();
    let peak_rss = server.hwm();
    let _ = stop_tx.send(true);
    let mut latencies = Vec::with_capacity(expected as usize);
    let (mut errors, mut other, mut closed_early, mut closed_senders) = (0, 0, 0, 0);
    let mut first_error = None;
    let mut close_reason = None;
    for (k, r) in receivers.into_iter().enumerate() {
        let r = r.await?;
        if r.closed {
            closed_senders += (k < round.senders) as u64;
            if close_reason.is_none() {
                close_reason = r.close_reason;
            }
        }
        latencies.extend_from_slice(&r.latencies_us);
        errors += r.errors;
        other += r.other;
        closed_early += r.closed as u64;
        if first_error.is_none() {
            first_error = r.first_error;
        }
    }
    drop(kept_sinks);
    drop(idle_sinks);
    let delivered = shared.delivered.load(Ordering::Relaxed);
    let last = shared.last_delivery.load(Ordering::Relaxed);
    let active_s = (last.saturating_sub(first_send) as f64 / 1e9).max(1e-9);
    Ok(Outcome {
        connected,
        connect_failed,
        planned: per_sender * senders as u64,
        sent,
        send_span_s: shared
            .last_send
            .load(Ordering::Relaxed)
            .saturating_sub(first_send) as f64
            / 1e9,
        delivered,
        expected,
        errors,
        first_error,
        other_frames: other,
        closed_early,
        closed_senders,
        close_reason,
        deliveries_per_s: delivered as f64 / active_s,
        active_s,
        latency: common::Latencies(latencies).summary(),
        server_user_s: cpu1.0 - cpu0.0,
        server_sys_s: cpu1.1 - cpu0.1,
        loadgen_cpu_s: (self1.0 + self1.1) - (self0.0 + self0.1),
        peak_rss,
    })
}
