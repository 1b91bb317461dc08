//! Channel structure: room order within a space, and changing a room's kind.

use super::events::Event;
use super::ids::{RoomId, SpaceId};
use super::operations::Core;
use super::permissions::Permissions;
use super::rooms::{Room, RoomKind};
use super::users::User;
use super::{CoreError, CoreResult};
use std::sync::Arc;

impl Core {
    /// Moves `room` to `index` (clamped) in its space's order and renumbers the rooms 0, 1, …
    /// (`MANAGE_ROOMS` in the space). Each room whose position changed is published as
    /// `RoomUpdated`.
    pub async fn move_room(
        &self,
        actor: &User,
        space: &SpaceId,
        room: &RoomId,
        index: usize,
    ) -> CoreResult<()> {
        if !self
            .space_permissions(&actor.id, space)
            .await?
            .contains(Permissions::MANAGE_ROOMS)
        {
            return Err(CoreError::Forbidden("manage_rooms"));
        }
        let mut rooms = self.store().space_rooms(space.clone()).await?;
        let from = rooms
            .iter()
            .position(|r| &r.id == room)
            .ok_or(CoreError::NotFound("room"))?;
        let moved = rooms.remove(from);
        let to = index.min(rooms.len());
        let target = moved.clone();
        rooms.insert(to, moved);
        for (i, r) in rooms.into_iter().enumerate() {
            if r.position != i as i64 {
                let changed = Room {
                    position: i as i64,
                    ..r
                };
                self.store_room_update(actor, changed).await?;
            }
        }
        // One entry for the move, not one per renumbered room.
        self.audit_channel(
            actor,
            "channel_move",
            &target,
            serde_json::json!({"position": to}),
        )
        .await;
        Ok(())
    }

    /// Changes a space room between text, voice and separator (`MANAGE_ROOMS` there).
    pub async fn set_room_kind(
        &self,
        actor: &User,
        room: &RoomId,
        kind: RoomKind,
    ) -> CoreResult<Arc<Room>> {
        let current = self
            .require(&actor.id, room, Permissions::MANAGE_ROOMS, "manage_rooms")
            .await?;
        let movable =
            |k: RoomKind| matches!(k, RoomKind::Text | RoomKind::Voice | RoomKind::Separator);
        if !movable(current.kind) || !movable(kind) {
            return Err(CoreError::Invalid("this room cannot change kind".into()));
        }
        if current.kind == kind {
            return Ok(Arc::new(current));
        }
        let hub = self.hub().clone();
        let updated = self
            .store()
            .set_room_kind(
                room.clone(),
                kind,
                Some(Box::new(move |r: &Room| {
                    hub.publish(Event::RoomUpdated {
                        room: Arc::new(r.clone()),
                    })
                })),
            )
            .await?;
        self.invalidate_permissions();
        Ok(Arc::new(updated))
    }
}
