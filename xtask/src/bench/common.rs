//! Shared machinery of the server benchmarks: release re-exec, server processes, `/proc`
//! measurements, loopback clients with their own source address, percentiles, and the
//! BENCHMARKS.md report.

use anyhow::{Context, bail};
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Env var set on the re-executed release process, carrying the command line the user typed.
const REEXEC_ENV: &str = "CHORUS_BENCH_COMMAND";

/// The command line as the user typed it (`cargo xtask bench …`), for the report.
pub fn command_line() -> String {
    std::env::var(REEXEC_ENV).unwrap_or_else(|_| {
        let args: Vec<String> = std::env::args().skip(1).collect();
        format!("cargo xtask {}", args.join(" "))
    })
}

/// Load generators and servers must be optimised builds. `cargo xtask` runs a debug build, so a
/// debug build first builds the release xtask and replaces itself with it (same arguments).
/// Returns only in the release build (or when the re-exec is disabled).
pub fn ensure_release() -> anyhow::Result<()> {
    if !cfg!(debug_assertions) || std::env::var_os("CHORUS_BENCH_DEBUG").is_some() {
        return Ok(());
    }
    let command = command_line();
    eprintln!("bench: building the release xtask (load generator and baseline server) …");
    cargo_build_release(&["xtask"])?;
    let exe = target_dir().join("release").join("xtask");
    use std::os::unix::process::CommandExt;
    let err = Command::new(&exe)
        .args(std::env::args_os().skip(1))
        .env(REEXEC_ENV, command)
        .exec();
    Err(err).with_context(|| format!("exec {}", exe.display()))
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("target"))
}

pub fn cargo_build_release(packages: &[&str]) -> anyhow::Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(crate::workspace_root())
        .args(["build", "--release", "--quiet"]);
    for p in packages {
        cmd.args(["-p", p]);
    }
    let status = cmd.status().context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release {packages:?} failed");
    }
    Ok(())
}

/// Raise the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit.
pub fn raise_nofile() -> u64 {
    // Snapshot the load average and CPU use before any benchmark load.
    let _ = loadavg();
    let _ = busy_at_start();
    // SAFETY: plain libc calls on a stack struct.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 0;
        }
        if lim.rlim_cur < lim.rlim_max {
            let want = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
        lim.rlim_cur
    }
}

pub fn clock_ticks_per_sec() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// (user, system) CPU seconds of a process, from /proc/<pid>/stat (fields 14 and 15).
pub fn cpu_seconds(pid: u32) -> anyhow::Result<(f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) is parenthesised and may contain spaces: split after it.
    let rest = &stat[stat.rfind(')').context("bad /proc stat")? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state), so field n is fields[n - 3].
    let utime: f64 = fields[11].parse()?;
    let stime: f64 = fields[12].parse()?;
    let hz = clock_ticks_per_sec();
    Ok((utime / hz, stime / hz))
}

/// A `Vm…:` line of /proc/<pid>/status, in bytes.
pub fn vm_bytes(pid: u32, key: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    for line in status.lines() {
        if let Some(rest) = line.strip_prefix(key).and_then(|r| r.strip_prefix(':')) {
            let kb: u64 = rest.trim().trim_end_matches("kB").trim().parse()?;
            return Ok(kb * 1024);
        }
    }
    bail!("{key} not in /proc/{pid}/status")
}

/// The load averages (1, 5, 15 min) when first asked, i.e. at the start of the benchmark.
pub fn loadavg() -> String {
    static AT_START: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    AT_START
        .get_or_init(|| {
            std::fs::read_to_string("/proc/loadavg")
                .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
                .unwrap_or_default()
        })
        .clone()
}

