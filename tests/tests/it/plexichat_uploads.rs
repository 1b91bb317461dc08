//! Plexichat uploads and media: `POST /channels/{id}/attachments`, attachments on
//! messages (REST, MESSAGE_CREATE, and OriginChats clients of the same channel), and
//! `GET /api/v1/media/attachments/{filename}` (signed URLs, tokens, cookie, ETag, Range,
//! download). Every JSON answer under `/api/v1` is validated against the OpenAPI document.

use crate::files_support::*;
use crate::originchats::Oc;
use crate::plexichat_support::{Api, Gateway, general_channel};
use crate::support::{Options, Server};
use serde_json::{Value, json};

fn server(extra: &[(&str, &str)]) -> Server {
    let mut opts = Options::default()
        .env("CHORUS__ORIGINCHATS__AUTH_MODE", "cracked-only")
        .env("CHORUS__PLEXICHAT__RATE_LIMITS", "false");
    for (k, v) in extra {
        opts = opts.env(k, *v);
    }
    Server::start_with(opts)
}

/// Uploads `data` as the multipart field `field` to `channel`; the JSON answer is validated.
async fn upload_as(
    s: &Server,
    token: Option<&str>,
    channel: &str,
    field: &str,
    name: &str,
    ct: &str,
    data: &[u8],
) -> HttpResp {
    let (form_ct, body) = multipart(field, name, ct, data);
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = Vec::new();
    if let Some(a) = &auth {
        headers.push(("Authorization", a.as_str()));
    }
    let path = format!("/api/v1/channels/{channel}/attachments");
    let r = http(s.addr, "POST", &path, &headers, Some((&form_ct, &body))).await;
    validate(&path, &r);
    r
}

/// Checks a JSON answer against the OpenAPI document.
fn validate(path: &str, r: &HttpResp) {
    if r.header("content-type").is_some_and(|c| c.contains("json")) {
        crate::plexichat_support::assert_valid_response(
            "POST",
            path,
            r.status,
            &serde_json::from_slice(&r.body).unwrap(),
        );
    }
}

async fn get(s: &Server, path: &str, headers: &[(&str, &str)]) -> HttpResp {
    let r = http(s.addr, "GET", path, headers, None).await;
    if r.header("content-type").is_some_and(|c| c.contains("json")) {
        crate::plexichat_support::assert_valid_response(
            "GET",
            path,
            r.status,
            &serde_json::from_slice(&r.body).unwrap(),
        );
    }
    r
}

fn error_of(r: &HttpResp) -> (u16, Value) {
    (r.status, r.json()["error"]["message"].clone())
}

