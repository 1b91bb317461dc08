//! OriginChats Web Push (§2.11, §4.6): the VAPID key, subscriptions and their errors, and real
//! pushes to a local stand-in push service that checks the RFC 8292 VAPID token and decrypts the
//! RFC 8291 `aes128gcm` body with the subscription's private key: an offline mentioned or
//! replied-to user gets one; an online one does not.

use crate::originchats::{Oc, cracked};
use crate::support::PATIENCE;
use aes_gcm::aead::{Aead, KeyInit};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use p256::ecdsa::signature::Verifier;
use serde_json::{Value, json};
use sha2_010::Sha256;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Received {
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A push service on a local port that answers 201 and keeps every request.
struct PushService {
    base: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl PushService {
    async fn start() -> PushService {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let sink = got.clone();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let sink = sink.clone();
                tokio::spawn(async move {
                    let mut raw = Vec::new();
                    let mut buf = [0u8; 4096];
                    let head_end = loop {
                        let n = s.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        raw.extend_from_slice(&buf[..n]);
                        if let Some(p) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                            break p;
                        }
                    };
                    let head = String::from_utf8_lossy(&raw[..head_end]).to_string();
                    let mut lines = head.split("\r\n");
                    let path = lines
                        .next()
                        .unwrap_or("")
                        .split(' ')
                        .nth(1)
                        .unwrap_or("")
                        .to_owned();
                    let headers: Vec<(String, String)> = lines
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                        .collect();
                    let len: usize = headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                        .and_then(|(_, v)| v.parse().ok())
                        .unwrap_or(0);
                    let mut body = raw[head_end + 4..].to_vec();
                    while body.len() < len {
                        let n = s.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        body.extend_from_slice(&buf[..n]);
                    }
                    sink.lock().unwrap().push(Received {
                        path,
                        headers,
                        body,
                    });
                    let _ = s
                        .write_all(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .await;
                });
            }
        });
        PushService { base, got }
    }

    /// Waits for at least `n` requests.
    async fn wait_for(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.got.lock().unwrap().len() < n {
            assert!(tokio::time::Instant::now() < deadline, "no push in time");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

/// A browser's subscription keys.
struct Browser {
    secret: p256::SecretKey,
    auth: [u8; 16],
}

impl Browser {
    fn new() -> Browser {
        let mut auth = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut auth);
        Browser {
            secret: p256::SecretKey::random(&mut rand_core::OsRng),
            auth,
        }
    }

    fn p256dh(&self) -> Vec<u8> {
        self.secret.public_key().to_sec1_bytes().to_vec()
    }

    fn subscription(&self, endpoint: &str) -> Value {
        json!({"endpoint": endpoint, "keys": {"p256dh": B64.encode(self.p256dh()), "auth": B64.encode(self.auth)}})
    }

    /// RFC 8291 decryption of an `aes128gcm` body.
    fn decrypt(&self, body: &[u8]) -> Value {
        use hkdf::Hkdf;
        let salt = &body[..16];
        let rs = u32::from_be_bytes(body[16..20].try_into().unwrap());
        assert!(rs >= 18, "record size {rs}");
        let idlen = body[20] as usize;
        assert_eq!(idlen, 65, "the key id is the sender's public key");
        let as_public = &body[21..21 + idlen];
        let sealed = &body[21 + idlen..];
        let server_key = p256::PublicKey::from_sec1_bytes(as_public).unwrap();
        let shared =
            p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), server_key.as_affine());
        let mut info = b"WebPush: info\0".to_vec();
        info.extend_from_slice(&self.p256dh());
        info.extend_from_slice(as_public);
        let mut ikm = [0u8; 32];
        Hkdf::<Sha256>::new(Some(&self.auth), shared.raw_secret_bytes())
            .expand(&info, &mut ikm)
            .unwrap();
        let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
        let (mut cek, mut nonce) = ([0u8; 16], [0u8; 12]);
        prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
            .unwrap();
        prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
            .unwrap();
        let plain = aes_gcm::Aes128Gcm::new_from_slice(&cek)
            .unwrap()
            .decrypt(aes_gcm::Nonce::from_slice(&nonce), sealed)
            .expect("the push decrypts with the subscription's keys");
        let end = plain.iter().rposition(|b| *b != 0).unwrap();
        assert_eq!(plain[end], 2, "last-record delimiter");
        serde_json::from_slice(&plain[..end]).unwrap()
    }
}

/// Checks `vapid t=<jwt>, k=<key>`: the key is the server's, the ES256 signature verifies and
/// the audience is the push service's origin.
fn check_vapid(auth: &str, vapid_key: &str, origin: &str) {
    let rest = auth.strip_prefix("vapid ").expect("vapid scheme");
    let mut t = None;
    let mut k = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("t=") {
            t = Some(v);
        } else if let Some(v) = part.strip_prefix("k=") {
            k = Some(v);
        }
    }
    let (t, k) = (t.expect("t="), k.expect("k="));
    assert_eq!(k, vapid_key);
    let (signed, sig) = t.rsplit_once('.').unwrap();
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&B64.decode(k).unwrap()).unwrap();
    let sig = p256::ecdsa::Signature::from_slice(&B64.decode(sig).unwrap()).unwrap();
    key.verify(signed.as_bytes(), &sig)
        .expect("a valid ES256 signature");
    let (header, claims) = signed.split_once('.').unwrap();
    let header: Value = serde_json::from_slice(&B64.decode(header).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    let claims: Value = serde_json::from_slice(&B64.decode(claims).unwrap()).unwrap();
    assert_eq!(claims["aud"], origin);
    assert!(claims["exp"].as_i64().unwrap() > 0);
    assert!(claims["sub"].as_str().unwrap().starts_with("mailto:"));
}

