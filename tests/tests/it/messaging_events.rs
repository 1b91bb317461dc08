//! Messaging events the other files do not pin down: who receives each private dispatch and who
//! must not, delivery notices per sender, the notification lifecycle with several recipients,
//! the default caps, the remaining `room.modify` checks and the §9 allow-lists.

use crate::messaging_support::{M, all_get, all_quiet, jwt, names, options, server, trio};
use crate::support::Server;
use serde_json::{Value, json};

const UNKNOWN: &str = "6b1d1f6e-8a8e-4c39-9a55-0d4b2bbf7a10";

/// A group of alice, bob and carol, created by alice.
async fn group(alice: &mut M, others: &mut [&mut M]) -> Value {
    alice
        .create(
            json!({"type": "GroupChat", "name": "Team", "participants": [2, 3]}),
            others,
        )
        .await["id"]
        .clone()
}

#[tokio::test]
async fn acknowledgements_notify_each_original_sender_and_nobody_else() {
    let server = server();
    let (mut alice, mut bob, mut carol) = trio(&server).await;
    let mut carol2 = M::connect(&server, &jwt(3, "carol")).await;
    let mut dave = M::connect(&server, &jwt(4, "dave")).await;
    let g = group(&mut alice, &mut [&mut bob, &mut carol, &mut carol2]).await;
    let a1 = alice
        .say(&g, "from alice", &mut [&mut bob, &mut carol, &mut carol2])
        .await;
    let b1 = bob
        .say(&g, "from bob", &mut [&mut alice, &mut carol, &mut carol2])
        .await;
    let a2 = alice
        .say(&g, "alice again", &mut [&mut bob, &mut carol, &mut carol2])
        .await;
    // One list, two senders, a duplicate: one frame per sender, to that sender's devices.
    carol
        .send(
            "message.acknowledged",
            json!({"message_id": [a1["id"], b1["id"], a2["id"], a1["id"]]}),
        )
        .await;
    let to_alice = alice.expect("messagedelivered.dispatch").await;
    let ids: Vec<&Value> = to_alice
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["id"])
        .collect();
    assert_eq!(ids, [&a1["id"], &a2["id"]]);
    assert_eq!(to_alice[0]["delivered_to"], json!(["carol"]));
    let to_bob = bob.expect("messagedelivered.dispatch").await;
    assert_eq!(to_bob.as_array().unwrap().len(), 1);
    assert_eq!(to_bob[0]["id"], b1["id"]);
    // The acknowledging user's devices get nothing.
    all_quiet(&mut [&mut carol, &mut carol2, &mut alice, &mut bob]).await;
    // Acknowledging again changes nothing but is announced again.
    carol
        .send("message.acknowledged", json!({"message_id": b1["id"]}))
        .await;
    assert_eq!(
        bob.expect("messagedelivered.dispatch").await[0]["delivered_to"],
        json!(["carol"])
    );
    // An empty list is allowed and sends nothing.
    carol
        .send("message.acknowledged", json!({"message_id": []}))
        .await;
    all_quiet(&mut [&mut carol, &mut alice, &mut bob]).await;
    // Errors: unknown message, not a member, wrong type.
    assert_eq!(
        carol
            .fails(
                "message.acknowledged",
                json!({"message_id": [UNKNOWN]}),
                4004
            )
            .await,
        json!("Resource not found.")
    );
    assert_eq!(
        dave.fails(
            "message.acknowledged",
            json!({"message_id": a1["id"]}),
            4002
        )
        .await,
        json!("User is not authorized to access this message")
    );
    assert_eq!(
        dave.fails("message.acknowledged", json!({"message_id": true}), 4003)
            .await,
        json!(["Invalid message_id type"])
    );
    all_quiet(&mut [&mut alice, &mut bob]).await;
}

