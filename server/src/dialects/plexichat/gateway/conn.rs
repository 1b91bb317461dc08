//! One gateway connection: HELLO, then IDENTIFY or RESUME, heartbeats, and dispatches from the
//! session's hub queue. Close codes as the reference (4001 unknown op, 4002 decode error, 4003
//! not authenticated, 4004 bad token, 4005 second IDENTIFY, 4009 missed heartbeats, 4013 bad
//! intents, 4017 shutdown).

use super::compress::{self, Deflater};
use super::sessions::{GwSession, SessionState, intents};
use crate::core::CoreError;
use crate::core::events::Topic;
use crate::core::ids::SpaceId;
use crate::core::permissions::Permissions;
use crate::core::users::{self, UserKind};
use crate::dialects::PLEXICHAT;
use crate::dialects::plexichat::{Plexichat, ids::wire, tokens};
use crate::hub::{Frame, Kick, SLOW_CONSUMER_CLOSE, Subscriber};
use crate::net::AppState;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use chorus_protocol::de::DecodeErrorKind;
use chorus_protocol::gateway::{self as gw, ClientFrame};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

type Close = (u16, &'static str);

const UNKNOWN_OPCODE: Close = (4001, "Unknown opcode");
const DECODE_ERROR: Close = (4002, "Decode error");
const NOT_AUTHENTICATED: Close = (4003, "Not authenticated");
const AUTHENTICATION_FAILED: Close = (4004, "Authentication failed");
const ALREADY_AUTHENTICATED: Close = (4005, "Already authenticated");
const SESSION_TIMED_OUT: Close = (4009, "Session timed out");
const INVALID_INTENTS: Close = (4013, "Invalid intents");
const SERVER_SHUTDOWN: Close = (4017, "Server shutdown");
const UNKNOWN_ERROR: Close = (4000, "Unknown error");

pub struct Connection {
    st: AppState,
    px: Arc<Plexichat>,
    ws: WebSocket,
    host: String,
}

/// What the frame handlers work on (everything but the socket's read side).
struct Cx {
    px: Arc<Plexichat>,
    st: AppState,
    host: String,
    session: Option<Arc<GwSession>>,
    rx: Option<mpsc::Receiver<Frame>>,
    interval: Duration,
    deadline: tokio::time::Instant,
    /// The outbound zlib stream once IDENTIFY asked for compression.
    deflate: Option<Deflater>,
}

impl Cx {
    /// Sends a frame: TEXT, or a BINARY zlib-stream frame once compression is on.
    async fn send(&mut self, ws: &mut WebSocket, text: Utf8Bytes) -> Result<(), axum::Error> {
        send(ws, &mut self.deflate, text).await
    }
}

async fn send(
    ws: &mut WebSocket,
    deflate: &mut Option<Deflater>,
    text: Utf8Bytes,
) -> Result<(), axum::Error> {
    match deflate {
        Some(z) => {
            ws.send(Message::Binary(z.frame(text.as_bytes()).into()))
                .await
        }
        None => ws.send(Message::Text(text)).await,
    }
}

fn text(s: String) -> Utf8Bytes {
    Utf8Bytes::from(s)
}

impl Connection {
    pub fn new(st: AppState, ws: WebSocket, host: String) -> Self {
        Self {
            px: st.plexichat.clone(),
            st,
            ws,
            host,
        }
    }

    pub async fn run(self) {
        let Connection {
            st,
            px,
            mut ws,
            host,
        } = self;
        let interval = Duration::from_millis(px.config.heartbeat_interval_ms.max(1));
        let mut cx = Cx {
            px: px.clone(),
            st: st.clone(),
            host,
            session: None,
            rx: None,
            interval,
            deadline: tokio::time::Instant::now() + interval * 2,
            deflate: None,
        };
        let hello = format!(
            r#"{{"op":10,"d":{{"heartbeat_interval":{}}}}}"#,
            interval.as_millis()
        );
        if cx.send(&mut ws, text(hello)).await.is_err() {
            return;
        }
        let limit = st.config.websocket.max_message_size;
        let close: Option<Close> = loop {
            let kick = cx.session.as_ref().map(|s| s.kick.clone());
            tokio::select! {
                biased;
                _ = st.shutdown.cancelled() => {
                    if cx.session.is_some() {
                        let status = r#"{"op":12,"d":{"state":"shutting_down","message":"Server is shutting down","closing_in_seconds":2.0}}"#;
                        let _ = cx.send(&mut ws, Utf8Bytes::from_static(status)).await;
                    }
                    break Some(SERVER_SHUTDOWN);
                }
                _ = async { match &kick { Some(k) => k.kicked().await, None => std::future::pending().await } } => {
                    let revoked = cx.session.as_ref().is_some_and(|s| s.revoked.load(std::sync::atomic::Ordering::Acquire));
                    break Some(if revoked { AUTHENTICATION_FAILED } else { SLOW_CONSUMER_CLOSE });
                }
                frame = async { match cx.rx.as_mut() { Some(rx) => rx.recv().await, None => std::future::pending().await } } => {
                    let Some(frame) = frame else { break Some(SLOW_CONSUMER_CLOSE) };
                    let Some(session) = cx.session.clone() else { continue };
                    let mut failed = false;
                    for t in session.absorb(&px, &frame).await {
                        if cx.send(&mut ws, t).await.is_err() {
                            failed = true;
                            break;
                        }
                    }
                    if failed {
                        break None;
                    }
                }
                _ = tokio::time::sleep_until(cx.deadline) => break Some(SESSION_TIMED_OUT),
                msg = ws.recv() => {
                    let result = match msg {
                        Some(Ok(Message::Text(t))) => {
                            if t.len() > limit {
                                Err(DECODE_ERROR)
                            } else {
                                handle(&mut cx, &mut ws, t.as_str()).await
                            }
                        }
                        Some(Ok(Message::Binary(b))) if b.len() > limit => Err(DECODE_ERROR),
                        Some(Ok(Message::Binary(b))) => {
                            // UTF-8 JSON, or one complete zlib message (inflated on its own).
                            let inflated = if compress::is_zlib(&b) {
                                compress::inflate(&b)
                            } else {
                                Some(b.to_vec())
                            };
                            match inflated.as_deref().map(std::str::from_utf8) {
                                Some(Ok(t)) => handle(&mut cx, &mut ws, t).await,
                                _ => Err(DECODE_ERROR),
                            }
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
                        Some(Ok(Message::Close(_))) | None => break None,
                        Some(Err(e)) => {
                            tracing::debug!(error = %e, "gateway read error");
                            break None;
                        }
                    };
                    if let Err(c) = result {
                        break Some(c);
                    }
                }
            }
        };
        if let Some((code, reason)) = close {
            let _ = ws
                .send(Message::Close(Some(CloseFrame {
                    code,
                    reason: Utf8Bytes::from_static(reason),
                })))
                .await;
            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                while let Some(Ok(m)) = ws.recv().await {
                    if matches!(m, Message::Close(_)) {
                        break;
                    }
                }
            })
            .await;
        }
        if let Some(session) = cx.session.take() {
            if px.core.presence.disconnect(&session.user.id) {
                px.statuses.went_offline(&session.user.id);
                publish_presence(&px, &session.user.id, "offline", None, None).await;
            }
            let window = Duration::from_secs(px.config.resume_window_secs);
            match cx.rx.take() {
                Some(rx) if !session.kick.is_kicked() => {
                    px.sessions.detach(session, rx, window, px.core.clone())
                }
                _ => px.sessions.end(&session, &px.core),
            }
        }
    }
}

