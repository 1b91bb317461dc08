//! OriginChats polls (§2.13) over the core's polls: the flat `message_new` side packet, then
//! the reply; single and multiple choice; results, end, get, expiry; voters are usernames.
//! A poll message is a core message, so the reaction chat shows it too.

use crate::originchats::{Oc, cracked};
use serde_json::{Value, json};

async fn skip_joins(c: &mut Oc, n: usize) {
    for f in c.recv_n(n).await {
        assert!(f["cmd"] == "user_join" || f["cmd"] == "user_connect", "{f}");
    }
}

fn tally(r: &Value) -> Vec<(String, u64, Vec<String>)> {
    r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["id"].as_str().unwrap().to_owned(),
                o["votes"].as_u64().unwrap(),
                o["voters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect()
}

fn t(id: &str, n: u64, voters: &[&str]) -> (String, u64, Vec<String>) {
    (id.into(), n, voters.iter().map(|v| v.to_string()).collect())
}

#[tokio::test]
async fn create_vote_results_end_and_get() {
    let s = cracked();
    let mut alice = Oc::register(&s, "alice").await;
    let mut bob = Oc::register(&s, "bob").await;
    skip_joins(&mut alice, 2).await;
    let mut chat = s.client().await; // the reaction chat, on the same `general`

    alice
        .send(
            json!({"cmd": "poll_create", "channel": "general", "question": "Pizza or tacos?",
            "options": ["Pizza", {"text": "Tacos", "emoji": "🌮"}, {"id": "x", "text": "Both"}],
            "expires_at": 4102444800.0, "listener": "p"}),
        )
        .await;
    // The flat side packet first (to the caller and every viewer), then the reply.
    let flat = alice.recv().await;
    assert_eq!(flat["cmd"], "message_new");
    assert!(
        flat.get("message").is_none() && flat.get("global").is_none(),
        "{flat}"
    );
    assert_eq!(flat["user"], "alice");
    assert_eq!(flat["content"], "");
    assert_eq!(flat["channel"], "general");
    assert_eq!(flat["thread_id"], Value::Null);
    let options = json!([{"id": "0", "text": "Pizza"}, {"id": "1", "text": "Tacos", "emoji": "🌮"},
        {"id": "x", "text": "Both"}]);
    assert_eq!(
        flat["embeds"],
        json!([{"type": "poll", "title": "Pizza or tacos?", "poll": {"question": "Pizza or tacos?",
            "options": options, "allow_multiselect": false, "expires_at": 4102444800.0}}])
    );
    let reply = alice.recv().await;
    assert_eq!(reply["cmd"], "poll_create");
    assert_eq!(reply["listener"], "p");
    assert_eq!(reply["poll_id"], flat["poll_id"]);
    assert_eq!(reply["message_id"], flat["id"]);
    assert_eq!(reply["options"], options);
    assert_eq!(reply["allow_multiselect"], false);
    assert_eq!(reply["expires_at"], 4102444800.0);
    let seen = bob.recv().await;
    assert_eq!(seen, flat);
    let poll_id = reply["poll_id"].as_str().unwrap().to_owned();
    let message_id = reply["message_id"].as_str().unwrap().to_owned();

    // Other dialects see an ordinary message.
    let mut m = chat.recv().await;
    while m["type"] != "message" {
        m = chat.recv().await; // the (empty) history first
    }
    assert_eq!(m["data"]["text"], "📊 Pizza or tacos?");

    // Single choice: bob's second vote replaces his first.
    bob.send(json!({"cmd": "poll_vote", "poll_id": poll_id, "option_id": "0"}))
        .await;
    let upd = bob.recv().await;
    assert_eq!(upd["cmd"], "poll_vote_update");
    assert_eq!(upd["user"], "bob");
    assert_eq!(upd["option_ids"], json!(["0"]));
    assert_eq!(upd["message_id"], message_id.as_str());
    assert_eq!(upd["channel"], "general");
    assert_eq!(
        tally(&upd["results"]),
        [t("0", 1, &["bob"]), t("1", 0, &[]), t("x", 0, &[])]
    );
    let vote = bob.recv().await;
    assert_eq!(vote["cmd"], "poll_vote");
    assert_eq!(vote["option_ids"], json!(["0"]));
    assert_eq!(vote["results"], upd["results"]);
    assert_eq!(alice.recv().await, upd);

    bob.send(json!({"cmd": "poll_vote", "message_id": message_id, "option_ids": ["1"]}))
        .await;
    let upd = bob.recv().await;
    assert_eq!(
        tally(&upd["results"]),
        [t("0", 0, &[]), t("1", 1, &["bob"]), t("x", 0, &[])]
    );
    assert_eq!(upd["results"]["total_votes"], 1);
    assert_eq!(bob.recv().await["cmd"], "poll_vote");
    assert_eq!(alice.recv().await["cmd"], "poll_vote_update");
    // Voting again for the same option changes nothing.
    bob.send(json!({"cmd": "poll_vote", "poll_id": poll_id, "option_id": "1"}))
        .await;
    let upd = bob.recv().await;
    assert_eq!(upd["results"]["total_votes"], 1);
    assert_eq!(bob.recv().await["cmd"], "poll_vote");
    assert_eq!(alice.recv().await["cmd"], "poll_vote_update");

    // Errors.
    bob.expect_error(
        json!({"cmd": "poll_vote", "poll_id": poll_id, "option_id": "9"}),
        "Invalid option: 9",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "poll_vote", "poll_id": poll_id}),
        "option_id or option_ids is required",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "poll_vote", "option_id": "0"}),
        "poll_id or message_id is required",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "poll_vote", "poll_id": "nope", "option_id": "0"}),
        "Poll not found",
    )
    .await;

    // Results before the end: counts, own `voted`, no voters.
    bob.send(json!({"cmd": "poll_results", "poll_id": poll_id}))
        .await;
    let r = bob.recv().await;
    assert_eq!(r["cmd"], "poll_results");
    assert_eq!(r["message_id"], message_id.as_str());
    assert_eq!(
        tally(&r["results"]),
        [t("0", 0, &[]), t("1", 1, &[]), t("x", 0, &[])]
    );
    assert_eq!(r["results"]["results"][1]["voted"], true);
    assert_eq!(r["results"]["results"][0]["voted"], false);

    // Only the creator (or manage_messages) ends it.
    bob.expect_error(
        json!({"cmd": "poll_end", "poll_id": poll_id}),
        "Access denied: 'manage_messages' permission required",
    )
    .await;
    alice
        .send(json!({"cmd": "poll_end", "poll_id": poll_id}))
        .await;
    let side = alice.recv().await;
    assert_eq!(side["cmd"], "poll_end");
    assert_eq!(side["message_id"], message_id.as_str());
    assert_eq!(side["results"]["ended"], true);
    let own = alice.recv().await;
    assert_eq!(
        own,
        json!({"cmd": "poll_end", "poll_id": poll_id, "results": side["results"]})
    );
    assert_eq!(bob.recv().await, side);
    alice
        .expect_error(
            json!({"cmd": "poll_end", "poll_id": poll_id}),
            "Poll has already ended",
        )
        .await;
    bob.expect_error(
        json!({"cmd": "poll_vote", "poll_id": poll_id, "option_id": "0"}),
        "Poll has ended",
    )
    .await;

    // After the end, poll_results names the voters.
    alice
        .send(json!({"cmd": "poll_results", "message_id": message_id}))
        .await;
    let r = alice.recv().await;
    assert_eq!(tally(&r["results"])[1], t("1", 1, &["bob"]));
    assert_eq!(r["results"]["results"][1]["voted"], false);

    bob.send(json!({"cmd": "poll_get", "poll_id": poll_id}))
        .await;
    let g = bob.recv().await;
    let p = &g["poll"];
    assert_eq!(p["id"], poll_id.as_str());
    assert_eq!(p["question"], "Pizza or tacos?");
    assert_eq!(p["created_by"], "alice");
    assert_eq!(p["channel"], "general");
    assert_eq!(p["ended"], true);
    assert!(p["ended_at"].is_number());
    assert_eq!(p["user_votes"], json!(["1"]));

    // The poll message is in the history with its embed and empty content.
    bob.send(json!({"cmd": "message_get", "channel": "general", "id": message_id}))
        .await;
    let got = bob.recv().await;
    assert_eq!(got["message"]["content"], "");
    assert_eq!(got["message"]["embeds"][0]["type"], "poll");
    alice.close().await;
    bob.close().await;
}

