//! Room events: create, list, info, messages, join, leave, add/remove members, modify.

use super::errors::{Fail, Res};
use super::guards::Member;
use super::render::shared;
use super::{Cx, Messaging, db};
use crate::core::events::Topic;
use crate::core::ids::{UserId, now_ms};
use crate::core::rooms::{NewRoom, Room, RoomKind, RoomMember, RoomRole};
use crate::core::users::User;
use chorus_protocol::messaging::{
    self as proto, RoomCreateData, RoomCreateDataType, RoomIdData, RoomJoinData, RoomMembersData,
    RoomMessagesData, RoomModifyData, RoomModifyDataAction, ServerFrame,
};
use serde_json::{Value, json};

const GROUP_CAP: i64 = 100;
const CHANNEL_CAP: i64 = 300;
const GROUP_FULL: &str = "Maximum number of group participants exceeded";
const CHANNEL_FULL: &str = "Maximum number of channel subscribers exceeded";
const NOT_ADMIN: &str = "User is not an admin of this room";
const NOT_CREATOR: &str = "User is not the creator of this room";

fn cap(room: &Room) -> i64 {
    room.max_members.unwrap_or(if room.kind == RoomKind::Group {
        GROUP_CAP
    } else {
        CHANNEL_CAP
    })
}

fn full_msg(kind: RoomKind) -> &'static str {
    if kind == RoomKind::Group {
        GROUP_FULL
    } else {
        CHANNEL_FULL
    }
}

impl Messaging {
    /// Users by protocol id; unknown ids are None.
    async fn users_by_num(&self, nums: &[i64]) -> Res<Vec<Option<User>>> {
        let mut out = Vec::with_capacity(nums.len());
        for n in nums {
            out.push(match shared().numbers.user(*n) {
                Some(id) => self.core.store().user(id).await?,
                None => None,
            });
        }
        Ok(out)
    }

    /// The user the core sees acting for room administration the dialect has authorised:
    /// the creator while an owner, else any owner/admin member.
    async fn authority(&self, room: &Room) -> Res<User> {
        let members = self.members(&room.id).await?;
        let pick = members
            .iter()
            .find(|m| m.role == RoomRole::Owner && room.creator_id.as_ref() == Some(&m.id))
            .or_else(|| members.iter().find(|m| m.role == RoomRole::Owner))
            .or_else(|| members.iter().find(|m| m.role == RoomRole::Admin));
        let Some(m) = pick else {
            return Err(Fail::Internal(format!(
                "room {} has no administrator",
                room.id
            )));
        };
        self.core
            .store()
            .user(m.id.clone())
            .await?
            .ok_or_else(|| Fail::Internal("room administrator vanished".into()))
    }

    async fn put_member(
        &self,
        room: &Room,
        user: &UserId,
        role: RoomRole,
        can_send: bool,
    ) -> Res<()> {
        let member = RoomMember {
            room_id: room.id.clone(),
            user_id: user.clone(),
            role,
            can_send,
            joined_at: now_ms(),
        };
        match self.authority(room).await {
            Ok(actor) => self.core.put_room_member(&actor, member).await?,
            // No administrator left (only plain members): the dialect already authorised
            // the change, so store it directly.
            Err(_) => {
                self.core.store().put_room_member(member, None).await?;
            }
        }
        self.core.invalidate_permissions();
        Ok(())
    }

    /// Keeps the core's `can_send` of every member equal to the original's send rule (locked
    /// groups, channel send permission), so other dialects obey it too.
    async fn sync_can_send(&self, room: &Room) -> Res<()> {
        let room = self.reload(room).await?;
        let locked = room
            .extra
            .get("group_locked")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        for (id, _, _, role, can_send) in db::members(self.store.read_pool(), &room.id.0).await? {
            let role = super::render::role_of(&role);
            let user = UserId(id);
            let staff = matches!(role, RoomRole::Owner | RoomRole::Admin)
                || room.creator_id.as_ref() == Some(&user);
            let wanted = match room.kind {
                RoomKind::Group => !locked || staff,
                RoomKind::Broadcast => {
                    staff
                        || db::perms(self.store.read_pool(), &room.id.0, &user.0)
                            .await?
                            .iter()
                            .any(|p| p == "can_send_messages")
                }
                _ => true,
            };
            if wanted != can_send {
                self.put_member(&room, &user, role, wanted).await?;
            }
        }
        Ok(())
    }

