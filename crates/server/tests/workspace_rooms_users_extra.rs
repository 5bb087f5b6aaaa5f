//! `rooms.favorite`, `rooms.leave`, `rooms.cleanHistory`, `statistics`, `directory`,
//! `spotlight` and the `users.*` account endpoints, against the real binary.

mod common;
use common::*;
use serde_json::{Value, json};

async fn channel(c: &Client, name: &str, members: &[&str]) -> String {
    let (status, body) = c.post("channels.create", json!({"name": name, "members": members})).await;
    assert_eq!(status, 200, "{body}");
    body["channel"]["_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn favorite_and_leave() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let rid = channel(&alice, "ops", &["bob"]).await;

    assert_eq!(bob.post("rooms.favorite", json!({"roomName": "ops", "favorite": true})).await.0, 200);
    assert_failure(&bob.post("rooms.favorite", json!({"roomId": rid})).await, "The 'favorite' param is required", None);
    assert_failure(
        &bob.post("rooms.favorite", json!({"roomId": "nope", "favorite": true})).await,
        "The required \"roomId\" or \"roomName\" param provided does not match any channel [error-room-not-found]",
        Some("error-room-not-found"),
    );
    let carol = server.user("carol").await;
    assert_failure(
        &carol.post("rooms.favorite", json!({"roomId": rid, "favorite": true})).await,
        "You must be part of a room to favorite it [error-invalid-subscription]",
        Some("error-invalid-subscription"),
    );

    // The only owner stays, even once alone.
    let last_owner = "You are the last owner. Please set new owner before leaving the room. [error-you-are-last-owner]";
    assert_failure(
        &alice.post("rooms.leave", json!({"roomId": rid})).await,
        last_owner,
        Some("error-you-are-last-owner"),
    );
    assert_eq!(bob.post("rooms.leave", json!({"roomId": rid})).await.0, 200);
    let (_, info) = alice.get("channels.info", &[("roomId", &rid)]).await;
    assert_eq!(info["channel"]["usersCount"], 1);
    assert_failure(
        &alice.post("rooms.leave", json!({"roomId": rid})).await,
        last_owner,
        Some("error-you-are-last-owner"),
    );
    assert_failure(
        &alice.post("channels.leave", json!({"roomId": rid})).await,
        last_owner,
        Some("error-you-are-last-owner"),
    );
    assert_failure(
        &bob.post("rooms.leave", json!({"roomId": rid})).await,
        "You are not in this room [error-user-not-in-room]",
        Some("error-user-not-in-room"),
    );
}

#[tokio::test]
async fn clean_history_deletes_a_time_range() {
    let server = Server::start();
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let rid = channel(&alice, "ops", &[]).await;
    let mut pinned = String::new();
    for text in ["one", "two", "three"] {
        let (_, body) = alice.post("chat.postMessage", json!({"roomId": rid, "text": text})).await;
        pinned = body["message"]["_id"].as_str().unwrap().to_owned();
    }
    alice.post("chat.pinMessage", json!({"messageId": pinned})).await;
    let (_, before) = alice.get("channels.messages", &[("roomId", &rid)]).await;
    let total_before = before["total"].as_u64().unwrap();

    let range = json!({"roomId": rid, "oldest": "2000-01-01T00:00:00.000Z", "latest": "2999-01-01T00:00:00.000Z"});
    // Only admins hold `clean-channel-history`.
    let denied = alice.post("rooms.cleanHistory", range.clone()).await;
    assert_failure(&denied, "Not allowed [error-not-allowed]", Some("error-not-allowed"));
    let mut keep_pinned = range.clone();
    keep_pinned["excludePinned"] = json!(true);
    keep_pinned["users"] = json!(["alice"]);
    let (status, body) = admin.post("rooms.cleanHistory", keep_pinned).await;
    assert_eq!(status, 200, "{body}");
    // alice's messages in the range are gone but the pinned one.
    let (_, after) = alice.get("channels.messages", &[("roomId", &rid)]).await;
    let left: Vec<&str> = after["messages"].as_array().unwrap().iter().filter_map(|m| m["msg"].as_str()).collect();
    assert!(left.contains(&"three") && !left.contains(&"one") && !left.contains(&"two"), "{after}");
    assert_eq!(body["count"].as_u64().unwrap(), total_before - after["total"].as_u64().unwrap());
    assert_eq!(body["_id"], json!(rid));

    let outside = json!({"roomId": rid, "oldest": "2000-01-01T00:00:00.000Z", "latest": "2000-01-02T00:00:00.000Z"});
    let (_, body) = admin.post("rooms.cleanHistory", outside).await;
    assert_eq!(body["count"], 0);
    assert_failure(
        &admin.post("rooms.cleanHistory", json!({"roomId": rid, "oldest": "2000-01-01T00:00:00.000Z"})).await,
        "Body parameter \"latest\" is required.",
        None,
    );
}

#[tokio::test]
async fn statistics_directory_and_spotlight() {
    let server = Server::start();
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    channel(&alice, "deploys", &[]).await;
    alice.post("groups.create", json!({"name": "deploy-secrets"})).await;

    let (status, stats) = admin.get("statistics", &[]).await;
    assert_eq!(status, 200, "{stats}");
    for key in ["wizard", "uniqueId", "installedAt", "deploymentFingerprintHash", "deploymentFingerprintVerified"] {
        assert!(stats.get(key).is_some(), "{key} in {stats}");
    }
    assert_eq!((stats["totalChannels"].clone(), stats["totalPrivateGroups"].clone()), (json!(2), json!(1)));
    let (_, again) = admin.get("statistics", &[]).await;
    assert_eq!(again["uniqueId"], stats["uniqueId"]);
    let (_, list) = admin.get("statistics.list", &[]).await;
    assert_eq!(list["statistics"].as_array().unwrap().len(), 1);
    assert_failure(&alice.get("statistics", &[]).await, "error-not-allowed", None);
    assert_failure(&alice.get("statistics.list", &[]).await, "error-not-allowed", None);

    let bob = server.user("bob").await;
    let (status, found) = bob.get("directory", &[("query", r#"{"text": "deploy", "type": "channels"}"#)]).await;
    assert_eq!(status, 200, "{found}");
    let names: Vec<&str> = found["result"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["deploys"]);
    let (_, users) = bob.get("directory", &[("query", r#"{"text": "ALI", "type": "users"}"#)]).await;
    let users: Vec<&Value> = users["result"].as_array().unwrap().iter().collect();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["username"], "alice");
    assert!(users[0].get("services").is_none() && users[0].get("emails").is_none());
    assert_failure(
        &bob.get("directory", &[("query", r#"{"type": "things"}"#)]).await,
        "Please verify the parameters",
        None,
    );
    assert_failure(
        &bob.get("directory", &[("sort", r#"{"name": 1, "ts": 1}"#)]).await,
        "This method support only one \"sort\" parameter",
        None,
    );

    let (status, spot) = bob.get("spotlight", &[("query", "deploy")]).await;
    assert_eq!(status, 200, "{spot}");
    let rooms: Vec<&str> = spot["rooms"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(rooms, ["deploys"]);
    let (_, spot) = alice.get("spotlight", &[("query", "#deploy")]).await;
    assert_eq!((spot["rooms"].as_array().unwrap().len(), spot["users"].clone()), (2, json!([])));
    let (_, spot) = bob.get("spotlight", &[("query", "@ali")]).await;
    assert_eq!((spot["users"][0]["username"].clone(), spot["rooms"].clone()), (json!("alice"), json!([])));
    assert_failure(&bob.get("spotlight", &[]).await, "Match error: Missing key 'query'", None);
}

#[tokio::test]
async fn account_endpoints() {
    let server = Server::start_with(&[
        ("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false"),
        ("CREATE_TOKENS_FOR_USERS", "true"),
    ]);
    let admin = server.admin().await;
    let alice = server.user("alice").await;

    // A personal token logs in like a password login's.
    let (status, made) = alice.post("users.createToken", json!({"userId": alice.user_id()})).await;
    assert_eq!(status, 200, "{made}");
    let mut other = server.client();
    other.auth =
        Some((made["data"]["userId"].as_str().unwrap().into(), made["data"]["authToken"].as_str().unwrap().into()));
    let (_, me) = other.get("me", &[]).await;
    assert_eq!(me["username"], "alice");
    let denied = alice.post("users.createToken", json!({"username": "admin"})).await;
    assert_failure(&denied, "Not authorized [error-not-authorized]", Some("error-not-authorized"));

    let (status, set) =
        alice.post("users.setPreferences", json!({"data": {"useEmojis": false, "language": "de"}})).await;
    assert_eq!(status, 200, "{set}");
    assert_eq!(set["user"]["settings"]["preferences"]["useEmojis"], false);
    let (_, got) = alice.get("users.getPreferences", &[]).await;
    assert_eq!(
        (got["preferences"]["useEmojis"].clone(), got["preferences"]["language"].clone()),
        (json!(false), json!("de"))
    );
    assert_failure(
        &alice.post("users.setPreferences", json!({"data": {"useEmojis": "no"}})).await,
        "Match error: Expected boolean, got string in field data.useEmojis",
        None,
    );
    let denied =
        alice.post("users.setPreferences", json!({"userId": admin.user_id(), "data": {"useEmojis": true}})).await;
    assert_failure(&denied, "Editing user is not allowed [error-action-not-allowed]", Some("error-action-not-allowed"));
    let bob = server.user("bob").await;
    let (_, none) = bob.get("users.getPreferences", &[]).await;
    assert!(none["preferences"].get("useEmojis").is_none(), "{none}");

    // Deactivation ends the user's sessions; the last active admin stays.
    let (status, body) =
        admin.post("users.setActiveStatus", json!({"userId": alice.user_id(), "activeStatus": false})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"], json!({"_id": alice.user_id(), "active": false}));
    assert_eq!(alice.get("me", &[]).await.0, 401);
    assert_eq!(
        admin.post("users.setActiveStatus", json!({"userId": alice.user_id(), "activeStatus": true})).await.0,
        200
    );
    let denied = admin.post("users.setActiveStatus", json!({"userId": admin.user_id(), "activeStatus": false})).await;
    assert_failure(
        &denied,
        "Leaving the app without an active admin is not allowed [error-action-not-allowed]",
        Some("error-action-not-allowed"),
    );
    assert_eq!(bob.post("users.setActiveStatus", json!({"userId": bob.user_id(), "activeStatus": true})).await.0, 403);
}

#[tokio::test]
async fn tokens_need_the_deployment_switch() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let denied = alice.post("users.createToken", json!({"userId": alice.user_id()})).await;
    assert_failure(&denied, "Not authorized [error-not-authorized]", Some("error-not-authorized"));
}

#[tokio::test]
async fn encrypted_flag_of_groups() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let (_, g) = alice.post("groups.create", json!({"name": "secret", "members": ["bob"]})).await;
    let gid = g["group"]["_id"].as_str().unwrap().to_owned();

    let (status, body) = alice.post("groups.setEncrypted", json!({"roomId": gid, "encrypted": true})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["group"]["encrypted"], true);
    let (_, info) = bob.get("groups.info", &[("roomId", &gid)]).await;
    assert_eq!(info["group"]["encrypted"], true);
    let (_, history) = bob.get("groups.messages", &[("roomId", &gid)]).await;
    assert_eq!(history["messages"][0]["t"], "room_e2e_enabled");

    // Members without `toggle-room-e2e-encryption` cannot change it.
    let denied = bob.post("groups.setEncrypted", json!({"roomId": gid, "encrypted": false})).await;
    assert_failure(
        &denied,
        "You do not have permission to toggle E2E encryption [error-action-not-allowed]",
        Some("error-action-not-allowed"),
    );
    assert_failure(
        &alice.post("groups.setEncrypted", json!({"roomId": gid})).await,
        "The bodyParam \"encrypted\" is required",
        None,
    );
    let (_, body) = alice.post("groups.setEncrypted", json!({"roomId": gid, "encrypted": false})).await;
    assert_eq!(body["group"]["encrypted"], false);
}
