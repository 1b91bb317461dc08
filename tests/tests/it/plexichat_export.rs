//! Plexichat `GET /channels/{id}/messages/export`: a JSON transcript, oldest first, for those
//! who may read the channel.

use crate::plexichat_support::{Api, general_channel, no_rate_limits, user};
use crate::support::Server;

#[tokio::test]
async fn transcript_holds_the_channel_oldest_first() {
    let server = Server::start_with(no_rate_limits());
    let (alice, _, alice_id) = user(&server, "alice").await;
    let (bob, _, _) = user(&server, "bob").await;
    let general = general_channel();
    // More than one page of history (pages are 100 messages).
    for i in 0..105 {
        alice.say(&general, &format!("line {i}")).await;
    }
    let gone = bob.say(&general, "oops").await;
    bob.call(
        "DELETE",
        &format!(
            "/channels/{general}/messages/{}",
            gone["id"].as_str().unwrap()
        ),
        None,
    )
    .await
    .assert_status(200);
    bob.say(&general, "last").await;

    let r = bob
        .get(&format!("/channels/{general}/messages/export"))
        .await;
    r.assert_status(200);
    assert_eq!(
        r.header("content-disposition"),
        Some(format!("attachment; filename=\"transcript-{general}.json\"").as_str())
    );
    let t = &r.body;
    assert_eq!(t["channel_id"], general.as_str());
    assert_eq!(t["channel_name"], "general");
    assert_eq!(t["truncated"], false);
    assert_eq!(t["message_count"], 106, "the deleted message is left out");
    let messages = t["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 106);
    assert_eq!(messages[0]["content"], "line 0");
    assert_eq!(messages[0]["author_id"], alice_id.as_str());
    assert_eq!(messages[104]["content"], "line 104");
    assert_eq!(messages[105]["content"], "last");

    // A channel the caller cannot see.
    let notes = alice.get("/users/@me/notes").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    bob.get(&format!("/channels/{notes}/messages/export"))
        .await
        .expect_error(404, "Channel not found");
    bob.get("/channels/nope/messages/export")
        .await
        .expect_error(400, "Invalid channel ID");
    Api::new(&server)
        .get(&format!("/channels/{general}/messages/export"))
        .await
        .expect_error(401, "Not authenticated");
}
