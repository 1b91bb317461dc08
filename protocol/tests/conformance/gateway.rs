//! The Plexichat gateway's op-code envelope: composite (`[op, t]`) and integer tags.

use chorus_protocol::de::DecodeErrorKind;
use chorus_protocol::gateway::{self, ClientFrame, ServerFrame};

const READY: &str = r#"{"op":0,"t":"READY","s":1,"d":{"v":10,"user":{"id":"196850430771335170","username":"alice","discriminator":"0","avatar":null,"bot":false},"guilds":[],"session_id":"4f9c2b7e1a8d4e6fb3c05d92a7e81f34","resume_gateway_url":"wss://gateway.example.com","application":{"id":"196850430771335170","flags":0}}}"#;

#[test]
fn dispatches_are_identified_by_op_and_t_in_any_key_order() {
    let frame = ServerFrame::decode(READY).unwrap();
    assert!(matches!(&frame, ServerFrame::Ready(r) if r.s == 1 && r.d.v == 10));
    assert_eq!(
        (frame.op(), frame.t(), frame.tag()),
        (0, Some("READY"), Some("op=0,t=READY"))
    );
    assert_eq!(serde_json::to_string(&frame).unwrap(), READY);
    // The same frame with the envelope keys shuffled takes the scan and decodes the same.
    let value: serde_json::Value = serde_json::from_str(READY).unwrap();
    let shuffled = format!(r#"{{"d":{},"s":1,"t":"READY","op":0.0}}"#, value["d"]);
    assert_eq!(ServerFrame::decode(&shuffled).unwrap(), frame);
}

#[test]
fn frames_without_t_ignore_it() {
    // HELLO's identity is op 10 alone; like its schema, the decoder ignores a stray `t`.
    for text in [
        r#"{"op":10,"d":{"heartbeat_interval":45000}}"#,
        r#"{"op":10,"t":"READY","d":{"heartbeat_interval":45000}}"#,
        r#"{"d":{"heartbeat_interval":45000},"t":null,"op":10}"#,
    ] {
        let frame = ServerFrame::decode(text).unwrap();
        assert!(matches!(&frame, ServerFrame::Hello(h) if h.d.heartbeat_interval == 45000));
        assert_eq!((frame.op(), frame.t()), (10, None));
    }
    let ack = ServerFrame::decode(r#"{"op":11}"#).unwrap();
    assert_eq!(serde_json::to_string(&ack).unwrap(), r#"{"op":11}"#);
    let invalid = ServerFrame::decode(r#"{"op":9,"d":false}"#).unwrap();
    assert_eq!(
        serde_json::to_string(&invalid).unwrap(),
        r#"{"op":9,"d":false}"#
    );
    let e = ServerFrame::decode(r#"{"op":9,"d":true}"#).unwrap_err();
    assert_eq!(e.kind(), DecodeErrorKind::Invalid { keyword: "const" });
}

#[test]
fn unknown_combinations_and_missing_ops_are_worded_by_the_spec() {
    let unknown = |text: &str| {
        let e = ServerFrame::decode(text).unwrap_err();
        assert_eq!(e.kind(), DecodeErrorKind::UnknownTag, "{text}");
        assert_eq!(e.message(), gateway::ERRORS.unknown_tag);
        e.tag().unwrap().to_owned()
    };
    assert_eq!(
        unknown(r#"{"op":0,"t":"NOPE","s":1,"d":{}}"#),
        "op=0,t=NOPE"
    );
    assert_eq!(unknown(r#"{"op":0,"s":1,"d":{}}"#), "op=0");
    assert_eq!(unknown(r#"{"op":0,"t":null,"s":null,"d":null}"#), "op=0");
    assert_eq!(unknown(r#"{"op":5}"#), "op=5");
    for text in [
        r#"{"t":"READY","s":1,"d":{}}"#,
        r#"{"op":null}"#,
        r#"{"op":[0]}"#,
    ] {
        let e = ServerFrame::decode(text).unwrap_err();
        assert_eq!(e.kind(), DecodeErrorKind::MissingTag, "{text}");
    }
    let e = ClientFrame::decode(r#"{"op":5,"d":{}}"#).unwrap_err();
    assert_eq!(
        (e.kind(), e.tag()),
        (DecodeErrorKind::UnknownTag, Some("5"))
    );
    assert_eq!(e.message(), "Unknown opcode");
    let e = ClientFrame::decode("{\"op\":1").unwrap_err();
    assert_eq!(e.message(), "Decode error");
}

#[test]
fn client_frames_use_integer_tags() {
    let frame = ClientFrame::decode(r#"{"op":1,"d":41}"#).unwrap();
    assert!(matches!(frame, ClientFrame::Heartbeat(ref h) if h.d == Some(Some(41))));
    assert_eq!((frame.op(), frame.tag()), (1, Some("1")));
    // JSON Schema compares numbers by value: 2.0 is op 2.
    let identify = r#"{"d":{"token":"209433342771335169.Yf3kQ9vX2mN7pL0sR8tW1zC4bH6jD5gE3aK9uV2xQ0o"},"op":2.0}"#;
    let frame = ClientFrame::decode(identify).unwrap();
    assert_eq!(frame.op(), 2);
    assert!(
        serde_json::to_string(&frame)
            .unwrap()
            .starts_with(r#"{"op":2,"d":{"token":"#)
    );
    let e = ClientFrame::decode(r#"{"op":2,"d":{"token":"x","intents":1900544}}"#).unwrap_err();
    assert_eq!((e.message(), e.path()), ("Invalid intents", "d.intents"));
    let e = ClientFrame::decode(r#"{"op":2,"d":{}}"#).unwrap_err();
    assert_eq!(e.message(), "Authentication failed");
    assert_eq!(gateway::CLIENT_TAGS.first(), Some(&"1"));
}
