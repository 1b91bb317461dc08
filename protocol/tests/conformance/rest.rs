//! The Plexichat REST bodies, from the OpenAPI 3.1 document: every request and response example
//! validates against its schema (JSON Schema 2020-12, the dialect of OpenAPI 3.1), decodes
//! through the generated type and re-encodes to the same JSON; request-body `decode` accepts
//! exactly what the schema accepts, on every single mutation of every example.

use crate::differential::{Mutation, apply, paths, probes};
use chorus_protocol::de::DecodeErrorKind;
use chorus_protocol::plexichat_rest::{self as api, ROUTES};
use chorus_protocol::rest::Body;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;

fn doc() -> Value {
    serde_json::from_str(api::SPEC_JSON).expect("the embedded document is JSON")
}

/// A draft 2020-12 validator for the schema at `pointer`, resolving `$ref`s in the document.
fn validator(doc: &Value, pointer: &str) -> jsonschema::Validator {
    chorus_protocol::oracle::validator(doc, pointer).unwrap_or_else(|e| panic!("{e}"))
}

/// (example name, value) of a media type object, `$ref`s to `components/examples` resolved.
fn examples(doc: &Value, media: &str) -> Vec<(String, Value)> {
    let m = doc
        .pointer(media.strip_prefix('#').unwrap())
        .unwrap_or_else(|| panic!("no media type object at {media}"));
    let examples = m["examples"]
        .as_object()
        .unwrap_or_else(|| panic!("{media} has no examples"));
    assert!(!examples.is_empty(), "{media} has no examples");
    examples
        .iter()
        .map(|(name, e)| {
            let e = match e.get("$ref").and_then(Value::as_str) {
                Some(r) => doc.pointer(r.strip_prefix('#').unwrap()).unwrap(),
                None => e,
            };
            (name.clone(), e["value"].clone())
        })
        .collect()
}

/// Every body of every route: (route, role, body), each media type object once.
fn bodies() -> Vec<(&'static str, String, Body)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for r in ROUTES {
        let all = r
            .request
            .map(|b| ("request".to_owned(), b))
            .into_iter()
            .chain(
                r.responses
                    .iter()
                    .filter_map(|resp| resp.body.map(|b| (resp.status.to_string(), b))),
            );
        for (role, body) in all {
            if seen.insert(body.media) {
                out.push((r.operation_id, role, body));
            }
        }
    }
    out
}

#[test]
fn every_example_validates_decodes_and_round_trips() {
    let doc = doc();
    let mut count = 0;
    let mut snapshot = String::new();
    for (op, role, body) in bodies() {
        let schema = validator(&doc, body.schema);
        for (name, value) in examples(&doc, body.media) {
            let errors: Vec<String> = schema.iter_errors(&value).map(|e| e.to_string()).collect();
            assert!(
                errors.is_empty(),
                "{op} {role}: example {name} violates {}: {errors:?}",
                body.schema
            );
            let encoded = (body.reencode)(&value.to_string()).unwrap_or_else(|e| {
                panic!(
                    "{op} {role}: example {name} does not decode as {}: {e}",
                    body.type_name
                )
            });
            let back: Value = serde_json::from_str(&encoded).unwrap();
            assert_eq!(
                back, value,
                "{op} {role}: example {name} does not re-encode to itself"
            );
            writeln!(snapshot, "{op} {role} {name}: {encoded}").unwrap();
            count += 1;
        }
    }
    assert!(count >= 25, "only {count} examples");
    insta::assert_snapshot!("plexichat_rest_examples", snapshot);
}

