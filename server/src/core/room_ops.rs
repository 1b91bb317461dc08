//! Room operations: create, update, delete, list, and private-room membership.

use super::events::{Event, Topic};
use super::ids::{RoomId, SpaceId, UserId, now_ms};
use super::operations::Core;
use super::permissions::Permissions;
use super::rooms::{NewRoom, Room, RoomMember, RoomRole};
use super::users::User;
use super::{CoreError, CoreResult};
use crate::hub::Hub;
use std::sync::Arc;

/// Longest room name.
pub const MAX_ROOM_NAME_CHARS: usize = 100;

/// Publishes a room event where its audience listens: a space room to the space, a private
/// room to each member.
fn publish_room_event(hub: &Hub, event: Event, members: &[UserId]) {
    let topic = event.topic();
    if matches!(topic, Topic::Space(_)) {
        hub.publish(event);
    } else {
        for m in members {
            hub.publish_to(Topic::User(m.clone()), event.clone());
        }
    }
}

impl Core {
    /// Creates a room. Space rooms need `MANAGE_ROOMS` in the space (checked on any of its
    /// rooms' defaults: the space-level role permissions); private rooms anyone may create, the
    /// creator becoming their owner.
    pub async fn create_room(&self, actor: &User, new: NewRoom) -> CoreResult<Arc<Room>> {
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > MAX_ROOM_NAME_CHARS {
            return Err(CoreError::Invalid(format!(
                "room name must be 1-{MAX_ROOM_NAME_CHARS} characters"
            )));
        }
        let private = new.kind.is_private();
        let mut position = new.position.unwrap_or(0);
        if let (Some(space), false) = (&new.space_id, private) {
            if !self
                .space_permissions(&actor.id, space)
                .await?
                .contains(Permissions::MANAGE_ROOMS)
            {
                return Err(CoreError::Forbidden("manage_rooms"));
            }
            if new.position.is_none() {
                position = self
                    .store()
                    .space_rooms(space.clone())
                    .await?
                    .iter()
                    .map(|r| r.position + 1)
                    .max()
                    .unwrap_or(0);
            }
        }
        let now = now_ms();
        let room = Room {
            id: RoomId::generate(),
            space_id: new.space_id,
            kind: new.kind,
            name: name.to_owned(),
            topic: new.topic,
            position,
            parent_id: new.parent_id,
            creator_id: Some(actor.id.clone()),
            is_public: new.is_public,
            locked: false,
            archived: false,
            max_members: new.max_members,
            slowmode_seconds: 0,
            created_at: now,
            extra: new.extra.unwrap_or_else(|| serde_json::json!({})),
        };
        let mut members: Vec<RoomMember> = Vec::new();
        if private {
            if !new.members.iter().any(|(u, _)| *u == actor.id) {
                members.push(RoomMember {
                    room_id: room.id.clone(),
                    user_id: actor.id.clone(),
                    role: RoomRole::Owner,
                    can_send: true,
                    joined_at: now,
                });
            }
            for (user, role) in new.members {
                if members.iter().any(|m| m.user_id == user) {
                    continue;
                }
                members.push(RoomMember {
                    room_id: room.id.clone(),
                    user_id: user,
                    role,
                    can_send: true,
                    joined_at: now,
                });
            }
        }
        let audience: Vec<UserId> = members.iter().map(|m| m.user_id.clone()).collect();
        let hub = self.hub().clone();
        let room = self
            .store()
            .create_room(
                room,
                members,
                Some(Box::new(move |r: &Room| {
                    publish_room_event(
                        &hub,
                        Event::RoomCreated {
                            room: Arc::new(r.clone()),
                        },
                        &audience,
                    )
                })),
            )
            .await?;
        self.invalidate_permissions();
        self.audit_channel(
            actor,
            "channel_create",
            &room,
            serde_json::json!({"type": room.kind.as_str()}),
        )
        .await;
        Ok(Arc::new(room))
    }