#[tokio::test]
async fn upload_then_post_with_the_attachment_everywhere() {
    let s = server(&[]);
    let api = Api::new(&s);
    let alice = api.register("alice").await;
    let token = alice.token.clone().unwrap();
    let bob = api.register("bob").await;
    let (mut gw, _) = Gateway::ready(&s, bob.token.as_deref().unwrap()).await;
    let mut oc = Oc::register(&s, "olga").await;
    let ch = general_channel();

    let r = upload_as(&s, Some(&token), &ch, "file", "dot.png", "image/png", PNG).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let up = r.json();
    let id = up["id"].as_str().unwrap().to_owned();
    assert!(id.bytes().all(|b| b.is_ascii_digit()), "{id}");
    assert_eq!(up["filename"], "dot.png");
    assert_eq!(up["size"], PNG.len());
    assert_eq!(up["content_type"], "image/png");
    assert_eq!(up["url"], format!("/api/v1/media/attachments/{id}.png"));
    assert_eq!(up["hash"].as_str().unwrap().len(), 64);

    // An attachment-only message: content is a zero-width space, as in the reference.
    let r = alice
        .post(
            &format!("/channels/{ch}/messages"),
            json!({"attachments": [{"filename": "dot.png", "content_type": "image/png",
                "size": PNG.len(), "url": up["url"]}]}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["content"], "\u{200b}");
    let a = &r.body["attachments"][0];
    assert_eq!(a["id"], id.as_str());
    assert_eq!(a["filename"], "dot.png");
    assert_eq!(a["hash"], up["hash"]);
    let signed = a["url"].as_str().unwrap().to_owned();
    assert!(signed.starts_with(&format!("/api/v1/media/attachments/{id}.png?fid={id}&exp=")));
    let d = gw.dispatch().await;
    assert_eq!(d["t"], "MESSAGE_CREATE");
    assert_eq!(d["d"]["attachments"][0]["id"], id.as_str());
    // OriginChats shows the same file as AttachmentInfo, with content "".
    let m = oc.recv().await;
    assert_eq!(m["cmd"], "message_new");
    assert_eq!(m["message"]["content"], "");
    assert_eq!(m["message"]["attachments"][0]["mime_type"], "image/png");
    assert_eq!(m["message"]["attachments"][0]["width"], 1);

    // Downloads: signed URL without a token; with a token; cookie; ETag; range; download=1.
    let r = get(&s, &signed, &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, PNG);
    assert_eq!(r.header("content-type"), Some("image/png"));
    assert_eq!(r.header("content-disposition"), Some("inline"));
    assert_eq!(r.header("cache-control"), Some("private, max-age=3600"));
    let etag = r.header("etag").unwrap().to_owned();
    assert_eq!(etag, format!("\"{id}-{}\"", PNG.len()));
    let plain = format!("/api/v1/media/attachments/{id}.png");
    let bob_auth = format!("Bearer {}", bob.token.as_deref().unwrap());
    assert_eq!(
        get(&s, &plain, &[("Authorization", &bob_auth)]).await.body,
        PNG
    );
    let cookie = format!("plexichat_token={}", bob.token.as_deref().unwrap());
    assert_eq!(get(&s, &plain, &[("Cookie", &cookie)]).await.status, 200);
    let r = get(
        &s,
        &plain,
        &[("Authorization", &bob_auth), ("If-None-Match", &etag)],
    )
    .await;
    assert_eq!(r.status, 304);
    let r = get(
        &s,
        &plain,
        &[("Authorization", &bob_auth), ("Range", "bytes=-4")],
    )
    .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &PNG[PNG.len() - 4..]);
    let r = get(
        &s,
        &format!("{plain}?download=1"),
        &[("Authorization", &bob_auth)],
    )
    .await;
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"dot.png\"")
    );
    // Refusals.
    assert_eq!(
        error_of(&get(&s, &plain, &[]).await),
        (401, json!("Authentication required"))
    );
    assert_eq!(
        error_of(&get(&s, &plain, &[("Authorization", "Bearer nope")]).await),
        (401, json!("Invalid token"))
    );
    let forged = signed.replace("&sig=", "&sig=x");
    assert_eq!(error_of(&get(&s, &forged, &[]).await).0, 401);
    let expired = format!("{plain}?fid={id}&exp=1&sig=abc");
    assert_eq!(error_of(&get(&s, &expired, &[]).await).0, 401);
    assert_eq!(
        error_of(
            &get(
                &s,
                "/api/v1/media/attachments/123.png",
                &[("Authorization", &bob_auth)]
            )
            .await
        ),
        (404, json!("File not found"))
    );
    assert_eq!(
        error_of(
            &get(
                &s,
                &format!("/api/v1/media/attachments/{id}.gif"),
                &[("Authorization", &bob_auth)]
            )
            .await
        ),
        (404, json!("File not found"))
    );
    oc.close().await;
}

