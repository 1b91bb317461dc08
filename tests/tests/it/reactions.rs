//! The reaction chat at `/ws`, as `spec/reactions.yaml` describes it.

use crate::support::{Client, Options, Server};
use serde_json::{Value, json};

/// A server that believes X-Forwarded-For from localhost, so test clients can be distinct users.
fn multi_user_server() -> Server {
    Server::start_with(Options::default().env("CHORUS__SERVER__TRUSTED_PROXIES", "[\"127.0.0.1\"]"))
}

async fn client_as(server: &Server, ip: &str) -> Client {
    Client::connect(&server.url("/ws"), &[("x-forwarded-for", ip)]).await
}

fn ids(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .map(|f| match f["type"].as_str() {
            Some("message") => format!("message:{}", f["data"]["id"].as_str().unwrap()),
            Some("reaction_updated") => format!(
                "reaction:{}:{}:{}:{}",
                f["data"]["message_id"].as_str().unwrap(),
                f["data"]["user_id"].as_str().unwrap(),
                f["data"]["emoji"].as_str().unwrap(),
                f["data"]["action"].as_str().unwrap()
            ),
            _ => panic!("unexpected frame {f}"),
        })
        .collect()
}

#[tokio::test]
async fn clients_see_each_others_messages_and_reactions_in_the_same_order() {
    let server = multi_user_server();
    let ips = ["192.0.2.1", "192.0.2.2", "192.0.2.3"];
    let mut clients = Vec::new();
    for ip in ips {
        clients.push(client_as(&server, ip).await);
    }
    // Everyone sends 5 messages at the same time.
    let mut senders = Vec::new();
    for (i, mut c) in clients.into_iter().enumerate() {
        senders.push(tokio::spawn(async move {
            for n in 0..5 {
                c.send_json(json!({"type": "send_message",
                    "data": {"text": format!("m{n} from {i}"), "author_name": format!("user{i}")}}))
                    .await;
            }
            let frames = c.recv_n(15).await;
            (c, frames)
        }));
    }
    let mut results = Vec::new();
    for s in senders {
        results.push(s.await.unwrap());
    }
    let first = ids(&results[0].1);
    for (_, frames) in &results[1..] {
        assert_eq!(ids(frames), first, "clients saw different orders");
    }
    // Each author's messages arrive in the order they were sent, with their author.
    for (i, ip) in ips.iter().enumerate() {
        let mine: Vec<&Value> = results[0]
            .1
            .iter()
            .filter(|f| f["data"]["author_id"] == *ip)
            .collect();
        let texts: Vec<&str> = mine
            .iter()
            .map(|f| f["data"]["text"].as_str().unwrap())
            .collect();
        let expected: Vec<String> = (0..5).map(|n| format!("m{n} from {i}")).collect();
        assert_eq!(texts, expected);
        for f in mine {
            assert_eq!(f["data"]["author_name"], format!("user{i}"));
            assert_eq!(f["data"]["reactions"], json!({}));
        }
    }

    // Everyone reacts to the first message at once.
    let target = results[0].1[0]["data"]["id"].as_str().unwrap().to_owned();
    let mut reacting = Vec::new();
    for (n, (mut c, _)) in results.into_iter().enumerate() {
        let target = target.clone();
        reacting.push(tokio::spawn(async move {
            c.react(&target, "👍").await;
            if n == 0 {
                c.react(&target, "🎉").await;
            }
            let frames = c.recv_n(4).await;
            (c, frames)
        }));
    }
    let mut results = Vec::new();
    for r in reacting {
        results.push(r.await.unwrap());
    }
    let first = ids(&results[0].1);
    for (_, frames) in &results[1..] {
        assert_eq!(
            ids(frames),
            first,
            "clients saw reactions in different orders"
        );
    }
    // The last frame carries the final state: three 👍 (in reaction order) and one 🎉.
    let last = &results[0].1[3]["data"]["message"];
    assert_eq!(last["id"], target.as_str());
    let thumbs: Vec<&str> = last["reactions"]["👍"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut sorted = thumbs.clone();
    sorted.sort();
    assert_eq!(sorted, ips.to_vec());
    assert_eq!(last["reactions"]["🎉"], json!(["192.0.2.1"]));
    // The order of users within 👍 follows the order of the 👍 frames.
    let order: Vec<&str> = results[0]
        .1
        .iter()
        .filter(|f| f["data"]["emoji"] == "👍")
        .map(|f| f["data"]["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(thumbs, order);
}

#[tokio::test]
async fn a_new_client_gets_every_message_oldest_first_then_live_ones() {
    let server = Server::start();
    let mut a = server.client().await;
    for n in 0..3 {
        a.say(&format!("old {n}")).await;
    }
    let sent = a.recv_n(3).await;
    let mut b = server.client().await;
    let history = b.history(3).await;
    assert_eq!(history, sent, "history differs from what was broadcast");
    let texts: Vec<&str> = history
        .iter()
        .map(|f| f["data"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["old 0", "old 1", "old 2"]);
    a.say("new").await;
    assert_eq!(a.recv().await["data"]["text"], "new");
    assert_eq!(b.recv().await["data"]["text"], "new");
}

#[tokio::test]
async fn message_fields_follow_the_spec() {
    let server = Server::start();
    let mut c = server.client().await;
    c.say("hello").await;
    let f = c.recv().await;
    assert_eq!(f["type"], "message");
    let d = &f["data"];
    assert_eq!(d["text"], "hello");
    assert_eq!(
        d["author_name"], "Anonymous",
        "author_name defaults to Anonymous"
    );
    assert_eq!(d["author_id"], "127.0.0.1", "author_id is the client IP");
    assert_eq!(d["reactions"], json!({}));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let created = d["created_at"].as_i64().unwrap();
    assert!(
        (now - 3600..=now + 3600).contains(&created),
        "created_at is Unix seconds: {created}"
    );
    c.send_json(json!({"type": "send_message", "data": {"text": "named", "author_name": "Alice"}}))
        .await;
    assert_eq!(c.recv().await["data"]["author_name"], "Alice");
}

#[tokio::test]
async fn toggling_a_reaction_adds_then_removes_it() {
    let server = Server::start();
    let mut c = server.client().await;
    let mut other = server.client().await;
    c.say("react to me").await;
    let id = c.recv().await["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(other.recv().await["data"]["id"], id.as_str());

    c.react(&id, "👍").await;
    for client in [&mut c, &mut other] {
        let f = client.recv().await;
        assert_eq!(f["type"], "reaction_updated");
        assert_eq!(f["data"]["action"], "added");
        assert_eq!(f["data"]["message_id"], id.as_str());
        assert_eq!(f["data"]["emoji"], "👍");
        assert_eq!(f["data"]["user_id"], "127.0.0.1");
        assert_eq!(f["data"]["message"]["id"], id.as_str());
        assert_eq!(f["data"]["message"]["text"], "react to me");
        assert_eq!(
            f["data"]["message"]["reactions"],
            json!({"👍": ["127.0.0.1"]})
        );
    }
    c.react(&id, "👍").await;
    for client in [&mut c, &mut other] {
        let f = client.recv().await;
        assert_eq!(f["data"]["action"], "removed");
        assert_eq!(f["data"]["message"]["reactions"], json!({}));
    }
    c.react(&id, "👍").await;
    assert_eq!(c.recv().await["data"]["action"], "added");
}

#[tokio::test]
async fn every_bad_input_gets_its_exact_error_and_the_connection_stays_up() {
    let server = Server::start();
    let mut c = server.client().await;
    c.say("target").await;
    let id = c.recv().await["data"]["id"].as_str().unwrap().to_owned();

    let cases: Vec<(String, &str)> = vec![
        ("not json".into(), "Invalid message format"),
        (
            "{\"type\": \"send_message\", \"data\"".into(),
            "Invalid message format",
        ),
        ("[1,2,3]".into(), "Invalid message format"),
        ("\"send_message\"".into(), "Invalid message format"),
        (
            json!({"data": {"text": "x"}}).to_string(),
            "Invalid message format",
        ),
        (
            json!({"type": "shout", "data": {}}).to_string(),
            "Unknown message type: shout",
        ),
        (
            json!({"type": "send_message"}).to_string(),
            "Invalid message format",
        ),
        (
            json!({"type": "send_message", "data": {}}).to_string(),
            "message text cannot be empty",
        ),
        (
            json!({"type": "send_message", "data": {"text": ""}}).to_string(),
            "message text cannot be empty",
        ),
        (
            json!({"type": "send_message", "data": {"text": "a".repeat(501)}}).to_string(),
            "message too long (max 500 characters)",
        ),
        (
            json!({"type": "send_message", "data": {"text": "😀".repeat(501)}}).to_string(),
            "message too long (max 500 characters)",
        ),
        (
            json!({"type": "send_message", "data": {"text": 5}}).to_string(),
            "Invalid message format",
        ),
        (
            json!({"type": "send_message", "data": {"text": "x", "author_name": 7}}).to_string(),
            "Invalid message format",
        ),
        (
            json!({"type": "add_reaction", "data": {"message_id": "not-a-uuid", "emoji": "👍"}})
                .to_string(),
            "Invalid message format",
        ),
        (
            json!({"type": "add_reaction", "data": {"emoji": "👍"}}).to_string(),
            "Invalid message format",
        ),
        (
            json!({"type": "add_reaction", "data": {"message_id": id}}).to_string(),
            "Invalid message format",
        ),
        (
            json!({"type": "add_reaction",
                   "data": {"message_id": "6f1c1d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f", "emoji": "👍"}})
            .to_string(),
            "Message not found",
        ),
    ];
    for (input, expected) in &cases {
        c.send_text(input).await;
        let f = c.recv().await;
        assert_eq!(f["type"], "error", "input {input} gave {f}");
        assert_eq!(f["data"]["error"], *expected, "input {input}");
    }
    c.send_binary(&[0, 159, 146, 150]).await;
    c.expect_error("Invalid message format").await;
    c.send_binary(
        json!({"type": "send_message", "data": {"text": "x"}})
            .to_string()
            .as_bytes(),
    )
    .await;
    c.expect_error("Invalid message format").await;

    // Still connected, and nothing was stored by the bad inputs.
    let max = "😀".repeat(500);
    c.say(&max).await;
    let f = c.recv().await;
    assert_eq!(f["type"], "message");
    assert_eq!(
        f["data"]["text"],
        max.as_str(),
        "500 characters are allowed"
    );
    let mut late = server.client().await;
    let history = late.history(2).await;
    assert_eq!(history[0]["data"]["text"], "target");
    assert_eq!(history[1]["data"]["text"], max.as_str());
}

#[tokio::test]
async fn the_rate_limit_holds_across_connections_and_resets() {
    let window = 5;
    let server = Server::start_with(Options::default().env(
        "CHORUS__REACTIONS__RATE_LIMIT_WINDOW_SECS",
        window.to_string(),
    ));
    let mut a = server.client().await;
    let mut b = server.client().await;
    for n in 0..30 {
        a.say(&format!("a{n}")).await;
        b.say(&format!("b{n}")).await;
    }
    // 60 messages: each client sees all of them.
    let mut first_id = String::new();
    for c in [&mut a, &mut b] {
        let frames = c.recv_n(60).await;
        assert!(frames.iter().all(|f| f["type"] == "message"));
        first_id = frames[0]["data"]["id"].as_str().unwrap().to_owned();
    }
    // The 61st from the same user (IP), on either connection, is refused.
    a.say("one too many").await;
    a.expect_error("Rate limit exceeded. Maximum 60 messages per minute.")
        .await;
    b.say("one too many").await;
    b.expect_error("Rate limit exceeded. Maximum 60 messages per minute.")
        .await;
    // Reactions are not rate limited.
    a.react(&first_id, "👍").await;
    assert_eq!(a.recv().await["data"]["action"], "added");
    assert_eq!(b.recv().await["data"]["action"], "added");

    // After the window, the user may send again.
    tokio::time::sleep(std::time::Duration::from_secs(window + 1)).await;
    a.say("after the window").await;
    let f = a.recv().await;
    assert_eq!(f["type"], "message");
    assert_eq!(f["data"]["text"], "after the window");
    assert_eq!(b.recv().await["data"]["text"], "after the window");
}

#[tokio::test]
async fn the_rate_limit_is_per_user() {
    let server = Server::start_with(
        Options::default()
            .env("CHORUS__SERVER__TRUSTED_PROXIES", "[\"127.0.0.1\"]")
            .env("CHORUS__REACTIONS__RATE_LIMIT_WINDOW_SECS", "3600"),
    );
    let mut a = client_as(&server, "198.51.100.1").await;
    let mut b = client_as(&server, "198.51.100.2").await;
    for n in 0..60 {
        a.say(&format!("a{n}")).await;
    }
    a.recv_n(60).await;
    b.recv_n(60).await;
    a.say("too many").await;
    a.expect_error("Rate limit exceeded. Maximum 60 messages per minute.")
        .await;
    b.say("b is fine").await;
    let f = b.recv().await;
    assert_eq!(f["data"]["text"], "b is fine");
    assert_eq!(f["data"]["author_id"], "198.51.100.2");
}

#[tokio::test]
async fn x_forwarded_for_is_honoured_only_from_trusted_proxies() {
    let untrusting = Server::start();
    let mut c = Client::connect(
        &untrusting.url("/ws"),
        &[("x-forwarded-for", "203.0.113.9")],
    )
    .await;
    c.say("hi").await;
    assert_eq!(c.recv().await["data"]["author_id"], "127.0.0.1");

    let trusting = Server::start_with(
        Options::default().env("CHORUS__SERVER__TRUSTED_PROXIES", "[\"127.0.0.0/8\"]"),
    );
    let mut c = Client::connect(
        &trusting.url("/ws"),
        &[("x-forwarded-for", "198.51.100.20, 203.0.113.9")],
    )
    .await;
    c.say("hi").await;
    assert_eq!(
        c.recv().await["data"]["author_id"],
        "203.0.113.9",
        "the right-most untrusted hop is the client"
    );
}

#[tokio::test]
async fn an_extra_listener_serves_the_reaction_chat_on_every_path() {
    let server = Server::start_with(Options::default().env(
        "CHORUS__SERVER__EXTRA_LISTENERS",
        "[{listen = \"127.0.0.1:0\", protocol = \"reactions\"}]",
    ));
    let extra = server.extra["reactions"];
    let mut on_extra = Client::connect(&format!("ws://{extra}/"), &[]).await;
    let mut on_main = server.client().await;
    on_extra.say("via the extra listener").await;
    assert_eq!(
        on_extra.recv().await["data"]["text"],
        "via the extra listener"
    );
    assert_eq!(
        on_main.recv().await["data"]["text"],
        "via the extra listener"
    );
}
