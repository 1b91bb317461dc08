//! OriginChats files: `POST /attachments/upload`, `GET /attachments/{id}`,
//! attachments on `message_new`, `attachment_get` / `attachment_delete`, expiry and the
//! sweeper, custom emoji (`emoji_*`, `/emojis/`), the other HTTP routes of §1.9 (index, server
//! assets, JSON 404, OPTIONS 204) and that the other dialects' routes still work. Every
//! WebSocket frame is validated against `spec/originchats.yaml` (through `Oc`).

use crate::files_support::*;
use crate::originchats::Oc;
use crate::support::{Options, Server};
use serde_json::{Value, json};

fn files_server(extra: &[(&str, &str)]) -> Server {
    let mut opts = Options::default().env("CHORUS__ORIGINCHATS__AUTH_MODE", "cracked-only");
    for (k, v) in extra {
        opts = opts.env(k, *v);
    }
    Server::start_with(opts)
}

fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[tokio::test]
async fn upload_attach_download_and_delete_with_the_message() {
    // Byte-for-byte downloads: images are not re-encoded here (see the test below).
    let s = files_server(&[("CHORUS__FILES__COMPRESSION__ENABLED", "false")]);
    let (mut alice, token) = register_token(&s, "alice").await;
    let mut bob = Oc::register(&s, "bob").await;
    assert_eq!(alice.recv().await["cmd"], "user_join");
    assert_eq!(alice.recv().await["cmd"], "user_connect");
    // The handshake advertises the attachment settings.
    assert_eq!(
        alice.handshake["val"]["attachments"],
        json!({"enabled": true, "max_size": 104857600,
               "allowed_types": ["image/*", "video/*", "audio/*", "application/pdf"],
               "max_attachments_per_user": -1, "permanent_tiers": ["pro", "max"]})
    );

    let r = upload(
        &s,
        &token,
        "general",
        "dot.png",
        "image/png",
        PNG,
        json!({}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_cors(&r);
    let body = r.json();
    assert_eq!(body["permanent"], false);
    let att = &body["attachment"];
    let id = att["id"].as_str().unwrap().to_owned();
    assert_eq!(
        *att,
        json!({"id": id, "name": "dot.png", "mime_type": "image/png", "size": PNG.len(),
               "url": format!("/attachments/{id}"), "expires_at": att["expires_at"],
               "permanent": false, "width": 1, "height": 1})
    );
    // Small files live the 7-day free-tier cap.
    let expires = att["expires_at"].as_f64().unwrap();
    assert!(
        (expires - (now_secs() + 7.0 * 86400.0)).abs() < 120.0,
        "{expires}"
    );

    // The file comes back with its type; ranges work.
    let got = http(s.addr, "GET", &format!("/attachments/{id}"), &[], None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, PNG);
    assert_eq!(got.header("content-type"), Some("image/png"));
    assert_eq!(got.header("cache-control"), Some("public, max-age=3600"));
    assert_cors(&got);
    let part = http(
        s.addr,
        "GET",
        &format!("/attachments/{id}"),
        &[("Range", "bytes=1-3")],
        None,
    )
    .await;
    assert_eq!(part.status, 206);
    assert_eq!(part.body, &PNG[1..4]);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 1-3/{}", PNG.len()).as_str())
    );

    // attachment_get describes it.
    alice
        .send(json!({"cmd": "attachment_get", "attachment_id": id, "listener": "g"}))
        .await;
    alice
        .expect(json!({"cmd": "attachment_info", "attachment": att.clone(), "listener": "g"}))
        .await;

    // An attachment-only message: both clients see the same AttachmentInfo.
    alice
        .send(json!({"cmd": "message_new", "channel": "general", "attachments": [{"id": id}]}))
        .await;
    let mine = alice.recv().await;
    let theirs = bob.recv().await;
    assert_eq!(mine, theirs);
    assert_eq!(mine["cmd"], "message_new");
    assert_eq!(mine["message"]["content"], "");
    assert_eq!(mine["message"]["attachments"], json!([att.clone()]));
    let mid = mine["message"]["id"].as_str().unwrap().to_owned();
    // History shows it too.
    bob.send(json!({"cmd": "messages_get", "channel": "general"}))
        .await;
    let history = loop {
        let f = bob.recv().await;
        if f["cmd"] == "messages_get" {
            break f;
        }
    };
    let last = history["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["attachments"], json!([att.clone()]));

    // Deleting the message deletes the attachment.
    alice
        .send(json!({"cmd": "message_delete", "channel": "general", "id": mid}))
        .await;
    assert_eq!(alice.recv().await["cmd"], "message_delete");
    let gone = http(s.addr, "GET", &format!("/attachments/{id}"), &[], None).await;
    gone.expect_error(404, "Attachment not found or expired");
    assert_cors(&gone);
    alice
        .expect_error(
            json!({"cmd": "attachment_get", "attachment_id": id}),
            "Attachment not found or expired",
        )
        .await;
    alice.close().await;
    bob.close().await;
}

/// A 3000×1000 JPEG carrying an EXIF block with a GPS-like payload and orientation 6.
fn tagged_photo() -> Vec<u8> {
    use image::ImageEncoder;
    let img = image::RgbImage::from_fn(3000, 1000, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, 90])
    });
    let mut jpeg = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95);
    let mut exif = b"II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x06\0\0\0\0\0\0\0".to_vec();
    exif.extend_from_slice(b"GPS 52.5200N 13.4050E");
    enc.set_exif_metadata(exif).unwrap();
    enc.write_image(img.as_raw(), 3000, 1000, image::ExtendedColorType::Rgb8)
        .unwrap();
    jpeg
}