#[tokio::test]
async fn offline_users_get_decryptable_pushes_for_mentions_and_replies_online_ones_do_not() {
    let push = PushService::start().await;
    let s = cracked();
    let mut alice = Oc::register(&s, "alice").await;
    alice
        .send(json!({"cmd": "push_get_vapid", "listener": "v"}))
        .await;
    let v = alice.recv().await;
    assert_eq!(v["cmd"], "push_vapid");
    assert_eq!(v["listener"], "v");
    let vapid_key = v["key"].as_str().unwrap().to_owned();
    let raw = B64.decode(&vapid_key).unwrap();
    assert_eq!((raw.len(), raw[0]), (65, 4), "an uncompressed P-256 point");

    let mut bob = Oc::register(&s, "bob").await;
    let mut carol = Oc::register(&s, "carol").await;
    let _ = alice.recv_n(4).await;
    let _ = bob.recv_n(2).await;
    let (bob_browser, carol_browser) = (Browser::new(), Browser::new());
    bob.send(json!({"cmd": "push_subscribe",
        "subscription": bob_browser.subscription(&format!("{}/push/bob", push.base))}))
        .await;
    let sub = bob.recv().await;
    assert_eq!(sub["cmd"], "push_subscribed");
    assert_eq!(sub["success"], true);
    let fp = sub["device_fingerprint"].as_str().unwrap();
    assert!(
        fp.len() == 16 && fp.chars().all(|c| c.is_ascii_hexdigit()),
        "{fp}"
    );
    carol
        .send(json!({"cmd": "push_subscribe",
            "subscription": carol_browser.subscription(&format!("{}/push/carol", push.base))}))
        .await;
    assert_eq!(carol.recv().await["cmd"], "push_subscribed");

    // bob posts, then goes offline; carol stays online.
    bob.send(json!({"cmd": "message_new", "channel": "general", "content": "lunch?"}))
        .await;
    let posted = bob.recv().await;
    let bob_msg = posted["message"]["id"].as_str().unwrap().to_owned();
    let _ = alice.recv().await;
    let _ = carol.recv().await;
    bob.close().await;
    alice
        .expect(json!({"cmd": "user_disconnect", "username": "bob"}))
        .await;
    let _ = carol.recv().await;

    alice
        .send(json!({"cmd": "message_new", "channel": "general", "content": "hey @carol"}))
        .await;
    let _ = alice.recv().await;
    alice
        .send(
            json!({"cmd": "message_new", "channel": "general", "content": "sure, at noon",
            "reply_to": bob_msg}),
        )
        .await;
    let _ = alice.recv().await;
    alice
        .send(json!({"cmd": "message_new", "channel": "general", "content": "@bob see you there"}))
        .await;
    let _ = alice.recv().await;

    push.wait_for(2).await;
    // Nothing more comes (carol is online).
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let got: Vec<Received> = std::mem::take(&mut *push.got.lock().unwrap());
    assert_eq!(
        got.len(),
        2,
        "{:?}",
        got.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    let mut payloads = Vec::new();
    for r in got.iter() {
        assert_eq!(r.path, "/push/bob");
        assert_eq!(r.header("content-encoding"), Some("aes128gcm"));
        assert_eq!(r.header("ttl"), Some("86400"));
        check_vapid(r.header("authorization").unwrap(), &vapid_key, &push.base);
        payloads.push(bob_browser.decrypt(&r.body));
    }
    payloads.sort_by_key(|p| p["title"].as_str().unwrap().to_owned());
    assert_eq!(
        payloads,
        [
            json!({"title": "#general — alice", "body": "@bob see you there", "channelName": "general"}),
            json!({"title": "#general — alice replied", "body": "sure, at noon", "channelName": "general"}),
        ]
    );
    alice.close().await;
    carol.close().await;
}

#[tokio::test]
async fn subscription_errors_and_unsubscribe() {
    let s = cracked();
    let mut alice = Oc::register(&s, "alice").await;
    alice
        .expect_error(
            json!({"cmd": "push_subscribe"}),
            "Missing subscription object",
        )
        .await;
    let incomplete = "subscription must include endpoint, keys.p256dh and keys.auth";
    alice
        .expect_error(
            json!({"cmd": "push_subscribe", "subscription": {"endpoint": "http://127.0.0.1:9/x"}}),
            incomplete,
        )
        .await;
    alice
        .expect_error(
            json!({"cmd": "push_subscribe", "subscription": {"endpoint": "http://127.0.0.1:9/x", "keys": {"p256dh": "abc"}}}),
            incomplete,
        )
        .await;
    alice
        .expect_error(json!({"cmd": "push_unsubscribe"}), "Missing endpoint")
        .await;
    alice
        .send(
            json!({"cmd": "push_unsubscribe", "endpoint": "http://127.0.0.1:9/x", "listener": "u"}),
        )
        .await;
    alice
        .expect(json!({"cmd": "push_unsubscribed", "success": true, "listener": "u"}))
        .await;
    alice.close().await;
}