#[tokio::test]
async fn private_dispatches_reach_every_device_of_the_requester_only() {
    let server = server();
    let (mut alice, mut bob, mut carol) = trio(&server).await;
    let mut bob2 = M::connect(&server, &jwt(2, "bob")).await;
    let g = group(&mut alice, &mut [&mut bob, &mut carol, &mut bob2]).await;
    alice
        .say(&g, "hello", &mut [&mut bob, &mut carol, &mut bob2])
        .await;
    for (event, data, reply) in [
        ("room.list", json!({}), "roomlist.dispatch"),
        ("room.info", json!({"room_id": g}), "roominfo.dispatch"),
        (
            "room.messages",
            json!({"room_id": g}),
            "roommessages.dispatch",
        ),
    ] {
        bob.send(event, data).await;
        let got = all_get(&mut [&mut bob, &mut bob2], reply).await;
        assert_eq!(got[0], got[1], "{event}");
        all_quiet(&mut [&mut alice, &mut carol]).await;
    }
    // The leaver's devices get roomexit, the others roomremovemembers; neither gets the other.
    bob.send("room.leave", json!({"room_id": g})).await;
    for exit in all_get(&mut [&mut bob, &mut bob2], "roomexit.dispatch").await {
        assert_eq!(exit["message"], "You left Team");
    }
    for removed in all_get(&mut [&mut alice, &mut carol], "roomremovemembers.dispatch").await {
        assert_eq!(removed["removed_members"], json!(["bob"]));
    }
    all_quiet(&mut [&mut alice, &mut bob, &mut bob2, &mut carol]).await;
    // Bob's devices are out of the room.
    alice.say(&g, "without bob", &mut [&mut carol]).await;
    all_quiet(&mut [&mut bob, &mut bob2]).await;
    assert_eq!(
        bob.fails("room.leave", json!({"room_id": g}), 4002).await,
        json!("User is not authorized access this room")
    );
}

#[tokio::test]
async fn notifications_stay_until_every_recipient_acknowledged() {
    let server = server();
    let (mut alice, mut bob, mut carol) = trio(&server).await;
    let g = group(&mut alice, &mut [&mut bob, &mut carol]).await;
    let m = alice.say(&g, "news", &mut [&mut bob, &mut carol]).await;
    let key = g.as_str().unwrap();
    let pending = |m: &M| -> Vec<Value> {
        m.notifications
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    // Reading is not acknowledging.
    carol
        .send("message.read", json!({"message_id": m["id"]}))
        .await;
    all_get(
        &mut [&mut alice, &mut bob, &mut carol],
        "readreceipt.dispatch",
    )
    .await;
    bob.send("message.acknowledged", json!({"message_id": m["id"]}))
        .await;
    alice.expect("messagedelivered.dispatch").await;
    bob.heartbeat().await;
    let bob_again = M::connect(&server, &jwt(2, "bob")).await;
    assert_eq!(bob_again.notifications, json!({}));
    let carol_again = M::connect(&server, &jwt(3, "carol")).await;
    let left = pending(&carol_again);
    assert_eq!(left.len(), 1, "{}", carol_again.notifications);
    assert_eq!(left[0]["message"]["id"], m["id"]);
    assert_eq!(left[0]["notification_type"], "NEW_MESSAGE");
    assert_eq!(
        left[0]["message"]["read_receipts"][0]["reader"]["username"],
        "carol"
    );
    assert_eq!(left[0]["message"]["delivered_to"], json!(["bob"]));
    carol
        .send("message.acknowledged", json!({"message_id": [m["id"]]}))
        .await;
    alice.expect("messagedelivered.dispatch").await;
    carol.heartbeat().await;
    for id in [2, 3] {
        assert_eq!(
            M::connect(&server, &jwt(id, "x")).await.notifications,
            json!({})
        );
    }
    // The sender never has a notification of their own message.
    assert_eq!(
        M::connect(&server, &jwt(1, "alice")).await.notifications,
        json!({})
    );
}

#[tokio::test]
async fn a_soft_delete_removes_the_message_notifications_too() {
    let server =
        Server::start_with(options().env("CHORUS__MESSAGING__MESSAGE_SOFT_DELETE", "true"));
    let (mut alice, mut bob, mut carol) = trio(&server).await;
    let g = group(&mut alice, &mut [&mut bob, &mut carol]).await;
    let kept = alice.say(&g, "kept", &mut [&mut bob, &mut carol]).await;
    let gone = alice.say(&g, "gone", &mut [&mut bob, &mut carol]).await;
    alice
        .send(
            "message.modify",
            json!({"action": "delete", "message_id": gone["id"]}),
        )
        .await;
    all_get(
        &mut [&mut alice, &mut bob, &mut carol],
        "messagemodification.dispatch",
    )
    .await;
    let bob = M::connect(&server, &jwt(2, "bob")).await;
    let pending = bob.notifications[g.as_str().unwrap()].as_array().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["message"]["id"], kept["id"]);
}

