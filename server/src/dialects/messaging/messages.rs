//! Message events: send, acknowledged, read, react, typing, modify.

use super::db::{self, B, MsgRow};
use super::errors::{Fail, Res};
use super::guards::{self, NO_MESSAGE_ACCESS};
use super::render::{self, shared};
use super::{Cx, Messaging, sanitize};
use crate::core::ids::{MessageId, RoomId, UserId, now_ms};
use crate::core::messages::{DeleteMode, NewMessage, UserRef};
use chorus_protocol::messaging::{
    self as proto, MessageIdsData, MessageModifyData, MessageModifyDataAction, MessageReactData,
    MessageReactDataType, MessageSendData, MessageTypingData, ServerFrame,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const MIME_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/bmp",
    "image/heic",
    "audio/mpeg",
    "audio/mp4",
    "audio/aac",
    "audio/ogg",
    "audio/wav",
    "audio/opus",
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "video/ogg",
    "video/x-msvideo",
    "video/x-matroska",
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "text/plain",
    "text/csv",
];

fn does_not_exist(field: &str, id: &str) -> Fail {
    Fail::field(
        field,
        format!("Invalid pk \"{id}\" - object does not exist."),
    )
}

impl Messaging {
    /// An existing message (any room, soft-deleted included) for a reply or forward field.
    async fn related(&self, field: &str, id: &Option<String>) -> Res<Option<MsgRow>> {
        let Some(id) = id else { return Ok(None) };
        let canonical = guards::uuid(id).map_err(|_| does_not_exist(field, id))?;
        match db::message(self.store.read_pool(), &canonical).await? {
            Some(m) => Ok(Some(m)),
            None => Err(does_not_exist(field, id)),
        }
    }

    pub(super) async fn send(&self, cx: &mut Cx, req: MessageSendData) -> Res<()> {
        let (room, members) = match self.find_room(&req.room_id).await {
            Ok(room) => {
                let members = self.members(&room.id).await?;
                (room, members)
            }
            Err(e) => return Err(e),
        };
        self.check_send(&cx.user.id, &room, &members).await?;
        if req.content.trim().is_empty() {
            return Err(Fail::field("content", "This field may not be blank."));
        }
        let ef = req.extra_fields.as_ref();
        let parent = self
            .related(
                "parent_message_id",
                &ef.and_then(|e| e.parent_message_id.clone()),
            )
            .await?;
        let forwarded = self
            .related(
                "forwarded_from_id",
                &ef.and_then(|e| e.forwarded_from_id.clone()),
            )
            .await?;
        if parent.is_some() && forwarded.is_some() {
            return Err(Fail::Integrity);
        }
        if let Some(f) = &forwarded {
            // Not in the original (§9): forward only what the sender can read.
            let src = db::members(self.store.read_pool(), &f.room_id).await?;
            if !src.iter().any(|m| m.0 == cx.user.id.0) {
                return Err(Fail::Permission(NO_MESSAGE_ACCESS));
            }
        }
        let media = ef.and_then(|e| e.media.clone()).unwrap_or_default();
        let mut attachments = Vec::with_capacity(media.len());
        for item in &media {
            let mime = item
                .mime_type
                .clone()
                .unwrap_or_else(|| "image/jpeg".into());
            if !MIME_TYPES.contains(&mime.as_str()) {
                return Err(Fail::Integrity);
            }
            attachments.push(json!({
                "id": uuid::Uuid::new_v4().to_string(),
                "media_url": item.media_url,
                "media_type": serde_json::to_value(item.media_type).unwrap_or(Value::Null),
                "file_size": item.file_size.unwrap_or(0),
                "mime_type": mime,
                "caption": item.caption.clone().flatten(),
                "metadata": item.metadata.clone().unwrap_or_default(),
            }));
        }
        let content = if media.is_empty() {
            sanitize::clean(&req.content)
        } else {
            "Media Files".to_owned()
        };
        // Content that sanitises to nothing is stored, as in the original (see `stored`).
        let content = sanitize::stored(content);
        let mut extra = json!({"messaging": {"is_forwarded": forwarded.is_some()}});
        if !attachments.is_empty() {
            extra["attachments"] = Value::Array(attachments);
        }
        let pending = self
            .core
            .submit_message(NewMessage {
                room_id: room.id.clone(),
                author: UserRef {
                    id: cx.user.id.clone(),
                    username: cx.user.username.clone(),
                },
                author_name: None,
                content,
                reply_to: parent.as_ref().map(|p| MessageId(p.id.clone())),
                forwarded_from: forwarded.as_ref().map(|f| MessageId(f.id.clone())),
                extra: Some(extra),
            })
            .await
            .map_err(|e| match e {
                crate::core::CoreError::Forbidden(_) => Fail::Permission(guards::CANNOT_SEND),
                e => e.into(),
            })?;
        let stored = pending.await?;
        if self.config.enable_notification {
            let recipients: Vec<String> = members
                .iter()
                .filter(|m| m.id != cx.user.id)
                .map(|m| m.id.0.clone())
                .collect();
            if !recipients.is_empty() {
                let kind = if parent.is_some() {
                    "REPLY"
                } else {
                    "NEW_MESSAGE"
                };
                db::exec(
                    &self.store,
                    db::notification(&stored.id.0, &room.id.0, kind, &recipients, now_ms()),
                )
                .await?;
            }
        }
        let message = self.message(&stored.id.0).await?.ok_or(Fail::NotFound)?;
        self.to_room(&room.id, &ServerFrame::MessageDispatchEvent(message))
            .await;
        Ok(())
    }