    /// Stores a changed room (name, topic, position, flags, extra).
    pub async fn update_room(&self, actor: &User, room: Room) -> CoreResult<Arc<Room>> {
        let (before, updated) = self.store_room_update(actor, room).await?;
        let mut changes = Vec::new();
        if updated.name != before.name {
            changes.push("name");
        }
        if updated.topic != before.topic {
            changes.push("topic");
        }
        if updated.position != before.position {
            changes.push("position");
        }
        if updated.extra != before.extra {
            changes.push("settings");
        }
        if (
            updated.locked,
            updated.archived,
            updated.slowmode_seconds,
            updated.is_public,
        ) != (
            before.locked,
            before.archived,
            before.slowmode_seconds,
            before.is_public,
        ) {
            changes.push("flags");
        }
        let mut details = serde_json::json!({"changes": changes});
        if updated.name != before.name {
            details["old_name"] = serde_json::Value::String(before.name.clone());
        }
        self.audit_channel(actor, "channel_update", &updated, details)
            .await;
        Ok(updated)
    }

    /// Stores a changed room without an audit entry of its own (a move logs one for all the
    /// rooms it renumbers); returns the room before and after.
    pub(super) async fn store_room_update(
        &self,
        actor: &User,
        room: Room,
    ) -> CoreResult<(Room, Arc<Room>)> {
        let current = self.manageable_room(actor, &room.id).await?;
        let name = room.name.trim();
        if name.is_empty() || name.chars().count() > MAX_ROOM_NAME_CHARS {
            return Err(CoreError::Invalid(format!(
                "room name must be 1-{MAX_ROOM_NAME_CHARS} characters"
            )));
        }
        let room = Room {
            name: name.to_owned(),
            ..room
        };
        let audience = self.audience(&current).await?;
        let hub = self.hub().clone();
        let updated = self
            .store()
            .update_room(
                room,
                Some(Box::new(move |r: &Room| {
                    publish_room_event(
                        &hub,
                        Event::RoomUpdated {
                            room: Arc::new(r.clone()),
                        },
                        &audience,
                    )
                })),
            )
            .await?;
        self.invalidate_permissions();
        Ok((current, Arc::new(updated)))
    }

    /// Deletes a room and its messages.
    pub async fn delete_room(&self, actor: &User, id: &RoomId) -> CoreResult<Arc<Room>> {
        let current = self.manageable_room(actor, id).await?;
        let audience = self.audience(&current).await?;
        // Its threads go with it (the store cascades); their hub links must go too.
        let threads = self.store().threads(id.clone()).await?;
        let hub = self.hub().clone();
        let gone = self
            .store()
            .delete_room(
                id.clone(),
                Some(Box::new(move |r: &Room| {
                    for t in &threads {
                        hub.unlink(&Topic::Room(t.id.clone()));
                    }
                    publish_room_event(
                        &hub,
                        Event::RoomDeleted {
                            room: Arc::new(r.clone()),
                        },
                        &audience,
                    )
                })),
            )
            .await?;
        self.invalidate_permissions();
        self.audit_channel(
            actor,
            "channel_delete",
            &gone,
            serde_json::json!({"type": gone.kind.as_str()}),
        )
        .await;
        Ok(Arc::new(gone))
    }

    /// Rooms of a space `user` can view, by position, with what the user may do in each.
    pub async fn space_rooms(
        &self,
        user: &UserId,
        space: &SpaceId,
    ) -> CoreResult<Vec<(Room, Permissions)>> {
        let mut out = Vec::new();
        for room in self.store().space_rooms(space.clone()).await? {
            let (room, perms) = self.permissions(user, &room.id).await?;
            if perms.contains(Permissions::VIEW_ROOM) {
                out.push((room, perms));
            }
        }
        Ok(out)
    }

    /// Private rooms (direct, group, broadcast) `user` is a member of.
    pub async fn user_private_rooms(&self, user: &UserId) -> CoreResult<Vec<Room>> {
        Ok(self.store().user_private_rooms(user.clone()).await?)
    }

    pub async fn room_members(&self, room: &RoomId) -> CoreResult<Vec<RoomMember>> {
        Ok(self.store().room_members(room.clone()).await?)
    }

