//! OriginChats users, presence and moderation (§2.3), rate limits, server settings and the
//! modlog (§2.8): each command's reply, its broadcast (and who must not get it), its errors.

use crate::originchats::{Oc, cracked};
use crate::support::Server;
use serde_json::{Value, json};

/// Creates `name` with `role` through the CLI and logs in (reading its user_connect).
pub(crate) async fn staff(s: &Server, name: &str, role: &str) -> Oc {
    let out = s.cli(&[
        "user",
        "add",
        name,
        "--password",
        "password",
        "--role",
        role,
    ]);
    assert!(out.status.success(), "{out:?}");
    let mut c = Oc::login(s, name, "password").await;
    assert_eq!(c.recv().await["cmd"], "user_connect");
    c
}

/// Owner `boss` and user `bob`, each having seen the other arrive.
async fn pair() -> (Server, Oc, Oc) {
    let s = cracked();
    let mut boss = staff(&s, "boss", "owner").await;
    let bob = Oc::register(&s, "bob").await;
    assert_eq!(boss.recv().await["cmd"], "user_join");
    assert_eq!(boss.recv().await["cmd"], "user_connect");
    (s, boss, bob)
}

fn entry<'a>(list: &'a Value, name: &str) -> Option<&'a Value> {
    list["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == name)
}

#[tokio::test]
async fn status_presence_and_user_lists() {
    let (_s, mut boss, mut bob) = pair().await;
    // A plain status: status_get to everyone (global), the caller's copy with its listener.
    bob.send(json!({"cmd": "status_set", "status": "dnd", "text": "Focusing", "listener": "s1"}))
        .await;
    let shown = json!({"status": "dnd", "text": "Focusing"});
    bob.expect(
        json!({"cmd": "status_get", "username": "bob", "status": shown,
        "global": true, "listener": "s1"}),
    )
    .await;
    boss.expect(
        json!({"cmd": "status_get", "username": "bob", "status": shown,
        "global": true}),
    )
    .await;
    boss.send(json!({"cmd": "status_get", "user": "BOB"})).await;
    boss.expect(json!({"cmd": "status", "username": "bob", "status": shown}))
        .await;

    boss.send(json!({"cmd": "users_list", "listener": "u"}))
        .await;
    let list = boss.recv().await;
    assert_eq!(list["listener"], "u");
    assert_eq!(
        entry(&list, "boss").unwrap(),
        &json!({"username": "boss", "nickname": null, "roles": ["owner", "user"],
            "color": "#9400D3", "status": {"status": "online", "text": ""}, "cracked": true,
            "pfp": null})
    );
    assert_eq!(entry(&list, "bob").unwrap()["status"], shown);

    // Invisible: user_disconnect to everyone (the caller too), the reply to the caller only.
    bob.send(json!({"cmd": "status_set", "status": "invisible"}))
        .await;
    bob.expect(json!({"cmd": "user_disconnect", "username": "bob"}))
        .await;
    bob.expect(json!({"cmd": "status_set", "status": {"status": "invisible", "text": ""}}))
        .await;
    boss.expect(json!({"cmd": "user_disconnect", "username": "bob"}))
        .await;
    boss.expect_quiet().await;
    // Nobody else learns of it: users_online skips bob, users_list and status_get say offline.
    boss.send(json!({"cmd": "users_online"})).await;
    let online = boss.recv().await;
    assert!(entry(&online, "bob").is_none(), "{online}");
    assert_eq!(
        entry(&online, "boss").unwrap()["status"],
        json!({"status": "online", "text": ""})
    );
    boss.send(json!({"cmd": "users_list"})).await;
    let list = boss.recv().await;
    assert_eq!(
        entry(&list, "bob").unwrap()["status"],
        json!({"status": "offline", "text": ""})
    );
    boss.send(json!({"cmd": "status_get", "user": "bob"})).await;
    boss.expect(json!({"cmd": "status", "username": "bob",
        "status": {"status": "offline", "text": ""}}))
        .await;
    bob.send(json!({"cmd": "status_get", "user": "bob"})).await;
    bob.expect(json!({"cmd": "status", "username": "bob",
        "status": {"status": "invisible", "text": ""}}))
        .await;
    // A second connection of an invisible user is not announced.
    let mut bob2 = Oc::login(&_s, "bob", "password").await;
    bob2.expect_quiet().await;
    boss.expect_quiet().await;
    bob2.close().await;

    // Back: user_connect to everyone, then the status_get broadcast.
    bob.send(json!({"cmd": "status_set", "status": "online"}))
        .await;
    let connect = json!({"cmd": "user_connect",
        "user": {"username": "bob", "roles": ["user"], "color": null}});
    bob.expect(connect.clone()).await;
    boss.expect(connect).await;
    let back = json!({"cmd": "status_get", "username": "bob",
        "status": {"status": "online", "text": ""}, "global": true});
    bob.expect(back.clone()).await;
    boss.expect(back).await;

    // Errors.
    bob.expect_error(json!({"cmd": "status_set"}), "Status is required")
        .await;
    let invalid = "Invalid status. Must be one of: online, idle, dnd, offline, invisible";
    bob.expect_error(json!({"cmd": "status_set", "status": "away"}), invalid)
        .await;
    bob.expect_error(
        json!({"cmd": "status_set", "status": "idle", "text": "x".repeat(101)}),
        invalid,
    )
    .await;
    bob.expect_error(json!({"cmd": "status_get"}), "User parameter is required")
        .await;
    bob.expect_error(
        json!({"cmd": "status_get", "user": "nobody"}),
        "User not found",
    )
    .await;
    boss.expect_quiet().await;
}

