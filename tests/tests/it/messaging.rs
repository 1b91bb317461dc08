//! django-realtime-chat-messaging at `/messaging/?token=`, as `spec/messaging.yaml` describes it:
//! connection, authentication, sessions, notifications and the seed's getting-started
//! conversation. Rooms and messages: `messaging_rooms.rs`, `messaging_messages.rs`; clients and
//! validators: `messaging_support.rs`.

use crate::messaging_support::{M, SECRET, jwt, options, server, sign};
use crate::support::{Client, PATIENCE, Server};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// The seed's `onopen`: what `JSON.stringify` writes for its `room.create`.
const SEED_OPEN: &str =
    r#"{"event_type":"room.create","data":{"type":"OneToOneChat","participants":[2]}}"#;
/// The seed's heartbeat timer.
const SEED_HEARTBEAT: &str = r#"{"event_type":"session.heartbeat","data":{}}"#;

/// The seed's `onmessage`, line for line: the frame it sends in answer to `msg`, if any, and
/// whether it would `console.error` it.
fn seed_onmessage(msg: &Value) -> (Option<String>, bool) {
    let answer = match msg["eventType"].as_str() {
        Some("roomcreate.dispatch") => Some(format!(
            r#"{{"event_type":"message.send","data":{{"room_id":{},"content":"Hello!"}}}}"#,
            msg["data"]["id"]
        )),
        Some("message.dispatch") => Some(format!(
            r#"{{"event_type":"message.acknowledged","data":{{"message_id":[{}]}}}}"#,
            msg["data"]["id"]
        )),
        _ => None,
    };
    (answer, msg.get("error").is_some())
}

