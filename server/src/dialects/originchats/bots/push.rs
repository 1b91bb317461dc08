//! Web Push (§2.11, §4.6): the VAPID key pair (generated on first start, kept in the
//! database), `push_get_vapid` / `push_subscribe` / `push_unsubscribe`, and pushes to the
//! subscriptions of offline users mentioned (`@user`, `@&role`) or replied to.
//!
//! A push is an RFC 8030 `POST` to the subscription's endpoint with an RFC 8291 `aes128gcm`
//! body (ECDH P-256 with the browser's `p256dh` key, HKDF-SHA256 with its `auth` secret,
//! AES-128-GCM) and an RFC 8292 `Authorization: vapid t=<ES256 JWT>, k=<public key>`.

use super::super::frames::{mentions, with_listener};
use super::super::http::store;
use super::super::messages::{fail, send};
use super::super::session::Cx;
use super::super::{OriginChats, render::CACHE};
use crate::core::ids::{UserId, now_ms};
use crate::core::messages::Message;
use crate::core::permissions::Permissions;
use crate::net::ws::Reply;
use aes_gcm::aead::{Aead, KeyInit};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chorus_protocol::originchats as proto;
use p256::ecdsa::signature::Signer;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use serde_json::json;
use sha2_010::Sha256;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Push lifetime at the push service (the reference's TTL).
const TTL_SECS: u64 = 86_400;
/// The record size written in the aes128gcm header (one record holds any push payload).
const RECORD_SIZE: u32 = 4096;
/// The body of a push is cut to this many characters.
const BODY_CHARS: usize = 120;
/// `PUSH_FINGERPRINT_SECRET`'s default in the reference.
const FINGERPRINT_SECRET: &str = "originchats-push-secret";

pub struct Vapid {
    key: p256::ecdsa::SigningKey,
    /// URL-safe base64 (no padding) of the uncompressed public point.
    pub public_b64: String,
    pub subject: String,
}

pub struct Push {
    vapid: OnceLock<Arc<Vapid>>,
    http: reqwest::Client,
    subject: String,
}

impl Push {
    pub fn new(cfg: &super::super::config::OriginChatsConfig) -> anyhow::Result<Self> {
        Ok(Self {
            vapid: OnceLock::new(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
            subject: cfg.push_subject.clone(),
        })
    }

    pub fn vapid(&self) -> Option<&Arc<Vapid>> {
        self.vapid.get()
    }

    /// Loads the key pair from the database, generating and storing one on first start.
    pub async fn load_keys(&self) {
        match load_or_create(&self.subject).await {
            Ok(v) => {
                let _ = self.vapid.set(Arc::new(v));
            }
            Err(e) => tracing::error!(error = %e, "originchats: no VAPID keys; pushes are off"),
        }
    }
}

async fn load_or_create(subject: &str) -> anyhow::Result<Vapid> {
    let s = store().ok_or_else(|| anyhow::anyhow!("no store"))?;
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT private_key_pem, claims_email FROM originchats_vapid WHERE id = 1")
            .fetch_optional(s.read_pool())
            .await?;
    let (pem, email) = match row {
        Some(r) => r,
        None => {
            let secret = p256::SecretKey::random(&mut rand_core::OsRng);
            let pem = secret.to_pkcs8_pem(LineEnding::LF)?.to_string();
            let public = B64.encode(secret.public_key().to_sec1_bytes());
            let subject = if subject.is_empty() {
                "mailto:".to_owned()
            } else {
                subject.to_owned()
            };
            let (p, e) = (pem.clone(), subject.clone());
            s.write(
                move |conn| {
                    let (p, e, public) = (p.clone(), e.clone(), public.clone());
                    Box::pin(async move {
                        sqlx::query(
                            "INSERT OR IGNORE INTO originchats_vapid
                               (id, private_key_pem, public_key_b64, claims_email, created_at)
                             VALUES (1, ?1, ?2, ?3, ?4)",
                        )
                        .bind(p)
                        .bind(public)
                        .bind(e)
                        .bind(now_ms())
                        .execute(&mut *conn)
                        .await
                        .map_err(crate::store::sqlite::backend)?;
                        Ok(())
                    })
                },
                None,
            )
            .await?;
            tracing::info!("originchats: generated a VAPID key pair");
            // Another process may have won the race: read what is stored.
            sqlx::query_as(
                "SELECT private_key_pem, claims_email FROM originchats_vapid WHERE id = 1",
            )
            .fetch_one(s.read_pool())
            .await
            .unwrap_or((pem, subject))
        }
    };
    let secret = p256::SecretKey::from_pkcs8_pem(&pem)?;
    Ok(Vapid {
        public_b64: B64.encode(secret.public_key().to_sec1_bytes()),
        key: p256::ecdsa::SigningKey::from(secret),
        // A configured subject wins over the stored one.
        subject: if subject.is_empty() {
            email
        } else {
            subject.to_owned()
        },
    })
}

impl Vapid {
    /// `vapid t=<JWT>, k=<key>` for a push to `endpoint` (RFC 8292).
    pub fn authorization(&self, endpoint: &str) -> anyhow::Result<String> {
        let url = reqwest::Url::parse(endpoint)?;
        let audience = url.origin().ascii_serialization();
        let exp = now_ms() / 1000 + 12 * 3600;
        let header = B64.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = B64.encode(
            json!({"aud": audience, "exp": exp, "sub": self.subject})
                .to_string()
                .as_bytes(),
        );
        let signing_input = format!("{header}.{claims}");
        let sig: p256::ecdsa::Signature = self.key.sign(signing_input.as_bytes());
        Ok(format!(
            "vapid t={signing_input}.{}, k={}",
            B64.encode(sig.to_bytes()),
            self.public_b64
        ))
    }
}

fn decode_b64(s: &str) -> anyhow::Result<Vec<u8>> {
    let t = s.trim().trim_end_matches('=');
    Ok(B64
        .decode(t)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(t))?)
}

/// The RFC 8291 `aes128gcm` body of `plaintext` for a subscription's keys.
pub fn encrypt(p256dh: &str, auth: &str, plaintext: &[u8]) -> anyhow::Result<Vec<u8>> {
    use hkdf::Hkdf;
    let ua_public_bytes = decode_b64(p256dh)?;
    let ua_public = p256::PublicKey::from_sec1_bytes(&ua_public_bytes)?;
    let auth_secret = decode_b64(auth)?;
    let ephemeral = p256::ecdh::EphemeralSecret::random(&mut rand_core::OsRng);
    let as_public = p256::EncodedPoint::from(ephemeral.public_key());
    let as_public = as_public.as_bytes();
    let shared = ephemeral.diffie_hellman(&ua_public);

    let mut key_info = b"WebPush: info\0".to_vec();
    key_info.extend_from_slice(&ua_public_bytes);
    key_info.extend_from_slice(as_public);
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(&auth_secret), shared.raw_secret_bytes())
        .expand(&key_info, &mut ikm)
        .map_err(|_| anyhow::anyhow!("hkdf"))?;

    let mut salt = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut salt);
    let prk = Hkdf::<Sha256>::new(Some(&salt), &ikm);
    let mut cek = [0u8; 16];
    let mut nonce = [0u8; 12];
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
        .map_err(|_| anyhow::anyhow!("hkdf"))?;
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
        .map_err(|_| anyhow::anyhow!("hkdf"))?;

    // One record: the payload, then the last-record delimiter 0x02 (no padding).
    let mut record = plaintext.to_vec();
    record.push(2);
    let cipher = aes_gcm::Aes128Gcm::new_from_slice(&cek).map_err(|_| anyhow::anyhow!("key"))?;
    let sealed = cipher
        .encrypt(aes_gcm::Nonce::from_slice(&nonce), record.as_slice())
        .map_err(|_| anyhow::anyhow!("encrypt"))?;

    let mut body = Vec::with_capacity(16 + 4 + 1 + as_public.len() + sealed.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(as_public.len() as u8);
    body.extend_from_slice(as_public);
    body.extend_from_slice(&sealed);
    Ok(body)
}