    pub(super) async fn acknowledge(&self, cx: &mut Cx, req: MessageIdsData) -> Res<()> {
        let ids = guards::message_ids(&req.message_id)?;
        let rows = self.accessible_messages(&cx.user.id, &ids).await?;
        let now = now_ms();
        let mut stmts = Vec::new();
        for m in &rows {
            let me = B::T(cx.user.id.0.clone());
            let id = B::T(m.id.clone());
            stmts.push(db::stmt(
                "DELETE FROM messaging_notification_recipients WHERE user_id = ? AND notification_id IN \
                 (SELECT id FROM messaging_notifications WHERE message_id = ?)",
                vec![me.clone(), id.clone()],
            ));
            stmts.push(db::stmt(
                "DELETE FROM messaging_notifications WHERE message_id = ? AND NOT EXISTS \
                 (SELECT 1 FROM messaging_notification_recipients r WHERE r.notification_id = messaging_notifications.id)",
                vec![id.clone()],
            ));
            stmts.push(db::stmt(
                "INSERT OR IGNORE INTO messaging_delivered (message_id, user_id, delivered_at) VALUES (?, ?, ?)",
                vec![id, me, B::I(now)],
            ));
        }
        db::exec(&self.store, stmts).await?;
        // One frame per original sender, to that sender's devices.
        let mut by_sender: Vec<(String, Vec<proto::Message>)> = Vec::new();
        for m in &rows {
            let Some(msg) = self.message(&m.id).await? else {
                continue;
            };
            match by_sender.iter_mut().find(|(s, _)| s == &m.author_id) {
                Some((_, list)) => list.push(msg),
                None => by_sender.push((m.author_id.clone(), vec![msg])),
            }
        }
        for (sender, list) in by_sender {
            let frame = ServerFrame::MessageDeliveredDispatchEvent(
                proto::MessageDeliveredDispatchEventData(list),
            );
            self.to_user(&UserId(sender), &frame).await;
        }
        Ok(())
    }