#[tokio::test]
async fn multiple_choice_accumulates_and_expired_polls_refuse_votes_and_end() {
    let s = cracked();
    let mut alice = Oc::register(&s, "alice").await;
    alice
        .send(
            json!({"cmd": "poll_create", "channel": "general", "question": "Toppings?",
            "options": ["Cheese", "Ham", "Olives"], "allow_multiselect": true}),
        )
        .await;
    let _flat = alice.recv().await;
    let poll_id = alice.recv().await["poll_id"].as_str().unwrap().to_owned();
    alice
        .send(json!({"cmd": "poll_vote", "poll_id": poll_id, "option_ids": ["0", "2"]}))
        .await;
    let upd = alice.recv().await;
    assert_eq!(upd["option_ids"], json!(["0", "2"]));
    assert_eq!(
        tally(&upd["results"]),
        [t("0", 1, &["alice"]), t("1", 0, &[]), t("2", 1, &["alice"])]
    );
    let _ = alice.recv().await;
    alice
        .send(json!({"cmd": "poll_vote", "poll_id": poll_id, "option_id": "1"}))
        .await;
    let upd = alice.recv().await;
    assert_eq!(upd["results"]["total_votes"], 3);
    let _ = alice.recv().await;

    // A poll that expires in a second refuses votes afterwards, and the sweep ends it.
    let soon = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64())
        + 1.0;
    alice
        .send(
            json!({"cmd": "poll_create", "channel": "general", "question": "Quick?",
            "options": ["Yes", "No"], "expires_at": soon}),
        )
        .await;
    let _flat = alice.recv().await;
    let quick = alice.recv().await["poll_id"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    alice
        .send(json!({"cmd": "poll_vote", "poll_id": quick, "option_id": "0"}))
        .await;
    let got = alice.recv().await;
    if got["cmd"] == "poll_end" {
        // The sweep was faster than the vote.
        assert_eq!(got["poll_id"], quick.as_str());
        alice
            .expect(json!({"cmd": "error", "src": "poll_vote", "val": "Poll has ended"}))
            .await;
    } else {
        assert_eq!(
            got,
            json!({"cmd": "error", "src": "poll_vote", "val": "Poll has expired"})
        );
        let end = alice.recv().await;
        assert_eq!(end["cmd"], "poll_end", "{end}");
        assert_eq!(end["poll_id"], quick.as_str());
        assert_eq!(end["results"]["ended"], true);
    }
    alice.close().await;
}