#[tokio::test]
async fn user_update_renames_and_nicknames() {
    let (_s, mut boss, mut bob) = pair().await;
    bob.expect_error(
        json!({"cmd": "user_update", "user": "boss", "updates": {"nickname": "x"}}),
        "Access denied: 'manage_users' permission required",
    )
    .await;
    for (req, err) in [
        (
            json!({"cmd": "user_update", "updates": {}}),
            "User parameter is required",
        ),
        (
            json!({"cmd": "user_update", "user": "ghost", "updates": {}}),
            "User not found",
        ),
        (
            json!({"cmd": "user_update", "user": "bob"}),
            "Updates must be an object",
        ),
        (
            json!({"cmd": "user_update", "user": "bob", "updates": []}),
            "Updates must be an object",
        ),
        (
            json!({"cmd": "user_update", "user": "bob", "updates": {"roles": ["owner"]}}),
            "Cannot update field: roles",
        ),
        (
            json!({"cmd": "user_update", "user": "bob", "updates": {"username": " "}}),
            "Username must be a non-empty string",
        ),
        (
            json!({"cmd": "user_update", "user": "bob", "updates": {"nickname": 5}}),
            "Nickname must be a string or null",
        ),
    ] {
        boss.expect_error(req, err).await;
    }
    bob.expect_quiet().await;

    boss.send(
        json!({"cmd": "user_update", "user": "bob", "updates": {"nickname": "Bobby"},
        "listener": "n"}),
    )
    .await;
    let updated = boss.recv().await;
    assert_eq!(updated["cmd"], "user_updated");
    assert_eq!(updated["username"], "bob");
    assert_eq!(updated["nickname"], "Bobby");
    assert!(updated["user_id"].is_string());
    assert!(updated.get("listener").is_none());
    boss.expect(json!({"cmd": "user_update", "user": "bob", "nickname": "Bobby", "listener": "n"}))
        .await;
    bob.expect(updated.clone()).await;

    boss.send(json!({"cmd": "users_list"})).await;
    assert_eq!(
        entry(&boss.recv().await, "bob").unwrap()["nickname"],
        "Bobby"
    );

    // A rename: later commands know the user by the new name only.
    boss.send(json!({"cmd": "user_update", "user": "bob",
        "updates": {"username": "robert", "nickname": null}}))
        .await;
    let updated = boss.recv().await;
    assert_eq!(updated["username"], "robert");
    assert_eq!(updated["nickname"], Value::Null);
    boss.expect(json!({"cmd": "user_update", "user": "robert", "nickname": null}))
        .await;
    bob.expect(updated).await;
    boss.expect_error(
        json!({"cmd": "user_roles_get", "user": "bob"}),
        "User not found",
    )
    .await;
    boss.send(json!({"cmd": "user_roles_get", "user": "robert"}))
        .await;
    boss.expect(
        json!({"cmd": "user_roles_get", "user": "robert", "roles": ["user"],
        "color": null}),
    )
    .await;
    // The owner cannot be renamed onto a taken name.
    boss.expect_error(
        json!({"cmd": "user_update", "user": "robert", "updates": {"username": "boss"}}),
        "Username already taken",
    )
    .await;
}

