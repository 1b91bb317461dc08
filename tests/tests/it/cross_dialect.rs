//! One core, many dialects: what a client of one protocol does reaches the clients of the
//! others that can see it, each in its own protocol's frames (every frame is validated against
//! its dialect's spec by the clients used here).

use crate::messaging_support::M;
use crate::plexichat_support::{Api, Gateway, general_channel};
use crate::support::Server;
use serde_json::json;

/// A message posted in `general` by a reaction-chat client reaches a Plexichat gateway client,
/// and one posted through Plexichat REST reaches the reaction-chat client; reactions cross too.
#[tokio::test]
async fn general_is_shared_by_the_reaction_chat_and_plexichat() {
    let server = Server::start();
    let alice = Api::new(&server).register("alice").await;
    let (mut gateway, _) = Gateway::ready(&server, alice.token.as_deref().unwrap()).await;
    let mut chat = server.client().await;

    chat.say("hello from the reaction chat").await;
    let own = chat.recv().await;
    assert_eq!(own["type"], "message");
    let created = gateway.dispatch().await;
    assert_eq!(created["t"], "MESSAGE_CREATE", "{created}");
    assert_eq!(created["d"]["content"], "hello from the reaction chat");
    assert_eq!(created["d"]["channel_id"], general_channel().as_str());

    let posted = alice.say(&general_channel(), "hello from plexichat").await;
    let seen = chat.recv().await;
    assert_eq!(seen["type"], "message");
    assert_eq!(seen["data"]["text"], "hello from plexichat");
    assert_eq!(seen["data"]["author_id"], "alice");
    let echo = gateway.dispatch().await;
    assert_eq!(echo["d"]["id"], posted["id"]);

    // A reaction from the reaction chat shows up on the gateway.
    let id = seen["data"]["id"].as_str().unwrap().to_owned();
    chat.react(&id, "👍").await;
    let updated = chat.recv().await;
    assert_eq!(updated["type"], "reaction_updated");
    let reaction = gateway.dispatch().await;
    assert_eq!(reaction["t"], "MESSAGE_REACTION_ADD", "{reaction}");
    assert_eq!(reaction["d"]["message_id"], posted["id"]);
    assert_eq!(reaction["d"]["emoji"], "👍");
}

/// A Plexichat DM is a direct room of the core: the recipient's messaging client (logged in
/// with the same account's session token) receives it as a messaging dispatch, and its reply
/// reaches the Plexichat gateway.
#[tokio::test]
async fn a_plexichat_dm_reaches_a_messaging_client_and_back() {
    let server = Server::start();
    let api = Api::new(&server);
    let alice = api.register("alice").await;
    let bob = api.register("bob").await;
    let bob_id = bob.get("/users/@me").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dm = alice
        .post("/users/@me/channels", json!({"recipient_id": bob_id}))
        .await;
    assert_eq!(dm.status, 200, "{}", dm.body);
    let dm_id = dm.body["id"].as_str().unwrap().to_owned();
    let (mut gateway, _) = Gateway::ready(&server, alice.token.as_deref().unwrap()).await;
    let mut phone = M::connect(&server, bob.token.as_deref().unwrap()).await;

    alice.say(&dm_id, "are you there?").await;
    let got = phone.expect("message.dispatch").await;
    assert_eq!(got["content"], "are you there?");
    assert_eq!(got["sender"]["username"], "alice");
    let room = got["room"]["id"].clone();
    assert_eq!(gateway.dispatch().await["t"], "MESSAGE_CREATE");

    phone
        .send("message.send", json!({"room_id": room, "content": "yes!"}))
        .await;
    let sent = phone.expect("message.dispatch").await;
    assert_eq!(sent["content"], "yes!");
    let reply = gateway.dispatch().await;
    assert_eq!(reply["t"], "MESSAGE_CREATE", "{reply}");
    assert_eq!(reply["d"]["content"], "yes!");
    assert_eq!(reply["d"]["channel_id"], dm_id.as_str());
    assert_eq!(reply["d"]["author_username"], "bob");
}

