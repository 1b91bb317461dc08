//! OriginChats channel structure (§2.2: channel_update, channel_move, forums, the enriched
//! channels_get), lookups (§2.1: messages_around, message_replies, messages_search,
//! messages_pinned) and voice (§2.5).

use crate::originchats_threads::{create_channel, three};
use serde_json::{Value, json};

fn names(channels: &Value) -> Vec<&str> {
    channels
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

fn staff() -> Value {
    json!({"view": ["owner", "moderator"], "send": ["owner", "moderator"]})
}

#[tokio::test]
async fn channel_update_move_and_the_enriched_list() {
    let (_s, mut boss, mut moder, mut bob) = three().await;
    // A message in general, a renamed channel keeps its history.
    bob.send(json!({"cmd": "message_new", "channel": "general", "content": "hello"}))
        .await;
    let m = bob.recv().await;
    let mid = m["message"]["id"].as_str().unwrap().to_owned();
    assert_eq!(boss.recv().await, m);
    assert_eq!(moder.recv().await, m);
    create_channel(
        &mut boss,
        &mut [&mut moder, &mut bob],
        "lounge",
        "voice",
        json!({"view": ["user"]}),
    )
    .await;
    create_channel(
        &mut boss,
        &mut [&mut moder, &mut bob],
        "staff",
        "text",
        staff(),
    )
    .await;

    boss.send(json!({"cmd": "channel_update", "current_name": "general",
        "updates": {"name": "lobby", "description": "Say hi", "icon": "https://x/i.png",
        "display_name": "Lobby"}, "listener": "u"}))
        .await;
    let r = boss.recv().await;
    assert_eq!(r["cmd"], "channel_update");
    assert_eq!(r["updated"], true);
    assert_eq!(r["listener"], "u");
    assert_eq!(r["channel"]["name"], "lobby");
    assert_eq!(r["channel"]["description"], "Say hi");
    assert_eq!(r["channel"]["icon"], "https://x/i.png");
    assert_eq!(r["channel"]["display_name"], "Lobby");
    for (c, expected) in [
        (&mut boss, vec!["lobby", "lounge", "staff"]),
        (&mut moder, vec!["lobby", "lounge", "staff"]),
        (&mut bob, vec!["lobby", "lounge"]),
    ] {
        let f = c.recv().await;
        assert_eq!(f["cmd"], "channels_get");
        assert_eq!(names(&f["val"]), expected);
        // The push is enriched like the reply: the client replaces its list with it.
        let lobby = &f["val"][0];
        assert_eq!(lobby["last_message_id"], mid.as_str(), "{lobby}");
        assert_eq!(f["val"][1]["voice_state"], json!([]), "{f}");
    }
    bob.send(json!({"cmd": "messages_get", "channel": "lobby"}))
        .await;
    let h = bob.recv_history().await;
    assert_eq!(h["messages"][0]["id"], mid.as_str());

    // channel_move: staff to the top.
    boss.send(json!({"cmd": "channel_move", "name": "staff", "position": 0}))
        .await;
    boss.expect(json!({"cmd": "channel_move", "name": "staff", "position": 0, "moved": true}))
        .await;
    for (c, expected) in [
        (&mut boss, vec!["staff", "lobby", "lounge"]),
        (&mut moder, vec!["staff", "lobby", "lounge"]),
        (&mut bob, vec!["lobby", "lounge"]),
    ] {
        let f = c.recv().await;
        assert_eq!(names(&f["val"]), expected);
    }
    boss.send(json!({"cmd": "channel_move", "name": "nowhere", "position": 3}))
        .await;
    boss.expect(json!({"cmd": "channel_move", "name": "nowhere", "position": 3, "moved": false}))
        .await;
    // Past the end is clamped.
    boss.send(json!({"cmd": "channel_move", "name": "staff", "position": 99}))
        .await;
    assert_eq!(boss.recv().await["moved"], true);
    let f = boss.recv().await;
    assert_eq!(names(&f["val"]), vec!["lobby", "lounge", "staff"]);
    moder.recv().await;
    bob.recv().await;

    // channel_update of the type.
    boss.send(json!({"cmd": "channel_update", "current_name": "staff",
        "updates": {"type": "voice"}}))
        .await;
    assert_eq!(boss.recv().await["channel"]["type"], "voice");
    for c in [&mut boss, &mut moder, &mut bob] {
        assert_eq!(c.recv().await["cmd"], "channels_get");
    }

    // The enriched reply: text channels with their newest message, voice with its members.
    bob.send(json!({"cmd": "channels_get"})).await;
    let list = bob.recv().await;
    let lobby = &list["val"][0];
    assert_eq!(lobby["last_message_id"], mid.as_str());
    assert!(lobby["last_message"].as_f64().unwrap() > 1.7e9);
    assert_eq!(list["val"][1]["voice_state"], json!([]));

    // Errors.
    let denied = "Access denied: 'manage_channels' permission required";
    bob.expect_error(
        json!({"cmd": "channel_update", "current_name": "lobby", "updates": {}}),
        denied,
    )
    .await;
    bob.expect_error(
        json!({"cmd": "channel_move", "name": "lobby", "position": 1}),
        denied,
    )
    .await;
    boss.expect_error(
        json!({"cmd": "channel_update", "updates": {}}),
        "current_name is required",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "channel_update", "current_name": "lobby"}),
        "updates object is required",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "channel_update", "current_name": "nope", "updates": {}}),
        "Channel not found",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "channel_update", "current_name": "lobby", "updates": {"type": "stage"}}),
        "Invalid channel type",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "channel_update", "current_name": "lobby", "updates": {"name": "lounge"}}),
        "Channel with new name already exists",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "channel_move", "position": 1}),
        "Channel name is required",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "channel_move", "name": "lobby"}),
        "Position is required",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "channel_move", "name": "lobby", "position": -1}),
        "Position must be a non-negative integer",
    )
    .await;
    bob.expect_quiet().await;
}

