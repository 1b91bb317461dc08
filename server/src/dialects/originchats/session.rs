//! One OriginChats connection: the upgrade at `/`, the handshake, the heartbeat, pre-auth
//! gating and decoding (§1).

use super::frames::{self, auth_error, encode, error};
use super::{Account, OriginChats, conns};
use crate::core::events::Topic;
use crate::core::ids::RoomId;
use crate::dialects::ORIGINCHATS;
use crate::hub::{ConnId, Frame, Kick, Subscriber};
use crate::net::AppState;
use crate::net::ws::{self, Out, Reply, Session};
use axum::extract::{State, WebSocketUpgrade};
use axum::response::Response;
use chorus_protocol::de::DecodeErrorKind;
use chorus_protocol::originchats as proto;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Per-connection state.
pub struct Cx {
    pub conn: ConnId,
    pub tx: mpsc::Sender<Frame>,
    pub kick: Arc<Kick>,
    pub validator_key: String,
    /// Set once authenticated.
    pub account: Option<Account>,
    /// The roles epoch `account` was loaded at.
    pub roles_epoch: u64,
}

impl Cx {
    /// Queues a frame for this connection (after anything queued before it).
    pub fn send(&self, v: &Value) {
        conns::push(&self.tx, &self.kick, encode(v));
    }

    pub fn subscriber(&self) -> Subscriber {
        Subscriber {
            dialect: ORIGINCHATS,
            tx: self.tx.clone(),
            kick: self.kick.clone(),
        }
    }
}

pub struct OcSession {
    pub oc: Arc<OriginChats>,
    pub cx: Cx,
}

/// `GET /` with an upgrade: an OriginChats connection.
pub async fn ws_route(State(st): State<AppState>, ws: WebSocketUpgrade) -> Response {
    let tracker = st.tracker.clone();
    crate::net::configure(ws, &st.config).on_upgrade(move |socket| {
        tracker.track_future(async move {
            let oc = st.originchats.clone();
            oc.ensure_watching().await;
            let hub = oc.core.hub().clone();
            let conn = hub.next_conn_id();
            let (tx, rx) = mpsc::channel(st.config.websocket.outbound_queue);
            let kick = Arc::new(Kick::default());
            oc.conns.insert(conn, tx.clone(), kick.clone());
            spawn_heartbeat(&oc, tx.clone(), kick.clone());
            let session = OcSession {
                cx: Cx {
                    conn,
                    tx,
                    kick: kick.clone(),
                    validator_key: super::validator_key(),
                    account: None,
                    roles_epoch: 0,
                },
                oc,
            };
            ws::run(
                socket,
                session,
                ws::Driver {
                    rx,
                    kick,
                    shutdown: st.shutdown.clone(),
                },
            )
            .await;
        })
    })
}

/// `{"cmd":"ping"}` every heartbeat interval from connect, authenticated or not (§1.7).
fn spawn_heartbeat(oc: &OriginChats, tx: mpsc::Sender<Frame>, kick: Arc<Kick>) {
    let every = oc.heartbeat;
    tokio::spawn(async move {
        let ping = encode(&json!({"cmd": "ping"}));
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            tokio::select! {
                _ = tx.closed() => break,
                _ = tick.tick() => conns::push(&tx, &kick, ping.clone()),
            }
        }
    });
}

impl Session for OcSession {
    async fn open(&mut self, out: &mut Out<'_>) -> Result<i64, axum::Error> {
        out.send(encode(&self.oc.handshake(&self.cx.validator_key)))
            .await?;
        Ok(0)
    }

    async fn text(&mut self, text: &str) -> Reply {
        if self.cx.account.is_none() {
            // Gating before authentication (§1.3): only auth, and login/register in the
            // cracked modes, get through.
            let cmd = serde_json::from_str::<Value>(text)
                .ok()
                .and_then(|v| v.get("cmd").and_then(Value::as_str).map(str::to_owned));
            let allowed = match cmd.as_deref() {
                Some("auth") => true,
                Some("login" | "register") => self.oc.cfg.cracked(),
                _ => false,
            };
            if !allowed {
                // Frames that are not JSON objects get the decode error, as after auth.
                if let Err(e) = proto::decode(text)
                    && matches!(
                        e.kind(),
                        DecodeErrorKind::NotJson | DecodeErrorKind::NotObject
                    )
                {
                    return reply(&error(None, e.message()));
                }
                return reply(&auth_error("Authentication required"));
            }
        }
        // Roles changed since this connection cached them: reload first.
        self.oc.refresh_account(&mut self.cx).await;
        match proto::decode(text) {
            Ok(frame) => proto::dispatch(&*self.oc, &mut self.cx, frame).await,
            Err(e) => {
                let src = match e.kind() {
                    DecodeErrorKind::NotJson
                    | DecodeErrorKind::NotObject
                    | DecodeErrorKind::MissingTag => None,
                    _ => e.tag(),
                };
                // The listener is echoed on errors too, when it can be read.
                let listener = serde_json::from_str::<Value>(text)
                    .ok()
                    .and_then(|v| v.get("listener").and_then(Value::as_str).map(str::to_owned));
                reply(&frames::with_listener(
                    error(src, e.message()),
                    listener.as_deref(),
                ))
            }
        }
    }

    fn binary(&mut self) -> Reply {
        // Binary frames are ignored (§1.1).
        Reply::None
    }

    fn closed(&mut self) {
        let oc = &self.oc;
        let conn = self.cx.conn;
        // bots: a bot's commands leave with its connection (slash_remove to everyone).
        oc.slash_conn_closed(conn);
        if let Some(c) = oc.conns.remove(conn) {
            for room in &c.rooms {
                oc.core.hub().unsubscribe(&Topic::Room(room.clone()), conn);
            }
        }
        if let Some(account) = &self.cx.account {
            // §1.8: a connection in a voice channel leaves it.
            oc.core.voice_session_closed(&account.user.id, conn);
            oc.core
                .hub()
                .unsubscribe(&Topic::User(account.user.id.clone()), conn);
            // Invisible users were never announced, so their leaving is not either.
            if oc.core.presence.disconnect(&account.user.id)
                && !oc.members.is_invisible(&account.user.id)
            {
                oc.conns.send_all(
                    &encode(&json!({"cmd": "user_disconnect", "username": account.user.username})),
                    None,
                );
            }
        }
    }
}

/// A direct reply, written now.
pub fn reply(v: &Value) -> Reply {
    Reply::Now(encode(v))
}

impl OriginChats {
    /// Subscribes connection `cx` to exactly the rooms its user may view now.
    pub async fn refresh_rooms(&self, cx: &Cx) {
        let Some(account) = &cx.account else { return };
        let rooms: HashSet<RoomId> = match self.viewable_rooms(account).await {
            Ok(list) => {
                self.remember_threads(&list).await;
                list.into_iter().map(|c| c.room.id).collect()
            }
            Err(e) => {
                tracing::warn!(error = %e, "originchats: cannot list rooms");
                return;
            }
        };
        let (added, removed) = self.conns.set_rooms(cx.conn, rooms);
        let hub = self.core.hub();
        for r in added {
            hub.subscribe(Topic::Room(r), cx.conn, cx.subscriber());
        }
        for r in removed {
            hub.unsubscribe(&Topic::Room(r), cx.conn);
        }
    }
}
