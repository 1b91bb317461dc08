//! Voice signalling (ops 4 and 20–26, §1.10). Voice rooms are the core's (in memory, shared with
//! OriginChats' voice channels); VOICE_STATE_UPDATE dispatches come from its events. Chorus has no SFU: offers, answers, ICE candidates
//! and speaking flags are relayed to the other sessions in the sender's voice channel (to
//! `target_user_id` only, when given), as op 22–25 frames without a sequence number.

use super::render;
use super::sessions::GwSession;
use crate::core::ids::{RoomId, UserId};
use crate::core::voice::VoiceFlags;
use crate::dialects::plexichat::{Plexichat, ids};
use crate::hub::Frame;
use chorus_protocol::gateway::{self as gw, ClientFrame};
use serde::Serialize;

type Close = (u16, &'static str);
const DECODE_ERROR: Close = (4002, "Decode error");

fn room(channel: &str) -> Option<RoomId> {
    ids::core(channel).map(RoomId)
}

/// Handles a voice op of an identified session. Failures the reference only logs (unknown or
/// forbidden channel, not in voice) are ignored; a `d` it cannot use closes with 4002.
pub async fn handle(px: &Plexichat, session: &GwSession, frame: ClientFrame) -> Result<(), Close> {
    let me = &session.user;
    match frame {
        ClientFrame::VoiceStateUpdate(gw::VoiceStateUpdate { d }) => {
            let flags = VoiceFlags {
                self_mute: d.self_mute.unwrap_or(false),
                self_deaf: d.self_deaf.unwrap_or(false),
                self_video: d.self_video.unwrap_or(false),
                self_stream: d.self_stream.unwrap_or(false),
            };
            match d.channel_id {
                None => leave(px, session).await,
                Some(channel) => {
                    let target = room(&channel).ok_or(DECODE_ERROR)?;
                    if current(px, &me.id, None).as_ref() == Some(&target) {
                        px.core.voice_set_flags(&me.id, |f| *f = flags).await;
                    } else {
                        // A refused join is only logged by the reference.
                        let _ = px
                            .core
                            .voice_join_checked(me, &target, flags, session.conn)
                            .await;
                    }
                }
            }
        }
        ClientFrame::VoiceConnect(gw::VoiceConnect { d }) => {
            let target = room(&d.channel_id).ok_or(DECODE_ERROR)?;
            let here = px.core.voice.current(&me.id);
            if here.as_ref().map(|p| &p.room_id) == Some(&target) {
                // Already there: the state is announced again, unchanged.
                px.core.voice_set_flags(&me.id, |_| {}).await;
            } else {
                let flags = here.map(|p| p.flags).unwrap_or_default();
                let _ = px
                    .core
                    .voice_join_checked(me, &target, flags, session.conn)
                    .await;
            }
        }
        ClientFrame::VoiceDisconnect(_) => leave(px, session).await,
        ClientFrame::VoiceSdpOffer(gw::VoiceSdpOffer { d }) => {
            let to = d.target_user_id.as_deref();
            if let Some(channel) = current(px, &me.id, Some(&d.channel_id)) {
                relay(px, &me.id, &channel, to, 22, &sdp(&me.id, &channel, d.sdp));
            }
        }
        ClientFrame::VoiceSdpAnswer(gw::VoiceSdpAnswer { d }) => {
            let to = d.target_user_id.as_deref();
            if let Some(channel) = current(px, &me.id, d.channel_id.as_deref()) {
                relay(px, &me.id, &channel, to, 23, &sdp(&me.id, &channel, d.sdp));
            }
        }
        ClientFrame::VoiceIceCandidate(gw::VoiceIceCandidate { d }) => {
            let to = d.target_user_id.as_deref();
            if let Some(channel) = current(px, &me.id, Some(&d.channel_id)) {
                let data = gw::VoiceIceRelayData {
                    user_id: ids::wire(&me.id.0),
                    channel_id: ids::wire(&channel.0),
                    candidate: d.candidate,
                    sdp_mid: d.sdp_mid.flatten(),
                    sdp_mline_index: d.sdp_mline_index.flatten(),
                };
                relay(px, &me.id, &channel, to, 24, &data);
            }
        }
        ClientFrame::VoiceSpeaking(gw::VoiceSpeaking { d }) => {
            // The reference refuses an empty `d` (Python falsiness).
            let empty = match &d {
                serde_json::Value::Null => true,
                serde_json::Value::Bool(b) => !b,
                serde_json::Value::Number(n) => n.as_f64() == Some(0.0),
                serde_json::Value::String(s) => s.is_empty(),
                serde_json::Value::Array(a) => a.is_empty(),
                serde_json::Value::Object(o) => o.is_empty(),
            };
            if empty {
                return Err(DECODE_ERROR);
            }
            if let Some(channel) = current(px, &me.id, None) {
                let data = gw::VoiceSpeakingRelayData {
                    user_id: ids::wire(&me.id.0),
                    channel_id: ids::wire(&channel.0),
                    speaking: d,
                };
                relay(px, &me.id, &channel, None, 25, &data);
            }
        }
        // A quality hint for an SFU Chorus does not have.
        ClientFrame::VoiceQuality(_) => {}
        _ => {}
    }
    Ok(())
}

async fn leave(px: &Plexichat, session: &GwSession) {
    px.core.voice_leave(&session.user.id).await;
}

fn sdp(user: &UserId, channel: &RoomId, sdp: String) -> gw::VoiceSdpRelayData {
    gw::VoiceSdpRelayData {
        user_id: ids::wire(&user.0),
        channel_id: ids::wire(&channel.0),
        sdp,
    }
}

/// The voice room `user` is in, if it is `named` (or any, when no channel is named).
fn current(px: &Plexichat, user: &UserId, named: Option<&str>) -> Option<RoomId> {
    let room = px.core.voice.current(user)?.room_id;
    match named {
        Some(n) if ids::core(n).as_deref() != Some(room.0.as_str()) => None,
        _ => Some(room),
    }
}

/// Queues `{"op":op,"d":data}` for every session of the other participants of `channel` (only
/// `to`'s, when given).
fn relay<T: Serialize>(
    px: &Plexichat,
    from: &UserId,
    channel: &RoomId,
    to: Option<&str>,
    op: i64,
    data: &T,
) {
    let Ok(d) = serde_json::to_string(data) else {
        return;
    };
    let frame = render::raw(&format!(r#"{{"op":{op},"d":{d}}}"#));
    let to = to.and_then(ids::core);
    let present: Vec<UserId> = px
        .core
        .voice
        .participants(channel)
        .into_iter()
        .map(|p| p.user.id)
        .filter(|u| u != from && to.as_ref().is_none_or(|t| *t == u.0))
        .collect();
    for s in px.sessions.all() {
        if present.contains(&s.user.id) && s.lock().attached {
            let _ = s.tx.try_send(Frame {
                text: frame.clone(),
                created_seq: 0,
            });
        }
    }
}