/// Uploaded photos are stored upright, shrunk to 1920×1920 and without their EXIF block (§5.4),
/// and the attachment's size and dimensions describe what is stored.
#[tokio::test]
async fn uploaded_photos_are_recoded_without_metadata() {
    let s = files_server(&[]);
    let (_alice, token) = register_token(&s, "alice").await;
    let photo = tagged_photo();
    assert!(photo.windows(3).any(|w| w == b"GPS"));
    let send = || {
        upload(
            &s,
            &token,
            "general",
            "trip.jpg",
            "image/jpeg",
            &photo,
            json!({}),
        )
    };
    let r = send().await;
    assert_eq!(r.status, 201, "{}", r.text());
    let att = r.json()["attachment"].clone();
    // Orientation 6 turns 3000×1000 into 1000×3000, which fits the box at 640×1920.
    assert_eq!(
        (&att["width"], &att["height"]),
        (&json!(640), &json!(1920)),
        "{att}"
    );
    let id = att["id"].as_str().unwrap();
    let got = http(s.addr, "GET", &format!("/attachments/{id}"), &[], None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("image/jpeg"));
    assert_eq!(att["size"], got.body.len(), "size is the stored file's");
    assert!(got.body.len() < photo.len());
    assert!(
        !got.body.windows(3).any(|w| w == b"GPS"),
        "the EXIF block is gone"
    );
    let stored = image::load_from_memory(&got.body).unwrap();
    assert_eq!((stored.width(), stored.height()), (640, 1920));
    // The same photo again is the same attachment (its stored form is the same).
    let again = send().await;
    assert_eq!(again.json()["attachment"]["id"], id);
}

