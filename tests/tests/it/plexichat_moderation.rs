//! Plexichat moderation over the core: bans (list, add, remove), member timeouts and
//! nicknames, server PATCH/DELETE, with their dispatches (GUILD_BAN_*, GUILD_MEMBER_UPDATE,
//! GUILD_MEMBER_REMOVE, GUILD_UPDATE, GUILD_DELETE) and who must not get them; bans and roles
//! shared with OriginChats.

use crate::originchats::Oc;
use crate::plexichat_support::{Api, Gateway, general_channel};
use crate::support::{Options, Server};
use serde_json::{Value, json};

/// Every intent but GUILD_PRESENCES (1 << 8).
const INTENTS: i64 = 1900543 - 256;

fn server() -> Server {
    Server::start_with(
        Options::default()
            .env("CHORUS__PLEXICHAT__RATE_LIMITS", "false")
            .env("CHORUS__ORIGINCHATS__AUTH_MODE", "cracked-only"),
    )
}

async fn token(server: &Server, name: &str) -> (Api, String) {
    let api = Api::new(server).register(name).await;
    let t = api.token.clone().unwrap();
    (api, t)
}

async fn gateway(server: &Server, tok: &str) -> Gateway {
    let (mut g, _) = Gateway::hello(server).await;
    g.send(json!({"op": 2, "d": {"token": tok, "intents": INTENTS}}))
        .await;
    assert_eq!(g.recv().await["t"], "READY");
    g
}

/// alice owns "Team"; bob and carol joined it by invite; alice's and bob's gateways have seen
/// everything up to now. Returns (team id, its general channel).
struct Team {
    server: Server,
    alice: Api,
    bob: Api,
    carol: Api,
    ga: Gateway,
    gb: Gateway,
    id: String,
    general: String,
}

async fn team() -> Team {
    let server = server();
    let (alice, ta) = token(&server, "alice").await;
    let (bob, tb) = token(&server, "bob").await;
    let (carol, _) = token(&server, "carol").await;
    let mut ga = gateway(&server, &ta).await;
    let mut gb = gateway(&server, &tb).await;
    let t = alice.post("/servers/", json!({"name": "Team"})).await.body;
    let id = t["id"].as_str().unwrap().to_owned();
    let general = t["default_channel_id"].as_str().unwrap().to_owned();
    assert_eq!(ga.dispatch().await["t"], "GUILD_CREATE");
    let code = alice
        .post(&format!("/channels/{general}/invites"), json!({}))
        .await
        .body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = bob
        .post(&format!("/channels/invites/{code}"), json!({}))
        .await;
    assert_eq!(r.status, 200, "bob: {}", r.body);
    // Bob's own GUILD_MEMBER_ADD may come before his GUILD_CREATE (the invite route
    // publishes them in that order).
    loop {
        let f = gb.dispatch().await;
        if f["t"] == "GUILD_CREATE" {
            break;
        }
        assert_eq!(f["t"], "GUILD_MEMBER_ADD", "{f}");
        assert_eq!(f["d"]["user"]["username"], "bob", "{f}");
    }
    assert_eq!(ga.dispatch().await["t"], "GUILD_MEMBER_ADD");
    let r = carol
        .post(&format!("/channels/invites/{code}"), json!({}))
        .await;
    assert_eq!(r.status, 200, "carol: {}", r.body);
    for g in [&mut ga, &mut gb] {
        let f = g.dispatch().await;
        assert_eq!(f["t"], "GUILD_MEMBER_ADD", "{f}");
        assert_eq!(f["d"]["user"]["username"], "carol");
    }
    Team {
        server,
        alice,
        bob,
        carol,
        ga,
        gb,
        id,
        general,
    }
}

/// Heartbeats and returns every frame queued before the ACK.
async fn until_ack(g: &mut Gateway) -> Vec<Value> {
    g.send(json!({"op": 1, "d": null})).await;
    let mut out = Vec::new();
    loop {
        let f = g.recv().await;
        if f == json!({"op": 11}) {
            return out;
        }
        out.push(f);
    }
}

/// The next dispatch that is not a GUILD_ROLE_UPDATE.
async fn skip_role_updates(g: &mut Gateway) -> Value {
    loop {
        let f = g.dispatch().await;
        if f["t"] != "GUILD_ROLE_UPDATE" {
            return f;
        }
    }
}

