//! OriginChats forum threads (§2.6) and the `thread_id` paths of the message commands, seen by
//! an owner, a moderator (who opens the threads) and a plain user who cannot view the forum and
//! must receive nothing from it.

use crate::originchats::{Oc, cracked};
use crate::support::Server;
use serde_json::{Value, json};

/// Creates `name` with `role` through the CLI, logs in and reads its own user_connect.
pub async fn member(s: &Server, name: &str, role: &str) -> Oc {
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

/// Owner `boss`, moderator `mod`, user `bob`, each having seen the others arrive.
pub async fn three() -> (Server, Oc, Oc, Oc) {
    let s = cracked();
    let mut boss = member(&s, "boss", "owner").await;
    let mut moder = member(&s, "mod", "moderator").await;
    let bob = Oc::register(&s, "bob").await;
    assert_eq!(boss.recv().await["cmd"], "user_connect"); // mod
    for c in [&mut boss, &mut moder] {
        assert_eq!(c.recv().await["cmd"], "user_join"); // bob
        assert_eq!(c.recv().await["cmd"], "user_connect");
    }
    (s, boss, moder, bob)
}

/// boss creates the channel `name` of `kind` with `perms`; every client reads its pushed list.
pub async fn create_channel(
    boss: &mut Oc,
    others: &mut [&mut Oc],
    name: &str,
    kind: &str,
    perms: Value,
) {
    boss.send(json!({"cmd": "channel_create", "name": name, "type": kind,
        "permissions": perms}))
        .await;
    let reply = boss.recv().await;
    assert_eq!(reply["cmd"], "channel_create", "{reply}");
    assert_eq!(reply["channel"]["type"], kind);
    assert_eq!(boss.recv().await["cmd"], "channels_get");
    for c in others.iter_mut() {
        assert_eq!(c.recv().await["cmd"], "channels_get");
    }
}

fn staff_lists() -> Value {
    json!({"view": ["owner", "moderator"], "send": ["owner", "moderator"],
        "create_thread": ["owner", "moderator"], "react": ["owner", "moderator"],
        "edit_own": ["moderator", "owner"], "delete_own": ["moderator", "owner"],
        "delete": ["owner"]})
}

/// The three clients with a staff-only forum `support` and mod's thread `Bug reports` in it.
pub async fn forum_with_thread() -> (Server, Oc, Oc, Oc, String) {
    let (s, mut boss, mut moder, mut bob) = three().await;
    create_channel(
        &mut boss,
        &mut [&mut moder, &mut bob],
        "support",
        "forum",
        staff_lists(),
    )
    .await;
    moder
        .send(json!({"cmd": "thread_create", "channel": "support", "name": "Bug reports"}))
        .await;
    let created = moder.recv().await;
    assert_eq!(created["cmd"], "thread_create", "{created}");
    assert_eq!(boss.recv().await, created);
    let id = created["thread"]["id"].as_str().unwrap().to_owned();
    (s, boss, moder, bob, id)
}

#[tokio::test]
async fn a_thread_from_creation_to_deletion() {
    let (s, mut boss, mut moder, mut bob, id) = forum_with_thread().await;
    // thread_create's broadcast, as the viewers got it.
    moder
        .send(json!({"cmd": "thread_get", "thread_id": id}))
        .await;
    let got = moder.recv().await;
    assert_eq!(got["cmd"], "thread_get");
    let t = &got["thread"];
    assert_eq!(t["name"], "Bug reports");
    assert_eq!(t["parent_channel"], "support");
    assert_eq!(t["created_by"], "mod");
    assert_eq!(t["participants"], json!(["mod"]));
    assert_eq!(t["locked"], false);
    assert_eq!(t["archived"], false);
    assert_eq!(t["last_message"], Value::Null);
    assert_eq!(t["last_message_id"], Value::Null);
    assert!(t["created_at"].as_f64().unwrap() > 1.7e9);

    // A message in the thread: the forum's viewers get it with channel and thread_id.
    moder
        .send(json!({"cmd": "message_new", "thread_id": id, "content": "first"}))
        .await;
    let m = moder.recv().await;
    assert_eq!(m["cmd"], "message_new");
    assert_eq!(m["channel"], "support");
    assert_eq!(m["thread_id"], id.as_str());
    assert_eq!(m["message"]["content"], "first");
    assert_eq!(m["message"]["user"], "mod");
    assert_eq!(boss.recv().await, m);
    let mid = m["message"]["id"].as_str().unwrap().to_owned();

    // thread_join: boss becomes a participant.
    boss.send(json!({"cmd": "thread_join", "thread_id": id}))
        .await;
    let j = boss.recv().await;
    assert_eq!(j["cmd"], "thread_join");
    assert_eq!(j["user"], "boss");
    assert_eq!(j["thread_id"], id.as_str());
    assert_eq!(j["thread"]["participants"], json!(["mod", "boss"]));
    assert_eq!(j["global"], true);
    assert_eq!(moder.recv().await, j);

    // typing in the thread
    boss.send(json!({"cmd": "typing", "thread_id": id})).await;
    let typing = json!({"cmd": "typing", "channel": "support", "user": "boss",
        "thread_id": id, "global": true});
    assert_eq!(moder.recv().await, typing);
    assert_eq!(boss.recv().await, typing);

    // edit, react, with thread_id
    moder
        .send(json!({"cmd": "message_edit", "id": mid, "thread_id": id, "content": "first!"}))
        .await;
    let e = moder.recv().await;
    assert_eq!(e["cmd"], "message_edit");
    assert_eq!(e["content"], "first!");
    assert_eq!(e["channel"], "support");
    assert_eq!(e["thread_id"], id.as_str());
    assert_eq!(boss.recv().await, e);
    boss.send(json!({"cmd": "message_react_add", "id": mid, "thread_id": id, "emoji": "👍"}))
        .await;
    let r = json!({"cmd": "message_react_add", "id": mid, "emoji": "👍", "channel": "support",
        "from": "boss", "global": true, "thread_id": id});
    assert_eq!(boss.recv().await, r);
    assert_eq!(moder.recv().await, r);

    boss.send(json!({"cmd": "embeds_list", "id": mid, "thread_id": id}))
        .await;
    assert_eq!(
        boss.recv().await,
        json!({"cmd": "embeds_list", "id": mid, "embeds": []})
    );

    // History through messages_get and thread_messages.
    boss.send(json!({"cmd": "messages_get", "thread_id": id, "listener": "h"}))
        .await;
    let h = boss.recv_history().await;
    assert_eq!(h["channel"], "support");
    assert_eq!(h["thread_id"], id.as_str());
    assert_eq!(h["listener"], "h");
    assert_eq!(h["messages"][0]["content"], "first!");
    assert_eq!(h["messages"][0]["reactions"], json!({"👍": ["boss"]}));
    boss.send(json!({"cmd": "thread_messages", "thread_id": id, "start": 0, "limit": 10}))
        .await;
    let tm = boss.recv().await;
    assert_eq!(tm["cmd"], "thread_messages");
    assert_eq!(tm["thread_id"], id.as_str());
    assert_eq!(tm["messages"], h["messages"]);

    // Archive (the creator may); edits then refuse, a new message reopens the thread.
    moder
        .send(json!({"cmd": "thread_update", "thread_id": id, "archived": true}))
        .await;
    let u = moder.recv().await;
    assert_eq!(u["cmd"], "thread_update");
    assert_eq!(u["thread"]["archived"], true);
    assert_eq!(u["thread"]["last_message_id"], mid.as_str());
    assert_eq!(boss.recv().await, u);
    moder
        .expect_error(
            json!({"cmd": "message_edit", "id": mid, "thread_id": id, "content": "x"}),
            "This thread is archived",
        )
        .await;
    moder
        .send(json!({"cmd": "message_new", "thread_id": id, "content": "again"}))
        .await;
    for c in [&mut moder, &mut boss] {
        let u = c.recv().await;
        assert_eq!(u["cmd"], "thread_update");
        assert_eq!(u["thread"]["archived"], false);
        let m = c.recv().await;
        assert_eq!(m["cmd"], "message_new");
        assert_eq!(m["message"]["content"], "again");
    }

    // Lock (moderators may): posting and joining refuse.
    moder
        .send(json!({"cmd": "thread_update", "thread_id": id, "locked": true, "name": "Bugs"}))
        .await;
    let u = moder.recv().await;
    assert_eq!(u["thread"]["locked"], true);
    assert_eq!(u["thread"]["name"], "Bugs");
    assert_eq!(boss.recv().await, u);
    boss.expect_error(
        json!({"cmd": "message_new", "thread_id": id, "content": "x"}),
        "This thread is locked",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "message_delete", "id": mid, "thread_id": id}),
        "This thread is locked",
    )
    .await;
    boss.send(json!({"cmd": "thread_update", "thread_id": id, "locked": false}))
        .await;
    assert_eq!(boss.recv().await["thread"]["locked"], false);
    assert_eq!(moder.recv().await["thread"]["locked"], false);

    // Unreads of a thread are kept under thread/<id>.
    boss.send(json!({"cmd": "unreads_ack", "thread_id": id, "message_id": mid}))
        .await;
    assert_eq!(
        boss.recv().await,
        json!({"cmd": "unreads_update", "last_read": mid, "thread_id": id})
    );
    assert_eq!(
        boss.recv().await,
        json!({"cmd": "unreads_ack", "thread_id": id, "last_read": mid})
    );
    boss.send(json!({"cmd": "unreads_count", "thread_id": id}))
        .await;
    assert_eq!(
        boss.recv().await,
        json!({"cmd": "unreads_count", "thread_id": id, "unread_count": 1,
            "last_read": mid, "total_messages": 2})
    );
    boss.send(json!({"cmd": "unreads_get"})).await;
    let g = boss.recv().await;
    assert_eq!(
        g["unreads"][format!("thread/{id}")],
        json!({"last_read": mid, "unread_count": 1, "total_messages": 2,
            "parent_channel": "support"})
    );

    // The forum in channels_get lists its thread.
    boss.send(json!({"cmd": "channels_get"})).await;
    let list = boss.recv().await;
    let forum = list["val"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "support")
        .unwrap()
        .clone();
    assert_eq!(forum["type"], "forum");
    assert_eq!(forum["threads"][0]["id"], id.as_str());
    assert_eq!(forum["threads"][0]["participants"], json!(["mod", "boss"]));

    // thread_leave, then delete a message, then the thread.
    boss.send(json!({"cmd": "thread_leave", "thread_id": id}))
        .await;
    let left = boss.recv().await;
    assert_eq!(left["cmd"], "thread_leave");
    assert_eq!(left["thread"]["participants"], json!(["mod"]));
    assert_eq!(moder.recv().await, left);
    moder
        .send(json!({"cmd": "message_delete", "id": mid, "thread_id": id}))
        .await;
    let d = json!({"cmd": "message_delete", "id": mid, "channel": "support", "global": true,
        "thread_id": id});
    assert_eq!(moder.recv().await, d);
    assert_eq!(boss.recv().await, d);
    moder
        .send(json!({"cmd": "thread_delete", "thread_id": id, "listener": "del"}))
        .await;
    let gone = json!({"cmd": "thread_delete", "thread_id": id, "channel": "support",
        "global": true});
    assert_eq!(moder.recv().await, gone);
    let mut with_listener = gone.clone();
    with_listener["listener"] = json!("del");
    assert_eq!(moder.recv().await, with_listener);
    assert_eq!(boss.recv().await, gone);
    boss.expect_error(
        json!({"cmd": "messages_get", "thread_id": id}),
        "Thread not found",
    )
    .await;

    // bob, who cannot view the forum, heard none of it.
    bob.expect_quiet().await;
    drop(s);
}

