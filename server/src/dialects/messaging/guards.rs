//! Id parsing and the original's permission predicates (`permissions/helper_mixins.py`).

use super::Messaging;
use super::db::{self, MsgRow};
use super::errors::{Fail, Res};
use super::render::role_of;
use crate::core::ids::{RoomId, UserId};
use crate::core::rooms::{Room, RoomKind, RoomRole};
use serde_json::Value;

pub const NOT_MEMBER: &str = "User is not authorized access this room";
pub const NO_MESSAGE_ACCESS: &str = "User is not authorized to access this message";
pub const CANNOT_SEND: &str = "User is not authorized to send message to this room";

#[derive(Clone, Debug)]
pub struct Member {
    pub id: UserId,
    pub username: String,
    pub role: RoomRole,
}

impl Member {
    pub fn staff(&self) -> bool {
        matches!(self.role, RoomRole::Owner | RoomRole::Admin)
    }
}

/// Django's UUID parsing: any accepted spelling, canonical lowercase hyphenated form.
pub fn uuid(s: &str) -> Res<String> {
    uuid::Uuid::parse_str(s.trim())
        .map(|u| u.to_string())
        .map_err(|_| Fail::invalid(format!("“{s}” is not a valid UUID.")))
}

impl Messaging {
    /// A messaging room by `room_id` (str or int).
    pub async fn find_room(&self, v: &Value) -> Res<Room> {
        let id = match v {
            Value::String(s) => uuid(s)?,
            Value::Number(_) => return Err(Fail::NotFound),
            _ => return Err(Fail::invalid("Invalid room_id type")),
        };
        match self.core.store().room(RoomId(id)).await? {
            Some(r) if r.kind.is_private() => Ok(r),
            _ => Err(Fail::NotFound),
        }
    }

    pub async fn members(&self, room: &RoomId) -> Res<Vec<Member>> {
        Ok(db::members(self.store.read_pool(), &room.0)
            .await?
            .into_iter()
            .map(|(id, username, _, role, _)| Member {
                id: UserId(id),
                username,
                role: role_of(&role),
            })
            .collect())
    }

    /// `can_access_room`: the room, its members and the requester's membership.
    pub async fn room_access(&self, user: &UserId, v: &Value) -> Res<(Room, Vec<Member>)> {
        let room = self.find_room(v).await?;
        let members = self.members(&room.id).await?;
        if !members.iter().any(|m| &m.id == user) {
            return Err(Fail::Permission(NOT_MEMBER));
        }
        Ok((room, members))
    }

    /// `_have_send_message_permission` for a room the caller already loaded.
    pub async fn check_send(&self, user: &UserId, room: &Room, members: &[Member]) -> Res<()> {
        let Some(me) = members.iter().find(|m| &m.id == user) else {
            return Err(Fail::Permission(CANNOT_SEND));
        };
        let creator = room.creator_id.as_ref() == Some(user);
        let ok = match room.kind {
            RoomKind::Broadcast => {
                creator
                    || me.staff()
                    || db::perms(self.store.read_pool(), &room.id.0, &user.0)
                        .await?
                        .iter()
                        .any(|p| p == "can_send_messages")
            }
            RoomKind::Group => {
                !room
                    .extra
                    .get("group_locked")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
                    || creator
                    || me.staff()
            }
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(Fail::Permission(CANNOT_SEND))
        }
    }

    /// `_have_message_permission`: every id exists, is not soft-deleted, and is in a room the
    /// user belongs to. Returns the messages in request order (de-duplicated).
    pub async fn accessible_messages(&self, user: &UserId, ids: &[String]) -> Res<Vec<MsgRow>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let row = match db::message(self.store.read_pool(), id).await? {
                Some(r) if !r.deleted => r,
                _ => return Err(Fail::NotFound),
            };
            let members = db::members(self.store.read_pool(), &row.room_id).await?;
            if !members.iter().any(|m| m.0 == user.0) {
                return Err(Fail::Permission(NO_MESSAGE_ACCESS));
            }
            out.push(row);
        }
        Ok(out)
    }
}

/// `message_id`: a str, an int or a list of them; de-duplicated; ints never match a UUID.
pub fn message_ids(v: &Value) -> Res<Vec<String>> {
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for it in items {
        let id = match it {
            Value::String(s) => uuid(s)?,
            // Coerced to a UUID by Django: never an existing message.
            Value::Number(n) => format!("int:{n}"),
            _ => return Err(Fail::invalid("Invalid message_id type")),
        };
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}