    pub(super) async fn read(&self, cx: &mut Cx, req: MessageIdsData) -> Res<()> {
        let single = !req.message_id.is_array();
        let ids = guards::message_ids(&req.message_id)?;
        let rows = self.accessible_messages(&cx.user.id, &ids).await?;
        let rows: Vec<MsgRow> = rows
            .into_iter()
            .filter(|m| m.author_id != cx.user.id.0)
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        for m in &rows {
            if db::has_receipt(self.store.read_pool(), &m.id, &cx.user.id.0).await? {
                return Err(Fail::Integrity);
            }
        }
        let now = now_ms();
        let stmts = rows
            .iter()
            .map(|m| {
                db::stmt(
                    "INSERT INTO messaging_read_receipts (message_id, reader_id, read_at) VALUES (?, ?, ?)",
                    vec![B::T(m.id.clone()), B::T(cx.user.id.0.clone()), B::I(now)],
                )
            })
            .collect();
        db::exec(&self.store, stmts)
            .await
            .map_err(|_| Fail::Integrity)?;
        if single {
            let msg = self.message(&rows[0].id).await?.ok_or(Fail::NotFound)?;
            let data = proto::ReadReceiptDispatchEventData(
                serde_json::to_value(&msg).map_err(|e| Fail::Internal(e.to_string()))?,
            );
            self.to_room(
                &RoomId(rows[0].room_id.clone()),
                &ServerFrame::ReadReceiptDispatchEvent(data),
            )
            .await;
            return Ok(());
        }
        let mut by_room: BTreeMap<usize, (String, Vec<proto::Message>)> = BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        for m in &rows {
            let Some(msg) = self.message(&m.id).await? else {
                continue;
            };
            let pos = match order.iter().position(|r| r == &m.room_id) {
                Some(p) => p,
                None => {
                    order.push(m.room_id.clone());
                    order.len() - 1
                }
            };
            by_room
                .entry(pos)
                .or_insert_with(|| (m.room_id.clone(), Vec::new()))
                .1
                .push(msg);
        }
        for (_, (room, list)) in by_room {
            let data = proto::ReadReceiptDispatchEventData(
                serde_json::to_value(&list).map_err(|e| Fail::Internal(e.to_string()))?,
            );
            self.to_room(&RoomId(room), &ServerFrame::ReadReceiptDispatchEvent(data))
                .await;
        }
        Ok(())
    }

    async fn set_reaction(&self, cx: &Cx, msg: &str, emoji: &str, present: bool) -> Res<()> {
        let own = shared().own(render::react_key(msg, &cx.user.id, emoji, present));
        let r = self
            .core
            .set_reaction(&cx.user, &MessageId(msg.to_owned()), emoji, present)
            .await;
        self.release(own).await;
        r?;
        Ok(())
    }

