//! OriginChats plugins (§4.4): the built-in `welcome` and `automod` plugins (configured by
//! `<plugin>_config.json` files in `originchats.plugins_dir`), `plugins_list` and
//! `plugins_reload` (owner role), with the reference's strings.

use crate::originchats::{Oc, assert_valid};
use crate::support::{Options, Server};
use serde_json::{Value, json};
use std::path::Path;

fn with_plugins(dir: &Path) -> Server {
    std::fs::write(
        dir.join("welcome_config.json"),
        r#"{"welcome_channel": "general", "welcome_message": "Hi {username}!"}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("automod_config.json"),
        r#"{"blocked_words": ["darn"], "timeout_duration": 60}"#,
    )
    .unwrap();
    Server::start_with(
        Options::default()
            .env("CHORUS__ORIGINCHATS__AUTH_MODE", "cracked-only")
            .env("CHORUS__ORIGINCHATS__PLUGINS", r#"["welcome", "automod"]"#)
            .env(
                "CHORUS__ORIGINCHATS__PLUGINS_DIR",
                dir.display().to_string(),
            ),
    )
}

async fn owner(s: &Server) -> Oc {
    let out = s.cli(&[
        "user",
        "add",
        "root",
        "--password",
        "password",
        "--role",
        "owner",
    ]);
    assert!(out.status.success(), "{out:?}");
    let mut c = Oc::login(s, "root", "password").await;
    assert_eq!(c.recv().await["cmd"], "user_connect");
    c
}

fn said(m: &Value, user: &str, text: &str) {
    assert_eq!(m["cmd"], "message_new", "{m}");
    assert_eq!(m["message"]["user"], user, "{m}");
    assert_eq!(m["message"]["content"], text, "{m}");
    assert_eq!(m["channel"], "general");
}

#[tokio::test]
async fn welcome_greets_once_and_reload_rereads_its_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let s = with_plugins(dir.path());
    let mut root = owner(&s).await;
    said(&root.recv().await, "originChats", "Hi root!");

    let mut alice = Oc::register(&s, "alice").await;
    said(&alice.recv().await, "originChats", "Hi alice!");
    assert_eq!(root.recv().await["cmd"], "user_join");
    assert_eq!(root.recv().await["cmd"], "user_connect");
    said(&root.recv().await, "originChats", "Hi alice!");
    // A second login is not a first time.
    let mut again = Oc::login(&s, "alice", "password").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    again.expect_quiet().await;
    alice.expect_quiet().await;
    again.close().await;

    // plugins_list: owners only; a dict keyed by module.
    alice.send(json!({"cmd": "plugins_list"})).await;
    alice
        .expect(json!({"cmd": "error", "val": "Access denied: 'owner' role required"}))
        .await;
    alice.send(json!({"cmd": "plugins_reload"})).await;
    alice
        .expect(json!({"cmd": "error", "val": "Access denied: 'owner' role required"}))
        .await;
    root.send(json!({"cmd": "plugins_list", "listener": "pl"}))
        .await;
    let list = root.recv().await;
    assert_eq!(list["listener"], "pl");
    assert_eq!(
        list["plugins"]["welcome"],
        json!({"name": "Welcome Plugin",
            "description": "Sends a welcome message to users when they join the server.",
            "handles": ["user_join"]})
    );
    assert_eq!(
        list["plugins"]["automod"]["handles"],
        json!(["new_message"])
    );
    assert_eq!(list["plugins"].as_object().unwrap().len(), 2);

    // Reload picks up a changed file.
    std::fs::write(
        dir.path().join("welcome_config.json"),
        r#"{"welcome_message": "Hello {username}, v2"}"#,
    )
    .unwrap();
    root.send(json!({"cmd": "plugins_reload", "plugin": "welcome"}))
        .await;
    root.expect(json!({"cmd": "plugins_reload", "val": "Plugin 'welcome' reloaded successfully"}))
        .await;
    root.expect_error(
        json!({"cmd": "plugins_reload", "plugin": "nope"}),
        "Failed to reload plugin 'nope'",
    )
    .await;
    root.send(json!({"cmd": "plugins_reload"})).await;
    root.expect(json!({"cmd": "plugins_reload", "val": "All plugins reloaded successfully"}))
        .await;
    let mut dave = Oc::register(&s, "dave").await;
    said(&dave.recv().await, "originChats", "Hello dave, v2");
    // A broken file: the reload fails and the old configuration stays.
    std::fs::write(dir.path().join("welcome_config.json"), "{not json").unwrap();
    root.recv_n(3).await; // dave's user_join, user_connect and welcome
    root.expect_error(
        json!({"cmd": "plugins_reload", "plugin": "welcome"}),
        "Failed to reload plugin 'welcome'",
    )
    .await;
    for c in [root, alice, dave] {
        c.close().await;
    }
}

