//! The Plexichat gateway (`/gateway`, `spec/gateway.yaml`): close codes, heartbeats, RESUME
//! replaying exactly the missed dispatches, and messages from other dialects.

use crate::plexichat_support::{Api, Gateway, general_channel};
use crate::support::{Client, Options, Server};
use serde_json::{Value, json};

async fn token(server: &Server, name: &str) -> (Api, String) {
    let api = Api::new(server).register(name).await;
    let t = api.token.clone().unwrap();
    (api, t)
}

#[tokio::test]
async fn close_codes() {
    let server = Server::start();
    let (_, tok) = token(&server, "alice").await;

    // Heartbeats are allowed before IDENTIFY.
    let (mut g, _) = Gateway::hello(&server).await;
    g.heartbeat(None).await;
    g.send(json!({"op": 5, "d": {}})).await;
    g.expect_close(4001, "Unknown opcode").await;

    let (mut g, _) = Gateway::hello(&server).await;
    g.send(json!({"op": 0, "t": "READY", "s": 1, "d": {}}))
        .await;
    g.expect_close(4001, "Unknown opcode").await;

    let (mut g, _) = Gateway::hello(&server).await;
    g.send_text("{not json").await;
    g.expect_close(4002, "Decode error").await;

    let (mut g, _) = Gateway::hello(&server).await;
    g.send(json!({"d": {}})).await;
    g.expect_close(4002, "Decode error").await;

    let (mut g, _) = Gateway::hello(&server).await;
    g.send(json!({"op": 2})).await;
    g.expect_close(4002, "Decode error").await;

    let (mut g, _) = Gateway::hello(&server).await;
    g.send_text(&format!(
        r#"{{"op":1,"d":null,"pad":"{}"}}"#,
        "x".repeat(70_000)
    ))
    .await;
    g.expect_close(4002, "Decode error").await;

    let (mut g, _) = Gateway::hello(&server).await;
    g.send(json!({"op": 40, "d": {"channel_id": general_channel()}}))
        .await;
    g.expect_close(4003, "Not authenticated").await;

    let (mut g, _) = Gateway::hello(&server).await;
    g.send(json!({"op": 2, "d": {"token": "123.nope"}})).await;
    g.expect_close(4004, "Authentication failed").await;

    // The REST prefix is not part of the token.
    let (mut g, _) = Gateway::hello(&server).await;
    g.send(json!({"op": 2, "d": {"token": format!("Bearer {tok}")}}))
        .await;
    g.expect_close(4004, "Authentication failed").await;

    let (mut g, _) = Gateway::hello(&server).await;
    g.send(json!({"op": 2, "d": {"token": tok, "intents": 1900544}}))
        .await;
    g.expect_close(4013, "Invalid intents").await;

    let (mut g, _) = Gateway::ready(&server, &tok).await;
    g.send(json!({"op": 2, "d": {"token": tok}})).await;
    g.expect_close(4005, "Already authenticated").await;
}

#[tokio::test]
async fn missed_heartbeats_close_4009() {
    let server = Server::start_with(
        Options::default().env("CHORUS__PLEXICHAT__HEARTBEAT_INTERVAL_MS", "150"),
    );
    let (mut g, interval) = Gateway::hello(&server).await;
    assert_eq!(interval, 150);
    g.expect_close(4009, "Session timed out").await;
}

#[tokio::test]
async fn intents_filter_dispatches() {
    let server = Server::start();
    let (api, tok) = token(&server, "alice").await;
    let (mut g, _) = Gateway::hello(&server).await;
    // Without GUILD_MESSAGES (1 << 9) no MESSAGE_CREATE arrives, and no `s` is consumed.
    g.send(json!({"op": 2, "d": {"token": tok, "intents": 0}}))
        .await;
    assert_eq!(g.recv().await["t"], "READY");
    api.say(&general_channel(), "unseen").await;
    g.heartbeat(Some(1)).await;
}

fn summary(f: &Value) -> (String, i64, String) {
    (
        f["t"].as_str().unwrap().to_owned(),
        f["s"].as_i64().unwrap(),
        f["d"]["content"].as_str().unwrap_or("").to_owned(),
    )
}