#[tokio::test]
async fn timeouts_reach_the_target_and_stop_its_messages() {
    let (_s, mut boss, mut bob) = pair().await;
    bob.send(json!({"cmd": "user_timeout", "user": "boss", "timeout": 10}))
        .await;
    bob.expect(json!({"cmd": "error", "val": "Access denied: 'owner' role required"}))
        .await;
    boss.expect_error(
        json!({"cmd": "user_timeout", "timeout": 10}),
        "User parameter is required",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "user_timeout", "user": "bob", "timeout": 0}),
        "Timeout must be a positive integer",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "user_timeout", "user": "bob"}),
        "Timeout must be a positive integer",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "user_timeout", "user": "ghost", "timeout": 5}),
        "User not found",
    )
    .await;
    boss.send(json!({"cmd": "user_timeout", "user": "bob", "timeout": 600, "listener": "t"}))
        .await;
    boss.expect(json!({"cmd": "user_timeout", "user": "bob", "timeout": 600, "listener": "t"}))
        .await;
    bob.expect(json!({"cmd": "rate_limit", "reason": "User timeout set", "length": 600000}))
        .await;
    bob.send(json!({"cmd": "message_new", "channel": "general", "content": "hello?"}))
        .await;
    let denied = bob.recv().await;
    assert_eq!(denied["cmd"], "rate_limit");
    assert!(
        denied["reason"]
            .as_str()
            .unwrap()
            .starts_with("You are in timeout for "),
        "{denied}"
    );
    boss.expect_quiet().await;
    // The owner still talks.
    boss.send(json!({"cmd": "message_new", "channel": "general", "content": "hi"}))
        .await;
    assert_eq!(boss.recv().await["cmd"], "message_new");
    assert_eq!(bob.recv().await["cmd"], "message_new");
}

#[tokio::test]
async fn bans_refuse_login_and_hide_the_user() {
    let (s, mut boss, mut bob) = pair().await;
    for cmd in ["user_ban", "user_unban"] {
        bob.send(json!({"cmd": cmd, "user": "boss"})).await;
        bob.expect(json!({"cmd": "error", "val": "Access denied: 'owner' role required"}))
            .await;
    }
    bob.send(json!({"cmd": "users_banned_list", "listener": "l"}))
        .await;
    bob.expect(
        json!({"cmd": "error", "val": "Access denied: 'owner' role required",
        "listener": "l"}),
    )
    .await;
    boss.expect_error(json!({"cmd": "user_ban"}), "User parameter is required")
        .await;
    boss.expect_error(
        json!({"cmd": "user_ban", "user": "ghost"}),
        "User not found",
    )
    .await;

    boss.send(json!({"cmd": "user_ban", "user": "BOB", "listener": "b"}))
        .await;
    boss.expect(json!({"cmd": "user_ban", "user": "bob", "banned": true, "listener": "b"}))
        .await;
    // Live connections stay (as in the reference) but follow no channel any more.
    boss.send(json!({"cmd": "message_new", "channel": "general", "content": "bye"}))
        .await;
    assert_eq!(boss.recv().await["cmd"], "message_new");
    bob.expect_quiet().await;

    boss.send(json!({"cmd": "users_banned_list"})).await;
    boss.expect(json!({"cmd": "users_banned_list", "users": ["bob"]}))
        .await;
    boss.send(json!({"cmd": "users_list"})).await;
    assert!(entry(&boss.recv().await, "bob").is_none());
    let mut again = Oc::connect(&s).await;
    again
        .send(json!({"cmd": "login", "username": "bob", "password": "password"}))
        .await;
    again
        .expect(json!({"cmd": "auth_error",
            "val": "Access denied: You are banned from this server"}))
        .await;
    // The refused connection is not authenticated.
    again.send(json!({"cmd": "ping"})).await;
    again
        .expect(json!({"cmd": "auth_error", "val": "Authentication required"}))
        .await;

    boss.send(json!({"cmd": "user_unban", "user": "bob"})).await;
    boss.expect(json!({"cmd": "user_unban", "user": "bob", "unbanned": true}))
        .await;
    boss.send(json!({"cmd": "user_unban", "user": "bob"})).await;
    boss.expect(json!({"cmd": "user_unban", "user": "bob", "unbanned": false}))
        .await;
    boss.send(json!({"cmd": "users_banned_list"})).await;
    boss.expect(json!({"cmd": "users_banned_list", "users": []}))
        .await;
    let mut back = Oc::login(&s, "bob", "password").await;
    // bob's first connection is still open: no user_connect.
    back.send(json!({"cmd": "user_roles_get", "user": "bob"}))
        .await;
    back.expect(json!({"cmd": "user_roles_get", "user": "bob", "roles": ["user"], "color": null}))
        .await;

    // The modlog recorded both, newest first; only moderators may read it.
    bob.expect_error(
        json!({"cmd": "modlog_get"}),
        "Access denied: 'view_audit_log' or 'manage_users' permission required",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "modlog_summary"}),
        "Access denied: 'view_audit_log' or 'manage_users' permission required",
    )
    .await;
    boss.send(
        json!({"cmd": "modlog_get", "category": "user_moderation", "limit": 10,
        "listener": "m"}),
    )
    .await;
    let log = boss.recv().await;
    assert_eq!(log["total"], 2, "{log}");
    assert_eq!(log["limit"], 10);
    assert_eq!(log["offset"], 0);
    assert_eq!(log["listener"], "m");
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["user_unban", "user_ban"]);
    let ban = &log["entries"][1];
    assert_eq!(ban["category"], "user_moderation");
    assert_eq!(ban["actor_name"], "boss");
    assert_eq!(ban["target_name"], "bob");
    let actor = ban["actor_id"].as_str().unwrap();
    assert!(ban["id"].as_str().unwrap().ends_with(&format!("-{actor}")));
    assert!(ban["timestamp"].as_f64().unwrap() > 1.7e9);
    boss.send(json!({"cmd": "modlog_get", "action": "user_ban", "offset": 1}))
        .await;
    let page = boss.recv().await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["entries"], json!([]));
    boss.send(json!({"cmd": "modlog_summary"})).await;
    boss.expect(json!({"cmd": "modlog_summary",
        "action_counts": {"user_moderation.user_ban": 1, "user_moderation.user_unban": 1},
        "category_totals": {"user_moderation": 2}, "total": 2}))
        .await;
    for (req, err) in [
        (
            json!({"cmd": "modlog_get", "limit": 0}),
            "Limit must be between 1 and 200",
        ),
        (
            json!({"cmd": "modlog_get", "limit": 201}),
            "Limit must be between 1 and 200",
        ),
        (
            json!({"cmd": "modlog_get", "offset": -1}),
            "Offset must be a non-negative integer",
        ),
        (
            json!({"cmd": "modlog_get", "after": "yesterday"}),
            "After must be a valid Unix timestamp",
        ),
    ] {
        boss.expect_error(req, err).await;
    }
}