/// 16 hex characters naming a device (the reference hashes IP, user agent and country; the
/// connection's address is not kept here, so the endpoint stands for the device).
fn fingerprint(username: &str, endpoint: &str) -> String {
    use sha2::Digest;
    let secret =
        std::env::var("PUSH_FINGERPRINT_SECRET").unwrap_or_else(|_| FINGERPRINT_SECRET.into());
    let d = sha2::Sha256::digest(format!("{secret}:{username}:{endpoint}").as_bytes());
    hex::encode(&d[..8])
}

struct Subscription {
    endpoint: String,
    p256dh: String,
    auth: String,
}

impl OriginChats {
    pub async fn push_get_vapid(&self, cx: &mut Cx, r: proto::PushGetVapid) -> Reply {
        let l = r.listener.as_deref();
        match self.bots.push.vapid() {
            Some(v) => send(
                cx,
                with_listener(json!({"cmd": "push_vapid", "key": v.public_b64}), l),
            ),
            None => send(
                cx,
                fail(
                    "push_get_vapid",
                    "VAPID keys not configured on this server",
                    l,
                ),
            ),
        }
    }

    pub async fn push_subscribe(&self, cx: &mut Cx, r: proto::PushSubscribe) -> Reply {
        const SRC: &str = "push_subscribe";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return send(cx, fail(SRC, "Not authenticated", l));
        };
        let Some(sub) = r.subscription else {
            return send(cx, fail(SRC, "Missing subscription object", l));
        };
        let (p256dh, auth) = match sub.keys {
            Some(k) => (k.p256dh, k.auth),
            None => (None, None),
        };
        let (Some(endpoint), Some(p256dh), Some(auth)) = (
            sub.endpoint.filter(|s| !s.is_empty()),
            p256dh.filter(|s| !s.is_empty()),
            auth.filter(|s| !s.is_empty()),
        ) else {
            return send(
                cx,
                fail(
                    SRC,
                    "subscription must include endpoint, keys.p256dh and keys.auth",
                    l,
                ),
            );
        };
        let fp = fingerprint(&account.user.username, &endpoint);
        let Some(s) = store() else {
            return send(cx, fail(SRC, "Failed to save subscription", l));
        };
        let (user, fp2) = (account.user.id.clone(), fp.clone());
        let saved = s
            .write(
                move |conn| {
                    let (e, p, a, u, f) = (
                        endpoint.clone(),
                        p256dh.clone(),
                        auth.clone(),
                        user.clone(),
                        fp2.clone(),
                    );
                    Box::pin(async move {
                        sqlx::query(
                            "INSERT INTO originchats_push_subscriptions
                               (endpoint, user_id, p256dh, auth, device_fingerprint, last_used)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                             ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id,
                               p256dh = excluded.p256dh, auth = excluded.auth,
                               device_fingerprint = excluded.device_fingerprint,
                               last_used = excluded.last_used",
                        )
                        .bind(e)
                        .bind(u.as_str())
                        .bind(p)
                        .bind(a)
                        .bind(f)
                        .bind(now_ms())
                        .execute(&mut *conn)
                        .await
                        .map_err(crate::store::sqlite::backend)?;
                        Ok(())
                    })
                },
                None,
            )
            .await;
        match saved {
            Ok(()) => send(
                cx,
                with_listener(
                    json!({"cmd": "push_subscribed", "success": true, "device_fingerprint": fp}),
                    l,
                ),
            ),
            Err(e) => {
                tracing::error!(error = %e, "originchats: cannot save a push subscription");
                send(cx, fail(SRC, "Failed to save subscription", l))
            }
        }
    }

    pub async fn push_unsubscribe(&self, cx: &mut Cx, r: proto::PushUnsubscribe) -> Reply {
        const SRC: &str = "push_unsubscribe";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return send(cx, fail(SRC, "Not authenticated", l));
        };
        let Some(endpoint) = r.endpoint.filter(|e| !e.is_empty()) else {
            return send(cx, fail(SRC, "Missing endpoint", l));
        };
        match delete_subscription(&endpoint, Some(&account.user.id)).await {
            Ok(()) => send(
                cx,
                with_listener(json!({"cmd": "push_unsubscribed", "success": true}), l),
            ),
            Err(e) => {
                tracing::error!(error = %e, "originchats: cannot remove a push subscription");
                send(cx, fail(SRC, "Failed to remove subscription", l))
            }
        }
    }

    /// Pushes for a new message: mentioned users, holders of mentioned roles and the author of
    /// the replied-to message, when they have no live connection and may view the room.
    pub async fn push_for_message(self: &Arc<Self>, m: &Arc<Message>) {
        let Some(vapid) = self.bots.push.vapid().cloned() else {
            return;
        };
        let Some(place) = CACHE.place(&m.room_id) else {
            return;
        };
        let (users, roles) = mentions(&m.content);
        let sender = m.author.username.clone();
        let channel = place.channel.clone();
        let mut targets: Vec<(UserId, String)> = Vec::new();
        let add = |id: UserId, title: String, targets: &mut Vec<(UserId, String)>| {
            if id != m.author.id && !targets.iter().any(|(t, _)| *t == id) {
                targets.push((id, title));
            }
        };
        for name in &users {
            if let Ok(Some(u)) = self.core.store().user_by_username(name.clone()).await {
                add(u.id, format!("#{channel} — {sender}"), &mut targets);
            }
        }
        for role in &roles {
            for id in role_holders(&self.space.0, role).await {
                add(
                    id,
                    format!("#{channel} — {sender} mentioned @{role}"),
                    &mut targets,
                );
            }
        }
        if let Some(reply) = &m.reply_to
            && let Ok(Some(original)) = self.core.store().message(reply.clone()).await
        {
            add(
                original.author.id,
                format!("#{channel} — {sender} replied"),
                &mut targets,
            );
        }
        let body: String = m.content.chars().take(BODY_CHARS).collect();
        for (user, title) in targets {
            if self.core.presence.status(&user) != crate::core::users::Status::Offline {
                continue;
            }
            let visible = self
                .core
                .permissions(&user, &m.room_id)
                .await
                .is_ok_and(|(_, p)| p.contains(Permissions::VIEW_ROOM));
            if !visible {
                continue;
            }
            let subs = subscriptions(&user).await;
            if subs.is_empty() {
                continue;
            }
            let payload = json!({"title": title, "body": body, "channelName": channel}).to_string();
            let (http, vapid) = (self.bots.push.http.clone(), vapid.clone());
            tokio::spawn(async move {
                for sub in subs {
                    deliver(&http, &vapid, &sub, &payload).await;
                }
            });
        }
    }
}

