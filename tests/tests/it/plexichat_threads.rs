//! Plexichat threads (§2.9: `/channels/{id}/threads`, `/threads/{id}`, THREAD_* dispatches),
//! message search (§2.10), and threads shared with OriginChats.

use crate::originchats::cracked;
use crate::plexichat_support::{Api, Gateway, general_channel};
use crate::support::Server;
use serde_json::{Value, json};

/// alice's server `Team` with bob invited; carol is not a member. Returns the APIs and the
/// server's general channel.
async fn team(server: &Server) -> (Api, Api, Api, String) {
    let api = Api::new(server);
    let alice = api.register("alice").await;
    let bob = api.register("bob").await;
    let carol = api.register("carol").await;
    let s = alice.post("/servers/", json!({"name": "Team"})).await;
    assert_eq!(s.status, 200, "{}", s.body);
    let sid = s.body["id"].as_str().unwrap().to_owned();
    let channels = alice.get(&format!("/servers/{sid}/channels")).await;
    let general = channels.body[0]["id"].as_str().unwrap().to_owned();
    let inv = alice
        .post(&format!("/channels/{general}/invites"), json!({}))
        .await;
    let code = inv.body["code"].as_str().unwrap().to_owned();
    let joined = bob
        .post(&format!("/channels/invites/{code}"), json!({}))
        .await;
    assert_eq!(joined.status, 200, "{}", joined.body);
    (alice, bob, carol, general)
}

