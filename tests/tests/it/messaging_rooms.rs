//! Messaging rooms (§3): OneToOneChat, GroupChat and Channel rules, caps and locks.

use crate::messaging_support::{M, jwt, names, server, trio};
use serde_json::{Value, json};

#[tokio::test]
async fn one_to_one_chats_have_exactly_two_participants_and_cannot_be_left_or_joined() {
    let server = server();
    let (mut alice, mut bob, mut carol) = trio(&server).await;
    assert_eq!(
        alice
            .fails(
                "room.create",
                json!({"type": "OneToOneChat", "participants": [2, 3]}),
                4003
            )
            .await,
        json!(["['A one to one chat can only have 2 participants']"])
    );
    alice
        .fails(
            "room.create",
            json!({"type": "OneToOneChat", "participants": []}),
            4003,
        )
        .await;
    // Listing oneself as well is accepted; unknown ids are dropped silently.
    let dm = alice
        .ask(
            "room.create",
            json!({"type": "OneToOneChat", "participants": [1, 2, 999]}),
            "roomcreate.dispatch",
        )
        .await;
    assert!(dm.get("name").is_none() && dm.get("creator").is_none());
    assert_eq!(dm["property"], json!({"preferences": {}}));
    bob.expect("roomcreate.dispatch").await;
    assert_eq!(
        bob.fails(
            "room.create",
            json!({"type": "OneToOneChat", "participants": [1]}),
            4003
        )
        .await,
        json!(["['Chat already exists']"])
    );
    assert_eq!(
        bob.fails("room.leave", json!({"room_id": dm["id"]}), 4003)
            .await,
        json!(["You can only leave a channel/group chat"])
    );
    assert_eq!(
        carol
            .fails("room.join", json!({"room_id": dm["id"]}), 4003)
            .await,
        json!(["You can only join a channel/group chat"])
    );
    assert_eq!(
        carol
            .fails("room.info", json!({"room_id": dm["id"]}), 4002)
            .await,
        json!("User is not authorized access this room")
    );
    assert_eq!(
        alice
            .fails(
                "room.add_members",
                json!({"room_id": dm["id"], "members": [3]}),
                4003
            )
            .await,
        json!(["Invalid room, Can only add or remove members from Groups/Channels"])
    );
    // Role actions are a silent no-op that still broadcasts; only `property` updates apply.
    bob.send(
        "room.modify",
        json!({"room_id": dm["id"], "action": "add_admin", "data": {"users": [1]}}),
    )
    .await;
    bob.expect("roomupdate.dispatch").await;
    alice.expect("roomupdate.dispatch").await;
    let updated = bob
        .ask(
            "room.modify",
            json!({"room_id": dm["id"], "action": "update",
        "data": {"name": "ignored", "property": {"preferences": {"theme": "dark"}}}}),
            "roomupdate.dispatch",
        )
        .await;
    assert!(updated.get("name").is_none());
    assert_eq!(updated["property"]["preferences"]["theme"], "dark");
    alice.expect("roomupdate.dispatch").await;
    // Either participant may delete it.
    bob.send(
        "room.modify",
        json!({"room_id": dm["id"], "action": "delete"}),
    )
    .await;
    assert_eq!(
        bob.expect("roomdelete.dispatch").await,
        json!({"room_id": dm["id"]})
    );
    assert_eq!(
        alice.expect("roomdelete.dispatch").await,
        json!({"room_id": dm["id"]})
    );
    assert_eq!(
        alice
            .fails("room.info", json!({"room_id": dm["id"]}), 4004)
            .await,
        json!("Resource not found.")
    );
}

