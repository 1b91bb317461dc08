//! Channel structure (§2.2): the enriched `channels_get` reply, channel_update (a shallow
//! merge that keeps the history of a renamed channel), channel_move (core room positions).
//! Every change is followed by the `channels_get` push of [`super::channel_ops`].

use super::OriginChats;
use super::channels::{Channel, EXTRA_KEY};
use super::frames::{timestamp, with_listener};
use super::messages::{fail, internal, send};
use super::session::Cx;
use super::{Account, threads::thread_json};
use crate::core::CoreError;
use crate::core::CoreResult;
use crate::core::permissions::Permissions;
use crate::core::rooms::{Room, RoomKind};
use crate::net::ws::Reply;
use chorus_protocol::originchats as proto;
use serde_json::{Map, Value, json};

const MANAGE_CHANNELS: &str = "Access denied: 'manage_channels' permission required";

/// A channel's JSON with the `channels_get` extras merged in.
pub fn with_extras(c: &Channel, extras: Map<String, Value>) -> Value {
    let mut v = c.to_json();
    if let Some(o) = v.as_object_mut() {
        o.extend(extras);
    }
    v
}

/// `updates` keys that are not stored as channel extras.
const STRUCTURAL: [&str; 3] = ["name", "type", "description"];

impl OriginChats {
    /// `channels_get`: viewable channels in order; text channels with their newest message,
    /// voice channels with their participants, forums with their threads.
    pub async fn channels_enriched(&self, account: &Account) -> CoreResult<Vec<Value>> {
        let channels = self.viewable_rooms(account).await?;
        let mut out = Vec::with_capacity(channels.len());
        for c in &channels {
            out.push(with_extras(c, self.channel_extras(c).await?));
        }
        Ok(out)
    }

    /// What `channels_get` adds to a channel: the same for every viewer, so a push to many
    /// connections computes it once per channel.
    pub async fn channel_extras(&self, c: &Channel) -> CoreResult<Map<String, Value>> {
        let mut o = Map::new();
        match c.room.kind {
            RoomKind::Voice => {
                o.insert(
                    "voice_state".into(),
                    Value::Array(self.voice_members(&c.room.id)),
                );
            }
            RoomKind::Forum => {
                let threads = self.core.threads_unchecked(&c.room).await?;
                for t in &threads {
                    super::render::CACHE
                        .set_room(t.room.id.clone(), super::threads::thread_place(t));
                }
                o.insert(
                    "threads".into(),
                    Value::Array(threads.iter().map(thread_json).collect()),
                );
            }
            RoomKind::Separator => {}
            _ => {
                let last = self
                    .core
                    .store()
                    .messages_before(c.room.id.clone(), None, 1)
                    .await?
                    .pop();
                o.insert(
                    "last_message".into(),
                    last.as_ref()
                        .map_or(Value::Null, |m| timestamp(m.created_at)),
                );
                o.insert(
                    "last_message_id".into(),
                    last.as_ref()
                        .map_or(Value::Null, |m| Value::String(m.id.0.clone())),
                );
            }
        }
        Ok(o)
    }

    async fn manages_channels(&self, account: &Account) -> bool {
        self.core
            .space_permissions(&account.user.id, &self.space)
            .await
            .is_ok_and(|p| p.contains(Permissions::MANAGE_ROOMS))
    }