#[tokio::test]
async fn resume_replays_exactly_the_missed_dispatches() {
    let server = Server::start();
    let (api, tok) = token(&server, "alice").await;
    let general = general_channel();
    let (mut g, ready) = Gateway::ready(&server, &tok).await;
    let session = ready["session_id"].as_str().unwrap().to_owned();
    api.say(&general, "seen").await;
    assert_eq!(
        summary(&g.dispatch().await),
        ("MESSAGE_CREATE".into(), 2, "seen".into())
    );
    // Drop the connection; three messages are posted meanwhile.
    drop(g);
    for text in ["one", "two", "three"] {
        api.say(&general, text).await;
    }
    let (mut g, _) = Gateway::hello(&server).await;
    g.send(json!({"op": 6, "d": {"token": tok, "session_id": session, "seq": 2}}))
        .await;
    let resumed = g.recv().await;
    assert_eq!(resumed["t"], "RESUMED");
    assert_eq!(resumed["s"], 5);
    let replayed: Vec<_> = [g.dispatch().await, g.dispatch().await, g.dispatch().await]
        .iter()
        .map(summary)
        .collect();
    assert_eq!(
        replayed,
        [
            ("MESSAGE_CREATE".to_owned(), 3, "one".to_owned()),
            ("MESSAGE_CREATE".to_owned(), 4, "two".to_owned()),
            ("MESSAGE_CREATE".to_owned(), 5, "three".to_owned()),
        ]
    );
    // Nothing else was replayed, and the session goes on numbering.
    g.heartbeat(Some(5)).await;
    api.say(&general, "live").await;
    assert_eq!(
        summary(&g.dispatch().await),
        ("MESSAGE_CREATE".into(), 6, "live".into())
    );

    // A failed RESUME: INVALID_SESSION, the socket stays open and IDENTIFY works.
    let (mut g2, _) = Gateway::hello(&server).await;
    g2.send(json!({"op": 6, "d": {"token": tok, "session_id": "0123456789abcdef0123456789abcdef", "seq": 1}}))
        .await;
    assert_eq!(g2.recv().await, json!({"op": 9, "d": false}));
    let (_, bob) = token(&server, "bobby").await;
    g2.send(json!({"op": 6, "d": {"token": bob, "session_id": session, "seq": 1}}))
        .await;
    assert_eq!(g2.recv().await, json!({"op": 9, "d": false}));
    g2.send(json!({"op": 2, "d": {"token": tok}})).await;
    assert_eq!(g2.recv().await["t"], "READY");
}

#[tokio::test]
async fn other_dialects_messages_and_reactions_are_dispatched() {
    let server = Server::start();
    let (_, tok) = token(&server, "alice").await;
    let (mut g, _) = Gateway::ready(&server, &tok).await;
    let mut rc = Client::connect(&server.url("/ws"), &[]).await;
    rc.say("from the reaction chat").await;
    let m = rc.recv().await;
    let created = g.dispatch().await;
    assert_eq!(created["t"], "MESSAGE_CREATE");
    assert_eq!(created["d"]["content"], "from the reaction chat");
    assert_eq!(created["d"]["author_username"], "Anonymous");
    let id = m["data"]["id"].as_str().unwrap();
    rc.react(id, "👍").await;
    let added = g.dispatch().await;
    assert_eq!(added["t"], "MESSAGE_REACTION_ADD");
    assert_eq!(added["d"]["emoji"], "👍");
    assert_eq!(added["d"]["message_id"], created["d"]["id"]);
    assert_eq!(added["d"]["channel_id"], general_channel());
    rc.react(id, "👍").await;
    assert_eq!(g.dispatch().await["t"], "MESSAGE_REACTION_REMOVE");
}

#[tokio::test]
async fn rest_writes_are_dispatched() {
    let server = Server::start();
    let (alice, tok) = token(&server, "alice").await;
    let (bob, _) = token(&server, "bobby").await;
    let general = general_channel();
    let (mut g, _) = Gateway::ready(&server, &tok).await;
    let m = bob.say(&general, "typo").await;
    let id = m["id"].as_str().unwrap();
    assert_eq!(g.dispatch().await["t"], "MESSAGE_CREATE");

    // Edit: the author only.
    let path = format!("/channels/{general}/messages/{id}");
    alice
        .call("PATCH", &path, Some(json!({"content": "hijack"})))
        .await
        .expect_error(403, "You can only modify your own messages");
    let edited = bob
        .call("PATCH", &path, Some(json!({"content": "fixed"})))
        .await;
    assert_eq!(edited.status, 200);
    assert_eq!(edited.body["content"], "fixed");
    assert!(edited.body["edited_at"].as_i64().is_some());
    let upd = g.dispatch().await;
    assert_eq!(
        (upd["t"].as_str(), upd["d"]["content"].as_str()),
        (Some("MESSAGE_UPDATE"), Some("fixed"))
    );
    assert_eq!(alice.get(&path).await.body["content"], "fixed");

    // Reactions: PUT is idempotent, DELETE removes.
    let react = format!("{path}/reactions/%F0%9F%91%8D");
    assert_eq!(alice.call("PUT", &react, None).await.status, 200);
    let add = g.dispatch().await;
    assert_eq!(add["t"], "MESSAGE_REACTION_ADD");
    assert_eq!(add["d"]["emoji"], "👍");
    assert_eq!(alice.call("PUT", &react, None).await.status, 200);
    let list = alice.get(&format!("{path}/reactions")).await;
    assert_eq!(
        list.body,
        json!([{"emoji": "👍", "count": 1, "me": true, "url": null, "is_custom": false, "custom_emoji_id": null}])
    );
    assert_eq!(alice.call("DELETE", &react, None).await.status, 200);
    assert_eq!(g.dispatch().await["t"], "MESSAGE_REACTION_REMOVE");

    // Pins: plain members may not pin; the reference's pin events follow a pin.
    let pin = format!("/channels/{general}/pins/{id}");
    alice
        .call("PUT", &pin, None)
        .await
        .expect_error(403, "Missing permissions");
    assert_eq!(
        alice.get(&format!("/channels/{general}/pins")).await.body,
        json!([])
    );

    // Typing, over REST and over the gateway.
    assert_eq!(
        bob.post(&format!("/channels/{general}/typing"), json!({}))
            .await
            .status,
        200
    );
    let typing = g.dispatch().await;
    assert_eq!(typing["t"], "TYPING_START");
    assert_eq!(typing["d"]["username"], "bobby");
    g.send(json!({"op": 40, "d": {"channel_id": general}}))
        .await;
    assert_eq!(g.dispatch().await["d"]["username"], "alice");
    g.send(json!({"op": 41, "d": {"channel_id": general}}))
        .await;
    assert_eq!(g.dispatch().await["t"], "TYPING_STOP");

    // Delete: the author only; then it is gone.
    alice
        .call("DELETE", &path, None)
        .await
        .expect_error(403, "You can only modify your own messages");
    assert_eq!(bob.call("DELETE", &path, None).await.status, 200);
    let del = g.dispatch().await;
    assert_eq!(del["t"], "MESSAGE_DELETE");
    assert_eq!(del["d"]["id"], id);
    assert_eq!(del["d"]["channel_id"], general);
    assert!(del["d"]["server_id"].as_str().is_some(), "{del}");
    alice
        .get(&path)
        .await
        .expect_error(404, "Message not found");
    alice
        .call("PATCH", &path, Some(json!({"content": "x"})))
        .await
        .expect_error(404, "Message not found");
    alice
        .get(&format!("/channels/{general}/messages/nope"))
        .await
        .expect_error(400, "Invalid message ID");
    g.heartbeat(None).await;
}

