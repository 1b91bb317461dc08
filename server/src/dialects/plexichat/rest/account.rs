//! `DELETE /users/@me`: account deletion. The reference freezes the account and deletes it
//! after 30 days; Chorus removes it at once with the core's account removal (the one
//! OriginChats `user_leave` uses): the user leaves every server, loses password and tokens
//! (gateway sessions close with 4004), and the Plexichat account data (email, 2FA, settings,
//! notifications, relationships) goes. The user record stays, so messages keep their author
//! and the username stays taken.

use super::{ApiError, Authed, body, px, success};
use crate::core::ids::now_ms;
use crate::net::AppState;
use axum::extract::State;
use axum::response::Response;
use chorus_protocol::plexichat_rest::DeleteAccountRequest;
use std::collections::HashSet;

pub async fn delete_me(
    State(st): State<AppState>,
    auth: Authed,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let req = body(&text, DeleteAccountRequest::decode)?;
    let me = &auth.user;
    super::twofa::check_password(px, me, &req.password).await?;
    let tf = px.db.two_factor(&me.id.0).await?;
    if tf.enabled {
        let Some(code) = req.code.flatten().filter(|c| !c.is_empty()) else {
            return Err(ApiError::bad_request("2FA code required"));
        };
        if !super::twofa::verify(px, &me.id, &tf, &code).await {
            return Err(ApiError::unauthorized("Invalid 2FA code"));
        }
    }
    // A server without its owner could not be managed any more.
    let owned = px
        .db
        .servers(&me.id.0, None)
        .await?
        .into_iter()
        .any(|s| s.owner_id.as_deref() == Some(me.id.0.as_str()));
    if owned {
        return Err(ApiError::bad_request(
            "Transfer or delete your servers before deleting your account",
        ));
    }
    let digests: HashSet<String> = px
        .db
        .sessions(&me.id.0, now_ms())
        .await?
        .into_iter()
        .map(|s| s.digest)
        .collect();
    if !px
        .core
        .remove_account(me)
        .await
        .map_err(|e| ApiError::core(e, "User"))?
    {
        // The core keeps accounts banned from the default server, so the ban holds.
        return Err(ApiError::forbidden("A banned account cannot be deleted"));
    }
    px.db.forget_account(&me.id.0).await?;
    px.sessions.close_revoked(&digests, &px.core);
    Ok(success())
}
