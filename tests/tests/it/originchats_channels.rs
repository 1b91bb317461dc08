//! OriginChats channels and message commands, seen by three clients: an owner, a moderator, and
//! a plain user who cannot view the `staff` channel and must receive nothing from it.

use crate::originchats::{Oc, cracked};
use crate::support::Server;
use serde_json::{Value, json};

/// Creates `name` with `role` through the CLI, logs in and reads the first connection's
/// user_connect.
async fn staff_member(s: &Server, name: &str, role: &str) -> Oc {
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

/// Owner `boss`, moderator `mod`, user `bob`, each having seen the others connect; `staff`
/// created by boss (view/send/react/pin for owner and moderator), channel pushes consumed.
async fn three() -> (Server, Oc, Oc, Oc) {
    let s = cracked();
    let mut boss = staff_member(&s, "boss", "owner").await;
    let mut moder = staff_member(&s, "mod", "moderator").await;
    let mut bob = Oc::register(&s, "bob").await;
    assert_eq!(boss.recv().await["cmd"], "user_connect"); // mod
    for c in [&mut boss, &mut moder] {
        assert_eq!(c.recv().await["cmd"], "user_join"); // bob
        assert_eq!(c.recv().await["cmd"], "user_connect");
    }
    let staff = json!({"view": ["owner", "moderator"], "send": ["owner", "moderator"],
        "react": ["owner", "moderator"], "pin": ["owner", "moderator"],
        "edit_own": ["moderator"], "delete_own": ["moderator"], "delete": ["owner"]});
    boss.send(
        json!({"cmd": "channel_create", "name": "staff", "type": "text",
        "description": "Staff only", "permissions": staff, "listener": "mk"}),
    )
    .await;
    boss.expect(
        json!({"cmd": "channel_create", "channel": {"name": "staff", "type": "text",
        "description": "Staff only", "permissions": staff}, "created": true, "listener": "mk"}),
    )
    .await;
    // Every client gets its own filtered channel list.
    for (c, expected) in [
        (&mut boss, vec!["general", "staff"]),
        (&mut moder, vec!["general", "staff"]),
        (&mut bob, vec!["general"]),
    ] {
        let f = c.recv().await;
        assert_eq!(f["cmd"], "channels_get");
        assert_eq!(names(&f["val"]), expected);
    }
    (s, boss, moder, bob)
}

fn names(channels: &Value) -> Vec<&str> {
    channels
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn staff_channel_traffic_reaches_only_its_viewers() {
    let (_s, mut boss, mut moder, mut bob) = three().await;
    // message_new
    moder
        .send(json!({"cmd": "message_new", "channel": "staff", "content": "secret"}))
        .await;
    let f = boss.recv().await;
    assert_eq!(f["cmd"], "message_new");
    assert_eq!(f["channel"], "staff");
    assert_eq!(moder.recv().await, f);
    let id = f["message"]["id"].as_str().unwrap().to_owned();

    // message_edit
    moder
        .send(json!({"cmd": "message_edit", "id": id, "channel": "staff", "content": "edited"}))
        .await;
    let f = boss.recv().await;
    assert_eq!(f["cmd"], "message_edit");
    assert_eq!(f["content"], "edited");
    assert_eq!(f["message"]["edited"], true);
    assert_eq!(f["global"], true);
    assert_eq!(moder.recv().await, f);

    // reactions
    boss.send(json!({"cmd": "message_react_add", "id": id, "channel": "staff", "emoji": "👍"}))
        .await;
    let add = json!({"cmd": "message_react_add", "id": id, "emoji": "👍", "channel": "staff",
        "from": "boss", "global": true});
    boss.expect(add.clone()).await;
    moder.expect(add).await;
    boss.send(json!({"cmd": "message_react_remove", "id": id, "channel": "staff", "emoji": "👍"}))
        .await;
    let rm = json!({"cmd": "message_react_remove", "id": id, "emoji": "👍", "channel": "staff",
        "from": "boss", "global": true});
    boss.expect(rm.clone()).await;
    moder.expect(rm).await;

    // pins
    moder
        .send(json!({"cmd": "message_pin", "id": id, "channel": "staff"}))
        .await;
    let pin = json!({"cmd": "message_pin", "id": id, "channel": "staff", "pinned": true,
        "global": true});
    boss.expect(pin.clone()).await;
    moder.expect(pin).await;
    moder
        .send(json!({"cmd": "message_unpin", "id": id, "channel": "staff"}))
        .await;
    let unpin = json!({"cmd": "message_unpin", "id": id, "channel": "staff", "pinned": false,
        "global": true});
    boss.expect(unpin.clone()).await;
    moder.expect(unpin).await;

    // history and single message
    moder
        .send(json!({"cmd": "messages_get", "channel": "staff", "listener": "h"}))
        .await;
    // Reading acks the newest message, without the listener.
    let ack = moder.recv().await;
    assert_eq!(
        ack,
        json!({"cmd": "unreads_update", "last_read": id, "channel": "staff"})
    );
    let h = moder.recv().await;
    assert_eq!(h["cmd"], "messages_get");
    assert_eq!(h["listener"], "h");
    assert_eq!(h["range"], json!({"start": 0, "end": 100}));
    assert_eq!(h["messages"].as_array().unwrap().len(), 1);
    assert_eq!(h["messages"][0]["content"], "edited");
    moder
        .send(json!({"cmd": "message_get", "id": id, "channel": "staff"}))
        .await;
    let g = moder.recv().await;
    assert_eq!(g["cmd"], "message_get");
    assert_eq!(g["message"]["id"], id.as_str());

    // bob sees none of it, and may not read or write there.
    bob.expect_quiet().await;
    bob.send(json!({"cmd": "messages_get", "channel": "staff"}))
        .await;
    bob.expect(json!({"cmd": "error", "val": "Access denied to this channel"}))
        .await;
    bob.expect_error(
        json!({"cmd": "message_new", "channel": "staff", "content": "hi"}),
        "You do not have permission to send messages in this channel",
    )
    .await;

    // message_delete (own, moderator has delete_own here)
    moder
        .send(json!({"cmd": "message_delete", "id": id, "channel": "staff"}))
        .await;
    let del = json!({"cmd": "message_delete", "id": id, "channel": "staff", "global": true});
    boss.expect(del.clone()).await;
    moder.expect(del).await;
    bob.expect_quiet().await;

    // channel_delete: a reply, then a new list for everyone.
    boss.send(json!({"cmd": "channel_delete", "name": "STAFF"}))
        .await;
    boss.expect(json!({"cmd": "channel_delete", "name": "staff", "deleted": true}))
        .await;
    for c in [&mut boss, &mut moder, &mut bob] {
        let f = c.recv().await;
        assert_eq!(f["cmd"], "channels_get");
        assert_eq!(names(&f["val"]), vec!["general"]);
    }
}

#[tokio::test]
async fn channel_management_errors() {
    let (_s, mut boss, _moder, mut bob) = three().await;
    let denied = "Access denied: 'manage_channels' permission required";
    bob.expect_error(
        json!({"cmd": "channel_create", "name": "x", "type": "text"}),
        denied,
    )
    .await;
    bob.expect_error(json!({"cmd": "channel_delete", "name": "general"}), denied)
        .await;
    boss.expect_error(
        json!({"cmd": "channel_create", "type": "text"}),
        "Channel name is required",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "channel_create", "name": "x"}),
        "Channel type is required (text, voice, or separator)",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "channel_create", "name": "staff", "type": "text"}),
        "Channel already exists",
    )
    .await;
    boss.expect_error(json!({"cmd": "channel_delete"}), "Channel name is required")
        .await;
    boss.expect_error(
        json!({"cmd": "channel_delete", "name": "nowhere"}),
        "Channel not found",
    )
    .await;
}

