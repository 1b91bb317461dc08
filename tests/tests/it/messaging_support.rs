//! Messaging test clients: a server with a JWT secret, simplejwt-style tokens, and a client whose
//! every frame is validated twice: against `spec/messaging.yaml` (JSON Schema and the generated
//! decoder) and against the exact key sets of the reference's §1.6/§4.5 (the spec's schema
//! subset cannot say "no other keys", "this shape for a Channel" or "parent_message is a
//! Message", so the shape check does).

use crate::support::{Client, Options, Server, next_text};
use futures_util::SinkExt;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::OnceLock;
use tokio_tungstenite::tungstenite::Message;

pub const SECRET: &str = "messaging-test-secret";

pub fn options() -> Options {
    Options::default().env("CHORUS__MESSAGING__JWT_SECRET", SECRET)
}

pub fn server() -> Server {
    Server::start_with(options())
}

/// A token signed with `secret` carrying `claims`.
pub fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// An access token as simplejwt issues it.
pub fn jwt(user_id: i64, username: &str) -> String {
    sign(
        &json!({"token_type": "access", "exp": 4_102_444_800u64, "iat": 1_700_000_000u64,
            "jti": format!("jti{user_id}"), "user_id": user_id, "username": username}),
        SECRET,
    )
}

fn validators() -> &'static HashMap<&'static str, jsonschema::Validator> {
    static V: OnceLock<HashMap<&'static str, jsonschema::Validator>> = OnceLock::new();
    V.get_or_init(|| {
        let doc: Value =
            serde_json::from_str(chorus_protocol::messaging::SPEC_JSON).expect("spec JSON");
        let mut out = HashMap::new();
        for (tag, pointer) in chorus_protocol::messaging::SERVER_MESSAGES {
            let key: &'static str = if tag.is_empty() {
                match pointer.rsplit('/').nth(1).unwrap() {
                    "SessionHeartbeatReply" => "#heartbeat",
                    "InvalidEventType" => "#invalid",
                    _ => "#error",
                }
            } else {
                tag
            };
            let v =
                chorus_protocol::oracle::validator(&doc, pointer).unwrap_or_else(|e| panic!("{e}"));
            out.insert(key, v);
        }
        out
    })
}

/// Panics unless `text` is a server frame of `spec/messaging.yaml` with the reference's exact
/// shape.
pub fn assert_valid(text: &str) -> Value {
    let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    let key = match v.get("eventType").and_then(Value::as_str) {
        Some(t) => t,
        None if v.get("status").is_some() => "#heartbeat",
        None if v.get("error").is_some_and(Value::is_string) => "#invalid",
        None => "#error",
    };
    let validator = validators()
        .get(key)
        .unwrap_or_else(|| panic!("unknown server frame {key}: {text}"));
    let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "frame violates the spec: {errors:?}\n{text}"
    );
    chorus_protocol::messaging::ServerFrame::decode(text)
        .unwrap_or_else(|e| panic!("generated decoder rejects {text}: {}", e.message()));
    if let Err(e) = shape::frame(&v) {
        panic!("frame has not the reference's shape: {e}\n{text}");
    }
    v
}

/// The exact key sets of the reference (§1.6 frames, §2.3 dispatch data, §4.5 objects).
mod shape {
    use serde_json::Value;

    type R = Result<(), String>;

    fn keys(v: &Value, what: &str, want: &[&str]) -> R {
        let o = v
            .as_object()
            .ok_or_else(|| format!("{what} is not an object: {v}"))?;
        let mut got: Vec<&str> = o.keys().map(String::as_str).collect();
        let mut want = want.to_vec();
        got.sort_unstable();
        want.sort_unstable();
        if got != want {
            return Err(format!("{what} has keys {got:?}, the reference {want:?}"));
        }
        Ok(())
    }

    fn each(v: &Value, what: &str, f: fn(&Value) -> R) -> R {
        v.as_array()
            .ok_or_else(|| format!("{what} is not an array: {v}"))?
            .iter()
            .try_for_each(f)
    }

    /// DRF datetimes: microseconds and `Z`.
    fn datetime(v: &Value, what: &str) -> R {
        let s = v.as_str().unwrap_or_default();
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| r.into_iter().all(|i| b[i].is_ascii_digit());
        let ok = b.len() == 27
            && digits(0..4)
            && b[4] == b'-'
            && digits(5..7)
            && b[7] == b'-'
            && digits(8..10)
            && b[10] == b'T'
            && digits(11..13)
            && b[13] == b':'
            && digits(14..16)
            && b[16] == b':'
            && digits(17..19)
            && b[19] == b'.'
            && digits(20..26)
            && b[26] == b'Z';
        if ok {
            Ok(())
        } else {
            Err(format!("{what} is not a DRF datetime: {v}"))
        }
    }

