//! Webhooks: OriginChats `webhook_*` commands and `POST /webhooks?token=` (plain and
//! GitHub push), over the core webhooks Plexichat's `/api/v1/webhooks` also manages; a post
//! reaches OriginChats and Plexichat clients. Every WebSocket frame and REST answer is
//! validated against its spec.

use crate::files_support::*;
use crate::originchats::Oc;
use crate::plexichat_support::{Api, Gateway, general_channel};
use crate::support::{Options, Server};
use serde_json::{Value, json};

fn server() -> Server {
    Server::start_with(
        Options::default()
            .env("CHORUS__ORIGINCHATS__AUTH_MODE", "cracked-only")
            .env("CHORUS__PLEXICHAT__RATE_LIMITS", "false"),
    )
}

/// Posts `body` to the OriginChats webhook route `path`.
async fn post(s: &Server, path: &str, headers: &[(&str, &str)], body: &Value) -> HttpResp {
    let text = body.to_string();
    http(
        s.addr,
        "POST",
        path,
        headers,
        Some(("application/json", text.as_bytes())),
    )
    .await
}

/// The reply to `req`, skipping pushes of other commands.
async fn reply(c: &mut Oc, req: Value) -> Value {
    let cmd = req["cmd"].as_str().unwrap().to_owned();
    c.send(req).await;
    loop {
        let f = c.recv().await;
        if f["cmd"] == cmd.as_str() || f["cmd"] == "error" {
            return f;
        }
    }
}

#[tokio::test]
async fn webhook_commands_create_list_update_regenerate_delete() {
    let s = server();
    let mut boss = staff(&s, "boss", "owner").await;
    let mut bob = Oc::register(&s, "bob").await;
    while boss.recv().await["cmd"] != "user_connect" {}
    let denied = "Access denied: 'manage_server' permission required";
    for cmd in [
        "webhook_create",
        "webhook_update",
        "webhook_delete",
        "webhook_regenerate",
    ] {
        bob.expect_error(
            json!({"cmd": cmd, "id": "x", "channel": "general", "name": "n"}),
            denied,
        )
        .await;
    }
    boss.expect_error(
        json!({"cmd": "webhook_create", "name": "CI"}),
        "Channel is required",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "webhook_create", "channel": "general"}),
        "Webhook name is required",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "webhook_create", "channel": "nope", "name": "CI"}),
        "Channel not found",
    )
    .await;
    let made = reply(
        &mut boss,
        json!({"cmd": "channel_create", "name": "lounge", "type": "voice"}),
    )
    .await;
    assert_eq!(made["cmd"], "channel_create", "{made}");
    // Everyone gets the new channel list.
    assert_eq!(boss.recv().await["cmd"], "channels_get");
    assert_eq!(bob.recv().await["cmd"], "channels_get");
    boss.expect_error(
        json!({"cmd": "webhook_create", "channel": "lounge", "name": "CI"}),
        "Webhooks can only be created for text channels",
    )
    .await;

    boss.send(
        json!({"cmd": "webhook_create", "channel": "general", "name": "CI", "listener": "w"}),
    )
    .await;
    let created = boss.recv().await;
    assert_eq!(created["cmd"], "webhook_create");
    assert_eq!(created["listener"], "w");
    let w = created["webhook"].clone();
    let id = w["id"].as_str().unwrap().to_owned();
    let token = w["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 68, "a uuid4 and a uuid4's hex: {token}");
    assert_eq!(w["channel"], "general");
    assert_eq!(w["name"], "CI");
    assert_eq!(w["avatar"], Value::Null);
    assert!(w["created_by"].is_string());
    assert!(w["created_at"].is_f64());
    let without_token = {
        let mut v = w.clone();
        v.as_object_mut().unwrap().remove("token");
        v
    };

    // get and list never show the token (any user may ask).
    bob.send(json!({"cmd": "webhook_get", "id": id})).await;
    bob.expect(json!({"cmd": "webhook_get", "webhook": without_token}))
        .await;
    bob.expect_error(json!({"cmd": "webhook_get"}), "Webhook ID is required")
        .await;
    bob.expect_error(
        json!({"cmd": "webhook_get", "id": "nope"}),
        "Webhook not found",
    )
    .await;
    bob.send(json!({"cmd": "webhook_list"})).await;
    bob.expect(json!({"cmd": "webhook_list", "webhooks": [without_token]}))
        .await;
    bob.send(json!({"cmd": "webhook_list", "channel": "general"}))
        .await;
    bob.expect(json!({"cmd": "webhook_list", "webhooks": [without_token]}))
        .await;
    bob.send(json!({"cmd": "webhook_list", "channel": "lounge"}))
        .await;
    bob.expect(json!({"cmd": "webhook_list", "webhooks": []}))
        .await;
    bob.expect_error(
        json!({"cmd": "webhook_list", "channel": "nope"}),
        "Channel not found",
    )
    .await;

    // update
    boss.expect_error(
        json!({"cmd": "webhook_update", "id": id, "name": "  "}),
        "Webhook name must be a non-empty string",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "webhook_update", "id": id}),
        "No updates provided",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "webhook_update", "id": "nope", "name": "x"}),
        "Webhook not found",
    )
    .await;
    boss.send(json!({"cmd": "webhook_update", "id": id, "name": "Deploy",
        "avatar": "https://example.test/a.png"}))
        .await;
    let updated = boss.recv().await;
    assert_eq!(updated["cmd"], "webhook_update");
    assert_eq!(updated["webhook"]["name"], "Deploy");
    assert_eq!(updated["webhook"]["avatar"], "https://example.test/a.png");
    assert!(updated["webhook"].get("token").is_none(), "{updated}");

    // The token posts; regenerating replaces it.
    let path = format!("/webhooks?token={token}");
    let r = post(&s, &path, &[], &json!({"content": "before"})).await;
    assert_eq!(r.status, 204, "{}", r.text());
    bob.recv().await; // the message
    boss.recv().await;
    boss.send(json!({"cmd": "webhook_regenerate", "id": id}))
        .await;
    let regen = boss.recv().await;
    assert_eq!(regen["cmd"], "webhook_regenerate");
    let new_token = regen["webhook"]["token"].as_str().unwrap().to_owned();
    assert_ne!(new_token, token);
    post(&s, &path, &[], &json!({"content": "old"}))
        .await
        .expect_error(401, "Invalid webhook token");
    let r = post(
        &s,
        &format!("/webhooks?token={new_token}"),
        &[],
        &json!({"content": "new"}),
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(bob.recv().await["message"]["content"], "new");
    boss.recv().await;

    // delete
    boss.expect_error(json!({"cmd": "webhook_delete"}), "Webhook ID is required")
        .await;
    boss.send(json!({"cmd": "webhook_delete", "id": id})).await;
    boss.expect(json!({"cmd": "webhook_delete", "id": id, "deleted": true}))
        .await;
    boss.expect_error(json!({"cmd": "webhook_get", "id": id}), "Webhook not found")
        .await;
    post(
        &s,
        &format!("/webhooks?token={new_token}"),
        &[],
        &json!({"content": "x"}),
    )
    .await
    .expect_error(401, "Invalid webhook token");
    boss.expect_quiet().await;
    bob.expect_quiet().await;
    boss.close().await;
    bob.close().await;
}

