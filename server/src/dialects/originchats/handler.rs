//! The generated `Handler`: one method per OriginChats command.

use super::OriginChats;
use super::frames::with_listener;
use super::messages::{fail, internal, send};
use super::session::Cx;
use crate::net::ws::Reply;
use chorus_protocol::originchats::{self as proto, Handler};
use serde_json::json;

/// Commands of the spec that Chorus does not serve yet answer like the reference answers a
/// command it has no handler for.
macro_rules! not_yet {
    ($($name:ident: $ty:ident,)*) => {
        $(
            async fn $name(&self, cx: &mut Cx, r: proto::$ty) -> Reply {
                self.unknown(cx, stringify!($name), r.listener.as_deref())
            }
        )*
    };
}

impl OriginChats {
    fn unknown(&self, cx: &Cx, cmd: &str, l: Option<&str>) -> Reply {
        send(cx, fail(cmd, &format!("Unknown command: {cmd}"), l))
    }
}

impl Handler for OriginChats {
    type Context = Cx;
    /// Direct replies are queued on the connection (behind any side packets) or, for writes,
    /// sent once durable.
    type Output = Reply;

    async fn auth(&self, cx: &mut Cx, r: proto::Auth) -> Reply {
        if cx.account.is_some() {
            return self.unknown(cx, "auth", r.listener.as_deref());
        }
        self.rotur_auth(cx, r.validator).await;
        Reply::None
    }

    async fn login(&self, cx: &mut Cx, r: proto::Login) -> Reply {
        if cx.account.is_some() {
            return self.unknown(cx, "login", r.listener.as_deref());
        }
        OriginChats::login(self, cx, r.username, r.password).await;
        Reply::None
    }

    async fn register(&self, cx: &mut Cx, r: proto::Register) -> Reply {
        if cx.account.is_some() {
            return self.unknown(cx, "register", r.listener.as_deref());
        }
        OriginChats::register(self, cx, r.username, r.password).await;
        Reply::None
    }

    async fn ping(&self, cx: &mut Cx, r: proto::Ping) -> Reply {
        send(
            cx,
            with_listener(json!({"cmd": "pong", "val": "pong"}), r.listener.as_deref()),
        )
    }

    async fn message_new(&self, cx: &mut Cx, r: proto::MessageNew) -> Reply {
        OriginChats::message_new(self, cx, r).await
    }

    async fn typing(&self, cx: &mut Cx, r: proto::Typing) -> Reply {
        OriginChats::typing(self, cx, r).await
    }

    async fn channels_get(&self, cx: &mut Cx, r: proto::ChannelsGet) -> Reply {
        let l = r.listener.as_deref();
        let Some(account) = cx.account.clone() else {
            return Reply::None;
        };
        match self.channels_json(&account).await {
            Ok(val) => send(
                cx,
                with_listener(json!({"cmd": "channels_get", "val": val}), l),
            ),
            Err(e) => send(cx, internal("channels_get", e, l)),
        }
    }

    async fn users_online(&self, cx: &mut Cx, r: proto::UsersOnline) -> Reply {
        let l = r.listener.as_deref();
        let mut users = Vec::new();
        // One entry per authenticated connection, as the reference lists them.
        for (_, id) in self.conns.authenticated() {
            match self.account_by_id(&id).await {
                Ok(a) => users.push(json!({
                    "username": a.user.username,
                    "nickname": a.user.display_name,
                    "roles": a.roles,
                    "color": a.color,
                    "status": {"status": "online", "text": ""},
                })),
                Err(e) => return send(cx, internal("users_online", e, l)),
            }
        }
        send(
            cx,
            with_listener(json!({"cmd": "users_online", "users": users}), l),
        )
    }

    async fn messages_get(&self, cx: &mut Cx, r: proto::MessagesGet) -> Reply {
        OriginChats::messages_get(self, cx, r).await
    }