    fn user(v: &Value) -> R {
        keys(
            v,
            "User",
            &["id", "username", "email", "first_name", "last_name"],
        )
    }

    pub fn message(v: &Value) -> R {
        keys(
            v,
            "Message",
            &[
                "id",
                "room",
                "sender",
                "read_receipts",
                "reactions",
                "attachments",
                "parent_message",
                "forwarded_from",
                "delivered_to",
                "content",
                "is_deleted",
                "created_at",
                "updated_at",
                "is_forwarded",
                "is_edited",
            ],
        )?;
        keys(&v["room"], "Message.room", &["id"])?;
        user(&v["sender"])?;
        datetime(&v["created_at"], "Message.created_at")?;
        datetime(&v["updated_at"], "Message.updated_at")?;
        each(&v["read_receipts"], "read_receipts", |r| {
            keys(r, "ReadReceipt", &["reader", "read_at"])?;
            user(&r["reader"])?;
            datetime(&r["read_at"], "read_at")
        })?;
        each(&v["reactions"], "reactions", |r| {
            keys(
                r,
                "Reaction",
                &["id", "user", "reaction_content", "created_at"],
            )?;
            user(&r["user"])?;
            datetime(&r["created_at"], "Reaction.created_at")
        })?;
        each(&v["attachments"], "attachments", |a| {
            keys(
                a,
                "Attachment",
                &[
                    "id",
                    "media_url",
                    "media_type",
                    "file_size",
                    "mime_type",
                    "caption",
                    "metadata",
                ],
            )
        })?;
        for related in ["parent_message", "forwarded_from"] {
            if !v[related].is_null() {
                message(&v[related])?;
            }
        }
        if !v["parent_message"].is_null() && v["is_forwarded"] == true {
            return Err("a forward that is also a reply".into());
        }
        Ok(())
    }

    const COMMON: &[&str] = &[
        "id",
        "polymorphic_ctype",
        "created_at",
        "updated_at",
        "type",
    ];
    const GROUP: &[&str] = &[
        "creator",
        "name",
        "description",
        "max_participants",
        "avatar",
        "join_approval_required",
        "group_locked",
    ];
    const CHANNEL: &[&str] = &[
        "creator",
        "name",
        "description",
        "is_public",
        "avatar",
        "max_subscribers",
    ];