/// Fraction of all CPUs busy over one second (from /proc/stat), measured once: before the
/// benchmark's own load (see `raise_nofile`).
pub fn busy_at_start() -> f64 {
    static AT_START: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *AT_START.get_or_init(|| {
        let sample = || -> Option<(f64, f64)> {
            let stat = std::fs::read_to_string("/proc/stat").ok()?;
            let cpu: Vec<f64> = stat
                .lines()
                .next()?
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal …
            let idle = cpu.get(3)? + cpu.get(4).unwrap_or(&0.0);
            Some((idle, cpu.iter().take(8).sum()))
        };
        let Some((i0, t0)) = sample() else { return 0.0 };
        std::thread::sleep(Duration::from_secs(1));
        let Some((i1, t1)) = sample() else { return 0.0 };
        if t1 <= t0 {
            0.0
        } else {
            1.0 - (i1 - i0) / (t1 - t0)
        }
    })
}

/// A warning when other work was running at the start of the benchmark (more than 20 % of the
/// CPUs busy over the second before it): its numbers are noisy.
pub fn busy_note() -> Option<String> {
    let busy = busy_at_start();
    (busy > 0.2).then(|| {
        format!(
            "NOISY: the machine was busy with other work ({:.0} % of the CPUs busy in the \
             second before the start; load average {}); the servers and the load generator got \
             only part of the CPU",
            100.0 * busy,
            loadavg()
        )
    })
}

/// "2 × AMD EPYC, 23.5 GiB RAM, Linux 6.x"
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb: f64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "nproc {cores}, {model}, {:.1} GiB RAM, Linux {}",
        mem_kb / 1024.0 / 1024.0,
        kernel.trim()
    )
}

pub fn utc_now() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A free TCP port on 127.0.0.1 (bound and released; the server binds it right after).
pub fn free_port() -> anyhow::Result<u16> {
    let l = StdListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// The source address of client `i`: 127.1.0.1, 127.1.0.2, … (all of 127/8 is loopback). Each
/// client gets its own address, hence its own identity under per-IP rules of the server.
pub fn client_ip(i: usize) -> Ipv4Addr {
    let i = i as u32;
    let hi = 1 + i / (250 * 250);
    let mid = (i / 250) % 250;
    let lo = i % 250 + 1;
    Ipv4Addr::new(127, hi as u8, mid as u8, lo as u8)
}

pub type Ws = WebSocketStream<TcpStream>;

/// Opens a WebSocket to `ws://addr{path}` from source address `src`.
pub async fn connect_from(
    src: Ipv4Addr,
    addr: SocketAddr,
    path: &str,
    read_buffer: usize,
) -> anyhow::Result<Ws> {
    let sock = TcpSocket::new_v4()?;
    sock.bind(SocketAddr::V4(SocketAddrV4::new(src, 0)))?;
    let stream = sock.connect(addr).await?;
    stream.set_nodelay(true)?;
    let config = WebSocketConfig::default()
        .read_buffer_size(read_buffer)
        .write_buffer_size(0);
    let url = format!("ws://{addr}{path}");
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config)).await?;
    Ok(ws)
}

/// A server under test, running as its own process.
pub struct ServerProc {
    pub name: &'static str,
    pub addr: SocketAddr,
    pub child: Child,
    _data_dir: Option<TempDir>,
}

impl ServerProc {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn spawn(
        name: &'static str,
        addr: SocketAddr,
        mut cmd: Command,
        data_dir: Option<TempDir>,
    ) -> anyhow::Result<Self> {
        cmd.stdin(Stdio::null());
        if std::env::var_os("CHORUS_BENCH_SERVER_LOG").is_none() {
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
        }
        let child = cmd.spawn().with_context(|| format!("starting {name}"))?;
        let mut server = ServerProc {
            name,
            addr,
            child,
            _data_dir: data_dir,
        };
        server.wait_listening(Duration::from_secs(30))?;
        Ok(server)
    }

