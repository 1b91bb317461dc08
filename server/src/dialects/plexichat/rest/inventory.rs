//! The client-facing REST routes of the reference (digest §2.4, the ~85-route core a chat
//! client needs, plus their close neighbours; the admin dashboard is out of scope) against what
//! Chorus serves. `served`: routed and in `spec/plexichat-rest.yaml`; `not yet`: a known gap.
//! Paths are under `/api/v1`. The test below keeps the table honest both ways: each `served`
//! row is an operation of the OpenAPI document and each `not yet` row is not.
//! (126 of 129 rows served.)
//!
//! | group | method | path | status | note |
//! |---|---|---|---|---|
//! | system | GET | `/version` | served |  |
//! | system | POST | `/version/negotiate` | served |  |
//! | system | GET | `/status` | served |  |
//! | system | GET | `/capabilities` | served |  |
//! | system | GET | `/health` | served | also `/health` at the root |
//! | system | GET | `/ready` | served |  |
//! | auth | POST | `/auth/register` | served |  |
//! | auth | POST | `/auth/login` | served |  |
//! | auth | POST | `/auth/2fa` | served |  |
//! | auth | GET | `/auth/2fa/status` | served |  |
//! | auth | POST | `/auth/2fa/enable` | served |  |
//! | auth | POST | `/auth/2fa/confirm` | served |  |
//! | auth | POST | `/auth/2fa/disable` | served |  |
//! | auth | POST | `/auth/logout` | served |  |
//! | auth | POST | `/auth/refresh` | served |  |
//! | auth | GET | `/auth/sessions` | served | every live token of the user, IP and user agent from Plexichat logins |
//! | auth | DELETE | `/auth/sessions/{session_id}` | served | also closes gateway sessions using it (4004) |
//! | auth | POST | `/auth/sessions/revoke-all` | served |  |
//! | auth | GET | `/auth/password-requirements` | served | the policy registration enforces |
//! | auth | POST | `/auth/password-reset/request` | not yet | needs outgoing email |
//! | auth | POST | `/auth/password-reset/confirm` | not yet | needs outgoing email |
//! | users | GET | `/users/@me` | served |  |
//! | users | PATCH | `/users/@me` | served | USER_UPDATE |
//! | users | DELETE | `/users/@me` | served | removed at once, not after a 30-day freeze |
//! | users | POST | `/users/@me/avatar` | served | USER_UPDATE; served back at `/avatars/users/{id}` |
//! | users | GET | `/users/{user_id}` | served |  |
//! | users | GET | `/users/search` | served |  |
//! | users | GET | `/users/@me/messaging-settings` | served |  |
//! | users | PATCH | `/users/@me/messaging-settings` | served | `allow_dms_from` and `read_receipts_enabled` are enforced |
//! | users | GET | `/users/@me/unread` | served |  |
//! | users | GET | `/users/@me/notes` | served | a private core room, made on first use |
//! | users | PUT | `/users/@me/presence` | served | PRESENCE_UPDATE |
//! | users | GET | `/users/{user_id}/presence` | served |  |
//! | users | GET | `/users/@me/channels` | served |  |
//! | users | POST | `/users/@me/channels` | served | blocks and `allow_dms_from` apply |
//! | settings | GET | `/users/@me/settings` | served |  |
//! | settings | PUT | `/users/@me/settings/bulk` | served |  |
//! | settings | GET | `/users/@me/settings/{key}` | served |  |
//! | settings | PUT | `/users/@me/settings/{key}` | served |  |
//! | settings | DELETE | `/users/@me/settings/{key}` | served |  |
//! | features | GET | `/users/@me/features` | served | everyone is on the standard tier |
//! | notifications | GET | `/users/@me/notifications` | served | mentions in messages sent over REST |
//! | notifications | PUT | `/users/@me/notifications/{notification_id}/read` | served | NOTIFICATION_UPDATE |
//! | notifications | PUT | `/users/@me/notifications/read-all` | served | NOTIFICATION_UPDATE |
//! | notifications | DELETE | `/users/@me/notifications/{notification_id}` | served | Chorus addition; NOTIFICATION_DELETE |
//! | relationships | GET | `/relationships/@me` | served |  |
//! | relationships | POST | `/relationships` | served | RELATIONSHIP_ADD |
//! | relationships | PUT | `/relationships/{user_id}/accept` | served | RELATIONSHIP_ADD |
//! | relationships | DELETE | `/relationships/{user_id}` | served | RELATIONSHIP_REMOVE |
//! | relationships | POST | `/relationships/block` | served |  |
//! | servers | GET | `/servers/` | served | `/servers` redirects (307) |
//! | servers | POST | `/servers/` | served | GUILD_CREATE |
//! | servers | GET | `/servers/{server_id}` | served |  |
//! | servers | PATCH | `/servers/{server_id}` | served |  |
//! | servers | DELETE | `/servers/{server_id}` | served |  |
//! | servers | POST | `/servers/{server_id}/leave` | served |  |
//! | servers | GET | `/servers/{server_id}/permissions` | served |  |
//! | servers | GET | `/servers/{server_id}/audit-logs` | served | the core log shared with the OriginChats modlog |
//! | servers | POST | `/servers/{server_id}/icon` | served | GUILD_UPDATE; served back at `/avatars/servers/{id}` |
//! | servers | GET | `/servers/{server_id}/channels` | served |  |
//! | servers | POST | `/servers/{server_id}/channels` | served | CHANNEL_CREATE |
//! | servers | GET | `/servers/{server_id}/members` | served |  |
//! | servers | DELETE | `/servers/{server_id}/members/{member_id}` | served |  |
//! | servers | PUT | `/servers/{server_id}/members/{member_id}/roles/{role_id}` | served |  |
//! | servers | DELETE | `/servers/{server_id}/members/{member_id}/roles/{role_id}` | served |  |
//! | servers | GET | `/servers/{server_id}/roles` | served |  |
//! | servers | POST | `/servers/{server_id}/roles` | served | GUILD_ROLE_CREATE |
//! | servers | PATCH | `/servers/{server_id}/roles/{role_id}` | served | GUILD_ROLE_UPDATE |
//! | servers | DELETE | `/servers/{server_id}/roles/{role_id}` | served | GUILD_ROLE_DELETE |
//! | servers | GET | `/servers/{server_id}/bans` | served |  |
//! | servers | PUT | `/servers/{server_id}/bans/{user_id}` | served |  |
//! | servers | DELETE | `/servers/{server_id}/bans/{user_id}` | served |  |
//! | servers | GET | `/servers/{server_id}/webhooks` | served |  |
//! | servers | POST | `/servers/{server_id}/messages/read-all` | served |  |
//! | channels | GET | `/channels/{channel_id}` | served |  |
//! | channels | PATCH | `/channels/{channel_id}` | served | CHANNEL_UPDATE |
//! | channels | DELETE | `/channels/{channel_id}` | served | CHANNEL_DELETE |
//! | channels | POST | `/channels/{channel_id}/attachments` | served |  |
//! | channels | GET | `/channels/{channel_id}/webhooks` | served |  |
//! | messages | GET | `/channels/{channel_id}/messages` | served |  |
//! | messages | POST | `/channels/{channel_id}/messages` | served | MESSAGE_CREATE; `poll` creates a core poll |
//! | messages | GET | `/channels/{channel_id}/messages/{message_id}` | served |  |
//! | messages | PATCH | `/channels/{channel_id}/messages/{message_id}` | served | MESSAGE_UPDATE |
//! | messages | DELETE | `/channels/{channel_id}/messages/{message_id}` | served | MESSAGE_DELETE |
//! | messages | POST | `/channels/{channel_id}/messages/bulk-delete` | served | MESSAGE_DELETE_BULK |
//! | messages | POST | `/channels/{channel_id}/messages/ack` | served | MESSAGE_ACK |
//! | messages | GET | `/channels/{channel_id}/messages/unread` | served |  |
//! | messages | GET | `/channels/{channel_id}/messages/last-read` | served |  |
//! | messages | POST | `/channels/{channel_id}/messages/mark-unread` | served |  |
//! | messages | POST | `/channels/ack/bulk` | served |  |
//! | messages | GET | `/channels/{channel_id}/messages/search` | served |  |
//! | messages | GET | `/channels/{channel_id}/messages/export` | served | JSON transcript, first 10000 messages |
//! | messages | POST | `/channels/{channel_id}/typing` | served | TYPING_START |
//! | pins | GET | `/channels/{channel_id}/pins` | served |  |
//! | pins | PUT | `/channels/{channel_id}/pins/{message_id}` | served | MESSAGE_UPDATE, CHANNEL_PINS_UPDATE |
//! | pins | DELETE | `/channels/{channel_id}/pins/{message_id}` | served | MESSAGE_UPDATE, CHANNEL_PINS_UPDATE |
//! | reactions | GET | `/channels/{channel_id}/messages/{message_id}/reactions` | served |  |
//! | reactions | DELETE | `/channels/{channel_id}/messages/{message_id}/reactions` | served | MESSAGE_REACTION_REMOVE_ALL |
//! | reactions | PUT | `/channels/{channel_id}/messages/{message_id}/reactions/{emoji}` | served | MESSAGE_REACTION_ADD |
//! | reactions | DELETE | `/channels/{channel_id}/messages/{message_id}/reactions/{emoji}` | served | MESSAGE_REACTION_REMOVE |
//! | reactions | GET | `/channels/{channel_id}/messages/{message_id}/reactions/{emoji}` | served |  |
//! | threads | GET | `/channels/{channel_id}/threads` | served |  |
//! | threads | POST | `/channels/{channel_id}/threads` | served |  |
//! | threads | GET | `/threads/{thread_id}` | served |  |
//! | threads | PATCH | `/threads/{thread_id}` | served |  |
//! | threads | DELETE | `/threads/{thread_id}` | served |  |
//! | invites | POST | `/channels/{channel_id}/invites` | served |  |
//! | invites | GET | `/channels/invites/{code}` | served |  |
//! | invites | POST | `/channels/invites/{code}` | served | GUILD_CREATE, GUILD_MEMBER_ADD |
//! | invites | DELETE | `/channels/invites/{code}` | served |  |
//! | invites | GET | `/servers/{server_id}/invites` | served |  |
//! | webhooks | POST | `/webhooks` | served |  |
//! | webhooks | GET | `/webhooks/{webhook_id}` | served |  |
//! | webhooks | PATCH | `/webhooks/{webhook_id}` | served |  |
//! | webhooks | DELETE | `/webhooks/{webhook_id}` | served |  |
//! | webhooks | POST | `/webhooks/{webhook_id}/regenerate-token` | served |  |
//! | webhooks | POST | `/webhooks/{webhook_id}/{token}` | served | MESSAGE_CREATE (the reference sends none) |
//! | bots | POST | `/applications` | served |  |
//! | bots | POST | `/applications/{application_id}/bot` | served |  |
//! | polls | POST | `/polls/{poll_id}/vote` | served | core polls, shared with OriginChats |
//! | reports | POST | `/reports/messages` | served | stored; no review route |
//! | reports | POST | `/reports/users` | served | stored; no review route |
//! | uploads | POST | `/media/upload/session` | not yet | uploads |
//! | uploads | GET | `/media/attachments/{filename}` | served | uploads (app-level route, outside the router) |
//! | search | GET | `/search/messages` | served |  |
//! | search | GET | `/search/users` | served | members of shared servers, relationships, DM partners |
//! | search | GET | `/search/servers` | served | joined servers only; no categories |
//! | voice | GET | `/voice/ice-servers` | served | `plexichat.ice_servers` (none by default) |
//! | voice | GET | `/voice/channels/{channel_id}/info` | served | plus `participants`; no SFU session |

