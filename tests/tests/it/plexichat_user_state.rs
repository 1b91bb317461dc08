//! Plexichat per-user REST state and its dispatches: `PATCH /users/@me` (USER_UPDATE),
//! settings, messaging settings, features, notifications (NOTIFICATION_*), relationships
//! (RELATIONSHIP_*), read state (MESSAGE_ACK), bulk deletes (MESSAGE_DELETE_BULK) and reaction
//! clears (MESSAGE_REACTION_REMOVE_ALL). Every answer and frame is checked against the specs.

use crate::plexichat_support::{Api, Gateway, PASSWORD, general_channel, no_rate_limits, user};
use crate::support::Server;
use serde_json::{Value, json};

fn unlimited() -> Server {
    Server::start_with(no_rate_limits())
}

#[tokio::test]
async fn profile_settings_and_features() {
    let server = unlimited();
    let (alice, tok, alice_id) = user(&server, "alice").await;
    let (bob, _, _) = user(&server, "bobby").await;
    let (mut g, _) = Gateway::ready(&server, &tok).await;

    // PATCH /users/@me: USER_UPDATE to the user's own sessions.
    let r = alice
        .call("PATCH", "/users/@me", Some(json!({"username": "alice2"})))
        .await;
    r.assert_status(200);
    assert_eq!(r.body["username"], "alice2");
    assert_eq!(r.body["id"], alice_id.as_str());
    let upd = g.dispatch().await;
    assert_eq!(upd["t"], "USER_UPDATE");
    assert_eq!(
        upd["d"],
        json!({"user": {"id": alice_id, "username": "alice2", "avatar_url": null,
                        "email": "alice@example.com"}})
    );
    assert_eq!(alice.get("/users/@me").await.body["username"], "alice2");
    let r = alice
        .call(
            "PATCH",
            "/users/@me",
            Some(json!({"avatar_url": "https://example.com/a.png"})),
        )
        .await;
    assert_eq!(r.body["avatar_url"], "https://example.com/a.png");
    assert_eq!(
        g.dispatch().await["d"]["user"]["avatar_url"],
        "https://example.com/a.png"
    );
    alice
        .call("PATCH", "/users/@me", Some(json!({"username": "bobby"})))
        .await
        .expect_error(409, "Username already taken");
    alice
        .call(
            "PATCH",
            "/users/@me",
            Some(json!({"email": "bobby@example.com"})),
        )
        .await
        .expect_error(409, "Email already in use");
    alice
        .call("PATCH", "/users/@me", Some(json!({"email": "nope"})))
        .await
        .expect_error(400, "Invalid email: value is not a valid email address");
    alice
        .call("PATCH", "/users/@me", Some(json!({"username": "ab"})))
        .await
        .expect_error(
            400,
            "Invalid username: String should have at least 3 characters",
        );
    alice
        .call(
            "PATCH",
            "/users/@me",
            Some(json!({"password": "Another-Horse-43"})),
        )
        .await
        .expect_error(400, "Current password required to change password");
    alice
        .call(
            "PATCH",
            "/users/@me",
            Some(json!({"password": "Another-Horse-43", "current_password": "wrong"})),
        )
        .await
        .expect_error(403, "Incorrect current password");
    alice
        .call(
            "PATCH",
            "/users/@me",
            Some(json!({"password": "Another-Horse-43", "current_password": PASSWORD})),
        )
        .await
        .assert_status(200);
    let anon = Api::new(&server);
    anon.post(
        "/auth/login",
        json!({"username": "alice2", "password": PASSWORD}),
    )
    .await
    .expect_error(401, "Invalid credentials");
    anon.post(
        "/auth/login",
        json!({"username": "alice2", "password": "Another-Horse-43"}),
    )
    .await
    .assert_status(200);
    // A password change alone is no profile change: nothing was dispatched for it.
    g.heartbeat(None).await;

    // Settings: a string key/value store per user.
    let empty = alice.get("/users/@me/settings").await;
    assert_eq!(
        empty.body,
        json!({"settings": {}, "count": 0, "limit": 100})
    );
    alice
        .get("/users/@me/settings/theme")
        .await
        .expect_error(404, "Setting 'theme' not found");
    let put = alice
        .call(
            "PUT",
            "/users/@me/settings/theme",
            Some(json!({"value": "dark"})),
        )
        .await;
    put.assert_status(200);
    assert_eq!(put.body["key"], "theme");
    assert_eq!(put.body["value"], "dark");
    let created = put.body["created_at"].as_i64().unwrap();
    let again = alice
        .call(
            "PUT",
            "/users/@me/settings/theme",
            Some(json!({"value": "light"})),
        )
        .await;
    assert_eq!(again.body["created_at"], created);
    assert_eq!(
        alice.get("/users/@me/settings/theme").await.body["value"],
        "light"
    );
    let bulk = alice
        .call(
            "PUT",
            "/users/@me/settings/bulk",
            Some(json!({"locale": "en", "theme": "dark"})),
        )
        .await;
    assert_eq!(
        bulk.body,
        json!({"settings": {"theme": "dark", "locale": "en"}, "count": 2, "limit": 100})
    );
    // Another user's settings are their own.
    assert_eq!(bob.get("/users/@me/settings").await.body["count"], 0);
    alice
        .call(
            "PUT",
            "/users/@me/settings/__internal.x",
            Some(json!({"value": "1"})),
        )
        .await
        .expect_error(400, "Key '__internal.x' uses reserved prefix '__internal'");
    alice
        .call(
            "PUT",
            "/users/@me/settings/theme",
            Some(json!({"value": "x".repeat(10_001)})),
        )
        .await
        .expect_error(
            400,
            "Invalid value: String should have at most 10000 characters",
        );
    alice
        .call(
            "PUT",
            "/users/@me/settings/theme",
            Some(json!({"value": 3})),
        )
        .await
        .assert_status(400);
    let gone = alice
        .call("DELETE", "/users/@me/settings/theme", None)
        .await;
    gone.assert_status(200);
    assert_eq!(gone.body["success"], true);
    alice
        .call("DELETE", "/users/@me/settings/theme", None)
        .await
        .expect_error(404, "Setting 'theme' not found");
    let many: serde_json::Map<String, Value> =
        (0..100).map(|i| (format!("k{i}"), json!("v"))).collect();
    alice
        .call("PUT", "/users/@me/settings/bulk", Some(Value::Object(many)))
        .await
        .expect_error(400, "User has reached maximum of 100 settings");
    assert_eq!(alice.get("/users/@me/settings").await.body["count"], 1);

    // Messaging settings.
    let ms = alice.get("/users/@me/messaging-settings").await;
    assert_eq!(ms.body["allow_dms_from"], "everyone");
    assert_eq!(ms.body["read_receipts_enabled"], true);
    assert_eq!(ms.body["user_id"], alice_id.as_str());
    let ms = alice
        .call(
            "PATCH",
            "/users/@me/messaging-settings",
            Some(json!({"allow_dms_from": "none", "compact_messages_enabled": true})),
        )
        .await;
    assert_eq!(ms.body["allow_dms_from"], "none");
    assert_eq!(ms.body["compact_messages_enabled"], true);
    assert_eq!(ms.body["read_receipts_enabled"], true);
    alice
        .call(
            "PATCH",
            "/users/@me/messaging-settings",
            Some(json!({"allow_dms_from": "martians"})),
        )
        .await
        .expect_error(
            400,
            "Invalid allow_dms_from: Input should be 'everyone', 'friends' or 'none'",
        );
    // Nobody may open a DM with her now.
    bob.post("/users/@me/channels", json!({"recipient_id": alice_id}))
        .await
        .expect_error(403, "Cannot message this user");

    // Features.
    let f = alice.get("/users/@me/features").await;
    assert_eq!(f.body["tier"], "standard");
    assert_eq!(f.body["tier_limits"]["max_message_length"], 4000);

    // Search and presence of other users.
    let found = bob.get("/users/search?username=ALICE2").await;
    assert_eq!(found.body["id"], alice_id.as_str());
    bob.get("/users/search?username=nobody")
        .await
        .expect_error(404, "User not found");
    let p = bob.get(&format!("/users/{alice_id}/presence")).await;
    assert_eq!(p.body["status"], "online");
    assert_eq!(p.body["last_seen"], Value::Null);
    g.send(json!({"op": 3, "d": {"status": "dnd", "custom_status": "busy"}}))
        .await;
    g.heartbeat(None).await;
    let p = bob.get(&format!("/users/{alice_id}/presence")).await;
    assert_eq!(
        (p.body["status"].as_str(), p.body["custom_status"].as_str()),
        (Some("dnd"), Some("busy"))
    );
    drop(g);
    let mut offline = Value::Null;
    for _ in 0..100 {
        offline = bob.get(&format!("/users/{alice_id}/presence")).await.body;
        if offline["status"] == "offline" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(offline["status"], "offline");
    assert!(offline["last_seen"].as_i64().is_some(), "{offline}");
    bob.get("/users/12x/presence")
        .await
        .expect_error(400, "Invalid user ID");
}

#[tokio::test]
async fn mentions_become_notifications() {
    let server = unlimited();
    let (alice, tok, alice_id) = user(&server, "alice").await;
    let (bob, _, bob_id) = user(&server, "bobby").await;
    let general = general_channel();
    let (mut g, _) = Gateway::ready(&server, &tok).await;

    let m = bob.say(&general, "lunch @alice?").await;
    assert_eq!(g.dispatch().await["t"], "MESSAGE_CREATE");
    let n = g.dispatch().await;
    assert_eq!(n["t"], "NOTIFICATION_CREATE");
    assert_eq!(n["d"]["type"], "mention");
    assert_eq!(n["d"]["title"], "bobby mentioned you");
    assert_eq!(n["d"]["content"], "lunch @alice?");
    assert_eq!(n["d"]["read"], false);
    assert_eq!(n["d"]["sender_id"], bob_id.as_str());
    assert_eq!(
        n["d"]["link"],
        format!("/channels/{general}/messages/{}", m["id"].as_str().unwrap())
    );
    let first = n["d"]["id"].as_str().unwrap().to_owned();
    // `<@id>` works too; the author is never notified, a repeat counts once.
    bob.say(
        &general,
        &format!("<@{alice_id}> and <@{alice_id}> and @bobby"),
    )
    .await;
    assert_eq!(g.dispatch().await["t"], "MESSAGE_CREATE");
    assert_eq!(g.dispatch().await["t"], "NOTIFICATION_CREATE");
    assert_eq!(
        bob.get("/users/@me/notifications").await.body["unread_count"],
        0
    );

    let list = alice.get("/users/@me/notifications").await;
    assert_eq!(list.body["unread_count"], 2);
    assert_eq!(list.body["notifications"].as_array().unwrap().len(), 2);
    assert_eq!(list.body["notifications"][1]["id"], first.as_str());
    let one = alice.get("/users/@me/notifications?limit=1").await;
    assert_eq!(one.body["notifications"].as_array().unwrap().len(), 1);
    alice
        .get("/users/@me/notifications?limit=0")
        .await
        .expect_error(
            400,
            "Invalid limit: Input should be greater than or equal to 1",
        );

    let r = alice
        .call(
            "PUT",
            &format!("/users/@me/notifications/{first}/read"),
            None,
        )
        .await;
    r.assert_status(200);
    let upd = g.dispatch().await;
    assert_eq!(upd["t"], "NOTIFICATION_UPDATE");
    assert_eq!(
        (upd["d"]["id"].as_str(), upd["d"]["read"].as_bool()),
        (Some(first.as_str()), Some(true))
    );
    let unread = alice.get("/users/@me/notifications?unread_only=true").await;
    assert_eq!(unread.body["notifications"].as_array().unwrap().len(), 1);
    assert_eq!(unread.body["unread_count"], 1);
    alice
        .call("PUT", "/users/@me/notifications/999/read", None)
        .await
        .expect_error(404, "Notification not found");
    alice
        .call("PUT", "/users/@me/notifications/abc/read", None)
        .await
        .expect_error(400, "Invalid notification ID");
    // Bob cannot touch Alice's notifications.
    bob.call("DELETE", &format!("/users/@me/notifications/{first}"), None)
        .await
        .expect_error(404, "Notification not found");

    alice
        .call("PUT", "/users/@me/notifications/read-all", None)
        .await
        .assert_status(200);
    let all = g.dispatch().await;
    assert_eq!(
        (all["t"].as_str(), &all["d"]),
        (Some("NOTIFICATION_UPDATE"), &json!({"all_read": true}))
    );
    assert_eq!(
        alice.get("/users/@me/notifications").await.body["unread_count"],
        0
    );

    alice
        .call("DELETE", &format!("/users/@me/notifications/{first}"), None)
        .await
        .assert_status(200);
    let del = g.dispatch().await;
    assert_eq!(
        (del["t"].as_str(), &del["d"]),
        (Some("NOTIFICATION_DELETE"), &json!({"id": first}))
    );
    assert_eq!(
        alice.get("/users/@me/notifications").await.body["notifications"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Acking the channel marks its mentions read.
    bob.say(&general, "@alice again").await;
    assert_eq!(g.dispatch().await["t"], "MESSAGE_CREATE");
    assert_eq!(g.dispatch().await["t"], "NOTIFICATION_CREATE");
    assert_eq!(
        alice.get("/users/@me/notifications").await.body["unread_count"],
        1
    );
    alice
        .post(&format!("/channels/{general}/messages/ack"), json!({}))
        .await
        .assert_status(200);
    assert_eq!(
        alice.get("/users/@me/notifications").await.body["unread_count"],
        0
    );
}

#[tokio::test]
async fn friends_requests_and_blocks() {
    let server = unlimited();
    let (alice, atok, alice_id) = user(&server, "alice").await;
    let (bob, btok, bob_id) = user(&server, "bobby").await;
    let (carol, _, carol_id) = user(&server, "carol").await;
    let (mut ga, _) = Gateway::ready(&server, &atok).await;
    let (mut gb, _) = Gateway::ready(&server, &btok).await;

    alice
        .post("/relationships", json!({"user_id": alice_id}))
        .await
        .expect_error(400, "Cannot send friend request to yourself");
    alice
        .post("/relationships", json!({"user_id": "12x"}))
        .await
        .expect_error(400, "Invalid user ID");
    alice
        .post("/relationships", json!({"user_id": 7}))
        .await
        .expect_error(404, "User not found");

    let sent = alice
        .post(
            "/relationships",
            json!({"user_id": bob_id, "message": "hi!"}),
        )
        .await;
    sent.assert_status(200);
    assert_eq!(sent.body["status"], "pending_outgoing");
    assert_eq!(sent.body["user_id"], bob_id.as_str());
    let theirs = gb.dispatch().await;
    assert_eq!(theirs["t"], "RELATIONSHIP_ADD");
    assert_eq!(theirs["d"]["user_id"], alice_id.as_str());
    assert_eq!(theirs["d"]["username"], "alice");
    assert_eq!(theirs["d"]["status"], "pending_incoming");
    assert_eq!(theirs["d"]["message"], "hi!");
    let mine = ga.dispatch().await;
    assert_eq!(mine["d"]["user_id"], bob_id.as_str());
    assert_eq!(mine["d"]["status"], "pending_outgoing");
    alice
        .post("/relationships", json!({"user_id": bob_id}))
        .await
        .expect_error(409, "Friend request already sent");
    bob.post("/relationships", json!({"user_id": alice_id}))
        .await
        .expect_error(409, "This user already sent you a friend request");
    let bobs = bob.get("/relationships/@me").await;
    assert_eq!(bobs.body.as_array().unwrap().len(), 1);
    assert_eq!(bobs.body[0]["status"], "pending_incoming");
    assert_eq!(bobs.body[0]["message"], "hi!");
    assert_eq!(bobs.body[0]["presence"]["status"], "online");

    // Only the recipient can accept.
    alice
        .call("PUT", &format!("/relationships/{bob_id}/accept"), None)
        .await
        .expect_error(404, "Friend request not found");
    bob.call("PUT", &format!("/relationships/{alice_id}/accept"), None)
        .await
        .assert_status(200);
    let a = ga.dispatch().await;
    assert_eq!(
        (a["d"]["user_id"].as_str(), a["d"]["status"].as_str()),
        (Some(bob_id.as_str()), Some("friend"))
    );
    assert_eq!(a["d"]["presence"]["status"], "online");
    let b = gb.dispatch().await;
    assert_eq!(
        (b["d"]["user_id"].as_str(), b["d"]["status"].as_str()),
        (Some(alice_id.as_str()), Some("friend"))
    );
    assert_eq!(
        alice.get("/relationships/@me").await.body[0]["status"],
        "friend"
    );
    alice
        .post("/relationships", json!({"user_id": bob_id}))
        .await
        .expect_error(409, "Already friends");

    // Unfriending removes both sides.
    alice
        .call("DELETE", &format!("/relationships/{bob_id}"), None)
        .await
        .assert_status(200);
    let a = ga.dispatch().await;
    assert_eq!(
        (a["t"].as_str(), &a["d"]),
        (Some("RELATIONSHIP_REMOVE"), &json!({"user_id": bob_id}))
    );
    let b = gb.dispatch().await;
    assert_eq!(
        (b["t"].as_str(), &b["d"]),
        (Some("RELATIONSHIP_REMOVE"), &json!({"user_id": alice_id}))
    );
    assert_eq!(bob.get("/relationships/@me").await.body, json!([]));
    alice
        .call("DELETE", &format!("/relationships/{bob_id}"), None)
        .await
        .expect_error(404, "Relationship not found");

    // A friends-only DM policy lets friends in only.
    carol
        .call(
            "PATCH",
            "/users/@me/messaging-settings",
            Some(json!({"allow_dms_from": "friends"})),
        )
        .await
        .assert_status(200);
    alice
        .post("/users/@me/channels", json!({"recipient_id": carol_id}))
        .await
        .expect_error(403, "Cannot message this user");

    // Blocking: only the blocker learns of it; the blocked side loses the request.
    bob.post("/relationships", json!({"user_id": alice_id}))
        .await
        .assert_status(200);
    assert_eq!(ga.dispatch().await["d"]["status"], "pending_incoming");
    assert_eq!(gb.dispatch().await["d"]["status"], "pending_outgoing");
    let blocked = alice
        .post("/relationships/block", json!({"user_id": bob_id}))
        .await;
    assert_eq!(blocked.body["status"], "blocked");
    let a = ga.dispatch().await;
    assert_eq!(
        (a["t"].as_str(), a["d"]["status"].as_str()),
        (Some("RELATIONSHIP_ADD"), Some("blocked"))
    );
    let b = gb.dispatch().await;
    assert_eq!(
        (b["t"].as_str(), &b["d"]),
        (Some("RELATIONSHIP_REMOVE"), &json!({"user_id": alice_id}))
    );
    let list = alice.get("/relationships/@me").await;
    assert_eq!(list.body[0]["status"], "blocked");
    assert_eq!(list.body[0]["presence"], Value::Null);
    assert_eq!(bob.get("/relationships/@me").await.body, json!([]));
    alice
        .post("/relationships/block", json!({"user_id": bob_id}))
        .await
        .expect_error(409, "User is already blocked");
    alice
        .post("/relationships/block", json!({"user_id": alice_id}))
        .await
        .expect_error(400, "Cannot block yourself");
    alice
        .post("/relationships/block", json!({"user_id": true}))
        .await
        .expect_error(400, "Invalid target ID");
    bob.post("/relationships", json!({"user_id": alice_id}))
        .await
        .expect_error(403, "Cannot send friend request to this user");
    bob.post("/users/@me/channels", json!({"recipient_id": alice_id}))
        .await
        .expect_error(403, "Cannot message this user");
    // Unblocking tells the blocker; DMs work again.
    alice
        .call("DELETE", &format!("/relationships/{bob_id}"), None)
        .await
        .assert_status(200);
    assert_eq!(ga.dispatch().await["t"], "RELATIONSHIP_REMOVE");
    bob.post("/users/@me/channels", json!({"recipient_id": alice_id}))
        .await
        .assert_status(200);
    // Bob heard nothing of the unblock.
    gb.heartbeat(None).await;
}

#[tokio::test]
async fn read_state_and_receipts() {
    let server = unlimited();
    let (alice, atok, alice_id) = user(&server, "alice").await;
    let (bob, btok, bob_id) = user(&server, "bobby").await;
    let general = general_channel();
    let (mut ga, _) = Gateway::ready(&server, &atok).await;
    let (mut gb, _) = Gateway::ready(&server, &btok).await;

    let never = bob
        .get(&format!("/channels/{general}/messages/last-read"))
        .await;
    assert_eq!(
        never.body,
        json!({"channel_id": general, "last_read_message_id": null, "last_read_at": null})
    );
    let ids: Vec<String> = {
        let mut v = Vec::new();
        for text in ["one", "two", "three"] {
            v.push(
                alice.say(&general, text).await["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        v
    };
    for _ in 0..3 {
        assert_eq!(ga.dispatch().await["t"], "MESSAGE_CREATE");
        assert_eq!(gb.dispatch().await["t"], "MESSAGE_CREATE");
    }
    let unread = bob
        .get(&format!("/channels/{general}/messages/unread"))
        .await;
    assert_eq!(
        unread.body,
        json!({"channel_id": general, "unread_count": 3})
    );
    // The author's own messages are never unread.
    assert_eq!(
        alice
            .get(&format!("/channels/{general}/messages/unread"))
            .await
            .body["unread_count"],
        0
    );
    assert_eq!(
        bob.get("/users/@me/unread").await.body,
        json!({"unread_counts": {general.clone(): 3}})
    );

    let ack = bob
        .post(
            &format!("/channels/{general}/messages/ack?message_id={}", ids[1]),
            json!({}),
        )
        .await;
    assert_eq!(ack.body, json!({"success": true, "messages_marked": 2}));
    let receipt = ga.dispatch().await;
    assert_eq!(receipt["t"], "MESSAGE_ACK");
    assert_eq!(
        receipt["d"],
        json!({"channel_id": general, "user_id": bob_id, "message_id": ids[1]})
    );
    // The reader's own sessions get no receipt of their own read.
    gb.heartbeat(None).await;
    let last = bob
        .get(&format!("/channels/{general}/messages/last-read"))
        .await;
    assert_eq!(last.body["last_read_message_id"], ids[1].as_str());
    assert!(last.body["last_read_at"].as_i64().is_some());
    assert_eq!(
        bob.get(&format!("/channels/{general}/messages/unread"))
            .await
            .body["unread_count"],
        1
    );
    // A marker never moves back with an ack; nothing is announced when nothing changed.
    let again = bob
        .post(
            &format!("/channels/{general}/messages/ack?message_id={}", ids[0]),
            json!({}),
        )
        .await;
    assert_eq!(again.body["messages_marked"], 0);
    ga.heartbeat(None).await;

    // Mark unread from the second message on.
    let mu = bob
        .post(
            &format!("/channels/{general}/messages/mark-unread"),
            json!({"message_id": ids[1]}),
        )
        .await;
    assert_eq!(mu.body, json!({"success": true, "unread_count": 2}));
    assert_eq!(
        bob.get(&format!("/channels/{general}/messages/last-read"))
            .await
            .body["last_read_message_id"],
        ids[0].as_str()
    );
    let all = bob
        .post(
            &format!("/channels/{general}/messages/mark-unread"),
            json!({}),
        )
        .await;
    assert_eq!(all.body["unread_count"], 3);

    // Read receipts off: the ack is not announced.
    bob.call(
        "PATCH",
        "/users/@me/messaging-settings",
        Some(json!({"read_receipts_enabled": false})),
    )
    .await
    .assert_status(200);
    let quiet = bob
        .post(&format!("/channels/{general}/messages/ack"), json!({}))
        .await;
    assert_eq!(quiet.body["messages_marked"], 3);
    ga.heartbeat(None).await;
    assert_eq!(
        bob.get("/users/@me/unread").await.body,
        json!({"unread_counts": {}})
    );

    // Bulk acks and "mark a server read".
    alice.say(&general, "four").await;
    assert_eq!(ga.dispatch().await["t"], "MESSAGE_CREATE");
    assert_eq!(gb.dispatch().await["t"], "MESSAGE_CREATE");
    let server_id = bob.get("/servers/").await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ra = bob
        .post(
            &format!("/servers/{server_id}/messages/read-all"),
            json!({}),
        )
        .await;
    assert_eq!(ra.body, json!({"success": true, "channels_marked": 1}));
    let ra = bob
        .post(
            &format!("/servers/{server_id}/messages/read-all"),
            json!({}),
        )
        .await;
    assert_eq!(ra.body["channels_marked"], 0);
    alice.say(&general, "five").await;
    assert_eq!(ga.dispatch().await["t"], "MESSAGE_CREATE");
    assert_eq!(gb.dispatch().await["t"], "MESSAGE_CREATE");
    bob.post(
        "/channels/ack/bulk",
        json!({general.clone(): null, "999": null, "x": null}),
    )
    .await
    .assert_status(200);
    assert_eq!(
        bob.get(&format!("/channels/{general}/messages/unread"))
            .await
            .body["unread_count"],
        0
    );

    // Errors.
    bob.post("/channels/abc/messages/ack", json!({}))
        .await
        .expect_error(400, "Invalid channel ID");
    bob.post(
        &format!("/channels/{general}/messages/ack?message_id=zz"),
        json!({}),
    )
    .await
    .expect_error(400, "Invalid message ID");
    bob.post(
        &format!("/channels/{general}/messages/ack?message_id=12345"),
        json!({}),
    )
    .await
    .expect_error(404, "Message not found");
    bob.get("/channels/12345/messages/unread")
        .await
        .expect_error(404, "Channel not found");
    bob.post("/servers/12345/messages/read-all", json!({}))
        .await
        .expect_error(404, "Server not found");
    bob.post("/channels/ack/bulk", json!([]))
        .await
        .expect_error(400, "Invalid body: Input should be a valid dictionary");
    let _ = alice_id;
}

#[tokio::test]
async fn bulk_delete_and_reaction_clears() {
    let server = unlimited();
    let (alice, atok, alice_id) = user(&server, "alice").await;
    let (bob, _, bob_id) = user(&server, "bobby").await;
    let general = general_channel();
    let (mut g, _) = Gateway::ready(&server, &atok).await;
    let mine: Vec<String> = {
        let mut v = Vec::new();
        for t in ["a", "b"] {
            v.push(
                alice.say(&general, t).await["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        v
    };
    let bobs = bob.say(&general, "c").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..3 {
        assert_eq!(g.dispatch().await["t"], "MESSAGE_CREATE");
    }
    let path = format!("/channels/{general}/messages/bulk-delete");
    // Without messages.manage only one's own messages.
    alice
        .post(&path, json!({"message_ids": [mine[0], bobs]}))
        .await
        .expect_error(403, "Missing permissions");
    alice
        .post(
            &path,
            json!({"message_ids": (0..101).map(|i| i.to_string()).collect::<Vec<_>>()}),
        )
        .await
        .expect_error(
            400,
            "Invalid message_ids: List should have at most 100 items",
        );
    alice
        .post(&path, json!({"message_ids": ["nope"]}))
        .await
        .expect_error(400, "Invalid message ID");
    alice
        .post(&path, json!({"message_ids": []}))
        .await
        .assert_status(200);
    let r = alice
        .post(&path, json!({"message_ids": [mine[0], mine[1], "12345"]}))
        .await;
    r.assert_status(200);
    let bulk = g.dispatch().await;
    assert_eq!(bulk["t"], "MESSAGE_DELETE_BULK");
    assert_eq!(bulk["d"]["channel_id"], general.as_str());
    assert_eq!(bulk["d"]["message_ids"], json!(mine));
    assert!(bulk["d"]["guild_id"].is_string());
    // No MESSAGE_DELETE of the same messages follows.
    g.heartbeat(None).await;
    let left = alice.get(&format!("/channels/{general}/messages")).await;
    let left: Vec<&str> = left
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(!left.contains(&mine[0].as_str()) && !left.contains(&mine[1].as_str()));
    assert!(left.contains(&bobs.as_str()));
    // A single delete still sends MESSAGE_DELETE.
    bob.call(
        "DELETE",
        &format!("/channels/{general}/messages/{bobs}"),
        None,
    )
    .await
    .assert_status(200);
    assert_eq!(g.dispatch().await["t"], "MESSAGE_DELETE");

    // Reactions: who reacted, and clearing them (messages.manage only).
    let m = bob.say(&general, "react here").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(g.dispatch().await["t"], "MESSAGE_CREATE");
    let react = format!("/channels/{general}/messages/{m}/reactions/%F0%9F%91%8D");
    alice.call("PUT", &react, None).await.assert_status(200);
    bob.call("PUT", &react, None).await.assert_status(200);
    assert_eq!(g.dispatch().await["t"], "MESSAGE_REACTION_ADD");
    assert_eq!(g.dispatch().await["t"], "MESSAGE_REACTION_ADD");
    let who = alice.get(&react).await;
    let users: Vec<&str> = who
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(users, [alice_id.as_str(), bob_id.as_str()]);
    assert!(who.body[0]["reacted_at"].as_i64().is_some());
    let after = alice
        .get(&format!("{react}?after={alice_id}&limit=5"))
        .await;
    assert_eq!(after.body.as_array().unwrap().len(), 1);
    alice.get(&format!("{react}?limit=101")).await.expect_error(
        400,
        "Invalid limit: Input should be less than or equal to 100",
    );
    let all = format!("/channels/{general}/messages/{m}/reactions");
    alice
        .call("DELETE", &all, None)
        .await
        .expect_error(403, "Missing permissions");

    // The owner of a server may clear them.
    let team = alice.post("/servers/", json!({"name": "Team"})).await;
    let team_id = team.body["id"].as_str().unwrap().to_owned();
    assert_eq!(g.dispatch().await["t"], "GUILD_CREATE");
    let chan = alice
        .get(&format!("/servers/{team_id}/channels"))
        .await
        .body[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tm = alice.say(&chan, "mine").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(g.dispatch().await["t"], "MESSAGE_CREATE");
    alice
        .call(
            "PUT",
            &format!("/channels/{chan}/messages/{tm}/reactions/x"),
            None,
        )
        .await
        .assert_status(200);
    assert_eq!(g.dispatch().await["t"], "MESSAGE_REACTION_ADD");
    alice
        .call(
            "DELETE",
            &format!("/channels/{chan}/messages/{tm}/reactions"),
            None,
        )
        .await
        .assert_status(200);
    let cleared = g.dispatch().await;
    assert_eq!(cleared["t"], "MESSAGE_REACTION_REMOVE_ALL");
    assert_eq!(
        cleared["d"],
        json!({"channel_id": chan, "message_id": tm, "guild_id": team_id})
    );
    let msg = alice.get(&format!("/channels/{chan}/messages/{tm}")).await;
    assert_eq!(msg.body["reactions"], json!([]));
}

#[tokio::test]
async fn a_locked_account_gets_a_security_alert() {
    let server = unlimited();
    let (_alice, tok, alice_id) = user(&server, "alice").await;
    let (mut g, _) = Gateway::ready(&server, &tok).await;
    let anon = Api::new(&server);
    for _ in 0..4 {
        anon.post(
            "/auth/login",
            json!({"username": "alice", "password": "wrong"}),
        )
        .await
        .expect_error(401, "Invalid credentials");
    }
    // Nothing yet: the fifth failure locks the account.
    g.heartbeat(None).await;
    anon.post(
        "/auth/login",
        json!({"username": "alice", "password": "wrong"}),
    )
    .await
    .expect_error(401, "Invalid credentials");
    let alert = g.dispatch().await;
    assert_eq!(alert["t"], "SECURITY_ALERT");
    assert_eq!(
        alert["d"],
        json!({"user_id": alice_id, "action": "account_locked", "detail": {}})
    );
    anon.post(
        "/auth/login",
        json!({"username": "alice", "password": PASSWORD}),
    )
    .await
    .expect_error(403, "Account locked");
}