#[tokio::test]
async fn servers_and_channels() {
    let server =
        Server::start_with(Options::default().env("CHORUS__PLEXICHAT__RATE_LIMITS", "false"));
    let (alice, tok) = token(&server, "alice").await;
    let (bob, bob_tok) = token(&server, "bobby").await;
    let (mut ga, _) = Gateway::ready(&server, &tok).await;
    let (mut gb, _) = Gateway::ready(&server, &bob_tok).await;

    // The default space is one server; plain members cannot add channels to it.
    let list = alice.get("/servers/").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    let default = list.body[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(list.body[0]["default_channel_id"], general_channel());
    assert_eq!(list.body[0]["member_count"], 2);
    let redirect =
        crate::plexichat_support::request(server.addr, "GET", "/api/v1/servers", &[], None).await;
    assert_eq!(redirect.status, 307);
    assert_eq!(redirect.header("location"), Some("/api/v1/servers/"));
    alice
        .post(
            &format!("/servers/{default}/channels"),
            json!({"name": "dev"}),
        )
        .await
        .expect_error(403, "Missing permissions");

    // Alice creates a server: she owns it and her gateway session follows it.
    let team = alice
        .post(
            "/servers/",
            json!({"name": "Team", "description": "Where the team talks"}),
        )
        .await;
    assert_eq!(team.status, 200);
    assert_eq!(team.body["member_count"], 1);
    assert_eq!(
        team.body["owner_id"],
        alice.get("/users/@me").await.body["id"]
    );
    let team_id = team.body["id"].as_str().unwrap().to_owned();
    let guild = ga.dispatch().await;
    assert_eq!(guild["t"], "GUILD_CREATE");
    assert_eq!(guild["d"]["id"], team_id.as_str());
    assert_eq!(guild["d"]["channels"][0]["name"], "general");
    alice
        .post("/servers/", json!({"name": "T"}))
        .await
        .expect_error(
            400,
            "Invalid name: String should have at least 2 characters",
        );
    bob.get(&format!("/servers/{team_id}"))
        .await
        .expect_error(404, "Server not found");
    assert_eq!(
        alice.get(&format!("/servers/{team_id}")).await.body["name"],
        "Team"
    );

    // Channels: create, get, update, list, post, delete — each dispatched to Alice only.
    let dev = alice
        .post(
            &format!("/servers/{team_id}/channels"),
            json!({"name": "dev", "topic": "Builds", "slowmode_seconds": 5}),
        )
        .await;
    assert_eq!(dev.status, 200);
    assert_eq!(dev.body["channel_type"], "text");
    assert_eq!(dev.body["slowmode_seconds"], 5);
    assert_eq!(dev.body["position"], 1);
    let dev_id = dev.body["id"].as_str().unwrap().to_owned();
    let created = ga.dispatch().await;
    assert_eq!(created["t"], "CHANNEL_CREATE");
    assert_eq!(created["d"]["id"], dev_id.as_str());
    // The core creates rooms without slowmode: setting it is a second step, dispatched too.
    let slow = ga.dispatch().await;
    assert_eq!(
        (slow["t"].as_str(), slow["d"]["slowmode_seconds"].as_i64()),
        (Some("CHANNEL_UPDATE"), Some(5))
    );
    let channels = alice.get(&format!("/servers/{team_id}/channels")).await;
    let names: Vec<&str> = channels
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["general", "dev"]);
    bob.get(&format!("/channels/{dev_id}"))
        .await
        .expect_error(403, "Channel access denied");
    let upd = alice
        .call(
            "PATCH",
            &format!("/channels/{dev_id}"),
            Some(json!({"topic": "Release planning"})),
        )
        .await;
    assert_eq!(upd.body["topic"], "Release planning");
    let updated = ga.dispatch().await;
    assert_eq!(updated["t"], "CHANNEL_UPDATE");
    assert_eq!(updated["d"]["topic"], "Release planning");
    alice.say(&dev_id, "in dev").await;
    let m = ga.dispatch().await;
    assert_eq!(
        (m["t"].as_str(), m["d"]["channel_id"].as_str()),
        (Some("MESSAGE_CREATE"), Some(dev_id.as_str()))
    );
    bob.post(
        &format!("/channels/{dev_id}/messages"),
        json!({"content": "x"}),
    )
    .await
    .expect_error(404, "Channel not found");
    assert_eq!(
        alice
            .call("DELETE", &format!("/channels/{dev_id}"), None)
            .await
            .status,
        200
    );
    let deleted = ga.dispatch().await;
    assert_eq!(deleted["t"], "CHANNEL_DELETE");
    assert_eq!(deleted["d"], json!({"id": dev_id, "server_id": team_id}));
    alice
        .get(&format!("/channels/{dev_id}"))
        .await
        .expect_error(404, "Channel not found");
    // Bob saw none of it.
    ga.heartbeat(None).await;
    gb.heartbeat(None).await;
}

