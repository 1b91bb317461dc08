//! django-realtime-chat-messaging at `/messaging/?token=`, as `spec/messaging.yaml` describes it:
//! connection, authentication, sessions, notifications and the seed's getting-started
//! conversation. Rooms and messages: `messaging_rooms.rs`, `messaging_messages.rs`.

use crate::support::{Client, Options, PATIENCE, Server};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

pub const SECRET: &str = "messaging-test-secret";

pub fn options() -> Options {
    Options::default().env("CHORUS__MESSAGING__JWT_SECRET", SECRET)
}

pub fn server() -> Server {
    Server::start_with(options())
}

/// An access token as simplejwt issues it.
pub fn jwt(user_id: i64, username: &str) -> String {
    let claims = json!({"token_type": "access", "exp": 4_102_444_800u64, "iat": 1_700_000_000u64,
        "jti": format!("jti{user_id}"), "user_id": user_id, "username": username});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

fn validators() -> &'static HashMap<&'static str, jsonschema::Validator> {
    static V: OnceLock<HashMap<&'static str, jsonschema::Validator>> = OnceLock::new();
    V.get_or_init(|| {
        let doc: Value =
            serde_json::from_str(chorus_protocol::messaging::SPEC_JSON).expect("spec JSON");
        let mut out = HashMap::new();
        for (tag, pointer) in chorus_protocol::messaging::SERVER_MESSAGES {
            let key: &'static str = if tag.is_empty() {
                match pointer.rsplit('/').nth(1).unwrap() {
                    "SessionHeartbeatReply" => "#heartbeat",
                    "InvalidEventType" => "#invalid",
                    _ => "#error",
                }
            } else {
                tag
            };
            let v =
                chorus_protocol::oracle::validator(&doc, pointer).unwrap_or_else(|e| panic!("{e}"));
            out.insert(key, v);
        }
        out
    })
}

/// Panics unless `text` is a server frame of `spec/messaging.yaml`.
pub fn assert_valid(text: &str) -> Value {
    let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    let key = match v.get("eventType").and_then(Value::as_str) {
        Some(t) => t,
        None if v.get("status").is_some() => "#heartbeat",
        None if v.get("error").is_some_and(Value::is_string) => "#invalid",
        None => "#error",
    };
    let validator = validators()
        .get(key)
        .unwrap_or_else(|| panic!("unknown server frame {key}: {text}"));
    let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "frame violates the spec: {errors:?}\n{text}"
    );
    chorus_protocol::messaging::ServerFrame::decode(text)
        .unwrap_or_else(|e| panic!("generated decoder rejects {text}: {}", e.message()));
    v
}

/// One messaging connection.
pub struct M {
    pub ws: crate::support::Ws,
    /// `chat.notifications` data received on connect.
    pub notifications: Value,
}

impl M {
    pub async fn connect(server: &Server, token: &str) -> M {
        let c = Client::connect(&server.url(&format!("/messaging/?token={token}")), &[]).await;
        let mut m = M {
            ws: c.ws,
            notifications: Value::Null,
        };
        let first = m.recv().await;
        assert_eq!(
            first["eventType"], "chat.notifications",
            "first frame: {first}"
        );
        assert!(
            first.get("type").is_none(),
            "chat.notifications has no type: {first}"
        );
        m.notifications = first["data"].clone();
        m
    }

