//! Plexichat test clients: a tiny HTTP/1.1 client whose every `/api/v1` answer is validated
//! against the OpenAPI document (the route's documented status and body schema), and a gateway
//! client whose every frame is validated against `spec/gateway.yaml`.

use crate::support::{PATIENCE, Server};
use chorus_protocol::{gateway, plexichat_rest, rest::Route};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

/// The wire id of the default space's `general` room (its UUID as a decimal number).
pub fn general_channel() -> String {
    u128::from_str_radix("00000000000070008000000000000003", 16)
        .unwrap()
        .to_string()
}

/// Options of a server without rate limits (for tests that make many calls of one route).
pub fn no_rate_limits() -> crate::support::Options {
    crate::support::Options::default().env("CHORUS__PLEXICHAT__RATE_LIMITS", "false")
}

/// Registers `name`: its client, token and wire id.
pub async fn user(server: &Server, name: &str) -> (Api, String, String) {
    let api = Api::new(server).register(name).await;
    let token = api.token.clone().unwrap();
    let id = api.get("/users/@me").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (api, token, id)
}

/// A password that satisfies the reference's policy.
pub const PASSWORD: &str = "Correct-Horse-42";

pub struct Resp {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub fn assert_status(&self, status: u16) {
        assert_eq!(self.status, status, "{}", self.body);
    }

    /// Asserts `{"error":{"code":status,"message":message}}` with this status.
    pub fn expect_error(&self, status: u16, message: &str) {
        assert_eq!(self.status, status, "status of {}", self.body);
        assert_eq!(self.body["error"]["code"], json!(status), "{}", self.body);
        assert_eq!(self.body["error"]["message"], message, "{}", self.body);
    }
}

fn validators() -> &'static Mutex<HashMap<String, &'static jsonschema::Validator>> {
    static V: OnceLock<Mutex<HashMap<String, &'static jsonschema::Validator>>> = OnceLock::new();
    V.get_or_init(Default::default)
}

fn validator(doc: &'static Value, pointer: &str) -> &'static jsonschema::Validator {
    let mut m = validators().lock().unwrap();
    if let Some(v) = m.get(pointer) {
        return v;
    }
    let v: &'static jsonschema::Validator = Box::leak(Box::new(
        chorus_protocol::oracle::validator(doc, pointer).unwrap_or_else(|e| panic!("{e}")),
    ));
    m.insert(pointer.to_owned(), v);
    v
}

fn rest_doc() -> &'static Value {
    static D: OnceLock<Value> = OnceLock::new();
    D.get_or_init(|| serde_json::from_str(plexichat_rest::SPEC_JSON).unwrap())
}

fn gateway_doc() -> &'static Value {
    static D: OnceLock<Value> = OnceLock::new();
    D.get_or_init(|| serde_json::from_str(gateway::SPEC_JSON).unwrap())
}

fn template_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(a, b)| (a.starts_with('{') && !b.is_empty()) || a == b)
}

/// The route of `method path`: among matching templates, the one with the most literal
/// segments (`/channels/{id}/messages/unread` over `/channels/{id}/messages/{message_id}`), as
/// the router resolves them.
fn route(method: &str, path: &str) -> Option<&'static Route> {
    plexichat_rest::ROUTES
        .iter()
        .copied()
        .filter(|r| r.method == method && template_matches(r.path, path))
        .max_by_key(|r| r.path.split('/').filter(|s| !s.starts_with('{')).count())
}

/// Panics unless the answer is documented for the route and its body matches the schema.
pub fn assert_valid_response(method: &str, path: &str, status: u16, body: &Value) {
    if (300..400).contains(&status) {
        // Redirects (the reference's `/servers` → `/servers/`) have no body and no operation
        // of their own; the tests check their status and `Location`.
        assert_eq!(
            *body,
            Value::Null,
            "{method} {path}: a redirect with a body"
        );
        return;
    }
    let path = path.split('?').next().unwrap();
    let Some(route) = route(method, path) else {
        panic!("{method} {path} is not in the OpenAPI document");
    };
    let Some(resp) = route.response(status) else {
        panic!("{method} {path}: status {status} is not documented ({body})");
    };
    if let Some(b) = resp.body {
        let v = validator(rest_doc(), b.schema);
        let errors: Vec<String> = v.iter_errors(body).map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "{method} {path} {status}: body violates the OpenAPI document: {errors:?}\n{body}"
        );
        (b.reencode)(&body.to_string()).unwrap_or_else(|e| {
            panic!(
                "{method} {path}: the generated type rejects {body}: {}",
                e.message()
            )
        });
    }
}