    async fn message_get(&self, cx: &mut Cx, r: proto::MessageGet) -> Reply {
        OriginChats::message_get(self, cx, r).await
    }

    async fn message_edit(&self, cx: &mut Cx, r: proto::MessageEdit) -> Reply {
        OriginChats::message_edit(self, cx, r).await
    }

    async fn message_delete(&self, cx: &mut Cx, r: proto::MessageDelete) -> Reply {
        OriginChats::message_delete(self, cx, r).await
    }

    async fn message_react_add(&self, cx: &mut Cx, r: proto::MessageReactAdd) -> Reply {
        let l = r.listener.clone();
        let req = super::message_ops::React {
            id: r.id,
            emoji: r.emoji,
            channel: r.channel,
            thread: r.thread_id,
        };
        self.react(cx, true, req, l.as_deref()).await
    }

    async fn message_react_remove(&self, cx: &mut Cx, r: proto::MessageReactRemove) -> Reply {
        let l = r.listener.clone();
        let req = super::message_ops::React {
            id: r.id,
            emoji: r.emoji,
            channel: r.channel,
            thread: r.thread_id,
        };
        self.react(cx, false, req, l.as_deref()).await
    }

    async fn message_pin(&self, cx: &mut Cx, r: proto::MessagePin) -> Reply {
        let l = r.listener.clone();
        self.pin(cx, true, r.channel, r.id, l.as_deref()).await
    }

    async fn message_unpin(&self, cx: &mut Cx, r: proto::MessageUnpin) -> Reply {
        let l = r.listener.clone();
        self.pin(cx, false, r.channel, r.id, l.as_deref()).await
    }

    async fn channel_create(&self, cx: &mut Cx, r: proto::ChannelCreate) -> Reply {
        OriginChats::channel_create(self, cx, r).await
    }

    async fn channel_delete(&self, cx: &mut Cx, r: proto::ChannelDelete) -> Reply {
        OriginChats::channel_delete(self, cx, r).await
    }

    not_yet! {
    messages_pinned: MessagesPinned,
    messages_search: MessagesSearch,
    messages_around: MessagesAround,
    message_replies: MessageReplies,
    channel_update: ChannelUpdate,
    channel_move: ChannelMove,
    users_list: UsersList,
    status_set: StatusSet,
    status_get: StatusGet,
    user_update: UserUpdate,
    user_timeout: UserTimeout,
    user_ban: UserBan,
    user_unban: UserUnban,
    users_banned_list: UsersBannedList,
    user_leave: UserLeave,
    user_roles_get: UserRolesGet,
    user_roles_set: UserRolesSet,
    pfp_set: PfpSet,
    pfp_get: PfpGet,
    roles_list: RolesList,
    role_create: RoleCreate,
    role_update: RoleUpdate,
    role_set: RoleSet,
    role_delete: RoleDelete,
    role_reorder: RoleReorder,
    role_permissions_set: RolePermissionsSet,
    role_permissions_get: RolePermissionsGet,
    self_role_add: SelfRoleAdd,
    self_role_remove: SelfRoleRemove,
    self_roles_list: SelfRolesList,
    voice_join: VoiceJoin,
    voice_leave: VoiceLeave,
    voice_mute: VoiceMute,
    voice_unmute: VoiceUnmute,
    voice_state: VoiceState,
    thread_create: ThreadCreate,
    thread_get: ThreadGet,
    thread_messages: ThreadMessages,
    thread_update: ThreadUpdate,
    thread_delete: ThreadDelete,
    thread_join: ThreadJoin,
    thread_leave: ThreadLeave,
    slash_register: SlashRegister,
    slash_list: SlashList,
    slash_call: SlashCall,
    slash_response: SlashResponse,
    plugins_list: PluginsList,
    plugins_reload: PluginsReload,
    rate_limit_status: RateLimitStatus,
    rate_limit_reset: RateLimitReset,
    server_update: ServerUpdate,
    modlog_get: ModlogGet,
    modlog_summary: ModlogSummary,
    push_get_vapid: PushGetVapid,
    push_subscribe: PushSubscribe,
    push_unsubscribe: PushUnsubscribe,
    poll_create: PollCreate,
    poll_vote: PollVote,
    poll_end: PollEnd,
    poll_results: PollResults,
    poll_get: PollGet,
    }