async fn handle(cx: &mut Cx, ws: &mut WebSocket, input: &str) -> Result<(), Close> {
    let frame = match gw::decode(input) {
        Ok(f) => f,
        Err(e) if e.kind() == DecodeErrorKind::UnknownTag => return Err(UNKNOWN_OPCODE),
        // An out-of-range `intents` is its own close code, not a decode error.
        Err(e)
            if e.path() == "d.intents"
                && matches!(
                    e.kind(),
                    DecodeErrorKind::Invalid {
                        keyword: "minimum" | "maximum"
                    }
                ) =>
        {
            return Err(INVALID_INTENTS);
        }
        Err(_) => return Err(DECODE_ERROR),
    };
    let authed = cx.session.is_some();
    match frame {
        ClientFrame::Heartbeat(_) => {
            cx.deadline = tokio::time::Instant::now() + cx.interval * 2;
            cx.send(ws, Utf8Bytes::from_static(r#"{"op":11}"#))
                .await
                .map_err(|_| UNKNOWN_ERROR)
        }
        ClientFrame::Identify(i) => {
            if authed {
                return Err(ALREADY_AUTHENTICATED);
            }
            identify(cx, ws, i.d).await
        }
        ClientFrame::Resume(r) => {
            if authed {
                return Err(ALREADY_AUTHENTICATED);
            }
            resume(cx, ws, r.d).await
        }
        ClientFrame::TypingStart(gw::TypingStart { d }) => typing(cx, d, true).await,
        ClientFrame::TypingStop(gw::TypingStop { d }) => typing(cx, d, false).await,
        ClientFrame::PresenceUpdate(p) => {
            let Some(session) = &cx.session else {
                return Err(NOT_AUTHENTICATED);
            };
            use gw::PresenceUpdateDataStatus as S;
            let status = match p.d.status {
                S::Online => "online",
                S::Idle => "idle",
                S::Dnd => "dnd",
                // `invisible` is broadcast as `offline`.
                S::Invisible | S::Offline => "offline",
            };
            let (custom_status, custom_emoji) =
                (p.d.custom_status.flatten(), p.d.custom_emoji.flatten());
            cx.px.statuses.set(
                &session.user.id,
                status,
                custom_status.clone(),
                custom_emoji.clone(),
            );
            publish_presence(
                &cx.px,
                &session.user.id,
                status,
                custom_status,
                custom_emoji,
            )
            .await;
            Ok(())
        }
        ClientFrame::RequestGuildMembers(r) => {
            let Some(session) = cx.session.clone() else {
                return Err(NOT_AUTHENTICATED);
            };
            let space = crate::dialects::plexichat::ids::core(&r.d.guild_id).ok_or(DECODE_ERROR)?;
            for chunk in super::members::chunks(&cx.px, &session, &SpaceId(space), &r.d).await {
                cx.send(ws, chunk).await.map_err(|_| UNKNOWN_ERROR)?;
            }
            Ok(())
        }
        ClientFrame::VoiceStateUpdate(_)
        | ClientFrame::VoiceConnect(_)
        | ClientFrame::VoiceDisconnect(_)
        | ClientFrame::VoiceSdpOffer(_)
        | ClientFrame::VoiceSdpAnswer(_)
        | ClientFrame::VoiceIceCandidate(_)
        | ClientFrame::VoiceSpeaking(_)
        | ClientFrame::VoiceQuality(_) => {
            let Some(session) = cx.session.clone() else {
                return Err(NOT_AUTHENTICATED);
            };
            super::voice::handle(&cx.px, &session, frame).await
        }
    }
}

/// PRESENCE_UPDATE to the members of every server of `user`.
pub async fn publish_presence(
    px: &Plexichat,
    user: &crate::core::ids::UserId,
    status: &'static str,
    custom_status: Option<String>,
    custom_emoji: Option<String>,
) {
    let Ok(spaces) = px.db.user_spaces(&user.0).await else {
        return;
    };
    let event = crate::core::events::Event::PresenceChanged {
        user: user.clone(),
        status,
        custom_status,
        custom_emoji,
    };
    for (space, _) in spaces {
        px.core
            .hub()
            .publish_to(Topic::Space(SpaceId(space)), event.clone());
    }
}

/// Typing in a channel the user may send to fans out; anything else is ignored silently.
async fn typing(cx: &mut Cx, d: gw::TypingChannelRef, started: bool) -> Result<(), Close> {
    let Some(session) = &cx.session else {
        return Err(NOT_AUTHENTICATED);
    };
    if let Some(room) = crate::dialects::plexichat::ids::core(&d.channel_id) {
        let _ = crate::dialects::plexichat::rest::messages::publish_typing(
            &cx.px,
            &session.user,
            crate::core::ids::RoomId(room),
            started,
        )
        .await;
    }
    Ok(())
}

async fn identify(cx: &mut Cx, ws: &mut WebSocket, d: gw::IdentifyData) -> Result<(), Close> {
    let px = cx.px.clone();
    let user = match px.core.authenticate(&d.token).await {
        Ok(u) => u,
        Err(CoreError::Unauthorized) => return Err(AUTHENTICATION_FAILED),
        Err(_) => return Err(UNKNOWN_ERROR),
    };
    let intents = d.intents.unwrap_or(intents::DEFAULT);
    if !(0..=intents::ALL).contains(&intents) {
        return Err(INVALID_INTENTS);
    }
    let spaces = px
        .db
        .user_spaces(&user.id.0)
        .await
        .map_err(|_| UNKNOWN_ERROR)?;
    let mut topics = vec![Topic::User(user.id.clone())];
    let mut room_spaces = HashMap::new();
    for (space, _) in &spaces {
        let space = SpaceId(space.clone());
        topics.push(Topic::Space(space.clone()));
        for (room, p) in px
            .core
            .space_rooms(&user.id, &space)
            .await
            .map_err(|_| UNKNOWN_ERROR)?
        {
            if p.contains(Permissions::VIEW_ROOM) {
                topics.push(Topic::Room(room.id.clone()));
                room_spaces.insert(room.id, space.clone());
            }
        }
    }
    let mut private = HashSet::new();
    for room in px
        .core
        .user_private_rooms(&user.id)
        .await
        .map_err(|_| UNKNOWN_ERROR)?
    {
        topics.push(Topic::Room(room.id.clone()));
        private.insert(room.id);
    }
    let hub = px.core.hub().clone();
    let (tx, rx) = mpsc::channel(cx.st.config.websocket.outbound_queue);
    let kick = Arc::new(Kick::default());
    let conn = hub.next_conn_id();
    for t in &topics {
        hub.subscribe(
            t.clone(),
            conn,
            Subscriber {
                dialect: PLEXICHAT,
                tx: tx.clone(),
                kick: kick.clone(),
            },
        );
    }
    let session = Arc::new(GwSession {
        id: tokens::new_gateway_session_id(),
        token_digest: users::token_digest(&d.token),
        intents,
        events_per_minute: px.config.gateway_events_per_minute,
        conn,
        kick,
        revoked: Default::default(),
        tx,
        state: Mutex::new(SessionState::new(
            px.config.replay_buffer,
            topics,
            private,
            room_spaces,
        )),
        user: user.clone(),
    });
    px.sessions.insert(session.clone());
    if px.core.presence.connect(&user.id) {
        px.statuses.set(&user.id, "online", None, None);
        publish_presence(&px, &user.id, "online", None, None).await;
    }
    let uid = wire(&user.id.0);
    let ready = serde_json::json!({
        "v": 10,
        "user": {
            "id": uid,
            "username": user.username,
            "discriminator": "0",
            "avatar": null,
            "bot": user.kind == UserKind::Bot,
        },
        "guilds": spaces.iter().map(|(id, name)| serde_json::json!({
            "id": wire(id), "name": name, "unavailable": false,
        })).collect::<Vec<_>>(),
        "session_id": session.id,
        "resume_gateway_url": format!("ws://{}/gateway", cx.host),
        "application": {"id": uid, "flags": 0},
    });
    let frame = session.dispatch("READY", &ready.to_string());
    cx.session = Some(session);
    cx.rx = Some(rx);
    // HELLO went out plain; READY and everything after it are compressed when asked for.
    if d.compress == Some(true) {
        cx.deflate = Some(Deflater::default());
    }
    cx.send(ws, frame).await.map_err(|_| UNKNOWN_ERROR)
}

async fn resume(cx: &mut Cx, ws: &mut WebSocket, d: gw::ResumeData) -> Result<(), Close> {
    match try_resume(cx, &d).await {
        Some((session, rx, replay)) => {
            let seq = session.lock().seq;
            cx.px.core.presence.connect(&session.user.id);
            cx.session = Some(session);
            cx.rx = Some(rx);
            let resumed = format!(r#"{{"op":0,"t":"RESUMED","s":{seq},"d":{{}}}}"#);
            cx.send(ws, text(resumed))
                .await
                .map_err(|_| UNKNOWN_ERROR)?;
            for f in replay {
                cx.send(ws, f).await.map_err(|_| UNKNOWN_ERROR)?;
            }
            Ok(())
        }
        None => cx
            .send(ws, Utf8Bytes::from_static(r#"{"op":9,"d":false}"#))
            .await
            .map_err(|_| UNKNOWN_ERROR),
    }
}

type Resumed = (Arc<GwSession>, mpsc::Receiver<Frame>, Vec<Utf8Bytes>);

async fn try_resume(cx: &Cx, d: &gw::ResumeData) -> Option<Resumed> {
    let px = &cx.px;
    if d.seq < 0 {
        return None;
    }
    let session = px.sessions.get(&d.session_id)?;
    let user = px.core.authenticate(&d.token).await.ok()?;
    if user.id != session.user.id {
        return None;
    }
    // The old connection may not have noticed its drop yet.
    for _ in 0..40 {
        if !session.lock().attached {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut rx = {
        let mut st = session.lock();
        if st.attached || st.rx.is_none() {
            return None;
        }
        st.attached = true;
        st.rx.take()?
    };
    if session.kick.is_kicked() {
        px.sessions.end(&session, &px.core);
        return None;
    }
    // What arrived while no connection was reading joins the buffer, numbered in order.
    while let Ok(frame) = rx.try_recv() {
        session.absorb(px, &frame).await;
    }
    match session.replay_after(d.seq) {
        Some(replay) => Some((session, rx, replay)),
        None => {
            px.sessions.end(&session, &px.core);
            None
        }
    }
}
