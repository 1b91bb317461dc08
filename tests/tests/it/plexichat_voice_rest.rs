//! Plexichat voice over REST (§1.10): `GET /voice/ice-servers` lists `plexichat.ice_servers`;
//! `GET /voice/channels/{id}/info` shows the channel's connection details and who is in it.

use crate::plexichat_support::{Api, Gateway, no_rate_limits, user};
use crate::support::Server;
use serde_json::json;

#[tokio::test]
async fn ice_servers_come_from_the_config() {
    let server = Server::start_with(no_rate_limits());
    let (alice, _, _) = user(&server, "alice").await;
    let r = alice.get("/voice/ice-servers").await;
    r.assert_status(200);
    assert_eq!(r.body, json!({"ice_servers": []}), "none by default");
    Api::new(&server)
        .get("/voice/ice-servers")
        .await
        .expect_error(401, "Not authenticated");

    let configured = Server::start_with(no_rate_limits().env(
        "CHORUS__PLEXICHAT__ICE_SERVERS",
        r#"[{ urls = ["stun:stun.example.org:3478"] }, { urls = ["turn:turn.example.org:3478"], username = "chorus", credential = "secret" }]"#,
    ));
    let (carol, _, _) = user(&configured, "carol").await;
    assert_eq!(
        carol.get("/voice/ice-servers").await.body,
        json!({"ice_servers": [
            {"urls": ["stun:stun.example.org:3478"]},
            {"urls": ["turn:turn.example.org:3478"], "username": "chorus", "credential": "secret"},
        ]})
    );
}

#[tokio::test]
async fn voice_channel_info_lists_participants_to_those_who_see_it() {
    let server = Server::start_with(no_rate_limits());
    let (alice, atok, alice_id) = user(&server, "alice").await;
    let (bob, _, _) = user(&server, "bob").await;
    let team = alice.post("/servers/", json!({"name": "Team"})).await.body;
    let team_id = team["id"].as_str().unwrap().to_owned();
    let lounge = alice
        .post(
            &format!("/servers/{team_id}/channels"),
            json!({"name": "lounge", "channel_type": "voice"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let text = team["default_channel_id"].as_str().unwrap().to_owned();
    let path = format!("/voice/channels/{lounge}/info");

    let empty = alice.get(&path).await;
    empty.assert_status(200);
    assert_eq!(
        empty.body,
        json!({"channel_id": lounge, "session_id": null, "ice_servers": [],
            "bitrate": 64000, "participants": []})
    );

    let (mut ga, ready) = Gateway::ready(&server, &atok).await;
    ga.send(json!({"op": 20, "d": {"channel_id": lounge}}))
        .await;
    assert_eq!(ga.dispatch().await["t"], "VOICE_STATE_UPDATE");
    let info = alice.get(&path).await.body;
    assert_eq!(info["session_id"], ready["session_id"]);
    assert_eq!(info["participants"].as_array().unwrap().len(), 1);
    let p = &info["participants"][0];
    assert_eq!(p["user_id"], alice_id.as_str());
    assert_eq!(p["username"], "alice");
    assert_eq!(p["self_mute"], false);

    // Not a member of the server: as if the channel did not exist.
    bob.get(&path).await.expect_error(404, "Channel not found");
    alice
        .get(&format!("/voice/channels/{text}/info"))
        .await
        .expect_error(400, "Not a voice channel");
    alice
        .get("/voice/channels/nope/info")
        .await
        .expect_error(400, "Invalid channel ID");

    ga.send(json!({"op": 21, "d": {}})).await;
    assert_eq!(ga.dispatch().await["t"], "VOICE_STATE_UPDATE");
    assert_eq!(alice.get(&path).await.body["participants"], json!([]));
}