#[tokio::test]
async fn automod_deletes_times_out_and_reports_and_owners_manage_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = with_plugins(dir.path());
    let mut root = owner(&s).await;
    let _welcome = root.recv().await;
    let mut bob = Oc::register(&s, "bob").await;
    let _welcome = bob.recv().await;
    root.recv_n(3).await;

    bob.send(json!({"cmd": "message_new", "channel": "general", "content": "well DARN it"}))
        .await;
    let posted = bob.recv().await;
    let id = posted["message"]["id"].clone();
    let mut got: Vec<Value> = bob.recv_n(3).await;
    let notice = got.pop().unwrap();
    assert!(
        got.contains(
            &json!({"cmd": "message_delete", "id": id, "channel": "general", "global": true})
        ),
        "{got:?}"
    );
    assert!(
        got.contains(&json!({"cmd": "rate_limit",
        "reason": "Automoderation: Message contains blocked words", "length": 60000})),
        "{got:?}"
    );
    said(
        &notice,
        "AutoMod",
        "bob was automatically timed out for violating chat rules.",
    );
    // root saw the message, its deletion and the notice (not the timeout).
    assert_eq!(root.recv().await["cmd"], "message_new");
    assert_eq!(root.recv().await["cmd"], "message_delete");
    said(
        &root.recv().await,
        "AutoMod",
        "bob was automatically timed out for violating chat rules.",
    );
    // bob is timed out.
    bob.send(json!({"cmd": "message_new", "channel": "general", "content": "sorry"}))
        .await;
    let limited = bob.recv().await;
    assert_eq!(limited["cmd"], "rate_limit");
    assert!(
        limited["reason"]
            .as_str()
            .unwrap()
            .starts_with("You are in timeout for"),
        "{limited}"
    );
    // The message is gone from the history.
    root.send(json!({"cmd": "message_get", "channel": "general", "id": id}))
        .await;
    root.expect(json!({"cmd": "error", "src": "message_get", "val": "Message not found"}))
        .await;

    // `!automod` commands of owners; the configuration file is updated.
    root.send(json!({"cmd": "message_new", "channel": "general", "content": "!automod add Heck"}))
        .await;
    assert_eq!(root.recv().await["cmd"], "message_new");
    said(
        &root.recv().await,
        "AutoMod",
        "✅ Added 'heck' to blocked words",
    );
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("automod_config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(saved["blocked_words"], json!(["darn", "heck"]));
    root.send(json!({"cmd": "message_new", "channel": "general", "content": "!automod list"}))
        .await;
    assert_eq!(root.recv().await["cmd"], "message_new");
    said(
        &root.recv().await,
        "AutoMod",
        "🚫 Blocked words (2):\n  • darn\n  • heck",
    );
    // A plain user's `!automod` does nothing but post.
    let _ = bob.recv_n(4).await;
    let _ = assert_valid; // frames are validated by `Oc`
    for c in [root, bob] {
        c.close().await;
    }
}

/// Reads until the reply `cmd` (plugin posts and side broadcasts may come first).
async fn until(c: &mut Oc, cmd: &str) -> Value {
    loop {
        let f = c.recv().await;
        if f["cmd"] == cmd || f["cmd"] == "error" {
            return f;
        }
    }
}

