//! `im.*`/`dm.*`, `settings*`, `roles.*` lookups and `licenses.info`, against the real binary.

mod common;
use common::*;
use serde_json::{Value, json};

fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|r| r["_id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn direct_messages() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;

    let (status, body) = alice.post("dm.create", json!({"username": "bob"})).await;
    assert_eq!(status, 200, "{body}");
    let room = &body["room"];
    let rid = room["_id"].as_str().unwrap().to_owned();
    assert_eq!((room["t"].clone(), room["rid"].clone()), (json!("d"), json!(rid)));
    assert_eq!(room["usernames"], json!(["alice", "bob"]));
    assert_eq!(room["usersCount"], 2);
    // The same pair meets in the same room, whoever opens it and by either family name.
    let (_, again) = bob.post("im.create", json!({"username": "alice"})).await;
    assert_eq!(again["room"]["_id"], rid.as_str());
    let (_, group) = alice.post("dm.create", json!({"usernames": "bob,carol"})).await;
    assert_eq!(group["room"]["usernames"], json!(["alice", "bob", "carol"]));
    assert_failure(
        &alice.post("dm.create", json!({"username": "ghost"})).await,
        "Invalid user [error-invalid-user]",
        Some("error-invalid-user"),
    );
    assert_failure(
        &alice.post("dm.create", json!({})).await,
        "must match exactly one schema in oneOf",
        Some("error-invalid-params"),
    );

    let (status, posted) = alice.post("chat.postMessage", json!({"roomId": rid, "text": "hi bob"})).await;
    assert_eq!(status, 200, "{posted}");
    let (_, msgs) = bob.get("dm.messages", &[("roomId", &rid)]).await;
    assert_eq!(msgs["messages"][0]["msg"], "hi bob");
    assert_eq!(msgs["total"], 1);
    let (_, by_name) = bob.get("dm.messages", &[("username", "alice")]).await;
    assert_eq!(by_name["messages"], msgs["messages"]);
    let (_, history) = bob.get("im.history", &[("roomId", &rid)]).await;
    assert_eq!(history["messages"][0]["msg"], "hi bob");
    assert_failure(
        &bob.get("dm.messages", &[]).await,
        "Query param \"roomId\" or \"username\" is required [error-room-param-not-provided]",
        Some("error-room-param-not-provided"),
    );
    assert_failure(
        &bob.get("dm.messages", &[("roomId", "nope")]).await,
        "The required \"roomId\" or \"username\" param provided does not match any direct message [error-room-not-found]",
        Some("error-room-not-found"),
    );
    // Not a member: no access.
    assert_eq!(carol.get("dm.messages", &[("roomId", &rid)]).await.0, 403);

    let (_, members) = alice.get("dm.members", &[("roomId", &rid)]).await;
    let names: Vec<Value> = members["members"].as_array().unwrap().iter().map(|m| m["username"].clone()).collect();
    assert_eq!(names, vec![json!("alice"), json!("bob")]);
    let (_, counters) = bob.get("dm.counters", &[("roomId", &rid)]).await;
    assert_eq!((counters["joined"].clone(), counters["msgs"].clone()), (json!(true), json!(1)));

    let (_, list) = bob.get("dm.list", &[]).await;
    let group_rid = group["room"]["_id"].as_str().unwrap().to_owned();
    let mut mine = ids(&list["ims"]);
    mine.sort();
    let mut want = vec![rid.clone(), group_rid];
    want.sort();
    assert_eq!(mine, want);
    let (_, carols) = carol.get("dm.list", &[]).await;
    assert_eq!(carols["total"], 1);
    assert_eq!(bob.get("dm.list.everyone", &[]).await.0, 403);
    let admin = server.admin().await;
    let (_, everyone) = admin.get("dm.list.everyone", &[]).await;
    assert_eq!(everyone["total"], 2);

    let (_, topic) = alice.post("dm.setTopic", json!({"roomId": rid, "topic": "lunch"})).await;
    assert_eq!(topic["topic"], "lunch");
    assert_eq!(bob.post("dm.close", json!({"roomId": rid})).await.0, 200);
    assert_failure(
        &bob.post("dm.close", json!({"roomId": rid})).await,
        &format!("The direct message room, {rid}, is already closed to the sender"),
        None,
    );
    assert_eq!(bob.post("dm.open", json!({"roomId": rid})).await.0, 200);

    let others = admin.get("dm.messages.others", &[("roomId", &rid)]).await;
    assert_failure(&others, "This endpoint is disabled [error-endpoint-disabled]", Some("error-endpoint-disabled"));

    // Deleting needs `delete-d` (admins).
    assert_failure(&bob.post("dm.delete", json!({"roomId": rid})).await, "error-not-allowed", None);
    let (_, admin_dm) = admin.post("dm.create", json!({"username": "bob"})).await;
    let admin_rid = admin_dm["room"]["_id"].as_str().unwrap().to_owned();
    assert_eq!(admin.post("dm.delete", json!({"roomId": admin_rid})).await.0, 200);
    let (_, list) = bob.get("dm.list", &[]).await;
    assert!(!ids(&list["ims"]).contains(&admin_rid));
}

