//! Plexichat REST (`/api/v1`, `spec/plexichat-rest.yaml`): the seed's getting-started walk and
//! each endpoint group's success and error paths. Every answer is checked against the OpenAPI
//! document and every gateway frame against `spec/gateway.yaml` (`plexichat_support`).

use crate::plexichat_support::{Api, Gateway, PASSWORD, general_channel, request};
use crate::support::{Options, Server};
use serde_json::json;

/// A server without rate limits (for tests that make many calls of one route).
fn unlimited() -> Server {
    Server::start_with(Options::default().env("CHORUS__PLEXICHAT__RATE_LIMITS", "false"))
}

#[tokio::test]
async fn getting_started_walk() {
    let server = Server::start();
    let api = Api::new(&server);

    // 1. The runtime surface: REST under /api/v1, the gateway, /docs, /health.
    let health = request(server.addr, "GET", "/health", &[], None).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body["status"], "healthy");
    let docs = request(server.addr, "GET", "/docs", &[], None).await;
    assert_eq!(docs.status, 200);
    assert!(
        docs.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let openapi = request(server.addr, "GET", "/openapi.json", &[], None).await;
    assert_eq!(openapi.body["openapi"], "3.1.0");

    // 2. Version compatibility.
    let v = api.get("/version").await;
    assert_eq!(v.status, 200);
    assert_eq!(v.body["api_version"], "v1");
    assert_eq!(v.body["version"]["string"], "a.1.0-131");
    let n = api
        .post("/version/negotiate", json!({"client_version": "a.1.0-49"}))
        .await;
    assert_eq!(n.status, 200);
    assert_eq!(n.body["compatible"], true);
    assert_eq!(n.body["update_recommended"], true);
    assert_eq!(n.body["client_version"]["build"], 49);

    // 3. Capabilities.
    let c = api.get("/capabilities").await;
    assert_eq!(c.status, 200);
    assert_eq!(c.body["access_token_required"], false);
    assert_eq!(c.body["avatars"]["max_size"], 512);

    // 4. Authenticate: register (logged in straight away), then log in.
    let reg = api
        .post(
            "/auth/register",
            json!({"username": "example", "email": "example@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(reg.status, 200);
    assert_eq!(reg.body["status"], "success");
    let login = api
        .post(
            "/auth/login",
            json!({"username": "example", "password": PASSWORD}),
        )
        .await;
    assert_eq!(login.status, 200);
    assert_eq!(login.body["status"], "success");
    let token = login.body["token"].as_str().unwrap().to_owned();
    let (session_id, secret) = token.split_once('.').unwrap();
    assert!(session_id.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(secret.len(), 43);
    assert_ne!(reg.body["token"], login.body["token"]);

    // 5. First authenticated request.
    let me = api.with_token(&token).get("/users/@me").await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["username"], "example");
    assert_eq!(me.body["email"], "example@example.com");
    assert_eq!(me.body["id"], login.body["user"]["id"]);
    assert!(
        me.body["id"]
            .as_str()
            .unwrap()
            .bytes()
            .all(|b| b.is_ascii_digit())
    );
    let created = me.body["created_at"].as_i64().unwrap();
    assert!(created > 1_700_000_000_000, "milliseconds: {created}");
    // The same call with the raw header of the seed's curl.
    let bearer = format!("Bearer {token}");
    let raw = request(
        server.addr,
        "GET",
        "/api/v1/users/@me",
        &[("Authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!(raw.body, me.body);

    // 5. The good follow-up requests.
    let authed = api.with_token(&token);
    let settings = authed.get("/users/@me/settings").await;
    assert_eq!(settings.status, 200);
    assert_eq!(
        settings.body,
        json!({"settings": {}, "count": 0, "limit": 100})
    );
    let features = authed.get("/users/@me/features").await;
    assert_eq!(features.status, 200);
    assert_eq!(features.body["tier"], "standard");
    let servers = request(
        server.addr,
        "GET",
        "/api/v1/servers",
        &[("Authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!(servers.status, 307);
    let location = servers.header("location").unwrap().to_owned();
    let servers = request(
        server.addr,
        "GET",
        &location,
        &[("Authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!(servers.status, 200);
    assert_eq!(servers.body[0]["default_channel_id"], general_channel());
    let notifications = authed.get("/users/@me/notifications").await;
    assert_eq!(notifications.status, 200);
    assert_eq!(
        notifications.body,
        json!({"notifications": [], "unread_count": 0})
    );

    // 6. Gateway: HELLO → IDENTIFY → heartbeat → READY → MESSAGE_CREATE.
    let (mut gw, interval) = Gateway::hello(&server).await;
    assert_eq!(interval, 45000);
    gw.send(json!({"op": 2, "d": {"token": token, "intents": 1081085,
        "properties": {"os": "linux", "browser": "chorus-tests", "device": "chorus-tests"}}}))
        .await;
    let ready = gw.recv().await;
    assert_eq!(ready["t"], "READY");
    assert_eq!(ready["s"], 1);
    assert_eq!(ready["d"]["v"], 10);
    assert_eq!(ready["d"]["user"]["username"], "example");
    assert_eq!(ready["d"]["user"]["id"], me.body["id"]);
    assert_eq!(ready["d"]["guilds"][0]["unavailable"], false);
    assert_eq!(ready["d"]["session_id"].as_str().unwrap().len(), 32);
    gw.heartbeat(Some(1)).await;

    let sent = api
        .with_token(&token)
        .say(&general_channel(), "hello")
        .await;
    let created = gw.dispatch().await;
    assert_eq!(created["t"], "MESSAGE_CREATE");
    assert_eq!(created["s"], 2);
    assert_eq!(created["d"]["id"], sent["id"]);
    assert_eq!(created["d"]["content"], "hello");
    assert_eq!(created["d"]["channel_id"], general_channel());
    assert_eq!(created["d"]["author_id"], me.body["id"]);
    assert_eq!(created["d"]["author_username"], "example");
}

#[tokio::test]
async fn version_negotiation_errors() {
    let server = Server::start_with(
        Options::default().env("CHORUS__PLEXICHAT__MIN_SUPPORTED_VERSION", "a.1.0-100"),
    );
    let api = Api::new(&server);
    let bad = api
        .post("/version/negotiate", json!({"client_version": "1.0"}))
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["error"]["code"], "INVALID_VERSION_FORMAT");
    assert_eq!(bad.body["error"]["client_version"], "1.0");
    let old = api
        .post("/version/negotiate", json!({"client_version": "a.1.0-49"}))
        .await;
    assert_eq!(old.status, 426);
    assert_eq!(old.body["error"]["code"], "VERSION_OUTDATED");
    assert_eq!(old.body["error"]["min_version"], "a.1.0-100");
    assert_eq!(
        old.body["error"]["message"],
        "Client version a.1.0-49 is no longer supported. Please update to a.1.0-100 or later."
    );
    let current = api
        .post("/version/negotiate", json!({"client_version": "a.1.0-131"}))
        .await;
    assert_eq!(current.status, 200);
    assert_eq!(current.body["update_recommended"], false);
    assert_eq!(current.body["message"], "Client version is compatible.");
    assert_eq!(current.body["min_supported_version"]["build"], 100);
    let v = api.get("/version").await;
    assert_eq!(v.body["min_supported_version"]["string"], "a.1.0-100");
    let missing = api.post("/version/negotiate", json!({})).await;
    assert_eq!(missing.status, 400);
    let health = api.get("/health").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body["status"], "healthy");
    let root = request(server.addr, "GET", "/health", &[], None).await;
    assert_eq!(root.status, 200);
    assert_eq!(root.body["version"], "a.1.0-131");
}

/// The published policy is public, and is the one registration enforces, at its edges.
#[tokio::test]
async fn password_requirements_are_public_and_enforced() {
    let server = unlimited();
    let api = Api::new(&server);
    let r = api.get("/auth/password-requirements").await;
    r.assert_status(200);
    assert_eq!(
        r.body,
        json!({"min_length": 12, "max_length": 128, "require_uppercase": true,
            "require_lowercase": true, "require_digit": true, "require_special": true})
    );
    let min = r.body["min_length"].as_u64().unwrap() as usize;
    let max = r.body["max_length"].as_u64().unwrap() as usize;
    let password = |n: usize| format!("Aa1-{}", "x".repeat(n - 4));
    let register = |name: &str, pw: String| {
        let api = api.clone();
        let body =
            json!({"username": name, "email": format!("{name}@example.com"), "password": pw});
        async move { api.post("/auth/register", body).await }
    };
    register("shorty", password(min - 1)).await.expect_error(
        400,
        &format!("Password must be at least {min} characters long"),
    );
    register("longy", password(max + 1)).await.expect_error(
        400,
        &format!("Password must be at most {max} characters long"),
    );
    register("nodigit", "Aa-xxxxxxxxxxxx".into())
        .await
        .expect_error(400, "Password must contain at least one digit");
    register("edgy", password(min)).await.assert_status(200);
    register("roomy", password(max)).await.assert_status(200);
}

#[tokio::test]
async fn registration_and_login_errors() {
    let server = unlimited();
    let api = Api::new(&server);
    let weak = api
        .post(
            "/auth/register",
            json!({"username": "alice", "email": "alice@example.com", "password": "short"}),
        )
        .await;
    weak.expect_error(400, "Password must be at least 12 characters long");
    let no_special = api
        .post("/auth/register", json!({"username": "alice", "email": "alice@example.com", "password": "CorrectHorse42"}))
        .await;
    no_special.expect_error(400, "Password must contain at least one special character");
    let bad_email = api
        .post(
            "/auth/register",
            json!({"username": "alice", "email": "nope", "password": PASSWORD}),
        )
        .await;
    bad_email.expect_error(400, "Invalid email: value is not a valid email address");
    let short = api
        .post(
            "/auth/register",
            json!({"username": "al", "email": "al@example.com", "password": PASSWORD}),
        )
        .await;
    short.expect_error(
        400,
        "Invalid username: String should have at least 3 characters",
    );
    let not_json = request(
        server.addr,
        "POST",
        "/api/v1/auth/register",
        &[],
        Some("{nope"),
    )
    .await;
    not_json.expect_error(400, "Invalid body: JSON decode error");

    let alice = api.register("alice").await;
    let dup_name = api
        .post(
            "/auth/register",
            json!({"username": "ALICE", "email": "other@example.com", "password": PASSWORD}),
        )
        .await;
    dup_name.expect_error(409, "Username or email already exists");
    let dup_email = api
        .post(
            "/auth/register",
            json!({"username": "alice2", "email": "Alice@Example.com", "password": PASSWORD}),
        )
        .await;
    dup_email.expect_error(409, "Username or email already exists");

    // Login by email works; wrong passwords are 401 until the fifth, then the account locks.
    let by_email = api
        .post(
            "/auth/login",
            json!({"username": "alice@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(by_email.status, 200);
    let unknown = api
        .post(
            "/auth/login",
            json!({"username": "nobody", "password": PASSWORD}),
        )
        .await;
    unknown.expect_error(401, "Invalid credentials");
    for _ in 0..5 {
        let r = api
            .post(
                "/auth/login",
                json!({"username": "alice", "password": "wrong"}),
            )
            .await;
        r.expect_error(401, "Invalid credentials");
    }
    let locked = api
        .post(
            "/auth/login",
            json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    locked.expect_error(403, "Account locked");
    // Existing sessions keep working.
    assert_eq!(alice.get("/users/@me").await.status, 200);
}

#[tokio::test]
async fn sessions_logout_and_refresh() {
    let server = Server::start();
    let api = Api::new(&server);
    let none = api.get("/users/@me").await;
    none.expect_error(401, "Not authenticated");
    let bogus = api.with_token("123.abc").get("/users/@me").await;
    bogus.expect_error(401, "Invalid or expired token");
    let two = request(
        server.addr,
        "GET",
        "/api/v1/users/@me",
        &[("Authorization", "Bearer a"), ("Authorization", "Bearer b")],
        None,
    )
    .await;
    two.expect_error(401, "Multiple Authorization headers");

    let alice = api.register("alice").await;
    let token = alice.token.clone().unwrap();
    // The prefix word does not matter: the token's own form does.
    let as_bot = request(
        server.addr,
        "GET",
        "/api/v1/users/@me",
        &[("Authorization", &format!("Bot {token}"))],
        None,
    )
    .await;
    assert_eq!(as_bot.status, 200);
    let refreshed = alice.post("/auth/refresh", json!({})).await;
    assert_eq!(refreshed.status, 200);
    assert_eq!(refreshed.body["token"], token.as_str());
    assert_eq!(refreshed.body["user"]["username"], "alice");
    let out = alice.post("/auth/logout", json!({})).await;
    assert_eq!(out.status, 200);
    assert_eq!(out.body, json!({"success": true, "message": null}));
    alice
        .get("/users/@me")
        .await
        .expect_error(401, "Invalid or expired token");
    alice
        .post("/auth/logout", json!({}))
        .await
        .expect_error(401, "Invalid or expired token");
}

#[tokio::test]
async fn rate_limit_headers_and_429() {
    let server = Server::start();
    let api = Api::new(&server);
    let v = api.get("/version").await;
    assert_eq!(v.header("x-ratelimit-limit"), Some("70"));
    assert_eq!(v.header("x-ratelimit-remaining"), Some("69"));
    assert_eq!(v.header("x-ratelimit-scope"), Some("route"));
    assert_eq!(v.header("x-ratelimit-bucket").unwrap().len(), 16);
    assert!(v.header("x-ratelimit-reset-after").unwrap().contains('.'));
    assert!(v.header("x-ratelimit-reset").is_some());
    // Registration: 3 per minute.
    for name in ["ann", "bob", "cid"] {
        api.register(name).await;
    }
    let limited = api
        .post(
            "/auth/register",
            json!({"username": "dan", "email": "dan@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.body["message"], "You are being rate limited.");
    assert_eq!(limited.body["global"], false);
    assert_eq!(limited.body["scope"], "route");
    assert!(limited.body["retry_after"].as_f64().unwrap() > 0.0);
    assert_eq!(limited.header("x-ratelimit-remaining"), Some("0"));
    assert!(
        limited
            .header("retry-after")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
}

#[tokio::test]
async fn access_token_gate() {
    let server = Server::start_with(
        Options::default()
            .env("CHORUS__PLEXICHAT__ACCESS_TOKEN_REQUIRED", "true")
            .env("CHORUS__PLEXICHAT__ACCESS_TOKENS", "[\"gate-secret\"]"),
    );
    let api = Api::new(&server);
    let caps = api.get("/capabilities").await;
    assert_eq!(caps.body["access_token_required"], true);
    let alice = api.register("alice").await;
    alice
        .get("/users/@me")
        .await
        .expect_error(401, "API access token required");
    let auth = format!("Bearer {}", alice.token.as_deref().unwrap());
    let wrong = request(
        server.addr,
        "GET",
        "/api/v1/users/@me",
        &[("Authorization", &auth), ("X-API-Access-Token", "nope")],
        None,
    )
    .await;
    wrong.expect_error(401, "Invalid API access token");
    let ok = request(
        server.addr,
        "GET",
        "/api/v1/users/@me",
        &[
            ("Authorization", &auth),
            ("X-API-Access-Token", "gate-secret"),
        ],
        None,
    )
    .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn messages_create_and_list() {
    let server = unlimited();
    let api = Api::new(&server);
    let alice = api.register("alice").await;
    let general = general_channel();
    let mut ids = Vec::new();
    for i in 0..5 {
        let m = alice.say(&general, &format!("m{i}")).await;
        assert_eq!(m["content"], format!("m{i}"));
        assert_eq!(m["edited_at"], json!(null));
        assert_eq!(m["reactions"], json!([]));
        ids.push(m["id"].as_str().unwrap().to_owned());
    }
    let contents = |r: &crate::plexichat_support::Resp| -> Vec<String> {
        r.body
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["content"].as_str().unwrap().to_owned())
            .collect()
    };
    let path = format!("/channels/{general}/messages");
    let all = alice.get(&path).await;
    assert_eq!(contents(&all), ["m4", "m3", "m2", "m1", "m0"]);
    let two = alice.get(&format!("{path}?limit=2")).await;
    assert_eq!(contents(&two), ["m4", "m3"]);
    let before = alice
        .get(&format!("{path}?before={}&limit=2", ids[3]))
        .await;
    assert_eq!(contents(&before), ["m2", "m1"]);
    let after = alice.get(&format!("{path}?after={}", ids[1])).await;
    assert_eq!(contents(&after), ["m2", "m3", "m4"]);
    let reply = alice
        .post(&path, json!({"content": "re", "reply_to_id": ids[0]}))
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["reply_to_id"], ids[0].as_str());

    // Errors.
    alice.get(&format!("{path}?limit=0")).await.expect_error(
        400,
        "Invalid limit: Input should be greater than or equal to 1",
    );
    alice.get(&format!("{path}?limit=101")).await.expect_error(
        400,
        "Invalid limit: Input should be less than or equal to 100",
    );
    alice.post(&path, json!({})).await.expect_error(
        400,
        "Message must have content, attachments, embeds, or a poll",
    );
    alice
        .post(&path, json!({"content": "x".repeat(4001)}))
        .await
        .assert_status(400);
    alice
        .post("/channels/general/messages", json!({"content": "hi"}))
        .await
        .expect_error(400, "Invalid channel ID");
    alice
        .post("/channels/12345/messages", json!({"content": "hi"}))
        .await
        .expect_error(404, "Channel not found");
    alice
        .get("/channels/12345/messages")
        .await
        .expect_error(404, "Channel not found");
    api.post(&path, json!({"content": "hi"}))
        .await
        .expect_error(401, "Not authenticated");
}

#[tokio::test]
async fn docs_are_served_from_the_openapi_document() {
    let server = Server::start();
    let doc = request(server.addr, "GET", "/openapi.json", &[], None).await;
    assert_eq!(doc.status, 200);
    assert_eq!(doc.body["openapi"], "3.1.0");
    assert!(doc.body["paths"]["/api/v1/auth/login"].is_object());
    let page = request(server.addr, "GET", "/docs", &[], None).await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.body.as_str().unwrap();
    assert!(html.contains("<code>/api/v1/auth/login</code>"));
    assert!(html.contains("/openapi.json"));
    assert!(
        !html.contains("https://"),
        "the page loads nothing from elsewhere"
    );
}

fn unbase32(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut out, mut buf, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in s.bytes() {
        buf = (buf << 5) | A.iter().position(|x| *x == c).unwrap() as u32;
        bits += 5;
        if bits >= 8 {
            out.push((buf >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    out
}

/// The RFC 6238 code of `secret` (base32) `offset` steps from now.
pub fn totp(secret: &str, offset: u64) -> String {
    use hmac::{KeyInit, Mac};
    let step = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 30
        + offset;
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(&unbase32(secret)).unwrap();
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let o = (h[19] & 0x0f) as usize;
    let n = u32::from_be_bytes([h[o] & 0x7f, h[o + 1], h[o + 2], h[o + 3]]) % 1_000_000;
    format!("{n:06}")
}

#[tokio::test]
async fn two_factor_enrolment_and_login() {
    let server = unlimited();
    let api = Api::new(&server);
    let alice = api.register("alice").await;
    let st = alice.get("/auth/2fa/status").await;
    assert_eq!(
        st.body,
        json!({"enabled": false, "backup_codes_remaining": 0})
    );
    alice
        .post("/auth/2fa/enable", json!({"password": "wrong"}))
        .await
        .expect_error(401, "Invalid password");
    let setup = alice
        .post("/auth/2fa/enable", json!({"password": PASSWORD}))
        .await;
    assert_eq!(setup.status, 200);
    let secret = setup.body["secret"].as_str().unwrap().to_owned();
    assert!(
        setup.body["qr_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    let backups: Vec<String> = setup.body["backup_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(backups.len(), 10);
    assert_eq!(backups[0].len(), 9);
    // Not on until confirmed.
    let plain = api
        .post(
            "/auth/login",
            json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    assert_eq!(plain.body["status"], "success");
    alice
        .post("/auth/2fa/confirm", json!({"code": "000000"}))
        .await
        .expect_error(400, "Invalid 2FA code");
    assert_eq!(
        alice
            .post("/auth/2fa/confirm", json!({"code": totp(&secret, 0)}))
            .await
            .status,
        200
    );
    assert_eq!(alice.get("/users/@me").await.body["totp_enabled"], true);
    alice
        .post("/auth/2fa/enable", json!({"password": PASSWORD}))
        .await
        .expect_error(409, "2FA is already enabled");

    // Login now asks for a code.
    let login = || async {
        let r = api
            .post(
                "/auth/login",
                json!({"username": "alice", "password": PASSWORD}),
            )
            .await;
        assert_eq!(r.body["status"], "two_factor_required");
        assert_eq!(r.body["token"], json!(null));
        assert_eq!(r.body["methods"], json!(["totp", "backup_code"]));
        assert_eq!(r.body["expires_in"], 300);
        r.body["challenge_token"].as_str().unwrap().to_owned()
    };
    let challenge = login().await;
    assert!(challenge.starts_with("2fa."));
    api.post(
        "/auth/2fa",
        json!({"challenge_token": challenge, "code": "000000"}),
    )
    .await
    .expect_error(401, "Invalid 2FA code");
    api.post(
        "/auth/2fa",
        json!({"challenge_token": "2fa.1.nope", "code": "000000"}),
    )
    .await
    .expect_error(401, "Invalid challenge");
    let code = totp(&secret, 1);
    let done = api
        .post(
            "/auth/2fa",
            json!({"challenge_token": challenge, "code": code}),
        )
        .await;
    assert_eq!(done.body["status"], "success");
    assert_eq!(done.body["user"]["totp_enabled"], true);
    // A code is good once; a backup code (sent without its dash) too.
    let again = login().await;
    api.post("/auth/2fa", json!({"challenge_token": again, "code": code}))
        .await
        .expect_error(401, "Invalid 2FA code");
    let backup = backups[0].replace('-', "");
    let by_backup = api
        .post(
            "/auth/2fa",
            json!({"challenge_token": again, "code": backup}),
        )
        .await;
    assert_eq!(by_backup.body["status"], "success");
    assert_eq!(
        alice.get("/auth/2fa/status").await.body,
        json!({"enabled": true, "backup_codes_remaining": 9})
    );
    let third = login().await;
    api.post(
        "/auth/2fa",
        json!({"challenge_token": third, "code": backup}),
    )
    .await
    .expect_error(401, "Invalid 2FA code");
    // Disable with password and a backup code.
    assert_eq!(
        alice
            .post(
                "/auth/2fa/disable",
                json!({"password": PASSWORD, "code": backups[1].replace('-', "")})
            )
            .await
            .status,
        200
    );
    let plain = api
        .post(
            "/auth/login",
            json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    assert_eq!(plain.body["status"], "success");
}
