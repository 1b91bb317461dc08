//! The cross-dialect matrix: a message, an edit, a delete and a reaction made in each protocol
//! reach the clients of every other protocol that can see the room, each in its own frames.
//!
//! Who sees what: the default space's `general` is shared by the reaction chat (its only room),
//! OriginChats and Plexichat; private rooms (DMs, groups, channels) are shared by messaging and
//! Plexichat (the other two have no private rooms). The reaction chat has no edits or deletes.
//! Frames of other kinds (presence, typing, channel lists) are skipped; frames of the kind
//! looked for must come in order.

use crate::messaging_support::M;
use crate::originchats::Oc;
use crate::plexichat_support::{Api, Gateway, general_channel};
use crate::support::{Client, Options, Server};
use serde_json::{Value, json};

/// The next reaction-chat frame of type `ty` (`message`, `reaction_updated`).
async fn rc_next(c: &mut Client, ty: &str) -> Value {
    let f = c.recv().await;
    assert_eq!(f["type"], ty, "{f}");
    f["data"].clone()
}

/// The next OriginChats `message_*` frame, which must be `cmd`.
async fn oc_next(c: &mut Oc, cmd: &str) -> Value {
    loop {
        let f = c.recv().await;
        let got = f["cmd"].as_str().unwrap_or_default();
        if got.starts_with("message_") {
            assert_eq!(got, cmd, "{f}");
            return f;
        }
    }
}

/// The next gateway `MESSAGE_*` dispatch, which must be `t`; returns its `d`.
async fn gw_next(g: &mut Gateway, t: &str) -> Value {
    loop {
        let f = g.dispatch().await;
        let got = f["t"].as_str().unwrap_or_default();
        if got.starts_with("MESSAGE_") {
            assert_eq!(got, t, "{f}");
            return f["d"].clone();
        }
    }
}

