//! Plexichat search (§2.10, §2.9): `GET /search/users`, `GET /search/servers` and
//! `GET /channels/{id}/messages/search`, with what each caller may and may not see.

use crate::plexichat_support::{Api, no_rate_limits, user};
use crate::support::Server;
use serde_json::{Value, json};

/// alice owns "Team Rocket" (bob joined by invite); carol belongs to none of it. Returns the
/// clients, the team's id and its general channel.
async fn team(server: &Server) -> (Api, Api, Api, String, String) {
    let (alice, _, _) = user(server, "alice").await;
    let (bob, _, _) = user(server, "bob").await;
    let (carol, _, _) = user(server, "carol").await;
    let t = alice
        .post(
            "/servers/",
            json!({"name": "Team Rocket", "description": "blasting off"}),
        )
        .await;
    t.assert_status(200);
    let id = t.body["id"].as_str().unwrap().to_owned();
    let general = t.body["default_channel_id"].as_str().unwrap().to_owned();
    let code = alice.invite_code(&general).await;
    bob.join(&code).await;
    (alice, bob, carol, id, general)
}

fn names(v: &Value, key: &str) -> Vec<String> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[key].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn user_search_ranks_matches_and_hides_blocked_and_foreign_users() {
    let server = Server::start_with(no_rate_limits());
    let (alice, bob, carol, team_id, _) = team(&server).await;
    let (_, _, bobby_id) = user(&server, "bobby").await;
    let (_, _, _) = user(&server, "robert").await;

    // The exact name first, then the prefix, then a match anywhere.
    let r = alice.get("/search/users?query=BOB").await;
    r.assert_status(200);
    assert_eq!(names(&r.body, "username"), ["bob", "bobby"]);
    assert_eq!(r.body["results"][0]["score"], json!(1.0));
    assert_eq!(r.body["results"][1]["score"], json!(0.75));
    assert_eq!(r.body["results"][1]["user_id"], bobby_id.as_str());
    assert_eq!(r.body["next_cursor"], Value::Null);
    let r = alice.get("/search/users?query=ob").await;
    assert_eq!(names(&r.body, "username"), ["bob", "bobby", "robert"]);

    // Paging with the cursor.
    let p1 = alice.get("/search/users?query=ob&limit=2").await;
    assert_eq!(names(&p1.body, "username"), ["bob", "bobby"]);
    let cursor = p1.body["next_cursor"].as_str().unwrap().to_owned();
    let p2 = alice
        .get(&format!("/search/users?query=ob&limit=2&cursor={cursor}"))
        .await;
    assert_eq!(names(&p2.body, "username"), ["robert"]);
    assert_eq!(p2.body["next_cursor"], Value::Null);

    // Within one server: only its members; a non-member cannot search it.
    let r = alice
        .get(&format!("/search/users?query=b&server_id={team_id}"))
        .await;
    assert_eq!(names(&r.body, "username"), ["bob"]);
    carol
        .get(&format!("/search/users?query=b&server_id={team_id}"))
        .await
        .expect_error(404, "Server not found");

    // A block hides each side from the other.
    alice
        .post("/relationships/block", json!({"user_id": bobby_id}))
        .await
        .assert_status(200);
    let r = alice.get("/search/users?query=bob").await;
    assert_eq!(names(&r.body, "username"), ["bob"]);
    let bobby = Api::new(&server).with_token(&login(&server, "bobby").await);
    let r = bobby.get("/search/users?query=alice").await;
    assert_eq!(r.body["results"], json!([]));

    // Errors.
    bob.get("/search/users")
        .await
        .expect_error(400, "Invalid query: Field required");
    bob.get("/search/users?query=b&limit=101")
        .await
        .expect_error(
            400,
            "Invalid limit: Input should be less than or equal to 100",
        );
    bob.get("/search/users?query=b&cursor=x")
        .await
        .expect_error(400, "Invalid cursor");
    Api::new(&server)
        .get("/search/users?query=b")
        .await
        .expect_error(401, "Not authenticated");
}

async fn login(server: &Server, name: &str) -> String {
    let r = Api::new(server)
        .post(
            "/auth/login",
            json!({"username": name, "password": crate::plexichat_support::PASSWORD}),
        )
        .await;
    r.assert_status(200);
    r.body["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn server_search_finds_only_joined_servers() {
    let server = Server::start_with(no_rate_limits());
    let (alice, bob, carol, team_id, _) = team(&server).await;
    alice
        .post("/servers/", json!({"name": "Rocketry Club"}))
        .await
        .assert_status(200);
    carol
        .post("/servers/", json!({"name": "Carol's rockets"}))
        .await
        .assert_status(200);

    // Name prefix and anywhere; a description match ranks last.
    let r = alice.get("/search/servers?query=rocket").await;
    r.assert_status(200);
    assert_eq!(names(&r.body, "name"), ["Rocketry Club", "Team Rocket"]);
    let hit = &r.body["results"][1];
    assert_eq!(hit["server_id"], team_id.as_str());
    assert_eq!(hit["member_count"], 2);
    assert_eq!(hit["description"], "blasting off");
    assert_eq!(hit["category"], Value::Null);
    let r = alice.get("/search/servers?query=blasting").await;
    assert_eq!(names(&r.body, "name"), ["Team Rocket"]);
    assert_eq!(r.body["results"][0]["score"], json!(0.375));

    // bob sees the team he joined, not alice's other server; carol only her own.
    let r = bob.get("/search/servers?query=rocket").await;
    assert_eq!(names(&r.body, "name"), ["Team Rocket"]);
    let r = carol.get("/search/servers?query=rocket").await;
    assert_eq!(names(&r.body, "name"), ["Carol's rockets"]);

    // No categories in Chorus: a category filter matches nothing.
    let r = alice
        .get("/search/servers?query=rocket&category=gaming")
        .await;
    assert_eq!(r.body, json!({"results": [], "next_cursor": null}));
    alice
        .get("/search/servers?query=")
        .await
        .expect_error(400, "Invalid query: Field required");
}

#[tokio::test]
async fn channel_message_search_is_limited_to_the_channel_and_its_readers() {
    let server = Server::start_with(no_rate_limits());
    let (alice, bob, carol, _, general) = team(&server).await;
    alice.say(&general, "Hello team").await;
    bob.say(&general, "nothing to see").await;
    bob.say(&general, "hello again").await;
    // Elsewhere: not part of this channel's results.
    carol
        .say(&crate::plexichat_support::general_channel(), "hello world")
        .await;

    let r = bob
        .get(&format!(
            "/channels/{general}/messages/search?content=HELLO"
        ))
        .await;
    r.assert_status(200);
    let contents: Vec<&str> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["hello again", "Hello team"]);
    assert_eq!(r.body[1]["author_username"], "alice");
    let r = bob
        .get(&format!(
            "/channels/{general}/messages/search?content=hello&limit=1"
        ))
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    assert_eq!(r.body[0]["content"], "hello again");

    carol
        .get(&format!(
            "/channels/{general}/messages/search?content=hello"
        ))
        .await
        .expect_error(404, "Channel not found");
    bob.get(&format!("/channels/{general}/messages/search"))
        .await
        .expect_error(400, "Invalid content: Field required");
    bob.get(&format!(
        "/channels/{general}/messages/search?content=x&limit=0"
    ))
    .await
    .expect_error(
        400,
        "Invalid limit: Input should be greater than or equal to 1",
    );
    bob.get("/channels/abc/messages/search?content=x")
        .await
        .expect_error(400, "Invalid channel ID");
}