/// Voice rooms are the core's: a Plexichat member joining a voice channel shows up in it for
/// OriginChats clients (without a peer id: it has none), and an OriginChats participant's joins,
/// mutes and leaves reach the gateway as VOICE_STATE_UPDATE.
#[tokio::test]
async fn voice_participants_are_shared_by_originchats_and_plexichat() {
    let server = crate::originchats::cracked();
    let mut boss = crate::originchats_threads::member(&server, "boss", "owner").await;
    let pat = Api::new(&server).register("pat").await;
    let (mut gw, _) = Gateway::ready(&server, pat.token.as_deref().unwrap()).await;

    boss.send(
        json!({"cmd": "channel_create", "name": "lounge", "type": "voice",
        "permissions": {"view": ["user"]}}),
    )
    .await;
    assert_eq!(boss.recv().await["cmd"], "channel_create");
    assert_eq!(boss.recv().await["cmd"], "channels_get");
    let created = gw.dispatch().await;
    assert_eq!(created["t"], "CHANNEL_CREATE");
    let lounge = created["d"]["id"].as_str().unwrap().to_owned();

    // pat joins over the gateway.
    gw.send(json!({"op": 20, "d": {"channel_id": lounge}}))
        .await;
    let d = gw.dispatch().await;
    assert_eq!(d["t"], "VOICE_STATE_UPDATE");
    assert_eq!(d["d"]["channel_id"], lounge.as_str());
    let pat_id = d["d"]["user_id"].as_str().unwrap().to_owned();
    let joined = boss.recv().await;
    assert_eq!(joined["cmd"], "voice_user_joined", "{joined}");
    assert_eq!(joined["channel"], "lounge");
    assert_eq!(joined["user"]["username"], "pat");
    assert_eq!(joined["user"]["muted"], false);
    assert!(joined["user"].get("peer_id").is_none(), "{joined}");

    // boss joins over OriginChats: pat is among the participants; the gateway hears boss.
    boss.send(json!({"cmd": "voice_join", "channel": "lounge", "peer_id": "p-boss"}))
        .await;
    assert_eq!(boss.recv().await["cmd"], "voice_user_joined");
    boss.expect(json!({"cmd": "voice_join", "channel": "lounge",
        "participants": [{"username": "pat", "muted": false}]}))
        .await;
    let d = gw.dispatch().await;
    assert_eq!(d["t"], "VOICE_STATE_UPDATE");
    assert_eq!(d["d"]["channel_id"], lounge.as_str());
    assert_ne!(d["d"]["user_id"], pat_id.as_str());
    let boss_id = d["d"]["user_id"].clone();
    boss.send(json!({"cmd": "voice_mute"})).await;
    assert_eq!(boss.recv().await["cmd"], "voice_user_updated");
    assert_eq!(boss.recv().await["cmd"], "voice_mute");
    let d = gw.dispatch().await;
    assert_eq!(
        (&d["d"]["user_id"], &d["d"]["self_mute"]),
        (&boss_id, &json!(true))
    );

    // pat mutes and then leaves with op 4.
    gw.send(json!({"op": 4, "d": {"channel_id": lounge, "self_mute": true}}))
        .await;
    assert_eq!(gw.dispatch().await["d"]["self_mute"], true);
    let upd = boss.recv().await;
    assert_eq!(upd["cmd"], "voice_user_updated");
    assert_eq!(
        (&upd["user"]["username"], &upd["user"]["muted"]),
        (&json!("pat"), &json!(true))
    );
    gw.send(json!({"op": 4, "d": {"channel_id": null}})).await;
    let d = gw.dispatch().await;
    assert_eq!(
        (&d["d"]["user_id"], &d["d"]["channel_id"]),
        (&json!(pat_id), &json!(null))
    );
    boss.expect(json!({"cmd": "voice_user_left", "channel": "lounge", "username": "pat"}))
        .await;
    boss.send(json!({"cmd": "voice_state", "channel": "lounge"}))
        .await;
    let st = boss.recv().await;
    assert_eq!(st["participants"].as_array().unwrap().len(), 1, "{st}");
    assert_eq!(st["participants"][0]["peer_id"], "p-boss");
}

/// A mention written in another dialect notifies the Plexichat user it names, as one written over
/// REST does.
#[tokio::test]
async fn a_mention_from_originchats_becomes_a_plexichat_notification() {
    let server = crate::originchats::cracked();
    let mut boss = crate::originchats_threads::member(&server, "boss", "owner").await;
    let pat = Api::new(&server).register("pat").await;
    let (mut gw, _) = Gateway::ready(&server, pat.token.as_deref().unwrap()).await;
    boss.send(json!({"cmd": "message_new", "channel": "general", "content": "lunch @pat?"}))
        .await;
    assert_eq!(boss.recv().await["cmd"], "message_new");
    let m = gw.dispatch().await;
    assert_eq!(m["t"], "MESSAGE_CREATE");
    let n = gw.dispatch().await;
    assert_eq!(n["t"], "NOTIFICATION_CREATE", "{n}");
    assert_eq!(n["d"]["title"], "boss mentioned you");
    assert_eq!(n["d"]["content"], "lunch @pat?");
    let list = pat.get("/users/@me/notifications").await;
    assert_eq!(list.body["unread_count"], 1, "{}", list.body);
}

/// Typing is the core's: OriginChats `typing` shows on the gateway as TYPING_START, and a
/// Plexichat client typing shows in OriginChats as `typing`.
#[tokio::test]
async fn typing_crosses_between_originchats_and_plexichat() {
    let server = crate::originchats::cracked();
    let mut boss = crate::originchats_threads::member(&server, "boss", "owner").await;
    let pat = Api::new(&server).register("pat").await;
    let (mut gw, _) = Gateway::ready(&server, pat.token.as_deref().unwrap()).await;
    let general = general_channel();

    boss.send(json!({"cmd": "typing", "channel": "general"}))
        .await;
    let echo = boss.recv().await;
    assert_eq!(echo["cmd"], "typing");
    let t = gw.dispatch().await;
    assert_eq!(t["t"], "TYPING_START", "{t}");
    assert_eq!(t["d"]["channel_id"], general.as_str());
    assert_eq!(t["d"]["username"], "boss");

    pat.post(&format!("/channels/{general}/typing"), json!({}))
        .await
        .assert_status(200);
    boss.expect(json!({"cmd": "typing", "channel": "general", "user": "pat",
        "thread_id": null, "global": true}))
        .await;
}