#[tokio::test]
async fn upload_refusals() {
    let s = server(&[("CHORUS__FILES__MAX_SIZE", "2000")]);
    let api = Api::new(&s);
    let alice = api.register("alice").await;
    let token = alice.token.clone().unwrap();
    let ch = general_channel();
    let r = upload_as(&s, None, &ch, "file", "a.png", "image/png", PNG).await;
    assert_eq!(error_of(&r).0, 401);
    let r = upload_as(&s, Some(&token), "abc", "file", "a.png", "image/png", PNG).await;
    assert_eq!(error_of(&r), (400, json!("Invalid channel ID")));
    let r = upload_as(&s, Some(&token), "12345", "file", "a.png", "image/png", PNG).await;
    assert_eq!(error_of(&r), (404, json!("Channel not found")));
    let r = upload_as(&s, Some(&token), &ch, "other", "a.png", "image/png", PNG).await;
    assert_eq!(error_of(&r), (400, json!("Invalid file: Field required")));
    let r = upload_as(
        &s,
        Some(&token),
        &ch,
        "file",
        "a.png",
        "image/png",
        b"not a png at all",
    )
    .await;
    assert_eq!(
        error_of(&r),
        (
            400,
            json!("File content does not match declared type: image/png")
        )
    );
    let r = upload_as(
        &s,
        Some(&token),
        &ch,
        "file",
        "a.bmp",
        "image/bmp",
        b"BM123",
    )
    .await;
    assert_eq!(
        error_of(&r),
        (
            400,
            json!("Content type 'image/bmp' is not allowed for image uploads.")
        )
    );
    let r = upload_as(
        &s,
        Some(&token),
        &ch,
        "file",
        "run.exe",
        "application/x-custom",
        b"MZ",
    )
    .await;
    assert_eq!(error_of(&r), (400, json!("File type not allowed: .exe")));
    let r = upload_as(&s, Some(&token), &ch, "file", "x.html", "text/html", b"<b>").await;
    assert_eq!(
        error_of(&r),
        (
            400,
            json!("File type 'text/html' is blocked for security reasons.")
        )
    );
    let mut big = PNG.to_vec();
    big.resize(2001, 0);
    let r = upload_as(&s, Some(&token), &ch, "file", "big.png", "image/png", &big).await;
    assert_eq!(error_of(&r), (400, json!("File size exceeds limit 2000")));
    // A generic declaration is replaced by what the bytes are.
    let r = upload_as(
        &s,
        Some(&token),
        &ch,
        "file",
        "dot",
        "application/octet-stream",
        PNG,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["content_type"], "image/png");
    // Nothing half-written stays behind in the attachments directory.
    let dir = s.dir.path().join("data").join("attachments");
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[tokio::test]
async fn attaching_is_for_the_uploader_and_access_follows_the_channel() {
    let s = server(&[]);
    let api = Api::new(&s);
    let alice = api.register("alice").await;
    let bob = api.register("bob").await;
    let ch = general_channel();
    let up = upload_as(
        &s,
        alice.token.as_deref(),
        &ch,
        "file",
        "n.pdf",
        "application/pdf",
        b"%PDF-1.7",
    )
    .await
    .json();
    let desc = json!({"filename": "n.pdf", "content_type": "application/pdf", "size": 8, "url": up["url"]});
    let r = bob
        .post(
            &format!("/channels/{ch}/messages"),
            json!({"content": "mine", "attachments": [desc]}),
        )
        .await;
    r.expect_error(403, "You can only attach your own uploads");
    let r = bob
        .post(
            &format!("/channels/{ch}/messages"),
            json!({"content": "x", "attachments": [{"filename": "a", "content_type": "a/b", "size": 1,
                "url": "/api/v1/media/attachments/99.png"}]}),
        )
        .await;
    r.expect_error(400, "Attachment not found");
    let many: Vec<Value> = (0..11).map(|_| desc.clone()).collect();
    alice
        .post(
            &format!("/channels/{ch}/messages"),
            json!({"content": "x", "attachments": many}),
        )
        .await
        .expect_error(400, "Too many attachments (max 10)");
    // An upload for a DM between alice and carol: bob may not fetch it.
    let carol = api.register("carol").await;
    let carol_id = carol.get("/users/@me").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dm = alice
        .post("/users/@me/channels", json!({"recipient_id": carol_id}))
        .await;
    dm.assert_status(200);
    let dm_id = dm.body["id"].as_str().unwrap().to_owned();
    let up = upload_as(
        &s,
        alice.token.as_deref(),
        &dm_id,
        "file",
        "secret.pdf",
        "application/pdf",
        b"%PDF-s",
    )
    .await
    .json();
    let path = up["url"].as_str().unwrap().to_owned();
    let auth = |t: &Option<String>| format!("Bearer {}", t.as_deref().unwrap());
    assert_eq!(
        get(&s, &path, &[("Authorization", &auth(&alice.token))])
            .await
            .status,
        200
    );
    assert_eq!(
        get(&s, &path, &[("Authorization", &auth(&carol.token))])
            .await
            .status,
        200
    );
    assert_eq!(
        error_of(&get(&s, &path, &[("Authorization", &auth(&bob.token))]).await),
        (403, json!("Access denied"))
    );
    // Deleting the message deletes the file.
    let r = alice
        .post(
            &format!("/channels/{dm_id}/messages"),
            json!({"attachments": [{"filename": "secret.pdf", "content_type": "application/pdf",
                "size": 6, "url": path}]}),
        )
        .await;
    r.assert_status(200);
    let mid = r.body["id"].as_str().unwrap().to_owned();
    alice
        .call("DELETE", &format!("/channels/{dm_id}/messages/{mid}"), None)
        .await
        .assert_status(200);
    assert_eq!(
        error_of(&get(&s, &path, &[("Authorization", &auth(&alice.token))]).await),
        (404, json!("File not found"))
    );
}
