//! Login, tokens, first-start data, permissions and users, against the real binary.

mod common;
use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn first_start_creates_defaults_once_and_restart_keeps_them() {
    let mut server = Server::start();
    let admin = server.admin().await;

    let (_, roles) = admin.get("roles.list", &[]).await;
    let names: Vec<&str> = roles["roles"].as_array().unwrap().iter().map(|r| r["_id"].as_str().unwrap()).collect();
    for r in ["admin", "user", "bot", "app", "guest", "owner", "moderator", "leader", "anonymous"] {
        assert!(names.contains(&r), "missing role {r}");
    }
    assert!(roles["roles"][0].get("_updatedAt").is_none());

    let (_, perms) = admin.get("permissions.listAll", &[]).await;
    let find =
        |id: &str| -> Value { perms["update"].as_array().unwrap().iter().find(|p| p["_id"] == id).cloned().unwrap() };
    for p in [
        "manage-incoming-integrations",
        "manage-own-incoming-integrations",
        "manage-outgoing-integrations",
        "manage-own-outgoing-integrations",
    ] {
        assert_eq!(find(p)["roles"], json!(["admin"]));
    }
    assert_eq!(find("message-impersonate")["roles"], json!(["bot", "app"]));

    let (status, cat) = admin.get("users.info", &[("username", "rocket.cat")]).await;
    assert_eq!(status, 200);
    assert_eq!(cat["user"]["_id"], "rocket.cat");
    assert_eq!(cat["user"]["type"], "bot");
    assert_eq!(cat["user"]["roles"], json!(["bot"]));

    let (_, general) = admin.get("channels.info", &[("roomId", "GENERAL")]).await;
    assert_eq!(general["channel"]["name"], "general");
    assert_eq!(general["channel"]["t"], "c");
    assert_eq!(general["channel"]["default"], true);
    let (_, members) = admin.get("channels.members", &[("roomId", "GENERAL")]).await;
    assert_eq!(members["total"], 1, "the admin joined #general: {members}");
    assert_eq!(members["members"][0]["username"], ADMIN_USER);

    let (_, users_before) = admin.get("users.list", &[]).await;
    server.restart();
    let admin = server.admin().await;
    let (_, users_after) = admin.get("users.list", &[]).await;
    assert_eq!(users_before["total"], users_after["total"], "restart must not add users");
    let (_, rooms) = admin.get("channels.list", &[]).await;
    assert_eq!(rooms["channels"].as_array().unwrap().iter().filter(|r| r["name"] == "general").count(), 1);
    let (_, general_after) = admin.get("channels.info", &[("roomId", "GENERAL")]).await;
    assert_eq!(general_after["channel"]["usersCount"], 1);
    let (_, perms_after) = admin.get("permissions.listAll", &[]).await;
    assert_eq!(perms["update"].as_array().unwrap().len(), perms_after["update"].as_array().unwrap().len());
}

#[tokio::test]
async fn permission_changes_survive_restart() {
    let mut server = Server::start();
    let admin = server.admin().await;
    let (status, _) = admin
        .post(
            "permissions.update",
            json!({"permissions": [{"_id": "manage-incoming-integrations", "roles": ["admin", "user"]}]}),
        )
        .await;
    assert_eq!(status, 200);
    server.restart();
    let admin = server.admin().await;
    let (_, perms) = admin.get("permissions.listAll", &[]).await;
    let p = perms["update"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["_id"] == "manage-incoming-integrations")
        .unwrap()
        .clone();
    assert_eq!(p["roles"], json!(["admin", "user"]), "a restart never resets permissions");
}