/// The next frame with `cmd` (pushed channel lists and broadcasts before it are skipped).
async fn until(c: &mut Oc, cmd: &str) -> Value {
    loop {
        let f = c.recv().await;
        if f["cmd"] == cmd {
            return f;
        }
    }
}

fn actions(log: &Value) -> Vec<&str> {
    log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_modlog_records_channel_and_message_moderation() {
    let (_s, mut boss, mut bob) = pair().await;
    boss.send(json!({"cmd": "channel_create", "name": "news", "type": "text"}))
        .await;
    until(&mut boss, "channel_create").await;
    boss.send(json!({"cmd": "channel_update", "current_name": "news",
        "updates": {"name": "headlines", "description": "What happened"}}))
        .await;
    until(&mut boss, "channel_update").await;
    boss.send(json!({"cmd": "channel_move", "name": "headlines", "position": 0}))
        .await;
    assert_eq!(until(&mut boss, "channel_move").await["moved"], true);

    bob.send(json!({"cmd": "message_new", "channel": "general", "content": "spam"}))
        .await;
    let id = until(&mut boss, "message_new").await["message"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for cmd in ["message_pin", "message_unpin", "message_delete"] {
        boss.send(json!({"cmd": cmd, "channel": "general", "id": id}))
            .await;
        until(&mut boss, cmd).await;
    }
    boss.send(json!({"cmd": "channel_delete", "name": "headlines"}))
        .await;
    until(&mut boss, "channel_delete").await;

    boss.send(json!({"cmd": "modlog_get", "category": "channel_management"}))
        .await;
    let log = until(&mut boss, "modlog_get").await;
    // One entry for the move, although it renumbered every channel.
    assert_eq!(
        actions(&log),
        [
            "channel_delete",
            "channel_move",
            "channel_update",
            "channel_create"
        ],
        "{log}"
    );
    let entries = log["entries"].as_array().unwrap();
    for e in entries {
        assert_eq!(e["category"], "channel_management");
        assert_eq!(e["actor_name"], "boss");
    }
    assert_eq!(entries[3]["target_name"], "news");
    assert_eq!(entries[3]["details"], json!({"type": "text"}));
    assert_eq!(entries[2]["target_name"], "headlines");
    assert_eq!(entries[2]["details"]["old_name"], "news");
    assert_eq!(entries[2]["details"]["changes"], json!(["name", "topic"]));
    assert_eq!(entries[1]["details"], json!({"position": 0}));
    assert_eq!(entries[0]["target_name"], "headlines");
    // The channel keeps its id through the rename.
    assert_eq!(entries[0]["target_id"], entries[3]["target_id"]);

    boss.send(json!({"cmd": "modlog_get", "category": "message_moderation"}))
        .await;
    let log = until(&mut boss, "modlog_get").await;
    assert_eq!(
        actions(&log),
        ["message_delete", "message_unpin", "message_pin"],
        "{log}"
    );
    for e in log["entries"].as_array().unwrap() {
        assert_eq!(e["category"], "message_moderation");
        assert_eq!(e["actor_name"], "boss");
        assert_eq!(e["target_name"], "bob");
        assert_eq!(
            e["details"],
            json!({"message_id": id, "channel": "general"})
        );
    }

    boss.send(json!({"cmd": "modlog_summary"})).await;
    boss.expect(json!({"cmd": "modlog_summary",
        "action_counts": {
            "channel_management.channel_create": 1,
            "channel_management.channel_update": 1,
            "channel_management.channel_move": 1,
            "channel_management.channel_delete": 1,
            "message_moderation.message_pin": 1,
            "message_moderation.message_unpin": 1,
            "message_moderation.message_delete": 1},
        "category_totals": {"channel_management": 4, "message_moderation": 3},
        "total": 7}))
        .await;
}

#[tokio::test]
async fn user_leave_removes_the_account() {
    let (s, mut boss, mut bob) = pair().await;
    bob.send(json!({"cmd": "user_leave", "listener": "bye"}))
        .await;
    bob.expect(json!({"cmd": "user_leave", "username": "bob"}))
        .await;
    bob.expect(
        json!({"cmd": "user_leave", "user": "bob", "val": "User left server",
        "listener": "bye"}),
    )
    .await;
    boss.expect(json!({"cmd": "user_leave", "username": "bob"}))
        .await;
    boss.send(json!({"cmd": "users_list"})).await;
    assert!(entry(&boss.recv().await, "bob").is_none());
    boss.expect_error(
        json!({"cmd": "user_roles_get", "user": "bob"}),
        "User not found",
    )
    .await;
    let mut again = Oc::connect(&s).await;
    again
        .send(json!({"cmd": "login", "username": "bob", "password": "password"}))
        .await;
    again
        .expect(json!({"cmd": "auth_error", "val": "User not found"}))
        .await;
}

#[tokio::test]
async fn user_roles_set_changes_what_the_user_sees() {
    let (_s, mut boss, mut bob) = pair().await;
    let staff = json!({"view": ["owner", "moderator"], "send": ["owner", "moderator"]});
    boss.send(
        json!({"cmd": "channel_create", "name": "staff", "type": "text",
        "permissions": staff}),
    )
    .await;
    assert_eq!(boss.recv().await["cmd"], "channel_create");
    assert_eq!(boss.recv().await["cmd"], "channels_get");
    assert_eq!(bob.recv().await["cmd"], "channels_get");

    bob.expect_error(
        json!({"cmd": "user_roles_set", "user": "bob", "roles": ["owner"]}),
        "Access denied: 'manage_users' permission required",
    )
    .await;
    for (req, err) in [
        (
            json!({"cmd": "user_roles_set", "roles": ["user"]}),
            "User parameter is required",
        ),
        (
            json!({"cmd": "user_roles_set", "user": "bob"}),
            "Roles list is required",
        ),
        (
            json!({"cmd": "user_roles_set", "user": "bob", "roles": []}),
            "Roles list is required",
        ),
        (
            json!({"cmd": "user_roles_set", "user": "ghost", "roles": ["user"]}),
            "User not found",
        ),
        (
            json!({"cmd": "user_roles_set", "user": "bob", "roles": ["nope"]}),
            "Role 'nope' does not exist",
        ),
    ] {
        boss.expect_error(req, err).await;
    }
    bob.expect_error(
        json!({"cmd": "user_roles_get"}),
        "User parameter is required",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "user_roles_get", "user": "ghost"}),
        "User not found",
    )
    .await;

    // Before: bob does not see staff traffic.
    boss.send(json!({"cmd": "message_new", "channel": "staff", "content": "one"}))
        .await;
    assert_eq!(boss.recv().await["message"]["content"], "one");
    bob.expect_quiet().await;

    boss.send(
        json!({"cmd": "user_roles_set", "user": "bob", "roles": ["moderator", "user"],
        "listener": "r"}),
    )
    .await;
    let set = json!({"cmd": "user_roles_get", "user": "bob", "roles": ["moderator", "user"],
        "color": "#FFFF00", "global": true});
    let mut mine = set.clone();
    mine["listener"] = json!("r");
    boss.expect(mine).await;
    bob.expect(set).await;
    // After: the view filter follows the new roles at once (the reference keeps the old ones).
    boss.send(json!({"cmd": "message_new", "channel": "staff", "content": "two"}))
        .await;
    assert_eq!(boss.recv().await["message"]["content"], "two");
    let got = bob.recv().await;
    assert_eq!(got["cmd"], "message_new");
    assert_eq!(got["channel"], "staff");
    // And bob may now post there himself.
    bob.send(json!({"cmd": "message_new", "channel": "staff", "content": "three"}))
        .await;
    assert_eq!(bob.recv().await["message"]["content"], "three");
    assert_eq!(boss.recv().await["message"]["content"], "three");

    boss.send(json!({"cmd": "user_roles_set", "user": "bob", "roles": ["user"]}))
        .await;
    assert_eq!(boss.recv().await["roles"], json!(["user"]));
    assert_eq!(bob.recv().await["roles"], json!(["user"]));
    boss.send(json!({"cmd": "message_new", "channel": "staff", "content": "four"}))
        .await;
    assert_eq!(boss.recv().await["message"]["content"], "four");
    bob.expect_quiet().await;
}