/// The seed's "Your First Conversation", unchanged: its client (alice, user 1) sends exactly the
/// seed's frames, each in answer to the frame the seed's handler reacts to; user 2 (bob) is the
/// peer it names.
#[tokio::test]
async fn getting_started_conversation_runs_unchanged() {
    let server = server();
    // User 2 exists once it has connected (ids nobody has used are dropped, see README).
    let mut bob = M::connect(&server, &jwt(2, "bob")).await;
    // `new WebSocket(`ws://localhost:8000/messaging/?token=${token}`)`, then `onopen`.
    let mut ws = M::connect_silent(&server, &jwt(1, "alice")).await;
    ws.send_text(SEED_OPEN).await;
    let mut sent = vec![SEED_OPEN.to_owned()];
    let mut received = Vec::new();
    // Until the delivery notice of the client's own acknowledgement.
    while received.len() < 4 {
        let msg = ws.recv().await;
        let (answer, console_error) = seed_onmessage(&msg);
        assert!(!console_error, "the seed's client logs an error: {msg}");
        if let Some(a) = answer {
            ws.send_text(&a).await;
            sent.push(a);
        }
        received.push(msg);
    }
    // The timer fires.
    ws.send_text(SEED_HEARTBEAT).await;
    assert_eq!(ws.recv().await, json!({"status": "success"}));

    let events: Vec<&str> = received
        .iter()
        .map(|m| m["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "chat.notifications",
            "roomcreate.dispatch",
            "message.dispatch",
            "messagedelivered.dispatch"
        ]
    );
    assert_eq!(received[0]["data"], json!({}));
    let room = &received[1]["data"];
    assert_eq!(room["type"], "OneToOneChat");
    let ids: Vec<&Value> = room["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["id"])
        .collect();
    assert_eq!(ids, [&json!(1), &json!(2)]);
    let msg = &received[2]["data"];
    assert_eq!(msg["content"], "Hello!");
    assert_eq!(msg["sender"]["username"], "alice");
    assert_eq!(msg["room"]["id"], room["id"]);
    assert_eq!(msg["delivered_to"], json!([]));
    let delivered = &received[3]["data"];
    assert_eq!(delivered[0]["id"], msg["id"]);
    assert_eq!(delivered[0]["delivered_to"], json!(["alice"]));
    assert_eq!(sent.len(), 3);
    assert!(sent[1].contains(&format!(r#""room_id":{}"#, room["id"])));
    assert!(sent[2].contains(&format!(r#""message_id":[{}]"#, msg["id"])));

    // The peer sees the room and the message, and acknowledging it tells alice's devices.
    assert_eq!(bob.expect("roomcreate.dispatch").await["id"], room["id"]);
    let seen = bob.expect("message.dispatch").await;
    assert_eq!(seen["id"], msg["id"]);
    bob.send("message.acknowledged", json!({"message_id": [seen["id"]]}))
        .await;
    let delivered = ws.expect("messagedelivered.dispatch").await;
    assert_eq!(delivered[0]["delivered_to"], json!(["alice", "bob"]));
    // The acknowledging user gets nothing back.
    bob.heartbeat().await;
    ws.heartbeat().await;
}

#[tokio::test]
async fn unauthenticated_connections_are_closed_with_4001() {
    let server = server();
    let forged = sign(
        &json!({"token_type": "access", "exp": 4_102_444_800u64, "user_id": 1}),
        "another secret",
    );
    let expired = sign(
        &json!({"token_type": "access", "exp": 1_000_000_000u64, "user_id": 1}),
        SECRET,
    );
    // simplejwt's refresh tokens do not open a session.
    let refresh = sign(
        &json!({"token_type": "refresh", "exp": 4_102_444_800u64, "user_id": 1}),
        SECRET,
    );
    let no_user = sign(
        &json!({"token_type": "access", "exp": 4_102_444_800u64}),
        SECRET,
    );
    for path in [
        "/messaging/".to_owned(),
        "/messaging/?token=".to_owned(),
        "/messaging/?token=nonsense".to_owned(),
        format!("/messaging/?token={forged}"),
        format!("/messaging/?token={expired}"),
        format!("/messaging/?token={refresh}"),
        format!("/messaging/?token={no_user}"),
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

/// `messaging.jwt_user_id_claim` names the claim holding the user id (simplejwt's
/// `USER_ID_CLAIM`); the default `user_id` then no longer counts.
#[tokio::test]
async fn the_user_id_claim_is_configurable() {
    let server = Server::start_with(options().env("CHORUS__MESSAGING__JWT_USER_ID_CLAIM", "uid"));
    let token = |claims: Value| sign(&claims, SECRET);
    let mut bob = M::connect(
        &server,
        &token(
            json!({"token_type": "access", "exp": 4_102_444_800u64, "uid": 2, "username": "bob"}),
        ),
    )
    .await;
    let mut alice = M::connect(
        &server,
        &token(json!({"token_type": "access", "exp": 4_102_444_800u64, "uid": "1", "username": "alice"})),
    )
    .await;
    let dm = alice
        .create(
            json!({"type": "OneToOneChat", "participants": [2]}),
            &mut [&mut bob],
        )
        .await;
    assert_eq!(
        names_and_ids(&dm["participants"]),
        [("alice".into(), 1), ("bob".into(), 2)]
    );
    let old = token(json!({"token_type": "access", "exp": 4_102_444_800u64, "user_id": 1}));
    let mut c = Client::connect(&server.url(&format!("/messaging/?token={old}")), &[]).await;
    match tokio::time::timeout(PATIENCE, c.ws.next())
        .await
        .expect("a close in time")
    {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 4001),
        other => panic!("expected close 4001, got {other:?}"),
    }
}

fn names_and_ids(users: &Value) -> Vec<(String, i64)> {
    users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["username"].as_str().unwrap().to_owned(),
                u["id"].as_i64().unwrap(),
            )
        })
        .collect()
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
    let room = dave
        .ask(
            "room.create",
            json!({"type": "GroupChat", "name": "Dave's", "participants": [1]}),
            "roomcreate.dispatch",
        )
        .await;
    assert_eq!(room["creator"]["username"], "dave");
    let dave_id = room["creator"]["id"].as_i64().unwrap();
    assert_eq!(alice.expect("roomcreate.dispatch").await["id"], room["id"]);
    let dm = alice
        .ask(
            "room.create",
            json!({"type": "OneToOneChat", "participants": [dave_id]}),
            "roomcreate.dispatch",
        )
        .await;
    assert_eq!(dave.expect("roomcreate.dispatch").await["id"], dm["id"]);
}

#[tokio::test]
async fn every_device_of_a_user_gets_room_and_private_dispatches() {
    let server = server();
    let mut alice = M::connect(&server, &jwt(1, "alice")).await;
    let mut bob1 = M::connect(&server, &jwt(2, "bob")).await;
    let mut bob2 = M::connect(&server, &jwt(2, "bob")).await;
    let room = alice
        .create(
            json!({"type": "OneToOneChat", "participants": [2]}),
            &mut [&mut bob1, &mut bob2],
        )
        .await;
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
    let room = alice
        .ask(
            "room.create",
            json!({"type": "OneToOneChat", "participants": [2]}),
            "roomcreate.dispatch",
        )
        .await;
    bob.close().await;
    let first = alice
        .ask(
            "message.send",
            json!({"room_id": room["id"], "content": "first"}),
            "message.dispatch",
        )
        .await;
    let reply = alice
        .ask(
            "message.send",
            json!({"room_id": room["id"], "content": "a reply",
            "extra_fields": {"parent_message_id": first["id"]}}),
            "message.dispatch",
        )
        .await;
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
    let room = alice
        .ask(
            "room.create",
            json!({"type": "GroupChat", "name": "g", "participants": [2]}),
            "roomcreate.dispatch",
        )
        .await;
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
    let dm = alice
        .create(
            json!({"type": "OneToOneChat", "participants": [2]}),
            &mut [&mut stale, &mut kept],
        )
        .await;
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
    assert_eq!(
        alice
            .fails("room.info", json!({"room_id": "not-a-uuid"}), 4003)
            .await,
        json!(["“not-a-uuid” is not a valid UUID."])
    );
    assert_eq!(
        alice
            .fails("room.info", json!({"room_id": {"a": 1}}), 4003)
            .await,
        json!(["Invalid room_id type"])
    );
    assert_eq!(
        alice
            .fails(
                "room.info",
                json!({"room_id": "6b1d1f6e-8a8e-4c39-9a55-0d4b2bbf7a10"}),
                4004
            )
            .await,
        json!("Resource not found.")
    );
    assert_eq!(
        alice.fails("room.info", json!({"room_id": 7}), 4004).await,
        json!("Resource not found.")
    );
    // The connection stays usable.
    alice.heartbeat().await;
    alice.send_text(r#"{"event_type": "room.list"}"#).await;
    assert_eq!(alice.expect("roomlist.dispatch").await, json!([]));
}

#[tokio::test]
async fn notifications_can_be_switched_off() {
    let server =
        Server::start_with(options().env("CHORUS__MESSAGING__ENABLE_NOTIFICATION", "false"));
    let mut alice = M::connect_silent(&server, &jwt(1, "alice")).await;
    // No chat.notifications frame: the heartbeat reply is the first frame.
    alice.heartbeat().await;
    let mut bob = M::connect_silent(&server, &jwt(2, "bob")).await;
    bob.heartbeat().await;
    let dm = alice
        .create(
            json!({"type": "OneToOneChat", "participants": [2]}),
            &mut [&mut bob],
        )
        .await;
    let m = alice
        .ask(
            "message.send",
            json!({"room_id": dm["id"], "content": "hi"}),
            "message.dispatch",
        )
        .await;
    bob.expect("message.dispatch").await;
    // Delivery is still tracked.
    bob.send("message.acknowledged", json!({"message_id": m["id"]}))
        .await;
    assert_eq!(
        alice.expect("messagedelivered.dispatch").await[0]["delivered_to"],
        json!(["bob"])
    );
    bob.close().await;
    let mut bob = M::connect_silent(&server, &jwt(2, "bob")).await;
    bob.heartbeat().await;
}

#[tokio::test]
async fn an_extra_listener_and_the_path_without_slash_serve_messaging() {
    let server = Server::start_with(options().env(
        "CHORUS__SERVER__EXTRA_LISTENERS",
        "[{listen = \"127.0.0.1:0\", protocol = \"messaging\"}]",
    ));
    let extra = server.extra["messaging"];
    let mut on_extra = M::connect_url(&format!("ws://{extra}/?token={}", jwt(1, "alice"))).await;
    assert_eq!(on_extra.recv().await["eventType"], "chat.notifications");
    let mut no_slash =
        M::connect_url(&server.url(&format!("/messaging?token={}", jwt(2, "bob")))).await;
    assert_eq!(no_slash.recv().await["eventType"], "chat.notifications");
    let dm = on_extra
        .ask(
            "room.create",
            json!({"type": "OneToOneChat", "participants": [2]}),
            "roomcreate.dispatch",
        )
        .await;
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
    let id = erin
        .ask(
            "room.create",
            json!({"type": "GroupChat", "name": "e"}),
            "roomcreate.dispatch",
        )
        .await["creator"]["id"]
        .clone();
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
