//! The generated `Handler`: one method per OriginChats command.

use super::OriginChats;
use super::frames::with_listener;
use super::messages::{fail, internal, send};
use super::session::Cx;
use crate::net::ws::Reply;
use chorus_protocol::originchats::{self as proto, Handler};
use serde_json::json;

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
        match self.channels_enriched(&account).await {
            Ok(val) => send(
                cx,
                with_listener(json!({"cmd": "channels_get", "val": val}), l),
            ),
            Err(e) => send(cx, internal("channels_get", e, l)),
        }
    }

    async fn users_online(&self, cx: &mut Cx, r: proto::UsersOnline) -> Reply {
        OriginChats::users_online(self, cx, r).await
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

    // polls, emoji, webhooks, attachments, unreads, pings, embeds, server info
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

    // bots: slash commands, plugins, web push, polls
    async fn slash_register(&self, cx: &mut Cx, r: proto::SlashRegister) -> Reply {
        OriginChats::slash_register(self, cx, r).await
    }
    async fn slash_list(&self, cx: &mut Cx, r: proto::SlashList) -> Reply {
        OriginChats::slash_list(self, cx, r).await
    }
    async fn slash_call(&self, cx: &mut Cx, r: proto::SlashCall) -> Reply {
        OriginChats::slash_call(self, cx, r).await
    }
    async fn slash_response(&self, cx: &mut Cx, r: proto::SlashResponse) -> Reply {
        OriginChats::slash_response(self, cx, r).await
    }
    async fn plugins_list(&self, cx: &mut Cx, r: proto::PluginsList) -> Reply {
        OriginChats::plugins_list(self, cx, r).await
    }
    async fn plugins_reload(&self, cx: &mut Cx, r: proto::PluginsReload) -> Reply {
        OriginChats::plugins_reload(self, cx, r).await
    }
    async fn push_get_vapid(&self, cx: &mut Cx, r: proto::PushGetVapid) -> Reply {
        OriginChats::push_get_vapid(self, cx, r).await
    }
    async fn push_subscribe(&self, cx: &mut Cx, r: proto::PushSubscribe) -> Reply {
        OriginChats::push_subscribe(self, cx, r).await
    }
    async fn push_unsubscribe(&self, cx: &mut Cx, r: proto::PushUnsubscribe) -> Reply {
        OriginChats::push_unsubscribe(self, cx, r).await
    }
    async fn poll_create(&self, cx: &mut Cx, r: proto::PollCreate) -> Reply {
        OriginChats::poll_create(self, cx, r).await
    }
    async fn poll_vote(&self, cx: &mut Cx, r: proto::PollVote) -> Reply {
        OriginChats::poll_vote(self, cx, r).await
    }
    async fn poll_end(&self, cx: &mut Cx, r: proto::PollEnd) -> Reply {
        OriginChats::poll_end(self, cx, r).await
    }
    async fn poll_results(&self, cx: &mut Cx, r: proto::PollResults) -> Reply {
        OriginChats::poll_results(self, cx, r).await
    }
    async fn poll_get(&self, cx: &mut Cx, r: proto::PollGet) -> Reply {
        OriginChats::poll_get(self, cx, r).await
    }
    // users, roles, moderation, rate limits, server settings, modlog
    async fn users_list(&self, cx: &mut Cx, r: proto::UsersList) -> Reply {
        OriginChats::users_list(self, cx, r).await
    }
    async fn status_set(&self, cx: &mut Cx, r: proto::StatusSet) -> Reply {
        OriginChats::status_set(self, cx, r).await
    }
    async fn status_get(&self, cx: &mut Cx, r: proto::StatusGet) -> Reply {
        OriginChats::status_get(self, cx, r).await
    }
    async fn user_update(&self, cx: &mut Cx, r: proto::UserUpdate) -> Reply {
        OriginChats::user_update(self, cx, r).await
    }
    async fn user_timeout(&self, cx: &mut Cx, r: proto::UserTimeout) -> Reply {
        OriginChats::user_timeout(self, cx, r).await
    }
    async fn user_ban(&self, cx: &mut Cx, r: proto::UserBan) -> Reply {
        OriginChats::user_ban(self, cx, r).await
    }
    async fn user_unban(&self, cx: &mut Cx, r: proto::UserUnban) -> Reply {
        OriginChats::user_unban(self, cx, r).await
    }
    async fn users_banned_list(&self, cx: &mut Cx, r: proto::UsersBannedList) -> Reply {
        OriginChats::users_banned_list(self, cx, r).await
    }
    async fn user_leave(&self, cx: &mut Cx, r: proto::UserLeave) -> Reply {
        OriginChats::user_leave(self, cx, r).await
    }
    async fn user_roles_get(&self, cx: &mut Cx, r: proto::UserRolesGet) -> Reply {
        OriginChats::user_roles_get(self, cx, r).await
    }
    async fn user_roles_set(&self, cx: &mut Cx, r: proto::UserRolesSet) -> Reply {
        OriginChats::user_roles_set(self, cx, r).await
    }
    async fn pfp_set(&self, cx: &mut Cx, r: proto::PfpSet) -> Reply {
        OriginChats::pfp_set(self, cx, r).await
    }
    async fn pfp_get(&self, cx: &mut Cx, r: proto::PfpGet) -> Reply {
        OriginChats::pfp_get(self, cx, r).await
    }
    async fn roles_list(&self, cx: &mut Cx, r: proto::RolesList) -> Reply {
        OriginChats::roles_list(self, cx, r).await
    }
    async fn role_create(&self, cx: &mut Cx, r: proto::RoleCreate) -> Reply {
        OriginChats::role_create(self, cx, r).await
    }
    async fn role_update(&self, cx: &mut Cx, r: proto::RoleUpdate) -> Reply {
        OriginChats::role_update(self, cx, r).await
    }
    async fn role_set(&self, cx: &mut Cx, r: proto::RoleSet) -> Reply {
        OriginChats::role_set(self, cx, r).await
    }
    async fn role_delete(&self, cx: &mut Cx, r: proto::RoleDelete) -> Reply {
        OriginChats::role_delete(self, cx, r).await
    }
    async fn role_reorder(&self, cx: &mut Cx, r: proto::RoleReorder) -> Reply {
        OriginChats::role_reorder(self, cx, r).await
    }
    async fn role_permissions_set(&self, cx: &mut Cx, r: proto::RolePermissionsSet) -> Reply {
        OriginChats::role_permissions_set(self, cx, r).await
    }
    async fn role_permissions_get(&self, cx: &mut Cx, r: proto::RolePermissionsGet) -> Reply {
        OriginChats::role_permissions_get(self, cx, r).await
    }
    async fn self_role_add(&self, cx: &mut Cx, r: proto::SelfRoleAdd) -> Reply {
        OriginChats::self_role_add(self, cx, r).await
    }
    async fn self_role_remove(&self, cx: &mut Cx, r: proto::SelfRoleRemove) -> Reply {
        OriginChats::self_role_remove(self, cx, r).await
    }
    async fn self_roles_list(&self, cx: &mut Cx, r: proto::SelfRolesList) -> Reply {
        OriginChats::self_roles_list(self, cx, r).await
    }
    async fn rate_limit_status(&self, cx: &mut Cx, r: proto::RateLimitStatus) -> Reply {
        OriginChats::rate_limit_status(self, cx, r).await
    }
    async fn rate_limit_reset(&self, cx: &mut Cx, r: proto::RateLimitReset) -> Reply {
        OriginChats::rate_limit_reset(self, cx, r).await
    }
    async fn server_update(&self, cx: &mut Cx, r: proto::ServerUpdate) -> Reply {
        OriginChats::server_update(self, cx, r).await
    }
    async fn modlog_get(&self, cx: &mut Cx, r: proto::ModlogGet) -> Reply {
        OriginChats::modlog_get(self, cx, r).await
    }
    async fn modlog_summary(&self, cx: &mut Cx, r: proto::ModlogSummary) -> Reply {
        OriginChats::modlog_summary(self, cx, r).await
    }
    // threads, channel structure, lookups, voice
    async fn thread_create(&self, cx: &mut Cx, r: proto::ThreadCreate) -> Reply {
        OriginChats::thread_create(self, cx, r).await
    }
    async fn thread_get(&self, cx: &mut Cx, r: proto::ThreadGet) -> Reply {
        OriginChats::thread_get(self, cx, r).await
    }
    async fn thread_messages(&self, cx: &mut Cx, r: proto::ThreadMessages) -> Reply {
        OriginChats::thread_messages(self, cx, r).await
    }
    async fn thread_update(&self, cx: &mut Cx, r: proto::ThreadUpdate) -> Reply {
        OriginChats::thread_update(self, cx, r).await
    }
    async fn thread_delete(&self, cx: &mut Cx, r: proto::ThreadDelete) -> Reply {
        OriginChats::thread_delete(self, cx, r).await
    }
    async fn thread_join(&self, cx: &mut Cx, r: proto::ThreadJoin) -> Reply {
        OriginChats::thread_join(self, cx, r).await
    }
    async fn thread_leave(&self, cx: &mut Cx, r: proto::ThreadLeave) -> Reply {
        OriginChats::thread_leave(self, cx, r).await
    }
    async fn channel_update(&self, cx: &mut Cx, r: proto::ChannelUpdate) -> Reply {
        OriginChats::channel_update(self, cx, r).await
    }
    async fn channel_move(&self, cx: &mut Cx, r: proto::ChannelMove) -> Reply {
        OriginChats::channel_move(self, cx, r).await
    }
    async fn messages_around(&self, cx: &mut Cx, r: proto::MessagesAround) -> Reply {
        OriginChats::messages_around(self, cx, r).await
    }
    async fn message_replies(&self, cx: &mut Cx, r: proto::MessageReplies) -> Reply {
        OriginChats::message_replies(self, cx, r).await
    }
    async fn messages_search(&self, cx: &mut Cx, r: proto::MessagesSearch) -> Reply {
        OriginChats::messages_search(self, cx, r).await
    }
    async fn messages_pinned(&self, cx: &mut Cx, r: proto::MessagesPinned) -> Reply {
        OriginChats::messages_pinned(self, cx, r).await
    }
    async fn voice_join(&self, cx: &mut Cx, r: proto::VoiceJoin) -> Reply {
        OriginChats::voice_join(self, cx, r).await
    }
    async fn voice_leave(&self, cx: &mut Cx, r: proto::VoiceLeave) -> Reply {
        OriginChats::voice_leave(self, cx, r).await
    }
    async fn voice_mute(&self, cx: &mut Cx, r: proto::VoiceMute) -> Reply {
        let l = r.listener.clone();
        self.voice_set_mute(cx, true, l.as_deref()).await
    }
    async fn voice_unmute(&self, cx: &mut Cx, r: proto::VoiceUnmute) -> Reply {
        let l = r.listener.clone();
        self.voice_set_mute(cx, false, l.as_deref()).await
    }
    async fn voice_state(&self, cx: &mut Cx, r: proto::VoiceState) -> Reply {
        OriginChats::voice_state(self, cx, r).await
    }
    // custom emoji, attachments, webhooks
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
