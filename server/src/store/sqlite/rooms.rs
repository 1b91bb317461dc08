//! Rooms and private-room membership.

use super::{ROOM_COLUMNS, SqliteStore, backend, room_from_row};
use crate::core::ids::{RoomId, SpaceId, UserId};
use crate::core::rooms::{Room, RoomMember, RoomRole};
use crate::store::{CommitHook, StoreError, StoreResult};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

fn member_from_row(row: &SqliteRow) -> StoreResult<RoomMember> {
    let role: String = row.try_get("role")?;
    Ok(RoomMember {
        room_id: RoomId(row.try_get("room_id")?),
        user_id: UserId(row.try_get("user_id")?),
        role: RoomRole::parse(&role).ok_or_else(|| backend(format!("bad room role {role}")))?,
        can_send: row.try_get::<i64, _>("can_send")? != 0,
        joined_at: row.try_get("joined_at")?,
    })
}

async fn fetch_room(conn: &mut SqliteConnection, id: &RoomId) -> StoreResult<Room> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ROOM_COLUMNS} FROM rooms WHERE id = ?1"
    )))
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound("room"))?;
    room_from_row(&row)
}

async fn upsert_member(conn: &mut SqliteConnection, m: &RoomMember) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO room_members (room_id, user_id, role, can_send, joined_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (room_id, user_id) DO UPDATE SET role = excluded.role,
                                                      can_send = excluded.can_send",
    )
    .bind(m.room_id.as_str())
    .bind(m.user_id.as_str())
    .bind(m.role.as_str())
    .bind(m.can_send as i64)
    .bind(m.joined_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn create(
    store: &SqliteStore,
    room: Room,
    members: Vec<RoomMember>,
    hook: Option<CommitHook<Room>>,
) -> StoreResult<Room> {
    store
        .write(
            move |conn| {
                let (room, members) = (room.clone(), members.clone());
                Box::pin(async move {
                    let taken = match &room.space_id {
                        Some(space) if room.kind != crate::core::rooms::RoomKind::Thread => {
                            sqlx::query(
                                "SELECT 1 FROM rooms WHERE space_id = ?1 AND name = ?2 AND kind <> 'thread'",
                            )
                            .bind(space.as_str())
                            .bind(&room.name)
                            .fetch_optional(&mut *conn)
                            .await?
                            .is_some()
                        }
                        _ => false,
                    };
                    if taken {
                        return Err(StoreError::Conflict(format!(
                            "a room named '{}' already exists",
                            room.name
                        )));
                    }
                    sqlx::query(
                        "INSERT INTO rooms (id, space_id, kind, name, topic, position, parent_id,
                             creator_id, is_public, locked, archived, max_members, slowmode_seconds,
                             extra, created_at, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15)",
                    )
                    .bind(room.id.as_str())
                    .bind(room.space_id.as_ref().map(|s| s.as_str()))
                    .bind(room.kind.as_str())
                    .bind(&room.name)
                    .bind(room.topic.as_deref())
                    .bind(room.position)
                    .bind(room.parent_id.as_ref().map(|r| r.as_str()))
                    .bind(room.creator_id.as_ref().map(|u| u.as_str()))
                    .bind(room.is_public as i64)
                    .bind(room.locked as i64)
                    .bind(room.archived as i64)
                    .bind(room.max_members)
                    .bind(room.slowmode_seconds)
                    .bind(room.extra.to_string())
                    .bind(room.created_at)
                    .execute(&mut *conn)
                    .await?;
                    for m in &members {
                        upsert_member(conn, m).await?;
                    }
                    Ok(room)
                })
            },
            hook,
        )
        .await
}