#[tokio::test]
async fn upload_refusals_have_the_reference_statuses_and_texts() {
    let s = files_server(&[("CHORUS__FILES__MAX_SIZE", "1000")]);
    let mut owner = staff(&s, "boss", "owner").await;
    let (_alice, token) = register_token(&s, "alice").await;
    let post = |ct: &'static str, body: String| {
        let addr = s.addr;
        async move {
            http(
                addr,
                "POST",
                "/attachments/upload",
                &[],
                Some((ct, body.as_bytes())),
            )
            .await
        }
    };
    post("text/plain", "{}".into())
        .await
        .expect_error(415, "Content-Type must be application/json");
    post("application/json", "{nope".into())
        .await
        .expect_error(400, "Invalid JSON body");
    post("application/json", "[1]".into())
        .await
        .expect_error(400, "Invalid JSON body");
    post("application/json", json!({"file": "x"}).to_string())
        .await
        .expect_error(
            401,
            "validator_key and validator are required for authentication",
        );
    // Rotur is disabled in cracked-only mode: a validator that is no session token fails.
    post(
        "application/json",
        json!({"validator_key": "originChats-x", "validator": "usr,abc"}).to_string(),
    )
    .await
    .expect_error(401, "Invalid credentials");
    let bad_bearer = http(
        s.addr,
        "POST",
        "/attachments/upload",
        &[("Authorization", "Bearer nope")],
        Some(("application/json", b"{}")),
    )
    .await;
    bad_bearer.expect_error(401, "Invalid credentials");
    post(
        "application/json",
        json!({"validator": token, "name": "a.png"}).to_string(),
    )
    .await
    .expect_error(
        400,
        "Missing required fields: file, name, mime_type, channel",
    );
    upload(&s, &token, "nowhere", "a.png", "image/png", PNG, json!({}))
        .await
        .expect_error(404, "Channel does not exist");
    // A channel alice may not send in.
    owner
        .send(
            json!({"cmd": "channel_create", "name": "news", "type": "text",
            "permissions": {"view": ["owner", "user"], "send": ["owner"]}}),
        )
        .await;
    loop {
        if owner.recv().await["cmd"] == "channel_create" {
            break;
        }
    }
    upload(&s, &token, "news", "a.png", "image/png", PNG, json!({}))
        .await
        .expect_error(403, "You don't have permission to send in this channel");
    // A type outside allowed_types, and a file over max_size, fail to save (as the reference).
    upload(
        &s,
        &token,
        "general",
        "a.zip",
        "application/zip",
        b"PK\x03\x04",
        json!({}),
    )
    .await
    .expect_error(500, "Failed to save attachment");
    upload(
        &s,
        &token,
        "general",
        "big.png",
        "image/png",
        &[7u8; 1001],
        json!({}),
    )
    .await
    .expect_error(500, "Failed to save attachment");
    // A body far over the limit is refused before it is parsed.
    let huge = format!("{{\"file\":\"{}\"}}", "A".repeat(70_000));
    post("application/json", huge)
        .await
        .expect_error(413, "Request body too large (max 1000 bytes)");
    // A Bearer session token works as well as `validator`.
    let body = json!({"file": data_uri("image/png", PNG), "name": "a.png",
        "mime_type": "image/png", "channel": "general"})
    .to_string();
    let ok = http(
        s.addr,
        "POST",
        "/attachments/upload",
        &[("Authorization", &format!("Bearer {token}"))],
        Some(("application/json", body.as_bytes())),
    )
    .await;
    assert_eq!(ok.status, 201, "{}", ok.text());
    owner.close().await;
}

