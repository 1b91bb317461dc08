//! Plexichat `POST /users/@me/avatar` and `POST /servers/{id}/icon` (§2.7, §2.8): multipart
//! image uploads that set `avatar_url`/`icon_url` (USER_UPDATE, GUILD_UPDATE) and are served
//! back publicly under `/api/v1/avatars/`.

use crate::files_support::{HttpResp, PNG, http, multipart};
use crate::plexichat_support::{Gateway, assert_valid_response, no_rate_limits, user};
use crate::support::Server;
use serde_json::{Value, json};

/// POSTs `data` as the multipart field `field` to `path` with `token`; the answer is validated
/// against the OpenAPI document.
async fn post_image(
    s: &Server,
    token: &str,
    path: &str,
    field: &str,
    ct: &str,
    data: &[u8],
) -> (u16, Value) {
    let (form_ct, body) = multipart(field, "me.png", ct, data);
    let auth = format!("Bearer {token}");
    let r = http(
        s.addr,
        "POST",
        path,
        &[("Authorization", auth.as_str())],
        Some((&form_ct, &body)),
    )
    .await;
    let v = r.json();
    assert_valid_response("POST", path, r.status, &v);
    (r.status, v)
}

async fn get_public(s: &Server, path: &str) -> HttpResp {
    let r = http(s.addr, "GET", path, &[], None).await;
    if r.header("content-type").is_some_and(|c| c.contains("json")) {
        assert_valid_response("GET", path, r.status, &r.json());
    }
    r
}

/// Asserts the Plexichat error envelope with `status` and `message`.
fn expect_api_error(r: &HttpResp, status: u16, message: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"error": {"code": status, "message": message}})
    );
}

#[tokio::test]
async fn avatar_upload_sets_avatar_url_and_is_served_publicly() {
    let server = Server::start_with(no_rate_limits());
    let (alice, token, id) = user(&server, "alice").await;
    let (mut gw, _) = Gateway::ready(&server, &token).await;

    expect_api_error(
        &get_public(&server, &format!("/api/v1/avatars/users/{id}")).await,
        404,
        "Avatar not found",
    );

    let (status, me) = post_image(
        &server,
        &token,
        "/api/v1/users/@me/avatar",
        "file",
        "image/png",
        PNG,
    )
    .await;
    assert_eq!(status, 200, "{me}");
    let url = me["avatar_url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&format!("/api/v1/avatars/users/{id}?v=")),
        "{url}"
    );
    let d = gw.dispatch().await;
    assert_eq!(d["t"], "USER_UPDATE");
    assert_eq!(d["d"]["user"]["avatar_url"], url.as_str());
    assert_eq!(
        alice.get("/users/@me").await.body["avatar_url"],
        url.as_str()
    );

    // Anyone may fetch it, without a token.
    let img = get_public(&server, &url).await;
    assert_eq!(img.status, 200);
    assert_eq!(img.header("content-type"), Some("image/png"));
    assert_eq!(img.body, PNG);
    let etag = img.header("etag").unwrap().to_owned();
    let again = http(
        server.addr,
        "GET",
        &url,
        &[("If-None-Match", etag.as_str())],
        None,
    )
    .await;
    assert_eq!(again.status, 304);

    // Refusals: not an image, bytes that are not what they claim, no file field.
    let (status, body) = post_image(
        &server,
        &token,
        "/api/v1/users/@me/avatar",
        "file",
        "text/html",
        b"<html>",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = post_image(
        &server,
        &token,
        "/api/v1/users/@me/avatar",
        "file",
        "image/png",
        b"GIF89a....",
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "File content does not match declared type: image/png"
    );
    let (status, body) = post_image(
        &server,
        &token,
        "/api/v1/users/@me/avatar",
        "avatar",
        "image/png",
        PNG,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["message"], "Invalid file: Field required");
    let (form_ct, form) = multipart("file", "me.png", "image/png", PNG);
    let anon = http(
        server.addr,
        "POST",
        "/api/v1/users/@me/avatar",
        &[],
        Some((&form_ct, &form)),
    )
    .await;
    expect_api_error(&anon, 401, "Not authenticated");
}

#[tokio::test]
async fn server_icon_upload_needs_manage_and_updates_the_server() {
    let server = Server::start_with(no_rate_limits());
    let (alice, alice_token, _) = user(&server, "alice").await;
    let (bob, bob_token, _) = user(&server, "bob").await;
    let team = alice.post("/servers/", json!({"name": "Team"})).await.body;
    let sid = team["id"].as_str().unwrap().to_owned();
    let invite = alice
        .post(
            &format!(
                "/channels/{}/invites",
                team["default_channel_id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    invite.assert_status(200);
    bob.post(
        &format!(
            "/channels/invites/{}",
            invite.body["code"].as_str().unwrap()
        ),
        json!({}),
    )
    .await
    .assert_status(200);
    let (mut bob_gw, _) = Gateway::ready(&server, &bob_token).await;
    let path = format!("/api/v1/servers/{sid}/icon");

    let (status, body) = post_image(&server, &bob_token, &path, "file", "image/png", PNG).await;
    assert_eq!(
        (status, &body["error"]["message"]),
        (403, &json!("Missing permissions"))
    );
    let (status, body) = post_image(
        &server,
        &alice_token,
        "/api/v1/servers/123/icon",
        "file",
        "image/png",
        PNG,
    )
    .await;
    assert_eq!(
        (status, &body["error"]["message"]),
        (404, &json!("Server not found"))
    );

    let (status, updated) =
        post_image(&server, &alice_token, &path, "file", "image/png", PNG).await;
    assert_eq!(status, 200, "{updated}");
    let icon = updated["icon_url"].as_str().unwrap().to_owned();
    assert!(
        icon.starts_with(&format!("/api/v1/avatars/servers/{sid}?v=")),
        "{icon}"
    );
    assert_eq!(
        alice.get(&format!("/servers/{sid}")).await.body["icon_url"],
        icon.as_str()
    );
    let d = bob_gw.dispatch().await;
    assert_eq!(d["t"], "GUILD_UPDATE", "{d}");
    assert_eq!(d["d"]["icon_url"], icon.as_str(), "{d}");

    let img = get_public(&server, &icon).await;
    assert_eq!(img.status, 200);
    assert_eq!(img.body, PNG);
    expect_api_error(
        &get_public(&server, "/api/v1/avatars/servers/123").await,
        404,
        "Avatar not found",
    );
}