#[tokio::test]
async fn direct_messages() {
    let server = Server::start();
    let (alice, tok) = token(&server, "alice").await;
    let (bob, bob_tok) = token(&server, "bobby").await;
    let bob_id = bob.get("/users/@me").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (mut ga, _) = Gateway::ready(&server, &tok).await;
    let (mut gb, _) = Gateway::ready(&server, &bob_tok).await;
    let dm = alice
        .post("/users/@me/channels", json!({"recipient_id": bob_id}))
        .await;
    assert_eq!(dm.status, 200);
    assert_eq!(dm.body["recipient"]["username"], "bobby");
    assert_eq!(dm.body["last_message_id"], json!(null));
    let dm_id = dm.body["id"].as_str().unwrap().to_owned();
    // Idempotent.
    let again = alice
        .post("/users/@me/channels", json!({"recipient_id": bob_id}))
        .await;
    assert_eq!(again.body["id"], dm_id.as_str());
    let m = alice.say(&dm_id, "psst").await;
    for g in [&mut ga, &mut gb] {
        let f = g.dispatch().await;
        assert_eq!(
            (f["t"].as_str(), f["d"]["content"].as_str()),
            (Some("MESSAGE_CREATE"), Some("psst"))
        );
        assert_eq!(f["d"]["channel_id"], dm_id.as_str());
    }
    let listed = bob.get("/users/@me/channels").await;
    assert_eq!(listed.body[0]["id"], dm_id.as_str());
    assert_eq!(listed.body[0]["recipient"]["username"], "alice");
    assert_eq!(listed.body[0]["last_message_id"], m["id"]);
    // Others cannot read it.
    let (carol, _) = token(&server, "carol").await;
    carol
        .get(&format!("/channels/{dm_id}/messages"))
        .await
        .expect_error(404, "Channel not found");
    alice
        .post("/users/@me/channels", json!({"recipient_id": "12345"}))
        .await
        .expect_error(404, "User not found");
    alice
        .post("/users/@me/channels", json!({"recipient_id": "bob"}))
        .await
        .expect_error(400, "Invalid recipient ID");
    alice
        .post("/users/@me/channels", json!({"recipient_id": true}))
        .await
        .expect_error(400, "Invalid recipient ID");
}

