//! Read state: where each user has read up to in each room (the `read_states` table), unread
//! counts, and read receipts (`ReadStateChanged`).

use super::events::Event;
use super::ids::{MessageId, RoomId, UserId, now_ms};
use super::messages::{ReadState, UserRef};
use super::permissions::Permissions;
use super::users::User;
use super::{Core, CoreError, CoreResult};

impl Core {
    /// The newest live message of `room` (id, seq).
    async fn newest(&self, room: &RoomId) -> CoreResult<Option<(MessageId, i64)>> {
        Ok(self
            .store()
            .messages_before(room.clone(), None, 1)
            .await?
            .pop()
            .map(|m| (m.id, m.seq)))
    }

    /// A live message of `room` (`NotFound("message")` otherwise).
    async fn message_in_room(&self, room: &RoomId, id: &MessageId) -> CoreResult<(MessageId, i64)> {
        match self.store().message(id.clone()).await? {
            Some(m) if m.room_id == *room && !m.deleted => Ok((m.id, m.seq)),
            _ => Err(CoreError::NotFound("message")),
        }
    }

    /// `user`'s read marker in `room` (None: never read).
    pub async fn read_marker(&self, user: &UserId, room: &RoomId) -> CoreResult<Option<ReadState>> {
        self.require(user, room, Permissions::READ_HISTORY, "read_history")
            .await?;
        Ok(self
            .store()
            .read_marker(user.clone(), room.clone())
            .await?
            .map(|(last_read, _, updated_at)| ReadState {
                user_id: user.clone(),
                room_id: room.clone(),
                last_read,
                updated_at,
            }))
    }

    /// Messages of `room` `user` has not read (their own are never unread).
    pub async fn unread_count(&self, user: &UserId, room: &RoomId) -> CoreResult<i64> {
        self.require(user, room, Permissions::READ_HISTORY, "read_history")
            .await?;
        let Some((_, newest)) = self.newest(room).await? else {
            return Ok(0);
        };
        let read = self
            .store()
            .read_marker(user.clone(), room.clone())
            .await?
            .map_or(0, |(_, seq, _)| seq);
        Ok(self
            .store()
            .count_unread(room.clone(), user.clone(), read, newest)
            .await?)
    }

    /// Marks `room` read up to `up_to` (None: its newest message); a marker never moves back.
    /// Returns how many messages became read. When some did and `announce` is set, the room
    /// receives `ReadStateChanged` (a read receipt).
    pub async fn mark_read(
        &self,
        actor: &User,
        room: &RoomId,
        up_to: Option<&MessageId>,
        announce: bool,
    ) -> CoreResult<i64> {
        self.require(&actor.id, room, Permissions::READ_HISTORY, "read_history")
            .await?;
        let target = match up_to {
            Some(id) => Some(self.message_in_room(room, id).await?),
            None => self.newest(room).await?,
        };
        let Some((target, target_seq)) = target else {
            return Ok(0);
        };
        let read = self
            .store()
            .read_marker(actor.id.clone(), room.clone())
            .await?
            .map_or(0, |(_, seq, _)| seq);
        if target_seq <= read {
            return Ok(0);
        }
        let marked = self
            .store()
            .count_unread(room.clone(), actor.id.clone(), read, target_seq)
            .await?;
        let hub = self.hub().clone();
        let event = (announce && marked > 0).then(|| Event::ReadStateChanged {
            user: UserRef {
                id: actor.id.clone(),
                username: actor.username.clone(),
            },
            room_id: room.clone(),
            message_id: up_to.cloned(),
        });
        self.store()
            .set_read_marker(
                actor.id.clone(),
                room.clone(),
                Some(target),
                now_ms(),
                Some(Box::new(move |_: &()| {
                    if let Some(e) = event {
                        hub.publish(e);
                    }
                })),
            )
            .await?;
        Ok(marked)
    }

    /// Moves `user`'s marker back to just before `from` (None: the whole room is unread).
    /// Returns the unread count afterwards.
    pub async fn mark_unread(
        &self,
        user: &UserId,
        room: &RoomId,
        from: Option<&MessageId>,
    ) -> CoreResult<i64> {
        self.require(user, room, Permissions::READ_HISTORY, "read_history")
            .await?;
        let marker = match from {
            None => None,
            Some(id) => {
                let (_, seq) = self.message_in_room(room, id).await?;
                self.store()
                    .messages_before(room.clone(), Some(seq), 1)
                    .await?
                    .pop()
                    .map(|m| m.id)
            }
        };
        self.store()
            .set_read_marker(user.clone(), room.clone(), marker, now_ms(), None)
            .await?;
        self.unread_count(user, room).await
    }
}
