//! Voice (§2.5): voice_join, voice_leave, voice_mute, voice_unmute, voice_state. Participants
//! live in the core's voice rooms (Plexichat's voice channels too); its `VoiceChanged` events
//! become voice_user_joined / _left / _updated for every connection that can view the channel
//! (the actor included, no `global` key, as in the reference). Only peer ids are exchanged; a
//! participant that joined over Plexichat has none, so it is shown without `peer_id`.

use super::channels::Channel;
use super::frames::with_listener;
use super::messages::{fail, internal, send};
use super::session::Cx;
use super::{Account, OriginChats};
use crate::core::ids::RoomId;
use crate::core::messages::UserRef;
use crate::core::rooms::RoomKind;
use crate::core::voice::{VoiceChange, VoiceParticipant};
use crate::net::ws::Reply;
use chorus_protocol::originchats as proto;
use serde_json::{Value, json};

const NOT_IN_VOICE: &str = "You are not in a voice channel";
const GONE: &str = "Voice channel no longer exists";
const NOT_IN_THIS: &str = "You are not in this voice channel";

/// `{"id","username","muted","peer_id"?}`, with the peer id when `with_peer` and it has one.
fn participant_json(p: &VoiceParticipant, with_peer: bool) -> Value {
    let mut v = json!({"id": p.user.id.as_str(), "username": p.user.username,
        "muted": p.flags.self_mute});
    if let (true, Some(peer), Some(o)) = (with_peer, &p.peer_id, v.as_object_mut()) {
        o.insert("peer_id".into(), Value::String(peer.clone()));
    }
    v
}

/// The broadcast frame of a voice change in `channel`.
pub fn voice_event(channel: &str, p: &VoiceParticipant, change: VoiceChange) -> Value {
    let user = participant_json(p, true);
    match change {
        VoiceChange::Joined => {
            json!({"cmd": "voice_user_joined", "channel": channel, "user": user})
        }
        VoiceChange::Updated => {
            json!({"cmd": "voice_user_updated", "channel": channel, "user": user})
        }
        VoiceChange::Left => {
            json!({"cmd": "voice_user_left", "channel": channel, "username": p.user.username})
        }
    }
}

impl OriginChats {
    /// `voice_state` of `channels_get`: every participant of a voice room.
    pub fn voice_members(&self, room: &RoomId) -> Vec<Value> {
        self.core
            .voice
            .participants(room)
            .iter()
            .map(|p| json!({"username": p.user.username, "muted": p.flags.self_mute}))
            .collect()
    }

    /// The voice channel of voice_join / voice_state, or the error reply.
    async fn voice_channel(
        &self,
        cx: &Cx,
        account: &Account,
        name: Option<&str>,
        src: &str,
        l: Option<&str>,
    ) -> Result<Channel, Reply> {
        let Some(name) = name.filter(|s| !s.is_empty()) else {
            return Err(send(cx, fail(src, "Channel name is required", l)));
        };
        let found = match self.find_channel(cx, name).await {
            Ok(c) => c,
            Err(e) => return Err(send(cx, internal(src, e, l))),
        };
        let Some(c) = found.filter(|c| c.allows(account, "view")) else {
            return Err(send(
                cx,
                fail(
                    src,
                    "You do not have permission to access this voice channel",
                    l,
                ),
            ));
        };
        if c.room.kind != RoomKind::Voice {
            return Err(send(cx, fail(src, "This is not a voice channel", l)));
        }
        Ok(c)
    }

