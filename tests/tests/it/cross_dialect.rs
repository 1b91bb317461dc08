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