#[tokio::test]
async fn group_chats_have_admins_a_cap_and_a_lock() {
    let server = server();
    let (mut alice, mut bob, mut carol) = trio(&server).await;
    assert_eq!(
        alice
            .fails(
                "room.create",
                json!({"type": "GroupChat", "participants": [2]}),
                4003
            )
            .await,
        json!({"name": ["This field is required."]})
    );
    assert_eq!(
        alice
            .fails("room.create", json!({"type": "Nope", "name": "x"}), 4003)
            .await,
        json!(["Invalid resource type"])
    );
    // The creator counts toward the cap.
    assert_eq!(
        alice
            .fails(
                "room.create",
                json!({"type": "GroupChat", "name": "Tiny", "participants": [2, 3],
        "extra_fields": {"max_participants": 2}}),
                4003
            )
            .await,
        json!(["['Maximum number of group participants exceeded']"])
    );
    let g = alice
        .ask(
            "room.create",
            json!({"type": "GroupChat", "name": "Project Team", "participants": [2],
        "description": "d", "extra_fields": {"max_participants": 2, "join_approval_required": true,
        "property": {"preferences": {"color": "red"}}}}),
            "roomcreate.dispatch",
        )
        .await;
    assert_eq!(g["type"], "GroupChat");
    assert_eq!(g["max_participants"], 2);
    assert_eq!(g["join_approval_required"], true);
    assert_eq!(g["group_locked"], false);
    assert_eq!(g["property"]["preferences"]["color"], "red");
    assert_eq!(names(&g["participants"]), ["alice", "bob"]);
    assert_eq!(names(&g["admins"]), ["alice"]);
    bob.expect("roomcreate.dispatch").await;
    let id = g["id"].clone();
    assert_eq!(
        alice
            .fails(
                "room.add_members",
                json!({"room_id": id, "members": [3]}),
                4003
            )
            .await,
        json!(["Maximum number of group participants exceeded"])
    );
    assert_eq!(
        bob.fails(
            "room.add_members",
            json!({"room_id": id, "members": [3]}),
            4002
        )
        .await,
        json!("User is not authorized to add new members to this room")
    );
    assert_eq!(
        carol.fails("room.join", json!({"room_id": id}), 4003).await,
        json!(["Ask an admin to add you to the group"])
    );
    alice
        .send(
            "room.modify",
            json!({"room_id": id, "action": "update", "data": {"group_locked": true}}),
        )
        .await;
    assert_eq!(
        alice.expect("roomupdate.dispatch").await["group_locked"],
        true
    );
    bob.expect("roomupdate.dispatch").await;
    assert_eq!(
        bob.fails(
            "message.send",
            json!({"room_id": id, "content": "may I?"}),
            4002
        )
        .await,
        json!("User is not authorized to send message to this room")
    );
    bob.fails("message.typing", json!({"room_id": id}), 4002)
        .await;
    assert_eq!(
        bob.fails(
            "room.modify",
            json!({"room_id": id, "action": "update", "data": {"name": "x"}}),
            4002
        )
        .await,
        json!("User is not an admin of this room")
    );
    // Admins may post in a locked group, and add members.
    alice
        .send(
            "room.modify",
            json!({"room_id": id, "action": "add_admin", "data": {"users": [2]}}),
        )
        .await;
    assert_eq!(
        names(&alice.expect("roomupdate.dispatch").await["admins"]),
        ["alice", "bob"]
    );
    bob.expect("roomupdate.dispatch").await;
    bob.send(
        "message.send",
        json!({"room_id": id, "content": "now I may"}),
    )
    .await;
    bob.expect("message.dispatch").await;
    alice.expect("message.dispatch").await;
    assert_eq!(
        alice
            .fails(
                "room.modify",
                json!({"room_id": id, "action": "update", "data": {}}),
                4003
            )
            .await,
        json!(["data must be provided"])
    );
    // Any non-empty object is accepted (unknown keys change nothing).
    alice
        .send(
            "room.modify",
            json!({"room_id": id, "action": "update", "data": {"max_participants": 5}}),
        )
        .await;
    assert_eq!(
        alice.expect("roomupdate.dispatch").await["max_participants"],
        2
    );
    bob.expect("roomupdate.dispatch").await;
    assert_eq!(
        alice
            .fails(
                "room.modify",
                json!({"room_id": id, "action": "add_moderator", "data": {"users": [2]}}),
                4003
            )
            .await,
        json!(["Room should be a channel to modify the moderators"])
    );
    assert_eq!(
        alice
            .fails(
                "room.modify",
                json!({"room_id": id, "action": "add_permission",
        "data": {"users": [2], "permission": ["can_send_messages"]}}),
                4003
            )
            .await,
        json!(["Permission 'can_send_messages' is not a valid group chat permission"])
    );
    assert_eq!(
        alice
            .fails(
                "room.modify",
                json!({"room_id": id, "action": "explode", "data": {}}),
                4003
            )
            .await,
        json!(["Invalid action type"])
    );
    // The creator can never be demoted.
    bob.send(
        "room.modify",
        json!({"room_id": id, "action": "remove_admin", "data": {"users": [1, 2]}}),
    )
    .await;
    assert_eq!(
        names(&bob.expect("roomupdate.dispatch").await["admins"]),
        ["alice"]
    );
    alice.expect("roomupdate.dispatch").await;
    // Only the creator may delete.
    assert_eq!(
        bob.fails(
            "room.modify",
            json!({"room_id": id, "action": "delete"}),
            4002
        )
        .await,
        json!("User is not the creator of this room")
    );
    alice
        .send("room.modify", json!({"room_id": id, "action": "delete"}))
        .await;
    alice.expect("roomdelete.dispatch").await;
    bob.expect("roomdelete.dispatch").await;
}

