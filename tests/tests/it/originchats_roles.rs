//! OriginChats roles (§2.4) over the core's roles: roles_list, role_create/update/set/delete/
//! reorder, role_permissions_set/get, self_role_add/remove, self_roles_list, with the
//! role-permission layer (§4.1.2): who may, the hierarchy, and each error string.

use crate::originchats::{Oc, cracked};
use crate::support::Server;
use serde_json::{Value, json};

async fn staff(s: &Server, name: &str, role: &str) -> Oc {
    let out = s.cli(&[
        "user",
        "add",
        name,
        "--password",
        "password",
        "--role",
        role,
    ]);
    assert!(out.status.success(), "{out:?}");
    let mut c = Oc::login(s, name, "password").await;
    assert_eq!(c.recv().await["cmd"], "user_connect");
    c
}

/// Owner `boss`, admin `adm`, user `bob`, each having seen the others arrive.
async fn trio() -> (Server, Oc, Oc, Oc) {
    let s = cracked();
    let mut boss = staff(&s, "boss", "owner").await;
    let mut adm = staff(&s, "adm", "admin").await;
    assert_eq!(boss.recv().await["cmd"], "user_connect");
    let bob = Oc::register(&s, "bob").await;
    for c in [&mut boss, &mut adm] {
        assert_eq!(c.recv().await["cmd"], "user_join");
        assert_eq!(c.recv().await["cmd"], "user_connect");
    }
    (s, boss, adm, bob)
}

/// Role names by rank (`position`), highest first; every role carries its own name. (Object
/// keys carry no order here: the server's JSON maps are sorted by key.)
fn names(list: &Value) -> Vec<String> {
    let mut roles: Vec<(&String, i64)> = list["roles"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            assert_eq!(v["name"], k.as_str(), "{list}");
            (k, v["position"].as_i64().unwrap())
        })
        .collect();
    roles.sort_by_key(|(_, p)| *p);
    let ranks: Vec<i64> = roles.iter().map(|(_, p)| *p).collect();
    assert_eq!(ranks, (0..roles.len() as i64).collect::<Vec<_>>(), "{list}");
    roles.into_iter().map(|(k, _)| k.clone()).collect()
}

#[tokio::test]
async fn roles_list_shows_the_default_roles_with_names_and_ranks() {
    let (_s, _boss, _adm, mut bob) = trio().await;
    bob.send(json!({"cmd": "roles_list", "listener": "l"}))
        .await;
    let list = bob.recv().await;
    assert_eq!(list["listener"], "l");
    assert_eq!(names(&list), ["owner", "admin", "moderator", "user"]);
    let owner = &list["roles"]["owner"];
    assert_eq!(owner["name"], "owner");
    assert_eq!(owner["position"], 0);
    assert_eq!(owner["color"], "#9400D3");
    assert_eq!(owner["hoisted"], true);
    assert_eq!(owner["permissions"], json!(["administrator"]));
    assert_eq!(owner["self_assignable"], false);
    assert_eq!(owner["category"], Value::Null);
    assert_eq!(
        owner["description"],
        "Server owner with ultimate permissions."
    );
    assert_eq!(
        list["roles"]["moderator"]["permissions"],
        json!([
            "manage_threads",
            "manage_messages",
            "use_slash_commands",
            "manage_nicknames",
            "kick_members",
            "create_invite",
            "mute_members",
            "move_members"
        ])
    );
    let user = &list["roles"]["user"];
    assert_eq!(user["position"], 3);
    assert_eq!(user["color"], Value::Null);
    assert_eq!(
        user["permissions"],
        json!([
            "read_message_history",
            "send_messages",
            "embed_links",
            "attach_files",
            "add_reactions",
            "external_emojis",
            "connect",
            "speak",
            "stream",
            "use_voice_activity",
            "use_slash_commands",
            "create_invite",
            "change_nickname"
        ])
    );
}