/// The Plexichat wire id of a core UUID (its 128 bits as a decimal number).
fn wire(uuid: &Value) -> String {
    u128::from_str_radix(&uuid.as_str().unwrap().replace('-', ""), 16)
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn general_is_shared_by_the_reaction_chat_originchats_and_plexichat() {
    let server = Server::start_with(
        Options::default().env("CHORUS__ORIGINCHATS__AUTH_MODE", "cracked-only"),
    );
    let general = general_channel();
    let pat = Api::new(&server).register("pat").await;
    let (mut gw, _) = Gateway::ready(&server, pat.token.as_deref().unwrap()).await;
    let mut oc = Oc::register(&server, "oscar").await;
    let mut rc = server.client().await;

    // A message from each protocol reaches the other two.
    rc.say("from the reaction chat").await;
    let from_rc = rc_next(&mut rc, "message").await;
    assert_eq!(
        oc_next(&mut oc, "message_new").await["message"]["content"],
        "from the reaction chat"
    );
    let d = gw_next(&mut gw, "MESSAGE_CREATE").await;
    assert_eq!(d["content"], "from the reaction chat");
    let rc_wire = d["id"].as_str().unwrap().to_owned();

    oc.send(json!({"cmd": "message_new", "channel": "general", "content": "from originchats"}))
        .await;
    let from_oc = oc_next(&mut oc, "message_new").await["message"].clone();
    let seen = rc_next(&mut rc, "message").await;
    assert_eq!(
        (seen["text"].as_str(), seen["author_id"].as_str()),
        (Some("from originchats"), Some("oscar"))
    );
    let d = gw_next(&mut gw, "MESSAGE_CREATE").await;
    assert_eq!(d["content"], "from originchats");
    assert_eq!(d["author_username"], "oscar");
    let oc_wire = d["id"].as_str().unwrap().to_owned();

    let posted = pat.say(&general, "from plexichat").await;
    let px_wire = posted["id"].as_str().unwrap().to_owned();
    let seen = rc_next(&mut rc, "message").await;
    assert_eq!(
        (seen["text"].as_str(), seen["author_id"].as_str()),
        (Some("from plexichat"), Some("pat"))
    );
    let from_px = oc_next(&mut oc, "message_new").await["message"].clone();
    assert_eq!(from_px["content"], "from plexichat");
    assert_eq!(from_px["user"], "pat");
    assert_eq!(gw_next(&mut gw, "MESSAGE_CREATE").await["id"], px_wire);

    // A reaction from each protocol reaches the other two.
    rc.react(seen["id"].as_str().unwrap(), "👍").await;
    assert_eq!(rc_next(&mut rc, "reaction_updated").await["emoji"], "👍");
    let f = oc_next(&mut oc, "message_react_add").await;
    assert_eq!(
        (f["id"].clone(), f["emoji"].clone()),
        (from_px["id"].clone(), json!("👍"))
    );
    let d = gw_next(&mut gw, "MESSAGE_REACTION_ADD").await;
    assert_eq!(
        (d["message_id"].as_str(), d["emoji"].as_str()),
        (Some(px_wire.as_str()), Some("👍"))
    );

    oc.send(json!({"cmd": "message_react_add", "id": from_rc["id"], "channel": "general", "emoji": "🎉"}))
        .await;
    assert_eq!(oc_next(&mut oc, "message_react_add").await["from"], "oscar");
    let r = rc_next(&mut rc, "reaction_updated").await;
    assert_eq!(
        (r["message_id"].clone(), r["emoji"].clone()),
        (from_rc["id"].clone(), json!("🎉"))
    );
    let d = gw_next(&mut gw, "MESSAGE_REACTION_ADD").await;
    assert_eq!(
        (d["message_id"].as_str(), d["emoji"].as_str()),
        (Some(rc_wire.as_str()), Some("🎉"))
    );

    let react = format!("/channels/{general}/messages/{oc_wire}/reactions/%F0%9F%91%80");
    assert_eq!(pat.call("PUT", &react, None).await.status, 200);
    let r = rc_next(&mut rc, "reaction_updated").await;
    assert_eq!(
        (r["message_id"].clone(), r["emoji"].clone()),
        (from_oc["id"].clone(), json!("👀"))
    );
    let f = oc_next(&mut oc, "message_react_add").await;
    assert_eq!(
        (f["id"].clone(), f["from"].clone()),
        (from_oc["id"].clone(), json!("pat"))
    );
    gw_next(&mut gw, "MESSAGE_REACTION_ADD").await;
    assert_eq!(pat.call("DELETE", &react, None).await.status, 200);
    assert_eq!(
        rc_next(&mut rc, "reaction_updated").await["action"],
        "removed"
    );
    oc_next(&mut oc, "message_react_remove").await;
    gw_next(&mut gw, "MESSAGE_REACTION_REMOVE").await;

    // Edits and deletes (the reaction chat has neither): OriginChats ↔ Plexichat.
    oc.send(json!({"cmd": "message_edit", "id": from_oc["id"], "channel": "general", "content": "edited in originchats"}))
        .await;
    assert_eq!(
        oc_next(&mut oc, "message_edit").await["content"],
        "edited in originchats"
    );
    let d = gw_next(&mut gw, "MESSAGE_UPDATE").await;
    assert_eq!(
        (d["id"].as_str(), d["content"].as_str()),
        (Some(oc_wire.as_str()), Some("edited in originchats"))
    );
    let path = format!("/channels/{general}/messages/{px_wire}");
    assert_eq!(
        pat.call(
            "PATCH",
            &path,
            Some(json!({"content": "edited in plexichat"}))
        )
        .await
        .status,
        200
    );
    let f = oc_next(&mut oc, "message_edit").await;
    assert_eq!(
        (f["id"].clone(), f["content"].clone()),
        (from_px["id"].clone(), json!("edited in plexichat"))
    );
    gw_next(&mut gw, "MESSAGE_UPDATE").await;
    assert_eq!(pat.call("DELETE", &path, None).await.status, 200);
    assert_eq!(
        oc_next(&mut oc, "message_delete").await["id"],
        from_px["id"]
    );
    assert_eq!(gw_next(&mut gw, "MESSAGE_DELETE").await["id"], px_wire);
    oc.send(json!({"cmd": "message_delete", "id": from_oc["id"], "channel": "general"}))
        .await;
    assert_eq!(
        oc_next(&mut oc, "message_delete").await["id"],
        from_oc["id"]
    );
    assert_eq!(gw_next(&mut gw, "MESSAGE_DELETE").await["id"], oc_wire);
    oc.expect_quiet().await;
}

/// A GroupChat made in messaging is a private room Plexichat members see: messages, edits,
/// deletes and reactions cross both ways.
#[tokio::test]
async fn a_messaging_group_is_shared_with_plexichat_both_ways() {
    let server = Server::start();
    let api = Api::new(&server);
    let alice = api.register("alice").await;
    let bob = api.register("bob").await;
    let (mut gw, _) = Gateway::ready(&server, alice.token.as_deref().unwrap()).await;
    let mut phone = M::connect(&server, bob.token.as_deref().unwrap()).await;
    let mut alice_phone = M::connect(&server, alice.token.as_deref().unwrap()).await;
    // Alice learns her messaging id from a room of her own; bob's client uses it.
    let probe = alice_phone
        .create(json!({"type": "GroupChat", "name": "probe"}), &mut [])
        .await;
    let alice_num = probe["creator"]["id"].clone();
    let group = phone
        .create(
            json!({"type": "GroupChat", "name": "mixed", "participants": [alice_num]}),
            &mut [&mut alice_phone],
        )
        .await;
    let room = group["id"].clone();
    let channel = wire(&room);

    // messaging → Plexichat
    let m = phone
        .say(&room, "hello from messaging", &mut [&mut alice_phone])
        .await;
    let d = gw_next(&mut gw, "MESSAGE_CREATE").await;
    assert_eq!(
        (d["content"].as_str(), d["channel_id"].as_str()),
        (Some("hello from messaging"), Some(channel.as_str()))
    );
    assert_eq!(d["author_username"], "bob");
    let m_wire = d["id"].as_str().unwrap().to_owned();
    phone
        .send("message.modify", json!({"action": "update", "message_id": m["id"], "extra_fields": {"content": "edited in messaging"}}))
        .await;
    phone.expect("messagemodification.dispatch").await;
    alice_phone.expect("messagemodification.dispatch").await;
    let d = gw_next(&mut gw, "MESSAGE_UPDATE").await;
    assert_eq!(
        (d["id"].as_str(), d["content"].as_str()),
        (Some(m_wire.as_str()), Some("edited in messaging"))
    );

    // Plexichat → messaging
    let posted = alice.say(&channel, "hello from plexichat").await;
    let p_wire = posted["id"].as_str().unwrap().to_owned();
    let got = phone.expect("message.dispatch").await;
    assert_eq!(
        (got["content"].as_str(), got["sender"]["username"].as_str()),
        (Some("hello from plexichat"), Some("alice"))
    );
    assert_eq!(got["room"]["id"], room);
    alice_phone.expect("message.dispatch").await;
    gw_next(&mut gw, "MESSAGE_CREATE").await;

    // Reactions: messaging replaces its one reaction, Plexichat sees remove + add.
    for emoji in ["👍", "🎉"] {
        phone
            .send(
                "message.react",
                json!({"type": "add", "message_id": got["id"], "reaction_content": emoji}),
            )
            .await;
        phone.expect("reaction.dispatch").await;
        alice_phone.expect("reaction.dispatch").await;
    }
    let d = gw_next(&mut gw, "MESSAGE_REACTION_ADD").await;
    assert_eq!(
        (d["message_id"].as_str(), d["emoji"].as_str()),
        (Some(p_wire.as_str()), Some("👍"))
    );
    assert_eq!(
        gw_next(&mut gw, "MESSAGE_REACTION_REMOVE").await["emoji"],
        "👍"
    );
    assert_eq!(
        gw_next(&mut gw, "MESSAGE_REACTION_ADD").await["emoji"],
        "🎉"
    );
    let react = format!("/channels/{channel}/messages/{m_wire}/reactions/%F0%9F%91%80");
    assert_eq!(alice.call("PUT", &react, None).await.status, 200);
    let r = phone.expect("reaction.dispatch").await;
    assert_eq!(r["type"], "add");
    assert_eq!(r["message"]["id"], m["id"]);
    let reactions = r["message"]["reactions"].as_array().unwrap();
    assert_eq!(reactions.len(), 1);
    assert_eq!(
        (
            reactions[0]["reaction_content"].as_str(),
            reactions[0]["user"]["username"].as_str()
        ),
        (Some("👀"), Some("alice"))
    );
    alice_phone.expect("reaction.dispatch").await;
    gw_next(&mut gw, "MESSAGE_REACTION_ADD").await;

    // Edits and deletes from Plexichat.
    let path = format!("/channels/{channel}/messages/{p_wire}");
    assert_eq!(
        alice
            .call(
                "PATCH",
                &path,
                Some(json!({"content": "edited in plexichat"}))
            )
            .await
            .status,
        200
    );
    let e = phone.expect("messagemodification.dispatch").await;
    assert_eq!(
        (e["action"].as_str(), e["message"]["content"].as_str()),
        (Some("update"), Some("edited in plexichat"))
    );
    assert_eq!(e["message"]["is_edited"], true);
    alice_phone.expect("messagemodification.dispatch").await;
    gw_next(&mut gw, "MESSAGE_UPDATE").await;
    assert_eq!(alice.call("DELETE", &path, None).await.status, 200);
    let e = phone.expect("messagemodification.dispatch").await;
    assert_eq!(
        (e["action"].clone(), e["message_ids"].clone()),
        (json!("delete"), json!([got["id"]]))
    );
    alice_phone.expect("messagemodification.dispatch").await;
    gw_next(&mut gw, "MESSAGE_DELETE").await;

    // And a delete from messaging.
    phone
        .send(
            "message.modify",
            json!({"action": "delete", "message_id": m["id"]}),
        )
        .await;
    phone.expect("messagemodification.dispatch").await;
    alice_phone.expect("messagemodification.dispatch").await;
    assert_eq!(gw_next(&mut gw, "MESSAGE_DELETE").await["id"], m_wire);
    phone.heartbeat().await;
    alice_phone.heartbeat().await;
}