#[tokio::test]
async fn message_command_errors_and_paging() {
    let s = cracked();
    let mut alice = Oc::register(&s, "alice").await;
    let mut bob = Oc::register(&s, "bob").await;
    let _ = alice.recv_n(2).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        alice
            .send(json!({"cmd": "message_new", "channel": "general", "content": format!("m{i}")}))
            .await;
        let f = alice.recv().await;
        ids.push(f["message"]["id"].as_str().unwrap().to_owned());
        assert_eq!(bob.recv().await["cmd"], "message_new");
    }
    // Paging from the newest end, oldest first.
    let contents = |f: &Value| -> Vec<String> {
        f["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["content"].as_str().unwrap().to_owned())
            .collect()
    };
    bob.send(json!({"cmd": "messages_get", "channel": "general", "start": 0, "limit": 2}))
        .await;
    let f = bob.recv_history().await;
    assert_eq!(contents(&f), ["m3", "m4"]);
    assert_eq!(f["range"], json!({"start": 0, "end": 2}));
    bob.send(json!({"cmd": "messages_get", "channel": "general", "start": 2, "limit": 2}))
        .await;
    assert_eq!(contents(&bob.recv_history().await), ["m1", "m2"]);
    bob.send(json!({"cmd": "messages_get", "channel": "general", "start": ids[2], "limit": 5}))
        .await;
    let f = bob.recv_history().await;
    assert_eq!(contents(&f), ["m0", "m1"]);
    assert_eq!(f["range"], json!({"start": ids[2], "end": null}));
    bob.expect_error(
        json!({"cmd": "messages_get", "channel": "nowhere"}),
        "Channel not found",
    )
    .await;

    // message_get
    bob.expect_error(
        json!({"cmd": "message_get", "channel": "general"}),
        "Channel/thread and message ID are required",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "message_get", "channel": "general", "id": "nope"}),
        "Message not found",
    )
    .await;

    // message_edit
    bob.expect_error(
        json!({"cmd": "message_edit"}),
        "Invalid message edit format",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "message_edit", "id": ids[0], "channel": "general", "content": "x"}),
        "You do not have permission to edit this message",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "message_edit", "id": "nope", "channel": "general", "content": "x"}),
        "Message not found or cannot be edited",
    )
    .await;

    // message_delete
    bob.expect_error(
        json!({"cmd": "message_delete", "id": ids[0]}),
        "Invalid message delete format",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "message_delete", "id": ids[0], "channel": "general"}),
        "You do not have permission to delete this message",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "message_delete", "id": "nope", "channel": "general"}),
        "Message not found or cannot be deleted",
    )
    .await;

    // reactions
    bob.expect_error(
        json!({"cmd": "message_react_add", "channel": "general", "id": ids[0]}),
        "Message ID and emoji are required",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "message_react_add", "channel": "general", "id": ids[0],
            "emoji": "x".repeat(201)}),
        "Invalid emoji",
    )
    .await;
    bob.send(
        json!({"cmd": "message_react_add", "channel": "general", "id": ids[0], "emoji": "🎉"}),
    )
    .await;
    assert_eq!(bob.recv().await["cmd"], "message_react_add");
    assert_eq!(alice.recv().await["cmd"], "message_react_add");
    bob.expect_error(
        json!({"cmd": "message_react_add", "channel": "general", "id": ids[0], "emoji": "🎉"}),
        "Failed to add reaction",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "message_react_remove", "channel": "general", "id": ids[0], "emoji": "🙂"}),
        "Failed to remove reaction",
    )
    .await;
    // The reaction shows in history as usernames.
    bob.send(json!({"cmd": "message_get", "channel": "general", "id": ids[0]}))
        .await;
    assert_eq!(
        bob.recv().await["message"]["reactions"],
        json!({"🎉": ["bob"]})
    );

    // pins
    bob.send(json!({"cmd": "message_pin", "id": ids[0]})).await;
    bob.expect(json!({"cmd": "error", "val": "Channel name not provided"}))
        .await;
    bob.expect_error(
        json!({"cmd": "message_pin", "channel": "general", "id": ids[0]}),
        "You do not have permission to pin messages in this channel",
    )
    .await;

    // An author deleting their own message in general.
    alice
        .send(json!({"cmd": "message_delete", "id": ids[4], "channel": "general"}))
        .await;
    let del = json!({"cmd": "message_delete", "id": ids[4], "channel": "general", "global": true});
    alice.expect(del.clone()).await;
    bob.expect(del).await;
}
