//! OriginChats (`/`): the connection flow, authentication (local and Rotur), and the helpers the
//! other `originchats_*` modules use. Every frame received is validated against
//! `spec/originchats.yaml`.

use crate::support::{Client, Options, PATIENCE, Server};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

// ------------------------------------------------------------------ helpers

fn validators() -> &'static HashMap<&'static str, jsonschema::Validator> {
    static V: OnceLock<HashMap<&'static str, jsonschema::Validator>> = OnceLock::new();
    V.get_or_init(|| {
        let doc: Value =
            serde_json::from_str(chorus_protocol::originchats::SPEC_JSON).expect("spec JSON");
        chorus_protocol::originchats::SERVER_MESSAGES
            .iter()
            .map(|(tag, pointer)| {
                let v = chorus_protocol::oracle::validator(&doc, pointer)
                    .unwrap_or_else(|e| panic!("{e}"));
                (*tag, v)
            })
            .collect()
    })
}

/// Panics unless `text` is a server frame of the OriginChats spec.
pub fn assert_valid(text: &str) -> Value {
    let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    let tag = v
        .get("cmd")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no cmd: {text}"));
    let validator = validators()
        .get(tag)
        .unwrap_or_else(|| panic!("unknown server frame {tag}: {text}"));
    let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "frame violates the spec: {errors:?}\n{text}"
    );
    v
}

/// Starts a server with `[originchats]` settings (`auth_mode` etc.).
pub fn server(settings: &[(&str, &str)]) -> Server {
    let mut opts = Options::default();
    for (k, v) in settings {
        opts = opts.env(&format!("CHORUS__ORIGINCHATS__{}", k.to_uppercase()), *v);
    }
    Server::start_with(opts)
}

/// A cracked-only server.
pub fn cracked() -> Server {
    server(&[("auth_mode", "cracked-only")])
}

pub struct Oc {
    pub ws: crate::support::Ws,
    pub handshake: Value,
}

impl Oc {
    /// Connects to `/` and reads the handshake.
    pub async fn connect(s: &Server) -> Oc {
        let c = Client::connect(&s.url("/"), &[]).await;
        let mut oc = Oc {
            ws: c.ws,
            handshake: Value::Null,
        };
        let h = oc.recv().await;
        assert_eq!(h["cmd"], "handshake", "first frame: {h}");
        oc.handshake = h;
        oc
    }

    /// Registers `name` (password `password`) and reads auth_success, ready, user_join and
    /// user_connect.
    pub async fn register(s: &Server, name: &str) -> Oc {
        let mut oc = Oc::connect(s).await;
        oc.send(json!({"cmd": "register", "username": name, "password": "password"}))
            .await;
        let frames = oc.recv_n(4).await;
        let cmds: Vec<&str> = frames.iter().map(|f| f["cmd"].as_str().unwrap()).collect();
        assert_eq!(
            cmds,
            ["auth_success", "ready", "user_join", "user_connect"],
            "{frames:?}"
        );
        oc
    }

    /// Logs in an existing account; reads auth_success and ready (a first connection is then
    /// followed by user_connect, left to the caller).
    pub async fn login(s: &Server, name: &str, password: &str) -> Oc {
        let mut oc = Oc::connect(s).await;
        oc.send(json!({"cmd": "login", "username": name, "password": password}))
            .await;
        let frames = oc.recv_n(2).await;
        let cmds: Vec<&str> = frames.iter().map(|f| f["cmd"].as_str().unwrap()).collect();
        assert_eq!(cmds, ["auth_success", "ready"], "{frames:?}");
        oc
    }

    pub async fn send(&mut self, v: Value) {
        self.ws
            .send(Message::Text(v.to_string().into()))
            .await
            .expect("sending");
    }

    pub async fn send_text(&mut self, t: &str) {
        self.ws
            .send(Message::Text(t.into()))
            .await
            .expect("sending");
    }

    /// The `messages_get` reply for a place that has messages: the auto-ack's `unreads_update`
    /// (to every connection of the user) comes first.
    pub async fn recv_history(&mut self) -> Value {
        let ack = self.recv().await;
        assert_eq!(ack["cmd"], "unreads_update", "{ack}");
        let h = self.recv().await;
        assert_eq!(h["cmd"], "messages_get", "{h}");
        h
    }

