//! Messaging messages (§4): send, replies, forwards, media, reactions, receipts, delivery,
//! edit/delete (hard and soft), history pages, sanitising.

use crate::messaging_support::{M, jwt, options, server, trio};
use crate::support::Server;
use serde_json::{Value, json};

/// alice, bob and carol, with a group of all three and a DM alice–bob.
async fn setup(server: &Server) -> (M, M, M, Value, Value) {
    let (mut alice, mut bob, mut carol) = trio(server).await;
    let group = alice
        .ask(
            "room.create",
            json!({"type": "GroupChat", "name": "g", "participants": [2, 3]}),
            "roomcreate.dispatch",
        )
        .await["id"]
        .clone();
    bob.expect("roomcreate.dispatch").await;
    carol.expect("roomcreate.dispatch").await;
    let dm = alice
        .ask(
            "room.create",
            json!({"type": "OneToOneChat", "participants": [2]}),
            "roomcreate.dispatch",
        )
        .await["id"]
        .clone();
    bob.expect("roomcreate.dispatch").await;
    (alice, bob, carol, group, dm)
}

#[tokio::test]
async fn replies_and_forwards() {
    let server = server();
    let (mut alice, mut bob, mut carol, group, dm) = setup(&server).await;
    let secret = alice.say(&dm, "just us", &mut [&mut bob]).await;
    let public = alice
        .say(&group, "everyone", &mut [&mut bob, &mut carol])
        .await;
    assert_eq!(
        carol
            .fails(
                "message.send",
                json!({"room_id": group, "content": "  "}),
                4003
            )
            .await,
        json!({"content": ["This field may not be blank."]})
    );
    assert_eq!(
        carol
            .fails(
                "message.send",
                json!({"room_id": dm, "content": "let me in"}),
                4002
            )
            .await,
        json!("User is not authorized to send message to this room")
    );
    // Forwarding needs read access to the source (not checked by the original, §9).
    assert_eq!(
        carol
            .fails(
                "message.send",
                json!({"room_id": group, "content": "fwd",
        "extra_fields": {"forwarded_from_id": secret["id"]}}),
                4002
            )
            .await,
        json!("User is not authorized to access this message")
    );
    let missing = "0196b7a0-0000-7000-8000-000000000000";
    assert_eq!(
        carol
            .fails(
                "message.send",
                json!({"room_id": group, "content": "re",
        "extra_fields": {"parent_message_id": missing}}),
                4003
            )
            .await,
        json!({"parent_message_id": [format!("Invalid pk \"{missing}\" - object does not exist.")]})
    );
    assert_eq!(
        carol
            .fails(
                "message.send",
                json!({"room_id": group, "content": "both",
        "extra_fields": {"parent_message_id": public["id"], "forwarded_from_id": public["id"]}}),
                4005
            )
            .await,
        json!("Database constraint violated.")
    );
    // A reply to a message of another room is allowed (as in the original).
    let reply = carol
        .ask(
            "message.send",
            json!({"room_id": group, "content": "re: everyone",
        "extra_fields": {"parent_message_id": public["id"], "is_deleted": true, "id": missing}}),
            "message.dispatch",
        )
        .await;
    assert_eq!(reply["parent_message"]["content"], "everyone");
    assert_eq!(reply["parent_message"]["sender"]["username"], "alice");
    assert_eq!(reply["is_deleted"], false, "extra_fields is whitelisted");
    assert_ne!(reply["id"], missing);
    assert_eq!(reply["is_forwarded"], false);
    alice.expect("message.dispatch").await;
    bob.expect("message.dispatch").await;
    let fwd = bob
        .ask(
            "message.send",
            json!({"room_id": group, "content": "fwd",
        "extra_fields": {"forwarded_from_id": secret["id"]}}),
            "message.dispatch",
        )
        .await;
    assert_eq!(fwd["is_forwarded"], true);
    assert_eq!(fwd["forwarded_from"]["content"], "just us");
    assert_eq!(fwd["parent_message"], Value::Null);
    alice.expect("message.dispatch").await;
    carol.expect("message.dispatch").await;
}