/// Default caps: 100 GroupChat participants and 300 Channel subscribers, the creator included.
#[tokio::test]
async fn default_caps_are_100_participants_and_300_subscribers() {
    let server = Server::start_with(options().env("CHORUS__STORAGE__DURABILITY", "normal"));
    let mut alice = M::connect(&server, &jwt(1, "alice")).await;
    // Users exist once they have connected.
    for id in 2..=301 {
        M::connect(&server, &jwt(id, &format!("u{id}")))
            .await
            .close()
            .await;
    }
    let ids = |to: i64| (2..=to).collect::<Vec<i64>>();
    assert_eq!(
        alice
            .fails(
                "room.create",
                json!({"type": "GroupChat", "name": "big", "participants": ids(101)}),
                4003
            )
            .await,
        json!(["['Maximum number of group participants exceeded']"])
    );
    let g = alice
        .ask(
            "room.create",
            json!({"type": "GroupChat", "name": "big", "participants": ids(100)}),
            "roomcreate.dispatch",
        )
        .await;
    assert_eq!(g["max_participants"], 100);
    assert_eq!(g["participants"].as_array().unwrap().len(), 100);
    assert_eq!(
        alice
            .fails(
                "room.add_members",
                json!({"room_id": g["id"], "members": [101]}),
                4003
            )
            .await,
        json!(["Maximum number of group participants exceeded"])
    );
    assert_eq!(
        alice
            .fails(
                "room.create",
                json!({"type": "Channel", "name": "wide", "subscribers": ids(301)}),
                4003
            )
            .await,
        json!(["['Maximum number of channel subscribers exceeded']"])
    );
    let c = alice
        .ask(
            "room.create",
            json!({"type": "Channel", "name": "wide", "subscribers": ids(300),
                "extra_fields": {"is_public": true}}),
            "roomcreate.dispatch",
        )
        .await;
    assert_eq!(c["max_subscribers"], 300);
    assert_eq!(c["subscribers"].as_array().unwrap().len(), 300);
    let mut last = M::connect(&server, &jwt(301, "u301")).await;
    assert_eq!(
        last.fails("room.join", json!({"room_id": c["id"]}), 4003)
            .await,
        json!(["Maximum number of channel subscribers exceeded"])
    );
}