#[tokio::test]
async fn message_new_checks_every_attachment() {
    let s = files_server(&[]);
    let (mut alice, token) = register_token(&s, "alice").await;
    let (mut bob, bob_token) = register_token(&s, "bob").await;
    for _ in 0..2 {
        alice.recv().await; // bob's user_join, user_connect
    }
    let mine = upload(
        &s,
        &token,
        "general",
        "a.pdf",
        "application/pdf",
        b"%PDF-1.4",
        json!({}),
    )
    .await
    .json()["attachment"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let theirs = upload(
        &s,
        &bob_token,
        "general",
        "b.pdf",
        "application/pdf",
        b"%PDF-1.5",
        json!({}),
    )
    .await
    .json()["attachment"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (attachments, error) in [
        (json!([{}]), "Attachment ID is required".to_owned()),
        (json!([{"id": ""}]), "Attachment ID is required".to_owned()),
        (json!([1]), "Each attachment must be an object".to_owned()),
        (json!("x"), "Attachments must be an array".to_owned()),
        (
            json!([{"id": "nope"}]),
            "Attachment nope not found or expired".to_owned(),
        ),
        (
            json!([{"id": theirs}]),
            "You can only attach your own uploads".to_owned(),
        ),
        (
            json!([{"id": mine}, {"id": theirs}]),
            "You can only attach your own uploads".to_owned(),
        ),
    ] {
        alice
            .expect_error(
                json!({"cmd": "message_new", "channel": "general", "content": "hi",
                       "attachments": attachments}),
                &error,
            )
            .await;
    }
    // Nothing was posted; a good one with text goes through.
    alice
        .send(
            json!({"cmd": "message_new", "channel": "general", "content": "see",
                     "attachments": [{"id": mine}]}),
        )
        .await;
    let m = alice.recv().await;
    assert_eq!(m["message"]["content"], "see");
    assert_eq!(m["message"]["attachments"][0]["id"], mine.as_str());
    assert_eq!(bob.recv().await["message"]["id"], m["message"]["id"]);
    alice.expect_quiet().await;
    bob.expect_quiet().await;
    alice.close().await;
    bob.close().await;
}

#[tokio::test]
async fn attachments_disabled() {
    let s = files_server(&[("CHORUS__FILES__ENABLED", "false")]);
    let (mut alice, token) = register_token(&s, "alice").await;
    assert_eq!(alice.handshake["val"]["attachments"]["enabled"], false);
    upload(&s, &token, "general", "a.png", "image/png", PNG, json!({}))
        .await
        .expect_error(503, "Attachments are disabled");
    http(s.addr, "GET", "/attachments/abc", &[], None)
        .await
        .expect_error(503, "Attachments are disabled");
    alice
        .expect_error(
            json!({"cmd": "message_new", "channel": "general", "content": "x",
                   "attachments": [{"id": "abc"}]}),
            "Attachments are disabled",
        )
        .await;
    alice.close().await;
}

#[tokio::test]
async fn attachment_delete_is_for_the_uploader_and_admins() {
    let s = files_server(&[]);
    let mut admin = staff(&s, "root", "admin").await;
    let (mut alice, token) = register_token(&s, "alice").await;
    let (mut bob, _) = register_token(&s, "bob").await;
    let id = |r: HttpResp| r.json()["attachment"]["id"].as_str().unwrap().to_owned();
    let a = id(upload(
        &s,
        &token,
        "general",
        "a.pdf",
        "application/pdf",
        b"%PDF-a",
        json!({}),
    )
    .await);
    let b = id(upload(
        &s,
        &token,
        "general",
        "b.pdf",
        "application/pdf",
        b"%PDF-b",
        json!({}),
    )
    .await);
    bob.expect_error(
        json!({"cmd": "attachment_delete", "attachment_id": a}),
        "You can only delete your own attachments",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "attachment_delete", "attachment_id": "nope"}),
        "Attachment not found",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "attachment_delete"}),
        "Invalid attachment_delete command: attachment_id: Field required",
    )
    .await;
    // Drain the joins the others saw.
    while alice.recv().await["cmd"] != "user_connect" {}
    alice
        .send(json!({"cmd": "attachment_delete", "attachment_id": a, "listener": "d"}))
        .await;
    alice
        .expect(json!({"cmd": "attachment_deleted", "attachment_id": a, "deleted": true, "listener": "d"}))
        .await;
    loop {
        if admin.recv().await["cmd"] == "user_connect" {
            break;
        }
    }
    while admin.recv().await["cmd"] != "user_connect" {}
    admin
        .send(json!({"cmd": "attachment_delete", "attachment_id": b}))
        .await;
    admin
        .expect(json!({"cmd": "attachment_deleted", "attachment_id": b, "deleted": true}))
        .await;
    for gone in [a, b] {
        http(s.addr, "GET", &format!("/attachments/{gone}"), &[], None)
            .await
            .expect_error(404, "Attachment not found or expired");
    }
    alice.close().await;
    bob.close().await;
    admin.close().await;
}