/// One HTTP/1.1 request (`Connection: close`).
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Resp {
    let fut = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(b) = body {
            req.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                b.len()
            ));
        }
        req.push_str("\r\n");
        if let Some(b) = body {
            req.push_str(b);
        }
        s.write_all(req.as_bytes()).await.expect("write");
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await.expect("read");
        raw
    };
    let raw = tokio::time::timeout(PATIENCE, fut)
        .await
        .expect("no answer in time");
    let text = String::from_utf8(raw).expect("utf-8 answer");
    let (head, rest) = text.split_once("\r\n\r\n").expect("a header block");
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body_text = if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        let mut out = String::new();
        let mut rest = rest;
        loop {
            let (size, after) = rest.split_once("\r\n").expect("chunk size");
            let n = usize::from_str_radix(size.trim(), 16).expect("hex chunk size");
            if n == 0 {
                break;
            }
            out.push_str(&after[..n]);
            rest = &after[n + 2..];
        }
        out
    } else {
        rest.to_owned()
    };
    let json = headers
        .get("content-type")
        .is_none_or(|c| c.contains("json"));
    let body = if body_text.is_empty() {
        Value::Null
    } else if !json {
        Value::String(body_text)
    } else {
        serde_json::from_str(&body_text)
            .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {body_text}"))
    };
    if path.starts_with("/api/v1/") {
        assert_valid_response(method, path, status, &body);
    }
    Resp {
        status,
        headers,
        body,
    }
}

/// A REST client for one server, optionally with a token.
#[derive(Clone)]
pub struct Api {
    pub addr: SocketAddr,
    pub token: Option<String>,
}

impl Api {
    /// A fresh invite code to `channel` (this user must be allowed to invite).
    pub async fn invite_code(&self, channel: &str) -> String {
        let r = self
            .post(&format!("/channels/{channel}/invites"), json!({}))
            .await;
        r.body["code"].as_str().expect("an invite code").to_owned()
    }

    /// Joins a server by invite code.
    pub async fn join(&self, code: &str) {
        self.post(&format!("/channels/invites/{code}"), json!({}))
            .await
            .assert_status(200);
    }

    pub fn new(server: &Server) -> Api {
        Api {
            addr: server.addr,
            token: None,
        }
    }