#[cfg(test)]
mod tests {
    /// Every `served` row of the table above is an operation of the OpenAPI document, and no
    /// `not yet` row is.
    #[test]
    fn rows_match_the_documented_routes() {
        let (mut served, mut missing) = (0, 0);
        for line in include_str!("inventory.rs").lines() {
            let Some(row) = line.strip_prefix("//! | ") else {
                continue;
            };
            let cells: Vec<&str> = row.split(" | ").map(str::trim).collect();
            if cells.len() < 4 || !matches!(cells[3], "served" | "not yet") {
                continue;
            }
            let path = format!("/api/v1{}", cells[2].trim_matches('`'));
            let documented = chorus_protocol::plexichat_rest::ROUTES
                .iter()
                .any(|r| r.method == cells[1] && r.path == path);
            if cells[3] == "served" {
                assert!(
                    documented,
                    "{} {path} is marked served but is not in the OpenAPI document",
                    cells[1]
                );
                served += 1;
            } else {
                assert!(
                    !documented,
                    "{} {path} is marked not yet but is in the OpenAPI document",
                    cells[1]
                );
                missing += 1;
            }
        }
        assert!(served > 100, "{served}");
        let summary = format!("({served} of {} rows served.)", served + missing);
        assert!(
            include_str!("inventory.rs").contains(&summary),
            "header should say {summary}"
        );
    }
}