#[tokio::test]
async fn expired_and_unreferenced_attachments_are_swept_with_their_files() {
    // 0.0005 h = 1.8 s unreferenced; sweeps every second.
    let s = files_server(&[
        ("CHORUS__FILES__SWEEP_INTERVAL_SECS", "1"),
        ("CHORUS__FILES__UNREFERENCED_HOURS", "0.0005"),
    ]);
    let (mut alice, token) = register_token(&s, "alice").await;
    let id = |r: HttpResp| r.json()["attachment"]["id"].as_str().unwrap().to_owned();
    // Expires in about 2 s, even though a message uses it.
    let short = id(upload(
        &s,
        &token,
        "general",
        "s.pdf",
        "application/pdf",
        b"%PDF-s",
        json!({"expires_in_days": 0.000025}),
    )
    .await);
    // Never used: swept once 1.8 s old.
    let loose = id(upload(
        &s,
        &token,
        "general",
        "l.pdf",
        "application/pdf",
        b"%PDF-l",
        json!({}),
    )
    .await);
    // Used by a message: stays.
    let kept = id(upload(
        &s,
        &token,
        "general",
        "k.pdf",
        "application/pdf",
        b"%PDF-k",
        json!({}),
    )
    .await);
    for a in [&short, &kept] {
        alice
            .send(json!({"cmd": "message_new", "channel": "general", "attachments": [{"id": a}]}))
            .await;
        assert_eq!(alice.recv().await["cmd"], "message_new");
    }
    let dir = s.dir.path().join("data").join("attachments");
    let files_of = |id: &str| -> usize {
        std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().starts_with(id))
                    .count()
            })
            .unwrap_or(0)
    };
    assert_eq!(files_of(&short), 1);
    for a in [&short, &loose] {
        let addr = s.addr;
        let path = format!("/attachments/{a}");
        eventually("the attachment to go", || {
            let path = path.clone();
            async move { http(addr, "GET", &path, &[], None).await.status == 404 }
        })
        .await;
    }
    eventually("the swept files to go", || async {
        files_of(&short) == 0 && files_of(&loose) == 0
    })
    .await;
    let k = http(s.addr, "GET", &format!("/attachments/{kept}"), &[], None).await;
    assert_eq!(k.status, 200);
    assert_eq!(files_of(&kept), 1);
    alice.close().await;
}

#[tokio::test]
async fn rotur_users_upload_with_a_fresh_validator() {
    let rotur = rotur_with_plans().await;
    let s = Server::start_with(
        Options::default()
            .env("CHORUS__ORIGINCHATS__AUTH_MODE", "rotur")
            .env("CHORUS__ORIGINCHATS__ROTUR_URL", rotur),
    );
    // Not known to the server yet: refused.
    let key = "originChats-abc";
    let body = |v: &str| {
        json!({"validator_key": key, "validator": v, "file": data_uri("image/png", PNG),
            "name": "r.png", "mime_type": "image/png", "channel": "general"})
        .to_string()
    };
    let post = |b: String| {
        let addr = s.addr;
        async move {
            http(
                addr,
                "POST",
                "/attachments/upload",
                &[],
                Some(("application/json", b.as_bytes())),
            )
            .await
        }
    };
    post(body("good,1"))
        .await
        .expect_error(401, "User not found");
    post(body("bad"))
        .await
        .expect_error(401, "Invalid credentials");
    // Once the user has connected, a fresh validator uploads; rotty is on a permanent plan.
    let mut c = Oc::connect(&s).await;
    c.send(json!({"cmd": "auth", "validator": "good,2"})).await;
    assert_eq!(c.recv().await["cmd"], "auth_success");
    let r = post(body("good,3")).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    assert_eq!(v["permanent"], true);
    assert_eq!(v["attachment"]["permanent"], true);
    let expires = v["attachment"]["expires_at"].as_f64().unwrap();
    assert!(
        (expires - (now_secs() + 365.0 * 86400.0)).abs() < 120.0,
        "{expires}"
    );
    // `expires_in_days` can only shorten it.
    let mut short: Value = serde_json::from_str(&body("good,4")).unwrap();
    short["expires_in_days"] = json!(2);
    short["name"] = json!("other.png");
    short["file"] = json!(data_uri("image/png", &[PNG, b"x"].concat()));
    let r = post(short.to_string()).await;
    let expires = r.json()["attachment"]["expires_at"].as_f64().unwrap();
    assert!(
        (expires - (now_secs() + 2.0 * 86400.0)).abs() < 120.0,
        "{expires}"
    );
    c.close().await;
}

