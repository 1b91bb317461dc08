//! `/version`, `/version/negotiate`, `/capabilities`, `/health` (public).

use super::{ApiError, body, json_response, ok, px};
use crate::net::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chorus_protocol::plexichat_rest::{
    CapabilitiesResponse, CapabilitiesResponseAvatars, HealthResponse, NegotiateRequest,
    NegotiateResponse, Version, VersionResponse, VersionStage,
};
use std::cmp::Ordering;

/// A parsed `<stage>.<major>.<minor>-<build>`, ordered by stage (a<b<c<r), major, minor, build.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Parsed {
    stage: u8,
    major: i64,
    minor: i64,
    build: i64,
    text: String,
}

pub fn parse(text: &str) -> Option<Parsed> {
    let (stage, rest) = text.split_once('.')?;
    let stage = match stage {
        "a" => 0,
        "b" => 1,
        "c" => 2,
        "r" => 3,
        _ => return None,
    };
    let (major, rest) = rest.split_once('.')?;
    let (minor, build) = rest.split_once('-')?;
    let num = |s: &str| -> Option<i64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    Some(Parsed {
        stage,
        major: num(major)?,
        minor: num(minor)?,
        build: num(build)?,
        text: text.to_owned(),
    })
}

fn wire(p: &Parsed) -> Version {
    Version {
        stage: [
            VersionStage::A,
            VersionStage::B,
            VersionStage::C,
            VersionStage::R,
        ][p.stage as usize],
        major: p.major,
        minor: p.minor,
        build: p.build,
        string: p.text.clone(),
    }
}

fn server_version(st: &AppState) -> Parsed {
    parse(&px(st).config.server_version).unwrap_or(Parsed {
        stage: 0,
        major: 1,
        minor: 0,
        build: 0,
        text: "a.1.0-0".into(),
    })
}

fn min_version(st: &AppState) -> Option<Parsed> {
    parse(&px(st).config.min_supported_version)
}

fn update_url(st: &AppState) -> Option<String> {
    Some(px(st).config.update_url.clone()).filter(|u| !u.is_empty())
}

fn json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

pub async fn version(State(st): State<AppState>) -> Response {
    ok(&VersionResponse {
        version: wire(&server_version(&st)),
        min_supported_version: min_version(&st)
            .map(|m| json(&wire(&m)))
            .unwrap_or(serde_json::Value::Null),
        api_version: "v1".into(),
    })
}

pub async fn negotiate(State(st): State<AppState>, text: String) -> Result<Response, ApiError> {
    let req = body(&text, NegotiateRequest::decode)?;
    let server = server_version(&st);
    let Some(client) = parse(&req.client_version) else {
        return Ok(json_response(
            StatusCode::BAD_REQUEST,
            &serde_json::json!({"error": {
                "code": "INVALID_VERSION_FORMAT",
                "message": format!("Invalid version format: {}", req.client_version),
                "client_version": req.client_version,
            }}),
        ));
    };
    let min = min_version(&st);
    if let Some(min) = &min
        && client.cmp(min) == Ordering::Less
    {
        return Ok(json_response(
            StatusCode::UPGRADE_REQUIRED,
            &serde_json::json!({"error": {
                "code": "VERSION_OUTDATED",
                "message": format!(
                    "Client version {} is no longer supported. Please update to {} or later.",
                    client.text, min.text
                ),
                "client_version": client.text,
                "min_version": min.text,
                "server_version": server.text,
                "update_url": update_url(&st),
            }}),
        ));
    }
    let recommended = client < server;
    Ok(ok(&NegotiateResponse {
        compatible: true,
        server_version: wire(&server),
        client_version: wire(&client),
        min_supported_version: min
            .as_ref()
            .map(|m| json(&wire(m)))
            .unwrap_or(serde_json::Value::Null),
        update_required: false,
        update_recommended: recommended,
        update_url: update_url(&st),
        message: if recommended {
            format!(
                "A newer version ({}) is available. Consider updating.",
                server.text
            )
        } else {
            "Client version is compatible.".into()
        },
    }))
}

pub async fn capabilities(State(st): State<AppState>) -> Response {
    let c = &px(&st).config;
    ok(&CapabilitiesResponse {
        avatars: CapabilitiesResponseAvatars {
            default_colors: ["#e94560", "#0f3460", "#16213e", "#533483", "#2b9348"]
                .map(String::from)
                .to_vec(),
            max_size: 512,
            max_file_size: super::avatars::MAX_IMAGE_BYTES as i64,
            allowed_types: super::avatars::IMAGE_TYPES.map(String::from).to_vec(),
        },
        access_token_required: c.access_token_required && !c.access_tokens.is_empty(),
    })
}

pub async fn health(State(st): State<AppState>) -> Response {
    ok(&HealthResponse {
        status: "healthy".into(),
        version: server_version(&st).text,
        events_metrics: Some(serde_json::Value::Null),
        is_queue_recreate_pending: Some(None),
        cross_worker_listener: Some(serde_json::json!({"enabled": false})),
    })
}

/// `GET /status` (public).
pub async fn status(State(st): State<AppState>) -> Response {
    let state = if st.shutdown.is_cancelled() {
        chorus_protocol::plexichat_rest::StatusResponseState::ShuttingDown
    } else {
        chorus_protocol::plexichat_rest::StatusResponseState::Running
    };
    ok(&chorus_protocol::plexichat_rest::StatusResponse {
        state,
        version: wire(&server_version(&st)),
        uptime_seconds: px(&st).started.elapsed().as_secs() as i64,
        maintenance_message: None,
        estimated_downtime_seconds: None,
        restart_at: None,
    })
}

/// `GET /ready` (public).
pub async fn ready() -> Response {
    ok(&serde_json::json!({"status": "ready"}))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn version_order() {
        assert!(parse("a.1.0-49").unwrap() < parse("a.1.0-131").unwrap());
        assert!(parse("a.9.9-999").unwrap() < parse("b.0.0-0").unwrap());
        assert!(parse("1.0").is_none());
        assert!(parse("a.1.0-").is_none());
    }
}
