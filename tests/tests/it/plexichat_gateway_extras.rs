//! Plexichat gateway extras: zlib compression (IDENTIFY `compress`, compressed client frames),
//! the per-connection outbound event limit, REQUEST_GUILD_MEMBERS → GUILD_MEMBERS_CHUNK, and
//! voice state and signalling (ops 4, 20–26, VOICE_STATE_UPDATE).

use crate::plexichat_support::{Gateway, general_channel, no_rate_limits, user};
use crate::support::Server;
use futures_util::SinkExt;
use serde_json::{Value, json};
use std::io::Write;
use tokio_tungstenite::tungstenite::Message;

const ALL_INTENTS: i64 = 1_900_543;

fn unlimited() -> crate::support::Options {
    no_rate_limits()
}

/// HELLO, then IDENTIFY with `extra` merged into `d`; returns READY.
async fn identify(server: &Server, token: &str, extra: Value) -> (Gateway, Value) {
    let (mut g, _) = Gateway::hello(server).await;
    let mut d = json!({"token": token});
    for (k, v) in extra.as_object().unwrap() {
        d[k] = v.clone();
    }
    if d["compress"] == true {
        g.send(json!({"op": 2, "d": d})).await;
        g.expect_compressed();
    } else {
        g.send(json!({"op": 2, "d": d})).await;
    }
    let ready = g.recv().await;
    assert_eq!(ready["t"], "READY", "{ready}");
    (g, ready)
}

fn zlib(text: &str) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