#[tokio::test]
async fn room_modify_checks_its_arguments_and_revokes_rights() {
    let server = server();
    let (mut alice, mut bob, mut carol) = trio(&server).await;
    let c = alice
        .create(
            json!({"type": "Channel", "name": "News", "subscribers": [2, 3]}),
            &mut [&mut bob, &mut carol],
        )
        .await["id"]
        .clone();
    let cases = [
        (json!({"room_id": c}), json!(["Action must be provided"])),
        (
            json!({"room_id": c, "action": "add_moderator"}),
            json!(["data must be provided"]),
        ),
        (
            json!({"room_id": c, "action": "add_moderator", "data": {"users": []}}),
            json!(["User ids must be provided"]),
        ),
        (
            json!({"room_id": c, "action": "add_moderator", "data": {"users": "2"}}),
            json!(["User ids must be a list/array"]),
        ),
        (
            json!({"room_id": c, "action": "add_permission", "data": {"users": [2]}}),
            json!(["Permission to add or remove should be passed"]),
        ),
        (
            json!({"room_id": c, "action": "add_permission",
                "data": {"users": [2], "permission": []}}),
            json!(["Permission to add or remove should be passed"]),
        ),
        (
            json!({"room_id": c, "action": "add_permission",
                "data": {"users": [2], "permission": "can_send_messages"}}),
            json!(["Permission must be a list"]),
        ),
        (
            json!({"room_id": c, "action": "update",
                "data": {"property": {"preferences": 3}}}),
            json!(["preferences must be a python dictionary/javascript object"]),
        ),
    ];
    for (data, detail) in cases {
        assert_eq!(
            alice.fails("room.modify", data.clone(), 4003).await,
            detail,
            "{data}"
        );
    }
    assert_eq!(
        alice
            .fails(
                "room.create",
                json!({"type": "GroupChat", "name": "g",
                    "extra_fields": {"property": {"preferences": []}}}),
                4003
            )
            .await,
        json!(["preferences must be a python dictionary/javascript object"])
    );
    // Permissions and moderators are granted, then revoked.
    let grant = json!({"room_id": c, "action": "add_permission",
        "data": {"users": [2], "permission": ["can_send_messages"]}});
    alice.send("room.modify", grant).await;
    all_get(
        &mut [&mut alice, &mut bob, &mut carol],
        "roomupdate.dispatch",
    )
    .await;
    bob.say(&c, "I may", &mut [&mut alice, &mut carol]).await;
    alice
        .send(
            "room.modify",
            json!({"room_id": c, "action": "remove_permission",
                "data": {"users": [2], "permission": ["can_send_messages"]}}),
        )
        .await;
    all_get(
        &mut [&mut alice, &mut bob, &mut carol],
        "roomupdate.dispatch",
    )
    .await;
    assert_eq!(
        bob.fails(
            "message.send",
            json!({"room_id": c, "content": "still?"}),
            4002
        )
        .await,
        json!("User is not authorized to send message to this room")
    );
    alice
        .send(
            "room.modify",
            json!({"room_id": c, "action": "add_moderator", "data": {"users": [3, 3, 999]}}),
        )
        .await;
    for room in all_get(
        &mut [&mut alice, &mut bob, &mut carol],
        "roomupdate.dispatch",
    )
    .await
    {
        assert_eq!(names(&room["moderators"]), ["alice", "carol"]);
    }
    // A moderator may add and remove subscribers, but not delete the channel.
    carol
        .send("room.remove_members", json!({"room_id": c, "members": [2]}))
        .await;
    bob.expect("roomexit.dispatch").await;
    all_get(&mut [&mut alice, &mut carol], "roomremovemembers.dispatch").await;
    assert_eq!(
        carol
            .fails(
                "room.modify",
                json!({"room_id": c, "action": "delete"}),
                4002
            )
            .await,
        json!("User is not the creator of this room")
    );
    alice
        .send(
            "room.modify",
            json!({"room_id": c, "action": "remove_moderator", "data": {"users": [3]}}),
        )
        .await;
    for room in all_get(&mut [&mut alice, &mut carol], "roomupdate.dispatch").await {
        assert_eq!(names(&room["moderators"]), ["alice"]);
    }
    assert_eq!(
        carol
            .fails(
                "room.add_members",
                json!({"room_id": c, "members": [2]}),
                4002
            )
            .await,
        json!("User is not authorized to add new members to this room")
    );
    assert_eq!(
        carol
            .fails(
                "room.modify",
                json!({"room_id": c, "action": "update", "data": {"name": "mine"}}),
                4002
            )
            .await,
        json!("User is not an admin of this room")
    );
    all_quiet(&mut [&mut alice, &mut bob, &mut carol]).await;
}

