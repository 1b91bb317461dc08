//! `cargo xtask bench connections`: opens M idle reaction chat WebSockets (each from its own
//! loopback address) and reports the server's resident memory per connection: VmRSS once the
//! connections have settled minus VmRSS before the first one, divided by M. The bare
//! tokio-tungstenite server (`baseline.rs`) is measured the same way for reference.

use super::common::{self, ServerProc, Table, Target};
use futures_util::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::watch;

#[derive(clap::Args, Clone)]
pub struct Args {
    /// Idle connections to open (a process here may hold at most 20,000 descriptors).
    #[arg(long, short = 'm', default_value_t = 15_000)]
    connections: usize,
    /// Handshakes in flight at once.
    #[arg(long, default_value_t = 200)]
    concurrency: usize,
    /// Seconds to wait after the last connection before measuring (then until RSS is stable).
    #[arg(long, default_value_t = 3.0)]
    settle: f64,
    /// Distinct loopback source addresses (the reaction chat's user identity); 0 = one per
    /// connection.
    #[arg(long, default_value_t = 0)]
    source_ips: usize,
    /// Which servers to run against.
    #[arg(long, value_enum, default_value = "both")]
    target: Target,
    #[command(flatten)]
    chorus: super::chorus::Opts,
    /// Print only; do not append to BENCHMARKS.md.
    #[arg(long)]
    no_record: bool,
}

struct Outcome {
    connected: usize,
    failed: usize,
    first_error: Option<String>,
    alive: usize,
    connect_s: f64,
    connect_cpu_s: f64,
    rss_before: u64,
    rss_after: u64,
    hwm: u64,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    common::ensure_release()?;
    let nofile = common::raise_nofile();
    if args.connections as u64 + 100 > nofile {
        eprintln!(
            "bench: warning: {} connections need more descriptors than RLIMIT_NOFILE {nofile}",
            args.connections
        );
    }
    let chorus_bin = if args.target.chorus() {
        Some(super::chorus::binary(&args.chorus)?)
    } else {
        None
    };
    println!(
        "connections: {} idle WebSockets; machine: {}; load average {}; RLIMIT_NOFILE {nofile}",
        args.connections,
        common::machine(),
        common::loadavg()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut results: Vec<(&str, Outcome)> = Vec::new();
    if args.target.baseline() {
        let server = common::start_baseline()?;
        let out = rt.block_on(hold(&server, &args))?;
        server.stop();
        results.push(("baseline", out));
    }
    if let Some(bin) = &chorus_bin {
        let server = super::chorus::start(bin, &args.chorus, &[], None)?;
        let out = rt.block_on(hold(&server, &args))?;
        server.stop();
        results.push(("chorus", out));
    }
    rt.shutdown_timeout(Duration::from_secs(1));

    let mut table = Table::new(&[
        "server",
        "connections",
        "alive at end",
        "RSS before MiB",
        "RSS after MiB",
        "KiB / connection",
        "peak RSS MiB",
        "connects/s",
        "server CPU µs / connect",
    ]);
    let mut notes = Vec::new();
    for (name, o) in &results {
        let per_conn =
            o.rss_after.saturating_sub(o.rss_before) as f64 / 1024.0 / o.connected.max(1) as f64;
        table.row(vec![
            name.to_string(),
            o.connected.to_string(),
            o.alive.to_string(),
            format!("{:.1}", common::mib(o.rss_before)),
            format!("{:.1}", common::mib(o.rss_after)),
            format!("{per_conn:.1}"),
            format!("{:.1}", common::mib(o.hwm)),
            format!("{:.0}", o.connected as f64 / o.connect_s),
            format!("{:.0}", 1e6 * o.connect_cpu_s / o.connected.max(1) as f64),
        ]);
        if o.failed > 0 {
            notes.push(format!(
                "{name}: {} connections failed, first: {}",
                o.failed,
                o.first_error.as_deref().unwrap_or("?")
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
            "KiB / connection = (VmRSS with all connections open and settled − VmRSS before \
             the first) / connections, from /proc/<pid>/status; each client has its own \
             loopback source address"
                .into(),
        );
        common::append_report(
            "connections",
            &[
                (
                    "parameters".into(),
                    format!(
                        "{} idle WebSockets to /ws from {} source addresses, {} handshakes in \
                         flight, settle {} s",
                        args.connections,
                        if args.source_ips == 0 {
                            args.connections
                        } else {
                            args.source_ips.min(args.connections)
                        },
                        args.concurrency,
                        args.settle
                    ),
                ),
                ("chorus".into(), super::chorus::describe(&args.chorus, &[])),
            ],
            &[&table],
            &notes,
        )?;
    }
    Ok(())
}

async fn hold(server: &ServerProc, args: &Args) -> anyhow::Result<Outcome> {
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = server.rss();
    let cpu0 = server.cpu();
    let t0 = Instant::now();
    let (clients, failed, first_error) = common::connect_many(
        server.addr,
        "/ws",
        0,
        args.connections,
        args.source_ips,
        4096,
        args.concurrency,
    )
    .await;
    let connect_s = t0.elapsed().as_secs_f64();
    let cpu1 = server.cpu();
    let connected = clients.len();
    eprintln!(
        "bench: {connected} connections to {} in {connect_s:.1} s ({failed} failed)",
        server.name
    );
    // Every connection keeps reading (answers pings, notices a close).
    let closed = Arc::new(AtomicU64::new(0));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::with_capacity(connected);
    for (_, mut ws) in clients {
        let closed = closed.clone();
        let mut stop = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    msg = ws.next() => match msg {
                        Some(Ok(_)) => {}
                        _ => {
                            closed.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(args.settle)).await;
    // Then wait until RSS is stable (within 0.5 % over 1 s), at most 10 s.
    let mut rss_after = server.rss();
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = server.rss();
        let stable = (now as f64 - rss_after as f64).abs() <= rss_after as f64 * 0.005;
        rss_after = now;
        if stable {
            break;
        }
    }
    let hwm = server.hwm();
    let alive = connected - closed.load(Ordering::Relaxed) as usize;
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    Ok(Outcome {
        connected,
        failed,
        first_error,
        alive,
        connect_s,
        connect_cpu_s: (cpu1.0 + cpu1.1) - (cpu0.0 + cpu0.1),
        rss_before,
        rss_after,
        hwm,
    })
}