#[tokio::test]
async fn profile_pictures() {
    let (_s, mut boss, mut bob) = pair().await;
    bob.expect_error(json!({"cmd": "pfp_set"}), "URL required")
        .await;
    bob.expect_error(
        json!({"cmd": "pfp_set", "url": "ftp://x.org/a.png"}),
        "Invalid URL format",
    )
    .await;
    bob.expect_error(json!({"cmd": "pfp_set", "url": 7}), "Invalid URL format")
        .await;
    bob.expect_error(
        json!({"cmd": "pfp_set", "url": format!("https://x.org/{}", "a".repeat(500))}),
        "URL too long (max 500 characters)",
    )
    .await;
    bob.send(
        json!({"cmd": "pfp_set", "url": "https://images.example.org/bob.png",
        "listener": "p"}),
    )
    .await;
    bob.expect(
        json!({"cmd": "pfp_set", "val": "https://images.example.org/bob.png",
        "listener": "p"}),
    )
    .await;
    boss.expect_quiet().await;
    boss.send(json!({"cmd": "pfp_get", "username": "bob"}))
        .await;
    boss.expect(
        json!({"cmd": "pfp_get", "val": "https://images.example.org/bob.png",
        "username": "bob"}),
    )
    .await;
    boss.send(json!({"cmd": "pfp_get", "username": "boss"}))
        .await;
    boss.expect(json!({"cmd": "pfp_get", "val": null, "username": "boss"}))
        .await;
    boss.send(json!({"cmd": "users_list"})).await;
    assert_eq!(
        entry(&boss.recv().await, "bob").unwrap()["pfp"],
        "https://images.example.org/bob.png"
    );
    boss.expect_error(json!({"cmd": "pfp_get"}), "Username required")
        .await;
    boss.expect_error(
        json!({"cmd": "pfp_get", "username": "ghost"}),
        "User not found",
    )
    .await;
}

