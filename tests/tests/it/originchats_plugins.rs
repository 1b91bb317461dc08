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
