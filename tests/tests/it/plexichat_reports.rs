//! Plexichat `POST /reports/messages` and `POST /reports/users` (§2.10): validated and stored.

use crate::plexichat_support::{Api, general_channel, no_rate_limits, user};
use crate::support::Server;
use serde_json::json;

#[tokio::test]
async fn reporting_a_message_needs_to_see_it() {
    let server = Server::start_with(no_rate_limits());
    let (alice, _, _) = user(&server, "alice").await;
    let (bob, _, _) = user(&server, "bob").await;
    let general = general_channel();
    let m = bob.say(&general, "buy cheap watches").await;
    let mid = m["id"].as_str().unwrap().to_owned();

    let r = alice
        .post(
            "/reports/messages",
            json!({"message_id": mid, "channel_id": general, "reason": "Advertising", "category": "spam"}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["success"], true);
    assert_eq!(r.body["message"], "Report submitted successfully");
    let first = r.body["report_id"].as_str().unwrap().to_owned();
    assert!(first.bytes().all(|b| b.is_ascii_digit()), "{first}");
    let again = alice
        .post(
            "/reports/messages",
            json!({"message_id": mid, "channel_id": general, "reason": "Still spam"}),
        )
        .await;
    assert_ne!(again.body["report_id"], first.as_str());

    // A message nobody can see, an empty or overlong reason, no token.
    alice
        .post(
            "/reports/messages",
            json!({"message_id": "123", "channel_id": general, "reason": "x"}),
        )
        .await
        .expect_error(404, "Message not found");
    let notes = bob.get("/users/@me/notes").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let private = bob.say(&notes, "secret").await;
    alice
        .post(
            "/reports/messages",
            json!({"message_id": private["id"], "channel_id": notes, "reason": "x"}),
        )
        .await
        .expect_error(404, "Channel not found");
    alice
        .post(
            "/reports/messages",
            json!({"message_id": mid, "channel_id": general, "reason": "  "}),
        )
        .await
        .expect_error(
            400,
            "Invalid reason: String should have at least 1 character",
        );
    alice
        .post(
            "/reports/messages",
            json!({"message_id": mid, "channel_id": general, "reason": "x".repeat(501)}),
        )
        .await
        .expect_error(
            400,
            "Invalid reason: String should have at most 500 characters",
        );
    alice
        .post(
            "/reports/messages",
            json!({"channel_id": general, "reason": "x"}),
        )
        .await
        .assert_status(400);
    Api::new(&server)
        .post(
            "/reports/messages",
            json!({"message_id": mid, "channel_id": general, "reason": "x"}),
        )
        .await
        .expect_error(401, "Not authenticated");
}

#[tokio::test]
async fn reporting_a_user() {
    let server = Server::start_with(no_rate_limits());
    let (alice, _, alice_id) = user(&server, "alice").await;
    let (bob, _, bob_id) = user(&server, "bob").await;
    let m = bob.say(&general_channel(), "you are dumb").await;

    let r = alice
        .post(
            "/reports/users",
            json!({"user_id": bob_id, "reason": "Insults", "category": "harassment",
                "details": "since yesterday", "evidence_message_ids": [m["id"]]}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["success"], true);

    alice
        .post(
            "/reports/users",
            json!({"user_id": alice_id, "reason": "me"}),
        )
        .await
        .expect_error(400, "You cannot report yourself");
    alice
        .post("/reports/users", json!({"user_id": "123", "reason": "who"}))
        .await
        .expect_error(404, "User not found");
    alice
        .post(
            "/reports/users",
            json!({"user_id": bob_id, "reason": "x", "details": "d".repeat(2001)}),
        )
        .await
        .expect_error(
            400,
            "Invalid details: String should have at most 2000 characters",
        );
}