#[tokio::test]
async fn invites_let_users_join_servers() {
    let server =
        Server::start_with(Options::default().env("CHORUS__PLEXICHAT__RATE_LIMITS", "false"));
    let (alice, tok) = token(&server, "alice").await;
    let (bob, bob_tok) = token(&server, "bobby").await;
    let (carol, _) = token(&server, "carol").await;
    // Every intent but GUILD_PRESENCES (1 << 8): GUILD_MEMBER_ADD needs GUILD_MEMBERS.
    let (mut ga, _) = Gateway::hello(&server).await;
    ga.send(json!({"op": 2, "d": {"token": tok, "intents": 1900543 - 256}}))
        .await;
    assert_eq!(ga.recv().await["t"], "READY");
    let (mut gb, _) = Gateway::ready(&server, &bob_tok).await;
    let team = alice.post("/servers/", json!({"name": "Team"})).await.body;
    let team_id = team["id"].as_str().unwrap().to_owned();
    let general = team["default_channel_id"].as_str().unwrap().to_owned();
    assert_eq!(ga.dispatch().await["t"], "GUILD_CREATE");

    let inv = alice
        .post(
            &format!("/channels/{general}/invites"),
            json!({"max_age": 3600, "max_uses": 1}),
        )
        .await;
    assert_eq!(inv.status, 200);
    assert_eq!(inv.body["server_id"], team_id.as_str());
    assert_eq!(inv.body["uses"], 0);
    let code = inv.body["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 8);
    let info = bob.get(&format!("/channels/invites/{code}")).await;
    assert_eq!(info.body["server_name"], "Team");
    assert!(info.body["expires_at"].as_i64().is_some());
    bob.post(&format!("/channels/{general}/invites"), json!({}))
        .await
        .expect_error(404, "Channel not found");

    let joined = bob
        .post(&format!("/channels/invites/{code}"), json!({}))
        .await;
    assert_eq!(joined.body, json!({"success": true, "server_id": team_id}));
    let guild = gb.dispatch().await;
    assert_eq!(guild["t"], "GUILD_CREATE");
    assert_eq!(guild["d"]["member_count"], 2);
    assert_eq!(guild["d"]["channels"][0]["id"], general.as_str());
    let added = ga.dispatch().await;
    assert_eq!(added["t"], "GUILD_MEMBER_ADD");
    assert_eq!(added["d"]["user"]["username"], "bobby");
    assert_eq!(
        bob.get(&format!("/servers/{team_id}")).await.body["member_count"],
        2
    );
    bob.say(&general, "hi team").await;
    for g in [&mut ga, &mut gb] {
        assert_eq!(g.dispatch().await["d"]["content"], "hi team");
    }
    // Used up (max_uses 1).
    carol
        .post(&format!("/channels/invites/{code}"), json!({}))
        .await
        .expect_error(404, "Invite not found or expired");
    carol
        .get("/channels/invites/nope1234")
        .await
        .expect_error(404, "Invite not found or expired");

    let second = alice
        .post(&format!("/channels/{general}/invites"), json!({}))
        .await
        .body;
    let code2 = second["code"].as_str().unwrap().to_owned();
    assert_eq!(second["max_age"], 86400);
    let listed = alice.get(&format!("/servers/{team_id}/invites")).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 2);
    bob.call("DELETE", &format!("/channels/invites/{code2}"), None)
        .await
        .expect_error(403, "Missing permissions");
    assert_eq!(
        alice
            .call("DELETE", &format!("/channels/invites/{code2}"), None)
            .await
            .status,
        200
    );
    carol
        .post(&format!("/channels/invites/{code2}"), json!({}))
        .await
        .expect_error(404, "Invite not found or expired");
}

#[tokio::test]
async fn webhooks_post_messages() {
    let server =
        Server::start_with(Options::default().env("CHORUS__PLEXICHAT__RATE_LIMITS", "false"));
    let (alice, tok) = token(&server, "alice").await;
    let (bob, _) = token(&server, "bobby").await;
    let team = alice.post("/servers/", json!({"name": "Team"})).await.body;
    let general = team["default_channel_id"].as_str().unwrap().to_owned();
    let (mut ga, _) = Gateway::ready(&server, &tok).await;

    // Plain members of the default server may not create webhooks; the owner may.
    bob.post(
        "/webhooks",
        json!({"channel_id": general_channel(), "name": "CI"}),
    )
    .await
    .expect_error(403, "Missing permissions");
    bob.post("/webhooks", json!({"channel_id": general, "name": "CI"}))
        .await
        .expect_error(404, "Channel not found");
    let hook = alice
        .post("/webhooks", json!({"channel_id": general, "name": "CI"}))
        .await;
    assert_eq!(hook.status, 200);
    let id = hook.body["id"].as_str().unwrap().to_owned();
    let secret = hook.body["token"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 64);
    assert_eq!(hook.body["url"], format!("/webhooks/{id}/{secret}"));
    let shown = alice.get(&format!("/webhooks/{id}")).await;
    assert_eq!(shown.body["token"], json!(null));
    bob.get(&format!("/webhooks/{id}"))
        .await
        .expect_error(403, "Missing permissions");

    // Execute without credentials; MESSAGE_CREATE follows (a deliberate fix of the reference).
    let anon = Api::new(&server);
    let posted = anon
        .post(
            &format!("/webhooks/{id}/{secret}"),
            json!({"content": "Build passed"}),
        )
        .await;
    assert_eq!(posted.body, json!({"success": true, "message": null}));
    let m = ga.dispatch().await;
    assert_eq!(m["t"], "MESSAGE_CREATE");
    assert_eq!(m["d"]["content"], "Build passed");
    assert_eq!(m["d"]["author_username"], "CI");
    let waited = anon
        .post(
            &format!("/webhooks/{id}/{secret}?wait=true"),
            json!({"content": "Deployed", "username": "CD bot"}),
        )
        .await;
    assert_eq!(waited.body["username"], "CD bot");
    assert_eq!(waited.body["channel_id"], general.as_str());
    let m = ga.dispatch().await;
    assert_eq!(
        (m["d"]["author_username"].as_str(), m["d"]["id"].as_str()),
        (Some("CD bot"), waited.body["id"].as_str())
    );
    anon.post(&format!("/webhooks/{id}/wrong"), json!({"content": "x"}))
        .await
        .expect_error(401, "Invalid webhook token");
    anon.post(&format!("/webhooks/{id}/{secret}"), json!({}))
        .await
        .expect_error(400, "Message must have content or embeds");
    anon.post("/webhooks/12345/x", json!({"content": "x"}))
        .await
        .expect_error(404, "Webhook not found");
    assert_eq!(
        alice
            .call("DELETE", &format!("/webhooks/{id}"), None)
            .await
            .status,
        200
    );
    anon.post(&format!("/webhooks/{id}/{secret}"), json!({"content": "x"}))
        .await
        .expect_error(404, "Webhook not found");
}

