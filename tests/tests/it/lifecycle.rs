//! Process lifecycle: restart, graceful shutdown, the command line.

use crate::support::{Client, Options, Server};
use serde_json::json;

#[tokio::test]
async fn history_and_reactions_survive_a_restart() {
    let server = Server::start();
    let mut c = server.client().await;
    c.say("before restart 1").await;
    c.send_json(
        json!({"type": "send_message", "data": {"text": "before restart 2", "author_name": "Bob"}}),
    )
    .await;
    let sent = c.recv_n(2).await;
    let id = sent[0]["data"]["id"].as_str().unwrap().to_owned();
    c.react(&id, "🔥").await;
    let updated = c.recv().await;
    assert_eq!(updated["data"]["action"], "added");

    let server = server.restart();
    let mut c = server.client().await;
    let history = c.history(2).await;
    assert_eq!(history[0]["data"], updated["data"]["message"]);
    assert_eq!(history[1], sent[1]);
    // Still writable after the restart, and the reaction still toggles off.
    c.react(&id, "🔥").await;
    let f = c.recv().await;
    assert_eq!(f["data"]["action"], "removed");
    assert_eq!(f["data"]["message"]["reactions"], json!({}));
}

#[tokio::test]
async fn sigterm_closes_sockets_with_1001_and_keeps_every_acknowledged_message() {
    let mut server = Server::start();
    let mut a = server.client().await;
    let mut b = server.client().await;
    // Many writes in flight when the signal arrives.
    for n in 0..40 {
        b.say(&format!("in flight {n}")).await;
    }
    let first = a.recv().await;
    assert_eq!(first["type"], "message");
    let status = server.stop();
    assert!(status.success(), "chorus exited with {status}");
    let close = a.recv_close().await.expect("a close frame with a code");
    assert_eq!(u16::from(close.code), 1001);
    // Every message b saw acknowledged (broadcast back) is in the store after a restart.
    let mut acknowledged = Vec::new();
    loop {
        match tokio::time::timeout(
            crate::support::PATIENCE,
            futures_util::StreamExt::next(&mut b.ws),
        )
        .await
        {
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t)))) => {
                let v = crate::support::assert_valid_frame(t.as_str());
                acknowledged.push(v["data"]["text"].as_str().unwrap().to_owned());
            }
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Close(c)))) => {
                assert_eq!(u16::from(c.expect("close code").code), 1001);
                break;
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("expected frames then a 1001 close, got {other:?}"),
        }
    }
    assert!(!acknowledged.is_empty());
    assert!(
        server.logged("store closed"),
        "the store was closed cleanly"
    );
    let server = server.restart();
    let mut c = server.client().await;
    let mut stored = Vec::new();
    for _ in 0..acknowledged.len() {
        stored.push(c.recv().await["data"]["text"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        stored, acknowledged,
        "acknowledged messages were lost or reordered"
    );
}

#[tokio::test]
async fn every_broadcast_message_survives_sigkill() {
    // All test clients share one IP, hence one user: lift the 60/minute limit.
    let mut server = Server::start_with(
        Options::default().env("CHORUS__REACTIONS__RATE_LIMIT_MESSAGES", "1000"),
    );
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(server.client().await);
    }
    // Four clients pipelining writes; a message is acknowledged when its broadcast arrives.
    for (i, c) in clients.iter_mut().enumerate() {
        for n in 0..25 {
            c.say(&format!("c{i} m{n}")).await;
        }
    }
    let seen = clients[0].recv_n(100).await;
    server.kill();
    let server = server.restart();
    let mut c = server.client().await;
    let history = c.history(100).await;
    assert_eq!(
        history, seen,
        "history after SIGKILL differs from what was broadcast"
    );
}

#[tokio::test]
async fn user_add_and_token_issue_work_while_the_server_runs() {
    let server = Server::start();
    let mut c = server.client().await;
    let out = server.cli(&["user", "add", "alice", "--password", "s3cret"]);
    assert!(
        out.status.success(),
        "user add failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("alice"));

    let dup = server.cli(&["user", "add", "ALICE", "--password", "x"]);
    assert!(
        !dup.status.success(),
        "a duplicate (case-insensitive) username must fail"
    );
    assert!(String::from_utf8_lossy(&dup.stderr).contains("taken"));

    let bad_role = server.cli(&["user", "add", "bob", "--password", "x", "--role", "nope"]);
    assert!(!bad_role.status.success());
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("no role named"));

    let with_role = server.cli(&[
        "user",
        "add",
        "carol",
        "--password",
        "x",
        "--role",
        "@everyone",
    ]);
    assert!(
        with_role.status.success(),
        "{}",
        String::from_utf8_lossy(&with_role.stderr)
    );

    let tok = server.cli(&["token", "issue", "alice"]);
    assert!(
        tok.status.success(),
        "{}",
        String::from_utf8_lossy(&tok.stderr)
    );
    let token = String::from_utf8(tok.stdout).unwrap();
    let token = token.trim();
    assert_eq!(token.len(), 64);
    assert!(token.chars().all(|ch| ch.is_ascii_hexdigit()));
    let again = server.cli(&["token", "issue", "alice"]);
    assert_ne!(
        String::from_utf8(again.stdout).unwrap().trim(),
        token,
        "tokens are random"
    );

    let missing = server.cli(&["token", "issue", "nobody"]);
    assert!(!missing.status.success());

    // The running server kept serving throughout.
    c.say("still here").await;
    assert_eq!(c.recv().await["data"]["text"], "still here");
}

#[tokio::test]
async fn init_writes_a_config_that_serve_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chorus.toml");
    let out = std::process::Command::new(crate::support::chorus_bin())
        .args(["init"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("listen = \"127.0.0.1:8080\""));
    assert!(text.contains("data_dir = \"./data\""));
    assert!(
        text.lines().filter(|l| l.starts_with('#')).count() > 10,
        "the file is commented"
    );
    // Refuses to overwrite without --force.
    let again = std::process::Command::new(crate::support::chorus_bin())
        .arg("init")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!again.status.success());

    // The file's values apply (here: the reaction chat's rate limit), env still overrides listen.
    let edited = text.replace("rate_limit_messages = 60", "rate_limit_messages = 2");
    std::fs::write(&path, edited).unwrap();
    let server = Server::start_with(Options {
        config_file: Some(path),
        ..Options::default()
    });
    let mut c = server.client().await;
    c.say("1").await;
    c.say("2").await;
    c.say("3").await;
    c.recv_n(2).await;
    c.expect_error("Rate limit exceeded. Maximum 60 messages per minute.")
        .await;
}

#[tokio::test]
async fn a_bad_configuration_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(crate::support::chorus_bin())
        .arg("serve")
        .current_dir(dir.path())
        .env("CHORUS__SERVER__LISTN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("listn"), "{err}");
}

#[tokio::test]
async fn unknown_paths_are_not_upgraded() {
    let server = Server::start();
    match Client::try_connect(&server.url("/nope"), &[]).await {
        Err(crate::support::Refusal::Http(404)) => {}
        Err(e) => panic!("expected 404, got {e:?}"),
        Ok(_) => panic!("expected 404, got a WebSocket"),
    }
}