#[tokio::test]
async fn create_update_set_and_delete() {
    let (_s, mut boss, mut adm, mut bob) = trio().await;
    bob.expect_error(
        json!({"cmd": "role_create", "name": "artist"}),
        "Access denied: 'manage_roles' permission required",
    )
    .await;
    boss.expect_error(json!({"cmd": "role_create"}), "Role name is required")
        .await;
    boss.expect_error(
        json!({"cmd": "role_create", "name": "moderator", "self_assignable": true}),
        "Role 'moderator' cannot be made self-assignable",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "role_create", "name": "admin"}),
        "Role already exists",
    )
    .await;

    // roles_list to everyone (the caller first), then the reply.
    boss.send(
        json!({"cmd": "role_create", "name": "artist", "color": "#FF8800",
        "description": "Shares art", "self_assignable": true, "category": "Hobbies",
        "permissions": ["attach_files", "embed_links"], "listener": "c"}),
    )
    .await;
    let list = boss.recv().await;
    assert_eq!(list["cmd"], "roles_list");
    assert!(list.get("listener").is_none());
    assert_eq!(
        names(&list),
        ["owner", "admin", "moderator", "artist", "user"]
    );
    let artist = list["roles"]["artist"].clone();
    assert_eq!(artist["position"], 3);
    assert_eq!(artist["description"], "Shares art");
    assert_eq!(artist["category"], "Hobbies");
    assert_eq!(artist["self_assignable"], true);
    assert_eq!(
        artist["permissions"],
        json!(["embed_links", "attach_files"])
    );
    let id = artist["id"].as_str().unwrap().to_owned();
    boss.expect(json!({"cmd": "role_create", "id": id, "name": "artist", "listener": "c"}))
        .await;
    assert_eq!(adm.recv().await, list);
    assert_eq!(bob.recv().await, list);

    // role_update by id renames; errors first.
    bob.expect_error(
        json!({"cmd": "role_update", "name": "artist", "color": null}),
        "Access denied: 'manage_roles' permission required",
    )
    .await;
    boss.expect_error(json!({"cmd": "role_update"}), "Role id or name is required")
        .await;
    boss.expect_error(
        json!({"cmd": "role_update", "name": "nope"}),
        "Role not found",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "role_update", "name": "artist", "self_assignable": false,
            "id": "00000000-0000-0000-0000-000000000000"}),
        "Role not found",
    )
    .await;
    // The hierarchy: an admin cannot touch the owner role.
    adm.expect_error(
        json!({"cmd": "role_update", "name": "owner", "color": "#000000"}),
        "Cannot manage roles at or above your position",
    )
    .await;
    boss.send(json!({"cmd": "role_update", "id": id, "name": "painter", "color": null}))
        .await;
    let list = boss.recv().await;
    assert_eq!(list["cmd"], "roles_list");
    assert_eq!(list["roles"]["painter"]["color"], Value::Null);
    assert!(list["roles"].get("artist").is_none());
    boss.expect(json!({"cmd": "role_update", "id": id, "name": "painter", "updated": true}))
        .await;
    for c in [&mut adm, &mut bob] {
        assert_eq!(c.recv().await["cmd"], "roles_list");
    }

    // role_set with a data object.
    boss.expect_error(
        json!({"cmd": "role_set", "name": "painter"}),
        "Role data is required",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "role_set", "name": "painter", "data": 5}),
        "Role data is required",
    )
    .await;
    boss.send(json!({"cmd": "role_set", "name": "painter", "data": {"hoisted": true}}))
        .await;
    let list = boss.recv().await;
    assert_eq!(list["roles"]["painter"]["hoisted"], true);
    boss.expect(json!({"cmd": "role_set", "id": id, "name": "painter", "updated": true}))
        .await;
    for c in [&mut adm, &mut bob] {
        assert_eq!(c.recv().await["cmd"], "roles_list");
    }

    // Permissions: set (no broadcast), get.
    boss.expect_error(
        json!({"cmd": "role_permissions_set", "name": "painter"}),
        "Permissions must be an array",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "role_permissions_set", "name": "painter", "permissions": []}),
        "Access denied: 'manage_roles' permission required",
    )
    .await;
    boss.send(json!({"cmd": "role_permissions_set", "name": "painter",
        "permissions": ["manage_messages", "manage_threads"]}))
        .await;
    boss.expect(
        json!({"cmd": "role_permissions_set", "id": id, "name": "painter",
        "permissions": ["manage_threads", "manage_messages"], "updated": true}),
    )
    .await;
    bob.expect_quiet().await;
    bob.send(json!({"cmd": "role_permissions_get", "name": "painter"}))
        .await;
    bob.expect(
        json!({"cmd": "role_permissions_get", "id": id, "name": "painter",
        "permissions": ["manage_threads", "manage_messages"]}),
    )
    .await;
    bob.expect_error(
        json!({"cmd": "role_permissions_get", "name": "nope"}),
        "Role not found",
    )
    .await;

    // role_delete.
    for n in ["owner", "admin", "user"] {
        boss.expect_error(
            json!({"cmd": "role_delete", "name": n}),
            "Cannot delete system roles",
        )
        .await;
    }
    boss.expect_error(json!({"cmd": "role_delete"}), "Role id or name is required")
        .await;
    boss.expect_error(
        json!({"cmd": "role_delete", "name": "nope"}),
        "Role not found",
    )
    .await;
    bob.expect_error(
        json!({"cmd": "role_delete", "name": "painter"}),
        "Access denied: 'manage_roles' permission required",
    )
    .await;
    boss.send(json!({"cmd": "role_delete", "id": id, "listener": "d"}))
        .await;
    let list = boss.recv().await;
    assert!(list["roles"].get("painter").is_none());
    boss.expect(
        json!({"cmd": "role_delete", "id": id, "name": "painter", "deleted": true,
        "listener": "d"}),
    )
    .await;
    for c in [&mut adm, &mut bob] {
        assert_eq!(c.recv().await["cmd"], "roles_list");
    }
}