    /// The caller's voice channel (joined from this connection), or the error reply.
    async fn my_voice(
        &self,
        cx: &Cx,
        src: &str,
        l: Option<&str>,
    ) -> Result<(Account, String), Reply> {
        let Some(account) = cx.account.clone() else {
            return Err(Reply::None);
        };
        let Some(p) = self.core.voice.current(&account.user.id) else {
            return Err(send(cx, fail(src, NOT_IN_VOICE, l)));
        };
        let channel = match self.all_channels(&account).await {
            Ok(all) => all.into_iter().find(|c| c.room.id == p.room_id),
            Err(e) => return Err(send(cx, internal(src, e, l))),
        };
        let Some(channel) = channel else {
            // The channel was deleted under the participant: let go of the stale entry.
            self.core.voice_leave(&account.user.id).await;
            return Err(send(cx, fail(src, GONE, l)));
        };
        if p.session != cx.conn {
            return Err(send(cx, fail(src, NOT_IN_THIS, l)));
        }
        Ok((account, channel.room.name))
    }

    pub async fn voice_join(&self, cx: &mut Cx, r: proto::VoiceJoin) -> Reply {
        const SRC: &str = "voice_join";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        let Some(peer_id) = r.peer_id.clone().filter(|s| !s.is_empty()) else {
            return send(cx, fail(SRC, "Peer ID is required", l));
        };
        let channel = match self
            .voice_channel(cx, &account, r.channel.as_deref(), SRC, l)
            .await
        {
            Ok(c) => c,
            Err(reply) => return reply,
        };
        let others: Vec<Value> = self
            .core
            .voice
            .participants(&channel.room.id)
            .into_iter()
            .filter(|p| p.user.id != account.user.id)
            .map(|p| {
                let mut v = participant_json(&p, true);
                if let Some(o) = v.as_object_mut() {
                    o.remove("id");
                }
                v
            })
            .collect();
        let user = UserRef {
            id: account.user.id.clone(),
            username: account.user.username.clone(),
        };
        let space = channel.room.space_id.clone();
        let mut me = VoiceParticipant::new(user, channel.room.id.clone(), space, cx.conn);
        me.peer_id = Some(peer_id);
        // voice_user_joined reaches the viewers (the caller too) before this reply.
        self.core.voice_join(me).await;
        send(
            cx,
            with_listener(
                json!({"cmd": SRC, "channel": channel.room.name, "participants": others}),
                l,
            ),
        )
    }

    pub async fn voice_leave(&self, cx: &mut Cx, r: proto::VoiceLeave) -> Reply {
        const SRC: &str = "voice_leave";
        let l = r.listener.as_deref();
        let (account, channel) = match self.my_voice(cx, SRC, l).await {
            Ok(v) => v,
            Err(reply) => return reply,
        };
        self.core.voice_leave(&account.user.id).await;
        send(
            cx,
            with_listener(json!({"cmd": SRC, "channel": channel}), l),
        )
    }

    pub async fn voice_set_mute(&self, cx: &mut Cx, muted: bool, l: Option<&str>) -> Reply {
        let src = if muted { "voice_mute" } else { "voice_unmute" };
        let (account, channel) = match self.my_voice(cx, src, l).await {
            Ok(v) => v,
            Err(reply) => return reply,
        };
        if self
            .core
            .voice_set_flags(&account.user.id, |f| f.self_mute = muted)
            .await
            .is_none()
        {
            return send(cx, fail(src, NOT_IN_VOICE, l));
        }
        send(
            cx,
            with_listener(json!({"cmd": src, "channel": channel, "muted": muted}), l),
        )
    }

    pub async fn voice_state(&self, cx: &mut Cx, r: proto::VoiceState) -> Reply {
        const SRC: &str = "voice_state";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        let channel = match self
            .voice_channel(cx, &account, r.channel.as_deref(), SRC, l)
            .await
        {
            Ok(c) => c,
            Err(reply) => return reply,
        };
        let all = self.core.voice.participants(&channel.room.id);
        // Peer ids only for participants.
        let inside = all.iter().any(|p| p.user.id == account.user.id);
        let list: Vec<Value> = all.iter().map(|p| participant_json(p, inside)).collect();
        send(
            cx,
            with_listener(
                json!({"cmd": SRC, "channel": channel.room.name, "participants": list}),
                l,
            ),
        )
    }
}
