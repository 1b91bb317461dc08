//! OriginChats slash commands (§2.7, §4.5): registration and its broadcasts, listing, calls
//! routed to the registering bot, answers stored as the bot's messages with `interaction`, the
//! built-ins, and every error string. Frames are validated against the spec by `Oc`.

use crate::originchats::{Oc, cracked};
use crate::originchats_members::staff;
use crate::plexichat_support::Api;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

fn weather() -> Value {
    json!({
        "name": "weather",
        "description": "Show the weather for a city",
        "options": [
            {"name": "city", "description": "City name", "type": "str", "required": true},
            {"name": "units", "description": "Units", "type": "enum", "choices": ["c", "f"], "required": false}
        ],
        "whitelistRoles": null,
        "blacklistRoles": null,
        "ephemeral": false
    })
}

fn weather_wire() -> Value {
    json!({
        "name": "weather",
        "description": "Show the weather for a city",
        "options": [
            {"name": "city", "description": "City name", "type": "str", "choices": null, "required": true},
            {"name": "units", "description": "Units", "type": "enum", "choices": ["c", "f"], "required": false}
        ],
        "whitelistRoles": null,
        "blacklistRoles": null,
        "ephemeral": false,
        "registeredBy": "weatherbot"
    })
}

/// Reads `n` user_join/user_connect frames (someone registered).
async fn skip_joins(c: &mut Oc, n: usize) {
    for f in c.recv_n(n).await {
        assert!(f["cmd"] == "user_join" || f["cmd"] == "user_connect", "{f}");
    }
}