#[tokio::test]
async fn compression_both_ways() {
    let server = Server::start_with(unlimited());
    let (alice, tok, _) = user(&server, "alice").await;
    // READY and everything after it are BINARY zlib-stream frames (the helper inflates and
    // validates each; a TEXT frame now would fail the test).
    let (mut g, ready) = identify(&server, &tok, json!({"compress": true})).await;
    assert_eq!(ready["s"], 1);
    alice.say(&general_channel(), "squeezed").await;
    let m = g.dispatch().await;
    assert_eq!(
        (m["t"].as_str(), m["s"].as_i64()),
        (Some("MESSAGE_CREATE"), Some(2))
    );
    assert_eq!(m["d"]["content"], "squeezed");
    // A client frame may be one complete zlib message in a BINARY frame.
    g.ws.send(Message::Binary(zlib(r#"{"op":1,"d":2}"#).into()))
        .await
        .unwrap();
    assert_eq!(g.recv().await, json!({"op": 11}));
    // A plain UTF-8 JSON binary frame still works; corrupt zlib closes with 4002.
    g.ws.send(Message::Binary(br#"{"op":1,"d":2}"#.to_vec().into()))
        .await
        .unwrap();
    assert_eq!(g.recv().await, json!({"op": 11}));
    let mut bad = zlib(r#"{"op":1,"d":2}"#);
    bad.truncate(bad.len() - 4);
    g.ws.send(Message::Binary(bad.into())).await.unwrap();
    g.expect_close(4002, "Decode error").await;

    // A zlib bomb (over 256 KiB inflated) is a decode error too.
    let (mut g, _) = identify(&server, &tok, json!({})).await;
    let bomb = format!(r#"{{"op":1,"d":null,"pad":"{}"}}"#, " ".repeat(300 * 1024));
    g.ws.send(Message::Binary(zlib(&bomb).into()))
        .await
        .unwrap();
    g.expect_close(4002, "Decode error").await;
}

#[tokio::test]
async fn outbound_event_limit_drops_unnumbered() {
    let server =
        Server::start_with(unlimited().env("CHORUS__PLEXICHAT__GATEWAY_EVENTS_PER_MINUTE", "3"));
    let (alice, tok, _) = user(&server, "alice").await;
    let (mut g, _) = Gateway::ready(&server, &tok).await;
    let general = general_channel();
    for i in 0..5 {
        alice.say(&general, &format!("m{i}")).await;
    }
    for (i, s) in (2..=4).enumerate() {
        let d = g.dispatch().await;
        assert_eq!(d["s"], s, "numbered without gaps");
        assert_eq!(d["d"]["content"], format!("m{i}"));
    }
    // The two over the limit were dropped (lifecycle frames are not limited): the ACK comes
    // next, and the next dispatch after the window would be numbered 5.
    g.heartbeat(Some(4)).await;
    g.heartbeat(Some(4)).await;
}

#[tokio::test]
async fn request_guild_members_answers_with_a_chunk() {
    let server = Server::start_with(unlimited());
    let (_alice, atok, alice_id) = user(&server, "alice").await;
    let (bob, _, bob_id) = user(&server, "bobby").await;
    let (_carol, _, _) = user(&server, "carol").await;
    let guild = bob.get("/servers/").await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Without the GUILD_MEMBERS intent nothing comes back (as the reference).
    let (mut plain, _) = Gateway::ready(&server, &atok).await;
    plain.send(json!({"op": 8, "d": {"guild_id": guild}})).await;
    plain.heartbeat(None).await;
    drop(plain);

    let (mut g, _) = identify(&server, &atok, json!({"intents": ALL_INTENTS})).await;
    g.send(json!({"op": 8, "d": {"guild_id": guild}})).await;
    let chunk = g.dispatch().await;
    assert_eq!(chunk["t"], "GUILD_MEMBERS_CHUNK");
    assert_eq!(chunk["d"]["guild_id"], guild.as_str());
    assert_eq!(
        (
            chunk["d"]["chunk_index"].as_i64(),
            chunk["d"]["chunk_count"].as_i64()
        ),
        (Some(0), Some(1))
    );
    assert_eq!(chunk["d"]["not_found"], json!([]));
    let members = chunk["d"]["members"].as_array().unwrap();
    let mut names: Vec<&str> = members
        .iter()
        .map(|m| m["username"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["alice", "bobby", "carol"]);
    let alice_row = members
        .iter()
        .find(|m| m["user_id"] == alice_id.as_str())
        .unwrap();
    assert_eq!(alice_row["presence"]["status"], "online");
    let bob_row = members
        .iter()
        .find(|m| m["user_id"] == bob_id.as_str())
        .unwrap();
    assert_eq!(bob_row["presence"]["status"], "offline");

    // query (username prefix), limit and user_ids.
    g.send(json!({"op": 8, "d": {"guild_id": guild, "query": "BO"}}))
        .await;
    let c = g.dispatch().await;
    assert_eq!(c["d"]["members"].as_array().unwrap().len(), 1);
    assert_eq!(c["d"]["members"][0]["username"], "bobby");
    g.send(json!({"op": 8, "d": {"guild_id": guild, "limit": 2}}))
        .await;
    assert_eq!(
        g.dispatch().await["d"]["members"].as_array().unwrap().len(),
        2
    );
    g.send(json!({"op": 8, "d": {"guild_id": guild, "user_ids": [bob_id, "42"]}}))
        .await;
    let c = g.dispatch().await;
    assert_eq!(c["d"]["members"].as_array().unwrap().len(), 1);
    assert_eq!(c["d"]["not_found"], json!(["42"]));
    // A server the user is not in is ignored; a missing guild_id is a decode error.
    g.send(json!({"op": 8, "d": {"guild_id": "12345"}})).await;
    g.heartbeat(None).await;
    g.send(json!({"op": 8, "d": {}})).await;
    g.expect_close(4002, "Decode error").await;
    // Before IDENTIFY: 4003.
    let (mut early, _) = Gateway::hello(&server).await;
    early.send(json!({"op": 8, "d": {"guild_id": guild}})).await;
    early.expect_close(4003, "Not authenticated").await;
}

#[tokio::test]
async fn voice_state_and_signalling() {
    // A short resume window: a dropped session ends (and leaves voice) quickly.
    let server = Server::start_with(unlimited().env("CHORUS__PLEXICHAT__RESUME_WINDOW_SECS", "1"));
    let (alice, atok, alice_id) = user(&server, "alice").await;
    let (bob, btok, bob_id) = user(&server, "bobby").await;
    let (_carol, ctok, _) = user(&server, "carol").await;
    // Alice's server with a voice channel; Bob joins it, Carol does not.
    let team = alice.post("/servers/", json!({"name": "Team"})).await;
    let team_id = team.body["id"].as_str().unwrap().to_owned();
    let lounge = alice
        .post(
            &format!("/servers/{team_id}/channels"),
            json!({"name": "lounge", "channel_type": "voice"}),
        )
        .await;
    lounge.assert_status(200);
    let lounge = lounge.body["id"].as_str().unwrap().to_owned();
    let general = alice
        .get(&format!("/servers/{team_id}/channels"))
        .await
        .body[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let invite = alice
        .post(&format!("/channels/{general}/invites"), json!({}))
        .await;
    let code = invite.body["code"].as_str().unwrap().to_owned();
    bob.post(&format!("/channels/invites/{code}"), json!({}))
        .await
        .assert_status(200);

    let (mut ga, _) = Gateway::ready(&server, &atok).await;
    let (mut gb, _) = Gateway::ready(&server, &btok).await;
    let (mut gc, _) = Gateway::ready(&server, &ctok).await;

    // Voice ops need IDENTIFY first.
    let (mut early, _) = Gateway::hello(&server).await;
    early
        .send(json!({"op": 20, "d": {"channel_id": lounge}}))
        .await;
    early.expect_close(4003, "Not authenticated").await;

    // Alice joins: every member who sees the channel gets VOICE_STATE_UPDATE.
    ga.send(json!({"op": 20, "d": {"channel_id": lounge}}))
        .await;
    let expected = json!({"user_id": alice_id, "channel_id": lounge, "self_mute": false,
        "self_deaf": false, "mute": false, "deaf": false, "suppress": false, "guild_id": team_id});
    for g in [&mut ga, &mut gb] {
        let v = g.dispatch().await;
        assert_eq!(v["t"], "VOICE_STATE_UPDATE");
        assert_eq!(v["d"], expected);
    }
    // Bob joins muted with op 4.
    gb.send(json!({"op": 4, "d": {"channel_id": lounge, "self_mute": true}}))
        .await;
    for g in [&mut ga, &mut gb] {
        let v = g.dispatch().await;
        assert_eq!(
            (v["d"]["user_id"].as_str(), v["d"]["self_mute"].as_bool()),
            (Some(bob_id.as_str()), Some(true))
        );
    }
    // Carol is not a member of Team: she hears nothing, and her signalling goes nowhere.
    gc.heartbeat(None).await;
    gc.send(json!({"op": 20, "d": {"channel_id": lounge}}))
        .await;
    gc.send(json!({"op": 22, "d": {"sdp": "v=0", "channel_id": lounge}}))
        .await;
    gc.heartbeat(None).await;

    // Signalling is relayed to the other participants, without a sequence number.
    ga.send(json!({"op": 22, "d": {"sdp": "offer-sdp", "channel_id": lounge}}))
        .await;
    let offer = gb.recv().await;
    assert_eq!(
        offer,
        json!({"op": 22, "d": {"user_id": alice_id, "channel_id": lounge, "sdp": "offer-sdp"}})
    );
    gb.send(json!({"op": 23, "d": {"sdp": "answer-sdp", "target_user_id": alice_id}}))
        .await;
    let answer = ga.recv().await;
    assert_eq!(
        answer,
        json!({"op": 23, "d": {"user_id": bob_id, "channel_id": lounge, "sdp": "answer-sdp"}})
    );
    ga.send(
        json!({"op": 24, "d": {"candidate": "candidate:1 1 udp 1 10.0.0.1 5000 typ host",
        "sdp_mid": "0", "sdp_mline_index": 0, "channel_id": lounge}}),
    )
    .await;
    let ice = gb.recv().await;
    assert_eq!(ice["op"], 24);
    assert_eq!(
        ice["d"]["candidate"],
        "candidate:1 1 udp 1 10.0.0.1 5000 typ host"
    );
    assert_eq!(ice["d"]["sdp_mline_index"], 0);
    gb.send(json!({"op": 25, "d": {"speaking": 1}})).await;
    assert_eq!(
        ga.recv().await,
        json!({"op": 25, "d": {"user_id": bob_id, "channel_id": lounge, "speaking": {"speaking": 1}}})
    );
    // The sender hears no echo of its own signalling; a quality report is accepted silently.
    ga.send(json!({"op": 26, "d": {"quality": "good", "channel_id": lounge}}))
        .await;
    ga.heartbeat(None).await;
    gb.heartbeat(None).await;
    // An empty speaking `d` is a decode error (as the reference).
    let (mut gb2, _) = Gateway::ready(&server, &btok).await;
    gb2.send(json!({"op": 25, "d": {}})).await;
    gb2.expect_close(4002, "Decode error").await;

    // Leaving: op 21; the state carries channel_id null and no guild.
    ga.send(json!({"op": 21, "d": {}})).await;
    for g in [&mut ga, &mut gb] {
        let v = g.dispatch().await;
        assert_eq!(v["t"], "VOICE_STATE_UPDATE");
        assert_eq!(
            (v["d"]["user_id"].as_str(), &v["d"]["channel_id"]),
            (Some(alice_id.as_str()), &Value::Null)
        );
    }
    // A session that ends takes its user out of voice.
    drop(gb);
    let left = ga.dispatch().await;
    assert_eq!(
        (left["d"]["user_id"].as_str(), &left["d"]["channel_id"]),
        (Some(bob_id.as_str()), &Value::Null)
    );
}