fn user_id(api: &Api, body: &Value) -> String {
    let _ = api;
    body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn bans_remove_the_member_keep_them_out_and_can_be_lifted() {
    let mut t = team().await;
    let bob_id = user_id(&t.bob, &t.bob.get("/users/@me").await.body);
    let carol_id = user_id(&t.carol, &t.carol.get("/users/@me").await.body);
    let alice_id = user_id(&t.alice, &t.alice.get("/users/@me").await.body);

    // Without members.ban: 403; on the owner: 403; on oneself: 400.
    t.carol
        .call(
            "PUT",
            &format!("/servers/{}/bans/{bob_id}", t.id),
            Some(json!({})),
        )
        .await
        .expect_error(403, "Missing permissions");
    t.alice
        .call("PUT", &format!("/servers/{}/bans/{alice_id}", t.id), None)
        .await
        .expect_error(400, "you cannot ban yourself");
    t.alice
        .call(
            "PUT",
            &format!("/servers/{}/bans/{bob_id}", t.id),
            Some(json!({"reason": "x".repeat(513)})),
        )
        .await
        .expect_error(
            400,
            "Invalid reason: String should have at most 512 characters",
        );
    t.alice
        .get(&format!("/servers/{}/bans", t.id))
        .await
        .assert_status(200);
    t.carol
        .get(&format!("/servers/{}/bans", t.id))
        .await
        .expect_error(403, "Missing permissions");

    let r = t
        .alice
        .call(
            "PUT",
            &format!("/servers/{}/bans/{bob_id}", t.id),
            Some(json!({"reason": "Spam", "delete_message_days": 1})),
        )
        .await;
    assert_eq!(r.body, json!({"success": true, "message": null}));
    // The owner's gateway: the member leaves, then the ban.
    let removed = t.ga.dispatch().await;
    assert_eq!(removed["t"], "GUILD_MEMBER_REMOVE");
    assert_eq!(
        removed["d"],
        json!({"guild_id": t.id, "user": {"id": bob_id, "username": "bob", "avatar_url": null}})
    );
    let banned = t.ga.dispatch().await;
    assert_eq!(banned["t"], "GUILD_BAN_ADD");
    assert_eq!(
        banned["d"],
        json!({"guild_id": t.id, "user_id": bob_id, "reason": "Spam"})
    );
    // Bob's own gateway hears he was removed (and may hear of his ban, queued at the same
    // time), then follows the server no more.
    let own = t.gb.dispatch().await;
    assert_eq!(own["t"], "GUILD_MEMBER_REMOVE");
    t.alice.say(&t.general, "after the ban").await;
    assert_eq!(t.ga.dispatch().await["d"]["content"], "after the ban");
    let rest = until_ack(&mut t.gb).await;
    assert!(
        rest.iter().all(|f| f["t"] == "GUILD_BAN_ADD"),
        "bob still follows the server: {rest:?}"
    );

    let list = t.alice.get(&format!("/servers/{}/bans", t.id)).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert_eq!(list.body[0]["user_id"], bob_id.as_str());
    assert_eq!(list.body[0]["reason"], "Spam");
    assert_eq!(list.body[0]["banned_by"], alice_id.as_str());
    // The banned user can neither see nor act in the server, nor rejoin.
    t.bob
        .get(&format!("/servers/{}", t.id))
        .await
        .expect_error(404, "Server not found");
    t.bob
        .post(
            &format!("/channels/{}/messages", t.general),
            json!({"content": "let me in"}),
        )
        .await
        .expect_error(404, "Channel not found");
    let members = t.alice.get(&format!("/servers/{}/members", t.id)).await;
    assert!(
        !members
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["user_id"] == bob_id.as_str()),
        "{}",
        members.body
    );
    let code = t
        .alice
        .post(&format!("/channels/{}/invites", t.general), json!({}))
        .await
        .body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    t.bob
        .post(&format!("/channels/invites/{code}"), json!({}))
        .await
        .expect_error(403, "You are banned from this server");

    // Unban: GUILD_BAN_REMOVE; a second unban is 404; bob may rejoin.
    let r = t
        .alice
        .call("DELETE", &format!("/servers/{}/bans/{bob_id}", t.id), None)
        .await;
    r.assert_status(200);
    let lifted = t.ga.dispatch().await;
    assert_eq!(lifted["t"], "GUILD_BAN_REMOVE");
    assert_eq!(lifted["d"], json!({"guild_id": t.id, "user_id": bob_id}));
    t.alice
        .call("DELETE", &format!("/servers/{}/bans/{bob_id}", t.id), None)
        .await
        .expect_error(404, "Ban not found");
    assert!(
        t.alice
            .get(&format!("/servers/{}/bans", t.id))
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );
    let r = t
        .bob
        .post(&format!("/channels/invites/{code}"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let _ = carol_id;
    drop(t.server);
}

#[tokio::test]
async fn timeouts_and_nicknames_update_the_member() {
    let mut t = team().await;
    let bob_id = user_id(&t.bob, &t.bob.get("/users/@me").await.body);
    let alice_id = user_id(&t.alice, &t.alice.get("/users/@me").await.body);
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        + 600_000;
    // Members without members.kick cannot time others out, nobody times out the owner.
    t.carol
        .call(
            "PATCH",
            &format!("/servers/{}/members/{bob_id}", t.id),
            Some(json!({"timeout_until": until})),
        )
        .await
        .expect_error(403, "Missing permissions");
    let r = t
        .alice
        .call(
            "PATCH",
            &format!("/servers/{}/members/{bob_id}", t.id),
            Some(json!({"timeout_until": until, "timeout_reason": "Spam"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["timeout_until"], until);
    assert_eq!(r.body["timeout_reason"], "Spam");
    assert_eq!(r.body["username"], "bob");
    for g in [&mut t.ga, &mut t.gb] {
        let f = g.dispatch().await;
        assert_eq!(f["t"], "GUILD_MEMBER_UPDATE");
        assert_eq!(f["d"]["user"]["id"], bob_id.as_str());
        assert_eq!(f["d"]["timeout_until"], until);
        assert_eq!(f["d"]["roles"], json!([]));
    }
    // A timed-out member reads but cannot send.
    t.bob
        .post(
            &format!("/channels/{}/messages", t.general),
            json!({"content": "quiet?"}),
        )
        .await
        .expect_error(
            403,
            "You do not have permission to send messages in this channel",
        );
    let members = t.alice.get(&format!("/servers/{}/members", t.id)).await;
    let bob = members
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == bob_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(bob["timeout_until"], until);
    assert_eq!(bob["timeout_reason"], "Spam");
    // Lifting it.
    let r = t
        .alice
        .call(
            "PATCH",
            &format!("/servers/{}/members/{bob_id}", t.id),
            Some(json!({"timeout_until": null})),
        )
        .await;
    assert_eq!(r.body["timeout_until"], Value::Null);
    assert_eq!(r.body["timeout_reason"], Value::Null);
    for g in [&mut t.ga, &mut t.gb] {
        assert_eq!(g.dispatch().await["t"], "GUILD_MEMBER_UPDATE");
    }
    t.bob.say(&t.general, "free again").await;
    for g in [&mut t.ga, &mut t.gb] {
        assert_eq!(g.dispatch().await["d"]["content"], "free again");
    }
    t.alice
        .call(
            "PATCH",
            &format!("/servers/{}/members/{alice_id}", t.id),
            Some(json!({"timeout_until": until})),
        )
        .await
        .expect_error(403, "Cannot modify the server owner");

    // Nicknames: one's own, yes; another's without members.manage_nicknames, no.
    let r = t
        .bob
        .call(
            "PATCH",
            &format!("/servers/{}/members/{bob_id}", t.id),
            Some(json!({"nickname": "Bobby"})),
        )
        .await;
    assert_eq!(r.body["nickname"], "Bobby");
    let f = t.ga.dispatch().await;
    assert_eq!(f["t"], "GUILD_MEMBER_UPDATE");
    assert_eq!(f["d"]["nickname"], "Bobby");
    assert_eq!(t.gb.dispatch().await["d"]["nickname"], "Bobby");
    t.bob
        .call(
            "PATCH",
            &format!("/servers/{}/members/{alice_id}", t.id),
            Some(json!({"nickname": "Boss"})),
        )
        .await
        .expect_error(403, "Missing permissions");
    t.bob
        .call(
            "PATCH",
            &format!("/servers/{}/members/{bob_id}", t.id),
            Some(json!({"nickname": "x".repeat(33)})),
        )
        .await
        .expect_error(
            400,
            "Invalid nickname: String should have at most 32 characters",
        );
    t.alice
        .call(
            "PATCH",
            &format!("/servers/{}/members/12345", t.id),
            Some(json!({"nickname": "ghost"})),
        )
        .await
        .expect_error(404, "Member not found");
}

#[tokio::test]
async fn role_assignments_and_kicks_dispatch_member_events() {
    let mut t = team().await;
    let bob_id = user_id(&t.bob, &t.bob.get("/users/@me").await.body);
    let role = t
        .alice
        .post(
            &format!("/servers/{}/roles", t.id),
            json!({"name": "Crew", "permissions": {"members.kick": true}}),
        )
        .await
        .body;
    let role_id = role["id"].as_str().unwrap().to_owned();
    for g in [&mut t.ga, &mut t.gb] {
        assert_eq!(g.dispatch().await["t"], "GUILD_ROLE_CREATE");
    }
    let r = t
        .alice
        .call(
            "PUT",
            &format!("/servers/{}/members/{bob_id}/roles/{role_id}", t.id),
            None,
        )
        .await;
    r.assert_status(200);
    for g in [&mut t.ga, &mut t.gb] {
        let f = g.dispatch().await;
        assert_eq!(f["t"], "GUILD_MEMBER_UPDATE");
        assert_eq!(f["d"]["roles"], json!([role_id]));
    }
    // Bob may now kick carol (his role outranks her @everyone), but not alice.
    let carol_id = user_id(&t.carol, &t.carol.get("/users/@me").await.body);
    let r = t
        .bob
        .call(
            "DELETE",
            &format!("/servers/{}/members/{carol_id}", t.id),
            None,
        )
        .await;
    r.assert_status(200);
    for g in [&mut t.ga, &mut t.gb] {
        let f = g.dispatch().await;
        assert_eq!(f["t"], "GUILD_MEMBER_REMOVE");
        assert_eq!(f["d"]["user"]["username"], "carol");
    }
    let alice_id = user_id(&t.alice, &t.alice.get("/users/@me").await.body);
    t.bob
        .call(
            "DELETE",
            &format!("/servers/{}/members/{alice_id}", t.id),
            None,
        )
        .await
        .expect_error(403, "Cannot modify the server owner");
    // Bob leaves: the others hear GUILD_MEMBER_REMOVE.
    t.bob
        .post(&format!("/servers/{}/leave", t.id), json!({}))
        .await
        .assert_status(200);
    let f = t.ga.dispatch().await;
    assert_eq!(f["t"], "GUILD_MEMBER_REMOVE");
    assert_eq!(f["d"]["user"]["username"], "bob");
}

#[tokio::test]
async fn server_settings_and_deletion() {
    let mut t = team().await;
    t.bob
        .call(
            "PATCH",
            &format!("/servers/{}", t.id),
            Some(json!({"name": "Mine"})),
        )
        .await
        .expect_error(403, "Missing permissions");
    t.alice
        .call(
            "PATCH",
            &format!("/servers/{}", t.id),
            Some(json!({"name": "T"})),
        )
        .await
        .expect_error(
            400,
            "Invalid name: String should have at least 2 characters",
        );
    let r = t
        .alice
        .call(
            "PATCH",
            &format!("/servers/{}", t.id),
            Some(json!({"name": "Team Chat", "description": "Where the team talks"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["name"], "Team Chat");
    assert_eq!(r.body["description"], "Where the team talks");
    for g in [&mut t.ga, &mut t.gb] {
        let f = g.dispatch().await;
        assert_eq!(f["t"], "GUILD_UPDATE");
        assert_eq!(f["d"]["id"], t.id.as_str());
        assert_eq!(f["d"]["name"], "Team Chat");
        assert_eq!(f["d"]["description"], "Where the team talks");
    }
    t.bob
        .call("DELETE", &format!("/servers/{}", t.id), None)
        .await
        .expect_error(403, "Only the server owner can delete the server");
    t.alice
        .call("DELETE", &format!("/servers/{}", t.id), None)
        .await
        .assert_status(200);
    for g in [&mut t.ga, &mut t.gb] {
        let f = g.dispatch().await;
        assert_eq!(f["t"], "GUILD_DELETE");
        assert_eq!(f["d"], json!({"id": t.id}));
    }
    t.bob
        .get(&format!("/servers/{}", t.id))
        .await
        .expect_error(404, "Server not found");
}

/// The CLI owner of the default space, over Plexichat (a token) and OriginChats.
async fn default_owner(s: &Server) -> Api {
    let out = s.cli(&[
        "user",
        "add",
        "boss",
        "--password",
        "password",
        "--role",
        "owner",
    ]);
    assert!(out.status.success(), "{out:?}");
    let out = s.cli(&["token", "issue", "boss"]);
    assert!(out.status.success(), "{out:?}");
    let tok = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    Api::new(s).with_token(&tok)
}

fn default_space() -> String {
    u128::from_str_radix("00000000000070008000000000000001", 16)
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_ban_holds_in_both_dialects() {
    let s = server();
    let boss = default_owner(&s).await;
    let (bob, _) = token(&s, "bob").await;
    let bob_id = user_id(&bob, &bob.get("/users/@me").await.body);
    let space = default_space();
    // Banned over Plexichat: OriginChats refuses the login.
    boss.call("PUT", &format!("/servers/{space}/bans/{bob_id}"), None)
        .await
        .assert_status(200);
    let mut oc = Oc::connect(&s).await;
    oc.send(
        json!({"cmd": "login", "username": "bob", "password": crate::plexichat_support::PASSWORD}),
    )
    .await;
    oc.expect(
        json!({"cmd": "auth_error", "val": "Access denied: You are banned from this server"}),
    )
    .await;
    bob.post(
        &format!("/channels/{}/messages", general_channel()),
        json!({"content": "hi"}),
    )
    .await
    .expect_error(404, "Channel not found");
    boss.call("DELETE", &format!("/servers/{space}/bans/{bob_id}"), None)
        .await
        .assert_status(200);
    bob.say(&general_channel(), "back").await;

    // Banned over OriginChats: Plexichat sees the ban and bob cannot act.
    let mut ocb = Oc::login(&s, "boss", "password").await;
    assert_eq!(ocb.recv().await["cmd"], "user_connect");
    ocb.send(json!({"cmd": "user_ban", "user": "bob"})).await;
    ocb.expect(json!({"cmd": "user_ban", "user": "bob", "banned": true}))
        .await;
    let bans = boss.get(&format!("/servers/{space}/bans")).await;
    assert_eq!(bans.body[0]["user_id"], bob_id.as_str());
    assert_eq!(bans.body[0]["reason"], Value::Null);
    bob.post(
        &format!("/channels/{}/messages", general_channel()),
        json!({"content": "hi"}),
    )
    .await
    .expect_error(404, "Channel not found");
    bob.get(&format!("/servers/{space}"))
        .await
        .expect_error(404, "Server not found");
}

#[tokio::test]
async fn roles_changed_in_one_dialect_are_seen_by_the_other() {
    let s = server();
    let boss = default_owner(&s).await;
    let space = default_space();
    let mut oc = Oc::login(&s, "boss", "password").await;
    assert_eq!(oc.recv().await["cmd"], "user_connect");
    let tok = boss.token.clone().unwrap();
    let mut g = gateway(&s, &tok).await;

    // Plexichat → OriginChats.
    let r = boss
        .post(
            &format!("/servers/{space}/roles"),
            json!({"name": "helpers", "color": "#00FF00", "permissions": {"messages.manage": true}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(g.dispatch().await["t"], "GUILD_ROLE_CREATE");
    // Pushed to OriginChats unasked.
    let list = oc.recv().await;
    assert_eq!(list["cmd"], "roles_list");
    let helpers = &list["roles"]["helpers"];
    assert_eq!(helpers["name"], "helpers");
    assert_eq!(helpers["color"], "#00FF00");
    assert_eq!(helpers["permissions"], json!(["manage_messages"]));
    // Highest role in Plexichat = rank 0 in OriginChats.
    assert_eq!(helpers["position"], 0);

    // OriginChats → Plexichat.
    oc.send(
        json!({"cmd": "role_create", "name": "artist", "color": "#FF8800",
        "permissions": ["send_messages"]}),
    )
    .await;
    assert_eq!(oc.recv().await["cmd"], "roles_list");
    let created = oc.recv().await;
    assert_eq!(created["cmd"], "role_create");
    // The roles it was placed under moved up one (GUILD_ROLE_UPDATE each), then it appears.
    let f = skip_role_updates(&mut g).await;
    assert_eq!(f["t"], "GUILD_ROLE_CREATE");
    assert_eq!(f["d"]["role"]["name"], "artist");
    assert_eq!(f["d"]["role"]["color"], "#FF8800");
    assert_eq!(
        f["d"]["role"]["permissions"],
        json!({"messages.send": true})
    );
    let roles = boss.get(&format!("/servers/{space}/roles")).await.body;
    let artist = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "artist")
        .unwrap();
    // Just above @everyone.
    assert_eq!(artist["position"], 1);
    // Renames through Plexichat show in OriginChats.
    let id = artist["id"].as_str().unwrap();
    boss.call(
        "PATCH",
        &format!("/servers/{space}/roles/{id}"),
        Some(json!({"name": "painter"})),
    )
    .await
    .assert_status(200);
    assert_eq!(g.dispatch().await["t"], "GUILD_ROLE_UPDATE");
    let list = oc.recv().await;
    assert_eq!(list["cmd"], "roles_list");
    assert!(list["roles"].get("artist").is_none());
    assert_eq!(list["roles"]["painter"]["name"], "painter");
}