#[tokio::test]
async fn poll_create_errors() {
    let s = cracked();
    let mut alice = Oc::register(&s, "alice").await;
    let base = |extra: Value| {
        let mut v = json!({"cmd": "poll_create", "channel": "general", "question": "Q?",
            "options": ["a", "b"]});
        for (k, x) in extra.as_object().unwrap() {
            if x.is_null() {
                v.as_object_mut().unwrap().remove(k);
            } else {
                v[k] = x.clone();
            }
        }
        v
    };
    alice
        .expect_error(
            base(json!({"channel": null})),
            "Channel or thread_id is required",
        )
        .await;
    alice
        .expect_error(base(json!({"question": null})), "Question is required")
        .await;
    alice
        .expect_error(
            base(json!({"options": ["a"]})),
            "At least 2 options are required",
        )
        .await;
    alice
        .expect_error(
            base(json!({"options": ["1","2","3","4","5","6","7","8","9","10","11"]})),
            "Cannot have more than 10 options",
        )
        .await;
    alice
        .expect_error(
            base(json!({"options": ["a", {"id": "z"}]})),
            "Option 1 must have 'text'",
        )
        .await;
    alice
        .expect_error(base(json!({"channel": "nowhere"})), "Channel not found")
        .await;
    // Nothing was posted.
    alice.expect_quiet().await;
    alice.close().await;
}

