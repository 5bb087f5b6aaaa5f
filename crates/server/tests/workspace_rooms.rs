//! Room settings, room roles, kick/addAll and the room views of `channels.*` / `groups.*`,
//! against the real binary, with the outgoing events they raise.

mod common;
use common::receiver::{Receiver, outgoing};
use common::*;
use serde_json::{Value, json};

fn start() -> Server {
    Server::start_with(&[
        ("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false"),
        ("OVERWRITE_SETTING_Integrations_Outgoing_Allow_Private_Addresses", "true"),
    ])
}

async fn create(c: &Client, endpoint: &str, name: &str, members: &[&str]) -> String {
    let (status, body) = c.post(endpoint, json!({"name": name, "members": members})).await;
    assert_eq!(status, 200, "{body}");
    let key = if endpoint.starts_with("channels") { "channel" } else { "group" };
    body[key]["_id"].as_str().unwrap().to_owned()
}

async fn last_message(c: &Client, family: &str, rid: &str) -> Value {
    let (_, body) = c.get(&format!("{family}.messages"), &[("roomId", rid)]).await;
    body["messages"][0].clone()
}

#[tokio::test]
async fn archive_unarchive_and_text_settings() {
    let server = start();
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let rid = create(&alice, "channels.create", "ops", &["bob"]).await;

    assert_failure(
        &alice.post("channels.unarchive", json!({"roomId": rid})).await,
        "The channel, ops, is not archived",
        None,
    );
    assert_eq!(alice.post("channels.archive", json!({"roomId": rid})).await.0, 200);
    // Only admins may unarchive by default.
    let denied = alice.post("channels.unarchive", json!({"roomId": rid})).await;
    assert_failure(&denied, "Not authorized [error-not-authorized]", Some("error-not-authorized"));
    let admin = server.admin().await;
    let (status, body) = admin.post("channels.unarchive", json!({"roomName": "ops"})).await;
    assert_eq!(status, 200, "{body}");
    let (_, info) = alice.get("channels.info", &[("roomId", &rid)]).await;
    assert_eq!(info["channel"]["archived"], false);
    assert_eq!(last_message(&alice, "channels", &rid).await["t"], "room-unarchived");

    let (status, body) = alice.post("channels.setTopic", json!({"roomId": rid, "topic": "deploys"})).await;
    assert_eq!((status, body["topic"].clone()), (reqwest::StatusCode::OK, json!("deploys")));
    let m = last_message(&alice, "channels", &rid).await;
    assert_eq!((m["t"].clone(), m["msg"].clone()), (json!("room_changed_topic"), json!("deploys")));
    let (_, body) = alice.post("channels.setDescription", json!({"roomId": rid, "description": "d"})).await;
    assert_eq!(body["description"], "d");
    let (_, body) = alice.post("channels.setAnnouncement", json!({"roomId": rid, "announcement": "a"})).await;
    assert_eq!(body["announcement"], "a");
    let (_, info) = bob.get("channels.info", &[("roomId", &rid)]).await;
    assert_eq!(
        (info["channel"]["topic"].clone(), info["channel"]["description"].clone()),
        (json!("deploys"), json!("d"))
    );
    assert_eq!(info["channel"]["announcement"], "a");
    assert_failure(
        &alice.post("channels.setTopic", json!({"roomId": rid})).await,
        "The bodyParam \"topic\" is required",
        None,
    );
    // bob is a plain member: no `edit-room`.
    let denied = bob.post("channels.setTopic", json!({"roomId": rid, "topic": "x"})).await;
    assert_failure(&denied, "Editing room is not allowed [error-action-not-allowed]", Some("error-action-not-allowed"));
    assert_eq!(denied.1["details"], json!({"method": "saveRoomSettings", "action": "Editing_room"}));

    let (status, body) = alice.post("channels.setReadOnly", json!({"roomId": rid, "readOnly": true})).await;
    assert_eq!((status, body["channel"]["ro"].clone()), (reqwest::StatusCode::OK, json!(true)));
    assert_failure(
        &alice.post("channels.setReadOnly", json!({"roomId": rid, "readOnly": true})).await,
        "The channel read only setting is the same as what it would be changed to.",
        None,
    );
    let cf = json!({"team": "infra"});
    let (_, body) = alice.post("channels.setCustomFields", json!({"roomId": rid, "customFields": cf})).await;
    assert_eq!(body["channel"]["customFields"], cf);
    assert_failure(
        &alice.post("channels.setCustomFields", json!({"roomId": rid, "customFields": "x"})).await,
        "The bodyParam \"customFields\" is required with a type like object.",
        None,
    );
    assert_failure(
        &alice.post("channels.setTopic", json!({"roomId": "nope", "topic": "x"})).await,
        "The required \"roomId\" or \"roomName\" param provided does not match any channel [error-room-not-found]",
        Some("error-room-not-found"),
    );
}