#[tokio::test]
async fn joining_a_public_channel_twice_is_announced_twice_and_adds_once() {
    let server = server();
    let (mut alice, mut bob, _carol) = trio(&server).await;
    let c = alice
        .create(
            json!({"type": "Channel", "name": "Open", "extra_fields": {"is_public": true}}),
            &mut [],
        )
        .await["id"]
        .clone();
    for _ in 0..2 {
        bob.send("room.join", json!({"room_id": c})).await;
        for added in all_get(&mut [&mut alice, &mut bob], "roomaddmembers.dispatch").await {
            assert_eq!(added["new_members"], json!(["bob"]));
            assert_eq!(added["added_by"], "self");
            assert_eq!(names(&added["room"]["subscribers"]), ["alice", "bob"]);
        }
    }
    assert_eq!(
        bob.fails("room.join", json!({"room_id": UNKNOWN}), 4004)
            .await,
        json!("Resource not found.")
    );
}

/// §9: the original lets `extra_fields` set any model field; Chorus honours only its allow-list.
#[tokio::test]
async fn extra_fields_cannot_rewrite_ids_senders_or_flags() {
    let server = server();
    let (mut alice, mut bob, _carol) = trio(&server).await;
    let dm = alice
        .create(
            json!({"type": "OneToOneChat", "participants": [2]}),
            &mut [&mut bob],
        )
        .await["id"]
        .clone();
    let m = alice.say(&dm, "original", &mut [&mut bob]).await;
    alice
        .send(
            "message.modify",
            json!({"action": "update", "message_id": m["id"], "extra_fields": {
                "content": "edited", "id": UNKNOWN, "is_deleted": true, "sender_id": 2,
                "room_id": UNKNOWN, "is_forwarded": true, "parent_message_id": m["id"]}}),
        )
        .await;
    for d in all_get(&mut [&mut alice, &mut bob], "messagemodification.dispatch").await {
        let e = &d["message"];
        assert_eq!(e["id"], m["id"]);
        assert_eq!(e["content"], "edited");
        assert_eq!(e["sender"]["username"], "alice");
        assert_eq!(e["room"]["id"], dm);
        assert_eq!(
            (
                e["is_deleted"].clone(),
                e["is_forwarded"].clone(),
                e["parent_message"].clone()
            ),
            (json!(false), json!(false), Value::Null)
        );
        assert_eq!(e["is_edited"], true);
    }
    let room = alice
        .ask(
            "room.create",
            json!({"type": "GroupChat", "name": "g", "extra_fields": {
                "id": UNKNOWN, "creator": 2, "admins": [2], "polymorphic_ctype": 1}}),
            "roomcreate.dispatch",
        )
        .await;
    assert_ne!(room["id"], UNKNOWN);
    assert_eq!(room["creator"]["username"], "alice");
    assert_eq!(names(&room["admins"]), ["alice"]);
    all_quiet(&mut [&mut alice, &mut bob]).await;
}

#[tokio::test]
async fn reactions_need_an_accessible_single_message() {
    let server = server();
    let (mut alice, mut bob, mut carol) = trio(&server).await;
    let dm = alice
        .create(
            json!({"type": "OneToOneChat", "participants": [2]}),
            &mut [&mut bob],
        )
        .await["id"]
        .clone();
    let m = alice.say(&dm, "ours", &mut [&mut bob]).await;
    let react = |id: Value| json!({"type": "add", "message_id": id, "reaction_content": "👍"});
    assert_eq!(
        carol
            .fails("message.react", react(m["id"].clone()), 4002)
            .await,
        json!("User is not authorized to access this message")
    );
    assert_eq!(
        carol
            .fails("message.react", react(json!(UNKNOWN)), 4004)
            .await,
        json!("Resource not found.")
    );
    assert_eq!(
        bob.fails("message.react", react(json!([m["id"]])), 4003)
            .await,
        json!(["Invalid message_id type"])
    );
    assert_eq!(
        bob.fails(
            "message.react",
            json!({"type": "add", "message_id": m["id"], "reaction_content": " "}),
            4003
        )
        .await,
        json!({"reaction_content": ["This field may not be blank."]})
    );
    // The typing indicator needs the send rule: carol is no member.
    assert_eq!(
        carol
            .fails("message.typing", json!({"room_id": dm}), 4002)
            .await,
        json!("User is not authorized to send message to this room")
    );
    all_quiet(&mut [&mut alice, &mut bob]).await;
}