    pub async fn recv(&mut self) -> Value {
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

    pub async fn send(&mut self, event_type: &str, data: Value) {
        let frame = json!({"event_type": event_type, "data": data});
        self.send_text(&frame.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws
            .send(Message::Text(text.into()))
            .await
            .expect("sending");
    }

    /// The next frame, which must be the group dispatch `event`; returns its data.
    pub async fn expect(&mut self, event: &str) -> Value {
        let f = self.recv().await;
        assert_eq!(f["eventType"], event, "expected {event}, got {f}");
        assert_eq!(f["type"], "broadcast_group", "group frames carry type: {f}");
        f["data"].clone()
    }

    /// The next frame, which must be the error envelope with `code`; returns its detail.
    pub async fn expect_error(&mut self, code: i64) -> Value {
        let f = self.recv().await;
        assert_eq!(f["error"]["code"], code, "expected error {code}, got {f}");
        f["error"]["detail"].clone()
    }

    /// Sends a heartbeat and expects its reply next: proves nothing else was queued before it.
    pub async fn heartbeat(&mut self) {
        self.send("session.heartbeat", json!({})).await;
        let f = self.recv().await;
        assert_eq!(
            f,
            json!({"status": "success"}),
            "expected the heartbeat reply"
        );
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// Users 1 (alice), 2 (bob), 3 (carol) by JWT.
pub async fn trio(server: &Server) -> (M, M, M) {
    (
        M::connect(server, &jwt(1, "alice")).await,
        M::connect(server, &jwt(2, "bob")).await,
        M::connect(server, &jwt(3, "carol")).await,
    )
}

/// The seed's "Your First Conversation", unchanged: create a OneToOneChat with user 2, say
/// "Hello!" when the room arrives, acknowledge what arrives, heartbeat.
#[tokio::test]
async fn getting_started_conversation_runs_unchanged() {
    let server = server();
    let mut alice = M::connect(&server, &jwt(1, "alice")).await;
    let mut bob = M::connect(&server, &jwt(2, "bob")).await;
    assert_eq!(alice.notifications, json!({}));
    alice
        .send(
            "room.create",
            json!({ "type": "OneToOneChat", "participants": [2] }),
        )
        .await;
    let room = alice.expect("roomcreate.dispatch").await;
    assert_eq!(room["type"], "OneToOneChat");
    let names: Vec<&str> = room["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"alice") && names.contains(&"bob"));
    assert!(
        room["participants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["id"] == 2)
    );
    assert_eq!(bob.expect("roomcreate.dispatch").await["id"], room["id"]);

    alice
        .send(
            "message.send",
            json!({ "room_id": room["id"], "content": "Hello!" }),
        )
        .await;
    let msg = alice.expect("message.dispatch").await;
    assert_eq!(msg["content"], "Hello!");
    assert_eq!(msg["sender"]["username"], "alice");
    assert_eq!(msg["delivered_to"], json!([]));
    assert_eq!(msg["room"]["id"], room["id"]);
    let seen = bob.expect("message.dispatch").await;
    assert_eq!(seen["id"], msg["id"]);
    // Bob's client acknowledges what it received; alice's devices learn it was delivered.
    bob.send(
        "message.acknowledged",
        json!({ "message_id": [seen["id"]] }),
    )
    .await;
    let delivered = alice.expect("messagedelivered.dispatch").await;
    assert_eq!(delivered[0]["id"], msg["id"]);
    assert_eq!(delivered[0]["delivered_to"], json!(["bob"]));
    // Alice acknowledges her own message too (the seed's client does): nothing comes back to
    // her but the delivery notice to her own devices.
    alice
        .send("message.acknowledged", json!({ "message_id": [msg["id"]] }))
        .await;
    let delivered = alice.expect("messagedelivered.dispatch").await;
    assert_eq!(delivered[0]["delivered_to"], json!(["bob", "alice"]));
    alice.heartbeat().await;
    bob.heartbeat().await;
}

#[tokio::test]
async fn unauthenticated_connections_are_closed_with_4001() {
    let server = server();
    let forged = {
        let claims = json!({"token_type": "access", "exp": 4_102_444_800u64, "user_id": 1});
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(b"another secret"),
        )
        .unwrap()
    };
    let expired = {
        let claims = json!({"token_type": "access", "exp": 1_000_000_000u64, "user_id": 1});
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    };
    for path in [
        "/messaging/".to_owned(),
        "/messaging/?token=".to_owned(),
        "/messaging/?token=nonsense".to_owned(),
        format!("/messaging/?token={forged}"),
        format!("/messaging/?token={expired}"),
    ] {
        // Accepted, then closed at once with 4001 (the original's documented close code).
        let mut c = Client::connect(&server.url(&path), &[]).await;
        let close = tokio::time::timeout(PATIENCE, c.ws.next())
            .await
            .expect("a close in time");
        match close {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(u16::from(frame.code), 4001, "{path}")
            }
            other => panic!("{path}: expected close 4001, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn chorus_session_tokens_work_too() {
    let server = server();
    assert!(
        server
            .cli(&["user", "add", "dave", "--password", "pw"])
            .status
            .success()
    );
    let out = server.cli(&["token", "issue", "dave"]);
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let mut dave = M::connect(&server, &token).await;
    assert_eq!(dave.notifications, json!({}));
    let mut alice = M::connect(&server, &jwt(1, "alice")).await;
    // Dave learns his protocol id from a room he creates, and alice can use it.
    dave.send(
        "room.create",
        json!({"type": "GroupChat", "name": "Dave's", "participants": [1]}),
    )
    .await;
    let room = dave.expect("roomcreate.dispatch").await;
    assert_eq!(room["creator"]["username"], "dave");
    let dave_id = room["creator"]["id"].as_i64().unwrap();
    assert_eq!(alice.expect("roomcreate.dispatch").await["id"], room["id"]);
    alice
        .send(
            "room.create",
            json!({"type": "OneToOneChat", "participants": [dave_id]}),
        )
        .await;
    let dm = alice.expect("roomcreate.dispatch").await;
    assert_eq!(dave.expect("roomcreate.dispatch").await["id"], dm["id"]);
}

#[tokio::test]
async fn every_device_of_a_user_gets_room_and_private_dispatches() {
    let server = server();
    let mut alice = M::connect(&server, &jwt(1, "alice")).await;
    let mut bob1 = M::connect(&server, &jwt(2, "bob")).await;
    let mut bob2 = M::connect(&server, &jwt(2, "bob")).await;
    alice
        .send(
            "room.create",
            json!({"type": "OneToOneChat", "participants": [2]}),
        )
        .await;
    let room = alice.expect("roomcreate.dispatch").await;
    bob1.expect("roomcreate.dispatch").await;
    bob2.expect("roomcreate.dispatch").await;
    alice
        .send(
            "message.send",
            json!({"room_id": room["id"], "content": "hi"}),
        )
        .await;
    alice.expect("message.dispatch").await;
    assert_eq!(bob1.expect("message.dispatch").await["content"], "hi");
    assert_eq!(bob2.expect("message.dispatch").await["content"], "hi");
    // A private dispatch (room.list) reaches every device of the requester, and only them.
    bob1.send("room.list", json!({})).await;
    for b in [&mut bob1, &mut bob2] {
        let list = b.expect("roomlist.dispatch").await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(list[0]["peer"]["username"], "alice");
        assert_eq!(list[0]["last_message"]["content"], "hi");
    }
    alice.heartbeat().await;
    // A device that connects later is in the room already.
    let mut bob3 = M::connect(&server, &jwt(2, "bob")).await;
    alice
        .send("message.typing", json!({"room_id": room["id"]}))
        .await;
    for m in [&mut alice, &mut bob1, &mut bob2, &mut bob3] {
        assert_eq!(
            m.expect("messagetyping.dispatch").await,
            json!({"username": "alice"})
        );
    }
}

#[tokio::test]
async fn notifications_survive_reconnects_until_acknowledged() {
    let server = server();
    let mut alice = M::connect(&server, &jwt(1, "alice")).await;
    let bob = M::connect(&server, &jwt(2, "bob")).await;
    alice
        .send(
            "room.create",
            json!({"type": "OneToOneChat", "participants": [2]}),
        )
        .await;
    let room = alice.expect("roomcreate.dispatch").await;
    bob.close().await;
    alice
        .send(
            "message.send",
            json!({"room_id": room["id"], "content": "first"}),
        )
        .await;
    let first = alice.expect("message.dispatch").await;
    alice
        .send(
            "message.send",
            json!({"room_id": room["id"], "content": "a reply",
            "extra_fields": {"parent_message_id": first["id"]}}),
        )
        .await;
    let reply = alice.expect("message.dispatch").await;
    assert_eq!(reply["parent_message"]["content"], "first");
    let room_id = room["id"].as_str().unwrap();
    for _ in 0..2 {
        let bob = M::connect(&server, &jwt(2, "bob")).await;
        let pending = bob.notifications[room_id].as_array().unwrap().clone();
        assert_eq!(pending.len(), 2, "{}", bob.notifications);
        assert_eq!(pending[0]["notification_type"], "NEW_MESSAGE");
        assert_eq!(pending[0]["message"]["content"], "first");
        assert_eq!(pending[1]["notification_type"], "REPLY");
        bob.close().await;
    }
    // The sender has nothing pending.
    assert_eq!(
        M::connect(&server, &jwt(1, "alice")).await.notifications,
        json!({})
    );
    let mut bob = M::connect(&server, &jwt(2, "bob")).await;
    bob.send("message.acknowledged", json!({"message_id": first["id"]}))
        .await;
    bob.heartbeat().await;
    let bob = M::connect(&server, &jwt(2, "bob")).await;
    assert_eq!(bob.notifications[room_id].as_array().unwrap().len(), 1);
    let mut bob2 = bob;
    bob2.send("message.acknowledged", json!({"message_id": [reply["id"]]}))
        .await;
    bob2.heartbeat().await;
    assert_eq!(
        M::connect(&server, &jwt(2, "bob")).await.notifications,
        json!({})
    );
    // Both acknowledgements reached the sender's devices.
    assert_eq!(
        alice.expect("messagedelivered.dispatch").await[0]["id"],
        first["id"]
    );
    assert_eq!(
        alice.expect("messagedelivered.dispatch").await[0]["id"],
        reply["id"]
    );
}

#[tokio::test]
async fn notifications_survive_a_restart() {
    let server = server();
    let mut alice = M::connect(&server, &jwt(1, "alice")).await;
    // Users exist once they connected (unknown ids are dropped silently, as in the original).
    M::connect(&server, &jwt(2, "bob")).await.close().await;
    alice
        .send(
            "room.create",
            json!({"type": "GroupChat", "name": "g", "participants": [2]}),
        )
        .await;
    let room = alice.expect("roomcreate.dispatch").await;
    alice
        .send(
            "message.send",
            json!({"room_id": room["id"], "content": "<b>kept</b>"}),
        )
        .await;
    alice.expect("message.dispatch").await;
    alice.close().await;
    let server = server.restart();
    let bob = M::connect(&server, &jwt(2, "bob")).await;
    let pending = &bob.notifications[room["id"].as_str().unwrap()];
    assert_eq!(pending[0]["message"]["content"], "<b>kept</b>");
    assert_eq!(pending[0]["message"]["sender"]["id"], 1);
}

#[tokio::test]
async fn expired_sessions_stop_receiving_after_the_next_connect() {
    let server = Server::start_with(options().env("CHORUS__MESSAGING__INACTIVITY_THRESHOLD", "1"));
    let mut alice = M::connect(&server, &jwt(1, "alice")).await;
    let mut stale = M::connect(&server, &jwt(2, "bob")).await;
    let mut kept = M::connect(&server, &jwt(2, "bob")).await;
    alice
        .send(
            "room.create",
            json!({"type": "OneToOneChat", "participants": [2]}),
        )
        .await;
    let dm = alice.expect("roomcreate.dispatch").await;
    stale.expect("roomcreate.dispatch").await;
    kept.expect("roomcreate.dispatch").await;
    // Past the threshold: `kept` heartbeats, `stale` does not.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    kept.heartbeat().await;
    alice.heartbeat().await;
    // A new connect of bob drops the expired one from every group.
    let mut fresh = M::connect(&server, &jwt(2, "bob")).await;
    alice
        .send(
            "message.send",
            json!({"room_id": dm["id"], "content": "still there?"}),
        )
        .await;
    alice.expect("message.dispatch").await;
    assert_eq!(
        kept.expect("message.dispatch").await["content"],
        "still there?"
    );
    assert_eq!(
        fresh.expect("message.dispatch").await["content"],
        "still there?"
    );
    // The stale connection got nothing: its heartbeat reply is the next frame. The heartbeat
    // makes it active again, so rooms created from now on reach it; the old ones do not (as in
    // the original).
    stale.heartbeat().await;
    alice
        .send(
            "room.create",
            json!({"type": "GroupChat", "name": "later", "participants": [2]}),
        )
        .await;
    alice.expect("roomcreate.dispatch").await;
    kept.expect("roomcreate.dispatch").await;
    fresh.expect("roomcreate.dispatch").await;
    stale.expect("roomcreate.dispatch").await;
    alice
        .send(
            "message.send",
            json!({"room_id": dm["id"], "content": "again"}),
        )
        .await;
    alice.expect("message.dispatch").await;
    kept.expect("message.dispatch").await;
    stale.heartbeat().await;
}

#[tokio::test]
async fn malformed_frames_get_the_original_answers() {
    let server = server();
    let mut alice = M::connect(&server, &jwt(1, "alice")).await;
    alice.send("no.such.event", json!({})).await;
    assert_eq!(alice.recv().await, json!({"error": "invalid event type"}));
    alice.send_text(r#"{"data": {}}"#).await;
    assert_eq!(alice.recv().await, json!({"error": "invalid event type"}));
    alice.send_text("not json").await;
    assert_eq!(alice.expect_error(4003).await, json!(["Invalid JSON."]));
    alice
        .send_text(r#"{"event_type": "message.send", "data": {"room_id": "x"}}"#)
        .await;
    assert_eq!(
        alice.expect_error(4003).await,
        json!({"content": ["This field is required."]})
    );
    alice
        .send("room.info", json!({"room_id": "not-a-uuid"}))
        .await;
    assert_eq!(
        alice.expect_error(4003).await,
        json!(["“not-a-uuid” is not a valid UUID."])
    );
    alice.send("room.info", json!({"room_id": {"a": 1}})).await;
    assert_eq!(
        alice.expect_error(4003).await,
        json!(["Invalid room_id type"])
    );
    alice
        .send(
            "room.info",
            json!({"room_id": "6b1d1f6e-8a8e-4c39-9a55-0d4b2bbf7a10"}),
        )
        .await;
    assert_eq!(alice.expect_error(4004).await, json!("Resource not found."));
    alice.send("room.info", json!({"room_id": 7})).await;
    assert_eq!(alice.expect_error(4004).await, json!("Resource not found."));
    // The connection stays usable.
    alice.heartbeat().await;
    alice.send_text(r#"{"event_type": "room.list"}"#).await;
    assert_eq!(alice.expect("roomlist.dispatch").await, json!([]));
}

#[tokio::test]
async fn notifications_can_be_switched_off() {
    let server =
        Server::start_with(options().env("CHORUS__MESSAGING__ENABLE_NOTIFICATION", "false"));
    let url = |t: &str| server.url(&format!("/messaging/?token={t}"));
    let connect = |t: String| {
        let u = url(&t);
        async move {
            M {
                ws: Client::connect(&u, &[]).await.ws,
                notifications: Value::Null,
            }
        }
    };
    let mut alice = connect(jwt(1, "alice")).await;
    // No chat.notifications frame: the heartbeat reply is the first frame.
    alice.heartbeat().await;
    let mut bob = connect(jwt(2, "bob")).await;
    bob.heartbeat().await;
    alice
        .send(
            "room.create",
            json!({"type": "OneToOneChat", "participants": [2]}),
        )
        .await;
    let dm = alice.expect("roomcreate.dispatch").await;
    bob.expect("roomcreate.dispatch").await;
    alice
        .send(
            "message.send",
            json!({"room_id": dm["id"], "content": "hi"}),
        )
        .await;
    let m = alice.expect("message.dispatch").await;
    bob.expect("message.dispatch").await;
    // Delivery is still tracked.
    bob.send("message.acknowledged", json!({"message_id": m["id"]}))
        .await;
    assert_eq!(
        alice.expect("messagedelivered.dispatch").await[0]["delivered_to"],
        json!(["bob"])
    );
    bob.close().await;
    let mut bob = connect(jwt(2, "bob")).await;
    bob.heartbeat().await;
}

#[tokio::test]
async fn an_extra_listener_and_the_path_without_slash_serve_messaging() {
    let server = Server::start_with(options().env(
        "CHORUS__SERVER__EXTRA_LISTENERS",
        "[{listen = \"127.0.0.1:0\", protocol = \"messaging\"}]",
    ));
    let extra = server.extra["messaging"];
    let mut on_extra = M {
        ws: Client::connect(&format!("ws://{extra}/?token={}", jwt(1, "alice")), &[])
            .await
            .ws,
        notifications: Value::Null,
    };
    assert_eq!(on_extra.recv().await["eventType"], "chat.notifications");
    let mut no_slash = M {
        ws: Client::connect(
            &server.url(&format!("/messaging?token={}", jwt(2, "bob"))),
            &[],
        )
        .await
        .ws,
        notifications: Value::Null,
    };
    assert_eq!(no_slash.recv().await["eventType"], "chat.notifications");
    on_extra
        .send(
            "room.create",
            json!({"type": "OneToOneChat", "participants": [2]}),
        )
        .await;
    let dm = on_extra.expect("roomcreate.dispatch").await;
    assert_eq!(no_slash.expect("roomcreate.dispatch").await["id"], dm["id"]);
}

#[tokio::test]
async fn protocol_ids_of_chorus_accounts_survive_a_restart() {
    let server = server();
    assert!(
        server
            .cli(&["user", "add", "erin", "--password", "pw"])
            .status
            .success()
    );
    let token = String::from_utf8(server.cli(&["token", "issue", "erin"]).stdout).unwrap();
    let token = token.trim().to_owned();
    let mut erin = M::connect(&server, &token).await;
    erin.send("room.create", json!({"type": "GroupChat", "name": "e"}))
        .await;
    let id = erin.expect("roomcreate.dispatch").await["creator"]["id"].clone();
    assert!(
        id.as_i64().unwrap() >= 1 << 31,
        "Chorus accounts are numbered from 2^31: {id}"
    );
    erin.close().await;
    let server = server.restart();
    let mut erin = M::connect(&server, &token).await;
    erin.send("room.list", json!({})).await;
    assert_eq!(
        erin.expect("roomlist.dispatch").await[0]["creator"]["id"],
        id
    );
}