    fn wait_listening(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("{} exited before listening: {status}", self.name);
            }
            if std::net::TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok()
            {
                return Ok(());
            }
            if start.elapsed() > timeout {
                bail!(
                    "{} not listening on {} after {timeout:?}",
                    self.name,
                    self.addr
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn cpu(&self) -> (f64, f64) {
        cpu_seconds(self.pid()).unwrap_or((0.0, 0.0))
    }

    pub fn rss(&self) -> u64 {
        vm_bytes(self.pid(), "VmRSS").unwrap_or(0)
    }

    pub fn hwm(&self) -> u64 {
        vm_bytes(self.pid(), "VmHWM").unwrap_or(0)
    }

    /// SIGTERM, then SIGKILL after a grace period.
    pub fn stop(mut self) {
        self.signal(libc::SIGTERM);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(3) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGKILL now (a crash); keeps the data directory. Returns it.
    pub fn crash(mut self) -> Option<TempDir> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self._data_dir.take()
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.pid() as i32, sig);
        }
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> anyhow::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos();
        let dir = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Starts the bare broadcast server (this very binary, `bench baseline-server`).
pub fn start_baseline() -> anyhow::Result<ServerProc> {
    let port = free_port()?;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    // /proc/self/exe: this very build, even if target/release/xtask is rebuilt meanwhile.
    let mut cmd = Command::new("/proc/self/exe");
    cmd.args(["bench", "baseline-server", "--addr", &addr.to_string()]);
    ServerProc::spawn("baseline", addr, cmd, None)
}

/// Which servers a benchmark runs against.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    Both,
    Chorus,
    Baseline,
}

impl Target {
    pub fn baseline(self) -> bool {
        matches!(self, Target::Both | Target::Baseline)
    }
    pub fn chorus(self) -> bool {
        matches!(self, Target::Both | Target::Chorus)
    }
}

/// Opens `n` WebSockets (client `i` from `client_ip(first + i % ips)`, `ips` = 0 meaning one
/// address per client), `concurrency` handshakes at a time. Returns the open ones (index,
/// socket), the number of failures and the first error.
#[allow(clippy::too_many_arguments)]
pub async fn connect_many(
    addr: SocketAddr,
    path: &str,
    first: usize,
    n: usize,
    ips: usize,
    read_buffer: usize,
    concurrency: usize,
) -> (Vec<(usize, Ws)>, usize, Option<String>) {
    use futures_util::StreamExt;
    let results: Vec<(usize, anyhow::Result<Ws>)> = futures_util::stream::iter(0..n)
        .map(|i| async move {
            let r = tokio::time::timeout(
                Duration::from_secs(30),
                connect_from(
                    client_ip(first + if ips > 0 { i % ips } else { i }),
                    addr,
                    path,
                    read_buffer,
                ),
            )
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("connect timed out after 30 s")));
            (i, r)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let mut open = Vec::with_capacity(n);
    let mut failed = 0;
    let mut first_error = None;
    for (i, r) in results {
        match r {
            Ok(ws) => open.push((i, ws)),
            Err(e) => {
                failed += 1;
                first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }
    open.sort_by_key(|(i, _)| *i);
    (open, failed, first_error)
}

/// Latencies in microseconds; percentiles by sorting (exact).
pub struct Latencies(pub Vec<u32>);

impl Latencies {
    pub fn summary(mut self) -> LatencySummary {
        self.0.sort_unstable();
        let pick = |q: f64| -> f64 {
            if self.0.is_empty() {
                return f64::NAN;
            }
            let idx = ((self.0.len() as f64 - 1.0) * q).round() as usize;
            self.0[idx] as f64 / 1000.0
        };
        LatencySummary {
            p50_ms: pick(0.50),
            p99_ms: pick(0.99),
            max_ms: pick(1.0),
        }
    }
}

#[derive(Clone, Copy)]
pub struct LatencySummary {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1024.0 / 1024.0
}

/// A plain text / markdown table: printed to the terminal as aligned columns and written to
/// BENCHMARKS.md as a markdown table.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn text(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
        let mut out = String::new();
        let line = |cells: &[String], out: &mut String| {
            for (i, c) in cells.iter().enumerate() {
                let pad = widths[i] - c.chars().count();
                if i == 0 {
                    let _ = write!(out, "{c}{}", " ".repeat(pad));
                } else {
                    let _ = write!(out, "  {}{c}", " ".repeat(pad));
                }
            }
            out.push('\n');
        };
        line(&self.header, &mut out);
        let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
        out.push_str(&"-".repeat(total));
        out.push('\n');
        for r in &self.rows {
            line(r, &mut out);
        }
        out
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "| {} |", self.header.join(" | "));
        let _ = writeln!(
            out,
            "|{}",
            self.header
                .iter()
                .enumerate()
                .map(|(i, _)| if i == 0 { "---|" } else { "---:|" })
                .collect::<String>()
        );
        for r in &self.rows {
            let _ = writeln!(out, "| {} |", r.join(" | "));
        }
        out
    }
}