#[tokio::test]
async fn thread_errors() {
    let (s, mut boss, mut moder, mut bob, id) = forum_with_thread().await;
    moder
        .expect_error(
            json!({"cmd": "thread_create", "channel": "support"}),
            "Channel and thread name are required",
        )
        .await;
    moder
        .expect_error(
            json!({"cmd": "thread_create", "channel": "nowhere", "name": "x"}),
            "Channel not found",
        )
        .await;
    moder
        .expect_error(
            json!({"cmd": "thread_create", "channel": "general", "name": "x"}),
            "Threads can only be created in forum channels",
        )
        .await;
    moder
        .expect_error(
            json!({"cmd": "thread_create", "channel": "support", "name": "   "}),
            "Thread name cannot be empty",
        )
        .await;
    bob.expect_error(
        json!({"cmd": "thread_create", "channel": "support", "name": "mine"}),
        "You do not have permission to create threads in this channel",
    )
    .await;
    bob.expect_error(json!({"cmd": "thread_get"}), "Thread ID is required")
        .await;
    bob.expect_error(
        json!({"cmd": "thread_get", "thread_id": "nope"}),
        "Thread not found",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "thread_get", "thread_id": id}),
        "You do not have permission to view this thread",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "thread_messages", "thread_id": id}),
        "You do not have permission to view this thread",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "thread_join", "thread_id": id}),
        "You do not have permission to view this thread",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "message_new", "thread_id": id, "content": "hi"}),
        "You do not have permission to send messages in this thread",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "message_new", "thread_id": "nope", "content": "hi"}),
        "Thread not found",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "typing", "thread_id": "nope"}),
        "Thread not found",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "typing", "thread_id": id}),
        "You do not have permission to send messages in this thread",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "messages_get", "thread_id": id}),
        "You do not have permission to view this thread",
    )
    .await;
    moder
        .expect_error(
            json!({"cmd": "thread_update", "thread_id": id, "name": ""}),
            "Thread name cannot be empty",
        )
        .await;

    // An open forum: plain users open threads there; only the creator (or manage_threads)
    // changes one, and `locked` needs manage_threads.
    let open = json!({"view": ["user"], "send": ["user"], "create_thread": ["user"]});
    create_channel(
        &mut boss,
        &mut [&mut moder, &mut bob],
        "ideas",
        "forum",
        open,
    )
    .await;
    let mut carol = Oc::register(&s, "carol").await;
    for c in [&mut boss, &mut moder, &mut bob] {
        assert_eq!(c.recv().await["cmd"], "user_join");
        assert_eq!(c.recv().await["cmd"], "user_connect");
    }
    bob.send(json!({"cmd": "thread_create", "channel": "ideas", "name": "Dark mode"}))
        .await;
    let created = bob.recv().await;
    assert_eq!(created["thread"]["created_by"], "bob");
    for c in [&mut boss, &mut moder, &mut carol] {
        assert_eq!(c.recv().await, created);
    }
    let tid = created["thread"]["id"].as_str().unwrap().to_owned();
    carol
        .expect_error(
            json!({"cmd": "thread_update", "thread_id": tid, "name": "Light mode"}),
            "You do not have permission to modify this thread",
        )
        .await;
    carol
        .expect_error(
            json!({"cmd": "thread_delete", "thread_id": tid}),
            "You do not have permission to delete this thread",
        )
        .await;
    // The creator's `locked` is ignored without manage_threads.
    bob.send(json!({"cmd": "thread_update", "thread_id": tid, "locked": true}))
        .await;
    let u = bob.recv().await;
    assert_eq!(u["thread"]["locked"], false);
    for c in [&mut boss, &mut moder, &mut carol] {
        assert_eq!(c.recv().await, u);
    }
    moder
        .send(json!({"cmd": "thread_update", "thread_id": tid, "locked": true}))
        .await;
    let u = moder.recv().await;
    assert_eq!(u["thread"]["locked"], true);
    for c in [&mut boss, &mut bob, &mut carol] {
        assert_eq!(c.recv().await, u);
    }
    carol
        .expect_error(
            json!({"cmd": "thread_join", "thread_id": tid}),
            "This thread is locked",
        )
        .await;
    // The creator cannot leave: the reply comes back, nobody else hears of it.
    bob.send(json!({"cmd": "thread_leave", "thread_id": tid}))
        .await;
    let l = bob.recv().await;
    assert_eq!(l["cmd"], "thread_leave");
    assert_eq!(l["thread"]["participants"], json!(["bob"]));
    carol.expect_quiet().await;
    boss.expect_quiet().await;
}