#[tokio::test]
async fn rotur_unreachable_is_a_502() {
    let s = Server::start_with(
        Options::default()
            .env("CHORUS__ORIGINCHATS__AUTH_MODE", "rotur")
            .env("CHORUS__ORIGINCHATS__ROTUR_URL", "http://127.0.0.1:9")
            .env("CHORUS__ORIGINCHATS__ROTUR_TIMEOUT_MS", "2000"),
    );
    let b = json!({"validator_key": "k", "validator": "v"}).to_string();
    http(
        s.addr,
        "POST",
        "/attachments/upload",
        &[],
        Some(("application/json", b.as_bytes())),
    )
    .await
    .expect_error(502, "Failed to validate credentials");
}

#[tokio::test]
async fn custom_emoji_commands_and_files() {
    let s = files_server(&[]);
    let mut admin = staff(&s, "root", "admin").await;
    let (mut alice, _) = register_token(&s, "alice").await;
    while admin.recv().await["cmd"] != "user_connect" {}
    let png = data_uri("image/png", PNG);
    alice
        .expect_error(
            json!({"cmd": "emoji_add", "name": "wave", "image": png}),
            "Access denied: 'manage_server' permission required",
        )
        .await;
    admin
        .send(json!({"cmd": "emoji_add", "name": "wave", "image": png, "listener": "e"}))
        .await;
    admin
        .expect(json!({"cmd": "emoji_add", "id": "0", "added": true, "listener": "e"}))
        .await;
    admin
        .send(json!({"cmd": "emoji_add", "name": "party", "image": data_uri("image/gif", GIF)}))
        .await;
    admin
        .expect(json!({"cmd": "emoji_add", "id": "1", "added": true}))
        .await;
    for bad in [
        json!({"cmd": "emoji_add", "name": "WAVE", "image": png}),
        json!({"cmd": "emoji_add", "name": "no-dash", "image": png}),
        json!({"cmd": "emoji_add", "name": "x", "image": "data:image/png;base64,aGVsbG8="}),
        json!({"cmd": "emoji_add", "name": "y", "image": "data:image/svg+xml;base64,PHN2Zy8+"}),
    ] {
        admin.expect_error(bad, "Error adding emoji").await;
    }
    admin
        .expect_error(
            json!({"cmd": "emoji_add", "image": png}),
            "Invalid emoji_add command scheme: name: Field required",
        )
        .await;
    alice.send(json!({"cmd": "emoji_get_all"})).await;
    alice
        .expect(json!({"cmd": "emoji_get_all", "emojis": {
            "0": {"name": "wave", "fileName": "0.png"},
            "1": {"name": "party", "fileName": "1.gif"}}}))
        .await;
    alice
        .send(json!({"cmd": "emoji_get_id", "name": "Wave"}))
        .await;
    alice
        .expect(json!({"cmd": "emoji_get_id", "name": "Wave", "id": "0"}))
        .await;
    alice
        .send(json!({"cmd": "emoji_get_filename", "name": "party"}))
        .await;
    alice
        .expect(json!({"cmd": "emoji_get_filename", "name": "party", "filepath": "1.gif"}))
        .await;
    alice
        .expect_error(
            json!({"cmd": "emoji_get_id", "name": "nope"}),
            "Emoji not found",
        )
        .await;
    alice
        .expect_error(
            json!({"cmd": "emoji_get_filename", "name": "nope"}),
            "Emoji not found",
        )
        .await;
    // Served by file name and by id.
    for path in ["/emojis/0.png", "/emojis/0"] {
        let r = http(s.addr, "GET", path, &[], None).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.body, PNG);
        assert_eq!(r.header("content-type"), Some("image/png"));
        assert_eq!(r.header("cache-control"), Some("public, max-age=3600"));
        assert_cors(&r);
    }
    for path in ["/emojis/9", "/emojis/..%2Fchorus.db", "/emojis/0.svg"] {
        let r = http(s.addr, "GET", path, &[], None).await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (404, "Emoji not found"),
            "{path}"
        );
    }
    // Updates: rename, refused rename, a new image (a GIF now), nothing to update.
    admin
        .send(json!({"cmd": "emoji_update", "emoji_id": 0, "name": "hello"}))
        .await;
    admin
        .expect(json!({"cmd": "emoji_update", "id": 0, "updated": true}))
        .await;
    admin
        .send(json!({"cmd": "emoji_update", "emoji_id": 0, "name": "PARTY"}))
        .await;
    admin
        .expect(json!({"cmd": "emoji_update", "id": 0, "updated": false}))
        .await;
    admin
        .send(json!({"cmd": "emoji_update", "emoji_id": 0, "image": data_uri("image/gif", GIF)}))
        .await;
    admin
        .expect(json!({"cmd": "emoji_update", "id": 0, "updated": true}))
        .await;
    admin
        .expect_error(
            json!({"cmd": "emoji_update", "emoji_id": 0}),
            "At least one field to update is required (name or image)",
        )
        .await;
    admin
        .send(json!({"cmd": "emoji_update", "emoji_id": 7, "name": "ghost"}))
        .await;
    admin
        .expect(json!({"cmd": "emoji_update", "id": 7, "updated": false}))
        .await;
    let g = http(s.addr, "GET", "/emojis/0.gif", &[], None).await;
    assert_eq!((g.status, g.body.as_slice()), (200, GIF));
    assert_eq!(
        http(s.addr, "GET", "/emojis/0.png", &[], None).await.status,
        404
    );
    admin
        .send(json!({"cmd": "emoji_get_filename", "name": "hello"}))
        .await;
    admin
        .expect(json!({"cmd": "emoji_get_filename", "name": "hello", "filepath": "0.gif"}))
        .await;
    // Deletes.
    admin
        .send(json!({"cmd": "emoji_delete", "emoji_id": 1}))
        .await;
    admin
        .expect(json!({"cmd": "emoji_delete", "id": 1, "deleted": true}))
        .await;
    admin
        .send(json!({"cmd": "emoji_delete", "emoji_id": 1}))
        .await;
    admin
        .expect(json!({"cmd": "emoji_delete", "id": 1, "deleted": false}))
        .await;
    admin
        .expect_error(
            json!({"cmd": "emoji_delete", "emoji_id": "1"}),
            "Invalid emoji_delete command scheme: emoji_id: Input should be a valid integer",
        )
        .await;
    assert_eq!(
        http(s.addr, "GET", "/emojis/1.gif", &[], None).await.status,
        404
    );
    // Ids keep growing from the highest one.
    admin
        .send(json!({"cmd": "emoji_add", "name": "again", "image": png}))
        .await;
    admin
        .expect(json!({"cmd": "emoji_add", "id": "1", "added": true}))
        .await;
    admin.close().await;
    alice.close().await;
}