/// The built-in `eventlog` plugin hears `server_start` and the role, member and moderation
/// events (here from OriginChats commands) and reports each in its channel, in order.
#[tokio::test]
async fn eventlog_reports_server_role_and_moderation_events() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(
        Options::default()
            .env("CHORUS__ORIGINCHATS__AUTH_MODE", "cracked-only")
            .env("CHORUS__ORIGINCHATS__PLUGINS", r#"["eventlog"]"#)
            .env(
                "CHORUS__ORIGINCHATS__PLUGINS_DIR",
                dir.path().display().to_string(),
            ),
    );
    let mut root = owner(&s).await;
    let mut bob = Oc::register(&s, "bob").await;
    root.send(json!({"cmd": "plugins_list"})).await;
    let list = until(&mut root, "plugins_list").await;
    assert!(
        list["plugins"]["eventlog"]["handles"]
            .as_array()
            .unwrap()
            .contains(&json!("user_timeout")),
        "{list}"
    );

    let steps: [(bool, Value, &str); 12] = [
        (
            false,
            json!({"cmd": "role_create", "name": "vip", "self_assignable": true}),
            "role_create",
        ),
        (
            true,
            json!({"cmd": "self_role_add", "role": "vip"}),
            "self_role_add",
        ),
        (
            true,
            json!({"cmd": "self_role_remove", "role": "vip"}),
            "self_role_remove",
        ),
        (
            false,
            json!({"cmd": "role_update", "name": "vip", "color": "#00FF00"}),
            "role_update",
        ),
        (
            false,
            json!({"cmd": "user_roles_set", "user": "bob", "roles": ["user", "vip"]}),
            "user_roles_get",
        ),
        (
            false,
            json!({"cmd": "role_delete", "name": "vip"}),
            "role_delete",
        ),
        (
            false,
            json!({"cmd": "user_timeout", "user": "bob", "timeout": 60}),
            "user_timeout",
        ),
        (false, json!({"cmd": "user_ban", "user": "bob"}), "user_ban"),
        (
            false,
            json!({"cmd": "user_unban", "user": "bob"}),
            "user_unban",
        ),
        (
            false,
            json!({"cmd": "channel_create", "name": "news", "type": "text"}),
            "channel_create",
        ),
        (
            false,
            json!({"cmd": "channel_move", "name": "news", "position": 0}),
            "channel_move",
        ),
        (false, json!({"cmd": "roles_list"}), "roles_list"),
    ];
    for (by_bob, req, reply) in steps {
        let who = if by_bob { &mut bob } else { &mut root };
        who.send(req).await;
        assert_eq!(until(who, reply).await["cmd"], reply);
    }
    let mut carol = Oc::register(&s, "carol").await;
    carol.send(json!({"cmd": "user_leave"})).await;
    until(&mut carol, "user_leave").await;

    let expected = [
        "server_start",
        "role_create by root: vip",
        "self_role_add by bob: vip",
        "self_role_remove by bob: vip",
        "role_update by root: vip",
        "user_roles_set by root: bob",
        "role_delete by root: vip",
        "user_timeout by root: bob",
        "user_ban by root: bob",
        "user_unban by root: bob",
        "channel_create: news",
        "channel_move by root: news",
        "user_leave by carol: carol",
    ];
    assert_eq!(reports(&mut root, expected.len()).await, expected);
}

/// The `originChats` posts of `general`, once there are `n` of them (the plugin posts as
/// events arrive).
async fn reports(c: &mut Oc, n: usize) -> Vec<String> {
    let mut seen = Vec::new();
    for _ in 0..50 {
        c.send(json!({"cmd": "messages_get", "channel": "general", "limit": 50}))
            .await;
        let page = until(c, "messages_get").await;
        seen = page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["user"] == "originChats")
            .map(|m| m["content"].as_str().unwrap().to_owned())
            .collect();
        if seen.len() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    seen
}

/// Plugins hear the core's actions whichever dialect took them: a Plexichat ban and unban.
#[tokio::test]
async fn plugins_hear_actions_taken_over_plexichat() {
    use crate::plexichat_support::Api;
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(
        Options::default()
            .env("CHORUS__ORIGINCHATS__AUTH_MODE", "cracked-only")
            .env("CHORUS__PLEXICHAT__RATE_LIMITS", "false")
            .env("CHORUS__ORIGINCHATS__PLUGINS", r#"["eventlog"]"#)
            .env(
                "CHORUS__ORIGINCHATS__PLUGINS_DIR",
                dir.path().display().to_string(),
            ),
    );
    let mut root = owner(&s).await;
    let out = s.cli(&["token", "issue", "root"]);
    assert!(out.status.success(), "{out:?}");
    let root_api = Api::new(&s).with_token(String::from_utf8(out.stdout).unwrap().trim());
    let bob = Api::new(&s).register("bob").await;
    let bob_id = bob.get("/users/@me").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let space = u128::from_str_radix("00000000000070008000000000000001", 16).unwrap();
    root_api
        .call("PUT", &format!("/servers/{space}/bans/{bob_id}"), None)
        .await
        .assert_status(200);
    root_api
        .call("DELETE", &format!("/servers/{space}/bans/{bob_id}"), None)
        .await
        .assert_status(200);
    assert_eq!(
        reports(&mut root, 3).await,
        [
            "server_start",
            "user_ban by root: bob",
            "user_unban by root: bob"
        ]
    );
}