#[test]
fn the_route_table_covers_the_served_core() {
    let table: Vec<String> = ROUTES
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {} -> {} {}",
                r.method,
                r.path,
                r.operation_id,
                r.request.map_or("-", |b| b.type_name),
                r.success_status,
                r.success().map_or("-", |b| b.type_name)
            )
        })
        .collect();
    assert_eq!(
        table,
        [
            "GET /api/v1/version getVersion - -> 200 VersionResponse",
            "POST /api/v1/version/negotiate negotiateVersion NegotiateRequest -> 200 NegotiateResponse",
            "GET /api/v1/capabilities getCapabilities - -> 200 CapabilitiesResponse",
            "GET /api/v1/health getHealth - -> 200 HealthResponse",
            "POST /api/v1/auth/register register RegisterRequest -> 200 LoginResponse",
            "POST /api/v1/auth/login login LoginRequest -> 200 LoginResponse",
            "POST /api/v1/auth/logout logout - -> 200 Success",
            "POST /api/v1/auth/refresh refresh - -> 200 LoginResponse",
            "GET /api/v1/auth/sessions listSessions - -> 200 SessionList",
            "DELETE /api/v1/auth/sessions/{session_id} revokeSession - -> 200 Success",
            "POST /api/v1/auth/sessions/revoke-all revokeAllSessions RevokeAllSessionsRequest -> 200 RevokeAllSessionsResponse",
            "GET /api/v1/users/@me getCurrentUser - -> 200 User",
            "PATCH /api/v1/users/@me updateCurrentUser UpdateUserRequest -> 200 User",
            "DELETE /api/v1/users/@me deleteCurrentUser DeleteAccountRequest -> 200 Success",
            "GET /api/v1/channels/{channel_id}/messages listMessages - -> 200 MessageList",
            "POST /api/v1/channels/{channel_id}/messages createMessage CreateMessageRequest -> 200 Message",
            "GET /api/v1/channels/{channel_id}/messages/{message_id} getMessage - -> 200 Message",
            "PATCH /api/v1/channels/{channel_id}/messages/{message_id} editMessage EditMessageRequest -> 200 Message",
            "DELETE /api/v1/channels/{channel_id}/messages/{message_id} deleteMessage - -> 200 Success",
            "GET /api/v1/channels/{channel_id}/messages/{message_id}/reactions listReactions - -> 200 ReactionList",
            "DELETE /api/v1/channels/{channel_id}/messages/{message_id}/reactions clearReactions - -> 200 Success",
            "PUT /api/v1/channels/{channel_id}/messages/{message_id}/reactions/{emoji} addReaction - -> 200 Success",
            "DELETE /api/v1/channels/{channel_id}/messages/{message_id}/reactions/{emoji} removeReaction - -> 200 Success",
            "GET /api/v1/channels/{channel_id}/messages/{message_id}/reactions/{emoji} listReactionUsers - -> 200 ReactionUserList",
            "GET /api/v1/channels/{channel_id}/pins listPins - -> 200 MessageList",
            "PUT /api/v1/channels/{channel_id}/pins/{message_id} pinMessage - -> 200 Success",
            "DELETE /api/v1/channels/{channel_id}/pins/{message_id} unpinMessage - -> 200 Success",
            "POST /api/v1/channels/{channel_id}/typing startTyping - -> 200 Success",
            "GET /api/v1/servers/ listServers - -> 200 ServerList",
            "POST /api/v1/servers/ createServer CreateServerRequest -> 200 Server",
            "GET /api/v1/servers/{server_id} getServer - -> 200 Server",
            "PATCH /api/v1/servers/{server_id} updateServer UpdateServerRequest -> 200 Server",
            "DELETE /api/v1/servers/{server_id} deleteServer - -> 200 Success",
            "GET /api/v1/servers/{server_id}/channels listChannels - -> 200 ChannelList",
            "POST /api/v1/servers/{server_id}/channels createChannel CreateChannelRequest -> 200 Channel",
            "GET /api/v1/channels/{channel_id} getChannel - -> 200 Channel",
            "PATCH /api/v1/channels/{channel_id} updateChannel UpdateChannelRequest -> 200 Channel",
            "DELETE /api/v1/channels/{channel_id} deleteChannel - -> 200 Success",
            "GET /api/v1/users/@me/channels listDms - -> 200 DmChannelList",
            "POST /api/v1/users/@me/channels openDm CreateDmRequest -> 200 DmChannel",
            "POST /api/v1/channels/{channel_id}/invites createInvite CreateInviteRequest -> 200 ChannelInvite",
            "GET /api/v1/channels/invites/{code} getInvite - -> 200 InviteInfo",
            "POST /api/v1/channels/invites/{code} joinInvite - -> 200 JoinResponse",
            "DELETE /api/v1/channels/invites/{code} deleteInvite - -> 200 Success",
            "GET /api/v1/servers/{server_id}/invites listInvites - -> 200 ChannelInviteList",
            "POST /api/v1/webhooks createWebhook CreateWebhookRequest -> 200 Webhook",
            "GET /api/v1/webhooks/{webhook_id} getWebhook - -> 200 Webhook",
            "PATCH /api/v1/webhooks/{webhook_id} updateWebhook UpdateWebhookRequest -> 200 Webhook",
            "DELETE /api/v1/webhooks/{webhook_id} deleteWebhook - -> 200 Success",
            "POST /api/v1/webhooks/{webhook_id}/regenerate-token regenerateWebhookToken - -> 200 Webhook",
            "GET /api/v1/channels/{channel_id}/webhooks listChannelWebhooks - -> 200 WebhookList",
            "GET /api/v1/servers/{server_id}/webhooks listServerWebhooks - -> 200 WebhookList",
            "POST /api/v1/channels/{channel_id}/attachments uploadAttachment - -> 200 AttachmentUpload",
            "GET /api/v1/media/attachments/{filename} getMediaAttachment - -> 200 -",
            "POST /api/v1/users/@me/avatar uploadAvatar - -> 200 User",
            "POST /api/v1/servers/{server_id}/icon uploadServerIcon - -> 200 Server",
            "GET /api/v1/avatars/users/{user_id} getUserAvatar - -> 200 -",
            "GET /api/v1/avatars/servers/{server_id} getServerIcon - -> 200 -",
            "GET /api/v1/voice/ice-servers listIceServers - -> 200 IceServerList",
            "GET /api/v1/voice/channels/{channel_id}/info getVoiceChannelInfo - -> 200 VoiceChannelInfo",
            "POST /api/v1/reports/messages reportMessage ReportMessageRequest -> 200 ReportSubmitted",
            "POST /api/v1/reports/users reportUser ReportUserRequest -> 200 ReportSubmitted",
            "POST /api/v1/webhooks/{webhook_id}/{token} executeWebhook ExecuteWebhookRequest -> 200 WebhookResult",
            "POST /api/v1/applications createApplication CreateApplicationRequest -> 201 Application",
            "POST /api/v1/applications/{application_id}/bot createBot - -> 201 BotToken",
            "GET /api/v1/servers/{server_id}/roles listRoles - -> 200 RoleList",
            "POST /api/v1/servers/{server_id}/roles createRole CreateRoleRequest -> 200 ServerRole",
            "PATCH /api/v1/servers/{server_id}/roles/{role_id} updateRole UpdateRoleRequest -> 200 ServerRole",
            "DELETE /api/v1/servers/{server_id}/roles/{role_id} deleteRole - -> 200 Success",
            "PUT /api/v1/servers/{server_id}/members/{member_id}/roles/{role_id} addMemberRole - -> 200 Success",
            "DELETE /api/v1/servers/{server_id}/members/{member_id}/roles/{role_id} removeMemberRole - -> 200 Success",
            "GET /api/v1/servers/{server_id}/permissions getServerPermissions - -> 200 PermissionMap",
            "POST /api/v1/auth/2fa completeTwoFactor TwoFactorRequest -> 200 LoginResponse",
            "GET /api/v1/auth/2fa/status twoFactorStatus - -> 200 TwoFactorStatus",
            "POST /api/v1/auth/2fa/enable enableTwoFactor PasswordRequest -> 200 TwoFactorSetup",
            "POST /api/v1/auth/2fa/confirm confirmTwoFactor CodeRequest -> 200 Success",
            "POST /api/v1/auth/2fa/disable disableTwoFactor DisableTwoFactorRequest -> 200 Success",
            "GET /api/v1/servers/{server_id}/members listMembers - -> 200 MemberList",
            "PATCH /api/v1/servers/{server_id}/members/{member_id} updateMember UpdateMemberRequest -> 200 Member",
            "DELETE /api/v1/servers/{server_id}/members/{member_id} kickMember - -> 200 Success",
            "GET /api/v1/servers/{server_id}/bans listBans - -> 200 BanList",
            "PUT /api/v1/servers/{server_id}/bans/{user_id} banUser BanRequest -> 200 Success",
            "DELETE /api/v1/servers/{server_id}/bans/{user_id} unbanUser - -> 200 Success",
            "POST /api/v1/servers/{server_id}/leave leaveServer - -> 200 Success",
            "PUT /api/v1/users/@me/presence setPresence SetPresenceRequest -> 200 Success",
            "GET /api/v1/users/{user_id} getUser - -> 200 PublicUser",
            "GET /api/v1/status getStatus - -> 200 StatusResponse",
            "GET /api/v1/ready getReady - -> 200 ReadyResponse",
            "GET /api/v1/users/search searchUsers - -> 200 PublicUser",
            "GET /api/v1/users/{user_id}/presence getUserPresence - -> 200 UserPresence",
            "GET /api/v1/users/@me/settings listSettings - -> 200 SettingsResponse",
            "PUT /api/v1/users/@me/settings/bulk putSettingsBulk SettingsBulkRequest -> 200 SettingsResponse",
            "GET /api/v1/users/@me/settings/{key} getSetting - -> 200 Setting",
            "PUT /api/v1/users/@me/settings/{key} putSetting SettingValueRequest -> 200 Setting",
            "DELETE /api/v1/users/@me/settings/{key} deleteSetting - -> 200 Success",
            "GET /api/v1/users/@me/messaging-settings getMessagingSettings - -> 200 MessagingSettings",
            "PATCH /api/v1/users/@me/messaging-settings updateMessagingSettings UpdateMessagingSettingsRequest -> 200 MessagingSettings",
            "GET /api/v1/users/@me/features getFeatures - -> 200 Features",
            "GET /api/v1/users/@me/notifications listNotifications - -> 200 NotificationList",
            "PUT /api/v1/users/@me/notifications/read-all readAllNotifications - -> 200 Success",
            "PUT /api/v1/users/@me/notifications/{notification_id}/read readNotification - -> 200 Success",
            "DELETE /api/v1/users/@me/notifications/{notification_id} deleteNotification - -> 200 Success",
            "GET /api/v1/users/@me/unread listUnreadCounts - -> 200 UnreadCounts",
            "GET /api/v1/relationships/@me listRelationships - -> 200 RelationshipList",
            "POST /api/v1/relationships sendFriendRequest FriendRequestRequest -> 200 RelationshipCreated",
            "POST /api/v1/relationships/block blockUser BlockRequest -> 200 RelationshipCreated",
            "PUT /api/v1/relationships/{user_id}/accept acceptFriendRequest - -> 200 Success",
            "DELETE /api/v1/relationships/{user_id} deleteRelationship - -> 200 Success",
            "POST /api/v1/channels/ack/bulk ackBulk AckBulkRequest -> 200 Success",
            "POST /api/v1/channels/{channel_id}/messages/ack ackMessages - -> 200 AckResponse",
            "GET /api/v1/channels/{channel_id}/messages/unread getUnreadCount - -> 200 UnreadCount",
            "GET /api/v1/channels/{channel_id}/messages/last-read getLastRead - -> 200 LastRead",
            "POST /api/v1/channels/{channel_id}/messages/mark-unread markUnread MarkUnreadRequest -> 200 MarkUnreadResponse",
            "POST /api/v1/servers/{server_id}/messages/read-all readAllServerChannels - -> 200 ReadAllResponse",
            "POST /api/v1/channels/{channel_id}/messages/bulk-delete bulkDeleteMessages BulkDeleteRequest -> 200 Success",
            "GET /api/v1/channels/{channel_id}/threads listThreads - -> 200 ThreadList",
            "POST /api/v1/channels/{channel_id}/threads createThread CreateThreadRequest -> 200 Thread",
            "GET /api/v1/threads/{thread_id} getThread - -> 200 Thread",
            "PATCH /api/v1/threads/{thread_id} updateThread UpdateThreadRequest -> 200 Thread",
            "DELETE /api/v1/threads/{thread_id} deleteThread - -> 200 Success",
            "GET /api/v1/search/messages searchMessages - -> 200 MessageSearchResults",
            "GET /api/v1/search/users searchUserDirectory - -> 200 UserSearchResults",
            "GET /api/v1/search/servers searchServers - -> 200 ServerSearchResults",
            "GET /api/v1/channels/{channel_id}/messages/export exportTranscript - -> 200 Transcript",
            "GET /api/v1/channels/{channel_id}/messages/search searchChannelMessages - -> 200 MessageList",
            "GET /api/v1/servers/{server_id}/audit-logs listAuditLogs - -> 200 AuditLogList",
            "GET /api/v1/auth/password-requirements getPasswordRequirements - -> 200 PasswordRequirements",
            "POST /api/v1/polls/{poll_id}/vote votePoll VotePollRequest -> 200 PollVoteResponse",
            "GET /api/v1/users/@me/notes getNotesChannel - -> 200 NotesChannel",
        ]
    );
    let public: Vec<&str> = ROUTES
        .iter()
        .filter(|r| r.public)
        .map(|r| r.operation_id)
        .collect();
    assert_eq!(
        public,
        [
            "getVersion",
            "negotiateVersion",
            "getCapabilities",
            "getHealth",
            "register",
            "login",
            "getMediaAttachment",
            "getUserAvatar",
            "getServerIcon",
            "executeWebhook",
            "completeTwoFactor",
            "getStatus",
            "getReady",
            "getPasswordRequirements"
        ]
    );
    assert_eq!(
        api::NEGOTIATE_VERSION
            .response(426)
            .unwrap()
            .body
            .unwrap()
            .type_name,
        "Error"
    );
}

