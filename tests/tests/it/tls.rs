//! TLS: with `server.tls_cert` / `server.tls_key`, every listener speaks TLS. The
//! certificate is made in the test (rcgen); the client trusts only it. The official OriginChats
//! client connects with `wss://` only.

use crate::files_support::{exchange, http};
use crate::originchats::assert_valid;
use crate::support::{Options, PATIENCE, Server, chorus_bin};
use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};
use std::sync::Arc;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::Message;

struct Tls {
    dir: tempfile::TempDir,
    cert: CertificateDer<'static>,
}

impl Tls {
    /// A self-signed certificate for `localhost`, written as PEM files.
    fn new() -> Tls {
        let dir = tempfile::tempdir().unwrap();
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        std::fs::write(dir.path().join("cert.pem"), ck.cert.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), ck.signing_key.serialize_pem()).unwrap();
        Tls {
            cert: ck.cert.der().clone(),
            dir,
        }
    }

    fn options(&self) -> Options {
        Options::default()
            .env("CHORUS__ORIGINCHATS__AUTH_MODE", "cracked-only")
            .env(
                "CHORUS__SERVER__TLS_CERT",
                self.dir.path().join("cert.pem").to_string_lossy(),
            )
            .env(
                "CHORUS__SERVER__TLS_KEY",
                self.dir.path().join("key.pem").to_string_lossy(),
            )
    }

    fn connector(&self) -> TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.cert.clone()).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        TlsConnector::from(Arc::new(config))
    }

    async fn stream(&self, s: &Server) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
        let tcp = tokio::net::TcpStream::connect(s.addr).await.unwrap();
        tokio::time::timeout(
            PATIENCE,
            self.connector()
                .connect(ServerName::try_from("localhost").unwrap(), tcp),
        )
        .await
        .expect("handshake in time")
        .expect("TLS handshake")
    }
}

async fn next_text<S>(ws: &mut tokio_tungstenite::WebSocketStream<S>) -> Value
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        let msg = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("a frame in time")
            .expect("open")
            .expect("no websocket error");
        if let Message::Text(t) = msg {
            return assert_valid(t.as_str());
        }
    }
}

#[tokio::test]
async fn originchats_over_wss_and_https_on_the_same_port() {
    let tls = Tls::new();
    let s = Server::start_with(tls.options());
    let url = format!("wss://localhost:{}/", s.addr.port());
    let (mut ws, _) = tokio_tungstenite::client_async(url, tls.stream(&s).await)
        .await
        .expect("wss handshake");
    let hello = next_text(&mut ws).await;
    assert_eq!(hello["cmd"], "handshake");
    ws.send(Message::Text(
        json!({"cmd": "register", "username": "alice", "password": "password"})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    assert_eq!(next_text(&mut ws).await["cmd"], "auth_success");
    assert_eq!(next_text(&mut ws).await["cmd"], "ready");
    ws.send(Message::Text(
        json!({"cmd": "message_new", "channel": "general", "content": "secure"})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    loop {
        let f = next_text(&mut ws).await;
        if f["cmd"] == "message_new" {
            assert_eq!(f["message"]["content"], "secure");
            break;
        }
    }
    // HTTPS on the same port: /info and the attachment routes.
    let info = exchange(tls.stream(&s).await, s.addr, "GET", "/info", &[], None).await;
    assert_eq!(info.status, 200);
    assert_eq!(info.json()["stats"]["connected_users"], 1);
    let r = exchange(tls.stream(&s).await, s.addr, "GET", "/nope", &[], None).await;
    r.expect_error(404, "Not found");
    // Plain HTTP to the TLS port gets no HTTP answer.
    let plain = tokio::time::timeout(PATIENCE, async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut t = tokio::net::TcpStream::connect(s.addr).await.unwrap();
        let _ = t
            .write_all(b"GET /info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await;
        let mut buf = Vec::new();
        let _ = t.read_to_end(&mut buf).await;
        buf
    })
    .await
    .expect("the server closes a plain connection");
    assert!(!plain.starts_with(b"HTTP/1.1 200"), "{plain:?}");
    let _ = ws.close(None).await;
}

#[tokio::test]
async fn a_slow_handshake_does_not_block_others() {
    let tls = Tls::new();
    let s = Server::start_with(tls.options());
    // A client that connects and says nothing…
    let _silent = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    // …does not stop another from completing its handshake and request.
    let r = exchange(tls.stream(&s).await, s.addr, "GET", "/healthz", &[], None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"ok");
}

#[tokio::test]
async fn bad_tls_settings_stop_the_server_at_start() {
    let tls = Tls::new();
    let data = tempfile::tempdir().unwrap();
    let run = |cert: &str, key: &str| {
        std::process::Command::new(chorus_bin())
            .arg("serve")
            .env("CHORUS__SERVER__LISTEN", "127.0.0.1:0")
            .env("CHORUS__STORAGE__DATA_DIR", data.path())
            .env("CHORUS__SERVER__TLS_CERT", cert)
            .env("CHORUS__SERVER__TLS_KEY", key)
            .env("CHORUS__LOG__LEVEL", "warn")
            .output()
            .expect("running chorus")
    };
    let cert = tls.dir.path().join("cert.pem");
    let key = tls.dir.path().join("key.pem");
    let missing = run("/nonexistent/cert.pem", &key.to_string_lossy());
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("TLS certificate"),
        "{missing:?}"
    );
    // The certificate given as the key.
    let swapped = run(&cert.to_string_lossy(), &cert.to_string_lossy());
    assert!(!swapped.status.success());
    assert!(
        String::from_utf8_lossy(&swapped.stderr).contains("TLS private key"),
        "{swapped:?}"
    );
    // Only one of the two.
    let half = run(&cert.to_string_lossy(), "");
    assert!(!half.status.success());
    assert!(
        String::from_utf8_lossy(&half.stderr).contains("must be set together"),
        "{half:?}"
    );
    // Without TLS the same data directory serves plain HTTP (the checks above wrote nothing
    // that stops it).
    let s = Server::start_with(
        Options::default().env("CHORUS__STORAGE__DATA_DIR", data.path().to_string_lossy()),
    );
    assert_eq!(http(s.addr, "GET", "/healthz", &[], None).await.body, b"ok");
}