#[tokio::test]
async fn roles_used_by_channels_cannot_be_renamed_or_deleted() {
    let (_s, mut boss, _adm, mut bob) = trio().await;
    boss.send(json!({"cmd": "role_create", "name": "vip"}))
        .await;
    assert_eq!(boss.recv().await["cmd"], "roles_list");
    assert_eq!(boss.recv().await["cmd"], "role_create");
    assert_eq!(bob.recv().await["cmd"], "roles_list");
    boss.send(
        json!({"cmd": "channel_create", "name": "lounge", "type": "text",
        "permissions": {"view": ["owner", "vip"], "send": ["!vip", "owner"]}}),
    )
    .await;
    assert_eq!(boss.recv().await["cmd"], "channel_create");
    assert_eq!(boss.recv().await["cmd"], "channels_get");
    assert_eq!(bob.recv().await["cmd"], "channels_get");
    let list = {
        boss.send(json!({"cmd": "roles_list"})).await;
        boss.recv().await
    };
    let id = list["roles"]["vip"]["id"].as_str().unwrap().to_owned();
    boss.expect_error(
        json!({"cmd": "role_update", "id": id, "name": "vvip"}),
        "Cannot rename role: it is used in channel 'lounge' permissions",
    )
    .await;
    boss.expect_error(
        json!({"cmd": "role_delete", "name": "vip"}),
        "Role is used in channel 'lounge' permissions",
    )
    .await;
    bob.expect_quiet().await;
}

#[tokio::test]
async fn reorder_changes_ranks() {
    let (_s, mut boss, _adm, mut bob) = trio().await;
    boss.send(json!({"cmd": "role_create", "name": "artist"}))
        .await;
    assert_eq!(boss.recv().await["cmd"], "roles_list");
    assert_eq!(boss.recv().await["cmd"], "role_create");
    assert_eq!(bob.recv().await["cmd"], "roles_list");
    bob.expect_error(
        json!({"cmd": "role_reorder", "roles": ["owner"]}),
        "Access denied: 'manage_roles' permission required",
    )
    .await;
    boss.expect_error(json!({"cmd": "role_reorder"}), "Roles array is required")
        .await;
    boss.expect_error(
        json!({"cmd": "role_reorder", "roles": ["owner", "ghost"]}),
        "Failed to reorder roles",
    )
    .await;
    let order = json!(["owner", "admin", "artist", "moderator", "user"]);
    boss.send(json!({"cmd": "role_reorder", "roles": order, "listener": "o"}))
        .await;
    let list = boss.recv().await;
    assert_eq!(list["cmd"], "roles_list");
    assert_eq!(
        names(&list),
        ["owner", "admin", "artist", "moderator", "user"]
    );
    assert_eq!(list["roles"]["artist"]["position"], 2);
    assert_eq!(list["roles"]["moderator"]["position"], 3);
    boss.expect(json!({"cmd": "role_reorder", "roles": order, "listener": "o"}))
        .await;
    assert_eq!(bob.recv().await, list);
}