#[tokio::test]
async fn rename_set_type_and_open_close() {
    let server = start();
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let rid = create(&alice, "channels.create", "old", &["bob"]).await;
    create(&alice, "channels.create", "taken", &[]).await;

    let (status, body) = alice.post("channels.rename", json!({"roomId": rid, "name": "new"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["channel"]["name"].clone(), body["channel"]["fname"].clone()), (json!("new"), json!("new")));
    assert_eq!(bob.get("channels.info", &[("roomName", "new")]).await.0, 200);
    let m = last_message(&alice, "channels", &rid).await;
    assert_eq!((m["t"].clone(), m["msg"].clone()), (json!("r"), json!("new")));
    assert_failure(
        &alice.post("channels.rename", json!({"roomId": rid, "name": "taken"})).await,
        "A channel with name 'taken' exists [error-duplicate-channel-name]",
        Some("error-duplicate-channel-name"),
    );
    assert_failure(
        &alice.post("channels.rename", json!({"roomId": rid, "name": "new"})).await,
        "The channel name is the same as what it would be renamed to.",
        None,
    );
    // Members' room lists follow the new name.
    let (_, joined) = bob.get("channels.list.joined", &[]).await;
    assert!(joined["channels"].as_array().unwrap().iter().any(|c| c["name"] == "new"), "{joined}");

    let (status, body) = alice.post("channels.setType", json!({"roomId": rid, "type": "p"})).await;
    assert_eq!((status, body["channel"]["t"].clone()), (reqwest::StatusCode::OK, json!("p")), "{body}");
    let (_, groups) = bob.get("groups.list", &[]).await;
    assert!(groups["groups"].as_array().unwrap().iter().any(|g| g["_id"] == rid.as_str()), "{groups}");
    assert_failure(
        &alice.post("groups.setType", json!({"roomId": rid, "type": "p"})).await,
        "The private group type is the same as what it would be changed to.",
        None,
    );
    assert_failure(
        &alice.post("groups.setType", json!({"roomId": rid, "type": "x"})).await,
        "x is not a valid room type [error-invalid-room-type]",
        Some("error-invalid-room-type"),
    );

    assert_eq!(bob.post("groups.close", json!({"roomId": rid})).await.0, 200);
    assert_failure(
        &bob.post("groups.close", json!({"roomId": rid})).await,
        "The private group \"new\" is already closed to the sender",
        None,
    );
    assert_eq!(bob.post("groups.open", json!({"roomId": rid})).await.0, 200);
}

#[tokio::test]
async fn moderators_leaders_owners_and_views() {
    let server = start();
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    server.user("carol").await;
    let rid = create(&alice, "groups.create", "core", &["bob"]).await;

    let (status, body) = alice.post("groups.addModerator", json!({"roomId": rid, "username": "bob"})).await;
    assert_eq!(status, 200, "{body}");
    let again = alice.post("groups.addModerator", json!({"roomId": rid, "username": "bob"})).await;
    assert_failure(
        &again,
        "User is already a moderator [error-user-already-moderator]",
        Some("error-user-already-moderator"),
    );
    assert_eq!(again.1["details"], json!({"method": "addRoomModerator"}));
    assert_failure(
        &alice.post("groups.addLeader", json!({"roomId": rid, "username": "carol"})).await,
        "User is not in this room [error-user-not-in-room]",
        Some("error-user-not-in-room"),
    );
    assert_failure(
        &bob.post("groups.addLeader", json!({"roomId": rid, "username": "bob"})).await,
        "Not allowed [error-not-allowed]",
        Some("error-not-allowed"),
    );
    assert_eq!(alice.post("groups.addLeader", json!({"roomId": rid, "username": "bob"})).await.0, 200);
    let m = last_message(&alice, "groups", &rid).await;
    assert_eq!(
        (m["t"].clone(), m["role"].clone(), m["msg"].clone()),
        (json!("subscription-role-added"), json!("leader"), json!("bob"))
    );

    let (_, mods) = alice.get("groups.moderators", &[("roomId", &rid)]).await;
    assert_eq!(
        mods["moderators"].as_array().unwrap().iter().map(|m| m["username"].clone()).collect::<Vec<_>>(),
        vec![json!("bob")]
    );
    let (_, roles) = bob.get("groups.roles", &[("roomName", "core")]).await;
    let mut holders: Vec<(Value, Value)> =
        roles["roles"].as_array().unwrap().iter().map(|r| (r["u"]["username"].clone(), r["roles"].clone())).collect();
    holders.sort_by_key(|h| h.0.to_string());
    assert_eq!(holders, vec![(json!("alice"), json!(["owner"])), (json!("bob"), json!(["moderator", "leader"]))]);

    assert_eq!(alice.post("groups.removeLeader", json!({"roomId": rid, "username": "bob"})).await.0, 200);
    assert_failure(
        &alice.post("groups.removeLeader", json!({"roomId": rid, "username": "bob"})).await,
        "User is not a leader [error-user-not-leader]",
        Some("error-user-not-leader"),
    );
    assert_eq!(alice.post("groups.removeModerator", json!({"roomId": rid, "username": "bob"})).await.0, 200);
    assert_failure(
        &alice.post("groups.removeOwner", json!({"roomId": rid, "username": "alice"})).await,
        "This is the last owner. Please set a new owner before removing this one. [error-remove-last-owner]",
        Some("error-remove-last-owner"),
    );
    assert_failure(
        &alice.post("groups.removeOwner", json!({"roomId": rid, "username": "bob"})).await,
        "User is not an owner [error-user-not-owner]",
        Some("error-user-not-owner"),
    );
    assert_eq!(alice.post("groups.addOwner", json!({"roomId": rid, "username": "bob"})).await.0, 200);
    assert_eq!(alice.post("groups.removeOwner", json!({"roomId": rid, "username": "alice"})).await.0, 200);

    let (status, counters) = alice.get("groups.counters", &[("roomId", &rid)]).await;
    assert_eq!(status, 200, "{counters}");
    assert_eq!((counters["joined"].clone(), counters["members"].clone()), (json!(true), json!(2)));
    assert!(counters["msgs"].as_i64().unwrap() >= 5, "{counters}");
    // Someone else's counters need `view-room-administration`.
    let bob_id = bob.user_id().to_owned();
    assert_eq!(alice.get("groups.counters", &[("roomId", &rid), ("userId", &bob_id)]).await.0, 403);

    let admin = server.admin().await;
    let (_, all) = admin.get("groups.listAll", &[]).await;
    assert!(all["groups"].as_array().unwrap().iter().any(|g| g["_id"] == rid.as_str()), "{all}");
    assert_eq!(alice.get("groups.listAll", &[]).await.0, 403);
}

#[tokio::test]
async fn kick_and_add_all_raise_room_events() {
    let rx = Receiver::start().await;
    let server = start();
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let rid = create(&alice, "channels.create", "ops", &["bob"]).await;
    outgoing(&admin, format!("{}/left", rx.base), "roomLeft", "#ops").await;
    outgoing(&admin, format!("{}/joined", rx.base), "roomJoined", "#ops").await;

    assert_failure(
        &bob.post("channels.kick", json!({"roomId": rid, "username": "alice"})).await,
        "Not allowed [error-not-allowed]",
        Some("error-not-allowed"),
    );
    assert_failure(
        &alice.post("channels.kick", json!({"roomId": rid, "username": "alice"})).await,
        "You are the last owner. Please set new owner before leaving the room. [error-you-are-last-owner]",
        Some("error-you-are-last-owner"),
    );
    let (status, body) = alice.post("channels.kick", json!({"roomId": rid, "username": "bob"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["channel"]["usersCount"], 1);
    let m = last_message(&alice, "channels", &rid).await;
    assert_eq!((m["t"].clone(), m["msg"].clone()), (json!("ru"), json!("bob")));
    assert_failure(
        &alice.post("channels.kick", json!({"roomId": rid, "username": "bob"})).await,
        "User is not in this room [error-user-not-in-room]",
        Some("error-user-not-in-room"),
    );
    let left = rx.bodies("/left", 1).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["user_name"], "bob");

    assert_failure(
        &alice.post("channels.addAll", json!({"roomId": rid})).await,
        "Not allowed [error-not-allowed]",
        Some("error-not-allowed"),
    );
    let (status, body) = admin.post("channels.addAll", json!({"roomId": rid})).await;
    assert_eq!(status, 200, "{body}");
    let (_, members) = alice.get("channels.members", &[("roomId", &rid)]).await;
    let names: Vec<Value> = members["members"].as_array().unwrap().iter().map(|m| m["username"].clone()).collect();
    for name in ["admin", "alice", "bob"] {
        assert!(names.contains(&json!(name)), "{names:?}");
    }
    // Every active user who was not a member joins (admin, rocket.cat, bob), in no promised order.
    let joined = rx.bodies("/joined", 3).await;
    let mut who: Vec<String> = joined.iter().map(|j| j["user_name"].as_str().unwrap().to_owned()).collect();
    who.sort();
    assert!(who.contains(&"admin".to_owned()) && who.contains(&"bob".to_owned()), "{who:?}");
}
