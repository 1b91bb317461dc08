//! Test support: a real `chorus` process on a free port with its own data directory, and
//! WebSocket clients that check every frame they receive against the spec.

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Guards against a hung server or a missing frame; never part of what is asserted.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The `chorus` binary: `$CHORUS_BIN`, else `target/<profile>/chorus` next to this test
/// executable, built once per test run with `cargo build -p chorus-server`.
pub fn chorus_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("CHORUS_BIN") {
            return PathBuf::from(p);
        }
        let exe = std::env::current_exe().expect("test executable path");
        // target/<profile>/deps/it-<hash> → target/<profile>/chorus
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test executable lives in target/<profile>/deps");
        let bin = profile_dir.join("chorus");
        if std::env::var_os("CHORUS_TESTS_NO_BUILD").is_none() {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
            let mut cmd = Command::new(cargo);
            cmd.args(["build", "--quiet", "-p", "chorus-server", "--bin", "chorus"])
                .arg("--manifest-path")
                .arg(&manifest);
            if profile_dir.file_name().is_some_and(|n| n == "release") {
                cmd.arg("--release");
            }
            let status = cmd.status().expect("running cargo build");
            assert!(status.success(), "cargo build -p chorus-server failed");
        }
        assert!(
            bin.exists(),
            "{} is missing: run `cargo build -p chorus-server` first (or set CHORUS_BIN)",
            bin.display()
        );
        bin
    })
}

/// How to start a server.
#[derive(Clone, Default)]
pub struct Options {
    /// Extra environment (`CHORUS__SECTION__KEY` overrides).
    pub env: Vec<(String, String)>,
    /// Lower the open-file limit of the server process.
    pub nofile: Option<u64>,
    /// Arguments after `serve` is not enough (e.g. `--config`).
    pub config_file: Option<PathBuf>,
}

impl Options {
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.push((key.to_owned(), value.into()));
        self
    }
}

pub struct Server {
    child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub addr: SocketAddr,
    /// Extra listener addresses by protocol.
    pub extra: HashMap<String, SocketAddr>,
    pub logs: Arc<Mutex<Vec<String>>>,
    opts: Options,
}

impl Server {
    pub fn start() -> Server {
        Self::start_with(Options::default())
    }

    pub fn start_with(opts: Options) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::spawn(dir, opts)
    }

    fn spawn(dir: tempfile::TempDir, opts: Options) -> Server {
        let mut cmd = Command::new(chorus_bin());
        if let Some(cfg) = &opts.config_file {
            cmd.arg("--config").arg(cfg);
        }
        cmd.arg("serve")
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .env("CHORUS__SERVER__LISTEN", "127.0.0.1:0")
            .env("CHORUS__STORAGE__DATA_DIR", dir.path().join("data"))
            .env("CHORUS__LOG__FORMAT", "json")
            .env("CHORUS__LOG__LEVEL", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        if let Some(n) = opts.nofile {
            use std::os::unix::process::CommandExt;
            // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    let lim = libc::rlimit {
                        rlim_cur: n,
                        rlim_max: n,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let mut child = cmd.spawn().expect("spawning chorus");
        let stderr = child.stderr.take().expect("stderr");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel::<Result<(SocketAddr, HashMap<String, SocketAddr>), String>>();
        {
            let logs = logs.clone();
            std::thread::spawn(move || {
                let mut tx = Some(tx);
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    if let Some(t) = tx.as_ref()
                        && let Some(found) = listening(&line)
                    {
                        let _ = t.send(Ok(found));
                        tx = None;
                    }
                    logs.lock().unwrap().push(line);
                }
                if let Some(t) = tx {
                    let _ = t.send(Err("chorus exited before listening".into()));
                }
            });
        }
        let (addr, extra) = match rx.recv_timeout(PATIENCE) {
            Ok(Ok(found)) => found,
            Ok(Err(e)) => {
                let _ = child.wait();
                panic!("{e}; logs:\n{}", logs.lock().unwrap().join("\n"))
            }
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "chorus did not start; logs:\n{}",
                    logs.lock().unwrap().join("\n")
                )
            }
        };
        Server {
            child: Some(child),
            dir,
            addr,
            extra,
            logs,
            opts,
        }
    }

    /// Whether the server has logged a line containing `needle`.
    pub fn logged(&self, needle: &str) -> bool {
        self.logs.lock().unwrap().iter().any(|l| l.contains(needle))
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    pub async fn client(&self) -> Client {
        Client::connect(&self.url("/ws"), &[]).await
    }

    /// SIGTERM, then wait for the exit.
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        // SAFETY: plain kill(2) on our own child.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGTERM);
        }
        wait_with_patience(&mut child)
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().expect("killing chorus");
        child.wait().expect("reaping chorus");
    }

    /// Stops the server and starts a new process on the same data directory.
    pub fn restart(mut self) -> Server {
        if self.child.is_some() {
            let status = self.stop();
            assert!(status.success(), "chorus exited with {status}");
        }
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("temp dir"));
        Self::spawn(dir, self.opts.clone())
    }

    /// Runs `chorus ARGS` against this server's data directory.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(chorus_bin())
            .args(args)
            .current_dir(self.dir.path())
            .env("CHORUS__STORAGE__DATA_DIR", self.dir.path().join("data"))
            .env("CHORUS__LOG__LEVEL", "warn")
            .output()
            .expect("running chorus")
    }
}