    /// Removes `user` from `room` (the dialect authorised it). The core lets anyone remove
    /// themself, so the removal is made in the removed user's name.
    async fn drop_member(&self, room: &Room, user: &UserId) -> Res<()> {
        let Some(actor) = self.core.store().user(user.clone()).await? else {
            return Err(Fail::NotFound);
        };
        self.core.remove_room_member(&actor, &room.id, user).await?;
        db::exec(
            &self.store,
            vec![db::stmt(
                "DELETE FROM messaging_room_perms WHERE room_id = ? AND user_id = ?",
                vec![db::B::T(room.id.0.clone()), db::B::T(user.0.clone())],
            )],
        )
        .await?;
        self.core.invalidate_permissions();
        Ok(())
    }

    async fn reload(&self, room: &Room) -> Res<Room> {
        self.core
            .store()
            .room(room.id.clone())
            .await?
            .ok_or(Fail::NotFound)
    }

    pub(super) async fn create_room(&self, cx: &mut Cx, req: RoomCreateData) -> Res<()> {
        let me = &cx.user;
        let kind = match req.r#type {
            RoomCreateDataType::OneToOneChat => RoomKind::Direct,
            RoomCreateDataType::GroupChat => RoomKind::Group,
            RoomCreateDataType::Channel => RoomKind::Broadcast,
        };
        let nums = if kind == RoomKind::Broadcast {
            req.subscribers.clone().unwrap_or_default()
        } else {
            req.participants.clone().unwrap_or_default()
        };
        let mut ids: Vec<UserId> = vec![me.id.clone()];
        for u in self.users_by_num(&nums).await?.into_iter().flatten() {
            if !ids.contains(&u.id) {
                ids.push(u.id);
            }
        }
        let ef = req.extra_fields.clone();
        let name = match kind {
            RoomKind::Direct => String::new(),
            _ => match &req.name {
                None => return Err(Fail::field("name", "This field is required.")),
                Some(n) if n.trim().is_empty() => {
                    return Err(Fail::field("name", "This field may not be blank."));
                }
                Some(n) => n.trim().to_owned(),
            },
        };
        let max = match kind {
            RoomKind::Group => Some(
                ef.as_ref()
                    .and_then(|e| e.max_participants)
                    .unwrap_or(GROUP_CAP),
            ),
            RoomKind::Broadcast => Some(
                ef.as_ref()
                    .and_then(|e| e.max_subscribers)
                    .unwrap_or(CHANNEL_CAP),
            ),
            _ => None,
        };
        match kind {
            RoomKind::Direct => {
                if ids.len() != 2 {
                    return Err(Fail::wrapped(
                        "A one to one chat can only have 2 participants",
                    ));
                }
                if db::direct_between(self.store.read_pool(), &ids[0].0, &ids[1].0)
                    .await?
                    .is_some()
                {
                    return Err(Fail::wrapped("Chat already exists"));
                }
            }
            _ => {
                if ids.len() as i64 > max.unwrap_or(i64::MAX) {
                    return Err(Fail::wrapped(full_msg(kind)));
                }
            }
        }
        let preferences = ef
            .as_ref()
            .and_then(|e| e.property.as_ref())
            .and_then(|p| p.preferences.clone())
            .map(|p| serde_json::to_value(p).unwrap_or(json!({})))
            .unwrap_or(json!({}));
        let mut extra = json!({"messaging": true, "property": {"preferences": preferences}});
        if kind != RoomKind::Direct {
            extra["avatar"] = ef
                .as_ref()
                .and_then(|e| e.avatar.clone())
                .flatten()
                .map_or(Value::Null, Value::String);
        }
        if kind == RoomKind::Group {
            extra["join_approval_required"] = json!(
                ef.as_ref()
                    .and_then(|e| e.join_approval_required)
                    .unwrap_or(false)
            );
            extra["group_locked"] =
                json!(ef.as_ref().and_then(|e| e.group_locked).unwrap_or(false));
        }
        let members = ids
            .iter()
            .map(|id| {
                let mine = id == &me.id;
                let role = match (kind, mine) {
                    (RoomKind::Direct, _) => RoomRole::Admin,
                    (_, true) => RoomRole::Owner,
                    _ => RoomRole::Member,
                };
                (id.clone(), role, kind != RoomKind::Broadcast || mine)
            })
            .collect::<Vec<_>>();
        let room = self
            .core
            .create_room(
                me,
                NewRoom {
                    space_id: None,
                    kind,
                    // The core wants a name; OneToOneChat shows none.
                    name: if name.is_empty() {
                        "direct".into()
                    } else {
                        name
                    },
                    topic: if kind == RoomKind::Direct {
                        None
                    } else {
                        req.description.clone().flatten()
                    },
                    parent_id: None,
                    position: None,
                    is_public: kind == RoomKind::Broadcast
                        && ef.as_ref().and_then(|e| e.is_public).unwrap_or(false),
                    max_members: max,
                    members: members
                        .iter()
                        .map(|(id, role, _)| (id.clone(), *role))
                        .collect(),
                    extra: Some(extra),
                },
            )
            .await?;
        // Channel subscribers may not post until given `can_send_messages`.
        for (id, role, can_send) in &members {
            if !can_send {
                self.put_member(&room, id, *role, false).await?;
            }
        }
        self.core.invalidate_permissions();
        let topic = Topic::Room(room.id.clone());
        for id in &ids {
            self.registry.join(id, &topic);
        }
        let detail = self.room_detail(&room).await?;
        self.to_room(&room.id, &ServerFrame::RoomCreateDispatchEvent(detail))
            .await;
        Ok(())
    }

    pub(super) async fn list_rooms(&self, cx: &mut Cx) -> Res<()> {
        let mut items = Vec::new();
        for id in db::user_rooms(self.store.read_pool(), &cx.user.id.0).await? {
            if let Some(room) = self.core.store().room(crate::core::ids::RoomId(id)).await? {
                items.push(self.list_item(&room, &cx.user.id).await?);
            }
        }
        items.sort_by_key(|i| std::cmp::Reverse(i.1));
        let data = proto::RoomListDispatchEventData(items.into_iter().map(|i| i.0).collect());
        self.to_user(&cx.user.id, &ServerFrame::RoomListDispatchEvent(data))
            .await;
        Ok(())
    }

    pub(super) async fn room_info(&self, cx: &mut Cx, req: RoomIdData) -> Res<()> {
        let (room, _) = self.room_access(&cx.user.id, &req.room_id).await?;
        let detail = self.room_detail(&room).await?;
        self.to_user(&cx.user.id, &ServerFrame::RoomInfoDispatchEvent(detail))
            .await;
        Ok(())
    }

    pub(super) async fn room_messages(&self, cx: &mut Cx, req: RoomMessagesData) -> Res<()> {
        let (room, _) = self.room_access(&cx.user.id, &req.room_id).await?;
        let ids = db::room_message_ids(self.store.read_pool(), &room.id.0).await?;
        let paginate = req
            .paginate
            .clone()
            .flatten()
            .filter(|p| p.page.is_some() || p.size.is_some());
        let load = |ids: Vec<String>| async move {
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(m) = self.message(&id).await? {
                    out.push(m);
                }
            }
            Ok::<_, Fail>(out)
        };
        let page_data = |messages| proto::RoomMessagesPage {
            room_id: room.id.0.clone(),
            messages,
        };
        let data = match paginate {
            None => proto::RoomMessagesDispatchData {
                has_next: None,
                has_previous: None,
                next_page_number: None,
                prev_page_number: None,
                page: None,
                size: None,
                data: page_data(load(ids).await?),
            },
            Some(p) => {
                let page = int_arg(p.page.as_ref())?;
                let size = int_arg(p.size.as_ref())?;
                let (Some(page), Some(size)) = (page, size) else {
                    return Err(Fail::invalid("page and size required"));
                };
                if size < 1 {
                    return Err(Fail::Internal("page size below 1".into()));
                }
                let count = ids.len() as i64;
                let pages = ((count + size - 1) / size).max(1);
                let number = if page < 1 || page > pages {
                    pages
                } else {
                    page
                };
                let start = ((number - 1) * size) as usize;
                let end = (start + size as usize).min(ids.len());
                let slice = ids.get(start..end).unwrap_or_default().to_vec();
                let has_next = number < pages;
                let has_previous = number > 1;
                proto::RoomMessagesDispatchData {
                    has_next: Some(has_next),
                    has_previous: Some(has_previous),
                    next_page_number: Some(has_next.then_some(number + 1)),
                    prev_page_number: Some(has_previous.then_some(number - 1)),
                    page: Some(page),
                    size: Some(size),
                    data: page_data(load(slice).await?),
                }
            }
        };
        self.to_user(&cx.user.id, &ServerFrame::RoomMessagesDispatchEvent(data))
            .await;
        Ok(())
    }

    pub(super) async fn join(&self, cx: &mut Cx, req: RoomJoinData) -> Res<()> {
        let room = self.find_room(&req.room_id).await?;
        match room.kind {
            RoomKind::Direct => {
                return Err(Fail::invalid("You can only join a channel/group chat"));
            }
            RoomKind::Group => return Err(Fail::invalid("Ask an admin to add you to the group")),
            _ if !room.is_public => {
                return Err(Fail::invalid(
                    "Channel is private, ask a moderator to add you to the channel",
                ));
            }
            _ => {}
        }
        let members = self.members(&room.id).await?;
        if !members.iter().any(|m| m.id == cx.user.id) {
            if members.len() as i64 + 1 > cap(&room) {
                return Err(Fail::invalid(full_msg(room.kind)));
            }
            self.core
                .put_room_member(
                    &cx.user,
                    RoomMember {
                        room_id: room.id.clone(),
                        user_id: cx.user.id.clone(),
                        role: RoomRole::Member,
                        can_send: false,
                        joined_at: now_ms(),
                    },
                )
                .await?;
            self.core.invalidate_permissions();
        }
        self.registry
            .join(&cx.user.id, &Topic::Room(room.id.clone()));
        let detail = self.room_detail(&room).await?;
        let frame = ServerFrame::RoomAddMembersDispatchEvent(proto::RoomMembersAddedData {
            room: detail,
            new_members: vec![cx.user.username.clone()],
            added_by: "self".into(),
        });
        self.to_room(&room.id, &frame).await;
        Ok(())
    }

    pub(super) async fn leave(&self, cx: &mut Cx, req: RoomIdData) -> Res<()> {
        let (room, members) = self.room_access(&cx.user.id, &req.room_id).await?;
        if room.kind == RoomKind::Direct {
            return Err(Fail::invalid("You can only leave a channel/group chat"));
        }
        let topic = Topic::Room(room.id.clone());
        if members.len() == 1 {
            self.delete_room_as(&room, &cx.user).await?;
            self.registry.leave(&cx.user.id, &topic);
            let frame = ServerFrame::RoomDeleteDispatchEvent(proto::RoomDeleteData {
                room_id: room.id.0.clone(),
            });
            self.to_user(&cx.user.id, &frame).await;
            return Ok(());
        }
        let user = cx.user.clone();
        self.drop_member(&room, &user.id).await?;
        self.registry.leave(&user.id, &topic);
        let detail = self.room_detail(&self.reload(&room).await?).await?;
        let exit = ServerFrame::RoomExitDispatchEvent(proto::RoomExitData {
            room: detail.clone(),
            message: format!("You left {}", room.name),
        });
        self.to_user(&user.id, &exit).await;
        let removed = ServerFrame::RoomRemoveMembersDispatchEvent(proto::RoomMembersRemovedData {
            room: detail,
            removed_members: vec![user.username.clone()],
            removed_by: "self".into(),
        });
        self.to_room(&room.id, &removed).await;
        Ok(())
    }

    /// Deletes `room` as `actor`, tells the room group, then unsubscribes its `members`.
    async fn delete_and_announce(&self, room: &Room, actor: &User, members: &[Member]) -> Res<()> {
        self.delete_room_as(room, actor).await?;
        let frame = ServerFrame::RoomDeleteDispatchEvent(proto::RoomDeleteData {
            room_id: room.id.0.clone(),
        });
        self.to_room(&room.id, &frame).await;
        for m in members {
            self.registry.leave(&m.id, &Topic::Room(room.id.clone()));
        }
        Ok(())
    }

    /// Deletes `room`; `actor` is a member the dialect authorised.
    async fn delete_room_as(&self, room: &Room, actor: &User) -> Res<()> {
        let members = self.members(&room.id).await?;
        let me = members.iter().find(|m| m.id == actor.id);
        if !me.is_some_and(Member::staff) {
            // The core lets only room administrators delete; the dialect authorised this
            // member (the last one out, or the creator after leaving): promote first.
            let member = RoomMember {
                room_id: room.id.clone(),
                user_id: actor.id.clone(),
                role: RoomRole::Owner,
                can_send: true,
                joined_at: now_ms(),
            };
            self.core.store().put_room_member(member, None).await?;
            self.core.invalidate_permissions();
        }
        let own = shared().own(super::render::room_delete_key(&room.id.0));
        let r = self.core.delete_room(actor, &room.id).await;
        self.release(own).await;
        r?;
        self.core.invalidate_permissions();
        Ok(())
    }

    /// `_have_room_permissions_to_add_or_remove_members`.
    async fn member_admin(&self, cx: &Cx, room_id: &Value, add: bool) -> Res<(Room, Vec<Member>)> {
        let room = self.find_room(room_id).await?;
        if room.kind == RoomKind::Direct {
            return Err(Fail::invalid(
                "Invalid room, Can only add or remove members from Groups/Channels",
            ));
        }
        let denied = if add {
            "User is not authorized to add new members to this room"
        } else {
            "User is not authorized to remove members from this room"
        };
        let members = self.members(&room.id).await?;
        let Some(me) = members.iter().find(|m| m.id == cx.user.id) else {
            return Err(Fail::Permission(denied));
        };
        let perm = match (room.kind, add) {
            (RoomKind::Group, true) => "can_add_new_participants",
            (RoomKind::Group, false) => "can_remove_participants",
            (_, true) => "can_add_new_subscribers",
            (_, false) => "can_remove_subscribers",
        };
        let ok = room.creator_id.as_ref() == Some(&cx.user.id)
            || me.staff()
            || db::perms(self.store.read_pool(), &room.id.0, &cx.user.id.0)
                .await?
                .iter()
                .any(|p| p == perm);
        if !ok {
            return Err(Fail::Permission(denied));
        }
        Ok((room, members))
    }

    async fn resolve_all(&self, nums: &[i64]) -> Res<Vec<User>> {
        let mut seen = Vec::new();
        for n in nums {
            if !seen.contains(n) {
                seen.push(*n);
            }
        }
        let mut out = Vec::with_capacity(seen.len());
        for u in self.users_by_num(&seen).await? {
            out.push(u.ok_or(Fail::NotFound)?);
        }
        Ok(out)
    }

    pub(super) async fn add_members(&self, cx: &mut Cx, req: RoomMembersData) -> Res<()> {
        let (room, members) = self.member_admin(cx, &req.room_id, true).await?;
        let users = self.resolve_all(&req.members).await?;
        let new: Vec<User> = users
            .into_iter()
            .filter(|u| !members.iter().any(|m| m.id == u.id))
            .collect();
        if (members.len() + new.len()) as i64 > cap(&room) {
            return Err(Fail::invalid(full_msg(room.kind)));
        }
        let topic = Topic::Room(room.id.clone());
        for u in &new {
            self.put_member(&room, &u.id, RoomRole::Member, room.kind == RoomKind::Group)
                .await?;
            self.registry.join(&u.id, &topic);
        }
        self.sync_can_send(&room).await?;
        let detail = self.room_detail(&room).await?;
        let frame = ServerFrame::RoomAddMembersDispatchEvent(proto::RoomMembersAddedData {
            room: detail,
            new_members: new.iter().map(|u| u.username.clone()).collect(),
            added_by: cx.user.username.clone(),
        });
        self.to_room(&room.id, &frame).await;
        Ok(())
    }

    pub(super) async fn remove_members(&self, cx: &mut Cx, req: RoomMembersData) -> Res<()> {
        let (room, members) = self.member_admin(cx, &req.room_id, false).await?;
        let users = self.resolve_all(&req.members).await?;
        let i_am_creator = room.creator_id.as_ref() == Some(&cx.user.id);
        let gone: Vec<User> = users
            .into_iter()
            .filter(|u| members.iter().any(|m| m.id == u.id))
            .filter(|u| i_am_creator || room.creator_id.as_ref() != Some(&u.id))
            .collect();
        if !gone.is_empty() && gone.len() == members.len() {
            // Removing everyone deletes the room.
            return self.delete_and_announce(&room, &cx.user, &members).await;
        }
        let topic = Topic::Room(room.id.clone());
        for u in &gone {
            self.drop_member(&room, &u.id).await?;
        }
        let detail = self.room_detail(&self.reload(&room).await?).await?;
        for u in &gone {
            self.registry.leave(&u.id, &topic);
            let exit = ServerFrame::RoomExitDispatchEvent(proto::RoomExitData {
                room: detail.clone(),
                message: format!("You have been removed by {}", cx.user.username),
            });
            self.to_user(&u.id, &exit).await;
        }
        let frame = ServerFrame::RoomRemoveMembersDispatchEvent(proto::RoomMembersRemovedData {
            room: detail,
            removed_members: gone.iter().map(|u| u.username.clone()).collect(),
            removed_by: cx.user.username.clone(),
        });
        self.to_room(&room.id, &frame).await;
        Ok(())
    }

    pub(super) async fn modify_room(&self, cx: &mut Cx, req: RoomModifyData) -> Res<()> {
        let room = self.find_room(&req.room_id).await?;
        let members = self.members(&room.id).await?;
        let me = members.iter().find(|m| m.id == cx.user.id);
        let creator = room.creator_id.as_ref() == Some(&cx.user.id);
        if req.action == RoomModifyDataAction::Delete {
            let ok = match room.kind {
                RoomKind::Direct => me.is_some(),
                _ => creator,
            };
            if !ok {
                return Err(Fail::Permission(NOT_CREATOR));
            }
            return self.delete_and_announce(&room, &cx.user, &members).await;
        }
        let ok = match room.kind {
            RoomKind::Direct => me.is_some(),
            _ => me.is_some() && (creator || me.is_some_and(Member::staff)),
        };
        if !ok {
            return Err(Fail::Permission(NOT_ADMIN));
        }
        // Python truthiness: any non-empty object counts, known keys or not.
        let non_empty = cx
            .raw
            .get("data")
            .and_then(Value::as_object)
            .is_some_and(|o| !o.is_empty());
        let data = match req.data.clone() {
            Some(d) if non_empty => d,
            Some(d)
                if d.users.is_some()
                    || d.permission.is_some()
                    || d.name.is_some()
                    || d.description.is_some()
                    || d.avatar.is_some()
                    || d.join_approval_required.is_some()
                    || d.group_locked.is_some()
                    || d.is_public.is_some()
                    || d.property.is_some() =>
            {
                d
            }
            _ => return Err(Fail::invalid("data must be provided")),
        };
        let by_core = match req.action {
            RoomModifyDataAction::Update => self.update_settings(&room, data).await?,
            _ if room.kind == RoomKind::Direct => false,
            action => {
                self.change_roles(&room, &members, action, data).await?;
                false
            }
        };
        self.sync_can_send(&room).await?;
        if by_core {
            // The renderer announces the core's `RoomUpdated`, as for every dialect.
            self.settle().await;
        } else {
            let detail = self.room_detail(&self.reload(&room).await?).await?;
            self.to_room(&room.id, &ServerFrame::RoomUpdateDispatchEvent(detail))
                .await;
        }
        Ok(())
    }

    /// Applies `update`; true when the core published the change (`RoomUpdated`).
    async fn update_settings(&self, room: &Room, data: proto::RoomModifyPayload) -> Res<bool> {
        let mut new = room.clone();
        if room.kind != RoomKind::Direct {
            if let Some(n) = data.name.filter(|n| !n.is_empty()) {
                new.name = n;
            }
            if let Some(d) = data.description.flatten().filter(|d| !d.is_empty()) {
                new.topic = Some(d);
            }
            if let Some(a) = data.avatar {
                new.extra["avatar"] = a.map_or(Value::Null, Value::String);
            }
        }
        if room.kind == RoomKind::Group {
            if let Some(j) = data.join_approval_required {
                new.extra["join_approval_required"] = json!(j);
            }
            if let Some(g) = data.group_locked {
                new.extra["group_locked"] = json!(g);
            }
        }
        if room.kind == RoomKind::Broadcast
            && let Some(p) = data.is_public
        {
            new.is_public = p;
        }
        if let Some(prefs) = data.property.and_then(|p| p.preferences) {
            new.extra["property"] = json!({"preferences": prefs});
        }
        let by_core = match self.authority(room).await {
            Ok(actor) => {
                self.core.update_room(&actor, new).await?;
                true
            }
            // No administrator (e.g. a direct room of another dialect): the dialect
            // authorised the change.
            Err(_) => {
                self.core.store().update_room(new, None).await?;
                false
            }
        };
        self.core.invalidate_permissions();
        Ok(by_core)
    }

    async fn change_roles(
        &self,
        room: &Room,
        members: &[Member],
        action: RoomModifyDataAction,
        data: proto::RoomModifyPayload,
    ) -> Res<()> {
        use RoomModifyDataAction as A;
        match action {
            A::AddAdmin | A::RemoveAdmin if room.kind != RoomKind::Group => {
                return Err(Fail::invalid(
                    "Room should be a group chat to modify the admins",
                ));
            }
            A::AddModerator | A::RemoveModerator if room.kind != RoomKind::Broadcast => {
                return Err(Fail::invalid(
                    "Room should be a channel to modify the moderators",
                ));
            }
            _ => {}
        }
        let nums = match data.users {
            Some(u) if !u.is_empty() => u,
            _ => return Err(Fail::invalid("User ids must be provided")),
        };
        let mut targets: Vec<&Member> = Vec::new();
        let me_nums = &shared().numbers;
        for n in nums {
            if let Some(m) = members.iter().find(|m| me_nums.num(&m.id) == n)
                && room.creator_id.as_ref() != Some(&m.id)
                && !targets.iter().any(|t| t.id == m.id)
            {
                targets.push(m);
            }
        }
        match action {
            A::AddPermission | A::RemovePermission => {
                let perms = match data.permission {
                    Some(p) if !p.is_empty() => p,
                    _ => {
                        return Err(Fail::invalid(
                            "Permission to add or remove should be passed",
                        ));
                    }
                };
                let (valid, what): (&[&str], &str) = if room.kind == RoomKind::Group {
                    (
                        &["can_add_new_participants", "can_remove_participants"],
                        "group chat",
                    )
                } else {
                    (
                        &[
                            "can_add_new_subscribers",
                            "can_remove_subscribers",
                            "can_send_messages",
                        ],
                        "channel",
                    )
                };
                if let Some(bad) = perms.iter().find(|p| !valid.contains(&p.as_str())) {
                    return Err(Fail::invalid(format!(
                        "Permission '{bad}' is not a valid {what} permission"
                    )));
                }
                let add = action == A::AddPermission;
                let mut stmts = Vec::new();
                for t in &targets {
                    for p in &perms {
                        stmts.push(db::stmt(
                            if add {
                                "INSERT OR IGNORE INTO messaging_room_perms (room_id, user_id, perm) VALUES (?, ?, ?)"
                            } else {
                                "DELETE FROM messaging_room_perms WHERE room_id = ? AND user_id = ? AND perm = ?"
                            },
                            vec![
                                db::B::T(room.id.0.clone()),
                                db::B::T(t.id.0.clone()),
                                db::B::T(p.clone()),
                            ],
                        ));
                    }
                }
                db::exec(&self.store, stmts).await?;
                if room.kind == RoomKind::Broadcast
                    && perms.iter().any(|p| p == "can_send_messages")
                {
                    for t in &targets {
                        self.put_member(room, &t.id, t.role, add || t.staff())
                            .await?;
                    }
                }
            }
            A::AddAdmin | A::AddModerator => {
                for t in &targets {
                    if !t.staff() {
                        self.put_member(room, &t.id, RoomRole::Admin, true).await?;
                    }
                }
            }
            A::RemoveAdmin | A::RemoveModerator => {
                for t in &targets {
                    if t.role == RoomRole::Admin {
                        let can_send = room.kind == RoomKind::Group
                            || db::perms(self.store.read_pool(), &room.id.0, &t.id.0)
                                .await?
                                .iter()
                                .any(|p| p == "can_send_messages");
                        self.put_member(room, &t.id, RoomRole::Member, can_send)
                            .await?;
                    }
                }
            }
            A::Update | A::Delete => {}
        }
        Ok(())
    }
}

/// `int()` of a pagination argument; None when falsy (missing, 0, "").
fn int_arg(v: Option<&Value>) -> Res<Option<i64>> {
    let n = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| Fail::invalid("Invalid types"))?,
        Some(Value::String(s)) if s.is_empty() => return Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| Fail::invalid("Invalid types"))?,
        Some(_) => return Err(Fail::invalid("Invalid types")),
    };
    Ok((n != 0).then_some(n))
}
