//! Plexichat `GET /users/@me/notes` (§2.7): a personal notes channel only its owner sees,
//! written through the ordinary message routes.

use crate::plexichat_support::{Api, Gateway, no_rate_limits, user};
use crate::support::Server;
use serde_json::{Value, json};

#[tokio::test]
async fn notes_channel_is_personal_and_holds_messages() {
    let server = Server::start_with(no_rate_limits());
    let (alice, alice_token, _) = user(&server, "alice").await;
    let (bob, _, _) = user(&server, "bob").await;
    let (mut ga, _) = Gateway::ready(&server, &alice_token).await;

    let first = alice.get("/users/@me/notes").await;
    first.assert_status(200);
    let id = first.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        first.body,
        json!({"id": id, "channel_type": "notes", "name": "Personal Notes",
            "last_message_id": null, "last_message_at": null})
    );
    assert_eq!(alice.get("/users/@me/notes").await.body["id"], id.as_str());

    // A note is an ordinary message of the channel, and reaches alice's gateway.
    let note = alice.say(&id, "buy milk").await;
    let d = ga.dispatch().await;
    assert_eq!(d["t"], "MESSAGE_CREATE");
    assert_eq!(d["d"]["channel_id"], id.as_str());
    assert_eq!(d["d"]["content"], "buy milk");
    let now = alice.get("/users/@me/notes").await;
    assert_eq!(now.body["last_message_id"], note["id"]);
    assert_eq!(now.body["last_message_at"], note["created_at"]);
    let listed = alice.get(&format!("/channels/{id}/messages")).await;
    assert_eq!(listed.body[0]["content"], "buy milk");
    // Not a DM.
    assert_eq!(alice.get("/users/@me/channels").await.body, json!([]));

    // bob has his own notes and cannot see alice's.
    let theirs = bob.get("/users/@me/notes").await;
    assert_ne!(theirs.body["id"], Value::String(id.clone()));
    bob.get(&format!("/channels/{id}/messages"))
        .await
        .expect_error(404, "Channel not found");
    bob.post(
        &format!("/channels/{id}/messages"),
        json!({"content": "hi"}),
    )
    .await
    .expect_error(404, "Channel not found");
    Api::new(&server)
        .get("/users/@me/notes")
        .await
        .expect_error(401, "Not authenticated");
}
