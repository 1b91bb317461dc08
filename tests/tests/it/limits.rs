//! Resource limits: slow consumers, connection caps, file-descriptor exhaustion.

use crate::support::{Client, Options, Refusal, Server};
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn a_slow_consumer_is_closed_and_the_others_keep_going() {
    let server = Server::start_with(
        Options::default()
            .env("CHORUS__WEBSOCKET__OUTBOUND_QUEUE", "64")
            .env("CHORUS__REACTIONS__RATE_LIMIT_MESSAGES", "1000000")
            // This test is about the hub, not durability: skip the per-commit fsync.
            .env("CHORUS__STORAGE__DURABILITY", "normal"),
    );
    let mut fast = server.client().await;
    // Connects, then never reads.
    let mut slow = Client::connect_small_rcvbuf(server.addr, "/ws").await;

    // Big messages until the server reports a slow consumer (its socket buffers are full and
    // its queue overflowed); the fast client reads everything meanwhile.
    let text = "😀".repeat(500);
    let mut sent = 0;
    while !server.logged("closing a slow consumer") {
        assert!(
            sent < 100_000,
            "no slow consumer detected after {sent} messages"
        );
        for _ in 0..16 {
            fast.say(&text).await;
        }
        sent += 16;
        let frames = fast.recv_n(16).await;
        assert!(frames.iter().all(|f| f["type"] == "message"));
    }

    eprintln!("slow consumer detected after {sent} messages");
    // The slow client finds, after whatever had been delivered, a clear close.
    let close = loop {
        match tokio::time::timeout(crate::support::PATIENCE, slow.ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                crate::support::assert_valid_frame(t.as_str());
            }
            Ok(Some(Ok(Message::Close(c)))) => break c.expect("close code"),
            Ok(Some(Ok(_))) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(u16::from(close.code), 1008);
    assert!(close.reason.contains("slow consumer"), "{}", close.reason);

    // Everyone else is unaffected.
    fast.say("still fast").await;
    assert_eq!(fast.recv().await["data"]["text"], "still fast");
}

/// Opens connections until one is refused; returns the open ones and the refusal.
async fn fill(server: &Server, limit: usize) -> (Vec<Client>, Option<Refusal>) {
    let mut open = Vec::new();
    for _ in 0..limit {
        match Client::try_connect(&server.url("/ws"), &[]).await {
            Ok(c) => open.push(c),
            Err(r) => return (open, Some(r)),
        }
    }
    (open, None)
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_comm = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[tokio::test]
async fn at_the_derived_connection_cap_new_connections_get_503_and_old_ones_keep_working() {
    // 128 descriptors - 64 reserved = 64 connections.
    let server = Server::start_with(Options {
        nofile: Some(128),
        ..Options::default()
    });
    let (mut open, refusal) = fill(&server, 100).await;
    assert_eq!(
        open.len(),
        64,
        "the cap is the open-file limit minus the reserve"
    );
    assert!(matches!(refusal, Some(Refusal::Http(503))), "{refusal:?}");
    // History loads, messages flow for the connections already open.
    open[0].say("at capacity").await;
    for c in [0, 63] {
        assert_eq!(open[c].recv().await["data"]["text"], "at capacity");
    }
    // Closing some frees their slots.
    for c in open.drain(..10) {
        c.close().await;
    }
    let mut again = loop {
        match Client::try_connect(&server.url("/ws"), &[]).await {
            Ok(c) => break c,
            Err(Refusal::Http(503)) => tokio::task::yield_now().await,
            Err(e) => panic!("unexpected refusal {e:?}"),
        }
    };
    assert_eq!(again.recv().await["data"]["text"], "at capacity");
}

#[tokio::test]
async fn out_of_file_descriptors_the_server_refuses_cleanly_and_keeps_serving() {
    // No reserve: the process really runs out of descriptors before the connection cap.
    let server = Server::start_with(Options {
        nofile: Some(128),
        env: vec![("CHORUS__SERVER__FD_RESERVE".into(), "0".into())],
        ..Options::default()
    });
    let (mut open, refusal) = fill(&server, 200).await;
    assert!(
        open.len() > 50,
        "only {} connections before refusal",
        open.len()
    );
    assert!(open.len() < 128);
    match &refusal {
        Some(Refusal::Io(reason)) => assert!(!reason.is_empty()),
        other => panic!("expected the connection to be closed, got {other:?}"),
    }

    // Pending connections pile up in the backlog; the accept loop must not spin on them.
    let mut pending = Vec::new();
    for _ in 0..20 {
        if let Ok(s) = tokio::net::TcpStream::connect(server.addr).await {
            pending.push(s);
        }
    }
    let before = cpu_ticks(server.pid());
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let used = cpu_ticks(server.pid()) - before;
    // 100 ticks per second: a spinning loop would use about 200 here.
    assert!(
        used < 100,
        "the server used {used} ticks of CPU while idle at the fd limit"
    );
    drop(pending);

    // Existing connections still work both ways.
    let last = open.len() - 1;
    open[0].say("out of fds").await;
    assert_eq!(open[0].recv().await["data"]["text"], "out of fds");
    assert_eq!(open[last].recv().await["data"]["text"], "out of fds");

    // Free some descriptors: new connections are accepted again.
    for c in open.drain(..10) {
        c.close().await;
    }
    let mut again = loop {
        match Client::try_connect(&server.url("/ws"), &[]).await {
            Ok(c) => break c,
            Err(_) => tokio::task::yield_now().await,
        }
    };
    assert_eq!(again.recv().await["data"]["text"], "out of fds");
}