    pub async fn channel_update(&self, cx: &mut Cx, r: proto::ChannelUpdate) -> Reply {
        const SRC: &str = "channel_update";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        if !self.manages_channels(&account).await {
            return send(cx, fail(SRC, MANAGE_CHANNELS, l));
        }
        let Some(current) = r.current_name.as_deref().filter(|s| !s.is_empty()) else {
            return send(cx, fail(SRC, "current_name is required", l));
        };
        let Some(updates) = r.updates.as_ref() else {
            return send(cx, fail(SRC, "updates object is required", l));
        };
        let all = match self.all_channels(&account).await {
            Ok(a) => a,
            Err(e) => return send(cx, internal(SRC, e, l)),
        };
        let Some(channel) = all.iter().find(|c| c.room.name == current).cloned() else {
            return send(cx, fail(SRC, "Channel not found", l));
        };
        let kind = match updates.get("type") {
            None => None,
            Some(t) => match t.as_str() {
                Some("text") => Some(RoomKind::Text),
                Some("voice") => Some(RoomKind::Voice),
                Some("separator") => Some(RoomKind::Separator),
                Some("forum") if channel.room.kind == RoomKind::Forum => Some(RoomKind::Forum),
                _ => return send(cx, fail(SRC, "Invalid channel type", l)),
            },
        };
        if kind.is_some_and(|k| k != channel.room.kind)
            && (channel.room.kind == RoomKind::Forum || kind == Some(RoomKind::Forum))
        {
            return send(cx, fail(SRC, "Invalid channel type", l));
        }
        let new_name = match updates.get("name") {
            None => None,
            Some(Value::String(n)) if !n.trim().is_empty() => Some(n.trim().to_owned()),
            Some(_) => return send(cx, fail(SRC, "Failed to update channel", l)),
        };
        if let Some(n) = &new_name
            && *n != channel.room.name
            && all.iter().any(|c| &c.room.name == n)
        {
            return send(cx, fail(SRC, "Channel with new name already exists", l));
        }
        let mut room: Room = channel.room.clone();
        if let Some(n) = new_name {
            room.name = n;
        }
        match updates.get("description") {
            None => {}
            Some(Value::String(d)) => room.topic = Some(d.clone()),
            Some(Value::Null) => room.topic = None,
            Some(other) => room.topic = Some(other.to_string()),
        }
        let mut extra = match room.extra.get(EXTRA_KEY) {
            Some(Value::Object(o)) => o.clone(),
            _ => Map::new(),
        };
        for (k, v) in updates {
            if !STRUCTURAL.contains(&k.as_str()) {
                extra.insert(k.clone(), v.clone());
            }
        }
        if let Some(o) = room.extra.as_object_mut() {
            o.insert(EXTRA_KEY.into(), Value::Object(extra));
        } else {
            room.extra = json!({ EXTRA_KEY: Value::Object(extra) });
        }
        // The room keeps its id: a renamed channel keeps its history.
        let result = match self.core.update_room(&account.user, room).await {
            Ok(updated) => match kind {
                Some(k) if k != updated.kind => {
                    self.core.set_room_kind(&account.user, &updated.id, k).await
                }
                _ => Ok(updated),
            },
            Err(e) => Err(e),
        };
        match result {
            Ok(updated) => {
                let c = Channel {
                    room: (*updated).clone(),
                    perms: channel.perms,
                    lists: None,
                    thread: None,
                };
                cx.send(&with_listener(
                    json!({"cmd": SRC, "channel": c.to_json(), "updated": true}),
                    l,
                ));
                self.push_channels().await;
                // Threads of a renamed forum show up under its new name.
                self.remember_threads(std::slice::from_ref(&c)).await;
                Reply::None
            }
            Err(CoreError::Conflict(_)) => {
                send(cx, fail(SRC, "Channel with new name already exists", l))
            }
            Err(CoreError::Forbidden(_)) => send(cx, fail(SRC, MANAGE_CHANNELS, l)),
            Err(CoreError::Invalid(_) | CoreError::NotFound(_)) => {
                send(cx, fail(SRC, "Failed to update channel", l))
            }
            Err(e) => send(cx, internal(SRC, e, l)),
        }
    }

    pub async fn channel_move(&self, cx: &mut Cx, r: proto::ChannelMove) -> Reply {
        const SRC: &str = "channel_move";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        if !self.manages_channels(&account).await {
            return send(cx, fail(SRC, MANAGE_CHANNELS, l));
        }
        let Some(name) = r.name.as_deref().filter(|s| !s.is_empty()) else {
            return send(cx, fail(SRC, "Channel name is required", l));
        };
        let Some(position) = r.position else {
            return send(cx, fail(SRC, "Position is required", l));
        };
        if position < 0 {
            return send(cx, fail(SRC, "Position must be a non-negative integer", l));
        }
        let all = match self.all_channels(&account).await {
            Ok(a) => a,
            Err(e) => return send(cx, internal(SRC, e, l)),
        };
        let Some(channel) = all.iter().find(|c| c.room.name == name) else {
            return send(
                cx,
                with_listener(
                    json!({"cmd": SRC, "name": name, "position": position, "moved": false}),
                    l,
                ),
            );
        };
        match self
            .core
            .move_room(
                &account.user,
                &self.space,
                &channel.room.id,
                position as usize,
            )
            .await
        {
            Ok(()) => {
                cx.send(&with_listener(
                    json!({"cmd": SRC, "name": name, "position": position, "moved": true}),
                    l,
                ));
                self.push_channels().await;
                Reply::None
            }
            Err(CoreError::Forbidden(_)) => send(cx, fail(SRC, MANAGE_CHANNELS, l)),
            Err(e) => send(cx, internal(SRC, e, l)),
        }
    }
}