#[tokio::test]
async fn a_bot_registers_a_user_calls_the_bot_answers_and_everyone_sees_it() {
    let s = cracked();
    let mut bot = Oc::register(&s, "weatherbot").await;
    let mut alice = Oc::register(&s, "alice").await;
    skip_joins(&mut bot, 2).await;
    let mut bob = Oc::register(&s, "bob").await;
    skip_joins(&mut bot, 2).await;
    skip_joins(&mut alice, 2).await;

    bot.send(json!({"cmd": "slash_register", "commands": [weather()], "listener": "reg"}))
        .await;
    let add = json!({"cmd": "slash_add", "commands": [weather_wire()]});
    // The side broadcast reaches the caller before its reply; the listener only on the reply.
    bot.expect(add.clone()).await;
    bot.expect(
        json!({"cmd": "slash_register", "val": "1 commands registered successfully",
        "listener": "reg"}),
    )
    .await;
    alice.expect(add.clone()).await;
    bob.expect(add).await;

    // slash_list: the built-ins, then the bot's command.
    alice.send(json!({"cmd": "slash_list"})).await;
    let list = alice.recv().await;
    assert_eq!(list["cmd"], "slash_list");
    let names: Vec<&str> = list["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["ban", "help", "mute", "nick", "unban", "unmute", "weather"]
    );
    assert_eq!(list["commands"][6], weather_wire());
    assert_eq!(list["commands"][2]["registeredBy"], "originChats");
    assert_eq!(
        list["commands"][2]["whitelistRoles"],
        json!(["admin", "owner"])
    );
    let options = |i: usize| -> Vec<(String, String, bool)> {
        list["commands"][i]["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                assert!(o.get("choices").is_none(), "{o}");
                (
                    o["name"].as_str().unwrap().to_owned(),
                    o["type"].as_str().unwrap().to_owned(),
                    o["required"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    let opt = |n: &str, req: bool| (n.to_owned(), "str".to_owned(), req);
    assert_eq!(options(0), [opt("username", true), opt("reason", false)]);
    assert_eq!(
        list["commands"][0]["whitelistRoles"],
        json!(["admin", "owner"])
    );
    assert_eq!(options(3), [opt("nickname", false)]);
    assert_eq!(list["commands"][3]["whitelistRoles"], Value::Null);
    assert_eq!(options(4), [opt("username", true)]);
    assert_eq!(
        list["commands"][4]["whitelistRoles"],
        json!(["admin", "owner"])
    );

    // A call goes to the bot and is echoed to the caller; bob hears nothing.
    alice
        .send(
            json!({"cmd": "slash_call", "channel": "general", "command": "weather",
            "args": {"city": "Oslo"}}),
        )
        .await;
    let call = bot.recv().await;
    assert_eq!(call["cmd"], "slash_call");
    assert_eq!(
        call["val"],
        json!({"command": "weather", "args": {"city": "Oslo"}, "commander": "weatherbot"})
    );
    assert_eq!(call["invokerUsername"], "alice");
    assert_eq!(call["channel"], "general");
    let invoker = call["invoker"].as_str().unwrap().to_owned();
    assert!(!invoker.is_empty());
    alice.expect(call.clone()).await;
    bob.expect_quiet().await;

    // The bot answers like chats.py's respond(): without `command`.
    bot.send(
        json!({"cmd": "slash_response", "response": "  Oslo: 4°C  ", "invoker": invoker,
        "channel": "general", "ephemeral": false}),
    )
    .await;
    let mut seen = Vec::new();
    for c in [&mut bot, &mut alice, &mut bob] {
        let m = c.recv().await;
        assert_eq!(m["cmd"], "message_new", "{m}");
        assert_eq!(m["channel"], "general");
        assert_eq!(m["global"], true);
        assert!(m.get("thread_id").is_none(), "{m}");
        let msg = &m["message"];
        assert_eq!(msg["user"], "weatherbot");
        assert_eq!(msg["content"], "Oslo: 4°C");
        assert_eq!(
            msg["interaction"],
            json!({"command": "weather", "username": "alice"})
        );
        seen.push(msg["id"].clone());
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]));

    // The answer is stored: it is in the history with its interaction.
    alice
        .send(json!({"cmd": "messages_get", "channel": "general", "limit": 5}))
        .await;
    let hist = alice.recv_history().await;
    let last = hist["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["id"], seen[0]);
    assert_eq!(last["interaction"]["command"], "weather");

    // The bot leaves: its commands go, everyone is told.
    bot.close().await;
    alice
        .expect(json!({"cmd": "slash_remove", "commands": ["weather"]}))
        .await;
    bob.expect(json!({"cmd": "slash_remove", "commands": ["weather"]}))
        .await;
    alice
        .expect(json!({"cmd": "user_disconnect", "username": "weatherbot"}))
        .await;
    alice
        .send(
            json!({"cmd": "slash_call", "channel": "general", "command": "weather",
            "args": {"city": "Oslo"}}),
        )
        .await;
    alice
        .expect(
            json!({"cmd": "error", "src": "slash_call", "val": "Unknown slash command: /weather"}),
        )
        .await;
    alice.close().await;
    bob.close().await;
}

#[tokio::test]
async fn slash_errors_have_the_reference_strings() {
    let s = cracked();
    let mut bot = Oc::register(&s, "weatherbot").await;
    let mut alice = Oc::register(&s, "alice").await;
    skip_joins(&mut bot, 2).await;

    bot.expect_error(
        json!({"cmd": "slash_register"}),
        "Commands must be provided as a list",
    )
    .await;
    bot.expect_error(
        json!({"cmd": "slash_register", "commands": []}),
        "Commands must be provided as a list",
    )
    .await;
    // An invalid schema is refused by the decoder in the reference's words.
    bot.send(
        json!({"cmd": "slash_register", "commands": [{"name": "x", "description": "y",
        "options": [{"name": "a", "description": "b", "type": "string"}]}]}),
    )
    .await;
    let e = bot.recv().await;
    assert_eq!(e["cmd"], "error");
    assert!(
        e["val"]
            .as_str()
            .unwrap()
            .starts_with("Invalid command schema"),
        "{e}"
    );

    // A second session of the same user cannot register.
    let mut bot2 = Oc::login(&s, "weatherbot", "password").await;
    bot2.expect_error(
        json!({"cmd": "slash_register", "commands": [weather()]}),
        "You already have slash commands registered from another session",
    )
    .await;
    bot2.close().await;
    // The server handles the close asynchronously: wait until it lists one connection.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        bot.send(json!({"cmd": "users_online"})).await;
        let online = bot.recv().await;
        let sessions = online["users"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["username"] == "weatherbot")
            .count();
        if sessions == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "bot2 never closed: {online}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let mut gated = weather();
    gated["name"] = json!("secret");
    gated["whitelistRoles"] = json!(["owner"]);
    let mut banned = weather();
    banned["name"] = json!("nouser");
    banned["blacklistRoles"] = json!(["user"]);
    bot.send(json!({"cmd": "slash_register", "commands": [weather(), gated, banned]}))
        .await;
    assert_eq!(bot.recv().await["cmd"], "slash_add");
    assert_eq!(
        bot.recv().await["val"],
        "3 commands registered successfully"
    );
    assert_eq!(alice.recv().await["cmd"], "slash_add");

    let call = |c: &str, args: Value| json!({"cmd": "slash_call", "channel": "general", "command": c, "args": args});
    alice
        .expect_error(
            json!({"cmd": "slash_call", "command": "weather"}),
            "Channel parameter is required for slash commands",
        )
        .await;
    alice
        .expect_error(
            json!({"cmd": "slash_call", "channel": "general"}),
            "Command name must be a string",
        )
        .await;
    alice
        .expect_error(call("nope", json!({})), "Unknown slash command: /nope")
        .await;
    alice
        .expect_error(
            call("weather", json!({"city": "x", "wind": 1})),
            "Unknown argument: wind",
        )
        .await;
    alice
        .expect_error(
            call("weather", json!({})),
            "Missing required argument: city",
        )
        .await;
    alice.send(call("secret", json!({"city": "x"}))).await;
    alice
        .expect(json!({"cmd": "error", "val": "Access denied: 'owner' role required"}))
        .await;
    alice.send(call("nouser", json!({"city": "x"}))).await;
    alice
        .expect(json!({"cmd": "error", "val": "Access denied: 'user' role is forbidden"}))
        .await;
    // Built-in moderation commands need admin or owner.
    alice
        .expect_error(
            call("mute", json!({"username": "weatherbot", "duration": 5})),
            "Access denied: 'admin' role required",
        )
        .await;
    // None of this reached the bot.
    bot.expect_quiet().await;

    // slash_response errors carry no src.
    let plain = |v: &str| json!({"cmd": "error", "val": v});
    bot.send(json!({"cmd": "slash_response", "command": "weather", "response": "x"}))
        .await;
    bot.expect(plain("Channel parameter is required for slash commands"))
        .await;
    bot.send(json!({"cmd": "slash_response", "command": "weather", "channel": "general"}))
        .await;
    bot.expect(plain("Slash response must have content or embeds"))
        .await;
    // No command, and no call to answer.
    bot.send(json!({"cmd": "slash_response", "response": "x", "channel": "general"}))
        .await;
    bot.expect(plain("Command parameter is required for slash responses"))
        .await;
    // The connection is still up and nothing was posted.
    alice.expect_quiet().await;
    bot.close().await;
    alice.close().await;
}

#[tokio::test]
async fn built_in_help_answers_as_the_server_with_an_interaction() {
    let s = cracked();
    let mut alice = Oc::register(&s, "alice").await;
    alice
        .send(
            json!({"cmd": "slash_call", "channel": "general", "command": "help", "args": {},
            "listener": "h"}),
        )
        .await;
    let m = alice.recv().await;
    assert_eq!(m["cmd"], "message_new");
    assert_eq!(m["message"]["user"], "originChats");
    assert_eq!(
        m["message"]["interaction"],
        json!({"command": "help", "username": "alice"})
    );
    let text = m["message"]["content"].as_str().unwrap();
    assert!(
        text.starts_with("**Available Commands:**\n• `/help` - List all available slash commands"),
        "{text}"
    );
    // Moderation built-ins are not offered to a plain user.
    assert!(!text.contains("/mute"), "{text}");
    // With a listener, the caller also gets its own copy carrying it.
    let own = alice.recv().await;
    assert_eq!(own["listener"], "h");
    assert_eq!(own["message"]["id"], m["message"]["id"]);
    alice.close().await;
}

fn slash(command: &str, args: Value) -> Value {
    json!({"cmd": "slash_call", "channel": "general", "command": command, "args": args})
}

/// The next frame must be the answer of built-in `command` invoked by `invoker`; returns its text.
async fn builtin_answer(c: &mut Oc, command: &str, invoker: &str) -> String {
    let m = c.recv().await;
    assert_eq!(m["cmd"], "message_new", "{m}");
    assert_eq!(m["channel"], "general");
    assert_eq!(m["message"]["user"], "originChats");
    assert_eq!(
        m["message"]["interaction"],
        json!({"command": command, "username": invoker})
    );
    m["message"]["content"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn built_in_ban_disconnects_the_user_and_unban_lets_them_back() {
    let s = cracked();
    let mut boss = staff(&s, "boss", "owner").await;
    let mut bob = Oc::register(&s, "bob").await;
    skip_joins(&mut boss, 2).await;

    // Only admins and owners; no option validation, so the handler's own errors show.
    for cmd in ["ban", "unban"] {
        bob.expect_error(
            slash(cmd, json!({"username": "boss"})),
            "Access denied: 'admin' role required",
        )
        .await;
    }
    for cmd in ["ban", "unban"] {
        boss.expect_error(slash(cmd, json!({})), "Username is required")
            .await;
        boss.expect_error(
            slash(cmd, json!({"username": "ghost"})),
            "User 'ghost' not found",
        )
        .await;
    }
    boss.expect_error(
        slash("ban", json!({"username": "boss"})),
        "Cannot ban the server owner",
    )
    .await;
    boss.expect_error(
        slash("unban", json!({"username": "bob"})),
        "User 'bob' is not banned",
    )
    .await;

    boss.send(slash("ban", json!({"username": "bob", "reason": "spam"})))
        .await;
    // bob is told why, then the server closes the connection (a normal close).
    bob.expect(json!({"cmd": "disconnect", "reason": "You have been banned"}))
        .await;
    let end = tokio::time::timeout(crate::support::PATIENCE, bob.ws.next())
        .await
        .expect("the banned connection stays open");
    match end {
        Some(Ok(Message::Close(Some(f)))) => assert_eq!(u16::from(f.code), 1000),
        other => panic!("expected a close frame, got {other:?}"),
    }
    let mut frames = boss.recv_n(2).await;
    frames.sort_by_key(|f| f["cmd"].as_str().unwrap().to_owned());
    assert_eq!(
        frames[1],
        json!({"cmd": "user_disconnect", "username": "bob"})
    );
    assert_eq!(frames[0]["cmd"], "message_new", "{frames:?}");
    assert_eq!(frames[0]["message"]["user"], "originChats");
    assert_eq!(
        frames[0]["message"]["content"],
        "🚫 **bob** has been banned.\n**Reason:** spam"
    );
    assert_eq!(
        frames[0]["message"]["interaction"],
        json!({"command": "ban", "username": "boss"})
    );

    // It is the core's ban: the login is refused, Plexichat lists it with its reason, and the
    // modlog has it.
    let mut again = Oc::connect(&s).await;
    again
        .send(json!({"cmd": "login", "username": "bob", "password": "password"}))
        .await;
    again
        .expect(json!({"cmd": "auth_error",
            "val": "Access denied: You are banned from this server"}))
        .await;
    let out = s.cli(&["token", "issue", "boss"]);
    assert!(out.status.success(), "{out:?}");
    let tok = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let space = u128::from_str_radix("00000000000070008000000000000001", 16).unwrap();
    let bans = Api::new(&s)
        .with_token(&tok)
        .get(&format!("/servers/{space}/bans"))
        .await;
    assert_eq!(bans.body.as_array().unwrap().len(), 1, "{}", bans.body);
    assert_eq!(bans.body[0]["reason"], "spam");
    boss.send(json!({"cmd": "modlog_get", "action": "user_ban"}))
        .await;
    let log = boss.recv().await;
    assert_eq!(log["total"], 1, "{log}");
    assert_eq!(log["entries"][0]["target_name"], "bob");

    boss.expect_error(
        slash("ban", json!({"username": "bob"})),
        "User 'bob' is already banned",
    )
    .await;

    boss.send(slash("unban", json!({"username": "bob"}))).await;
    assert_eq!(
        builtin_answer(&mut boss, "unban", "boss").await,
        "✅ **bob** has been unbanned."
    );
    boss.expect_error(
        slash("unban", json!({"username": "bob"})),
        "User 'bob' is not banned",
    )
    .await;
    let back = Oc::login(&s, "bob", "password").await;
    back.close().await;

    // Without a reason the answer says so.
    let mut carol = Oc::register(&s, "carol").await;
    boss.send(slash("ban", json!({"username": "carol"}))).await;
    carol
        .expect(json!({"cmd": "disconnect", "reason": "You have been banned"}))
        .await;
    loop {
        let f = boss.recv().await;
        if f["cmd"] == "message_new" {
            assert_eq!(
                f["message"]["content"],
                "🚫 **carol** has been banned.\n**Reason:** No reason provided"
            );
            break;
        }
        assert!(
            ["user_join", "user_connect", "user_disconnect"].contains(&f["cmd"].as_str().unwrap()),
            "{f}"
        );
    }
    boss.close().await;
}

#[tokio::test]
async fn built_in_nick_sets_and_clears_the_callers_nickname_for_everyone() {
    let s = cracked();
    let mut alice = Oc::register(&s, "alice").await;
    let mut bob = Oc::register(&s, "bob").await;
    skip_joins(&mut alice, 2).await;
    alice.send(slash("nick", json!({"nickname": "Ally"}))).await;
    let update = alice.recv().await;
    assert_eq!(update["cmd"], "nickname_update", "{update}");
    assert_eq!(update["username"], "alice");
    assert_eq!(update["nickname"], "Ally");
    let id = update["user"].as_str().unwrap().to_owned();
    assert!(!id.is_empty() && id != "alice", "{update}");
    bob.expect(update.clone()).await;
    let text = builtin_answer(&mut alice, "nick", "alice").await;
    assert!(text.contains("Ally"), "{text}");
    assert_eq!(builtin_answer(&mut bob, "nick", "alice").await, text);
    bob.send(json!({"cmd": "users_list"})).await;
    let list = bob.recv().await;
    let entry = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "alice")
        .unwrap()
        .clone();
    assert_eq!(entry["nickname"], "Ally");

    alice
        .expect_error(
            slash("nick", json!({"nickname": "x".repeat(21)})),
            "Nickname too long (max 20 characters)",
        )
        .await;
    // Twenty characters are fine.
    alice
        .send(slash("nick", json!({"nickname": "y".repeat(20)})))
        .await;
    assert_eq!(alice.recv().await["nickname"], "y".repeat(20));
    builtin_answer(&mut alice, "nick", "alice").await;
    bob.recv_n(2).await;

    // No nickname clears it.
    alice.send(slash("nick", json!({}))).await;
    let remove = json!({"cmd": "nickname_remove", "user": id, "username": "alice"});
    alice.expect(remove.clone()).await;
    bob.expect(remove).await;
    builtin_answer(&mut alice, "nick", "alice").await;
    bob.send(json!({"cmd": "users_list"})).await;
    let list = loop {
        let f = bob.recv().await;
        if f["cmd"] == "users_list" {
            break f;
        }
        assert_eq!(f["cmd"], "message_new", "{f}");
    };
    let entry = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "alice")
        .unwrap()
        .clone();
    assert_eq!(entry["nickname"], Value::Null);
    alice.close().await;
    bob.close().await;
}

#[tokio::test]
async fn built_in_ban_by_an_admin_follows_the_role_hierarchy() {
    let s = cracked();
    let mut adm = staff(&s, "adm", "admin").await;
    let mut other = staff(&s, "adm2", "admin").await;
    let mut bob = Oc::register(&s, "bob").await;
    skip_joins(&mut adm, 3).await;
    skip_joins(&mut other, 2).await;

    // An admin may ban, but not an admin of the same rank.
    adm.expect_error(
        slash("ban", json!({"username": "adm2"})),
        "Cannot manage users at or above your position",
    )
    .await;
    // No option validation for built-ins: an unknown argument is ignored.
    adm.send(slash(
        "ban",
        json!({"username": "bob", "reason": "flood", "silent": true}),
    ))
    .await;
    bob.expect(json!({"cmd": "disconnect", "reason": "You have been banned"}))
        .await;
    // The answer and bob's user_disconnect, in either order.
    let mut frames = adm.recv_n(2).await;
    frames.sort_by_key(|f| f["cmd"].as_str().unwrap().to_owned());
    assert_eq!(
        frames[1],
        json!({"cmd": "user_disconnect", "username": "bob"})
    );
    let text = frames[0]["message"]["content"].as_str().unwrap().to_owned();
    assert_eq!(text, "🚫 **bob** has been banned.\n**Reason:** flood");
    // The other admin, still connected, saw the answer too.
    loop {
        let f = other.recv().await;
        if f["cmd"] == "message_new" {
            assert_eq!(f["message"]["content"], text.as_str());
            break;
        }
    }
    adm.send(slash("unban", json!({"username": "bob"}))).await;
    assert_eq!(
        builtin_answer(&mut adm, "unban", "adm").await,
        "✅ **bob** has been unbanned."
    );
}