    fn kind_keys(v: &Value, detail: bool) -> Result<Vec<&'static str>, String> {
        let mut want = COMMON.to_vec();
        let (specific, members): (&[&str], &[&str]) = match v["type"].as_str() {
            Some("OneToOneChat") => (&[], &["participants"]),
            Some("GroupChat") => (GROUP, &["participants", "admins"]),
            Some("Channel") => (CHANNEL, &["subscribers", "moderators"]),
            _ => return Err(format!("unknown room type: {v}")),
        };
        want.extend_from_slice(specific);
        if detail {
            want.extend_from_slice(members);
            want.push("property");
        } else {
            want.push("last_message");
            if v["type"] == "OneToOneChat" {
                want.push("peer");
            }
        }
        Ok(want)
    }

    pub fn room_detail(v: &Value) -> R {
        keys(v, "RoomDetail", &kind_keys(v, true)?)?;
        datetime(&v["created_at"], "RoomDetail.created_at")?;
        datetime(&v["updated_at"], "RoomDetail.updated_at")?;
        for list in ["participants", "subscribers", "admins", "moderators"] {
            if let Some(users) = v.get(list) {
                each(users, list, user)?;
            }
        }
        if let Some(c) = v.get("creator") {
            user(c)?;
        }
        if !v["property"].is_null() {
            keys(&v["property"], "property", &["preferences"])?;
        }
        Ok(())
    }

    fn room_list_item(v: &Value) -> R {
        keys(v, "RoomListItem", &kind_keys(v, false)?)?;
        if let Some(p) = v.get("peer") {
            user(p)?;
        }
        let last = &v["last_message"];
        if last["id"].is_null() {
            // DRF's placeholder for a room without messages.
            keys(
                last,
                "last_message placeholder",
                &[
                    "id",
                    "room_id",
                    "sender_id",
                    "parent_message_id",
                    "forwarded_from_id",
                    "content",
                    "is_deleted",
                    "is_forwarded",
                    "is_edited",
                ],
            )
        } else {
            message(last)
        }
    }

    fn message_or_list(v: &Value) -> R {
        if v.is_array() {
            each(v, "messages", message)
        } else {
            message(v)
        }
    }

    fn data(event: &str, d: &Value) -> R {
        match event {
            "chat.notifications" => {
                let rooms = d.as_object().ok_or("notifications are not an object")?;
                for list in rooms.values() {
                    each(list, "notifications", |n| {
                        keys(
                            n,
                            "ChatNotification",
                            &["id", "message", "notification_type"],
                        )?;
                        message(&n["message"])
                    })?;
                }
                Ok(())
            }
            "message.dispatch" => message(d),
            "messagedelivered.dispatch" => each(d, "delivered", message),
            "readreceipt.dispatch" => message_or_list(d),
            "reaction.dispatch" => {
                if d.get("action").is_some() {
                    keys(d, "reaction remove", &["status", "message", "action"])?;
                } else {
                    keys(d, "reaction add", &["status", "type", "message"])?;
                }
                message(&d["message"])
            }
            "messagetyping.dispatch" => keys(d, "typing", &["username"]),
            "messagemodification.dispatch" => {
                if d["action"] == "delete" {
                    keys(d, "delete", &["status", "action", "message_ids"])
                } else {
                    keys(d, "update", &["status", "action", "message"])?;
                    message(&d["message"])
                }
            }
            "roomcreate.dispatch" | "roominfo.dispatch" | "roomupdate.dispatch" => room_detail(d),
            "roomlist.dispatch" => each(d, "rooms", room_list_item),
            "roommessages.dispatch" => {
                if d.get("page").is_some() {
                    keys(
                        d,
                        "page",
                        &[
                            "has_next",
                            "has_previous",
                            "next_page_number",
                            "prev_page_number",
                            "page",
                            "size",
                            "data",
                        ],
                    )?;
                } else {
                    keys(d, "unpaginated", &["data"])?;
                }
                keys(&d["data"], "page data", &["room_id", "messages"])?;
                each(&d["data"]["messages"], "messages", message)
            }
            "roomaddmembers.dispatch" => {
                keys(d, "added", &["room", "new_members", "added_by"])?;
                room_detail(&d["room"])
            }
            "roomremovemembers.dispatch" => {
                keys(d, "removed", &["room", "removed_members", "removed_by"])?;
                room_detail(&d["room"])
            }
            "roomexit.dispatch" => {
                keys(d, "exit", &["room", "message"])?;
                room_detail(&d["room"])
            }
            "roomdelete.dispatch" => keys(d, "delete", &["room_id"]),
            other => Err(format!("unknown dispatch {other}")),
        }
    }

    pub fn frame(v: &Value) -> R {
        match v.get("eventType").and_then(Value::as_str) {
            // Sent with `self.send`: no `type`.
            Some("chat.notifications") => keys(v, "frame", &["eventType", "data"])?,
            // Everything else goes through the group: `broadcast_group`.
            Some(_) => {
                keys(v, "frame", &["type", "eventType", "data"])?;
                if v["type"] != "broadcast_group" {
                    return Err("group frames have type broadcast_group".into());
                }
            }
            None if v.get("status").is_some() => return keys(v, "heartbeat reply", &["status"]),
            None if v["error"].is_string() => return keys(v, "invalid event type", &["error"]),
            None => {
                keys(v, "error envelope", &["error"])?;
                return keys(&v["error"], "error", &["code", "detail"]);
            }
        }
        data(v["eventType"].as_str().unwrap_or_default(), &v["data"])
    }
}

/// One messaging connection.
pub struct M {
    pub ws: crate::support::Ws,
    /// `chat.notifications` data received on connect.
    pub notifications: Value,
}

impl M {
    /// Connects and reads the `chat.notifications` frame every connect starts with.
    pub async fn connect(server: &Server, token: &str) -> M {
        let mut m = M::connect_silent(server, token).await;
        let first = m.recv().await;
        assert_eq!(
            first["eventType"], "chat.notifications",
            "first frame: {first}"
        );
        m.notifications = first["data"].clone();
        m
    }

    /// Connects without reading anything (notifications switched off, extra listeners).
    pub async fn connect_url(url: &str) -> M {
        M {
            ws: Client::connect(url, &[]).await.ws,
            notifications: Value::Null,
        }
    }

    pub async fn connect_silent(server: &Server, token: &str) -> M {
        M::connect_url(&server.url(&format!("/messaging/?token={token}"))).await
    }

    pub async fn recv(&mut self) -> Value {
        assert_valid(&next_text(&mut self.ws).await)
    }