async fn deliver(http: &reqwest::Client, vapid: &Vapid, sub: &Subscription, payload: &str) {
    let body = match encrypt(&sub.p256dh, &sub.auth, payload.as_bytes()) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "originchats push: bad subscription keys");
            return;
        }
    };
    let auth = match vapid.authorization(&sub.endpoint) {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "originchats push: bad endpoint");
            return;
        }
    };
    let res = http
        .post(&sub.endpoint)
        .header("TTL", TTL_SECS.to_string())
        .header("Content-Encoding", "aes128gcm")
        .header("Content-Type", "application/octet-stream")
        .header("Authorization", auth)
        .body(body)
        .send()
        .await;
    match res {
        Ok(r) if r.status().is_success() => {}
        Ok(r) if matches!(r.status().as_u16(), 404 | 410) => {
            // The browser dropped the subscription.
            if let Err(e) = delete_subscription(&sub.endpoint, None).await {
                tracing::warn!(error = %e, "originchats push: cannot remove an expired subscription");
            }
        }
        Ok(r) => tracing::warn!(status = %r.status(), "originchats push: refused"),
        Err(e) => tracing::warn!(error = %e, "originchats push: not delivered"),
    }
}

async fn subscriptions(user: &UserId) -> Vec<Subscription> {
    let Some(s) = store() else { return Vec::new() };
    sqlx::query_as::<_, (String, String, String)>(
        "SELECT endpoint, p256dh, auth FROM originchats_push_subscriptions WHERE user_id = ?1",
    )
    .bind(user.as_str())
    .fetch_all(s.read_pool())
    .await
    .unwrap_or_default()
    .into_iter()
    .map(|(endpoint, p256dh, auth)| Subscription {
        endpoint,
        p256dh,
        auth,
    })
    .collect()
}