#[tokio::test]
async fn thread_routes_and_dispatches() {
    let server = Server::start();
    let (alice, bob, carol, general) = team(&server).await;
    let (mut ga, _) = Gateway::ready(&server, alice.token.as_deref().unwrap()).await;
    let (mut gb, _) = Gateway::ready(&server, bob.token.as_deref().unwrap()).await;
    let (mut gc, _) = Gateway::ready(&server, carol.token.as_deref().unwrap()).await;

    // Create: the reply is ThreadResponse; both members get THREAD_CREATE.
    let r = alice
        .post(
            &format!("/channels/{general}/threads"),
            json!({"name": "Release notes", "auto_archive_duration": 60}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let t = r.body.clone();
    assert_eq!(t["name"], "Release notes");
    assert_eq!(t["channel_id"], general.as_str());
    assert_eq!(t["thread_type"], "public");
    assert_eq!(t["state"], "active");
    assert_eq!(t["auto_archive_duration"], 60);
    assert_eq!(t["member_count"], 1);
    assert_eq!(t["message_count"], 0);
    assert_eq!(t["locked"], false);
    let tid = t["id"].as_str().unwrap().to_owned();
    for g in [&mut ga, &mut gb] {
        let d = g.dispatch().await;
        assert_eq!(d["t"], "THREAD_CREATE", "{d}");
        assert_eq!(d["d"]["id"], tid.as_str());
        assert_eq!(d["d"]["parent_id"], general.as_str());
        assert_eq!(d["d"]["guild_id"], t["server_id"]);
        assert_eq!(d["d"]["owner_id"], t["owner_id"]);
    }

    // A message in the thread: the thread id is its channel id.
    let m = bob.say(&tid, "hello thread").await;
    assert_eq!(m["channel_id"], tid.as_str());
    for g in [&mut ga, &mut gb] {
        let d = g.dispatch().await;
        assert_eq!(d["t"], "MESSAGE_CREATE");
        assert_eq!(d["d"]["channel_id"], tid.as_str());
        assert_eq!(d["d"]["content"], "hello thread");
    }
    let del = bob
        .call(
            "DELETE",
            &format!("/channels/{tid}/messages/{}", m["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(del.status, 200, "{}", del.body);
    for g in [&mut ga, &mut gb] {
        let d = g.dispatch().await;
        assert_eq!(d["t"], "MESSAGE_DELETE");
        assert_eq!(d["d"]["server_id"], t["server_id"]);
    }
    bob.say(&tid, "hello again").await;
    ga.dispatch().await;
    gb.dispatch().await;

    // List and get.
    let list = bob.get(&format!("/channels/{general}/threads")).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body[0]["id"], tid.as_str());
    assert_eq!(list.body[0]["message_count"], 1);
    assert!(list.body[0]["last_message_at"].as_i64().is_some());
    let one = bob.get(&format!("/threads/{tid}")).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body["id"], tid.as_str());

    // Update: only the owner (or a thread manager).
    bob.call(
        "PATCH",
        &format!("/threads/{tid}"),
        Some(json!({"name": "Mine"})),
    )
    .await
    .expect_error(403, "Access denied");
    let up = alice
        .call(
            "PATCH",
            &format!("/threads/{tid}"),
            Some(json!({"name": "Release notes 1.2", "auto_archive_duration": 4320})),
        )
        .await;
    assert_eq!(up.status, 200, "{}", up.body);
    assert_eq!(up.body["name"], "Release notes 1.2");
    assert_eq!(up.body["auto_archive_duration"], 4320);
    for g in [&mut ga, &mut gb] {
        let d = g.dispatch().await;
        assert_eq!(d["t"], "THREAD_UPDATE");
        assert_eq!(d["d"]["name"], "Release notes 1.2");
    }

    // Errors.
    let path = format!("/channels/{general}/threads");
    alice
        .post(&path, json!({"name": "x", "thread_type": "secret"}))
        .await
        .expect_error(400, "Invalid thread type");
    alice
        .post(&path, json!({"name": "x", "auto_archive_duration": 5}))
        .await
        .expect_error(400, "Invalid auto-archive duration");
    alice
        .post(&path, json!({"name": ""}))
        .await
        .expect_error(400, "Invalid name: String should have at least 1 character");
    alice
        .post(&path, json!({"name": "x", "parent_message_id": "12345"}))
        .await
        .expect_error(404, "Message not found");
    carol
        .post(&path, json!({"name": "x"}))
        .await
        .expect_error(404, "Channel not found");
    carol
        .get(&path)
        .await
        .expect_error(404, "Channel not found");
    carol
        .get(&format!("/threads/{tid}"))
        .await
        .expect_error(403, "Access denied");
    alice
        .get("/threads/abc")
        .await
        .expect_error(400, "Invalid thread ID");
    alice
        .get("/threads/12345")
        .await
        .expect_error(404, "Thread not found");
    bob.call("DELETE", &format!("/threads/{tid}"), None)
        .await
        .expect_error(403, "Access denied");

    // Search: the thread and the channel are searched, newest first, with a cursor.
    bob.say(&general, "Hello channel").await;
    ga.dispatch().await;
    gb.dispatch().await;
    let s = bob.get("/search/messages?query=HELLO&limit=1").await;
    assert_eq!(s.status, 200, "{}", s.body);
    assert_eq!(s.body["results"][0]["content"], "Hello channel");
    let cursor = s.body["next_cursor"].as_str().unwrap().to_owned();
    let s2 = bob
        .get(&format!(
            "/search/messages?query=hello&limit=1&cursor={cursor}"
        ))
        .await;
    assert_eq!(s2.body["results"][0]["content"], "hello again");
    let s3 = bob
        .get(&format!(
            "/search/messages?query=hello&channel_id={general}"
        ))
        .await;
    assert_eq!(s3.body["results"].as_array().unwrap().len(), 1);
    assert_eq!(s3.body["next_cursor"], Value::Null);
    let s4 = carol.get("/search/messages?query=hello").await;
    assert_eq!(s4.body["results"], json!([]));
    carol
        .get(&format!(
            "/search/messages?query=hello&channel_id={general}"
        ))
        .await
        .expect_error(404, "Channel not found");
    bob.get("/search/messages")
        .await
        .expect_error(400, "Invalid query: Field required");
    bob.get("/search/messages?query=x&limit=0")
        .await
        .expect_error(
            400,
            "Invalid limit: Input should be greater than or equal to 1",
        );

    // Delete.
    let d = alice.call("DELETE", &format!("/threads/{tid}"), None).await;
    assert_eq!(d.status, 200, "{}", d.body);
    assert_eq!(d.body, json!({"success": true, "message": null}));
    for g in [&mut ga, &mut gb] {
        let f = g.dispatch().await;
        assert_eq!(f["t"], "THREAD_DELETE");
        assert_eq!(
            f["d"],
            json!({"id": tid, "guild_id": t["server_id"], "parent_id": general})
        );
    }
    alice
        .get(&format!("/threads/{tid}"))
        .await
        .expect_error(404, "Thread not found");

    // carol, outside the server, received none of it: her next dispatch is her own message.
    carol.say(&general_channel(), "me").await;
    let f = gc.dispatch().await;
    assert_eq!(f["t"], "MESSAGE_CREATE");
    assert_eq!(f["d"]["content"], "me");
}

/// A forum thread opened through OriginChats: its messages reach the Plexichat gateway, and a
/// message posted to the thread over REST reaches the OriginChats client.
#[tokio::test]
async fn threads_cross_between_originchats_and_plexichat() {
    let server = cracked();
    let mut boss = crate::originchats_threads::member(&server, "boss", "owner").await;
    let px = Api::new(&server).register("pat").await;
    let (mut gw, _) = Gateway::ready(&server, px.token.as_deref().unwrap()).await;

    boss.send(
        json!({"cmd": "channel_create", "name": "support", "type": "forum",
        "permissions": {"view": ["user"], "send": ["user"], "create_thread": ["user"]}}),
    )
    .await;
    assert_eq!(boss.recv().await["cmd"], "channel_create");
    assert_eq!(boss.recv().await["cmd"], "channels_get");
    let created = gw.dispatch().await;
    assert_eq!(created["t"], "CHANNEL_CREATE");
    let forum = created["d"]["id"].as_str().unwrap().to_owned();

    boss.send(json!({"cmd": "thread_create", "channel": "support", "name": "Help"}))
        .await;
    let t = boss.recv().await;
    assert_eq!(t["cmd"], "thread_create");
    let oc_tid = t["thread"]["id"].as_str().unwrap().to_owned();
    let d = gw.dispatch().await;
    assert_eq!(d["t"], "THREAD_CREATE", "{d}");
    assert_eq!(d["d"]["name"], "Help");
    assert_eq!(d["d"]["parent_id"], forum.as_str());
    let px_tid = d["d"]["id"].as_str().unwrap().to_owned();

    boss.send(json!({"cmd": "message_new", "thread_id": oc_tid, "content": "from originchats"}))
        .await;
    assert_eq!(boss.recv().await["cmd"], "message_new");
    let d = gw.dispatch().await;
    assert_eq!(d["t"], "MESSAGE_CREATE");
    assert_eq!(d["d"]["channel_id"], px_tid.as_str());
    assert_eq!(d["d"]["content"], "from originchats");
    assert_eq!(d["d"]["author_username"], "boss");

    px.say(&px_tid, "from plexichat").await;
    let m = boss.recv().await;
    assert_eq!(m["cmd"], "message_new");
    assert_eq!(m["channel"], "support");
    assert_eq!(m["thread_id"], oc_tid.as_str());
    assert_eq!(m["message"]["content"], "from plexichat");
    assert_eq!(m["message"]["user"], "pat");
    assert_eq!(gw.dispatch().await["t"], "MESSAGE_CREATE");

    // Renaming over REST is a thread_update for OriginChats (pat is not the owner: 403).
    px.call(
        "PATCH",
        &format!("/threads/{px_tid}"),
        Some(json!({"name": "x"})),
    )
    .await
    .expect_error(403, "Access denied");
    boss.send(json!({"cmd": "thread_update", "thread_id": oc_tid, "name": "Help!"}))
        .await;
    assert_eq!(boss.recv().await["thread"]["name"], "Help!");
    let d = gw.dispatch().await;
    assert_eq!(d["t"], "THREAD_UPDATE");
    assert_eq!(d["d"]["name"], "Help!");
}
