//! Plexichat polls (§2.9): a `poll` in `POST /channels/{id}/messages`, `POST /polls/{id}/vote`,
//! the message's `poll` / `poll_results`, and who may vote.

use crate::plexichat_support::{Api, Gateway, no_rate_limits, user};
use crate::support::Server;
use serde_json::{Value, json};

fn votes(results: &Value) -> Vec<i64> {
    results["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["votes"].as_i64().unwrap())
        .collect()
}

/// alice's server "Team" with bob invited; carol is not a member. Returns its general channel.
async fn team(alice: &Api, bob: &Api) -> String {
    let t = alice.post("/servers/", json!({"name": "Team"})).await.body;
    let general = t["default_channel_id"].as_str().unwrap().to_owned();
    let code = alice.invite_code(&general).await;
    bob.join(&code).await;
    general
}

#[tokio::test]
async fn poll_messages_votes_and_results_visibility() {
    let server = Server::start_with(no_rate_limits());
    let (alice, _, _) = user(&server, "alice").await;
    let (bob, bob_token, _) = user(&server, "bob").await;
    let (carol, _, _) = user(&server, "carol").await;
    let general = team(&alice, &bob).await;
    let (mut gb, _) = Gateway::ready(&server, &bob_token).await;

    // A poll-only message: the reply carries the poll; results stay hidden until one votes.
    let r = alice
        .post(
            &format!("/channels/{general}/messages"),
            json!({"poll": {"question": "Lunch?", "options": ["Pizza", "Soup"],
                "duration_hours": 1, "results_visibility": "after_vote"}}),
        )
        .await;
    r.assert_status(200);
    let message_id = r.body["id"].as_str().unwrap().to_owned();
    let poll = r.body["poll"].clone();
    assert_eq!(poll["question"], "Lunch?");
    assert_eq!(
        poll["options"],
        json!([{"id": "0", "text": "Pizza"}, {"id": "1", "text": "Soup"}])
    );
    assert_eq!(poll["allow_multiple_choice"], false);
    assert_eq!(poll["results_visibility"], "after_vote");
    assert_eq!(poll["message_id"], message_id.as_str());
    assert_eq!(poll["ended"], false);
    assert!(poll["expires_at"].as_i64().unwrap() > r.body["created_at"].as_i64().unwrap());
    assert_eq!(r.body["poll_results"], Value::Null);
    assert_eq!(r.body["content"], "\u{200b}");
    let poll_id = poll["id"].as_str().unwrap().to_owned();

    // The MESSAGE_CREATE carries the same poll.
    let d = gb.dispatch().await;
    assert_eq!(d["t"], "MESSAGE_CREATE");
    assert_eq!(d["d"]["poll"]["id"], poll_id.as_str());
    assert_eq!(d["d"]["poll"]["question"], "Lunch?");

    // bob votes, then changes his mind: a single-choice vote replaces the earlier one.
    let vote = format!("/polls/{poll_id}/vote");
    let v = bob.post(&vote, json!({"option_ids": ["1"]})).await;
    v.assert_status(200);
    assert_eq!(votes(&v.body["poll_results"]), [0, 1]);
    assert_eq!(v.body["poll_results"]["my_votes"], json!(["1"]));
    let v = bob.post(&vote, json!({"option_ids": ["0"]})).await;
    assert_eq!(votes(&v.body["poll_results"]), [1, 0]);
    assert_eq!(v.body["poll_results"]["total_votes"], 1);

    // The message shows the results to bob, who voted, not yet to alice.
    let path = format!("/channels/{general}/messages/{message_id}");
    let seen = bob.get(&path).await;
    assert_eq!(votes(&seen.body["poll_results"]), [1, 0]);
    assert_eq!(seen.body["poll_results"]["my_votes"], json!(["0"]));
    assert_eq!(alice.get(&path).await.body["poll_results"], Value::Null);
    let listed = bob.get(&format!("/channels/{general}/messages")).await;
    assert_eq!(listed.body[0]["poll"]["id"], poll_id.as_str());
    assert_eq!(votes(&listed.body[0]["poll_results"]), [1, 0]);

    // Errors.
    bob.post(&vote, json!({"option_ids": ["0", "1"]}))
        .await
        .expect_error(400, "This poll allows only one choice");
    bob.post(&vote, json!({"option_ids": ["7"]}))
        .await
        .expect_error(400, "Invalid option: 7");
    bob.post(&vote, json!({"option_ids": []}))
        .await
        .assert_status(400);
    carol
        .post(&vote, json!({"option_ids": ["0"]}))
        .await
        .expect_error(404, "Poll not found");
    bob.post("/polls/12345/vote", json!({"option_ids": ["0"]}))
        .await
        .expect_error(404, "Poll not found");
    bob.post("/polls/nope/vote", json!({"option_ids": ["0"]}))
        .await
        .expect_error(400, "Invalid poll ID");
    Api::new(&server)
        .post(&vote, json!({"option_ids": ["0"]}))
        .await
        .expect_error(401, "Not authenticated");
    alice
        .post(
            &format!("/channels/{general}/messages"),
            json!({"poll": {"question": "Only one?", "options": ["Yes"]}}),
        )
        .await
        .assert_status(400);
}

#[tokio::test]
async fn multiple_choice_polls_count_every_choice() {
    let server = Server::start_with(no_rate_limits());
    let (alice, _, _) = user(&server, "alice").await;
    let (bob, _, _) = user(&server, "bob").await;
    let general = team(&alice, &bob).await;
    let r = alice
        .post(
            &format!("/channels/{general}/messages"),
            json!({"content": "Pick any", "poll": {"question": "Toppings?",
                "options": ["Cheese", "Olives", "Basil"], "allow_multiple_choice": true}}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["content"], "Pick any");
    // Results show from the start by default.
    assert_eq!(votes(&r.body["poll_results"]), [0, 0, 0]);
    let vote = format!("/polls/{}/vote", r.body["poll"]["id"].as_str().unwrap());
    let v = bob.post(&vote, json!({"option_ids": ["0", "2"]})).await;
    v.assert_status(200);
    assert_eq!(votes(&v.body["poll_results"]), [1, 0, 1]);
    assert_eq!(v.body["poll_results"]["total_votes"], 2);
    assert_eq!(v.body["poll_results"]["voter_count"], 1);
    let v = alice.post(&vote, json!({"option_ids": ["2"]})).await;
    assert_eq!(votes(&v.body["poll_results"]), [1, 0, 2]);
    assert_eq!(v.body["poll_results"]["voter_count"], 2);
    assert_eq!(v.body["poll_results"]["my_votes"], json!(["2"]));
}

/// A poll made over OriginChats shows on the Plexichat message, and a Plexichat vote counts in
/// the OriginChats results: both are the core's poll.
#[tokio::test]
async fn polls_are_shared_with_originchats() {
    let server = crate::originchats::cracked();
    let mut alice = crate::originchats::Oc::register(&server, "alice").await;
    let (pat, _, _) = user(&server, "pat").await;
    alice
        .send(
            json!({"cmd": "poll_create", "channel": "general", "question": "Pizza or tacos?",
            "options": ["Pizza", {"id": "x", "text": "Tacos"}], "listener": "p"}),
        )
        .await;
    let mut reply = alice.recv().await;
    for _ in 0..10 {
        if reply["cmd"] == "poll_create" {
            break;
        }
        reply = alice.recv().await;
    }
    assert_eq!(reply["cmd"], "poll_create", "{reply}");

    let general = crate::plexichat_support::general_channel();
    let listed = pat
        .get(&format!("/channels/{general}/messages?limit=1"))
        .await;
    let poll = listed.body[0]["poll"].clone();
    assert_eq!(poll["question"], "Pizza or tacos?");
    assert_eq!(
        poll["options"],
        json!([{"id": "0", "text": "Pizza"}, {"id": "x", "text": "Tacos"}])
    );
    assert_eq!(poll["results_visibility"], "always");
    let v = pat
        .post(
            &format!("/polls/{}/vote", poll["id"].as_str().unwrap()),
            json!({"option_ids": ["x"]}),
        )
        .await;
    assert_eq!(votes(&v.body["poll_results"]), [0, 1]);

    alice
        .send(json!({"cmd": "poll_results", "poll_id": reply["poll_id"]}))
        .await;
    let mut r = alice.recv().await;
    for _ in 0..10 {
        if r["cmd"] == "poll_results" {
            break;
        }
        r = alice.recv().await;
    }
    assert_eq!(r["cmd"], "poll_results", "{r}");
    let x = &r["results"]["results"][1];
    assert_eq!(
        (x["id"].as_str(), x["votes"].as_u64()),
        (Some("x"), Some(1))
    );
}