#[tokio::test]
async fn bot_accounts_use_bot_tokens() {
    let server = Server::start();
    let (alice, tok) = token(&server, "alice").await;
    let app = alice
        .post(
            "/applications",
            json!({"name": "Helper", "description": "Answers questions"}),
        )
        .await;
    assert_eq!(app.status, 201);
    assert_eq!(app.body["bot_id"], json!(null));
    let app_id = app.body["id"].as_str().unwrap().to_owned();
    let bot = alice
        .post(&format!("/applications/{app_id}/bot"), json!({}))
        .await;
    assert_eq!(bot.status, 201);
    let bot_token = bot.body["token"].as_str().unwrap().to_owned();
    let bot_id = bot.body["bot_id"].as_str().unwrap().to_owned();
    assert!(bot_token.starts_with(&format!("bot.{bot_id}.")));
    assert_eq!(bot_token.rsplit('.').next().unwrap().len(), 64);
    alice
        .post(&format!("/applications/{app_id}/bot"), json!({}))
        .await
        .expect_error(400, "Application already has a bot");
    let (bob, _) = token(&server, "bobby").await;
    bob.post(&format!("/applications/{app_id}/bot"), json!({}))
        .await
        .expect_error(404, "Application not found");

    // `Authorization: Bot <token>` is the bot itself (not its owner, as in the reference).
    let me = crate::plexichat_support::request(
        server.addr,
        "GET",
        "/api/v1/users/@me",
        &[("Authorization", &format!("Bot {bot_token}"))],
        None,
    )
    .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["id"], bot_id.as_str());
    assert_eq!(me.body["username"], "Helper");
    let (mut gbot, ready) = Gateway::ready(&server, &bot_token).await;
    assert_eq!(ready["user"]["bot"], true);
    assert_eq!(ready["user"]["id"], bot_id.as_str());
    let (mut ga, _) = Gateway::ready(&server, &tok).await;
    let as_bot = Api::new(&server).with_token(&bot_token);
    as_bot.say(&general_channel(), "beep").await;
    for g in [&mut ga, &mut gbot] {
        let m = g.dispatch().await;
        assert_eq!(
            (m["d"]["content"].as_str(), m["d"]["author_id"].as_str()),
            (Some("beep"), Some(bot_id.as_str()))
        );
    }
}