/// Appends a dated section to BENCHMARKS.md (created with a short preamble if missing).
pub fn append_report(
    title: &str,
    params: &[(String, String)],
    tables: &[&Table],
    notes: &[String],
) -> anyhow::Result<()> {
    let path = crate::workspace_root().join("BENCHMARKS.md");
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    if text.is_empty() {
        text.push_str(
            "# Benchmarks\n\n\
             Numbers recorded by `cargo xtask bench …`; each run appends one dated section.\n\
             Benchmarks print numbers, they never assert timings. Servers run as separate release\n\
             processes on 127.0.0.1; the load generator runs on the same machine (and cores).\n",
        );
    }
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let _ = write!(text, "\n## {} — {title}\n\n", utc_now());
    let _ = writeln!(text, "- machine: {}", machine());
    let _ = writeln!(text, "- command: `{}`", command_line());
    let _ = writeln!(text, "- load average at start: {}", loadavg());
    if let Some(busy) = busy_note() {
        let _ = writeln!(text, "- **{busy}**");
    }
    for (k, v) in params {
        let _ = writeln!(text, "- {k}: {v}");
    }
    for t in tables {
        text.push('\n');
        text.push_str(&t.markdown());
    }
    if !notes.is_empty() {
        text.push('\n');
        for n in notes {
            let _ = writeln!(text, "- {n}");
        }
    }
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    println!("\nappended to {}", path.display());
    Ok(())
}

/// Nanoseconds since a process-wide monotonic origin (shared by senders and receivers).
pub fn now_nanos() -> u64 {
    static ORIGIN: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// The text of a bench message: `bench t=<nanos> c=<client> s=<seq>`.
pub fn bench_text(client: usize, seq: u64) -> String {
    format!("bench t={} c={client} s={seq}", now_nanos())
}

/// A reaction chat `send_message` frame with that text.
pub fn send_message_frame(text: &str) -> String {
    format!(r#"{{"type":"send_message","data":{{"text":"{text}","author_name":"bench"}}}}"#)
}

/// Finds `bench t=<nanos> c=<client>` in any frame (a Chorus `message` frame or the baseline's
/// echo of the `send_message` frame) without a JSON parse, so both servers cost the load
/// generator the same.
pub fn parse_marker(frame: &str) -> Option<(u64, usize)> {
    let at = frame.find("bench t=")?;
    let rest = &frame[at + 8..];
    let end = rest.find(' ')?;
    let t: u64 = rest[..end].parse().ok()?;
    let rest = rest[end..].strip_prefix(" c=")?;
    let end = rest.find(|c: char| !c.is_ascii_digit())?;
    let c: usize = rest[..end].parse().ok()?;
    Some((t, c))
}

/// The `error` text of a reaction chat `error` frame, if the frame is one.
pub fn error_text(frame: &str) -> Option<String> {
    if !frame.contains(r#""type":"error""#) {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(frame).ok()?;
    Some(v["data"]["error"].as_str().unwrap_or(frame).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_roundtrip() {
        let text = bench_text(17, 3);
        let frame = format!(
            r#"{{"type":"message","data":{{"id":"x","text":"{text}","author_id":"127.1.0.18"}}}}"#
        );
        let (t, c) = parse_marker(&frame).unwrap();
        assert_eq!(c, 17);
        assert!(t <= now_nanos());
        assert!(parse_marker(&send_message_frame(&text)).is_some());
        assert!(parse_marker(r#"{"type":"message"}"#).is_none());
    }

    #[test]
    fn client_ips_are_distinct_loopback() {
        let ips: std::collections::HashSet<_> = (0..70_000).map(client_ip).collect();
        assert_eq!(ips.len(), 70_000);
        assert!(
            ips.iter()
                .all(|ip| ip.is_loopback() && *ip != Ipv4Addr::LOCALHOST)
        );
    }
}