#[tokio::test]
async fn http_routes_index_assets_404_and_preflight() {
    let s = {
        let dir = tempfile::tempdir().unwrap();
        // The icon file has to exist before the server starts.
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("server-assets")).unwrap();
        std::fs::write(data.join("server-assets").join("icon.png"), PNG).unwrap();
        let s = Server::start_with(
            Options::default()
                .env("CHORUS__ORIGINCHATS__AUTH_MODE", "cracked-only")
                .env("CHORUS__ORIGINCHATS__SERVER_ICON", "icon.png")
                .env("CHORUS__ORIGINCHATS__SERVER_BANNER", "missing.png")
                .env(
                    "CHORUS__STORAGE__DATA_DIR",
                    data.to_string_lossy().to_string(),
                ),
        );
        (s, dir)
    };
    let (s, _keep) = s;
    let c = Oc::connect(&s).await;
    let icon_url = format!("http://{}/server-assets/icon", s.addr);
    assert_eq!(c.handshake["val"]["server"]["icon"], icon_url.as_str());
    assert_eq!(c.handshake["val"]["server"]["banner"], "missing.png");
    let info = http(s.addr, "GET", "/info", &[], None).await.json();
    assert_eq!(info["server"]["icon"], icon_url.as_str());
    let icon = http(s.addr, "GET", "/server-assets/icon", &[], None).await;
    assert_eq!((icon.status, icon.body.as_slice()), (200, PNG));
    assert_eq!(icon.header("content-type"), Some("image/png"));
    assert_cors(&icon);
    for p in ["/server-assets/banner", "/server-assets/other"] {
        let r = http(s.addr, "GET", p, &[], None).await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (404, "Server asset not found")
        );
        assert_cors(&r);
    }
    let index = http(s.addr, "GET", "/index.html", &[], None).await;
    assert_eq!(index.status, 200);
    assert_eq!(index.header("content-type"), Some("text/html"));
    assert_eq!(index.header("cache-control"), Some("no-cache"));
    assert!(index.text().contains("OriginChats"));
    assert_cors(&index);
    for p in ["/nope", "/attachments/", "/webhooks", "/a/b/c"] {
        let r = http(s.addr, "GET", p, &[], None).await;
        r.expect_error(404, "Not found");
        assert_cors(&r);
    }
    let post = http(
        s.addr,
        "POST",
        "/nope",
        &[],
        Some(("application/json", b"{}")),
    )
    .await;
    assert_eq!(post.status, 405);
    for p in ["/", "/info", "/attachments/upload", "/anything/else", "/ws"] {
        let r = http(s.addr, "OPTIONS", p, &[], None).await;
        assert_eq!(r.status, 204, "{p}");
        assert_cors(&r);
    }
    // The other dialects' routes on the main listener still answer.
    assert_eq!(http(s.addr, "GET", "/healthz", &[], None).await.body, b"ok");
    assert_eq!(http(s.addr, "GET", "/health", &[], None).await.status, 200);
    assert_eq!(
        http(s.addr, "GET", "/api/v1/health", &[], None)
            .await
            .status,
        200
    );
    let openapi = http(s.addr, "GET", "/openapi.json", &[], None).await;
    assert_eq!(openapi.status, 200);
    assert!(openapi.json()["paths"]["/api/v1/channels/{channel_id}/attachments"].is_object());
    assert_eq!(http(s.addr, "GET", "/docs", &[], None).await.status, 200);
    let api404 = http(s.addr, "GET", "/api/v1/nope", &[], None).await;
    assert_eq!(api404.status, 404);
    assert_eq!(api404.json()["error"]["code"], 404);
    let mut reactions = s.client().await;
    reactions.say("still here").await;
    let f: Value = reactions.recv().await;
    assert_eq!(f["type"], "message");
    let g = crate::support::Client::try_connect(&s.url("/gateway"), &[]).await;
    assert!(g.is_ok(), "the Plexichat gateway upgrades");
    c.close().await;
}