#[tokio::test]
async fn login_forms_tokens_and_401s() {
    let server = Server::start();
    let anon = server.client();
    const NOT_LOGGED: &str = "You must be logged in to do this.";
    let expect_401 = json!({"success": false, "error": NOT_LOGGED, "status": "error", "message": NOT_LOGGED});

    let (status, body) = anon.get("me", &[]).await;
    assert_eq!(status, 401);
    assert_eq!(body, expect_401);
    let mut wrong = anon.clone();
    wrong.auth = Some(("nobody".into(), "bad-token".into()));
    let (status, body) = wrong.get("me", &[]).await;
    assert_eq!((status.as_u16(), body), (401, expect_401.clone()));

    // username, email, `username` key, digest form
    for body in [
        json!({"user": ADMIN_USER, "password": ADMIN_PASS}),
        json!({"user": "admin@example.com", "password": ADMIN_PASS}),
        json!({"username": ADMIN_USER, "password": ADMIN_PASS}),
        json!({"email": "ADMIN@example.com", "password": ADMIN_PASS}),
        json!({"user": ADMIN_USER, "password": {"digest": sha256_hex(ADMIN_PASS), "algorithm": "sha-256"}}),
    ] {
        let (status, resp) = anon.post("login", body.clone()).await;
        assert_eq!(status, 200, "{body} -> {resp}");
        assert_eq!(resp["status"], "success");
        assert_eq!(resp["success"], true);
        assert_eq!(resp["data"]["authToken"].as_str().unwrap().len(), 43);
        assert_eq!(resp["data"]["me"]["username"], ADMIN_USER);
        assert_eq!(resp["data"]["me"]["services"]["password"]["exists"], true);
        assert!(resp["data"]["me"]["services"]["password"].get("bcrypt").is_none());
    }
    let unauthorized = json!({"success": false, "error": "Unauthorized", "status": "error", "message": "Unauthorized"});
    for body in [
        json!({"user": ADMIN_USER, "password": "wrong"}),
        json!({"user": "nobody", "password": "x"}),
        json!({"user": "rocket.cat", "password": "x"}),
    ] {
        let (status, resp) = anon.post("login", body).await;
        assert_eq!((status.as_u16(), resp), (401, unauthorized.clone()));
    }

    let admin = server.admin().await;
    let (status, me) = admin.get("me", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(me["_id"], admin.user_id());
    assert_eq!(me["success"], true);

    // resume returns the same token
    let token = admin.auth.as_ref().unwrap().1.clone();
    let (status, resumed) = anon.post("login", json!({"resume": token})).await;
    assert_eq!(status, 200);
    assert_eq!(resumed["data"]["authToken"], token);

    // logout kills the token
    let (status, out) = admin.post("logout", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(out["data"]["message"], "You've been logged out!");
    let (status, _) = admin.get("me", &[]).await;
    assert_eq!(status, 401);

    // tokens are stored hashed only (the database file is readable on SQLite)
    if !server.is_sqlite() {
        return;
    }
    let raw = std::fs::read(server.db_path()).unwrap_or_default();
    let wal = std::fs::read(server.db_path().with_extension("db-wal")).unwrap_or_default();
    let hay = [raw, wal].concat();
    let resumed_token = resumed["data"]["authToken"].as_str().unwrap().as_bytes().to_vec();
    assert!(!hay.windows(resumed_token.len()).any(|w| w == resumed_token.as_slice()), "plain token on disk");
}

fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

#[tokio::test]
async fn api_info_errors_and_wire_details() {
    let server = Server::start();
    let anon = server.client();
    let (status, info) = anon.get("/api/info", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(info["success"], true);
    assert!(info["version"].as_str().unwrap().split('.').count() == 2, "{info}");
    let admin = server.admin().await;
    let (_, full) = admin.get("/api/info", &[]).await;
    assert_eq!(full["version"].as_str().unwrap().split('.').count(), 3);

    let (status, body) = anon.get("no.such.endpoint", &[]).await;
    assert_eq!(status, 404);
    assert_eq!(body["success"], false);
    let (status, body) = admin.post_raw("chat.postMessage", "application/json", "{not json").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["success"], false);

    let resp = reqwest::get(format!("{}/api/info", server.url)).await.unwrap();
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(resp.headers()["pragma"], "no-cache");
}

#[tokio::test]
async fn permissions_update_rules() {
    let server = Server::start();
    let admin = server.admin().await;
    let alice = server.user("alice").await;

    let r = alice.post("permissions.update", json!({"permissions": [{"_id": "create-c", "roles": ["admin"]}]})).await;
    assert_eq!(r.0, 403);
    assert_eq!(r.1["error"], "User does not have the permissions required for this action [error-unauthorized]");

    assert_failure(
        &admin
            .post("permissions.update", json!({"permissions": [{"_id": "no-such-permission", "roles": ["admin"]}]}))
            .await,
        "Invalid permission",
        Some("error-invalid-permission"),
    );
    assert_failure(
        &admin
            .post("permissions.update", json!({"permissions": [{"_id": "create-c", "roles": ["no-such-role"]}]}))
            .await,
        "Invalid role",
        Some("error-invalid-role"),
    );
    // all or nothing
    let _ = admin
        .post(
            "permissions.update",
            json!({"permissions": [{"_id": "create-c", "roles": []}, {"_id": "nope", "roles": []}]}),
        )
        .await;
    let (status, _) = alice.post("channels.create", json!({"name": "still-allowed"})).await;
    assert_eq!(status, 200, "a rejected update changes nothing");

    let (status, updated) =
        admin.post("permissions.update", json!({"permissions": [{"_id": "create-c", "roles": ["admin"]}]})).await;
    assert_eq!(status, 200);
    let p = updated["permissions"].as_array().unwrap().iter().find(|p| p["_id"] == "create-c").unwrap();
    assert_eq!(p["roles"], json!(["admin"]));
    // effective immediately
    let (status, body) = alice.post("channels.create", json!({"name": "now-forbidden"})).await;
    assert_eq!((status.as_u16(), body["error"].clone()), (403, json!("unauthorized")));
}

#[tokio::test]
async fn users_create_register_info_list_update_delete() {
    let server = Server::start();
    let admin = server.admin().await;

    let (status, created) = admin
        .post("users.create", json!({"username": "bob", "email": "bob@example.com", "name": "Bob", "password": "pw"}))
        .await;
    assert_eq!(status, 200, "{created}");
    let bob = &created["user"];
    assert_eq!(bob["_id"].as_str().unwrap().len(), 17);
    assert_eq!(bob["roles"], json!(["user"]));
    assert_eq!(bob["type"], "user");
    assert_eq!(bob["active"], true);
    assert_eq!(bob["emails"], json!([{"address": "bob@example.com", "verified": false}]));
    assert_eq!(bob["__rooms"], json!(["GENERAL"]));
    assert!(bob.get("services").is_none());
    let bob_id = bob["_id"].as_str().unwrap().to_owned();

    assert_failure(
        &admin
            .post(
                "users.create",
                json!({"username": "bob", "email": "other@example.com", "name": "B", "password": "pw"}),
            )
            .await,
        "bob is already in use :( [error-field-unavailable]",
        Some("error-field-unavailable"),
    );
    assert_failure(
        &admin
            .post(
                "users.create",
                json!({"username": "bobby", "email": "BOB@example.com", "name": "B", "password": "pw"}),
            )
            .await,
        "BOB@example.com is already in use :( [error-field-unavailable]",
        Some("error-field-unavailable"),
    );
    assert_failure(
        &admin
            .post(
                "users.create",
                json!({"username": "bad name", "email": "x@example.com", "name": "B", "password": "pw"}),
            )
            .await,
        "bad name is not a valid username [error-input-is-not-a-valid-field]",
        Some("error-input-is-not-a-valid-field"),
    );
    let r = admin.post("users.create", json!({"username": "x"})).await;
    assert_eq!(r.0, 400);
    assert!(r.1["error"].as_str().unwrap().contains("must have required property 'email'"), "{}", r.1);
    assert_failure(
        &admin
            .post(
                "users.create",
                json!({"username": "r", "email": "r@example.com", "name": "R", "password": "pw", "roles": ["nope"]}),
            )
            .await,
        "The field Roles consist invalid role id [error-action-not-allowed]",
        Some("error-action-not-allowed"),
    );

    let bob_client = server.client().login("bob", "pw").await;
    let r = bob_client
        .post("users.create", json!({"username": "eve", "email": "eve@example.com", "name": "Eve", "password": "pw"}))
        .await;
    assert_failure(&r, "Adding user is not allowed [error-action-not-allowed]", Some("error-action-not-allowed"));
    assert_eq!(r.1["details"], json!({"method": "insertOrUpdateUser", "action": "Adding_user"}));

    // register uses `pass`
    let anon = server.client();
    let (status, reg) = anon
        .post(
            "users.register",
            json!({"username": "carol", "email": "carol@example.com", "pass": "pw", "name": "Carol"}),
        )
        .await;
    assert_eq!(status, 200, "{reg}");
    assert_eq!(reg["user"]["username"], "carol");
    assert!(reg["user"].get("emails").is_none(), "limited projection");
    assert_failure(
        &anon.post("users.register", json!({"username": "carol", "email": "c2@example.com", "pass": "pw"})).await,
        "Username is already in use",
        None,
    );
    let r = anon.post("users.register", json!({"username": "dave", "email": "d@example.com", "password": "pw"})).await;
    assert_eq!(r.0, 400);
    assert!(r.1["error"].as_str().unwrap().contains("must have required property 'pass'"));
    assert_failure(
        &bob_client.post("users.register", json!({"username": "zed", "email": "z@example.com", "pass": "pw"})).await,
        "Logged in users can not register again.",
        None,
    );
    server.client().login("carol", "pw").await;

    // info
    let (_, info) = bob_client.get("users.info", &[("userId", &bob_id)]).await;
    assert_eq!(info["user"]["username"], "bob");
    assert_eq!(info["user"]["canViewAllInfo"], true);
    assert!(info["user"]["emails"].is_array());
    let (_, other) = bob_client.get("users.info", &[("username", "carol")]).await;
    assert_eq!(other["user"]["canViewAllInfo"], false);
    assert!(other["user"].get("emails").is_none());
    assert_failure(&bob_client.get("users.info", &[("username", "ghost")]).await, "User not found.", None);
    let r = bob_client.get("users.info", &[]).await;
    assert_eq!(r.0, 400);
    assert_eq!(r.1["errorType"], "error-invalid-params");

    // list
    let (status, list) = bob_client.get("users.list", &[("count", "2")]).await;
    assert_eq!(status, 200);
    assert_eq!(list["count"], 2);
    assert_eq!(list["total"], 4, "admin, rocket.cat, bob, carol: {list}");

    // list parameters; a query only sees what the caller may see
    let (_, sorted) = admin.get("users.list", &[("sort", r#"{"username":-1}"#), ("fields", r#"{"username":1}"#)]).await;
    let names: Vec<&str> =
        sorted["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["rocket.cat", "carol", "bob", "admin"]);
    assert_eq!(sorted["users"][0].as_object().unwrap().len(), 2, "_id and username");
    let (_, probe) = admin.get("users.list", &[("query", r#"{"services.password.bcrypt":{"$exists":true}}"#)]).await;
    assert_eq!(probe["total"], 0, "hidden fields cannot be probed: {probe}");
    let (_, q) = admin.get("users.list", &[("query", r#"{"username":{"$in":["bob","carol"]}}"#)]).await;
    assert_eq!(q["total"], 2);

    // update
    let (status, upd) = admin
        .post("users.update", json!({"userId": bob_id, "data": {"name": "Robert", "roles": ["user", "bot"]}}))
        .await;
    assert_eq!(status, 200, "{upd}");
    assert_eq!(upd["user"]["name"], "Robert");
    assert_eq!(upd["user"]["roles"], json!(["user", "bot"]));
    let r = bob_client.post("users.update", json!({"userId": "rocket.cat", "data": {"name": "x"}})).await;
    assert_failure(&r, "Editing user is not allowed [error-action-not-allowed]", Some("error-action-not-allowed"));
    admin.post("users.update", json!({"userId": bob_id, "data": {"password": "new-pw"}})).await;
    server.client().login("bob", "new-pw").await;

    // delete
    let r = bob_client.post("users.delete", json!({"userId": bob_id})).await;
    assert_eq!(r.0, 403);
    let (status, _) = admin.post("users.delete", json!({"username": "carol"})).await;
    assert_eq!(status, 200);
    assert_failure(&admin.get("users.info", &[("username", "carol")]).await, "User not found.", None);
    let (_, members) = admin.get("channels.members", &[("roomId", "GENERAL")]).await;
    assert!(!members["members"].as_array().unwrap().iter().any(|m| m["username"] == "carol"));
    assert_failure(
        &admin.post("users.delete", json!({"username": "ghost"})).await,
        "The required \"userId\" or \"username\" param provided does not match any users [error-invalid-user]",
        Some("error-invalid-user"),
    );
}

#[tokio::test]
async fn first_registered_user_becomes_admin_without_env_admin() {
    let server = Server::start_with(&[("ADMIN_PASS", ""), ("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false")]);
    let anon = server.client();
    let (status, _) = anon
        .post("users.register", json!({"username": "first", "email": "f@example.com", "pass": "pw", "name": "F"}))
        .await;
    assert_eq!(status, 200);
    let first = server.client().login("first", "pw").await;
    let (_, me) = first.get("me", &[]).await;
    assert!(me["roles"].as_array().unwrap().contains(&json!("admin")), "{me}");
}

#[tokio::test]
async fn rate_limiter_limits_per_route_and_ip_with_headers() {
    let server = Server::start_with(&[
        ("OVERWRITE_SETTING_API_Enable_Rate_Limiter_Limit_Calls_Default", "3"),
        ("OVERWRITE_SETTING_API_Enable_Rate_Limiter_Limit_Time_Default", "60000"),
    ]);
    let alice = server.user("alice").await;
    for i in 0..3 {
        let resp = alice
            .http
            .get(format!("{}/api/v1/me", server.url))
            .header("X-User-Id", alice.user_id())
            .header("X-Auth-Token", &alice.auth.as_ref().unwrap().1)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["x-ratelimit-limit"], "3");
        assert_eq!(resp.headers()["x-ratelimit-remaining"], (2 - i).to_string().as_str());
    }
    let (status, body) = alice.get("me", &[]).await;
    assert_eq!(status, 429);
    let err = body["error"].as_str().unwrap();
    assert!(err.starts_with("Error, too many requests. Please slow down. You must wait "), "{err}");
    assert!(err.ends_with("seconds before trying this endpoint again. [error-too-many-requests]"));
    // admins hold api-bypass-rate-limit
    let admin = server.admin().await;
    for _ in 0..5 {
        assert_eq!(admin.get("me", &[]).await.0, 200);
    }
}

/// Deactivating a user ends every session they hold: each of their login tokens answers 401
/// at once, and reactivating does not bring an old token back.
#[tokio::test]
async fn deactivating_a_user_removes_their_login_tokens() {
    let server = Server::start_with(&[("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false")]);
    let admin = server.admin().await;
    let dave = server.user("dave").await;
    let dave_again = server.client().login("dave", "pw-123").await;
    let other = server.user("erin").await;
    for c in [&dave, &dave_again, &other] {
        let (status, me) = c.get("me", &[]).await;
        assert_eq!(status, 200, "{me}");
    }
    let (status, body) = admin.post("users.update", json!({"userId": dave.user_id(), "data": {"active": false}})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["active"], false);
    const NOT_LOGGED: &str = "You must be logged in to do this.";
    let expected = json!({"success": false, "error": NOT_LOGGED, "status": "error", "message": NOT_LOGGED});
    for c in [&dave, &dave_again] {
        let (status, me) = c.get("me", &[]).await;
        assert_eq!((status.as_u16(), me), (401, expected.clone()));
    }
    let (status, me) = other.get("me", &[]).await;
    assert_eq!(status, 200, "other users keep their sessions: {me}");
    // A wrongly typed `active` changes nothing.
    let r = admin.post("users.update", json!({"userId": other.user_id(), "data": {"active": "no"}})).await;
    assert_failure(&r, "/data/active must be boolean", Some("invalid-params"));
    assert_eq!(other.get("me", &[]).await.0, 200);
    // Reactivated: logging in works again; the old tokens stay dead, so they were removed, not
    // only refused while the user was inactive.
    let (status, body) = admin.post("users.update", json!({"userId": dave.user_id(), "data": {"active": true}})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(dave.get("me", &[]).await.0, 401);
    let fresh = server.client().login("dave", "pw-123").await;
    assert_eq!(fresh.get("me", &[]).await.0, 200);
}
