//! OriginChats chat commands: message_new, typing, the rate limiter, and messages crossing
//! dialects. Every frame received is validated against `spec/originchats.yaml`.

use crate::originchats::{Oc, cracked, server};
use serde_json::{Value, json};

/// The message of a `message_new` broadcast, checked for the live-message shape.
fn live_message(f: &Value, channel: &str) -> Value {
    assert_eq!(f["cmd"], "message_new", "{f}");
    assert_eq!(f["channel"], channel);
    assert_eq!(f["thread_id"], Value::Null);
    assert_eq!(f["global"], true);
    let m = f["message"].clone();
    assert_eq!(m["type"], "message");
    assert_eq!(m["pinned"], false);
    assert_eq!(m["interaction"], Value::Null);
    assert!(m["timestamp"].is_number());
    assert!(m["pings"].is_object());
    m
}

#[tokio::test]
async fn message_new_reaches_every_viewer_with_pings() {
    let s = cracked();
    let mut a = Oc::register(&s, "alice").await;
    let mut b = Oc::register(&s, "bob").await;
    let _ = a.recv_n(2).await; // bob's user_join, user_connect
    a.send(json!({"cmd": "message_new", "channel": "general",
        "content": "  hello @bob and @&admin  "}))
        .await;
    let mine = live_message(&a.recv().await, "general");
    let theirs = live_message(&b.recv().await, "general");
    assert_eq!(mine, theirs);
    assert_eq!(mine["user"], "alice");
    assert_eq!(mine["content"], "hello @bob and @&admin");
    assert_eq!(
        mine["pings"],
        json!({"users": ["bob"], "roles": ["admin"], "replies": []})
    );
    // A reply names the replied author, and pings them.
    let id = mine["id"].as_str().unwrap().to_owned();
    b.send(
        json!({"cmd": "message_new", "channel": "general", "content": "yes",
        "reply_to": id, "listener": "r1"}),
    )
    .await;
    let f = a.recv().await;
    let reply = live_message(&f, "general");
    assert_eq!(reply["reply_to"], json!({"id": id, "user": "alice"}));
    assert_eq!(reply["pings"]["replies"], json!(["alice"]));
    // The sender gets the broadcast, then its own copy with the listener.
    let broadcast = b.recv().await;
    assert_eq!(broadcast, f);
    let own = b.recv().await;
    assert_eq!(own["listener"], "r1");
    assert_eq!(own["message"], f["message"]);
    a.expect_quiet().await;
}

#[tokio::test]
async fn message_new_errors_use_the_reference_wording() {
    let s = server(&[("auth_mode", "cracked-only"), ("post_content", "10")]);
    let mut a = Oc::register(&s, "alice").await;
    let cases = [
        (
            json!({"cmd": "message_new", "content": "x"}),
            "Missing fields: channel or thread_id",
        ),
        (
            json!({"cmd": "message_new", "channel": "general"}),
            "Missing fields: content or attachments",
        ),
        (
            json!({"cmd": "message_new"}),
            "Missing fields: channel or thread_id, content or attachments",
        ),
        (
            json!({"cmd": "message_new", "channel": "general", "content": "   "}),
            "Message content or attachments cannot be empty",
        ),
        (
            json!({"cmd": "message_new", "channel": "general", "content": "01234567890"}),
            "Message too long. Maximum length is 10 characters",
        ),
        (
            json!({"cmd": "message_new", "channel": "nowhere", "content": "hi"}),
            "Channel not found",
        ),
        (
            json!({"cmd": "message_new", "channel": "general", "content": "hi",
                "reply_to": "00000000-0000-7000-8000-00000000ffff"}),
            "The message you're trying to reply to was not found",
        ),
    ];
    for (req, val) in cases {
        a.expect_error(req, val).await;
    }
    // A listener is echoed on errors.
    a.send(json!({"cmd": "message_new", "channel": "nowhere", "content": "hi", "listener": "x"}))
        .await;
    a.expect(
        json!({"cmd": "error", "src": "message_new", "val": "Channel not found",
        "listener": "x"}),
    )
    .await;
}

#[tokio::test]
async fn typing_is_echoed_and_broadcast() {
    let s = cracked();
    let mut a = Oc::register(&s, "alice").await;
    let mut b = Oc::register(&s, "bob").await;
    let _ = a.recv_n(2).await;
    a.send(json!({"cmd": "typing", "channel": "general", "listener": "t"}))
        .await;
    let frame = json!({"cmd": "typing", "channel": "general", "user": "alice",
        "thread_id": null, "global": true});
    let mut with_listener = frame.clone();
    with_listener["listener"] = json!("t");
    a.expect(with_listener).await;
    b.expect(frame).await;
    a.expect_error(
        json!({"cmd": "typing"}),
        "Channel name or thread_id not provided",
    )
    .await;
    a.expect_error(
        json!({"cmd": "typing", "channel": "nowhere"}),
        "Channel not found",
    )
    .await;
}

#[tokio::test]
async fn bursts_are_rate_limited_across_connections() {
    let s = server(&[("auth_mode", "cracked-only"), ("burst_limit", "3")]);
    let mut a = Oc::register(&s, "alice").await;
    let mut a2 = Oc::login(&s, "alice", "password").await;
    for i in 0..2 {
        a.send(json!({"cmd": "message_new", "channel": "general", "content": format!("m{i}")}))
            .await;
        assert_eq!(a.recv().await["cmd"], "message_new");
        assert_eq!(a2.recv().await["cmd"], "message_new");
    }
    // Typing counts against the same bucket, from any connection of the user.
    a2.send(json!({"cmd": "typing", "channel": "general"}))
        .await;
    assert_eq!(a2.recv().await["cmd"], "typing");
    assert_eq!(a.recv().await["cmd"], "typing");
    a.send(json!({"cmd": "message_new", "channel": "general", "content": "one too many"}))
        .await;
    a.expect(json!({"cmd": "rate_limit",
        "reason": "Burst limit exceeded. You're in cooldown for 30 seconds", "length": 30000}))
        .await;
    a2.send(json!({"cmd": "typing", "channel": "general"}))
        .await;
    let f = a2.recv().await;
    assert_eq!(f["cmd"], "rate_limit");
    assert!(
        f["reason"]
            .as_str()
            .unwrap()
            .starts_with("You are in cooldown for ")
    );
    a2.expect_quiet().await;
}

#[tokio::test]
async fn messages_cross_dialects_both_ways() {
    let s = cracked();
    let mut a = Oc::register(&s, "alice").await;
    let mut r = s.client().await; // reaction chat (/ws), the same `general` room
    r.say("from the reaction chat").await;
    let f = a.recv().await;
    let m = live_message(&f, "general");
    assert_eq!(m["content"], "from the reaction chat");
    assert_eq!(m["user"], "127.0.0.1");
    let echo = r.recv().await;
    assert_eq!(echo["type"], "message");
    a.send(json!({"cmd": "message_new", "channel": "general", "content": "from originchats"}))
        .await;
    assert_eq!(a.recv().await["cmd"], "message_new");
    let got = r.recv().await;
    assert_eq!(got["type"], "message");
    assert_eq!(got["data"]["text"], "from originchats");
    assert_eq!(got["data"]["author_id"], "alice");
}