#[tokio::test]
async fn self_assignable_roles() {
    let (_s, mut boss, mut adm, mut bob) = trio().await;
    boss.send(
        json!({"cmd": "role_create", "name": "artist", "self_assignable": true,
        "category": "Hobbies", "description": "Shares art"}),
    )
    .await;
    assert_eq!(boss.recv().await["cmd"], "roles_list");
    let created = boss.recv().await;
    let id = created["id"].as_str().unwrap().to_owned();
    for c in [&mut adm, &mut bob] {
        assert_eq!(c.recv().await["cmd"], "roles_list");
    }
    bob.send(json!({"cmd": "self_roles_list"})).await;
    bob.expect(
        json!({"cmd": "self_roles_list", "roles": [{"id": id, "name": "artist",
        "description": "Shares art", "color": null, "hoisted": false, "permissions": [],
        "self_assignable": true, "category": "Hobbies", "position": 3, "assigned": false}]}),
    )
    .await;
    for (req, err) in [
        (json!({"cmd": "self_role_add"}), "Role name is required"),
        (
            json!({"cmd": "self_role_add", "role": "ghost"}),
            "Role not found",
        ),
        (
            json!({"cmd": "self_role_add", "role": "moderator"}),
            "This role is not self-assignable",
        ),
        (
            json!({"cmd": "self_role_remove", "role": "artist"}),
            "You don't have this role",
        ),
    ] {
        bob.expect_error(req, err).await;
    }
    // user_roles_get to everyone (no global), then the reply.
    bob.send(json!({"cmd": "self_role_add", "role": "artist", "listener": "a"}))
        .await;
    let roles = json!({"cmd": "user_roles_get", "user": "bob", "roles": ["artist", "user"],
        "color": null});
    bob.expect(roles.clone()).await;
    bob.expect(
        json!({"cmd": "self_role_add", "role": "artist", "success": true,
        "roles": ["artist", "user"], "listener": "a"}),
    )
    .await;
    boss.expect(roles.clone()).await;
    adm.expect(roles).await;
    bob.expect_error(
        json!({"cmd": "self_role_add", "role": "artist"}),
        "You already have this role",
    )
    .await;
    bob.send(json!({"cmd": "self_roles_list"})).await;
    assert_eq!(bob.recv().await["roles"][0]["assigned"], true);
    bob.send(json!({"cmd": "self_role_remove", "role": "artist"}))
        .await;
    let roles = json!({"cmd": "user_roles_get", "user": "bob", "roles": ["user"], "color": null});
    bob.expect(roles.clone()).await;
    bob.expect(
        json!({"cmd": "self_role_remove", "role": "artist", "success": true,
        "roles": ["user"]}),
    )
    .await;
    boss.expect(roles).await;
    // The modlog has the role management entries.
    boss.send(json!({"cmd": "modlog_get", "category": "role_management"}))
        .await;
    let log = boss.recv().await;
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["self_role_remove", "self_role_add", "role_create"]
    );
}

/// A Plexichat client of the default space for `name` (a CLI token).
fn plexichat_as(s: &Server, name: &str) -> crate::plexichat_support::Api {
    let out = s.cli(&["token", "issue", name]);
    assert!(out.status.success(), "{out:?}");
    let tok = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    crate::plexichat_support::Api::new(s).with_token(&tok)
}

/// A core id (a UUID) as Plexichat spells it.
fn plexichat_id(uuid: &str) -> u128 {
    u128::from_str_radix(&uuid.replace('-', ""), 16).unwrap()
}

/// The default space's id as Plexichat spells it.
fn default_space() -> u128 {
    plexichat_id("00000000-0000-7000-8000-000000000001")
}