pub(super) async fn update(
    store: &SqliteStore,
    room: Room,
    hook: Option<CommitHook<Room>>,
) -> StoreResult<Room> {
    store
        .write(
            move |conn| {
                let room = room.clone();
                Box::pin(async move {
                    let r = sqlx::query(
                        "UPDATE rooms SET name = ?2, topic = ?3, position = ?4, parent_id = ?5,
                             is_public = ?6, locked = ?7, archived = ?8, max_members = ?9,
                             slowmode_seconds = ?10, extra = ?11, updated_at = ?12
                         WHERE id = ?1",
                    )
                    .bind(room.id.as_str())
                    .bind(&room.name)
                    .bind(room.topic.as_deref())
                    .bind(room.position)
                    .bind(room.parent_id.as_ref().map(|r| r.as_str()))
                    .bind(room.is_public as i64)
                    .bind(room.locked as i64)
                    .bind(room.archived as i64)
                    .bind(room.max_members)
                    .bind(room.slowmode_seconds)
                    .bind(room.extra.to_string())
                    .bind(crate::core::ids::now_ms())
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| match &e {
                        sqlx::Error::Database(d) if d.is_unique_violation() => {
                            StoreError::Conflict(format!(
                                "a room named '{}' already exists",
                                room.name
                            ))
                        }
                        _ => e.into(),
                    })?;
                    if r.rows_affected() == 0 {
                        return Err(StoreError::NotFound("room"));
                    }
                    fetch_room(conn, &room.id).await
                })
            },
            hook,
        )
        .await
}

pub(super) async fn delete(
    store: &SqliteStore,
    id: RoomId,
    hook: Option<CommitHook<Room>>,
) -> StoreResult<Room> {
    store
        .write(
            move |conn| {
                let id = id.clone();
                Box::pin(async move {
                    let room = fetch_room(conn, &id).await?;
                    sqlx::query("DELETE FROM rooms WHERE id = ?1")
                        .bind(id.as_str())
                        .execute(&mut *conn)
                        .await?;
                    Ok(room)
                })
            },
            hook,
        )
        .await
}

pub(super) async fn space_rooms(store: &SqliteStore, space: SpaceId) -> StoreResult<Vec<Room>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ROOM_COLUMNS} FROM rooms WHERE space_id = ?1 AND kind <> 'thread'
         ORDER BY position, created_at"
    )))
    .bind(space.as_str())
    .fetch_all(store.read_pool())
    .await?;
    rows.iter().map(room_from_row).collect()
}

pub(super) async fn user_private_rooms(
    store: &SqliteStore,
    user: UserId,
) -> StoreResult<Vec<Room>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ROOM_COLUMNS} FROM rooms
         WHERE id IN (SELECT room_id FROM room_members WHERE user_id = ?1)
           AND kind IN ('direct', 'group', 'broadcast')
         ORDER BY created_at, id"
    )))
    .bind(user.as_str())
    .fetch_all(store.read_pool())
    .await?;
    rows.iter().map(room_from_row).collect()
}

pub(super) async fn members(store: &SqliteStore, room: RoomId) -> StoreResult<Vec<RoomMember>> {
    let rows = sqlx::query(
        "SELECT room_id, user_id, role, can_send, joined_at FROM room_members
         WHERE room_id = ?1 ORDER BY joined_at, rowid",
    )
    .bind(room.as_str())
    .fetch_all(store.read_pool())
    .await?;
    rows.iter().map(member_from_row).collect()
}

pub(super) async fn member(
    store: &SqliteStore,
    room: RoomId,
    user: UserId,
) -> StoreResult<Option<RoomMember>> {
    let row = sqlx::query(
        "SELECT room_id, user_id, role, can_send, joined_at FROM room_members
         WHERE room_id = ?1 AND user_id = ?2",
    )
    .bind(room.as_str())
    .bind(user.as_str())
    .fetch_optional(store.read_pool())
    .await?;
    row.as_ref().map(member_from_row).transpose()
}

pub(super) async fn put_member(
    store: &SqliteStore,
    member: RoomMember,
    hook: Option<CommitHook<RoomMember>>,
) -> StoreResult<RoomMember> {
    store
        .write(
            move |conn| {
                let member = member.clone();
                Box::pin(async move {
                    fetch_room(conn, &member.room_id).await?;
                    upsert_member(conn, &member).await?;
                    Ok(member)
                })
            },
            hook,
        )
        .await
}

pub(super) async fn remove_member(
    store: &SqliteStore,
    room: RoomId,
    user: UserId,
    hook: Option<CommitHook<bool>>,
) -> StoreResult<bool> {
    store
        .write(
            move |conn| {
                let (room, user) = (room.clone(), user.clone());
                Box::pin(async move {
                    let r =
                        sqlx::query("DELETE FROM room_members WHERE room_id = ?1 AND user_id = ?2")
                            .bind(room.as_str())
                            .bind(user.as_str())
                            .execute(&mut *conn)
                            .await?;
                    Ok(r.rows_affected() > 0)
                })
            },
            hook,
        )
        .await
}