    pub async fn send(&mut self, event_type: &str, data: Value) {
        let frame = json!({"event_type": event_type, "data": data});
        self.send_text(&frame.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws
            .send(Message::Text(text.into()))
            .await
            .expect("sending");
    }

    /// The next frame, which must be the group dispatch `event`; returns its data.
    pub async fn expect(&mut self, event: &str) -> Value {
        let f = self.recv().await;
        assert_eq!(f["eventType"], event, "expected {event}, got {f}");
        f["data"].clone()
    }

    /// The next frame, which must be the error envelope with `code`; returns its detail.
    pub async fn expect_error(&mut self, code: i64) -> Value {
        let f = self.recv().await;
        assert_eq!(f["error"]["code"], code, "expected error {code}, got {f}");
        f["error"]["detail"].clone()
    }

    /// Sends `event` and returns the detail of the error envelope `code` it must get.
    pub async fn fails(&mut self, event: &str, data: Value, code: i64) -> Value {
        self.send(event, data).await;
        self.expect_error(code).await
    }

    /// Sends `event` and returns the data of the dispatch `reply` it must get first.
    pub async fn ask(&mut self, event: &str, data: Value, reply: &str) -> Value {
        self.send(event, data).await;
        self.expect(reply).await
    }

    /// `room.create` with `data`; the creator and `members` get `roomcreate.dispatch`.
    pub async fn create(&mut self, data: Value, members: &mut [&mut M]) -> Value {
        let room = self.ask("room.create", data, "roomcreate.dispatch").await;
        for m in members.iter_mut() {
            assert_eq!(m.expect("roomcreate.dispatch").await["id"], room["id"]);
        }
        room
    }

    /// `message.send` of `text` in `room`; the sender and `others` get `message.dispatch`.
    pub async fn say(&mut self, room: &Value, text: &str, others: &mut [&mut M]) -> Value {
        let m = self
            .ask(
                "message.send",
                json!({"room_id": room, "content": text}),
                "message.dispatch",
            )
            .await;
        for o in others.iter_mut() {
            assert_eq!(o.expect("message.dispatch").await["id"], m["id"]);
        }
        m
    }

    /// Sends a heartbeat and expects its reply next: proves nothing else was queued before it.
    pub async fn heartbeat(&mut self) {
        self.send("session.heartbeat", json!({})).await;
        let f = self.recv().await;
        assert_eq!(
            f,
            json!({"status": "success"}),
            "expected the heartbeat reply"
        );
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// Every client in `all` gets `event` next; returns what each got.
pub async fn all_get(all: &mut [&mut M], event: &str) -> Vec<Value> {
    let mut out = Vec::with_capacity(all.len());
    for m in all.iter_mut() {
        out.push(m.expect(event).await);
    }
    out
}

/// Nothing is queued for any of `all` (each one's next frame is its heartbeat reply).
pub async fn all_quiet(all: &mut [&mut M]) {
    for m in all.iter_mut() {
        m.heartbeat().await;
    }
}

/// Users 1 (alice), 2 (bob), 3 (carol) by JWT.
pub async fn trio(server: &Server) -> (M, M, M) {
    (
        M::connect(server, &jwt(1, "alice")).await,
        M::connect(server, &jwt(2, "bob")).await,
        M::connect(server, &jwt(3, "carol")).await,
    )
}

/// The usernames of a list of `User`s.
pub fn names(users: &Value) -> Vec<String> {
    users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect()
}

/// The shape check refuses what the schema alone would let through.
#[test]
fn the_shape_check_refuses_extra_keys_and_wrong_room_shapes() {
    let user = json!({"id": 1, "username": "a", "email": "", "first_name": "", "last_name": ""});
    let room = json!({"id": "6b1d1f6e-8a8e-4c39-9a55-0d4b2bbf7a10", "participants": [user],
        "property": {"preferences": {}}, "polymorphic_ctype": 11,
        "created_at": "2026-01-01T12:00:00.123456Z", "updated_at": "2026-01-01T12:00:00.123456Z",
        "type": "OneToOneChat"});
    let frame = |data: &Value| json!({"type": "broadcast_group", "eventType": "roominfo.dispatch", "data": data});
    assert!(shape::frame(&frame(&room)).is_ok());
    let mut extra = room.clone();
    extra["name"] = json!("a OneToOneChat has no name");
    assert!(shape::frame(&frame(&extra)).is_err());
    let mut millis = room.clone();
    millis["created_at"] = json!("2026-01-01T12:00:00.123Z");
    assert!(shape::frame(&frame(&millis)).is_err());
    let mut untyped = frame(&room);
    untyped.as_object_mut().unwrap().remove("type");
    assert!(shape::frame(&untyped).is_err());
    assert!(shape::frame(&json!({"error": {"code": 4004, "detail": "x"}, "type": "x"})).is_err());
}