/// Members of the space holding the role named `role` (case-insensitive).
async fn role_holders(space: &str, role: &str) -> Vec<UserId> {
    let Some(s) = store() else { return Vec::new() };
    sqlx::query_scalar::<_, String>(
        "SELECT mr.user_id FROM member_roles mr JOIN roles r ON r.id = mr.role_id
         WHERE mr.space_id = ?1 AND r.name = ?2 COLLATE NOCASE",
    )
    .bind(space)
    .bind(role)
    .fetch_all(s.read_pool())
    .await
    .unwrap_or_default()
    .into_iter()
    .map(UserId)
    .collect()
}

async fn delete_subscription(endpoint: &str, user: Option<&UserId>) -> anyhow::Result<()> {
    let s = store().ok_or_else(|| anyhow::anyhow!("no store"))?;
    let (e, u) = (endpoint.to_owned(), user.cloned());
    s.write(
        move |conn| {
            let (e, u) = (e.clone(), u.clone());
            Box::pin(async move {
                sqlx::query(
                    "DELETE FROM originchats_push_subscriptions
                     WHERE endpoint = ?1 AND (?2 IS NULL OR user_id = ?2)",
                )
                .bind(e)
                .bind(u.as_ref().map(|u| u.as_str().to_owned()))
                .execute(&mut *conn)
                .await
                .map_err(crate::store::sqlite::backend)?;
                Ok(())
            })
        },
        None,
    )
    .await?;
    Ok(())
}