#[tokio::test]
async fn webhook_posts_reach_originchats_and_plexichat_clients() {
    let s = server();
    let mut boss = staff(&s, "boss", "owner").await;
    let api = Api::new(&s);
    let carol = api.register("carol").await;
    let (mut gw, _) = Gateway::ready(&s, carol.token.as_deref().unwrap()).await;
    let w = reply(
        &mut boss,
        json!({"cmd": "webhook_create", "channel": "general", "name": "CI"}),
    )
    .await;
    let token = w["webhook"]["token"].as_str().unwrap().to_owned();
    let wid = w["webhook"]["id"].as_str().unwrap().to_owned();
    let path = format!("/webhooks/anything?token={token}");
    let r = post(
        &s,
        &path,
        &[],
        &json!({"text": "Build passed", "username": "Builder", "avatar_url": "https://x.test/b.png"}),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(r.body.is_empty());
    assert_cors(&r);
    let m = boss.recv().await;
    assert_eq!(m["cmd"], "message_new");
    assert_eq!(m["channel"], "general");
    assert_eq!(m["message"]["user"], "originChats");
    assert_eq!(m["message"]["content"], "Build passed");
    assert_eq!(
        m["message"]["webhook"],
        json!({"id": wid, "name": "Builder", "avatar": "https://x.test/b.png"})
    );
    let d = gw.dispatch().await;
    assert_eq!(d["t"], "MESSAGE_CREATE");
    assert_eq!(d["d"]["content"], "Build passed");
    assert_eq!(d["d"]["author_username"], "Builder");
    assert_eq!(d["d"]["channel_id"], general_channel().as_str());
    // Plexichat REST history has it too.
    let list = carol
        .get(&format!("/channels/{}/messages?limit=1", general_channel()))
        .await;
    assert_eq!(list.body[0]["content"], "Build passed");

    // `message` is the last fallback; embeds alone are content enough.
    let r = post(
        &s,
        &format!("/webhooks?token={token}"),
        &[],
        &json!({"message": "third"}),
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(boss.recv().await["message"]["content"], "third");
    gw.dispatch().await;
    let embeds = json!([{"title": "Release", "description": "v1.2"}]);
    let r = post(
        &s,
        &format!("/webhooks?token={token}"),
        &[],
        &json!({"embeds": embeds}),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let m = boss.recv().await;
    assert_eq!(m["message"]["content"], "");
    assert_eq!(m["message"]["embeds"], embeds);
    assert_eq!(m["message"]["webhook"]["name"], "CI");
    gw.dispatch().await;

    // A Plexichat client executes the same webhook through /api/v1.
    let plexi_id = u128::from_str_radix(&wid.replace('-', ""), 16)
        .unwrap()
        .to_string();
    let r = api
        .post(
            &format!("/webhooks/{plexi_id}/{token}?wait=true"),
            json!({"content": "via REST"}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["content"], "via REST");
    assert_eq!(r.body["webhook_id"], plexi_id.as_str());
    assert_eq!(boss.recv().await["message"]["content"], "via REST");
    assert_eq!(gw.dispatch().await["d"]["content"], "via REST");
    boss.close().await;
}

#[tokio::test]
async fn webhook_post_refusals() {
    let s = server();
    let mut boss = staff(&s, "boss", "owner").await;
    let w = reply(
        &mut boss,
        json!({"cmd": "webhook_create", "channel": "general", "name": "CI"}),
    )
    .await;
    let token = w["webhook"]["token"].as_str().unwrap().to_owned();
    let ok_path = format!("/webhooks?token={token}");
    post(&s, "/webhooks", &[], &json!({"content": "x"}))
        .await
        .expect_error(401, "Webhook token required");
    post(&s, "/webhooks?token=", &[], &json!({"content": "x"}))
        .await
        .expect_error(401, "Webhook token required");
    let r = http(s.addr, "POST", &ok_path, &[], Some(("text/plain", b"hi"))).await;
    r.expect_error(415, "Content-Type must be application/json");
    assert_cors(&r);
    post(&s, "/webhooks?token=wrong", &[], &json!({"content": "x"}))
        .await
        .expect_error(401, "Invalid webhook token");
    http(
        s.addr,
        "POST",
        &ok_path,
        &[],
        Some(("application/json", b"{no")),
    )
    .await
    .expect_error(400, "Invalid JSON body");
    post(&s, &ok_path, &[], &json!({"content": ""}))
        .await
        .expect_error(400, "No content provided");
    post(&s, &ok_path, &[], &json!({"username": "x"}))
        .await
        .expect_error(400, "No content provided");
    let big = vec![b' '; 10 * 1024 * 1024 + 10];
    http(
        s.addr,
        "POST",
        &ok_path,
        &[],
        Some(("application/json", &big)),
    )
    .await
    .expect_error(413, "Request body too large (max 10MB)");
    // GitHub: push events become an embed, other events are refused.
    let push = json!({"ref": "refs/heads/main", "compare": "https://github.com/o/r/compare/a...b",
        "repository": {"full_name": "o/r", "html_url": "https://github.com/o/r"},
        "sender": {"login": "alice", "avatar_url": "https://avatars.test/a.png"},
        "commits": [{"id": "0123456789abcdef", "message": "Fix the thing\n\nDetails", "url": "https://github.com/o/r/commit/0123456"},
                    {"id": "fedcba9876543210", "message": "Second", "url": "https://github.com/o/r/commit/fedcba9"}]});
    post(&s, &ok_path, &[("X-GitHub-Event", "issues")], &push)
        .await
        .expect_error(400, "Unhandled event type: issues");
    let r = post(&s, &ok_path, &[("X-GitHub-Event", "push")], &push).await;
    assert_eq!(r.status, 204, "{}", r.text());
    let m = boss.recv().await;
    assert_eq!(m["message"]["user"], "originChats");
    assert_eq!(m["message"]["content"], "");
    assert_eq!(
        m["message"]["webhook"],
        json!({"id": "github", "name": "GitHub",
               "avatar": "https://github.githubassets.com/images/modules/logos_page/GitHub-Mark.png"})
    );
    let e = &m["message"]["embeds"][0];
    assert_eq!(e["title"], "main: 2 commits");
    assert_eq!(e["url"], "https://github.com/o/r/compare/a...b");
    assert_eq!(e["color"], 0x24292e);
    assert_eq!(e["author"]["name"], "alice - o/r");
    assert_eq!(
        e["description"],
        "[`0123456`](https://github.com/o/r/commit/0123456) Fix the thing\n[`fedcba9`](https://github.com/o/r/commit/fedcba9) Second"
    );
    // A GitHub body without the event header is an ordinary post (no content: refused).
    post(&s, &ok_path, &[], &push)
        .await
        .expect_error(400, "No content provided");
    boss.expect_quiet().await;
    boss.close().await;
}

#[tokio::test]
async fn plexichat_webhooks_are_the_same_webhooks() {
    let s = server();
    let admin_cli = s.cli(&[
        "user",
        "add",
        "root",
        "--password",
        "password",
        "--role",
        "admin",
    ]);
    assert!(admin_cli.status.success());
    let root = Api::new(&s).with_token(&token_of(&s, "root"));
    let bob = Api::new(&s).register("bob").await;
    let r = root
        .post(
            "/webhooks",
            json!({"channel_id": general_channel(), "name": "Alerts"}),
        )
        .await;
    r.assert_status(200);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let token = r.body["token"].as_str().unwrap().to_owned();
    assert_eq!(r.body["url"], format!("/webhooks/{id}/{token}"));
    // Others may not see or change it.
    bob.get(&format!("/webhooks/{id}"))
        .await
        .expect_error(403, "Missing permissions");
    bob.call(
        "PATCH",
        &format!("/webhooks/{id}"),
        Some(json!({"name": "x"})),
    )
    .await
    .expect_error(403, "Missing permissions");
    bob.get(&format!("/channels/{}/webhooks", general_channel()))
        .await
        .expect_error(403, "Missing permissions");
    // PATCH, list, regenerate.
    let r = root
        .call(
            "PATCH",
            &format!("/webhooks/{id}"),
            Some(json!({"name": "Pager", "avatar_url": "https://x.test/p.png"})),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["name"], "Pager");
    assert_eq!(r.body["token"], Value::Null);
    let list = root
        .get(&format!("/channels/{}/webhooks", general_channel()))
        .await;
    list.assert_status(200);
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert_eq!(list.body[0]["token"], Value::Null);
    let servers = root.get("/servers/").await;
    let server_id = servers.body[0]["id"].as_str().unwrap().to_owned();
    let list = root.get(&format!("/servers/{server_id}/webhooks")).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert_eq!(
        bob.get(&format!("/servers/{server_id}/webhooks"))
            .await
            .body,
        json!([])
    );
    let r = root
        .post(&format!("/webhooks/{id}/regenerate-token"), json!({}))
        .await;
    r.assert_status(200);
    let new_token = r.body["token"].as_str().unwrap().to_owned();
    assert_ne!(new_token, token);
    Api::new(&s)
        .post(
            &format!("/webhooks/{id}/{token}"),
            json!({"content": "old"}),
        )
        .await
        .expect_error(401, "Invalid webhook token");
    // OriginChats sees the same webhook, and its token posts there.
    let mut boss = staff(&s, "boss", "owner").await;
    let core_id = {
        let n: u128 = id.parse().unwrap();
        let h = format!("{n:032x}");
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    };
    let l = reply(&mut boss, json!({"cmd": "webhook_list"})).await;
    assert_eq!(l["webhooks"][0]["id"], core_id.as_str());
    assert_eq!(l["webhooks"][0]["name"], "Pager");
    assert_eq!(l["webhooks"][0]["avatar"], "https://x.test/p.png");
    let r = post(
        &s,
        &format!("/webhooks?token={new_token}"),
        &[],
        &json!({"content": "from OC"}),
    )
    .await;
    assert_eq!(r.status, 204);
    let m = boss.recv().await;
    assert_eq!(m["message"]["webhook"]["name"], "Pager");
    // Deleted through OriginChats: gone for Plexichat too.
    let d = reply(&mut boss, json!({"cmd": "webhook_delete", "id": core_id})).await;
    assert_eq!(d["deleted"], true);
    root.get(&format!("/webhooks/{id}"))
        .await
        .expect_error(404, "Webhook not found");
    boss.close().await;
}