#[tokio::test]
async fn rate_limit_status_and_reset() {
    let (_s, mut boss, mut bob) = pair().await;
    for n in 0..3 {
        bob.send(json!({"cmd": "message_new", "channel": "general", "content": format!("m{n}")}))
            .await;
        assert_eq!(bob.recv().await["cmd"], "message_new");
        assert_eq!(boss.recv().await["cmd"], "message_new");
    }
    bob.send(json!({"cmd": "rate_limit_status", "listener": "r"}))
        .await;
    bob.expect(
        json!({"cmd": "rate_limit_status", "user": "bob", "status": {
        "messages_this_minute": 3, "messages_per_minute_limit": 60, "recent_messages": 3,
        "burst_limit": 10, "cooldown_remaining": 0.0}, "listener": "r"}),
    )
    .await;
    bob.expect_error(
        json!({"cmd": "rate_limit_status", "user": "boss"}),
        "Access denied: can only check your own rate limit status",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "rate_limit_reset", "user": "bob"}),
        "Access denied: 'manage_server' permission required",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "rate_limit_reset"}),
        "User parameter is required",
    )
    .await;
    boss.send(json!({"cmd": "rate_limit_reset", "user": "bob"}))
        .await;
    boss.expect(json!({"cmd": "rate_limit_reset", "user": "bob",
        "val": "Rate limit reset for user bob"}))
        .await;
    boss.send(json!({"cmd": "rate_limit_status", "user": "bob"}))
        .await;
    let st = boss.recv().await;
    assert_eq!(st["status"]["messages_this_minute"], 0);
    bob.expect_quiet().await;
}