#[tokio::test]
async fn members_are_added_removed_and_leave() {
    let server = server();
    let (mut alice, mut bob, mut carol) = trio(&server).await;
    let g = alice
        .create(
            json!({"type": "GroupChat", "name": "Team", "participants": [2]}),
            &mut [&mut bob],
        )
        .await;
    let id = g["id"].clone();
    // A permission holder may add members.
    alice
        .send(
            "room.modify",
            json!({"room_id": id, "action": "add_permission",
        "data": {"users": [2], "permission": ["can_add_new_participants"]}}),
        )
        .await;
    alice.expect("roomupdate.dispatch").await;
    bob.expect("roomupdate.dispatch").await;
    assert_eq!(
        bob.fails(
            "room.add_members",
            json!({"room_id": id, "members": [999]}),
            4004
        )
        .await,
        json!("Resource not found.")
    );
    bob.send(
        "room.add_members",
        json!({"room_id": id, "members": [3, 3, 1]}),
    )
    .await;
    for m in [&mut alice, &mut bob, &mut carol] {
        let added = m.expect("roomaddmembers.dispatch").await;
        assert_eq!(added["new_members"], json!(["carol"]));
        assert_eq!(added["added_by"], "bob");
        assert_eq!(
            names(&added["room"]["participants"]),
            ["alice", "bob", "carol"]
        );
    }
    // Holding a permission does not make one an admin.
    bob.fails(
        "room.modify",
        json!({"room_id": id, "action": "update", "data": {"name": "x"}}),
        4002,
    )
    .await;
    assert_eq!(
        carol
            .fails(
                "room.remove_members",
                json!({"room_id": id, "members": [2]}),
                4002
            )
            .await,
        json!("User is not authorized to remove members from this room")
    );
    // An admin who is not the creator cannot remove the creator (silently skipped).
    alice
        .send(
            "room.modify",
            json!({"room_id": id, "action": "add_admin", "data": {"users": [2]}}),
        )
        .await;
    for m in [&mut alice, &mut bob, &mut carol] {
        m.expect("roomupdate.dispatch").await;
    }
    bob.send(
        "room.remove_members",
        json!({"room_id": id, "members": [1, 3]}),
    )
    .await;
    let exit = carol.expect("roomexit.dispatch").await;
    assert_eq!(exit["message"], "You have been removed by bob");
    for m in [&mut alice, &mut bob] {
        let removed = m.expect("roomremovemembers.dispatch").await;
        assert_eq!(removed["removed_members"], json!(["carol"]));
        assert_eq!(removed["removed_by"], "bob");
        assert_eq!(names(&removed["room"]["participants"]), ["alice", "bob"]);
    }
    carol.fails("room.info", json!({"room_id": id}), 4002).await;
    // Leaving: the leaver's devices get roomexit, the rest roomremovemembers.
    let exit = bob
        .ask("room.leave", json!({"room_id": id}), "roomexit.dispatch")
        .await;
    assert_eq!(exit["message"], "You left Team");
    let removed = alice.expect("roomremovemembers.dispatch").await;
    assert_eq!(removed["removed_members"], json!(["bob"]));
    assert_eq!(removed["removed_by"], "self");
    assert_eq!(names(&removed["room"]["admins"]), ["alice"]);
    // The last member leaving deletes the room; only the leaver hears of it.
    alice.send("room.leave", json!({"room_id": id})).await;
    assert_eq!(
        alice.expect("roomdelete.dispatch").await,
        json!({"room_id": id})
    );
    alice.send("room.list", json!({})).await;
    assert_eq!(alice.expect("roomlist.dispatch").await, json!([]));
    bob.heartbeat().await;
    carol.heartbeat().await;
}

