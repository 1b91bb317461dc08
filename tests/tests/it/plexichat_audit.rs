//! Plexichat `GET /servers/{id}/audit-logs` (§2.8) over the core's audit log: the reference's
//! action names, filters, paging, and who may read it.

use crate::plexichat_support::{Api, no_rate_limits, user};
use crate::support::Server;
use serde_json::{Value, json};

fn actions(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn audit_log_lists_moderation_under_reference_names_to_those_allowed() {
    let server = Server::start_with(no_rate_limits());
    let (alice, _, alice_id) = user(&server, "alice").await;
    let (bob, _, bob_id) = user(&server, "bob").await;
    let (carol, _, carol_id) = user(&server, "carol").await;
    let t = alice.post("/servers/", json!({"name": "Team"})).await.body;
    let sid = t["id"].as_str().unwrap().to_owned();
    let general = t["default_channel_id"].as_str().unwrap().to_owned();
    let code = alice.invite_code(&general).await;
    for u in [&bob, &carol] {
        u.join(&code).await;
    }
    let logs = format!("/servers/{sid}/audit-logs");

    // A plain member may not read the log.
    bob.get(&logs)
        .await
        .expect_error(403, "Missing permissions");

    let role = alice
        .post(
            &format!("/servers/{sid}/roles"),
            json!({"name": "Auditors", "permissions": {"server.view_audit_log": true}}),
        )
        .await;
    role.assert_status(200);
    let role_id = role.body["id"].as_str().unwrap().to_owned();
    alice
        .call(
            "PUT",
            &format!("/servers/{sid}/members/{bob_id}/roles/{role_id}"),
            None,
        )
        .await
        .assert_status(200);
    alice
        .call(
            "PUT",
            &format!("/servers/{sid}/bans/{carol_id}"),
            Some(json!({"reason": "spam"})),
        )
        .await
        .assert_status(200);

    // Newest first, with the reference's names; the role gives bob the right to read it.
    let r = bob.get(&logs).await;
    r.assert_status(200);
    assert_eq!(
        actions(&r.body),
        ["member_ban", "member_role_update", "role_create"]
    );
    let ban = &r.body[0];
    assert_eq!(ban["server_id"], sid.as_str());
    assert_eq!(ban["user_id"], alice_id.as_str());
    assert_eq!(ban["user"], json!({"id": alice_id, "username": "alice"}));
    assert_eq!(ban["target_type"], "user");
    assert_eq!(ban["target_id"], carol_id.as_str());
    assert_eq!(ban["target_name"], "carol");
    assert_eq!(ban["reason"], "spam");
    assert_eq!(r.body[1]["target_id"], bob_id.as_str());
    assert_eq!(r.body[1]["changes"], json!({"role": "Auditors"}));
    assert_eq!(r.body[2]["target_type"], "role");
    assert_eq!(r.body[2]["target_id"], role_id.as_str());
    assert_eq!(r.body[2]["target_name"], "Auditors");

    // Filters and paging.
    let r = alice.get(&format!("{logs}?action_type=member_ban")).await;
    assert_eq!(actions(&r.body), ["member_ban"]);
    let r = alice
        .get(&format!("{logs}?action_type=channel_delete"))
        .await;
    assert_eq!(r.body, json!([]));
    let r = alice.get(&format!("{logs}?user_id={bob_id}")).await;
    assert_eq!(r.body, json!([]));
    let r = alice
        .get(&format!("{logs}?user_id={alice_id}&limit=1"))
        .await;
    assert_eq!(actions(&r.body), ["member_ban"]);
    let newest = r.body[0]["id"].as_str().unwrap().to_owned();
    let r = alice.get(&format!("{logs}?before={newest}")).await;
    assert_eq!(actions(&r.body), ["member_role_update", "role_create"]);

    // Errors: the banned carol is no member; bad parameters; no token.
    carol.get(&logs).await.expect_error(404, "Server not found");
    alice.get(&format!("{logs}?limit=0")).await.expect_error(
        400,
        "Invalid limit: Input should be greater than or equal to 1",
    );
    alice
        .get(&format!("{logs}?before=x"))
        .await
        .expect_error(400, "Invalid before");
    alice
        .get("/servers/abc/audit-logs")
        .await
        .expect_error(400, "Invalid server ID");
    Api::new(&server)
        .get(&logs)
        .await
        .expect_error(401, "Not authenticated");
}