#[tokio::test]
async fn pings_get_covers_forum_threads_and_honours_ping_false() {
    let (_s, mut boss, mut moder, mut bob, id) = forum_with_thread().await;
    // In the thread: boss (who never joined it) is pinged; bob cannot view the forum.
    moder
        .send(json!({"cmd": "message_new", "thread_id": id, "content": "@boss @bob look"}))
        .await;
    let in_thread = moder.recv().await["message"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(boss.recv().await["message"]["id"], in_thread.as_str());

    // In #general: a reply with `ping: false` pings nobody, one with `ping: true` does.
    boss.send(json!({"cmd": "message_new", "channel": "general", "content": "question"}))
        .await;
    let question = boss.recv().await["message"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    moder.recv().await;
    bob.recv().await;
    let mut replies = Vec::new();
    for ping in [false, true] {
        moder
            .send(
                json!({"cmd": "message_new", "channel": "general", "content": "answer",
                "reply_to": question, "ping": ping}),
            )
            .await;
        let m = moder.recv().await;
        assert_eq!(m["message"]["ping"], ping, "{m}");
        let expected: &[&str] = if ping { &["boss"] } else { &[] };
        assert_eq!(m["message"]["pings"]["replies"], json!(expected), "{m}");
        assert_eq!(boss.recv().await, m);
        bob.recv().await;
        replies.push(m["message"]["id"].as_str().unwrap().to_owned());
    }
    // The stored message keeps `ping` (history has it too).
    boss.send(json!({"cmd": "message_get", "channel": "general", "id": replies[0]}))
        .await;
    let got = boss.recv().await;
    assert_eq!(got["message"]["ping"], false, "{got}");

    boss.send(json!({"cmd": "pings_get"})).await;
    let got = boss.recv().await;
    assert_eq!(got["cmd"], "pings_get");
    assert_eq!(got["total"], 2, "{got}");
    let m = &got["messages"];
    assert_eq!(m[0]["id"], replies[1].as_str());
    assert_eq!(m[0]["channel"], "general");
    assert!(m[0].get("thread_id").is_none(), "{got}");
    assert_eq!(m[1]["id"], in_thread.as_str());
    assert_eq!(m[1]["channel"], "support");
    assert_eq!(m[1]["thread_id"], id.as_str());

    bob.send(json!({"cmd": "pings_get"})).await;
    let got = bob.recv().await;
    assert_eq!(got["total"], 0, "{got}");
    bob.expect_quiet().await;
}

#[tokio::test]
async fn the_modlog_names_the_forum_and_thread_of_a_deleted_thread_message() {
    let (_s, mut boss, mut moder, _bob, id) = forum_with_thread().await;
    moder
        .send(json!({"cmd": "message_new", "thread_id": id, "content": "oops"}))
        .await;
    let mid = moder.recv().await["message"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(boss.recv().await["message"]["id"], mid.as_str());
    boss.send(json!({"cmd": "message_delete", "thread_id": id, "id": mid}))
        .await;
    assert_eq!(boss.recv().await["cmd"], "message_delete");
    boss.send(json!({"cmd": "modlog_get", "category": "message_moderation"}))
        .await;
    let log = boss.recv().await;
    assert_eq!(log["total"], 1, "{log}");
    let e = &log["entries"][0];
    assert_eq!(e["action"], "message_delete");
    assert_eq!(e["actor_name"], "boss");
    assert_eq!(e["target_name"], "mod");
    assert_eq!(
        e["details"],
        json!({"message_id": mid, "channel": "support", "thread_id": id})
    );
    // Creating the thread is not a channel change.
    boss.send(json!({"cmd": "modlog_get", "category": "channel_management"}))
        .await;
    let log = boss.recv().await;
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["channel_create"], "{log}");
}