#[tokio::test]
async fn channels_have_moderators_public_joins_and_send_permission() {
    let server = server();
    let (mut alice, mut bob, mut carol) = trio(&server).await;
    let ch = alice
        .ask(
            "room.create",
            json!({"type": "Channel", "name": "Announcements",
        "participants": [3], "subscribers": [2],
        "extra_fields": {"is_public": true, "max_subscribers": 3}}),
            "roomcreate.dispatch",
        )
        .await;
    assert_eq!(ch["type"], "Channel");
    assert_eq!(ch["is_public"], true);
    assert_eq!(ch["max_subscribers"], 3);
    assert_eq!(names(&ch["subscribers"]), ["alice", "bob"]);
    assert_eq!(names(&ch["moderators"]), ["alice"]);
    assert!(ch.get("participants").is_none());
    bob.expect("roomcreate.dispatch").await;
    let id = ch["id"].clone();
    assert_eq!(
        bob.fails(
            "message.send",
            json!({"room_id": id, "content": "hi"}),
            4002
        )
        .await,
        json!("User is not authorized to send message to this room")
    );
    carol.send("room.join", json!({"room_id": id})).await;
    for m in [&mut alice, &mut bob, &mut carol] {
        let added = m.expect("roomaddmembers.dispatch").await;
        assert_eq!(added["new_members"], json!(["carol"]));
        assert_eq!(added["added_by"], "self");
    }
    // Full now (the creator counts).
    let mut dave = M::connect(&server, &jwt(4, "dave")).await;
    assert_eq!(
        dave.fails("room.join", json!({"room_id": id}), 4003).await,
        json!(["Maximum number of channel subscribers exceeded"])
    );
    assert_eq!(
        alice
            .fails(
                "room.modify",
                json!({"room_id": id, "action": "add_permission",
        "data": {"users": [2], "permission": ["can_send_messages", "can_fly"]}}),
                4003
            )
            .await,
        json!(["Permission 'can_fly' is not a valid channel permission"])
    );
    alice
        .send(
            "room.modify",
            json!({"room_id": id, "action": "add_permission",
        "data": {"users": [2], "permission": ["can_send_messages"]}}),
        )
        .await;
    for m in [&mut alice, &mut bob, &mut carol] {
        m.expect("roomupdate.dispatch").await;
    }
    bob.send(
        "message.send",
        json!({"room_id": id, "content": "allowed now"}),
    )
    .await;
    for m in [&mut alice, &mut bob, &mut carol] {
        assert_eq!(m.expect("message.dispatch").await["content"], "allowed now");
    }
    // Subscribers without send rights may still react, but not type.
    carol
        .fails("message.typing", json!({"room_id": id}), 4002)
        .await;
    alice
        .send(
            "room.modify",
            json!({"room_id": id, "action": "add_moderator", "data": {"users": [3]}}),
        )
        .await;
    for m in [&mut alice, &mut bob, &mut carol] {
        assert_eq!(
            names(&m.expect("roomupdate.dispatch").await["moderators"]),
            ["alice", "carol"]
        );
    }
    carol.send("message.typing", json!({"room_id": id})).await;
    for m in [&mut alice, &mut bob, &mut carol] {
        assert_eq!(
            m.expect("messagetyping.dispatch").await["username"],
            "carol"
        );
    }
    assert_eq!(
        alice
            .fails(
                "room.modify",
                json!({"room_id": id, "action": "add_admin", "data": {"users": [3]}}),
                4003
            )
            .await,
        json!(["Room should be a group chat to modify the admins"])
    );
    let up = alice
        .ask(
            "room.modify",
            json!({"room_id": id, "action": "update", "data": {"is_public": false,
        "name": "News", "description": "all the news"}}),
            "roomupdate.dispatch",
        )
        .await;
    assert_eq!(
        (up["is_public"].clone(), up["name"].clone()),
        (json!(false), json!("News"))
    );
    assert_eq!(up["description"], "all the news");
    bob.expect("roomupdate.dispatch").await;
    carol.expect("roomupdate.dispatch").await;
    bob.send("room.leave", json!({"room_id": id})).await;
    bob.expect("roomexit.dispatch").await;
    alice.expect("roomremovemembers.dispatch").await;
    carol.expect("roomremovemembers.dispatch").await;
    assert_eq!(
        bob.fails("room.join", json!({"room_id": id}), 4003).await,
        json!(["Channel is private, ask a moderator to add you to the channel"])
    );
    // room.list shows the channel (list form: no members).
    let list = carol.ask("room.list", json!({}), "roomlist.dispatch").await;
    assert_eq!(list[0]["name"], "News");
    assert!(list[0].get("subscribers").is_none());
    assert_eq!(list[0]["last_message"]["content"], "allowed now");
    carol.send("room.info", json!({"room_id": id})).await;
    assert_eq!(
        names(&carol.expect("roominfo.dispatch").await["subscribers"]),
        ["alice", "carol"]
    );
}

