//! `POST /reports/messages` and `POST /reports/users`: reports are validated (the reporter
//! must see the message; the user must exist) and stored for the moderators
//! (`0014_plexichat_reports.sql`). Chorus has no moderation queue to read them back yet.

use super::messages::from_path;
use super::{ApiError, Authed, body, ok, px};
use crate::core::ids::{UserId, now_ms};
use crate::dialects::plexichat::db::NewReport;
use crate::dialects::plexichat::ids;
use crate::net::AppState;
use axum::extract::State;
use axum::response::Response;
use chorus_protocol::plexichat_rest::{ReportMessageRequest, ReportUserRequest};

const MAX_REASON: usize = 500;
const MAX_DETAILS: usize = 2000;
const MAX_CATEGORY: usize = 50;
const MAX_EVIDENCE: usize = 20;

/// (reason, category, details) checked against the reference's bounds.
fn checked(
    reason: String,
    category: Option<String>,
    details: Option<String>,
) -> Result<(String, String, Option<String>), ApiError> {
    let reason = reason.trim().to_owned();
    let n = reason.chars().count();
    if n == 0 {
        return Err(ApiError::bad_request(
            "Invalid reason: String should have at least 1 character",
        ));
    }
    if n > MAX_REASON {
        return Err(ApiError::bad_request(format!(
            "Invalid reason: String should have at most {MAX_REASON} characters"
        )));
    }
    let category = category
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "other".into());
    if category.chars().count() > MAX_CATEGORY {
        return Err(ApiError::bad_request(format!(
            "Invalid category: String should have at most {MAX_CATEGORY} characters"
        )));
    }
    if details
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DETAILS)
    {
        return Err(ApiError::bad_request(format!(
            "Invalid details: String should have at most {MAX_DETAILS} characters"
        )));
    }
    Ok((reason, category, details))
}

fn submitted(id: &str) -> Response {
    ok(&serde_json::json!({
        "success": true,
        "report_id": id,
        "message": "Report submitted successfully",
    }))
}

/// `POST /reports/messages`.
pub async fn report_message(
    State(st): State<AppState>,
    auth: Authed,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let req = body(&text, ReportMessageRequest::decode)?;
    let (reason, category, details) = checked(req.reason, req.category, req.details.flatten())?;
    // Only a message the reporter can read may be reported (404 as for reading it).
    let m = from_path(px, &auth.user.id, &req.channel_id, &req.message_id).await?;
    let space = px
        .core
        .permissions(&auth.user.id, &m.room_id)
        .await
        .ok()
        .and_then(|(room, _)| room.space_id)
        .map(|s| s.0);
    let id = ids::snowflake().to_string();
    px.db
        .insert_report(NewReport {
            id: id.clone(),
            kind: "message",
            reporter_id: auth.user.id.0.clone(),
            target_user_id: Some(m.author.id.0.clone()),
            message_id: Some(m.id.0.clone()),
            room_id: Some(m.room_id.0.clone()),
            space_id: space,
            reason,
            category,
            details,
            evidence: Vec::new(),
            created_at: now_ms(),
        })
        .await?;
    Ok(submitted(&id))
}

/// `POST /reports/users`.
pub async fn report_user(
    State(st): State<AppState>,
    auth: Authed,
    text: String,
) -> Result<Response, ApiError> {
    let px = px(&st);
    let req = body(&text, ReportUserRequest::decode)?;
    let (reason, category, details) = checked(req.reason, req.category, req.details.flatten())?;
    let target = ids::core(&req.user_id).ok_or_else(|| ApiError::bad_request("Invalid user ID"))?;
    if target == auth.user.id.0 {
        return Err(ApiError::bad_request("You cannot report yourself"));
    }
    px.core
        .store()
        .user(UserId(target.clone()))
        .await?
        .ok_or_else(|| ApiError::not_found("User not found"))?;
    let evidence: Vec<String> = req.evidence_message_ids.flatten().unwrap_or_default();
    if evidence.len() > MAX_EVIDENCE {
        return Err(ApiError::bad_request(format!(
            "Invalid evidence_message_ids: List should have at most {MAX_EVIDENCE} items"
        )));
    }
    let evidence = evidence
        .iter()
        .map(|e| ids::core(e).ok_or_else(|| ApiError::bad_request("Invalid message ID")))
        .collect::<Result<Vec<_>, _>>()?;
    let id = ids::snowflake().to_string();
    px.db
        .insert_report(NewReport {
            id: id.clone(),
            kind: "user",
            reporter_id: auth.user.id.0.clone(),
            target_user_id: Some(target),
            message_id: None,
            room_id: None,
            space_id: None,
            reason,
            category,
            details,
            evidence,
            created_at: now_ms(),
        })
        .await?;
    Ok(submitted(&id))
}