/// A poll in a staff-only forum thread: a message of the thread, heard by the forum's viewers
/// only (bob cannot view the forum), with the thread's id on every poll packet.
#[tokio::test]
async fn polls_in_a_thread() {
    let (_s, mut boss, mut moder, mut bob, id) =
        crate::originchats_threads::forum_with_thread().await;
    moder
        .send(
            json!({"cmd": "poll_create", "thread_id": id, "question": "Which bug first?",
            "options": ["crash", "typo"]}),
        )
        .await;
    let flat = moder.recv().await;
    assert_eq!(flat["cmd"], "message_new", "{flat}");
    assert_eq!(flat["channel"], "support");
    assert_eq!(flat["thread_id"], id.as_str());
    assert_eq!(flat["user"], "mod");
    assert_eq!(flat["content"], "");
    let reply = moder.recv().await;
    assert_eq!(reply["cmd"], "poll_create");
    assert_eq!(reply["channel"], "support");
    assert_eq!(reply["thread_id"], id.as_str());
    assert_eq!(reply["message_id"], flat["id"]);
    assert_eq!(boss.recv().await, flat);
    let poll_id = reply["poll_id"].as_str().unwrap().to_owned();

    // The poll message is in the thread's history, not the forum's.
    boss.send(json!({"cmd": "thread_messages", "thread_id": id}))
        .await;
    let history = boss.recv().await;
    let messages = history["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{history}");
    assert_eq!(messages[0]["id"], flat["id"]);
    assert_eq!(messages[0]["content"], "");
    assert_eq!(messages[0]["embeds"], flat["embeds"]);

    boss.send(json!({"cmd": "poll_vote", "poll_id": poll_id, "option_id": "1"}))
        .await;
    let upd = boss.recv().await;
    assert_eq!(upd["cmd"], "poll_vote_update");
    assert_eq!(upd["channel"], "support");
    assert_eq!(upd["thread_id"], id.as_str());
    assert_eq!(
        tally(&upd["results"]),
        [t("0", 0, &[]), t("1", 1, &["boss"])]
    );
    assert_eq!(boss.recv().await["cmd"], "poll_vote");
    assert_eq!(moder.recv().await, upd);

    boss.send(json!({"cmd": "poll_get", "message_id": flat["id"]}))
        .await;
    let got = boss.recv().await;
    assert_eq!(got["poll"]["channel"], "support");
    assert_eq!(got["poll"]["thread_id"], id.as_str());
    assert_eq!(got["poll"]["user_votes"], json!(["1"]));

    // bob cannot view the forum: no poll of its threads for him.
    bob.expect_error(
        json!({"cmd": "poll_vote", "poll_id": poll_id, "option_id": "0"}),
        "You do not have permission to view this poll",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "poll_results", "poll_id": poll_id}),
        "You do not have permission to view this poll",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "poll_create", "thread_id": id, "question": "Mine?",
            "options": ["a", "b"]}),
        "You do not have permission to send messages in this thread",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "poll_create", "thread_id": "nope", "question": "Q?",
            "options": ["a", "b"]}),
        "Thread not found",
    )
    .await;

    moder
        .send(json!({"cmd": "poll_end", "poll_id": poll_id}))
        .await;
    let ended = moder.recv().await;
    assert_eq!(ended["cmd"], "poll_end");
    assert_eq!(ended["thread_id"], id.as_str());
    assert_eq!(ended["channel"], "support");
    assert_eq!(ended["results"]["ended"], true);
    assert_eq!(moder.recv().await["cmd"], "poll_end"); // the reply
    assert_eq!(boss.recv().await, ended);

    // A locked thread takes no polls.
    boss.send(json!({"cmd": "thread_update", "thread_id": id, "locked": true}))
        .await;
    assert_eq!(boss.recv().await["thread"]["locked"], true);
    assert_eq!(moder.recv().await["thread"]["locked"], true);
    moder
        .expect_error(
            json!({"cmd": "poll_create", "thread_id": id, "question": "Again?",
                "options": ["a", "b"]}),
            "This thread is locked",
        )
        .await;
    bob.expect_quiet().await;
}
