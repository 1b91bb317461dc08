//! Plexichat `/auth/sessions` (§2.6): each login is a session showing its IP, user agent and
//! times; revoking one makes its token fail at once and closes gateway connections using it.

use crate::plexichat_support::{Api, Gateway, PASSWORD, Resp, no_rate_limits, request};
use crate::support::Server;
use serde_json::{Value, json};

/// `POST /auth/login` as `alice` from a client calling itself `agent`; the new token.
async fn login_from(server: &Server, agent: &str) -> String {
    let body = json!({"username": "alice", "password": PASSWORD}).to_string();
    let r: Resp = request(
        server.addr,
        "POST",
        "/api/v1/auth/login",
        &[("User-Agent", agent)],
        Some(&body),
    )
    .await;
    r.assert_status(200);
    r.body["token"].as_str().unwrap().to_owned()
}

fn session_of<'a>(list: &'a Value, agent: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|s| s["user_agent"] == agent)
        .unwrap_or_else(|| panic!("no session from {agent}: {list}"))
}

#[tokio::test]
async fn sessions_list_where_each_login_came_from() {
    let server = Server::start_with(no_rate_limits());
    let body = json!({"username": "alice", "email": "alice@example.com", "password": PASSWORD})
        .to_string();
    let reg = request(
        server.addr,
        "POST",
        "/api/v1/auth/register",
        &[("User-Agent", "laptop/1.0")],
        Some(&body),
    )
    .await;
    reg.assert_status(200);
    let laptop = Api::new(&server).with_token(reg.body["token"].as_str().unwrap());
    let phone_token = login_from(&server, "phone/2.0").await;

    let list = laptop.get("/auth/sessions").await;
    list.assert_status(200);
    assert_eq!(list.body.as_array().unwrap().len(), 2, "{}", list.body);
    let mine = session_of(&list.body, "laptop/1.0");
    assert_eq!(mine["current"], true);
    assert_eq!(mine["ip_address"], "127.0.0.1");
    assert_eq!(mine["device_id"], Value::Null);
    assert_eq!(
        mine["id"].as_str().unwrap(),
        laptop.token.as_deref().unwrap().split('.').next().unwrap(),
        "a session's id is its token's snowflake"
    );
    assert!(mine["expires_at"].as_i64().unwrap() > mine["created_at"].as_i64().unwrap());
    assert!(mine["last_activity"].as_i64().unwrap() >= mine["created_at"].as_i64().unwrap());
    let phone = session_of(&list.body, "phone/2.0");
    assert_eq!(phone["current"], false);

    // The phone sees the same two, with itself current.
    let from_phone = laptop.with_token(&phone_token).get("/auth/sessions").await;
    assert_eq!(session_of(&from_phone.body, "phone/2.0")["current"], true);
    assert_eq!(session_of(&from_phone.body, "laptop/1.0")["current"], false);

    // Other users see only their own.
    let bob = Api::new(&server).register("bob").await;
    let theirs = bob.get("/auth/sessions").await;
    assert_eq!(theirs.body.as_array().unwrap().len(), 1);
    assert_eq!(theirs.body[0]["current"], true);

    Api::new(&server)
        .get("/auth/sessions")
        .await
        .expect_error(401, "Not authenticated");
}

#[tokio::test]
async fn revoking_a_session_ends_its_token_and_gateway() {
    let server = Server::start_with(no_rate_limits());
    let laptop = Api::new(&server).register("alice").await;
    let laptop_token = laptop.token.clone().unwrap();
    let phone_token = login_from(&server, "phone/2.0").await;
    let phone = laptop.with_token(&phone_token);
    let (mut laptop_gw, _) = Gateway::ready(&server, &laptop_token).await;
    let (mut phone_gw, _) = Gateway::ready(&server, &phone_token).await;

    let list = laptop.get("/auth/sessions").await;
    let phone_id = session_of(&list.body, "phone/2.0")["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // bob cannot revoke alice's session, nor can anyone revoke an unknown one.
    let bob = Api::new(&server).register("bob").await;
    bob.call("DELETE", &format!("/auth/sessions/{phone_id}"), None)
        .await
        .expect_error(404, "Session not found");
    laptop
        .call("DELETE", "/auth/sessions/123", None)
        .await
        .expect_error(404, "Session not found");

    let r = laptop
        .call("DELETE", &format!("/auth/sessions/{phone_id}"), None)
        .await;
    r.assert_status(200);
    assert_eq!(r.body, json!({"success": true, "message": null}));
    phone
        .get("/users/@me")
        .await
        .expect_error(401, "Invalid or expired token");
    phone_gw.expect_close(4004, "Authentication failed").await;
    // The laptop stays signed in and hears about it.
    let alert = laptop_gw.dispatch().await;
    assert_eq!(alert["t"], "SECURITY_ALERT", "{alert}");
    assert_eq!(alert["d"]["action"], "session_revoked");
    laptop_gw
        .heartbeat(Some(alert["s"].as_i64().unwrap()))
        .await;
    laptop.get("/users/@me").await.assert_status(200);
    assert_eq!(
        laptop
            .get("/auth/sessions")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The revoked token cannot identify again either.
    let (mut again, _) = Gateway::hello(&server).await;
    again
        .send(json!({"op": 2, "d": {"token": phone_token, "properties": {"os": "linux", "browser": "chorus-tests", "device": "chorus-tests"}}}))
        .await;
    again.expect_close(4004, "Authentication failed").await;
}

#[tokio::test]
async fn revoke_all_keeps_the_current_session_unless_asked() {
    let server = Server::start_with(no_rate_limits());
    let laptop = Api::new(&server).register("alice").await;
    let others = [
        login_from(&server, "phone/2.0").await,
        login_from(&server, "tablet/3.0").await,
    ];

    laptop
        .post(
            "/auth/sessions/revoke-all",
            json!({"except_current": "yes"}),
        )
        .await
        .assert_status(400);

    let r = laptop.post("/auth/sessions/revoke-all", json!({})).await;
    r.assert_status(200);
    assert_eq!(r.body, json!({"success": true, "revoked_count": 2}));
    for t in &others {
        laptop
            .with_token(t)
            .get("/users/@me")
            .await
            .expect_error(401, "Invalid or expired token");
    }
    laptop.get("/users/@me").await.assert_status(200);

    let r = laptop
        .post(
            "/auth/sessions/revoke-all",
            json!({"except_current": false}),
        )
        .await;
    assert_eq!(r.body, json!({"success": true, "revoked_count": 1}));
    laptop
        .get("/auth/sessions")
        .await
        .expect_error(401, "Invalid or expired token");
}