#[tokio::test]
async fn rate_limit_commands_when_disabled() {
    let s = crate::originchats::server(&[
        ("auth_mode", "cracked-only"),
        ("rate_limit_enabled", "false"),
    ]);
    let mut boss = staff(&s, "boss", "owner").await;
    boss.expect_error(
        json!({"cmd": "rate_limit_status"}),
        "Rate limiter not available or disabled",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "rate_limit_reset", "user": "boss"}),
        "Rate limiter not available or disabled",
    )
    .await;
}

#[tokio::test]
async fn server_update_is_stored_and_shown_everywhere() {
    let (s, mut boss, mut bob) = pair().await;
    bob.expect_error(
        json!({"cmd": "server_update", "name": "Mine"}),
        "Access denied: 'manage_server' permission required",
    )
    .await;
    boss.expect_error(json!({"cmd": "server_update"}), "No updates provided")
        .await;
    boss.expect_error(
        json!({"cmd": "server_update", "name": null}),
        "No updates provided",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "server_update", "name": 5}),
        "Name must be a string or null",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "server_update", "banner": true}),
        "Banner must be a string or null",
    )
    .await;
    boss.send(json!({"cmd": "server_update", "name": "Origin Lounge",
        "icon": "https://chats.example.org/icon.png", "listener": "u"}))
        .await;
    let update = json!({"cmd": "server_update", "name": "Origin Lounge",
        "icon": "https://chats.example.org/icon.png", "banner": ""});
    // The caller gets the broadcast and then the reply.
    boss.expect(update.clone()).await;
    let mut reply = update.clone();
    reply["listener"] = json!("u");
    boss.expect(reply).await;
    bob.expect(update).await;
    bob.expect_quiet().await;

    bob.send(json!({"cmd": "server_info"})).await;
    bob.expect(json!({"cmd": "server_info", "name": "Origin Lounge",
        "icon": "https://chats.example.org/icon.png", "banner": ""}))
        .await;
    let later = Oc::connect(&s).await;
    assert_eq!(later.handshake["val"]["server"]["name"], "Origin Lounge");
    assert_eq!(
        later.handshake["val"]["server"]["icon"],
        "https://chats.example.org/icon.png"
    );
    let info = crate::plexichat_support::request(s.addr, "GET", "/info", &[], None)
        .await
        .body;
    assert_eq!(info["server"]["name"], "Origin Lounge");
    assert_eq!(info["server"]["icon"], "https://chats.example.org/icon.png");
    // It survives a restart.
    drop(later);
    let s = s.restart();
    let again = Oc::connect(&s).await;
    assert_eq!(again.handshake["val"]["server"]["name"], "Origin Lounge");
}