#[tokio::test]
async fn room_list_orders_by_last_message_and_shows_placeholders() {
    let server = server();
    let (mut alice, mut bob, _carol) = trio(&server).await;
    for (kind, name) in [("GroupChat", "first"), ("GroupChat", "second")] {
        alice
            .send(
                "room.create",
                json!({"type": kind, "name": name, "participants": [2]}),
            )
            .await;
        alice.expect("roomcreate.dispatch").await;
        bob.expect("roomcreate.dispatch").await;
    }
    alice
        .send(
            "room.create",
            json!({"type": "OneToOneChat", "participants": [3]}),
        )
        .await;
    alice.expect("roomcreate.dispatch").await;
    let list = bob.ask("room.list", json!({}), "roomlist.dispatch").await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["last_message"]["id"], Value::Null);
    assert_eq!(list[0]["last_message"]["content"], "");
    let first = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "first")
        .unwrap();
    alice
        .send(
            "message.send",
            json!({"room_id": first["id"], "content": "bump"}),
        )
        .await;
    alice.expect("message.dispatch").await;
    bob.expect("message.dispatch").await;
    let list = bob.ask("room.list", json!({}), "roomlist.dispatch").await;
    assert_eq!(list[0]["name"], "first");
    assert_eq!(list[1]["name"], "second");
}

#[tokio::test]
async fn rooms_without_admins_still_empty_out_and_creators_may_delete_after_leaving() {
    let server = server();
    let (mut alice, mut bob, mut carol) = trio(&server).await;
    let a = alice
        .ask(
            "room.create",
            json!({"type": "GroupChat", "name": "A", "participants": [2, 3]}),
            "roomcreate.dispatch",
        )
        .await["id"]
        .clone();
    bob.expect("roomcreate.dispatch").await;
    carol.expect("roomcreate.dispatch").await;
    // The creator leaves; the rest are plain members.
    alice.send("room.leave", json!({"room_id": a})).await;
    alice.expect("roomexit.dispatch").await;
    bob.expect("roomremovemembers.dispatch").await;
    carol.expect("roomremovemembers.dispatch").await;
    bob.send("room.leave", json!({"room_id": a})).await;
    bob.expect("roomexit.dispatch").await;
    carol.expect("roomremovemembers.dispatch").await;
    carol.send("room.leave", json!({"room_id": a})).await;
    assert_eq!(
        carol.expect("roomdelete.dispatch").await,
        json!({"room_id": a})
    );
    // A creator who left may still delete (membership is not required for delete).
    let b = alice
        .ask(
            "room.create",
            json!({"type": "Channel", "name": "B", "subscribers": [2]}),
            "roomcreate.dispatch",
        )
        .await["id"]
        .clone();
    bob.expect("roomcreate.dispatch").await;
    alice.send("room.leave", json!({"room_id": b})).await;
    alice.expect("roomexit.dispatch").await;
    bob.expect("roomremovemembers.dispatch").await;
    alice
        .send("room.modify", json!({"room_id": b, "action": "delete"}))
        .await;
    assert_eq!(
        bob.expect("roomdelete.dispatch").await,
        json!({"room_id": b})
    );
    alice.heartbeat().await;
    bob.send("room.list", json!({})).await;
    assert_eq!(bob.expect("roomlist.dispatch").await, json!([]));
}
