//! `/users/@me/notifications`: mentions (`<@id>` or `@username` in a message sent over REST)
//! become notifications of the mentioned users who can see the channel (NOTIFICATION_CREATE);
//! reading them sends NOTIFICATION_UPDATE, deleting NOTIFICATION_DELETE.

use super::me::{dispatch_to, int_param, query};
use super::{ApiError, Authed, ok, px, success};
use crate::core::ids::{UserId, now_ms};
use crate::core::messages::Message;
use crate::core::permissions::Permissions;
use crate::dialects::plexichat::state::Notification;
use crate::dialects::plexichat::{Plexichat, ids};
use crate::net::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde_json::{Value, json};

/// Most users one message notifies.
const MAX_MENTIONS: usize = 20;

pub fn notification_json(n: &Notification) -> Value {
    let preview: String = n.content.chars().take(100).collect();
    json!({
        "id": n.id,
        "type": n.kind,
        "title": n.title,
        "content": n.content,
        "content_preview": preview,
        "read": n.read,
        "created_at": n.created_at,
        "link": n.link,
        "sender_id": n.sender_id.as_deref().map(ids::wire),
    })
}

/// The `<@id>` and `@username` mentions of `text`, in order, without repeats.
fn mentions(text: &str) -> Vec<Mention> {
    let mut out: Vec<Mention> = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('@') {
        let before = &rest[..i];
        let after = &rest[i + 1..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            .collect();
        let m = if before.ends_with('<') {
            let id: String = after.chars().take_while(char::is_ascii_digit).collect();
            after[id.len()..]
                .starts_with('>')
                .then(|| ids::core(&id).map(|c| Mention::Id(UserId(c))))
                .flatten()
        } else if !name.is_empty()
            && !before
                .chars()
                .last()
                .is_some_and(|c| c.is_ascii_alphanumeric())
        {
            Some(Mention::Name(name.trim_end_matches('.').to_owned()))
        } else {
            None
        };
        if let Some(m) = m
            && !out.contains(&m)
        {
            out.push(m);
        }
        if out.len() >= MAX_MENTIONS {
            break;
        }
        rest = after;
    }
    out
}

#[derive(PartialEq)]
enum Mention {
    Id(UserId),
    Name(String),
}

/// Stores and dispatches the notifications of a message just sent by `author`.
pub async fn notify_mentions(px: &Plexichat, message: &Message) {
    let mut targets: Vec<UserId> = Vec::new();
    for m in mentions(&message.content) {
        let user = match m {
            Mention::Id(id) => px.core.store().user(id).await,
            Mention::Name(n) => px.core.store().user_by_username(n).await,
        };
        if let Ok(Some(u)) = user
            && u.id != message.author.id
            && !targets.contains(&u.id)
        {
            targets.push(u.id);
        }
    }
    let mut list = Vec::new();
    for user in targets {
        let sees = px
            .core
            .permissions(&user, &message.room_id)
            .await
            .is_ok_and(|(_, p)| p.contains(Permissions::VIEW_ROOM));
        if !sees {
            continue;
        }
        list.push(Notification {
            id: ids::snowflake().to_string(),
            user_id: user.0,
            kind: "mention".into(),
            title: format!("{} mentioned you", message.author.username),
            content: message.content.clone(),
            link: Some(format!(
                "/channels/{}/messages/{}",
                ids::wire(&message.room_id.0),
                ids::wire(&message.id.0)
            )),
            sender_id: Some(message.author.id.0.clone()),
            room_id: Some(message.room_id.0.clone()),
            read: false,
            created_at: now_ms(),
        });
    }
    if list.is_empty() {
        return;
    }
    if let Err(e) = px.state.insert_notifications(list.clone()).await {
        tracing::warn!(error = %e, "plexichat: storing mention notifications");
        return;
    }
    for n in &list {
        dispatch_to(
            px,
            &UserId(n.user_id.clone()),
            "NOTIFICATION_CREATE",
            &notification_json(n),
        );
    }
}

pub async fn list(
    State(st): State<AppState>,
    auth: Authed,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let mut limit = 20;
    let mut unread_only = false;
    for (k, v) in query(q.as_deref()) {
        match k.as_str() {
            "limit" => limit = int_param("limit", &v, 1..=100)?,
            "unread_only" => {
                unread_only = match v.as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => {
                        return Err(ApiError::bad_request(
                            "Invalid unread_only: Input should be a valid boolean",
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    let (list, unread) = px(&st)
        .state
        .notifications(&auth.user.id.0, limit as u32, unread_only)
        .await?;
    Ok(ok(&json!({
        "notifications": list.iter().map(notification_json).collect::<Vec<_>>(),
        "unread_count": unread,
    })))
}

pub async fn read_all(State(st): State<AppState>, auth: Authed) -> Result<Response, ApiError> {
    let px = px(&st);
    if px
        .state
        .mark_notifications_read(&auth.user.id.0, None, None)
        .await?
        > 0
    {
        dispatch_to(
            px,
            &auth.user.id,
            "NOTIFICATION_UPDATE",
            &json!({"all_read": true}),
        );
    }
    Ok(success())
}

fn notification_id(id: &str) -> Result<&str, ApiError> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request("Invalid notification ID"));
    }
    Ok(id)
}

pub async fn read_one(
    State(st): State<AppState>,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let id = notification_id(&id)?;
    let me = &auth.user.id.0;
    let Some(mut n) = px.state.notification(me, id).await? else {
        return Err(ApiError::not_found("Notification not found"));
    };
    if px.state.mark_notifications_read(me, Some(id), None).await? > 0 {
        n.read = true;
        dispatch_to(
            px,
            &auth.user.id,
            "NOTIFICATION_UPDATE",
            &notification_json(&n),
        );
    }
    Ok(success())
}

pub async fn delete(
    State(st): State<AppState>,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let id = notification_id(&id)?;
    if !px.state.delete_notification(&auth.user.id.0, id).await? {
        return Err(ApiError::not_found("Notification not found"));
    }
    dispatch_to(px, &auth.user.id, "NOTIFICATION_DELETE", &json!({"id": id}));
    Ok(success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_mentions() {
        let id = crate::core::ids::MessageId::generate().0;
        let w = ids::wire(&id);
        let m = mentions(&format!(
            "hi @bob, and <@{w}> and mail@example.com @bob again @carol."
        ));
        assert!(m.len() == 3, "{}", m.len());
        assert!(m[0] == Mention::Name("bob".into()));
        assert!(m[1] == Mention::Id(UserId(id)));
        assert!(m[2] == Mention::Name("carol".into()));
    }
}
