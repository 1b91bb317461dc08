//! OriginChats unreads (§2.12) and `embeds_list` (§2.1): `unreads_ack` (with its `unreads_update` to every connection of
//! the user, and to no one else), `unreads_count`, `unreads_get`, and the reference's errors.
//! Every frame received is validated against `spec/originchats.yaml`.

use crate::originchats::{Oc, cracked};
use serde_json::json;

/// Posts `text` to #general from `c` and returns the message id (reads the sender's frames).
async fn post(c: &mut Oc, text: &str) -> String {
    c.send(json!({"cmd": "message_new", "channel": "general", "content": text, "listener": "p"}))
        .await;
    loop {
        let f = c.recv().await;
        if f["listener"] == "p" {
            return f["message"]["id"].as_str().unwrap().to_owned();
        }
    }
}

#[tokio::test]
async fn unreads_ack_count_and_get_track_the_last_read_message() {
    let s = cracked();
    let mut a = Oc::register(&s, "alice").await;
    let mut b = Oc::register(&s, "bob").await;
    let _ = a.recv_n(2).await; // bob's user_join, user_connect
    let mut a2 = Oc::login(&s, "alice", "password").await;
    post(&mut a, "one").await;
    let m2 = post(&mut a, "two").await;
    let m3 = post(&mut a, "three").await;
    let _ = a2.recv_n(3).await;
    let _ = b.recv_n(3).await;

    a.send(json!({"cmd": "unreads_count", "channel": "general", "listener": "c"}))
        .await;
    a.expect(
        json!({"cmd": "unreads_count", "channel": "general", "unread_count": 3,
        "last_read": null, "total_messages": 3, "listener": "c"}),
    )
    .await;

    // Acknowledging the second message: every connection of alice hears it, bob does not.
    a.send(json!({"cmd": "unreads_ack", "channel": "general", "message_id": m2, "listener": "k"}))
        .await;
    let update = json!({"cmd": "unreads_update", "last_read": m2, "channel": "general"});
    a.expect(update.clone()).await;
    a.expect(json!({"cmd": "unreads_ack", "channel": "general", "last_read": m2, "listener": "k"}))
        .await;
    a2.expect(update).await;
    b.expect_quiet().await;

    a.send(json!({"cmd": "unreads_count", "channel": "general"}))
        .await;
    a.expect(
        json!({"cmd": "unreads_count", "channel": "general", "unread_count": 1,
        "last_read": m2, "total_messages": 3}),
    )
    .await;

    // Without message_id the newest message is acknowledged.
    a.send(json!({"cmd": "unreads_ack", "channel": "general"}))
        .await;
    a.expect(json!({"cmd": "unreads_update", "last_read": m3, "channel": "general"}))
        .await;
    a.expect(json!({"cmd": "unreads_ack", "channel": "general", "last_read": m3}))
        .await;
    a2.expect(json!({"cmd": "unreads_update", "last_read": m3, "channel": "general"}))
        .await;

    a.send(json!({"cmd": "unreads_get", "listener": "g"})).await;
    let got = a.recv().await;
    assert_eq!(got["cmd"], "unreads_get");
    assert_eq!(got["listener"], "g");
    assert_eq!(
        got["unreads"]["general"],
        json!({"last_read": m3, "unread_count": 0, "total_messages": 3})
    );
    // Bob never acknowledged anything.
    b.send(json!({"cmd": "unreads_get"})).await;
    let got = b.recv().await;
    assert_eq!(
        got["unreads"]["general"],
        json!({"last_read": null, "unread_count": 3, "total_messages": 3})
    );
    a2.expect_quiet().await;
}

#[tokio::test]
async fn unreads_errors_use_the_reference_wording() {
    let s = cracked();
    let mut a = Oc::register(&s, "alice").await;
    for cmd in ["unreads_ack", "unreads_count"] {
        a.expect_error(json!({"cmd": cmd}), "Channel or thread_id is required")
            .await;
        a.expect_error(json!({"cmd": cmd, "thread_id": "nope"}), "Thread not found")
            .await;
        a.expect_error(
            json!({"cmd": cmd, "channel": "nowhere"}),
            "Channel not found",
        )
        .await;
    }
}

#[tokio::test]
async fn embeds_list_answers_a_message_embeds_and_the_reference_errors() {
    let s = cracked();
    let mut a = Oc::register(&s, "alice").await;
    let id = post(&mut a, "plain").await;
    a.send(json!({"cmd": "embeds_list", "channel": "general", "id": id, "listener": "e"}))
        .await;
    a.expect(json!({"cmd": "embeds_list", "id": id, "embeds": [], "listener": "e"}))
        .await;
    a.expect_error(
        json!({"cmd": "embeds_list", "channel": "general"}),
        "Message ID is required",
    )
    .await;
    a.expect_error(
        json!({"cmd": "embeds_list", "id": id}),
        "Channel or thread_id is required",
    )
    .await;
    a.expect_error(
        json!({"cmd": "embeds_list", "id": id, "channel": "nowhere"}),
        "Channel or thread not found",
    )
    .await;
    a.expect_error(
        json!({"cmd": "embeds_list", "id": "missing", "channel": "general"}),
        "Message not found",
    )
    .await;
    a.expect_quiet().await;
}

#[tokio::test]
async fn pings_get_lists_mentions_and_replies_newest_first() {
    let s = cracked();
    let mut a = Oc::register(&s, "alice").await;
    let mut b = Oc::register(&s, "bob").await;
    let _ = a.recv_n(2).await;
    let first = post(&mut a, "hi @bob").await;
    post(&mut a, "hi @bobby").await;
    let _ = b.recv_n(2).await;
    // Bob's own message, which alice replies to.
    let own = post(&mut b, "question").await;
    let _ = a.recv().await;
    a.send(
        json!({"cmd": "message_new", "channel": "general", "content": "answer",
        "reply_to": own, "listener": "p"}),
    )
    .await;
    let _ = a.recv_n(2).await;
    let reply = b.recv().await["message"]["id"].as_str().unwrap().to_owned();

    b.send(json!({"cmd": "pings_get", "listener": "g"})).await;
    let got = b.recv().await;
    assert_eq!(got["cmd"], "pings_get");
    assert_eq!(got["listener"], "g");
    assert_eq!(got["total"], 2, "{got}");
    assert_eq!(got["offset"], 0);
    assert_eq!(got["limit"], 50);
    let ids: Vec<&str> = got["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [reply.as_str(), first.as_str()]);
    assert_eq!(got["messages"][0]["channel"], "general");

    b.send(json!({"cmd": "pings_get", "limit": 1, "offset": 1}))
        .await;
    let got = b.recv().await;
    assert_eq!(got["messages"][0]["id"], first);
    assert_eq!(got["total"], 2);

    b.expect_error(
        json!({"cmd": "pings_get", "limit": 0}),
        "Limit must be a number between 1 and 100",
    )
    .await;
    b.expect_error(
        json!({"cmd": "pings_get", "offset": -1}),
        "Offset must be a non-negative number",
    )
    .await;
    b.expect_quiet().await;
}