    /// The next text frame (heartbeat pings included), validated against the spec.
    pub async fn recv_any(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("no frame from the server in time")
                .expect("connection ended")
                .expect("websocket error");
            match msg {
                Message::Text(t) => return assert_valid(t.as_str()),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// The next frame that is not a heartbeat ping.
    pub async fn recv(&mut self) -> Value {
        loop {
            let v = self.recv_any().await;
            if v != json!({"cmd": "ping"}) {
                return v;
            }
        }
    }

    pub async fn recv_n(&mut self, n: usize) -> Vec<Value> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.recv().await);
        }
        out
    }

    /// The next frame must be exactly `expected`.
    pub async fn expect(&mut self, expected: Value) {
        let got = self.recv().await;
        assert_eq!(got, expected);
    }

    /// Sends `req` and expects `{"cmd":"error","src":src,"val":val}`.
    pub async fn expect_error(&mut self, req: Value, val: &str) {
        let src = req["cmd"].as_str().unwrap().to_owned();
        self.send(req).await;
        self.expect(json!({"cmd": "error", "src": src, "val": val}))
            .await;
    }

    /// Proves nothing else is queued: a ping round trip comes back first.
    pub async fn expect_quiet(&mut self) {
        self.send(json!({"cmd": "ping", "listener": "quiet"})).await;
        let got = self.recv().await;
        assert_eq!(
            got,
            json!({"cmd": "pong", "val": "pong", "listener": "quiet"}),
            "unexpected frame"
        );
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

// ------------------------------------------------------------------ a stand-in for Rotur

/// A tiny HTTP server playing Rotur's `/validate`: validator `good,<anything>` is valid for user
/// `usr_1` / `rotty`; everything else is `{"valid":false}`. Records the `key` of each call.
pub struct FakeRotur {
    pub url: String,
    pub keys: Arc<Mutex<Vec<String>>>,
}

impl FakeRotur {
    pub async fn start() -> FakeRotur {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let keys: Arc<Mutex<Vec<String>>> = Arc::default();
        let k = keys.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = l.accept().await else {
                    break;
                };
                let k = k.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&buf).to_string();
                    let target = head.split_whitespace().nth(1).unwrap_or("").to_owned();
                    let query: HashMap<String, String> = target
                        .split_once('?')
                        .map(|(_, q)| q)
                        .unwrap_or("")
                        .split('&')
                        .filter_map(|kv| kv.split_once('='))
                        .map(|(a, b)| (a.to_owned(), decode(b)))
                        .collect();
                    k.lock()
                        .unwrap()
                        .push(query.get("key").cloned().unwrap_or_default());
                    let body = if target.starts_with("/validate")
                        && query.get("v").is_some_and(|v| v.starts_with("good,"))
                    {
                        json!({"valid": true, "id": "usr_1", "username": "rotty"})
                    } else {
                        json!({"valid": false, "error": "Invalid validator"})
                    }
                    .to_string();
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = s.write_all(resp.as_bytes()).await;
                    let _ = s.shutdown().await;
                });
            }
        });
        FakeRotur { url, keys }
    }
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let h = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(h, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ------------------------------------------------------------------ tests

#[tokio::test]
async fn handshake_describes_the_server_with_a_fresh_validator_key() {
    let s = server(&[("server_name", "Test Server"), ("auth_mode", "cracked")]);
    let a = Oc::connect(&s).await;
    let b = Oc::connect(&s).await;
    let val = &a.handshake["val"];
    assert_eq!(
        val["server"],
        json!({"name": "Test Server", "owner": {"name": "Admin"}})
    );
    assert_eq!(
        val["limits"],
        json!({"post_content": 2000, "search_results": 30})
    );
    assert_eq!(val["version"], "1.1.0");
    assert_eq!(val["auth_mode"], "cracked");
    let key = val["validator_key"].as_str().unwrap();
    let rest = key.strip_prefix("originChats-").expect("prefix");
    assert_eq!(rest.len(), 32);
    assert_ne!(key, b.handshake["val"]["validator_key"].as_str().unwrap());
    let caps: Vec<&str> = val["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let mut expected = chorus_protocol::originchats::CLIENT_TAGS.to_vec();
    expected.sort_unstable();
    assert_eq!(caps, expected, "capabilities come from the spec, sorted");
    assert_eq!(val["permissions"].as_array().unwrap().len(), 20);
    assert_eq!(val["permissions"][0], "administrator");
    assert_eq!(val["permissions"][19], "use_slash_commands");
    assert_eq!(val["attachments"]["max_size"], 104857600);
}

#[tokio::test]
async fn everything_but_auth_is_refused_before_authentication() {
    let s = server(&[("auth_mode", "rotur")]);
    let mut c = Oc::connect(&s).await;
    let required = json!({"cmd": "auth_error", "val": "Authentication required"});
    for req in [
        json!({"cmd": "ping"}),
        json!({"cmd": "channels_get"}),
        json!({"cmd": "message_new", "channel": "general", "content": "hi"}),
        // Local accounts are refused in rotur mode.
        json!({"cmd": "login", "username": "a", "password": "b"}),
        json!({"cmd": "register", "username": "ab", "password": "abcd"}),
        json!({"cmd": "nonsense"}),
    ] {
        c.send(req).await;
        c.expect(required.clone()).await;
    }
    c.send_text("not json").await;
    c.expect(json!({"cmd": "error", "val": "Invalid JSON"}))
        .await;
    c.send_text("[1]").await;
    c.expect(json!({"cmd": "error", "val": "Invalid packet: expected a JSON object"}))
        .await;

    let s = cracked();
    let mut c = Oc::connect(&s).await;
    c.send(json!({"cmd": "auth", "validator": "x,y"})).await;
    c.expect(json!({"cmd": "auth_error",
        "val": "Rotur authentication is disabled. Use login or register commands."}))
        .await;
}

#[tokio::test]
async fn register_then_login_in_the_official_clients_order() {
    let s = cracked();
    // Registration: auth_success, ready, then user_join and user_connect to everyone (the new
    // user included), byte for byte.
    let mut a = Oc::connect(&s).await;
    a.send(json!({"cmd": "register", "username": "  Alice ", "password": "password"}))
        .await;
    a.expect(json!({"cmd": "auth_success", "val": "Authentication successful"}))
        .await;
    let ready = a.recv().await;
    assert_eq!(ready["cmd"], "ready");
    assert_eq!(
        ready["user"],
        json!({"username": "alice", "roles": ["user"],
            "status": {"status": "online", "text": ""}, "cracked": true})
    );
    assert!(!ready["validator"].as_str().unwrap().is_empty());
    let summary = json!({"username": "alice", "roles": ["user"], "color": null});
    a.expect(json!({"cmd": "user_join", "user": summary})).await;
    a.expect(json!({"cmd": "user_connect", "user": summary}))
        .await;

    // A second account logging in: no user_join; user_connect reaches both.
    let mut b = Oc::register(&s, "bob").await;
    a.expect(json!({"cmd": "user_join",
        "user": {"username": "bob", "roles": ["user"], "color": null}}))
        .await;
    a.expect(json!({"cmd": "user_connect",
        "user": {"username": "bob", "roles": ["user"], "color": null}}))
        .await;
    // A second connection of alice: login, no user_connect to others (not her first).
    let mut a2 = Oc::connect(&s).await;
    a2.send(json!({"cmd": "login", "username": "alice", "password": "password"}))
        .await;
    a2.expect(json!({"cmd": "auth_success", "val": "Authentication successful"}))
        .await;
    assert_eq!(a2.recv().await["cmd"], "ready");
    a2.expect_quiet().await;
    b.expect_quiet().await;

    // What the client sends right after auth_success.
    a2.send(json!({"cmd": "channels_get"})).await;
    let ch = a2.recv().await;
    assert_eq!(ch["cmd"], "channels_get");
    assert_eq!(ch["val"][0]["name"], "general");
    assert_eq!(ch["val"][0]["type"], "text");

    // After authentication, the auth commands are unknown.
    for cmd in ["auth", "login", "register"] {
        a2.expect_error(
            json!({"cmd": cmd, "username": "alice", "password": "password", "validator": "v"}),
            &format!("Unknown command: {cmd}"),
        )
        .await;
    }
    // ping → pong, listener echoed.
    a2.send(json!({"cmd": "ping", "listener": "l1"})).await;
    a2.expect(json!({"cmd": "pong", "val": "pong", "listener": "l1"}))
        .await;

    // The last connection of bob closing: user_disconnect to everyone else.
    b.close().await;
    a.expect(json!({"cmd": "user_disconnect", "username": "bob"}))
        .await;
    a2.expect(json!({"cmd": "user_disconnect", "username": "bob"}))
        .await;
    // Alice's second connection closing is not her last: nothing.
    a2.close().await;
    a.expect_quiet().await;
}

#[tokio::test]
async fn register_and_login_errors_use_the_reference_wording() {
    let s = cracked();
    let _alice = Oc::register(&s, "alice").await;
    let mut c = Oc::connect(&s).await;
    let cases = [
        (
            json!({"cmd": "register", "username": "x"}),
            "Username and password required",
        ),
        (
            json!({"cmd": "register", "username": "", "password": "pw"}),
            "Username and password required",
        ),
        (
            json!({"cmd": "register", "username": "x", "password": "password"}),
            "Username must be 2-32 characters",
        ),
        (
            json!({"cmd": "register", "username": "a".repeat(33), "password": "password"}),
            "Username must be 2-32 characters",
        ),
        (
            json!({"cmd": "register", "username": "carol", "password": "pw"}),
            "Password must be 4-72 characters",
        ),
        (
            json!({"cmd": "register", "username": "carol", "password": "p".repeat(73)}),
            "Password must be 4-72 characters",
        ),
        (
            json!({"cmd": "register", "username": "car ol", "password": "password"}),
            "Username can only contain letters, numbers, hyphens, and underscores",
        ),
        (
            json!({"cmd": "register", "username": "ALICE", "password": "password"}),
            "Username already taken",
        ),
        (
            json!({"cmd": "login", "password": "password"}),
            "Username and password required",
        ),
        (
            json!({"cmd": "login", "username": "nobody", "password": "password"}),
            "User not found",
        ),
        (
            json!({"cmd": "login", "username": "alice", "password": "wrong"}),
            "Invalid password",
        ),
    ];
    for (req, val) in cases {
        c.send(req.clone()).await;
        c.expect(json!({"cmd": "auth_error", "val": val})).await;
    }
    // Still unauthenticated after all that.
    c.send(json!({"cmd": "ping"})).await;
    c.expect(json!({"cmd": "auth_error", "val": "Authentication required"}))
        .await;

    let s = server(&[("auth_mode", "cracked"), ("allow_registration", "false")]);
    let mut c = Oc::connect(&s).await;
    c.send(json!({"cmd": "register", "username": "dave", "password": "password"}))
        .await;
    c.expect(json!({"cmd": "auth_error", "val": "Registration is disabled"}))
        .await;
}

#[tokio::test]
async fn rotur_validators_are_checked_against_the_configured_rotur() {
    let rotur = FakeRotur::start().await;
    let s = server(&[("auth_mode", "cracked"), ("rotur_url", &rotur.url)]);
    let mut c = Oc::connect(&s).await;
    let key = c.handshake["val"]["validator_key"]
        .as_str()
        .unwrap()
        .to_owned();
    c.send(json!({"cmd": "auth", "validator": "bad,0000"}))
        .await;
    c.expect(json!({"cmd": "auth_error", "val": "Invalid authentication"}))
        .await;
    c.send(json!({"cmd": "auth", "validator": "good,abcd"}))
        .await;
    c.expect(json!({"cmd": "auth_success", "val": "Authentication successful"}))
        .await;
    let ready = c.recv().await;
    assert_eq!(
        ready["user"],
        json!({"username": "rotty", "roles": ["user"],
            "status": {"status": "online", "text": ""}, "cracked": false})
    );
    let summary = json!({"username": "rotty", "roles": ["user"], "color": null});
    c.expect(json!({"cmd": "user_join", "user": summary})).await;
    c.expect(json!({"cmd": "user_connect", "user": summary}))
        .await;
    // Rotur got this connection's validator key.
    assert_eq!(rotur.keys.lock().unwrap().last().unwrap(), &key);

    // The same Rotur user again: not new, no user_join, no user_connect (not first).
    let mut c2 = Oc::connect(&s).await;
    c2.send(json!({"cmd": "auth", "validator": "good,efgh"}))
        .await;
    c2.expect(json!({"cmd": "auth_success", "val": "Authentication successful"}))
        .await;
    assert_eq!(c2.recv().await["cmd"], "ready");
    c2.expect_quiet().await;

    // A Rotur account cannot log in with a password.
    let mut l = Oc::connect(&s).await;
    l.send(json!({"cmd": "login", "username": "rotty", "password": "whatever"}))
        .await;
    l.expect(json!({"cmd": "auth_error", "val": "This account uses Rotur authentication"}))
        .await;
}

#[tokio::test]
async fn rotur_down_gives_a_clear_auth_error() {
    // A port nothing listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let s = server(&[("rotur_url", &url), ("rotur_timeout_ms", "2000")]);
    let mut c = Oc::connect(&s).await;
    c.send(json!({"cmd": "auth", "validator": "good,abcd"}))
        .await;
    c.expect(json!({"cmd": "auth_error", "val": "Authentication service unavailable"}))
        .await;
    // The connection stays usable.
    c.send(json!({"cmd": "ping"})).await;
    c.expect(json!({"cmd": "auth_error", "val": "Authentication required"}))
        .await;
}

#[tokio::test]
async fn heartbeat_pings_start_before_authentication() {
    let s = server(&[("auth_mode", "cracked-only"), ("heartbeat_secs", "0.2")]);
    let mut c = Oc::connect(&s).await;
    assert_eq!(c.recv_any().await, json!({"cmd": "ping"}));
    assert_eq!(c.recv_any().await, json!({"cmd": "ping"}));
    c.send(json!({"cmd": "register", "username": "alice", "password": "password"}))
        .await;
    let mut cmds = Vec::new();
    while cmds.len() < 4 {
        let f = c.recv().await;
        cmds.push(f["cmd"].as_str().unwrap().to_owned());
    }
    assert_eq!(cmds, ["auth_success", "ready", "user_join", "user_connect"]);
    assert_eq!(c.recv_any().await, json!({"cmd": "ping"}));
}