    pub fn with_token(&self, token: &str) -> Api {
        Api {
            addr: self.addr,
            token: Some(token.to_owned()),
        }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut headers = Vec::new();
        if let Some(a) = &auth {
            headers.push(("Authorization", a.as_str()));
        }
        let text = body.map(|b| b.to_string());
        request(
            self.addr,
            method,
            &format!("/api/v1{path}"),
            &headers,
            text.as_deref(),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call("POST", path, Some(body)).await
    }

    /// Registers `name` and returns a client carrying its token.
    pub async fn register(&self, name: &str) -> Api {
        let r = self
            .post(
                "/auth/register",
                json!({"username": name, "email": format!("{name}@example.com"), "password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status, 200, "register {name}: {}", r.body);
        self.with_token(r.body["token"].as_str().unwrap())
    }

    pub async fn say(&self, channel: &str, text: &str) -> Value {
        let r = self
            .post(
                &format!("/channels/{channel}/messages"),
                json!({"content": text}),
            )
            .await;
        assert_eq!(r.status, 200, "send: {}", r.body);
        r.body
    }
}

/// Panics unless `text` is a server frame of `spec/gateway.yaml`.
pub fn assert_valid_gateway_frame(text: &str) -> Value {
    let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    let op = v["op"].as_i64().unwrap_or_else(|| panic!("no op: {text}"));
    let tag = if op == 0 {
        format!(
            "op=0,t={}",
            v["t"].as_str().unwrap_or_else(|| panic!("no t: {text}"))
        )
    } else {
        format!("op={op}")
    };
    let pointer = gateway::SERVER_MESSAGES
        .iter()
        .find(|(t, _)| *t == tag)
        .unwrap_or_else(|| panic!("unknown gateway frame {tag}: {text}"))
        .1;
    let errors: Vec<String> = validator(gateway_doc(), pointer)
        .iter_errors(&v)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "frame violates the gateway spec: {errors:?}\n{text}"
    );
    gateway::ServerFrame::decode(text)
        .unwrap_or_else(|e| panic!("generated decoder rejects {text}: {}", e.message()));
    v
}

pub struct Gateway {
    pub ws: crate::support::Ws,
    /// The inflater of a compressed connection (IDENTIFY `compress: true`): every frame after
    /// HELLO is a BINARY zlib-stream frame ending in `00 00 FF FF`.
    pub inflate: Option<flate2::Decompress>,
}

impl Gateway {
    pub async fn connect(server: &Server) -> Gateway {
        let (ws, _) = tokio::time::timeout(
            PATIENCE,
            tokio_tungstenite::connect_async(server.url("/gateway")),
        )
        .await
        .expect("connect in time")
        .expect("gateway handshake");
        Gateway { ws, inflate: None }
    }

    /// From now on, frames are expected compressed (after an IDENTIFY with `compress: true`).
    pub fn expect_compressed(&mut self) {
        self.inflate = Some(flate2::Decompress::new(true));
    }

    fn inflate_frame(&mut self, b: &[u8]) -> String {
        assert!(
            b.ends_with(&[0, 0, 0xFF, 0xFF]),
            "a zlib-stream frame ends with a sync flush"
        );
        let z = self.inflate.as_mut().unwrap();
        let mut out = Vec::with_capacity(b.len() * 8 + 1024);
        let start = z.total_in();
        loop {
            let fed = (z.total_in() - start) as usize;
            z.decompress_vec(&b[fed..], &mut out, flate2::FlushDecompress::Sync)
                .expect("inflating a gateway frame");
            if out.len() < out.capacity() && (z.total_in() - start) as usize == b.len() {
                break;
            }
            out.reserve(out.capacity());
        }
        String::from_utf8(out).expect("utf-8 JSON inside the zlib stream")
    }

    /// Connects and expects HELLO; returns the heartbeat interval.
    pub async fn hello(server: &Server) -> (Gateway, i64) {
        let mut g = Gateway::connect(server).await;
        let hello = g.recv().await;
        assert_eq!(hello["op"], 10, "{hello}");
        let interval = hello["d"]["heartbeat_interval"].as_i64().unwrap();
        (g, interval)
    }

    /// HELLO, IDENTIFY with `token`, READY; returns READY's `d`.
    pub async fn ready(server: &Server, token: &str) -> (Gateway, Value) {
        let (mut g, _) = Gateway::hello(server).await;
        g.send(json!({"op": 2, "d": {"token": token, "properties": {"os": "linux", "browser": "chorus-tests", "device": "chorus-tests"}}})).await;
        let ready = g.recv().await;
        assert_eq!(ready["t"], "READY", "{ready}");
        assert_eq!(ready["s"], 1);
        (g, ready["d"].clone())
    }

    pub async fn send(&mut self, v: Value) {
        self.send_text(&v.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws
            .send(Message::Text(text.into()))
            .await
            .expect("sending");
    }

    /// The next frame, validated against the spec.
    pub async fn recv(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("no frame from the gateway in time")
                .expect("connection ended")
                .expect("websocket error");
            match msg {
                Message::Text(t) if self.inflate.is_none() => {
                    return assert_valid_gateway_frame(t.as_str());
                }
                Message::Binary(b) if self.inflate.is_some() => {
                    let text = self.inflate_frame(&b);
                    return assert_valid_gateway_frame(&text);
                }
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!(
                    "expected a {} frame, got {other:?}",
                    if self.inflate.is_some() {
                        "zlib-stream binary"
                    } else {
                        "text"
                    }
                ),
            }
        }
    }

    /// The next dispatch (op 0) other than `skip`ped event names.
    pub async fn dispatch(&mut self) -> Value {
        let f = self.recv().await;
        assert_eq!(f["op"], 0, "expected a dispatch, got {f}");
        f
    }

    /// Heartbeat and expect the ACK: proves nothing else was queued before it.
    pub async fn heartbeat(&mut self, seq: Option<i64>) {
        self.send(json!({"op": 1, "d": seq})).await;
        let ack = self.recv().await;
        assert_eq!(ack, json!({"op": 11}), "expected HEARTBEAT_ACK");
    }

    /// The close frame (every text frame before it is validated).
    pub async fn recv_close(&mut self) -> CloseFrame {
        loop {
            let msg = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("no close from the gateway in time");
            match msg {
                Some(Ok(Message::Close(Some(c)))) => return c,
                Some(Ok(Message::Text(t))) => {
                    assert_valid_gateway_frame(t.as_str());
                }
                Some(Ok(Message::Binary(b))) if self.inflate.is_some() => {
                    let text = self.inflate_frame(&b);
                    assert_valid_gateway_frame(&text);
                }
                Some(Ok(_)) => {}
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    }

    pub async fn expect_close(&mut self, code: u16, reason: &str) {
        let c = self.recv_close().await;
        assert_eq!(u16::from(c.code), code, "close code ({})", c.reason);
        assert_eq!(c.reason.as_str(), reason);
    }
}