#[tokio::test]
async fn media_is_sent_by_url() {
    let server = server();
    let (mut alice, mut bob, _carol, _group, dm) = setup(&server).await;
    let m = alice.ask("message.send", json!({"room_id": dm, "content": "look", "extra_fields": {"media": [
        {"media_url": "https://cdn.example/a.png", "media_type": "image", "mime_type": "image/png",
         "file_size": 1234, "caption": "a", "metadata": {"width": 10, "height": 20}},
        {"media_url": "https://cdn.example/b.pdf", "media_type": "file", "mime_type": "application/pdf"}
    ]}}), "message.dispatch").await;
    assert_eq!(m["content"], "Media Files");
    let att = m["attachments"].as_array().unwrap();
    assert_eq!(att.len(), 2);
    assert_eq!(att[0]["media_url"], "https://cdn.example/a.png");
    assert_eq!(att[0]["metadata"]["width"], 10);
    assert_eq!(att[1]["file_size"], 0);
    assert_eq!(att[1]["caption"], Value::Null);
    assert_eq!(
        bob.expect("message.dispatch").await["attachments"],
        m["attachments"]
    );
    assert_eq!(alice.fails("message.send", json!({"room_id": dm, "content": "x", "extra_fields": {"media": [
        {"media_url": "https://cdn.example/a.exe", "media_type": "file", "mime_type": "application/x-msdownload"}]}}), 4005).await, json!("Database constraint violated."));
    assert_eq!(
        alice
            .fails(
                "message.send",
                json!({"room_id": dm, "content": "x", "extra_fields": {"media": "a.png"}}),
                4003
            )
            .await,
        json!(["Media must be a list of media files"])
    );
    // History keeps the attachments.
    let page = bob
        .ask(
            "room.messages",
            json!({"room_id": dm}),
            "roommessages.dispatch",
        )
        .await;
    assert_eq!(page["data"]["messages"][0]["attachments"], m["attachments"]);
}