#[tokio::test]
async fn settings_read_and_write() {
    let server = Server::start();
    let admin = server.admin().await;
    let alice = server.user("alice").await;

    let (status, one) = admin.get("settings/Message_MaxAllowedSize", &[]).await;
    assert_eq!(
        (status, one["_id"].clone(), one["value"].clone()),
        (reqwest::StatusCode::OK, json!("Message_MaxAllowedSize"), json!(5000))
    );
    assert_eq!(admin.post("settings/Message_MaxAllowedSize", json!({"value": 10})).await.0, 200);
    let (_, one) = admin.get("settings/Message_MaxAllowedSize", &[]).await;
    assert_eq!(one["value"], 10);
    // The new value applies at once.
    let (_, ch) = admin.get("channels.info", &[("roomId", "GENERAL")]).await;
    assert_eq!(ch["channel"]["_id"], "GENERAL");
    let long = admin.post("chat.postMessage", json!({"roomId": "GENERAL", "text": "more than ten"})).await;
    assert_failure(&long, "error-message-size-exceeded", None);

    let wrong = admin.post("settings/Message_MaxAllowedSize", json!({"value": "big"})).await;
    assert_failure(&wrong, "Invalid setting value [error-invalid-setting-value]", Some("error-invalid-setting-value"));
    assert_failure(
        &admin.post("settings/Message_MaxAllowedSize", json!({})).await,
        "Match error: Missing key 'value'",
        None,
    );
    let (status, unknown) = admin.get("settings/No_Such_Setting", &[]).await;
    assert_eq!((status, unknown), (reqwest::StatusCode::BAD_REQUEST, json!({"success": false})));
    assert_eq!(alice.get("settings/Message_MaxAllowedSize", &[]).await.0, 403);
    assert_eq!(alice.post("settings/Message_MaxAllowedSize", json!({"value": 1})).await.0, 403);

    // Listings: admins see every setting; others and anonymous callers the public ones.
    let (_, all) = admin.get("settings", &[("count", "0")]).await;
    assert!(ids(&all["settings"]).contains(&"API_Enable_Rate_Limiter".to_owned()));
    let (_, mine) = alice.get("settings", &[("count", "0")]).await;
    assert!(!ids(&mine["settings"]).contains(&"API_Enable_Rate_Limiter".to_owned()));
    assert!(ids(&mine["settings"]).contains(&"Message_MaxAllowedSize".to_owned()));
    let (status, public) = server.client().get("settings.public", &[("query", r#"{"_id":"Site_Url"}"#)]).await;
    assert_eq!(status, 200, "{public}");
    assert_eq!(ids(&public["settings"]), vec!["Site_Url".to_owned()]);
    let (_, services) = server.client().get("service.configurations", &[]).await;
    assert_eq!(services["configurations"], json!([]));
}

#[tokio::test]
async fn role_lookups_and_license() {
    let server = Server::start();
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let (_, ch) = alice.post("channels.create", json!({"name": "ops"})).await;
    let rid = ch["channel"]["_id"].as_str().unwrap().to_owned();

    let (status, sync) = alice.get("roles.sync", &[("updatedSince", "2017-11-25T15:08:17.248Z")]).await;
    assert_eq!(status, 200, "{sync}");
    assert!(ids(&sync["roles"]["update"]).contains(&"admin".to_owned()));
    assert_failure(
        &alice.get("roles.sync", &[("updatedSince", "yesterday")]).await,
        "The \"updatedSince\" query parameter must be a valid date. [error-updatedSince-param-invalid]",
        Some("error-updatedSince-param-invalid"),
    );

    let (status, owners) = admin.get("roles.getUsersInRole", &[("role", "owner"), ("roomId", &rid)]).await;
    assert_eq!(status, 200, "{owners}");
    assert_eq!(
        owners["users"].as_array().unwrap().iter().map(|u| u["username"].clone()).collect::<Vec<_>>(),
        vec![json!("alice")]
    );
    assert_eq!(owners["total"], 1);
    let (_, admins) = admin.get("roles.getUsersInRole", &[("role", "admin")]).await;
    assert_eq!(admins["users"][0]["username"], "admin");
    assert_failure(
        &alice.get("roles.getUsersInRole", &[("role", "admin")]).await,
        "Not allowed [error-not-allowed]",
        Some("error-not-allowed"),
    );
    assert_failure(
        &admin.get("roles.getUsersInRole", &[("role", "nope")]).await,
        "Role not found [error-invalid-roleId]",
        Some("error-invalid-roleId"),
    );
    assert_failure(
        &admin.get("roles.getUsersInRole", &[]).await,
        "Query param \"role\" is required [error-param-not-provided]",
        Some("error-param-not-provided"),
    );

    let (_, public) = alice.get("roles.getUsersInPublicRoles", &[]).await;
    let users = public["users"].as_array().unwrap();
    assert_eq!(users.len(), 1, "{public}");
    assert_eq!(users[0]["username"], "admin");
    assert!(users[0]["roles"].as_array().unwrap().contains(&json!("admin")), "{public}");

    let (status, license) = alice.get("licenses.info", &[]).await;
    assert_eq!(status, 200);
    assert!(license["license"].get("license").is_none(), "{license}");
}

#[tokio::test]
async fn status_presence_and_room_lists() {
    let server = Server::start();
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;

    let (status, body) = alice.post("users.setStatus", json!({"status": "busy", "message": "in a meeting"})).await;
    assert_eq!(status, 200, "{body}");
    let (_, mine) = alice.get("users.getPresence", &[("username", "alice")]).await;
    assert_eq!(mine["presence"], "busy");
    assert!(mine.get("connectionStatus").is_some() && mine.get("lastLogin").is_some(), "{mine}");
    let (_, theirs) = bob.get("users.getPresence", &[("username", "alice")]).await;
    assert_eq!(theirs, json!({"presence": "busy", "success": true}));
    let (_, info) = bob.get("users.info", &[("username", "alice")]).await;
    assert_eq!(info["user"]["statusText"], "in a meeting");
    assert_failure(
        &alice.post("users.setStatus", json!({"status": "sleeping"})).await,
        "Valid status types include online, away, offline, and busy. [error-invalid-status]",
        Some("error-invalid-status"),
    );
    let alice_id = alice.user_id().to_owned();
    assert_eq!(bob.post("users.setStatus", json!({"status": "away", "userId": alice_id})).await.0, 403);
    assert_eq!(admin.post("users.setStatus", json!({"status": "away", "userId": alice_id})).await.0, 200);
    let (_, online) = bob.get("channels.online", &[("_id", "GENERAL")]).await;
    assert!(online["online"].as_array().unwrap().iter().any(|u| u["username"] == "alice"), "{online}");
    assert_failure(
        &bob.get("users.getPresence", &[]).await,
        "The required \"userId\" or \"username\" param was not provided [error-user-param-not-provided]",
        Some("error-user-param-not-provided"),
    );

    let (_, ch) = alice.post("groups.create", json!({"name": "secret"})).await;
    let rid = ch["group"]["_id"].as_str().unwrap().to_owned();
    let (status, rooms) = alice.get("rooms.get", &[]).await;
    assert_eq!(status, 200, "{rooms}");
    let mut mine = ids(&rooms["update"]);
    mine.sort();
    let mut want = vec!["GENERAL".to_owned(), rid.clone()];
    want.sort();
    assert_eq!(mine, want);
    assert_eq!(rooms["remove"], json!([]));
    let (_, later) = alice.get("rooms.get", &[("updatedSince", "2999-01-01T00:00:00.000Z")]).await;
    assert_eq!(later["update"], json!([]));

    assert_eq!(alice.get("rooms.adminRooms", &[]).await.0, 403);
    let (_, all) = admin.get("rooms.adminRooms", &[("filter", "SEC")]).await;
    assert_eq!(ids(&all["rooms"]), vec![rid]);
    let (_, one) = admin.get("rooms.adminRooms", &[("count", "1")]).await;
    assert_eq!((one["count"].clone(), one["total"].clone()), (json!(1), json!(2)));
}