fn wait_with_patience(child: &mut Child) -> ExitStatus {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().expect("waiting for chorus") {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("chorus did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The addresses from the "chorus listening" log line.
fn listening(line: &str) -> Option<(SocketAddr, HashMap<String, SocketAddr>)> {
    let v: Value = serde_json::from_str(line).ok()?;
    let fields = v.get("fields")?;
    if fields.get("message")?.as_str()? != "chorus listening" {
        return None;
    }
    let addr = fields.get("listen")?.as_str()?.parse().ok()?;
    let mut extra = HashMap::new();
    // `extra` is Debug-formatted: ["reactions=127.0.0.1:5613", ...]
    if let Some(list) = fields.get("extra").and_then(Value::as_str) {
        for item in list.trim_matches(['[', ']']).split(',') {
            let item = item.trim().trim_matches('"');
            if let Some((proto, a)) = item.split_once('=') {
                extra.insert(proto.to_owned(), a.parse().ok()?);
            }
        }
    }
    Some((addr, extra))
}

/// Validators for every server → client message of the reaction chat, by tag.
fn validators() -> &'static HashMap<&'static str, jsonschema::Validator> {
    static V: OnceLock<HashMap<&'static str, jsonschema::Validator>> = OnceLock::new();
    V.get_or_init(|| {
        let doc: Value =
            serde_json::from_str(chorus_protocol::reactions::SPEC_JSON).expect("spec JSON");
        chorus_protocol::reactions::SERVER_MESSAGES
            .iter()
            .map(|(tag, pointer)| {
                let v = chorus_protocol::oracle::validator(&doc, pointer)
                    .unwrap_or_else(|e| panic!("{e}"));
                (*tag, v)
            })
            .collect()
    })
}

/// Panics unless `frame` is a server frame of the reaction chat spec.
pub fn assert_valid_frame(text: &str) -> Value {
    let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    let tag = v
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no type: {text}"));
    let validator = validators()
        .get(tag)
        .unwrap_or_else(|| panic!("unknown server frame type {tag}: {text}"));
    let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "frame violates the spec: {errors:?}\n{text}"
    );
    chorus_protocol::reactions::ServerFrame::decode(text)
        .unwrap_or_else(|e| panic!("generated decoder rejects {text}: {}", e.message()));
    v
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The next text frame of `ws` (pings and pongs skipped); panics on anything else.
pub async fn next_text(ws: &mut Ws) -> String {
    loop {
        let msg = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("no frame from the server in time")
            .expect("connection ended")
            .expect("websocket error");
        match msg {
            Message::Text(t) => return t.as_str().to_owned(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

pub struct Client {
    pub ws: Ws,
}

/// How a connection attempt ended.
#[derive(Debug)]
pub enum Refusal {
    Http(u16),
    Io(String),
}

impl Client {
    pub async fn connect(url: &str, headers: &[(&str, &str)]) -> Client {
        Self::try_connect(url, headers)
            .await
            .unwrap_or_else(|e| panic!("connecting to {url}: {e:?}"))
    }

    pub async fn try_connect(url: &str, headers: &[(&str, &str)]) -> Result<Client, Refusal> {
        let mut req = url.into_client_request().expect("request");
        for (k, v) in headers {
            req.headers_mut().insert(
                tungstenite::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        match tokio::time::timeout(PATIENCE, tokio_tungstenite::connect_async(req)).await {
            Err(_) => Err(Refusal::Io("timed out".into())),
            Ok(Ok((ws, _))) => Ok(Client { ws }),
            Ok(Err(tungstenite::Error::Http(resp))) => Err(Refusal::Http(resp.status().as_u16())),
            Ok(Err(e)) => Err(Refusal::Io(e.to_string())),
        }
    }

    /// Connects with a tiny kernel receive buffer (to make a slow consumer quickly).
    pub async fn connect_small_rcvbuf(addr: SocketAddr, path: &str) -> Client {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let stream = socket.connect(addr).await.expect("tcp connect");
        let (ws, _) = tokio_tungstenite::client_async(
            format!("ws://{addr}{path}"),
            MaybeTlsStream::Plain(stream),
        )
        .await
        .expect("handshake");
        Client { ws }
    }

    /// The next text frame, validated against the spec.
    pub async fn recv(&mut self) -> Value {
        assert_valid_frame(&next_text(&mut self.ws).await)
    }

    /// The next frame, which must be a close frame; returns it.
    pub async fn recv_close(&mut self) -> Option<CloseFrame> {
        loop {
            let msg = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("no close from the server in time");
            match msg {
                Some(Ok(Message::Close(c))) => return c,
                Some(Ok(Message::Text(t))) => {
                    assert_valid_frame(t.as_str());
                }
                Some(Ok(_)) => {}
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    }

    /// The next `n` frames.
    pub async fn recv_n(&mut self, n: usize) -> Vec<Value> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.recv().await);
        }
        out
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws
            .send(Message::Text(text.into()))
            .await
            .expect("sending");
    }

    pub async fn send_json(&mut self, v: Value) {
        self.send_text(&v.to_string()).await;
    }

    pub async fn send_binary(&mut self, bytes: &[u8]) {
        self.ws
            .send(Message::Binary(bytes.to_vec().into()))
            .await
            .expect("sending");
    }

    pub async fn say(&mut self, text: &str) {
        self.send_json(serde_json::json!({"type": "send_message", "data": {"text": text}}))
            .await;
    }

    pub async fn react(&mut self, message_id: &str, emoji: &str) {
        self.send_json(serde_json::json!({
            "type": "add_reaction",
            "data": {"message_id": message_id, "emoji": emoji}
        }))
        .await;
    }

    /// Receives `n` frames of `history` (the messages present at connect time).
    pub async fn history(&mut self, n: usize) -> Vec<Value> {
        let frames = self.recv_n(n).await;
        for f in &frames {
            assert_eq!(f["type"], "message", "history frame expected: {f}");
        }
        frames
    }

    /// Expects an `error` frame with exactly `text`.
    pub async fn expect_error(&mut self, text: &str) {
        let f = self.recv().await;
        assert_eq!(f["type"], "error", "expected an error frame, got {f}");
        assert_eq!(f["data"]["error"], text, "wrong error text");
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}
