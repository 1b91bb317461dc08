//! Plexichat `DELETE /users/@me` (§2.7): the account goes at once (Chorus does not keep the
//! reference's 30-day freeze), its tokens and gateway sessions end, its messages stay.

use crate::plexichat::totp;
use crate::plexichat_support::{Api, Gateway, PASSWORD, general_channel, no_rate_limits, user};
use crate::support::Server;
use serde_json::json;

#[tokio::test]
async fn deleting_the_account_signs_out_everywhere_and_keeps_history() {
    let server = Server::start_with(no_rate_limits());
    let (alice, alice_token, alice_id) = user(&server, "alice").await;
    let (bob, _, _) = user(&server, "bob").await;
    let general = general_channel();
    let said = alice.say(&general, "bye all").await;
    let (mut gw, _) = Gateway::ready(&server, &alice_token).await;

    alice
        .call("DELETE", "/users/@me", Some(json!({})))
        .await
        .assert_status(400);
    alice
        .call("DELETE", "/users/@me", Some(json!({"password": "wrong"})))
        .await
        .expect_error(401, "Invalid password");

    // An owner must hand over or delete their servers first.
    let team = alice.post("/servers/", json!({"name": "Team"})).await.body;
    let team_id = team["id"].as_str().unwrap().to_owned();
    alice
        .call("DELETE", "/users/@me", Some(json!({"password": PASSWORD})))
        .await
        .expect_error(
            400,
            "Transfer or delete your servers before deleting your account",
        );
    alice
        .call("DELETE", &format!("/servers/{team_id}"), None)
        .await
        .assert_status(200);

    let r = alice
        .call("DELETE", "/users/@me", Some(json!({"password": PASSWORD})))
        .await;
    r.assert_status(200);
    assert_eq!(r.body, json!({"success": true, "message": null}));
    gw.expect_close(4004, "Authentication failed").await;
    alice
        .get("/users/@me")
        .await
        .expect_error(401, "Invalid or expired token");
    Api::new(&server)
        .post(
            "/auth/login",
            json!({"username": "alice", "password": PASSWORD}),
        )
        .await
        .expect_error(401, "Invalid credentials");

    // The message keeps its author; alice is no longer a member.
    let m = bob
        .get(&format!(
            "/channels/{general}/messages/{}",
            said["id"].as_str().unwrap()
        ))
        .await;
    m.assert_status(200);
    assert_eq!(m.body["author_id"], alice_id.as_str(), "{}", m.body);
    let servers = bob.get("/servers/").await.body;
    let default = servers[0]["id"].as_str().unwrap().to_owned();
    let members = bob.get(&format!("/servers/{default}/members")).await.body;
    assert!(
        !members.to_string().contains(&alice_id),
        "alice is still listed: {members}"
    );
    // The email is free again (the username stays taken by the kept user record).
    Api::new(&server)
        .post(
            "/auth/register",
            json!({"username": "alice2", "email": "alice@example.com", "password": PASSWORD}),
        )
        .await
        .assert_status(200);
}

#[tokio::test]
async fn deleting_an_account_with_two_factor_needs_a_code() {
    let server = Server::start_with(no_rate_limits());
    let (alice, _, _) = user(&server, "alice").await;
    let setup = alice
        .post("/auth/2fa/enable", json!({"password": PASSWORD}))
        .await
        .body;
    let secret = setup["secret"].as_str().unwrap().to_owned();
    alice
        .post("/auth/2fa/confirm", json!({"code": totp(&secret, 0)}))
        .await
        .assert_status(200);
    let backup = setup["backup_codes"][0].as_str().unwrap().replace('-', "");

    alice
        .call("DELETE", "/users/@me", Some(json!({"password": PASSWORD})))
        .await
        .expect_error(400, "2FA code required");
    alice
        .call(
            "DELETE",
            "/users/@me",
            Some(json!({"password": PASSWORD, "code": "ZZZZ9999"})),
        )
        .await
        .expect_error(401, "Invalid 2FA code");
    alice
        .call(
            "DELETE",
            "/users/@me",
            Some(json!({"password": PASSWORD, "code": backup})),
        )
        .await
        .assert_status(200);
    alice
        .get("/users/@me")
        .await
        .expect_error(401, "Invalid or expired token");
}