    /// Adds or updates a member of a private room: by its owner, admins or moderators, or by a
    /// user joining a public room themself.
    pub async fn put_room_member(&self, actor: &User, member: RoomMember) -> CoreResult<()> {
        let room = self
            .store()
            .room(member.room_id.clone())
            .await?
            .ok_or(CoreError::NotFound("room"))?;
        if !room.kind.is_private() {
            return Err(CoreError::Invalid("not a private room".into()));
        }
        let own_join =
            member.user_id == actor.id && room.is_public && member.role == RoomRole::Member;
        if !own_join {
            self.require(
                &actor.id,
                &room.id,
                Permissions::MANAGE_MEMBERS,
                "manage_members",
            )
            .await?;
        }
        let existing = self
            .store()
            .room_member(room.id.clone(), member.user_id.clone())
            .await?;
        if existing.is_none()
            && let Some(max) = room.max_members
            && self.store().room_members(room.id.clone()).await?.len() as i64 >= max
        {
            return Err(CoreError::Conflict("the room is full".into()));
        }
        let added = existing.is_none().then(|| member.user_id.clone());
        let hub = self.hub().clone();
        let shared = Arc::new(room);
        self.store()
            .put_room_member(
                member,
                Some(Box::new(move |_: &RoomMember| {
                    if let Some(user) = added {
                        publish_members_changed(&hub, shared, vec![user], Vec::new());
                    }
                })),
            )
            .await?;
        self.invalidate_permissions();
        Ok(())
    }

    /// Removes a member of a private room: by its owner, admins or moderators, or themself.
    pub async fn remove_room_member(
        &self,
        actor: &User,
        room: &RoomId,
        user: &UserId,
    ) -> CoreResult<()> {
        let room_rec = self
            .store()
            .room(room.clone())
            .await?
            .ok_or(CoreError::NotFound("room"))?;
        if *user != actor.id {
            self.require(
                &actor.id,
                room,
                Permissions::MANAGE_MEMBERS,
                "manage_members",
            )
            .await?;
        }
        let hub = self.hub().clone();
        let shared = Arc::new(room_rec);
        let gone = user.clone();
        let removed = self
            .store()
            .remove_room_member(
                room.clone(),
                user.clone(),
                Some(Box::new(move |removed: &bool| {
                    if *removed {
                        publish_members_changed(&hub, shared, Vec::new(), vec![gone]);
                    }
                })),
            )
            .await?;
        self.invalidate_permissions();
        if !removed {
            return Err(CoreError::NotFound("member"));
        }
        Ok(())
    }

    /// What `user` may do at the level of a space (its roles, without room overrides).
    pub async fn space_permissions(
        &self,
        user: &UserId,
        space: &SpaceId,
    ) -> CoreResult<Permissions> {
        let Some(member) = self.store().member(space.clone(), user.clone()).await? else {
            return Ok(Permissions::NONE);
        };
        if self.store().space_owner(space.clone()).await?.as_ref() == Some(user) {
            return Ok(Permissions::ALL);
        }
        let perms = self
            .store()
            .roles(space.clone())
            .await?
            .into_iter()
            .filter(|r| r.is_default || member.roles.contains(&r.id))
            .fold(Permissions::NONE, |acc, r| acc | r.permissions);
        Ok(if perms.contains(Permissions::ADMINISTRATOR) {
            Permissions::ALL
        } else {
            perms
        })
    }

    /// A room `actor` may change or delete.
    async fn manageable_room(&self, actor: &User, id: &RoomId) -> CoreResult<Room> {
        self.require(&actor.id, id, Permissions::MANAGE_ROOMS, "manage_rooms")
            .await
    }

    /// Who hears about changes to a private room (its members); empty for space rooms.
    async fn audience(&self, room: &Room) -> CoreResult<Vec<UserId>> {
        if room.kind.is_private() {
            Ok(self
                .store()
                .room_members(room.id.clone())
                .await?
                .into_iter()
                .map(|m| m.user_id)
                .collect())
        } else {
            Ok(Vec::new())
        }
    }
}

/// `RoomMembersChanged` to the room and to every added or removed user.
fn publish_members_changed(hub: &Hub, room: Arc<Room>, added: Vec<UserId>, removed: Vec<UserId>) {
    let event = Event::RoomMembersChanged {
        room: room.clone(),
        added: added.clone(),
        removed: removed.clone(),
    };
    for u in added.iter().chain(removed.iter()) {
        hub.publish_to(Topic::User(u.clone()), event.clone());
    }
    hub.publish(event);
}
