//! Channel management (§2.2): channel_create, channel_delete, and the `channels_get` pushed to
//! every client after a change (the reference's file watcher never fires on Linux).

use super::OriginChats;
use super::channels::{EXTRA_KEY, default_lists};
use super::frames::{encode, with_listener};
use super::messages::{fail, internal, send};
use super::render::CACHE;
use super::session::Cx;
use crate::core::CoreError;
use crate::core::events::Topic;
use crate::core::ids::RoomId;
use crate::core::permissions::Permissions;
use crate::core::rooms::{NewRoom, RoomKind};
use crate::dialects::ORIGINCHATS;
use crate::hub::Subscriber;
use crate::net::ws::Reply;
use chorus_protocol::originchats as proto;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

const MANAGE_CHANNELS: &str = "Access denied: 'manage_channels' permission required";

impl OriginChats {
    async fn can_manage_channels(&self, cx: &Cx) -> bool {
        let Some(a) = &cx.account else { return false };
        self.core
            .space_permissions(&a.user.id, &self.space)
            .await
            .is_ok_and(|p| p.contains(Permissions::MANAGE_ROOMS))
    }

    /// Re-subscribes every authenticated connection to the rooms it may view now and pushes
    /// each its `channels_get`, enriched as the reply (the official client replaces its list
    /// with whatever `channels_get` brings).
    pub async fn push_channels(&self) {
        let mut extras: HashMap<RoomId, Map<String, Value>> = HashMap::new();
        for (conn, user) in self.conns.authenticated() {
            let Ok(account) = self.account_by_id(&user).await else {
                continue;
            };
            let Ok(channels) = self.viewable_rooms(&account).await else {
                continue;
            };
            let Some((tx, kick)) = self.conns.handle(conn) else {
                continue;
            };
            let rooms = channels.iter().map(|c| c.room.id.clone()).collect();
            let (added, removed) = self.conns.set_rooms(conn, rooms);
            let hub = self.core.hub();
            for r in added {
                hub.subscribe(
                    Topic::Room(r),
                    conn,
                    Subscriber {
                        dialect: ORIGINCHATS,
                        tx: tx.clone(),
                        kick: kick.clone(),
                    },
                );
            }
            for r in removed {
                hub.unsubscribe(&Topic::Room(r), conn);
            }
            let mut val = Vec::with_capacity(channels.len());
            for c in &channels {
                if !extras.contains_key(&c.room.id) {
                    // A failed lookup leaves the channel plain rather than out of the list.
                    let e = self.channel_extras(c).await.unwrap_or_default();
                    extras.insert(c.room.id.clone(), e);
                }
                val.push(super::channel_more::with_extras(
                    c,
                    extras[&c.room.id].clone(),
                ));
            }
            super::conns::push(
                &tx,
                &kick,
                encode(&json!({"cmd": "channels_get", "val": val})),
            );
        }
    }

    pub async fn channel_create(&self, cx: &mut Cx, r: proto::ChannelCreate) -> Reply {
        const SRC: &str = "channel_create";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        if !self.can_manage_channels(cx).await {
            return send(cx, fail(SRC, MANAGE_CHANNELS, l));
        }
        let Some(name) = r.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) else {
            return send(cx, fail(SRC, "Channel name is required", l));
        };
        let Some(kind) = r.r#type.as_ref() else {
            return send(
                cx,
                fail(
                    SRC,
                    "Channel type is required (text, voice, or separator)",
                    l,
                ),
            );
        };
        let kind = match serde_json::to_value(kind)
            .ok()
            .as_ref()
            .and_then(Value::as_str)
        {
            Some("text") => RoomKind::Text,
            Some("voice") => RoomKind::Voice,
            Some("separator") => RoomKind::Separator,
            // Chorus extension: forums can be created (the reference only has channels.json).
            Some("forum") => RoomKind::Forum,
            _ => {
                return send(
                    cx,
                    fail(
                        SRC,
                        "Invalid channel type, must be text, voice, or separator",
                        l,
                    ),
                );
            }
        };
        let mut lists = Map::new();
        match &r.permissions {
            Some(p) => {
                for (k, v) in p {
                    if !v.is_empty() {
                        lists.insert(k.clone(), json!(v));
                    }
                }
            }
            None => lists = default_lists(),
        }
        let mut extra = Map::new();
        extra.insert("permissions".into(), Value::Object(lists));
        if let Some(d) = &r.display_name {
            extra.insert("display_name".into(), Value::String(d.clone()));
        }
        if let (Some(size), RoomKind::Separator) = (r.size, kind) {
            extra.insert("size".into(), json!(size));
        }
        let new = NewRoom {
            space_id: Some(self.space.clone()),
            kind,
            name: name.to_owned(),
            topic: r.description.clone(),
            parent_id: None,
            position: None,
            is_public: true,
            max_members: None,
            members: Vec::new(),
            extra: Some(json!({ EXTRA_KEY: Value::Object(extra) })),
        };
        match self.core.create_room(&account.user, new).await {
            Ok(room) => {
                let channel = super::channels::Channel {
                    room: (*room).clone(),
                    perms: Permissions::NONE,
                    lists: None,
                    thread: None,
                };
                cx.send(&with_listener(
                    json!({"cmd": SRC, "channel": channel.to_json(), "created": true}),
                    l,
                ));
                self.push_channels().await;
                Reply::None
            }
            Err(CoreError::Conflict(_)) => send(cx, fail(SRC, "Channel already exists", l)),
            Err(CoreError::Forbidden(_)) => send(cx, fail(SRC, MANAGE_CHANNELS, l)),
            Err(CoreError::Invalid(_)) => send(cx, fail(SRC, "Failed to create channel", l)),
            Err(e) => send(cx, internal(SRC, e, l)),
        }
    }

    pub async fn channel_delete(&self, cx: &mut Cx, r: proto::ChannelDelete) -> Reply {
        const SRC: &str = "channel_delete";
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        if !self.can_manage_channels(cx).await {
            return send(cx, fail(SRC, MANAGE_CHANNELS, l));
        }
        let Some(name) = r.name.as_deref().filter(|n| !n.is_empty()) else {
            return send(cx, fail(SRC, "Channel name is required", l));
        };
        let all = match self.all_channels(&account).await {
            Ok(a) => a,
            Err(e) => return send(cx, internal(SRC, e, l)),
        };
        let found = all
            .iter()
            .find(|c| c.room.name == name)
            .or_else(|| all.iter().find(|c| c.room.name.eq_ignore_ascii_case(name)));
        let Some(channel) = found else {
            return send(cx, fail(SRC, "Channel not found", l));
        };
        match self.core.delete_room(&account.user, &channel.room.id).await {
            Ok(room) => {
                cx.send(&with_listener(
                    json!({"cmd": SRC, "name": room.name, "deleted": true}),
                    l,
                ));
                CACHE.forget_room(&room.id);
                self.push_channels().await;
                Reply::None
            }
            Err(CoreError::Forbidden(_)) => send(cx, fail(SRC, MANAGE_CHANNELS, l)),
            Err(e) => send(cx, internal(SRC, e, l)),
        }
    }
}