#[tokio::test]
async fn one_reaction_per_user_per_message() {
    let server = server();
    let (mut alice, mut bob, mut carol, group, _dm) = setup(&server).await;
    let m = alice
        .say(&group, "react to me", &mut [&mut bob, &mut carol])
        .await;
    bob.send(
        "message.react",
        json!({"type": "add", "message_id": m["id"], "reaction_content": "👍"}),
    )
    .await;
    for c in [&mut alice, &mut bob, &mut carol] {
        let r = c.expect("reaction.dispatch").await;
        assert_eq!(r["status"], "successful");
        assert_eq!(r["type"], "add");
        assert_eq!(r["message"]["reactions"][0]["reaction_content"], "👍");
        assert_eq!(r["message"]["reactions"][0]["user"]["username"], "bob");
    }
    assert_eq!(
        bob.fails(
            "message.react",
            json!({"type": "add", "message_id": m["id"], "reaction_content": "👍"}),
            4005
        )
        .await,
        json!("Database constraint violated.")
    );
    bob.send(
        "message.react",
        json!({"type": "add", "message_id": m["id"], "reaction_content": "🎉"}),
    )
    .await;
    for c in [&mut alice, &mut bob, &mut carol] {
        let r = c.expect("reaction.dispatch").await;
        let reactions = r["message"]["reactions"].as_array().unwrap();
        assert_eq!(reactions.len(), 1, "replaced, not added: {r}");
        assert_eq!(reactions[0]["reaction_content"], "🎉");
    }
    assert_eq!(
        bob.fails(
            "message.react",
            json!({"type": "add", "message_id": m["id"]}),
            4003
        )
        .await,
        json!({"reaction_content": ["This field is required."]})
    );
    assert_eq!(
        bob.fails(
            "message.react",
            json!({"type": "like", "message_id": m["id"]}),
            4003
        )
        .await,
        json!(["invalid reaction type"])
    );
    bob.send(
        "message.react",
        json!({"type": "remove", "message_id": m["id"], "reaction_content": "x"}),
    )
    .await;
    for c in [&mut alice, &mut bob, &mut carol] {
        let r = c.expect("reaction.dispatch").await;
        assert_eq!(
            (r["status"].clone(), r["action"].clone()),
            (json!("successful"), json!("remove"))
        );
        assert_eq!(r["message"]["reactions"], json!([]));
        assert!(r.get("type").is_none());
    }
    bob.send(
        "message.react",
        json!({"type": "remove", "message_id": m["id"]}),
    )
    .await;
    for c in [&mut alice, &mut bob, &mut carol] {
        assert_eq!(c.expect("reaction.dispatch").await["status"], "failed");
    }
    // Reactions notify every other member, pending until acknowledged.
    carol.close().await;
    let carol = M::connect(&server, &jwt(3, "carol")).await;
    let pending = carol.notifications[group.as_str().unwrap()]
        .as_array()
        .unwrap()
        .clone();
    let kinds: Vec<&str> = pending
        .iter()
        .map(|n| n["notification_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["NEW_MESSAGE", "REACTION", "REACTION"]);
    // The author acknowledges: all notifications of that message lose that recipient.
    let mut carol = carol;
    carol
        .send("message.acknowledged", json!({"message_id": m["id"]}))
        .await;
    carol.heartbeat().await;
    assert_eq!(
        M::connect(&server, &jwt(3, "carol")).await.notifications,
        json!({})
    );
}

#[tokio::test]
async fn read_receipts_per_message_and_per_room() {
    let server = server();
    let (mut alice, mut bob, mut carol, group, dm) = setup(&server).await;
    let g1 = alice.say(&group, "g1", &mut [&mut bob, &mut carol]).await;
    let d1 = alice.say(&dm, "d1", &mut [&mut bob]).await;
    let own = bob.say(&dm, "mine", &mut [&mut alice]).await;
    // Reading one's own message does nothing.
    bob.send("message.read", json!({"message_id": own["id"]}))
        .await;
    bob.heartbeat().await;
    bob.send("message.read", json!({"message_id": g1["id"]}))
        .await;
    for c in [&mut alice, &mut bob, &mut carol] {
        let r = c.expect("readreceipt.dispatch").await;
        assert_eq!(r["id"], g1["id"]);
        assert_eq!(r["read_receipts"][0]["reader"]["username"], "bob");
    }
    assert_eq!(
        bob.fails("message.read", json!({"message_id": g1["id"]}), 4005)
            .await,
        json!("Database constraint violated.")
    );
    assert_eq!(
        carol
            .fails("message.read", json!({"message_id": d1["id"]}), 4002)
            .await,
        json!("User is not authorized to access this message")
    );
    // A list: one frame per room, each an array.
    let g2 = alice.say(&group, "g2", &mut [&mut bob, &mut carol]).await;
    let first = bob
        .ask(
            "message.read",
            json!({"message_id": [g2["id"], d1["id"], own["id"], g2["id"]]}),
            "readreceipt.dispatch",
        )
        .await;
    let second = bob.expect("readreceipt.dispatch").await;
    assert_eq!(first.as_array().unwrap().len(), 1);
    assert_eq!(second.as_array().unwrap().len(), 1);
    assert_eq!(first[0]["id"], g2["id"]);
    assert_eq!(second[0]["id"], d1["id"]);
    assert_eq!(
        carol.expect("readreceipt.dispatch").await[0]["id"],
        g2["id"]
    );
    alice.expect("readreceipt.dispatch").await;
    alice.expect("readreceipt.dispatch").await;
    bob.fails("message.read", json!({"message_id": [g2["id"]]}), 4005)
        .await;
    assert_eq!(
        bob.fails("message.read", json!({"message_id": {"x": 1}}), 4003)
            .await,
        json!(["Invalid message_id type"])
    );
    // Receipts do not touch delivery.
    assert_eq!(first[0]["delivered_to"], json!([]));
}

#[tokio::test]
async fn edit_and_hard_delete() {
    let server = server();
    let (mut alice, mut bob, mut carol, group, dm) = setup(&server).await;
    let m = alice.say(&group, "typo", &mut [&mut bob, &mut carol]).await;
    let other = alice.say(&dm, "elsewhere", &mut [&mut bob]).await;
    assert_eq!(
        bob.fails(
            "message.modify",
            json!({"action": "update", "message_id": m["id"],
        "extra_fields": {"content": "mine now"}}),
            4002
        )
        .await,
        json!("User is not authorized to modify this message")
    );
    assert_eq!(
        alice
            .fails(
                "message.modify",
                json!({"action": "update", "message_id": [m["id"], other["id"]]}),
                4003
            )
            .await,
        json!(["All messages marked for modification must come from the same room"])
    );
    assert_eq!(
        alice
            .fails(
                "message.modify",
                json!({"action": "update", "message_id": []}),
                4003
            )
            .await,
        json!(["Atleast one message_id is required for modification"])
    );
    assert_eq!(
        alice
            .fails(
                "message.modify",
                json!({"action": "update", "message_id": m["id"]}),
                4003
            )
            .await,
        json!(["'extra_fields' field should be provided for update action"])
    );
    assert_eq!(
        alice
            .fails(
                "message.modify",
                json!({"action": "update", "message_id": m["id"], "extra_fields": {}}),
                4003
            )
            .await,
        json!(["'extra_fields' field should be provided for update action"])
    );
    assert_eq!(
        alice
            .fails(
                "message.modify",
                json!({"action": "update", "message_id": m["id"],
        "extra_fields": {"is_deleted": true}}),
                4003
            )
            .await,
        json!(["Content should be provided for update action"])
    );
    assert_eq!(
        alice
            .fails(
                "message.modify",
                json!({"action": "shred", "message_id": m["id"]}),
                4003
            )
            .await,
        json!(["Invalid action type"])
    );
    alice
        .send(
            "message.modify",
            json!({"action": "update", "message_id": [m["id"]],
        "extra_fields": {"content": "fixed <script>x</script>"}}),
        )
        .await;
    for c in [&mut alice, &mut bob, &mut carol] {
        let d = c.expect("messagemodification.dispatch").await;
        assert_eq!(
            (d["status"].clone(), d["action"].clone()),
            (json!("successful"), json!("update"))
        );
        assert_eq!(d["message"]["content"], "fixed x");
        assert_eq!(d["message"]["is_edited"], true);
    }
    let m2 = alice
        .say(&group, "second", &mut [&mut bob, &mut carol])
        .await;
    assert_eq!(
        alice
            .fails(
                "message.modify",
                json!({"action": "update", "message_id": [m["id"], m2["id"]],
        "extra_fields": {"content": "x"}}),
                4003
            )
            .await,
        json!(["You can only update one message at a time"])
    );
    alice
        .send(
            "message.modify",
            json!({"action": "delete", "message_id": [m["id"], m2["id"]]}),
        )
        .await;
    for c in [&mut alice, &mut bob, &mut carol] {
        let d = c.expect("messagemodification.dispatch").await;
        assert_eq!(d["action"], "delete");
        assert_eq!(d["message_ids"], json!([m["id"], m2["id"]]));
    }
    // Gone for good, notifications included.
    carol.send("room.messages", json!({"room_id": group})).await;
    assert_eq!(
        carol.expect("roommessages.dispatch").await["data"]["messages"],
        json!([])
    );
    assert_eq!(
        carol
            .fails("message.read", json!({"message_id": m["id"]}), 4004)
            .await,
        json!("Resource not found.")
    );
    carol.close().await;
    assert_eq!(
        M::connect(&server, &jwt(3, "carol")).await.notifications,
        json!({})
    );
}

#[tokio::test]
async fn soft_delete_when_configured() {
    let server =
        Server::start_with(options().env("CHORUS__MESSAGING__MESSAGE_SOFT_DELETE", "true"));
    let (mut alice, mut bob, _carol, _group, dm) = setup(&server).await;
    let keep = alice.say(&dm, "keep", &mut [&mut bob]).await;
    let m = alice.say(&dm, "regret", &mut [&mut bob]).await;
    alice
        .send(
            "message.modify",
            json!({"action": "delete", "message_id": m["id"]}),
        )
        .await;
    assert_eq!(
        alice.expect("messagemodification.dispatch").await["message_ids"],
        json!([m["id"]])
    );
    bob.expect("messagemodification.dispatch").await;
    let page = bob
        .ask(
            "room.messages",
            json!({"room_id": dm}),
            "roommessages.dispatch",
        )
        .await;
    let ids: Vec<&Value> = page["data"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["id"])
        .collect();
    assert_eq!(ids, [&keep["id"]]);
    assert_eq!(
        alice
            .fails(
                "message.modify",
                json!({"action": "delete", "message_id": m["id"]}),
                4004
            )
            .await,
        json!("Resource not found.")
    );
    bob.fails(
        "message.acknowledged",
        json!({"message_id": [m["id"]]}),
        4004,
    )
    .await;
    // A soft-deleted message can still be replied to by id (as in the original).
    let reply = bob
        .ask(
            "message.send",
            json!({"room_id": dm, "content": "what was it?",
        "extra_fields": {"parent_message_id": m["id"]}}),
            "message.dispatch",
        )
        .await;
    assert_eq!(reply["parent_message"]["is_deleted"], true);
}

#[tokio::test]
async fn room_messages_pages_like_django() {
    let server = server();
    let (mut alice, mut bob, _carol, _group, dm) = setup(&server).await;
    for i in 0..10 {
        alice.say(&dm, &format!("m{i}"), &mut [&mut bob]).await;
    }
    let p = bob
        .ask(
            "room.messages",
            json!({"room_id": dm, "paginate": {"page": 3, "size": 5}}),
            "roommessages.dispatch",
        )
        .await;
    assert_eq!(p["data"]["messages"].as_array().unwrap().len(), 5);
    assert_eq!(
        (p["has_next"].clone(), p["has_previous"].clone()),
        (json!(false), json!(true))
    );
    assert_eq!((p["page"].clone(), p["size"].clone()), (json!(3), json!(5)));
    assert_eq!(
        (p["next_page_number"].clone(), p["prev_page_number"].clone()),
        (Value::Null, json!(1))
    );
    assert_eq!(p["data"]["messages"][0]["content"], "m4");
    assert_eq!(p["data"]["room_id"], dm);
    let p = bob
        .ask(
            "room.messages",
            json!({"room_id": dm, "paginate": {"page": "1", "size": "3"}}),
            "roommessages.dispatch",
        )
        .await;
    assert_eq!(p["data"]["messages"][0]["content"], "m9");
    assert_eq!(p["next_page_number"], 2);
    assert_eq!(
        bob.fails(
            "room.messages",
            json!({"room_id": dm, "paginate": {"page": 0, "size": 5}}),
            4003
        )
        .await,
        json!(["page and size required"])
    );
    assert_eq!(
        bob.fails(
            "room.messages",
            json!({"room_id": dm, "paginate": {"page": "one", "size": 5}}),
            4003
        )
        .await,
        json!(["Invalid types"])
    );
    let all = bob
        .ask(
            "room.messages",
            json!({"room_id": dm, "paginate": {}}),
            "roommessages.dispatch",
        )
        .await;
    assert!(all.get("page").is_none());
    assert_eq!(all["data"]["messages"].as_array().unwrap().len(), 10);
    let mut alice2 = alice;
    assert_eq!(
        alice2
            .fails(
                "room.messages",
                json!({"room_id": dm, "paginate": {"page": 2, "size": -1}}),
                4006
            )
            .await,
        json!("Internal server error.")
    );
}

#[tokio::test]
async fn content_is_sanitised_like_bleach() {
    let server = server();
    let (mut alice, mut bob, _carol, _group, dm) = setup(&server).await;
    let vectors = [
        ("<script>alert('xss')</script>", "alert('xss')"),
        (
            "<p>Hello<script>alert(1)</script></p>",
            "<p>Helloalert(1)</p>",
        ),
        ("<p onclick=\"alert(1)\">Click me</p>", "<p>Click me</p>"),
        ("<a href=\"javascript:alert(1)\">link</a>", "<a>link</a>"),
        ("<a href=\"JaVaScRiPt:alert(1)\">link</a>", "<a>link</a>"),
        (
            "<a href=\"data:text/html;base64,PHNjcmlwdD4=\">x</a>",
            "<a>x</a>",
        ),
        ("<img src=\"x\" onerror=\"alert(1)\">", ""),
        ("<svg onload=\"alert(1)\"></svg>", ""),
        (
            "<p style=\"background:url(javascript:alert(1))\">Test</p>",
            "<p>Test</p>",
        ),
        ("<!--<script>alert(1)</script>-->", ""),
        (
            "<scr<script>ipt>alert(1)</scr</script>ipt>",
            "ipt&gt;alert(1)ipt&gt;",
        ),
        (
            "<ul><li>Item<script>alert(1)</script></li></ul>",
            "<ul><li>Itemalert(1)</li></ul>",
        ),
        ("<iframe src=\"https://evil.com\"></iframe>", ""),
        (
            "<a href=\"https://example.com\" onclick=\"alert(1)\" class=\"x\">ok</a>",
            "<a href=\"https://example.com\" class=\"x\">ok</a>",
        ),
        (
            "<p id=\"test\" class=\"safe\">hello</p>",
            "<p id=\"test\" class=\"safe\">hello</p>",
        ),
        (
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "&lt;script&gt;alert(1)&lt;/script&gt;",
        ),
        (
            "<p onclick=\"alert(1)\"><a href=\"javascript:alert(2)\">x</a><script>alert(3)</script></p>",
            "<p><a>x</a>alert(3)</p>",
        ),
        (
            "<a href=\"https://example.com\" target=\"_blank\">go</a>",
            "<a href=\"https://example.com\" target=\"_blank\">go</a>",
        ),
        ("<p data-test=\"x\" aria-label=\"y\">hi</p>", "<p>hi</p>"),
        (
            "Hello<br><script>alert(1)</script>World",
            "Hello<br>alert(1)World",
        ),
    ];
    for (input, expected) in vectors {
        alice
            .send("message.send", json!({"room_id": dm, "content": input}))
            .await;
        // Content that sanitises to nothing is stored and shown empty, as in the original.
        let m = alice.expect("message.dispatch").await;
        assert_eq!(m["content"], expected, "sanitising {input}");
        bob.expect("message.dispatch").await;
    }
    // Also in history, in edits, and with the whitespace bleach leaves.
    let m = alice
        .ask(
            "message.send",
            json!({"room_id": dm, "content": "<script> </script>"}),
            "message.dispatch",
        )
        .await;
    assert_eq!(m["content"], " ");
    bob.expect("message.dispatch").await;
    let d = alice
        .ask(
            "message.modify",
            json!({"action": "update", "message_id": m["id"],
                "extra_fields": {"content": "<svg></svg>"}}),
            "messagemodification.dispatch",
        )
        .await;
    assert_eq!(d["message"]["content"], "");
    assert_eq!(d["message"]["is_edited"], true);
    bob.expect("messagemodification.dispatch").await;
    let page = alice
        .ask(
            "room.messages",
            json!({"room_id": dm}),
            "roommessages.dispatch",
        )
        .await;
    let newest = &page["data"]["messages"][0];
    assert_eq!(
        (newest["id"].clone(), newest["content"].clone()),
        (m["id"].clone(), json!(""))
    );
    // A blank text is still refused before sanitising.
    assert_eq!(
        alice
            .fails(
                "message.send",
                json!({"room_id": dm, "content": "   "}),
                4003
            )
            .await,
        json!({"content": ["This field may not be blank."]})
    );
}