#[tokio::test]
async fn roles_permission_keys_and_hierarchy() {
    let server =
        Server::start_with(Options::default().env("CHORUS__PLEXICHAT__RATE_LIMITS", "false"));
    let (alice, tok) = token(&server, "alice").await;
    let (bob, _) = token(&server, "bobby").await;
    let (carol, _) = token(&server, "carol").await;
    let team = alice.post("/servers/", json!({"name": "Team"})).await.body;
    let team_id = team["id"].as_str().unwrap().to_owned();
    let general = team["default_channel_id"].as_str().unwrap().to_owned();
    let code = alice
        .post(&format!("/channels/{general}/invites"), json!({}))
        .await
        .body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    for u in [&bob, &carol] {
        assert_eq!(
            u.post(&format!("/channels/invites/{code}"), json!({}))
                .await
                .status,
            200
        );
    }
    let bob_id = bob.get("/users/@me").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let carol_id = carol.get("/users/@me").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (mut ga, _) = Gateway::ready(&server, &tok).await;

    let roles = alice.get(&format!("/servers/{team_id}/roles")).await;
    assert_eq!(roles.body[0]["name"], "@everyone");
    assert_eq!(roles.body[0]["permissions"]["messages.send"], true);
    let everyone = roles.body[0]["id"].as_str().unwrap().to_owned();
    let plain = carol.get(&format!("/servers/{team_id}/permissions")).await;
    assert_eq!(plain.body["messages.send"], true);
    assert!(plain.body.get("messages.manage").is_none());
    let owner = alice.get(&format!("/servers/{team_id}/permissions")).await;
    assert_eq!(owner.body["administrator"], true);
    carol
        .post(
            &format!("/servers/{team_id}/roles"),
            json!({"name": "Mine"}),
        )
        .await
        .expect_error(403, "Missing permissions");
    alice
        .post(
            &format!("/servers/{team_id}/roles"),
            json!({"name": "Bad", "color": "blue"}),
        )
        .await
        .expect_error(
            400,
            "Invalid color: String should match pattern '^#[0-9A-Fa-f]{6}$'",
        );

    let mods = alice
        .post(
            &format!("/servers/{team_id}/roles"),
            json!({"name": "Mods", "color": "#3498db", "hoist": true, "permissions":
                {"messages.manage": true, "roles.manage": true, "members.manage_roles": true}}),
        )
        .await;
    assert_eq!(mods.status, 200);
    assert_eq!(mods.body["position"], 1);
    assert_eq!(mods.body["permissions"]["messages.manage"], true);
    let mods_id = mods.body["id"].as_str().unwrap().to_owned();
    let created = ga.dispatch().await;
    assert_eq!(created["t"], "GUILD_ROLE_CREATE");
    assert_eq!(created["d"]["role"]["name"], "Mods");
    assert_eq!(created["d"]["guild_id"], team_id.as_str());

    // Bob becomes a moderator: he may delete Carol's message now.
    let m = carol.say(&general, "spam").await;
    let m_id = m["id"].as_str().unwrap();
    let path = format!("/channels/{general}/messages/{m_id}");
    bob.call("DELETE", &path, None)
        .await
        .expect_error(403, "You can only modify your own messages");
    let give = format!("/servers/{team_id}/members/{bob_id}/roles/{mods_id}");
    bob.call("PUT", &give, None)
        .await
        .expect_error(403, "Missing permissions");
    assert_eq!(alice.call("PUT", &give, None).await.status, 200);
    assert_eq!(bob.call("DELETE", &path, None).await.status, 200);
    assert_eq!(
        bob.get(&format!("/servers/{team_id}/permissions"))
            .await
            .body["roles.manage"],
        true
    );

    // Hierarchy: Bob cannot touch his own top role or anything above it.
    let helpers = bob
        .post(
            &format!("/servers/{team_id}/roles"),
            json!({"name": "Helpers"}),
        )
        .await;
    assert_eq!(helpers.body["position"], 2);
    let helpers_id = helpers.body["id"].as_str().unwrap().to_owned();
    let denied = "You cannot manage a role at or above your highest role";
    bob.call(
        "PATCH",
        &format!("/servers/{team_id}/roles/{mods_id}"),
        Some(json!({"name": "Gods"})),
    )
    .await
    .expect_error(403, denied);
    bob.call(
        "PUT",
        &format!("/servers/{team_id}/members/{carol_id}/roles/{helpers_id}"),
        None,
    )
    .await
    .expect_error(403, denied);
    bob.call(
        "DELETE",
        &format!("/servers/{team_id}/roles/{helpers_id}"),
        None,
    )
    .await
    .expect_error(403, denied);
    alice
        .call(
            "PATCH",
            &format!("/servers/{team_id}/roles/{everyone}"),
            Some(json!({"name": "all"})),
        )
        .await
        .expect_error(400, "The @everyone role cannot be renamed or moved");
    alice
        .call(
            "DELETE",
            &format!("/servers/{team_id}/roles/{everyone}"),
            None,
        )
        .await
        .expect_error(400, "The @everyone role cannot be deleted");
    // The owner can do anything.
    let renamed = alice
        .call(
            "PATCH",
            &format!("/servers/{team_id}/roles/{mods_id}"),
            Some(json!({"name": "Moderators"})),
        )
        .await;
    assert_eq!(renamed.body["name"], "Moderators");
    assert_eq!(
        alice
            .call(
                "DELETE",
                &format!("/servers/{team_id}/roles/{helpers_id}"),
                None
            )
            .await
            .status,
        200
    );
    let mut seen = Vec::new();
    for _ in 0..5 {
        let f = ga.dispatch().await;
        seen.push(f["t"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        seen,
        [
            "MESSAGE_CREATE",
            "MESSAGE_DELETE",
            "GUILD_ROLE_CREATE",
            "GUILD_ROLE_UPDATE",
            "GUILD_ROLE_DELETE"
        ]
    );
    // Taking the role back removes the power.
    assert_eq!(alice.call("DELETE", &give, None).await.status, 200);
    assert!(
        bob.get(&format!("/servers/{team_id}/permissions"))
            .await
            .body
            .get("roles.manage")
            .is_none()
    );
}

#[tokio::test]
async fn members_kick_and_leave() {
    let server =
        Server::start_with(Options::default().env("CHORUS__PLEXICHAT__RATE_LIMITS", "false"));
    let (alice, _) = token(&server, "alice").await;
    let (bob, bob_tok) = token(&server, "bobby").await;
    let (carol, _) = token(&server, "carol").await;
    let team = alice.post("/servers/", json!({"name": "Team"})).await.body;
    let team_id = team["id"].as_str().unwrap().to_owned();
    let general = team["default_channel_id"].as_str().unwrap().to_owned();
    let code = alice
        .post(&format!("/channels/{general}/invites"), json!({}))
        .await
        .body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    for u in [&bob, &carol] {
        u.post(&format!("/channels/invites/{code}"), json!({}))
            .await;
    }
    let alice_id = alice.get("/users/@me").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bob_id = bob.get("/users/@me").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let members = alice.get(&format!("/servers/{team_id}/members")).await;
    let mut names: Vec<&str> = members
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["username"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["alice", "bobby", "carol"]);
    assert_eq!(
        alice
            .get(&format!("/servers/{team_id}/members?limit=1"))
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );

    carol
        .call(
            "DELETE",
            &format!("/servers/{team_id}/members/{bob_id}"),
            None,
        )
        .await
        .expect_error(403, "Missing permissions");
    let (mut gb, _) = Gateway::ready(&server, &bob_tok).await;
    assert_eq!(
        alice
            .call(
                "DELETE",
                &format!("/servers/{team_id}/members/{bob_id}"),
                None
            )
            .await
            .status,
        200
    );
    bob.get(&format!("/servers/{team_id}"))
        .await
        .expect_error(404, "Server not found");
    // Bob's session no longer hears the server.
    alice.say(&general, "after the kick").await;
    gb.heartbeat(None).await;
    alice
        .post(&format!("/servers/{team_id}/leave"), json!({}))
        .await
        .expect_error(400, "The owner cannot leave the server");
    assert_eq!(
        carol
            .post(&format!("/servers/{team_id}/leave"), json!({}))
            .await
            .status,
        200
    );
    assert_eq!(
        carol.get("/servers/").await.body.as_array().unwrap().len(),
        1
    );
    carol
        .call(
            "DELETE",
            &format!("/servers/{team_id}/members/{alice_id}"),
            None,
        )
        .await
        .expect_error(404, "Server not found");
}

#[tokio::test]
async fn shutdown_sends_server_status_then_4017() {
    let mut server = Server::start();
    let (_, tok) = token(&server, "alice").await;
    let (mut g, _) = Gateway::ready(&server, &tok).await;
    let (mut anon, _) = Gateway::hello(&server).await;
    // Stop on another thread: the wait for exit must not block this runtime.
    let pid = server.pid();
    let stopper = std::thread::spawn(move || {
        // SAFETY: plain kill(2) on the server child started by this test.
        unsafe {
            libc::kill(pid as i32, libc::SIGTERM);
        }
    });
    let status = g.recv().await;
    assert_eq!(status["op"], 12, "{status}");
    assert_eq!(status["d"]["state"], "shutting_down");
    g.expect_close(4017, "Server shutdown").await;
    drop(g);
    // Connections that never identified get no status, just the close.
    anon.expect_close(4017, "Server shutdown").await;
    drop(anon);
    stopper.join().unwrap();
    assert!(server.stop().success());
}

#[tokio::test]
async fn presence_needs_the_guild_presences_intent() {
    let server = Server::start();
    let (_, tok) = token(&server, "alice").await;
    let (bob, bob_tok) = token(&server, "bobby").await;
    let bob_id = bob.get("/users/@me").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (mut watcher, _) = Gateway::hello(&server).await;
    watcher
        .send(json!({"op": 2, "d": {"token": tok, "intents": 1900543}}))
        .await;
    assert_eq!(watcher.recv().await["t"], "READY");
    // Default intents lack GUILD_PRESENCES (1 << 8): this one hears nothing.
    let (mut deaf, _) = Gateway::ready(&server, &tok).await;
    let (mut g, _) = Gateway::ready(&server, &bob_tok).await;
    let online = watcher.dispatch().await;
    assert_eq!(online["t"], "PRESENCE_UPDATE");
    assert_eq!(
        online["d"],
        json!({"user_id": bob_id, "status": "online", "custom_status": null, "custom_emoji": null})
    );
    g.send(json!({"op": 3, "d": {"status": "dnd", "custom_status": "busy"}}))
        .await;
    let dnd = watcher.dispatch().await;
    assert_eq!(
        (
            dnd["d"]["status"].as_str(),
            dnd["d"]["custom_status"].as_str()
        ),
        (Some("dnd"), Some("busy"))
    );
    g.send(json!({"op": 3, "d": {"status": "invisible"}})).await;
    assert_eq!(watcher.dispatch().await["d"]["status"], "offline");
    g.send(json!({"op": 3, "d": {"status": "sleeping"}})).await;
    g.expect_close(4002, "Decode error").await;
    drop(g);
    let offline = watcher.dispatch().await;
    assert_eq!(
        (
            offline["d"]["user_id"].as_str(),
            offline["d"]["status"].as_str()
        ),
        (Some(bob_id.as_str()), Some("offline"))
    );
    deaf.heartbeat(None).await;
}

#[tokio::test]
async fn presence_over_rest_and_public_profiles() {
    let server = Server::start();
    let (alice, tok) = token(&server, "alice").await;
    let (bob, _) = token(&server, "bobby").await;
    let bob_id = bob.get("/users/@me").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (mut watcher, _) = Gateway::hello(&server).await;
    watcher
        .send(json!({"op": 2, "d": {"token": tok, "intents": 1900543}}))
        .await;
    assert_eq!(watcher.recv().await["t"], "READY");
    let r = bob
        .call(
            "PUT",
            "/users/@me/presence",
            Some(json!({"status": "idle", "custom_status": "lunch"})),
        )
        .await;
    assert_eq!(r.status, 200);
    let p = watcher.dispatch().await;
    assert_eq!(
        p["d"],
        json!({"user_id": bob_id, "status": "idle", "custom_status": "lunch", "custom_emoji": null})
    );
    bob.call(
        "PUT",
        "/users/@me/presence",
        Some(json!({"status": "away"})),
    )
    .await
    .expect_error(
        400,
        "Invalid status: Input should be 'online', 'idle', 'dnd', 'invisible' or 'offline'",
    );
    let profile = alice.get(&format!("/users/{bob_id}")).await;
    assert_eq!(profile.body["username"], "bobby");
    assert!(profile.body.get("email").is_none());
    alice
        .get("/users/12345")
        .await
        .expect_error(404, "User not found");
    alice
        .get("/users/bob")
        .await
        .expect_error(400, "Invalid user ID");
}