#[test]
fn request_bodies_are_worded_by_the_document() {
    let e = api::LoginRequest::decode("{").unwrap_err();
    assert_eq!(
        (e.kind(), e.message()),
        (DecodeErrorKind::NotJson, api::ERRORS.not_json)
    );
    for text in ["[1]", "\"x\"", "null", "3"] {
        let e = api::LoginRequest::decode(text).unwrap_err();
        assert_eq!(
            (e.kind(), e.message()),
            (DecodeErrorKind::NotObject, api::ERRORS.not_object),
            "{text}"
        );
    }
    let e = api::LoginRequest::decode(r#"{"username":"alice"}"#).unwrap_err();
    assert_eq!(
        e.kind(),
        DecodeErrorKind::Invalid {
            keyword: "required"
        }
    );
    assert_eq!((e.path(), e.message()), ("password", api::ERRORS.invalid));
    let e = api::RegisterRequest::decode(r#"{"username":"al","email":"a@b.c","password":"x"}"#)
        .unwrap_err();
    assert_eq!(
        e.message(),
        "Invalid username: String should have at least 3 characters"
    );
    let long = "x".repeat(4001);
    let e = api::EditMessageRequest::decode(&format!(r#"{{"content":"{long}"}}"#)).unwrap_err();
    assert_eq!(
        (e.kind(), e.path()),
        (
            DecodeErrorKind::Invalid {
                keyword: "maxLength"
            },
            "content"
        )
    );
    // Ids are accepted as strings or integers; an optional field is never null.
    let m = api::CreateMessageRequest::decode(r#"{"content":"hi","reply_to_id":42}"#).unwrap();
    assert_eq!(m.reply_to_id, Some(serde_json::json!(42)));
    assert!(api::CreateMessageRequest::decode(r#"{"content":null}"#).is_err());
}

fn agree(schema: &jsonschema::Validator, body: &Body, value: &Value) -> Result<(), String> {
    let text = value.to_string();
    let schema_ok = schema.is_valid(value);
    let decoded = (body.reencode)(&text);
    if schema_ok != decoded.is_ok() {
        return Err(format!(
            "{}: schema says {}, decode says {decoded:?} for {text}",
            body.type_name,
            if schema_ok { "valid" } else { "invalid" },
        ));
    }
    if let Ok(encoded) = decoded {
        let back: Value = serde_json::from_str(&encoded).unwrap();
        if !schema.is_valid(&back) {
            return Err(format!(
                "{}: re-encoded body is invalid: {encoded}",
                body.type_name
            ));
        }
    }
    Ok(())
}

/// Every single mutation of every request-body example: `decode` agrees with the schema.
#[test]
fn request_body_decode_agrees_with_the_schema_on_every_single_mutation() {
    let doc = doc();
    let mut failures = Vec::new();
    let mut checked = 0usize;
    for (_, role, body) in bodies() {
        if role != "request" {
            continue;
        }
        let schema = validator(&doc, body.schema);
        for (_, example) in examples(&doc, body.media) {
            let mut all = Vec::new();
            paths(&example, String::new(), &mut all);
            let mut mutations = vec![Mutation::AddKey(usize::MAX)];
            mutations.extend((0..probes().len()).map(Mutation::Root));
            for p in 0..all.len() {
                mutations.push(Mutation::Remove(p));
                mutations.push(Mutation::AddKey(p));
                mutations.extend((0..probes().len()).map(|q| Mutation::Replace(p, q)));
            }
            if all.is_empty() {
                mutations.retain(|m| matches!(m, Mutation::Root(_)));
            }
            for m in &mutations {
                let value = apply(&example, &all, m);
                checked += 1;
                if let Err(e) = agree(&schema, &body, &value) {
                    failures.push(e);
                }
            }
        }
    }
    assert!(checked > 500, "only {checked} bodies checked");
    assert!(
        failures.is_empty(),
        "{} disagreements out of {checked}, first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(15)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