#[tokio::test]
async fn role_changes_from_another_dialect_push_roles_list() {
    let (s, mut boss, mut adm, mut bob) = trio().await;
    let px = plexichat_as(&s, "boss");
    let space = default_space();

    // Created over Plexichat: every OriginChats connection gets the new list, unasked.
    let r = px
        .post(
            &format!("/servers/{space}/roles"),
            json!({"name": "helpers", "color": "#00FF00", "permissions": {"messages.manage": true}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut pushed = Vec::new();
    for c in [&mut boss, &mut adm, &mut bob] {
        let list = c.recv().await;
        assert_eq!(list["cmd"], "roles_list", "{list}");
        assert_eq!(list["roles"]["helpers"]["color"], "#00FF00");
        assert_eq!(
            list["roles"]["helpers"]["permissions"],
            json!(["manage_messages"])
        );
        pushed.push(list);
        // Once, although the creation also moved the roles below it.
        c.expect_quiet().await;
    }
    assert!(pushed.windows(2).all(|w| w[0] == w[1]));
    // The same list a request gives.
    bob.send(json!({"cmd": "roles_list"})).await;
    bob.expect(pushed[0].clone()).await;

    // Changed over Plexichat: pushed again.
    let moderator = plexichat_id(pushed[0]["roles"]["moderator"]["id"].as_str().unwrap());
    px.call(
        "PATCH",
        &format!("/servers/{space}/roles/{moderator}"),
        Some(json!({"color": "#123456"})),
    )
    .await
    .assert_status(200);
    let list = bob.recv().await;
    assert_eq!(list["cmd"], "roles_list");
    assert_eq!(list["roles"]["moderator"]["color"], "#123456", "{list}");
    bob.expect_quiet().await;

    // A change made here is pushed once, by its command (not again by the core's events).
    boss.recv().await;
    boss.expect_quiet().await;
    boss.send(json!({"cmd": "role_create", "name": "artist"}))
        .await;
    let list = boss.recv().await;
    assert_eq!(list["cmd"], "roles_list");
    let artist = plexichat_id(list["roles"]["artist"]["id"].as_str().unwrap());
    assert_eq!(boss.recv().await["cmd"], "role_create");
    assert_eq!(bob.recv().await["cmd"], "roles_list");
    boss.expect_quiet().await;
    bob.expect_quiet().await;
    // role_permissions_set sends no roles_list, as in the reference; nor does the watcher.
    boss.send(json!({"cmd": "role_permissions_set", "name": "artist",
        "permissions": ["send_messages", "add_reactions"]}))
        .await;
    assert_eq!(boss.recv().await["cmd"], "role_permissions_set");
    boss.expect_quiet().await;
    bob.expect_quiet().await;

    // Deleted over Plexichat: pushed.
    px.call("DELETE", &format!("/servers/{space}/roles/{artist}"), None)
        .await
        .assert_status(200);
    let list = bob.recv().await;
    assert_eq!(list["cmd"], "roles_list");
    assert!(list["roles"].get("artist").is_none(), "{list}");
    bob.expect_quiet().await;
}

/// `role_create` with `position` (a rank from the top) puts the role there; past the end it
/// goes just above `user`, which stays last; an admin cannot place a role above their own.
#[tokio::test]
async fn role_create_honours_position() {
    let (_s, mut boss, mut adm, mut bob) = trio().await;
    async fn create(who: &mut Oc, others: &mut [&mut Oc], req: Value) -> Value {
        who.send(req).await;
        let list = who.recv().await;
        assert_eq!(list["cmd"], "roles_list", "{list}");
        assert_eq!(who.recv().await["cmd"], "role_create");
        for c in others.iter_mut() {
            assert_eq!(c.recv().await, list);
        }
        list
    }
    let list = create(
        &mut boss,
        &mut [&mut adm, &mut bob],
        json!({"cmd": "role_create", "name": "vip", "position": 1}),
    )
    .await;
    assert_eq!(names(&list), ["owner", "vip", "admin", "moderator", "user"]);
    assert_eq!(list["roles"]["vip"]["position"], 1);

    // Above the `owner` role only the space owner may go (the core's hierarchy).
    boss.expect_error(
        json!({"cmd": "role_create", "name": "chief", "position": 0}),
        "Cannot manage roles at or above your position",
    )
    .await;

    // Past the end (the reference's default, the number of roles): above `user`.
    let list = create(
        &mut boss,
        &mut [&mut adm, &mut bob],
        json!({"cmd": "role_create", "name": "guest", "position": 99}),
    )
    .await;
    assert_eq!(
        names(&list),
        ["owner", "vip", "admin", "moderator", "guest", "user"]
    );

    // The admin may place a role just below their own, not above it.
    adm.expect_error(
        json!({"cmd": "role_create", "name": "boss2", "position": 1}),
        "Cannot manage roles at or above your position",
    )
    .await;
    let list = create(
        &mut adm,
        &mut [&mut boss, &mut bob],
        json!({"cmd": "role_create", "name": "helper", "position": 3}),
    )
    .await;
    assert_eq!(
        names(&list),
        [
            "owner",
            "vip",
            "admin",
            "helper",
            "moderator",
            "guest",
            "user"
        ]
    );

    // roles_list agrees, for anyone.
    bob.send(json!({"cmd": "roles_list"})).await;
    assert_eq!(bob.recv().await["roles"], list["roles"]);
    bob.expect_quiet().await;
}
