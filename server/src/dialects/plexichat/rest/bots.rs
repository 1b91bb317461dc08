//! Applications and bot accounts. A bot token `bot.<bot_id>.<secret>` authenticates as the bot
//! (over REST with `Authorization: Bot`, in IDENTIFY raw); the bot is a member of the default
//! server.

use super::{ApiError, Authed, body, json_response, px};
use crate::core::ids::{MessageId, UserId, now_ms};
use crate::core::users::{self, User, UserKind};
use crate::dialects::plexichat::db::Application;
use crate::dialects::plexichat::ids::{self, wire};
use crate::dialects::plexichat::tokens::base64url;
use crate::net::AppState;
use crate::store::StoreError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chorus_protocol::plexichat_rest::CreateApplicationRequest;

fn app_json(a: &Application) -> serde_json::Value {
    serde_json::json!({
        "id": wire(&a.id),
        "name": a.name,
        "description": a.description,
        "owner_id": wire(&a.owner_id),
        "bot_id": a.bot_id.as_deref().map(wire),
        "created_at": a.created_at,
    })
}

pub async fn create_application(
    State(st): State<AppState>,
    auth: Authed,
    text: String,
) -> Result<Response, ApiError> {
    let req = body(&text, CreateApplicationRequest::decode)?;
    let a = Application {
        id: MessageId::generate().0,
        owner_id: auth.user.id.0.clone(),
        name: req.name,
        description: req.description.flatten(),
        bot_id: None,
        created_at: now_ms(),
    };
    px(&st).db.save_application(a.clone()).await?;
    Ok(json_response(StatusCode::CREATED, &app_json(&a)))
}

pub async fn create_bot(
    State(st): State<AppState>,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let id = ids::core(&id).ok_or_else(|| ApiError::bad_request("Invalid application ID"))?;
    let Some(mut app) = px
        .db
        .application(&id)
        .await?
        .filter(|a| a.owner_id == auth.user.id.0)
    else {
        return Err(ApiError::not_found("Application not found"));
    };
    if app.bot_id.is_some() {
        return Err(ApiError::bad_request("Application already has a bot"));
    }
    let store = px.core.store();
    let mut name: String = app
        .name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        .take(24)
        .collect();
    if name.is_empty() {
        name = "bot".into();
    }
    let mut bot = None;
    for attempt in 0..5 {
        let username = if attempt == 0 {
            name.clone()
        } else {
            format!("{name}-{}", ids::snowflake() % 10_000)
        };
        match store
            .create_user(
                User {
                    id: UserId::generate(),
                    username,
                    display_name: Some(app.name.clone()),
                    kind: UserKind::Bot,
                    avatar_url: None,
                    created_at: now_ms(),
                },
                None,
            )
            .await
        {
            Ok(u) => {
                bot = Some(u);
                break;
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let bot = bot.ok_or_else(|| ApiError::new(StatusCode::CONFLICT, "Bot name taken"))?;
    let space = px.core.default_space().clone();
    let everyone: Vec<_> = store
        .roles(space.clone())
        .await?
        .into_iter()
        .filter(|r| r.is_default)
        .map(|r| r.id)
        .collect();
    store.add_member(space, bot.id.clone(), everyone).await?;
    px.core.invalidate_permissions();
    let mut secret = Vec::with_capacity(48);
    for _ in 0..3 {
        secret.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    let token = format!("bot.{}.{}", wire(&bot.id.0), base64url(&secret));
    store
        .insert_token(users::token_digest(&token), bot.id.clone(), None)
        .await?;
    app.bot_id = Some(bot.id.0.clone());
    px.db.save_application(app).await?;
    Ok(json_response(
        StatusCode::CREATED,
        &serde_json::json!({"token": token, "bot_id": wire(&bot.id.0)}),
    ))
}