/// Emoji, webhook and plugin-reload actions are `server_management` entries of the modlog.
#[tokio::test]
async fn the_modlog_records_emoji_webhook_and_plugin_actions() {
    use crate::files_support::{PNG, data_uri};
    let (_s, mut boss, _bob) = pair().await;
    let png = data_uri("image/png", PNG);
    boss.send(json!({"cmd": "emoji_add", "name": "wave", "image": png}))
        .await;
    assert_eq!(until(&mut boss, "emoji_add").await["added"], true);
    boss.send(json!({"cmd": "emoji_update", "emoji_id": 0, "name": "hello", "image": png}))
        .await;
    assert_eq!(until(&mut boss, "emoji_update").await["updated"], true);
    // A refused change is not an action.
    boss.send(json!({"cmd": "emoji_update", "emoji_id": 7, "name": "nobody"}))
        .await;
    assert_eq!(until(&mut boss, "emoji_update").await["updated"], false);
    boss.send(json!({"cmd": "emoji_delete", "emoji_id": 0}))
        .await;
    assert_eq!(until(&mut boss, "emoji_delete").await["deleted"], true);

    boss.send(json!({"cmd": "webhook_create", "channel": "general", "name": "CI"}))
        .await;
    let id = until(&mut boss, "webhook_create").await["webhook"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    boss.send(json!({"cmd": "webhook_update", "id": id, "name": "Deploy"}))
        .await;
    until(&mut boss, "webhook_update").await;
    boss.send(json!({"cmd": "webhook_regenerate", "id": id}))
        .await;
    until(&mut boss, "webhook_regenerate").await;
    boss.send(json!({"cmd": "webhook_delete", "id": id})).await;
    until(&mut boss, "webhook_delete").await;
    boss.send(json!({"cmd": "plugins_reload"})).await;
    until(&mut boss, "plugins_reload").await;

    boss.send(json!({"cmd": "modlog_get", "category": "server_management"}))
        .await;
    let log = until(&mut boss, "modlog_get").await;
    assert_eq!(
        actions(&log),
        [
            "plugins_reload",
            "webhook_delete",
            "webhook_regenerate",
            "webhook_update",
            "webhook_create",
            "emoji_delete",
            "emoji_update",
            "emoji_add"
        ],
        "{log}"
    );
    let e = log["entries"].as_array().unwrap();
    for entry in e {
        assert_eq!(entry["category"], "server_management");
        assert_eq!(entry["actor_name"], "boss");
    }
    assert_eq!(e[0]["details"], json!({"plugin": null}));
    assert_eq!(e[0]["target_id"], Value::Null);
    assert_eq!(e[4]["target_id"], id.as_str());
    assert_eq!(e[4]["target_name"], "CI");
    assert_eq!(e[4]["details"], json!({"channel": "general"}));
    assert_eq!(e[3]["target_name"], "Deploy");
    assert_eq!(
        e[3]["details"],
        json!({"changes": ["name"], "old_name": "CI"})
    );
    assert_eq!(e[1]["target_name"], "Deploy");
    assert_eq!(e[7]["target_id"], "0");
    assert_eq!(e[7]["target_name"], "wave");
    assert_eq!(
        e[6]["details"],
        json!({"changes": ["name", "image"], "old_name": "wave"})
    );
    assert_eq!(e[6]["target_name"], "hello");
    assert_eq!(e[5]["target_name"], "hello");

    boss.send(json!({"cmd": "modlog_summary"})).await;
    let summary = until(&mut boss, "modlog_summary").await;
    assert_eq!(summary["category_totals"]["server_management"], 8);
    for a in [
        "emoji_add",
        "emoji_update",
        "emoji_delete",
        "webhook_create",
        "webhook_update",
        "webhook_regenerate",
        "webhook_delete",
        "plugins_reload",
    ] {
        assert_eq!(
            summary["action_counts"][format!("server_management.{a}")],
            1,
            "{summary}"
        );
    }
}

/// A timeout set before a restart still holds in a channel with permission lists (where the
/// reference's limiter alone decides) once the server is back.
#[tokio::test]
async fn timeouts_hold_in_listed_channels_after_a_restart() {
    let (s, mut boss, mut bob) = pair().await;
    boss.send(
        json!({"cmd": "channel_create", "name": "lounge", "type": "text",
        "permissions": {"view": ["user"], "send": ["user"]}}),
    )
    .await;
    until(&mut boss, "channel_create").await;
    until(&mut bob, "channels_get").await;
    boss.send(json!({"cmd": "user_timeout", "user": "bob", "timeout": 600}))
        .await;
    until(&mut boss, "user_timeout").await;
    assert_eq!(
        until(&mut bob, "rate_limit").await["reason"],
        "User timeout set"
    );
    drop(boss);
    drop(bob);

    let s = s.restart();
    let mut bob = Oc::login(&s, "bob", "password").await;
    assert_eq!(bob.recv().await["cmd"], "user_connect");
    bob.send(json!({"cmd": "message_new", "channel": "lounge", "content": "back!"}))
        .await;
    let denied = bob.recv().await;
    assert_eq!(denied["cmd"], "rate_limit", "{denied}");
    assert!(
        denied["reason"]
            .as_str()
            .unwrap()
            .starts_with("You are in timeout for "),
        "{denied}"
    );
    // The timeout is the same one, not a fresh ten minutes.
    assert!(denied["length"].as_u64().unwrap() <= 600_000, "{denied}");
}