    pub(super) async fn react(&self, cx: &mut Cx, req: MessageReactData) -> Res<()> {
        let id = match &req.message_id {
            Value::Array(_) => return Err(Fail::invalid("Invalid message_id type")),
            v => guards::message_ids(v)?,
        };
        let rows = self.accessible_messages(&cx.user.id, &id).await?;
        let Some(row) = rows.into_iter().next() else {
            return Err(Fail::NotFound);
        };
        let current = db::user_reaction(self.store.read_pool(), &row.id, &cx.user.id.0).await?;
        let data = match req.r#type {
            MessageReactDataType::Add => {
                let content = match req.reaction_content.as_deref() {
                    None => return Err(Fail::field("reaction_content", "This field is required.")),
                    Some(c) if c.trim().is_empty() => {
                        return Err(Fail::field(
                            "reaction_content",
                            "This field may not be blank.",
                        ));
                    }
                    Some(c) => c.to_owned(),
                };
                if current.as_deref() == Some(content.as_str()) {
                    return Err(Fail::Integrity);
                }
                if let Some(old) = &current {
                    self.set_reaction(cx, &row.id, old, false).await?;
                }
                self.set_reaction(cx, &row.id, &content, true).await?;
                if self.config.enable_notification {
                    let recipients: Vec<String> = self
                        .members(&RoomId(row.room_id.clone()))
                        .await?
                        .into_iter()
                        .filter(|m| m.id != cx.user.id)
                        .map(|m| m.id.0)
                        .collect();
                    if !recipients.is_empty() {
                        db::exec(
                            &self.store,
                            db::notification(
                                &row.id,
                                &row.room_id,
                                "REACTION",
                                &recipients,
                                now_ms(),
                            ),
                        )
                        .await?;
                    }
                }
                let message = self.message(&row.id).await?.ok_or(Fail::NotFound)?;
                proto::ReactionDispatchData {
                    status: proto::ReactionDispatchDataStatus::Successful,
                    r#type: Some("add".into()),
                    action: None,
                    message,
                }
            }
            MessageReactDataType::Remove => {
                let status = match &current {
                    Some(old) => {
                        self.set_reaction(cx, &row.id, old, false).await?;
                        proto::ReactionDispatchDataStatus::Successful
                    }
                    None => proto::ReactionDispatchDataStatus::Failed,
                };
                let message = self.message(&row.id).await?.ok_or(Fail::NotFound)?;
                proto::ReactionDispatchData {
                    status,
                    r#type: None,
                    action: Some("remove".into()),
                    message,
                }
            }
        };
        self.to_room(
            &RoomId(row.room_id.clone()),
            &ServerFrame::ReactionDispatchEvent(data),
        )
        .await;
        Ok(())
    }

    pub(super) async fn typing(&self, cx: &mut Cx, req: MessageTypingData) -> Res<()> {
        let room = self.find_room(&req.room_id).await?;
        let members = self.members(&room.id).await?;
        self.check_send(&cx.user.id, &room, &members).await?;
        let frame = ServerFrame::MessageTypingDispatchEvent(proto::MessageTypingDispatchData {
            username: cx.user.username.clone(),
        });
        self.to_room(&room.id, &frame).await;
        Ok(())
    }

    pub(super) async fn modify(&self, cx: &mut Cx, req: MessageModifyData) -> Res<()> {
        let ids = guards::message_ids(&req.message_id)?;
        if ids.is_empty() {
            return Err(Fail::invalid(
                "Atleast one message_id is required for modification",
            ));
        }
        // `_is_message_sender`
        let mut rows = Vec::with_capacity(ids.len());
        for id in &ids {
            let row = match db::message(self.store.read_pool(), id).await? {
                Some(r) if !r.deleted => r,
                _ => return Err(Fail::NotFound),
            };
            if row.author_id != cx.user.id.0 {
                return Err(Fail::Permission(
                    "User is not authorized to modify this message",
                ));
            }
            rows.push(row);
        }
        if rows.iter().any(|r| r.room_id != rows[0].room_id) {
            return Err(Fail::invalid(
                "All messages marked for modification must come from the same room",
            ));
        }
        // `_have_message_permission`
        self.accessible_messages(&cx.user.id, &ids).await?;
        let room = RoomId(rows[0].room_id.clone());
        let data = match req.action {
            MessageModifyDataAction::Delete => {
                let mode = if self.config.message_soft_delete {
                    DeleteMode::Soft
                } else {
                    DeleteMode::Hard
                };
                for r in &rows {
                    let own = shared().own(render::delete_key(&r.id));
                    let done = self
                        .core
                        .delete_message(&cx.user, &MessageId(r.id.clone()), mode)
                        .await;
                    self.release(own).await;
                    done?;
                    db::exec(
                        &self.store,
                        vec![db::stmt(
                            "DELETE FROM messaging_notifications WHERE message_id = ?",
                            vec![B::T(r.id.clone())],
                        )],
                    )
                    .await?;
                }
                let message_ids = match &req.message_id {
                    Value::Array(a) => a.clone(),
                    v => vec![v.clone()],
                };
                proto::MessageModificationDispatchData {
                    status: "successful".into(),
                    action: proto::MessageModificationDispatchDataAction::Delete,
                    message_ids: Some(message_ids),
                    message: None,
                }
            }
            MessageModifyDataAction::Update => {
                if rows.len() > 1 {
                    return Err(Fail::invalid("You can only update one message at a time"));
                }
                let ef_empty = cx
                    .raw
                    .get("extra_fields")
                    .and_then(Value::as_object)
                    .is_some_and(|o| o.is_empty());
                let Some(ef) = req.extra_fields.clone().filter(|_| !ef_empty) else {
                    return Err(Fail::invalid(
                        "'extra_fields' field should be provided for update action",
                    ));
                };
                let Some(content) = ef.content else {
                    return Err(Fail::invalid(
                        "Content should be provided for update action",
                    ));
                };
                if content.trim().is_empty() {
                    return Err(Fail::field("content", "This field may not be blank."));
                }
                let content = sanitize::stored(sanitize::clean(&content));
                let own = shared().own(render::edit_key(&rows[0].id));
                let done = self
                    .core
                    .edit_message(&cx.user, &MessageId(rows[0].id.clone()), content)
                    .await;
                self.release(own).await;
                done?;
                let message = self.message(&rows[0].id).await?.ok_or(Fail::NotFound)?;
                proto::MessageModificationDispatchData {
                    status: "successful".into(),
                    action: proto::MessageModificationDispatchDataAction::Update,
                    message_ids: None,
                    message: Some(message),
                }
            }
        };
        self.to_room(&room, &ServerFrame::MessageModificationDispatchEvent(data))
            .await;
        Ok(())
    }
}
