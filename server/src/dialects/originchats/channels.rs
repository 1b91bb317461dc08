//! Channels: the rooms of the space as OriginChats channels, and who may view / send (§4.1.1).
//!
//! A room created through OriginChats carries its permission lists (permission → roles, `!role`
//! denies, first matching role in the user's order wins, no owner bypass) in `rooms.extra`.
//! Rooms without lists (the default `general`, rooms of other dialects) follow the core's
//! permissions.

use super::render::{CACHE, Place};
use super::{Account, OriginChats};
use crate::core::CoreResult;
use crate::core::permissions::Permissions;
use crate::core::rooms::{Room, RoomKind};
use serde_json::{Map, Value, json};

/// The key of `rooms.extra` holding OriginChats-only channel fields (`permissions`,
/// `display_name`, `size`, `icon`, `wallpaper`).
pub const EXTRA_KEY: &str = "originchats";

/// A room the user may view, with what they may do there.
#[derive(Debug, Clone)]
pub struct Channel {
    pub room: Room,
    pub perms: Permissions,
    /// The OriginChats permission lists of the room, when it has them.
    pub lists: Option<Map<String, Value>>,
    /// threads: set when this is a thread context; `room` is then the thread room and
    /// `perms`/`lists` are those of its forum.
    pub thread: Option<std::sync::Arc<crate::core::threads::Thread>>,
}

/// The reference's `DEFAULT_PERMISSIONS`.
pub fn default_lists() -> Map<String, Value> {
    let v = json!({"view":["owner"],"send":["owner"],"delete":["owner"],"delete_own":["user"],
        "edit_own":["user"],"react":["user"],"pin":["owner"],"create_thread":["owner"]});
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// `does_user_have_permission`: the user's roles in order; the first denied role refuses, the
/// first allowed role grants; no match refuses.
pub fn list_allows(lists: &Map<String, Value>, roles: &[String], perm: &str) -> bool {
    let defaults;
    let lists = if lists.is_empty() {
        defaults = default_lists();
        &defaults
    } else {
        lists
    };
    let Some(Value::Array(allowed)) = lists.get(perm) else {
        return false;
    };
    for role in roles {
        for entry in allowed.iter().filter_map(Value::as_str) {
            if let Some(denied) = entry.strip_prefix('!') {
                if denied == role {
                    return false;
                }
            } else if entry == role {
                return true;
            }
        }
    }
    false
}

impl Channel {
    /// Whether the user may do `perm` (an OriginChats channel permission name) here.
    pub fn allows(&self, account: &Account, perm: &str) -> bool {
        if let Some(lists) = &self.lists {
            return list_allows(lists, &account.roles, perm);
        }
        let p = self.perms;
        match perm {
            "view" => p.contains(Permissions::VIEW_ROOM),
            "send" => p.contains(Permissions::SEND_MESSAGES),
            "delete" => p.contains(Permissions::MANAGE_MESSAGES),
            "delete_own" => p.contains(Permissions::DELETE_OWN),
            "edit_own" => p.contains(Permissions::EDIT_OWN),
            "react" => p.contains(Permissions::ADD_REACTIONS),
            "pin" => p.contains(Permissions::PIN_MESSAGES),
            "create_thread" => p.contains(Permissions::CREATE_THREADS),
            _ => false,
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match self.room.kind {
            RoomKind::Voice => "voice",
            RoomKind::Separator => "separator",
            RoomKind::Forum => "forum",
            _ => "text",
        }
    }

    pub fn is_text(&self) -> bool {
        self.kind_name() == "text"
    }

    /// The `channel` of replies and broadcasts: the forum's name for a thread.
    pub fn channel_name(&self) -> &str {
        match &self.thread {
            Some(t) => &t.parent.name,
            None => &self.room.name,
        }
    }

    /// The thread id of a thread context.
    pub fn thread_id(&self) -> Option<&str> {
        self.thread.as_ref().map(|t| t.room.id.as_str())
    }

    /// The channel object of `channels_get` (without enrichment).
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("name".into(), Value::String(self.room.name.clone()));
        o.insert("type".into(), Value::String(self.kind_name().into()));
        if let Some(t) = &self.room.topic {
            o.insert("description".into(), Value::String(t.clone()));
        }
        if let Some(Value::Object(extra)) = self.room.extra.get(EXTRA_KEY) {
            for (k, v) in extra {
                o.insert(k.clone(), v.clone());
            }
        }
        Value::Object(o)
    }
}

impl OriginChats {
    /// The space's rooms that are OriginChats channels (no threads, no private rooms), with the
    /// user's core permissions, in display order.
    pub async fn all_channels(&self, account: &Account) -> CoreResult<Vec<Channel>> {
        let rooms = self.core.space_rooms(&account.user.id, &self.space).await?;
        Ok(rooms
            .into_iter()
            .filter(|(r, _)| {
                matches!(
                    r.kind,
                    RoomKind::Text | RoomKind::Voice | RoomKind::Separator | RoomKind::Forum
                )
            })
            .map(|(room, perms)| {
                let lists = room
                    .extra
                    .get(EXTRA_KEY)
                    .and_then(|o| o.get("permissions"))
                    .and_then(Value::as_object)
                    .cloned();
                Channel {
                    room,
                    perms,
                    lists,
                    thread: None,
                }
            })
            .collect())
    }

    /// The channels `account` may view, in display order (the room-name cache is refreshed).
    pub async fn viewable_rooms(&self, account: &Account) -> CoreResult<Vec<Channel>> {
        let all = self.all_channels(account).await?;
        let mut out = Vec::with_capacity(all.len());
        for c in all {
            CACHE.set_room(
                c.room.id.clone(),
                Place {
                    channel: c.room.name.clone(),
                    thread_id: None,
                },
            );
            if c.allows(account, "view") {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// A channel the user may view, by name (exact).
    pub async fn channel(&self, account: &Account, name: &str) -> CoreResult<Option<Channel>> {
        Ok(self
            .viewable_rooms(account)
            .await?
            .into_iter()
            .find(|c| c.room.name == name))
    }

    /// `channels_get` for `account`.
    pub async fn channels_json(&self, account: &Account) -> CoreResult<Vec<Value>> {
        Ok(self
            .viewable_rooms(account)
            .await?
            .iter()
            .map(Channel::to_json)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    fn roles(r: &[&str]) -> Vec<String> {
        r.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn first_matching_role_wins_and_denies_count() {
        let l = lists(json!({"view": ["!muted", "user"], "send": ["admin"]}));
        assert!(list_allows(&l, &roles(&["user"]), "view"));
        assert!(!list_allows(&l, &roles(&["muted", "user"]), "view"));
        assert!(list_allows(&l, &roles(&["user", "muted"]), "view"));
        assert!(!list_allows(&l, &roles(&["user"]), "send"));
        assert!(!list_allows(&l, &roles(&["user"]), "pin"));
        // Empty lists: the defaults (owner only, but edit_own for users).
        let empty = Map::new();
        assert!(!list_allows(&empty, &roles(&["user"]), "view"));
        assert!(list_allows(&empty, &roles(&["owner"]), "view"));
        assert!(list_allows(&empty, &roles(&["user"]), "edit_own"));
    }
}
