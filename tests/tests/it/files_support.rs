//! Helpers of the files tests (attachments, emoji, webhooks, TLS): raw HTTP with byte bodies,
//! multipart forms, small images, and OriginChats accounts with roles or session tokens.

use crate::originchats::Oc;
use crate::support::{PATIENCE, Server};
use base64::Engine as _;
use serde_json::{Value, json};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A 1×1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0xfc, 0xcf, 0xc0, 0x50,
    0x0f, 0x00, 0x04, 0x85, 0x01, 0x80, 0x84, 0xa9, 0x8c, 0x21, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// A 1×1 GIF.
pub const GIF: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0xff, 0xff, 0xff,
    0x00, 0x00, 0x00, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn data_uri(mime: &str, bytes: &[u8]) -> String {
    format!("data:{mime};base64,{}", b64(bytes))
}

pub struct HttpResp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// `{"error": msg}` with this status.
    pub fn expect_error(&self, status: u16, msg: &str) {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(self.json(), json!({ "error": msg }));
    }
}

/// One HTTP/1.1 request (`Connection: close`) with a byte body of `content_type`.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, &[u8])>,
) -> HttpResp {
    let s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    exchange(s, addr, method, path, headers, body).await
}

/// The same over any stream (plain or TLS).
pub async fn exchange<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut s: S,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, &[u8])>,
) -> HttpResp {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some((ct, b)) = body {
        req.push_str(&format!(
            "Content-Type: {ct}\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    if let Some((_, b)) = body {
        bytes.extend_from_slice(b);
    }
    let raw = tokio::time::timeout(PATIENCE, async {
        s.write_all(&bytes).await.expect("write");
        let mut raw = Vec::new();
        // A server may answer and close before reading a large body: keep what came.
        let _ = s.read_to_end(&mut raw).await;
        raw
    })
    .await
    .expect("no HTTP answer in time");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header block: {}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    HttpResp {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 || b.len() < eol + 2 + size {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[(eol + 4 + size).min(b.len())..];
    }
}

/// The reference's CORS headers.
pub fn assert_cors(r: &HttpResp) {
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("GET, HEAD, OPTIONS, POST")
    );
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("Content-Type, Authorization, Range")
    );
    assert_eq!(
        r.header("access-control-expose-headers"),
        Some("Content-Length, Content-Type, Cache-Control")
    );
}

/// A `multipart/form-data` body with one file field; returns (content type, body).
pub fn multipart(
    field: &str,
    filename: &str,
    content_type: &str,
    data: &[u8],
) -> (String, Vec<u8>) {
    let boundary = "chorusboundary7d2f";
    let mut b = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    b.extend_from_slice(data);
    b.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), b)
}

/// A local account with `role`, logged in over OriginChats (its user_connect read).
pub async fn staff(s: &Server, name: &str, role: &str) -> Oc {
    let out = s.cli(&[
        "user",
        "add",
        name,
        "--password",
        "password",
        "--role",
        role,
    ]);
    assert!(out.status.success(), "{out:?}");
    let mut c = Oc::login(s, name, "password").await;
    assert_eq!(c.recv().await["cmd"], "user_connect");
    c
}

/// Registers `name` over OriginChats; returns the connection and `ready.validator` (a session
/// token).
pub async fn register_token(s: &Server, name: &str) -> (Oc, String) {
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
    let token = frames[1]["validator"].as_str().unwrap().to_owned();
    (oc, token)
}

/// A session token for an existing account (`chorus token issue`).
pub fn token_of(s: &Server, name: &str) -> String {
    let out = s.cli(&["token", "issue", name]);
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// `POST /attachments/upload` with a session token as `validator`.
pub async fn upload(
    s: &Server,
    token: &str,
    channel: &str,
    name: &str,
    mime: &str,
    data: &[u8],
    extra: Value,
) -> HttpResp {
    let mut body = json!({
        "validator": token,
        "file": data_uri(mime, data),
        "name": name,
        "mime_type": mime,
        "channel": channel,
    });
    if let (Some(o), Value::Object(e)) = (body.as_object_mut(), extra) {
        o.extend(e);
    }
    let text = body.to_string();
    http(
        s.addr,
        "POST",
        "/attachments/upload",
        &[],
        Some(("application/json", text.as_bytes())),
    )
    .await
}

/// Waits (a few seconds at most, checking often) until `f` holds.
pub async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while tokio::time::Instant::now() < deadline {
        if f().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("{what} did not happen in time");
}

/// A stand-in for Rotur with plans: `/validate` (validator `good,…` is `usr_1` / `rotty`) and
/// `/profile?name=` (`rotty` is on the `Pro` plan, everyone else on none).
pub async fn rotur_with_plans() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
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
                let body = if target.starts_with("/validate") && target.contains("v=good%2C") {
                    json!({"valid": true, "id": "usr_1", "username": "rotty"})
                } else if target.starts_with("/validate") {
                    json!({"valid": false, "error": "Invalid validator"})
                } else if target.starts_with("/profile") && target.contains("name=rotty") {
                    json!({"username": "rotty", "subscription": "Pro"})
                } else {
                    json!({"subscription": "none"})
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
    url
}
