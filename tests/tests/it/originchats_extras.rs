//! OriginChats extras: `server_info` and the HTTP routes on the same
//! port (`/info` with the reference's CORS headers). Every WebSocket frame received is validated
//! against `spec/originchats.yaml` (through the `originchats` helpers).

use crate::originchats::{Oc, server};
use crate::support::{PATIENCE, Server};
use serde_json::{Value, json};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A minimal HTTP/1.1 response.
struct HttpResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// Sends one request (`Connection: close`) over a raw socket and reads the whole response.
async fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> HttpResponse {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
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
    tokio::time::timeout(PATIENCE, s.read_to_end(&mut raw))
        .await
        .expect("no HTTP response in time")
        .expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    HttpResponse {
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
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
}

fn assert_cors(r: &HttpResponse) {
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

fn named() -> Server {
    server(&[
        ("auth_mode", "cracked-only"),
        ("server_name", "Extras Test"),
        ("server_icon", "https://example.test/icon.png"),
        ("owner_name", "Boss"),
    ])
}

#[tokio::test]
async fn server_info_answers_name_icon_and_banner_with_empty_defaults() {
    let s = named();
    let mut a = Oc::register(&s, "alice").await;
    a.send(json!({"cmd": "server_info", "listener": "si"}))
        .await;
    a.expect(json!({
        "cmd": "server_info",
        "name": "Extras Test",
        "icon": "https://example.test/icon.png",
        "banner": "",
        "listener": "si",
    }))
    .await;
    // Nothing is broadcast to others.
    let mut b = Oc::register(&s, "bob").await;
    b.send(json!({"cmd": "server_info"})).await;
    let got = b.recv().await;
    assert_eq!(got["cmd"], "server_info");
    assert!(got.get("listener").is_none());
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn server_info_before_auth_is_refused_like_any_gated_command() {
    let s = named();
    let mut c = Oc::connect(&s).await;
    c.send(json!({"cmd": "server_info"})).await;
    let got = c.recv().await;
    assert_ne!(got["cmd"], "server_info", "{got}");
    c.close().await;
}

#[tokio::test]
async fn info_describes_the_server_and_counts_users_channels_roles_and_connections() {
    let s = named();
    let r = http(s.addr, "GET", "/info", None).await;
    assert_eq!(r.status, 200);
    assert_cors(&r);
    let v = r.json();
    assert_eq!(v["server"]["name"], "Extras Test");
    assert_eq!(v["server"]["icon"], "https://example.test/icon.png");
    // Unset values are "" (the reference's `.get(key, "")`).
    assert_eq!(v["server"]["banner"], "");
    assert_eq!(v["server"]["owner"], json!({"name": "Boss"}));
    let stats = &v["stats"];
    for k in [
        "total_users",
        "connected_users",
        "online_users",
        "total_channels",
        "total_roles",
    ] {
        assert!(stats[k].is_u64(), "{k}: {v}");
    }
    assert_eq!(stats["connected_users"], 0);
    assert_eq!(stats["online_users"], 0);
    assert!(stats["total_channels"].as_u64().unwrap() >= 1, "{v}");
    assert!(stats["total_roles"].as_u64().unwrap() >= 1, "{v}");
    let users_before = stats["total_users"].as_u64().unwrap();

    // Two connections of alice and one of bob: 3 connected, 2 online, 2 more users.
    let a1 = Oc::register(&s, "alice").await;
    let a2 = Oc::login(&s, "alice", "password").await;
    let b = Oc::register(&s, "bob").await;
    let v = http(s.addr, "GET", "/info", None).await.json();
    assert_eq!(v["stats"]["connected_users"], 3, "{v}");
    assert_eq!(v["stats"]["online_users"], 2, "{v}");
    assert_eq!(v["stats"]["total_users"], users_before + 2, "{v}");
    a1.close().await;
    a2.close().await;
    b.close().await;
}

#[tokio::test]
async fn info_answers_a_cors_preflight_with_204() {
    let s = named();
    let r = http(s.addr, "OPTIONS", "/info", None).await;
    assert_eq!(r.status, 204);
    assert_cors(&r);
    // The other routes of the main listener still work.
    let h = http(s.addr, "GET", "/healthz", None).await;
    assert_eq!(h.status, 200);
    assert_eq!(h.body, b"ok");
}