#[tokio::test]
async fn lookups_around_replies_search_pins() {
    let (_s, mut boss, mut moder, mut bob) = three().await;
    let mut ids = Vec::new();
    for text in [
        "alpha one",
        "beta two",
        "Alpha three",
        "gamma",
        "ALPHA five",
    ] {
        bob.send(json!({"cmd": "message_new", "channel": "general", "content": text}))
            .await;
        let m = bob.recv().await;
        ids.push(m["message"]["id"].as_str().unwrap().to_owned());
        boss.recv().await;
        moder.recv().await;
    }
    bob.send(
        json!({"cmd": "message_new", "channel": "general", "content": "re",
        "reply_to": ids[1]}),
    )
    .await;
    let reply = bob.recv().await;
    boss.recv().await;
    moder.recv().await;

    // messages_around: one below, one above, the newest included.
    bob.send(
        json!({"cmd": "messages_around", "channel": "general", "around": ids[4],
        "bounds": {"above": 5, "below": 1}}),
    )
    .await;
    let a = bob.recv().await;
    assert_eq!(a["cmd"], "messages_around");
    assert_eq!(a["thread_id"], Value::Null);
    let got: Vec<&str> = a["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["gamma", "ALPHA five", "re"]);
    assert_eq!(a["range"], json!({"start": 3, "end": 6}));
    bob.expect_error(
        json!({"cmd": "messages_around", "channel": "general"}),
        "around (message ID) is required",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "messages_around", "channel": "general", "around": "nope"}),
        "Message not found",
    )
    .await;

    // message_replies
    bob.send(json!({"cmd": "message_replies", "channel": "general", "id": ids[1]}))
        .await;
    let r = bob.recv().await;
    assert_eq!(r["cmd"], "message_replies");
    assert_eq!(r["message_id"], ids[1].as_str());
    assert_eq!(r["replies"][0]["id"], reply["message"]["id"]);
    assert_eq!(r["replies"].as_array().unwrap().len(), 1);
    bob.expect_error(
        json!({"cmd": "message_replies", "channel": "general"}),
        "Channel name and message ID are required",
    )
    .await;

    // messages_search: case-insensitive, newest first.
    bob.send(json!({"cmd": "messages_search", "channel": "general", "query": "alpha"}))
        .await;
    let s = bob.recv().await;
    assert_eq!(s["cmd"], "messages_search");
    assert_eq!(s["query"], "alpha");
    let got: Vec<&str> = s["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["ALPHA five", "Alpha three", "alpha one"]);
    bob.expect_error(
        json!({"cmd": "messages_search", "channel": "general"}),
        "Channel name and query are required",
    )
    .await;

    // messages_pinned: newest first.
    for id in [&ids[0], &ids[3]] {
        boss.send(json!({"cmd": "message_pin", "channel": "general", "id": id}))
            .await;
        boss.recv().await;
        moder.recv().await;
        bob.recv().await;
    }
    bob.send(json!({"cmd": "messages_pinned", "channel": "general"}))
        .await;
    let p = bob.recv().await;
    assert_eq!(p["cmd"], "messages_pinned");
    let got: Vec<&str> = p["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["gamma", "alpha one"]);
    assert_eq!(p["messages"][0]["pinned"], true);

    // A channel bob cannot view.
    create_channel(
        &mut boss,
        &mut [&mut moder, &mut bob],
        "staff",
        "text",
        staff(),
    )
    .await;
    for req in [
        json!({"cmd": "messages_pinned", "channel": "staff"}),
        json!({"cmd": "messages_search", "channel": "staff", "query": "x"}),
    ] {
        bob.send(req).await;
        bob.expect(json!({"cmd": "error", "val": "Access denied to this channel"}))
            .await;
    }
    bob.send(json!({"cmd": "messages_pinned"})).await;
    bob.expect(json!({"cmd": "error", "val": "Channel name not provided"}))
        .await;
}

#[tokio::test]
async fn voice_participants_and_their_broadcasts() {
    let (s, mut boss, mut moder, mut bob) = three().await;
    create_channel(
        &mut boss,
        &mut [&mut moder, &mut bob],
        "backstage",
        "voice",
        staff(),
    )
    .await;
    bob.expect_error(
        json!({"cmd": "voice_join", "channel": "backstage", "peer_id": "p-bob"}),
        "You do not have permission to access this voice channel",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "voice_join", "channel": "general", "peer_id": "p"}),
        "This is not a voice channel",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "voice_join", "channel": "backstage"}),
        "Peer ID is required",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "voice_join", "peer_id": "p"}),
        "Channel name is required",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "voice_leave"}),
        "You are not in a voice channel",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "voice_mute"}),
        "You are not in a voice channel",
    )
    .await;

    // boss joins: the viewers (boss included) hear it first, then boss gets the list.
    boss.send(json!({"cmd": "voice_join", "channel": "backstage", "peer_id": "p-boss"}))
        .await;
    let joined = boss.recv().await;
    assert_eq!(joined["cmd"], "voice_user_joined");
    assert_eq!(joined["user"]["username"], "boss");
    assert_eq!(joined["user"]["peer_id"], "p-boss");
    assert_eq!(joined["user"]["muted"], false);
    assert!(joined.get("global").is_none());
    assert_eq!(moder.recv().await, joined);
    boss.expect(json!({"cmd": "voice_join", "channel": "backstage", "participants": []}))
        .await;
    moder
        .send(json!({"cmd": "voice_join", "channel": "backstage", "peer_id": "p-mod"}))
        .await;
    assert_eq!(boss.recv().await["cmd"], "voice_user_joined");
    assert_eq!(moder.recv().await["cmd"], "voice_user_joined");
    moder
        .expect(json!({"cmd": "voice_join", "channel": "backstage",
            "participants": [{"username": "boss", "peer_id": "p-boss", "muted": false}]}))
        .await;

    // mute / unmute
    boss.send(json!({"cmd": "voice_mute"})).await;
    let upd = boss.recv().await;
    assert_eq!(upd["cmd"], "voice_user_updated");
    assert_eq!(upd["user"]["muted"], true);
    assert_eq!(moder.recv().await, upd);
    boss.expect(json!({"cmd": "voice_mute", "channel": "backstage", "muted": true}))
        .await;
    boss.send(json!({"cmd": "voice_unmute"})).await;
    assert_eq!(boss.recv().await["user"]["muted"], false);
    assert_eq!(moder.recv().await["cmd"], "voice_user_updated");
    boss.expect(json!({"cmd": "voice_unmute", "channel": "backstage", "muted": false}))
        .await;

    // voice_state: peer ids for participants only; channels_get lists everyone.
    moder
        .send(json!({"cmd": "voice_state", "channel": "backstage"}))
        .await;
    let st = moder.recv().await;
    assert_eq!(st["participants"][0]["username"], "boss");
    assert_eq!(st["participants"][0]["peer_id"], "p-boss");
    let s2 = crate::originchats_threads::member(&s, "boss2", "owner").await;
    let mut outsider = s2;
    for c in [&mut boss, &mut moder, &mut bob] {
        assert_eq!(c.recv().await["cmd"], "user_connect");
    }
    outsider
        .send(json!({"cmd": "voice_state", "channel": "backstage"}))
        .await;
    let st = outsider.recv().await;
    assert_eq!(st["participants"].as_array().unwrap().len(), 2);
    assert!(st["participants"][0].get("peer_id").is_none());
    outsider.send(json!({"cmd": "channels_get"})).await;
    let list = outsider.recv().await;
    let voice = list["val"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "backstage")
        .unwrap()
        .clone();
    assert_eq!(
        voice["voice_state"],
        json!([{"username": "boss", "muted": false}, {"username": "mod", "muted": false}])
    );

    // voice_leave, then mod's disconnect leaves too.
    boss.send(json!({"cmd": "voice_leave"})).await;
    let left = json!({"cmd": "voice_user_left", "channel": "backstage", "username": "boss"});
    assert_eq!(boss.recv().await, left);
    assert_eq!(moder.recv().await, left);
    assert_eq!(outsider.recv().await, left);
    boss.expect(json!({"cmd": "voice_leave", "channel": "backstage"}))
        .await;
    moder.close().await;
    // The voice broadcast goes through the hub, user_disconnect straight out: either order.
    let left = json!({"cmd": "voice_user_left", "channel": "backstage", "username": "mod"});
    let gone = json!({"cmd": "user_disconnect", "username": "mod"});
    for c in [&mut boss, &mut outsider] {
        let two = c.recv_n(2).await;
        assert!(two.contains(&left) && two.contains(&gone), "{two:?}");
    }
    // bob, who cannot view backstage, heard nothing but mod's disconnect.
    assert_eq!(
        bob.recv().await,
        json!({"cmd": "user_disconnect", "username": "mod"})
    );
    bob.expect_quiet().await;
}