    // originchats2: polls, emoji, webhooks, attachments, unreads, pings, embeds, server info
    async fn server_info(&self, cx: &mut Cx, r: proto::ServerInfo) -> Reply {
        OriginChats::server_info(self, cx, r).await
    }
    async fn pings_get(&self, cx: &mut Cx, r: proto::PingsGet) -> Reply {
        OriginChats::pings_get(self, cx, r).await
    }
    async fn embeds_list(&self, cx: &mut Cx, r: proto::EmbedsList) -> Reply {
        OriginChats::embeds_list(self, cx, r).await
    }
    async fn unreads_count(&self, cx: &mut Cx, r: proto::UnreadsCount) -> Reply {
        OriginChats::unreads_count(self, cx, r).await
    }
    async fn unreads_get(&self, cx: &mut Cx, r: proto::UnreadsGet) -> Reply {
        OriginChats::unreads_get(self, cx, r).await
    }
    async fn unreads_ack(&self, cx: &mut Cx, r: proto::UnreadsAck) -> Reply {
        OriginChats::unreads_ack(self, cx, r).await
    }

    // files (issue 8): custom emoji, attachments, webhooks
    async fn emoji_add(&self, cx: &mut Cx, r: proto::EmojiAdd) -> Reply {
        OriginChats::emoji_add(self, cx, r).await
    }
    async fn emoji_delete(&self, cx: &mut Cx, r: proto::EmojiDelete) -> Reply {
        OriginChats::emoji_delete(self, cx, r).await
    }
    async fn emoji_update(&self, cx: &mut Cx, r: proto::EmojiUpdate) -> Reply {
        OriginChats::emoji_update(self, cx, r).await
    }
    async fn emoji_get_all(&self, cx: &mut Cx, r: proto::EmojiGetAll) -> Reply {
        OriginChats::emoji_get_all(self, cx, r).await
    }
    async fn emoji_get_id(&self, cx: &mut Cx, r: proto::EmojiGetId) -> Reply {
        OriginChats::emoji_get_id(self, cx, r).await
    }
    async fn emoji_get_filename(&self, cx: &mut Cx, r: proto::EmojiGetFilename) -> Reply {
        OriginChats::emoji_get_filename(self, cx, r).await
    }
    async fn attachment_get(&self, cx: &mut Cx, r: proto::AttachmentGet) -> Reply {
        OriginChats::attachment_get(self, cx, r).await
    }
    async fn attachment_delete(&self, cx: &mut Cx, r: proto::AttachmentDelete) -> Reply {
        OriginChats::attachment_delete(self, cx, r).await
    }
    async fn webhook_create(&self, cx: &mut Cx, r: proto::WebhookCreate) -> Reply {
        OriginChats::webhook_create(self, cx, r).await
    }
    async fn webhook_get(&self, cx: &mut Cx, r: proto::WebhookGet) -> Reply {
        OriginChats::webhook_get(self, cx, r).await
    }
    async fn webhook_list(&self, cx: &mut Cx, r: proto::WebhookList) -> Reply {
        OriginChats::webhook_list(self, cx, r).await
    }
    async fn webhook_update(&self, cx: &mut Cx, r: proto::WebhookUpdate) -> Reply {
        OriginChats::webhook_update(self, cx, r).await
    }
    async fn webhook_delete(&self, cx: &mut Cx, r: proto::WebhookDelete) -> Reply {
        OriginChats::webhook_delete(self, cx, r).await
    }
    async fn webhook_regenerate(&self, cx: &mut Cx, r: proto::WebhookRegenerate) -> Reply {
        OriginChats::webhook_regenerate(self, cx, r).await
    }
}
