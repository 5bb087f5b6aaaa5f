//! What users do to messages and how they find them again: reactions, pins, stars, thread
//! follows, threads, mentions, search, sync, discussions and ignored users, against the real
//! binary.

mod common;
use common::receiver::{Receiver, outgoing};
use common::*;
use serde_json::{Value, json};

async fn post(c: &Client, rid: &str, text: &str) -> Value {
    let (status, body) = c.post("chat.postMessage", json!({"roomId": rid, "text": text})).await;
    assert_eq!(status, 200, "{body}");
    body["message"].clone()
}

async fn reply(c: &Client, rid: &str, tmid: &str, text: &str) -> Value {
    let (status, body) = c.post("chat.postMessage", json!({"roomId": rid, "text": text, "tmid": tmid})).await;
    assert_eq!(status, 200, "{body}");
    body["message"].clone()
}

async fn message(c: &Client, id: &str) -> Value {
    let (status, body) = c.get("chat.getMessage", &[("msgId", id)]).await;
    assert_eq!(status, 200, "{body}");
    body["message"].clone()
}

async fn channel(c: &Client, name: &str, members: &[&str]) -> String {
    let (status, body) = c.post("channels.create", json!({"name": name, "members": members})).await;
    assert_eq!(status, 200, "{body}");
    body["channel"]["_id"].as_str().unwrap().to_owned()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|m| m["_id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn reactions_toggle_per_user() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let rid = channel(&alice, "ops", &["bob"]).await;
    let mid = post(&alice, &rid, "deploy done").await["_id"].as_str().unwrap().to_owned();

    for c in [&alice, &bob] {
        let (status, body) = c.post("chat.react", json!({"messageId": mid, "emoji": "smile"})).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(message(&alice, &mid).await["reactions"], json!({":smile:": {"usernames": ["alice", "bob"]}}));
    // The same reaction again takes it back; `shouldReact: true` never does.
    alice.post("chat.react", json!({"messageId": mid, "emoji": ":smile:"})).await;
    bob.post("chat.react", json!({"messageId": mid, "reaction": "smile", "shouldReact": true})).await;
    assert_eq!(message(&alice, &mid).await["reactions"], json!({":smile:": {"usernames": ["bob"]}}));
    bob.post("chat.react", json!({"messageId": mid, "emoji": "smile", "shouldReact": false})).await;
    assert!(message(&alice, &mid).await.get("reactions").is_none());

    assert_failure(
        &alice.post("chat.react", json!({"messageId": "nope", "emoji": "smile"})).await,
        "The provided \"messageId\" does not match any existing message. [error-message-not-found]",
        Some("error-message-not-found"),
    );
    assert_failure(
        &alice.post("chat.react", json!({"messageId": mid})).await,
        "The required \"emoji\" param is missing. [error-emoji-param-not-provided]",
        Some("error-emoji-param-not-provided"),
    );
    // A private room's messages are out of reach for others.
    let (_, group) = alice.post("groups.create", json!({"name": "secret"})).await;
    let gid = group["group"]["_id"].as_str().unwrap();
    let hidden = post(&alice, gid, "psst").await["_id"].as_str().unwrap().to_owned();
    let denied = bob.post("chat.react", json!({"messageId": hidden, "emoji": "smile"})).await;
    assert_failure(&denied, "Not Authorized [not-authorized]", Some("not-authorized"));
}

#[tokio::test]
async fn pins_and_stars() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let rid = channel(&alice, "ops", &["bob"]).await;
    let mid = post(&bob, &rid, "pin me").await["_id"].as_str().unwrap().to_owned();

    // Pinning needs `pin-message` (owners, moderators, admins).
    let denied = bob.post("chat.pinMessage", json!({"messageId": mid})).await;
    assert_failure(&denied, "Not Authorized [not-authorized]", Some("not-authorized"));
    let (status, body) = alice.post("chat.pinMessage", json!({"messageId": mid})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"]["t"], "message_pinned");
    assert_eq!(body["message"]["attachments"][0]["text"], "pin me");
    assert_eq!(body["message"]["attachments"][0]["author_name"], "bob");
    let pinned = message(&alice, &mid).await;
    assert_eq!((pinned["pinned"].clone(), pinned["pinnedBy"]["username"].clone()), (json!(true), json!("alice")));
    let (status, list) = bob.get("chat.getPinnedMessages", &[("roomId", &rid)]).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!((ids(&list["messages"]), list["total"].clone()), (vec![mid.clone()], json!(1)));
    assert_eq!(alice.post("chat.unPinMessage", json!({"messageId": mid})).await.0, 200);
    let (_, list) = bob.get("chat.getPinnedMessages", &[("roomId", &rid)]).await;
    assert_eq!(list["total"], 0);
    assert_failure(
        &bob.get("chat.getPinnedMessages", &[]).await,
        "The required \"roomId\" query param is missing. [error-roomId-param-not-provided]",
        Some("error-roomId-param-not-provided"),
    );

    // Stars are per user.
    assert_eq!(bob.post("chat.starMessage", json!({"messageId": mid})).await.0, 200);
    let (_, mine) = bob.get("chat.getStarredMessages", &[("roomId", &rid)]).await;
    assert_eq!(ids(&mine["messages"]), vec![mid.clone()]);
    let (_, theirs) = alice.get("chat.getStarredMessages", &[("roomId", &rid)]).await;
    assert_eq!(theirs["total"], 0);
    assert_eq!(bob.post("chat.unStarMessage", json!({"messageId": mid})).await.0, 200);
    let (_, mine) = bob.get("chat.getStarredMessages", &[("roomId", &rid)]).await;
    assert_eq!(mine["total"], 0);
    assert_failure(
        &bob.post("chat.starMessage", json!({})).await,
        "must have required property 'messageId' [invalid-params]",
        Some("invalid-params"),
    );
    let carol = server.user("carol").await;
    let (_, group) = alice.post("groups.create", json!({"name": "secret"})).await;
    let gid = group["group"]["_id"].as_str().unwrap();
    assert_failure(&carol.get("chat.getStarredMessages", &[("roomId", gid)]).await, "error-not-allowed", None);
}

#[tokio::test]
async fn threads_follow_and_sync() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let rid = channel(&alice, "ops", &["bob"]).await;
    let tmid = post(&alice, &rid, "thread start").await["_id"].as_str().unwrap().to_owned();
    let first = reply(&bob, &rid, &tmid, "one").await;
    reply(&bob, &rid, &tmid, "two").await;

    let parent = message(&alice, &tmid).await;
    assert_eq!(parent["tcount"], 2);
    assert_eq!(parent["replies"], json!([alice.user_id(), bob.user_id()]));
    assert!(parent["tlm"].is_string());
    let (status, body) = alice.get("chat.getThreadMessages", &[("tmid", &tmid)]).await;
    assert_eq!(status, 200, "{body}");
    let texts: Vec<&str> = body["messages"].as_array().unwrap().iter().map(|m| m["msg"].as_str().unwrap()).collect();
    assert_eq!(texts, ["one", "two"]);
    let (_, threads) = bob.get("chat.getThreadsList", &[("rid", &rid)]).await;
    assert_eq!(ids(&threads["threads"]), vec![tmid.clone()]);

    // Unfollowing through a reply leaves the thread; following comes back.
    let reply_id = first["_id"].as_str().unwrap();
    assert_eq!(bob.post("chat.unfollowMessage", json!({"mid": reply_id})).await.0, 200);
    assert_eq!(message(&alice, &tmid).await["replies"], json!([alice.user_id()]));
    let (_, following) = bob.get("chat.getThreadsList", &[("rid", &rid), ("type", "following")]).await;
    assert_eq!(following["total"], 0);
    assert_eq!(bob.post("chat.followMessage", json!({"mid": tmid})).await.0, 200);
    let (_, following) = bob.get("chat.getThreadsList", &[("rid", &rid), ("type", "following")]).await;
    assert_eq!(following["total"], 1);
    assert_failure(
        &bob.post("chat.followMessage", json!({})).await,
        "[The required \"mid\" body param is missing.]",
        Some("The required \"mid\" body param is missing."),
    );
    assert_failure(
        &bob.post("chat.followMessage", json!({"mid": "nope"})).await,
        "Invalid message [error-invalid-message]",
        Some("error-invalid-message"),
    );

    let since = "2000-01-01T00:00:00.000Z";
    let (_, synced) = alice.get("chat.syncThreadMessages", &[("tmid", &tmid), ("updatedSince", since)]).await;
    assert_eq!(synced["messages"]["update"].as_array().unwrap().len(), 2);
    assert_eq!(synced["messages"]["remove"], json!([]));
    let (_, synced) = alice.get("chat.syncThreadsList", &[("rid", &rid), ("updatedSince", since)]).await;
    assert_eq!(ids(&synced["threads"]["update"]), vec![tmid.clone()]);
    assert_failure(
        &alice.get("chat.syncThreadsList", &[("rid", &rid), ("updatedSince", "yesterday")]).await,
        "The \"updatedSince\" query parameter must be a valid date. [error-updatedSince-param-invalid]",
        Some("error-updatedSince-param-invalid"),
    );
    let (_, synced) = alice.get("chat.syncMessages", &[("roomId", &rid), ("lastUpdate", since)]).await;
    assert!(synced["result"]["updated"].as_array().unwrap().len() >= 3, "{synced}");
    assert_failure(
        &alice.get("chat.getThreadMessages", &[]).await,
        "The required \"tmid\" query param is missing. [error-invalid-params]",
        Some("error-invalid-params"),
    );
    let carol = server.user("carol").await;
    let (_, group) = alice.post("groups.create", json!({"name": "secret"})).await;
    let gid = group["group"]["_id"].as_str().unwrap().to_owned();
    let hidden = post(&alice, &gid, "psst").await["_id"].as_str().unwrap().to_owned();
    let denied = carol.get("chat.getThreadMessages", &[("tmid", &hidden)]).await;
    assert_failure(&denied, "Not Allowed [error-not-allowed]", Some("error-not-allowed"));
}

#[tokio::test]
async fn deleting_a_reply_uncounts_it_on_the_thread() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let rid = channel(&alice, "ops", &[]).await;
    let tmid = post(&alice, &rid, "thread start").await["_id"].as_str().unwrap().to_owned();
    let first = reply(&alice, &rid, &tmid, "one").await;
    reply(&alice, &rid, &tmid, "two").await;
    let (status, body) = alice.post("chat.delete", json!({"roomId": rid, "msgId": first["_id"]})).await;
    assert_eq!(status, 200, "{body}");
    let parent = message(&alice, &tmid).await;
    assert_eq!(parent["tcount"], 1);
    assert_eq!(parent["replies"], json!([alice.user_id()]));
    let (_, body) = alice.get("chat.getThreadMessages", &[("tmid", &tmid)]).await;
    assert_eq!(body["messages"].as_array().unwrap().len(), 1, "{body}");
}

#[tokio::test]
async fn mentions_search_and_ignores() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let rid = channel(&alice, "ops", &["bob"]).await;
    let m = post(&alice, &rid, "hello @bob and @nobody").await;
    assert_eq!(m["mentions"], json!([{"_id": bob.user_id(), "username": "bob", "name": "bob", "type": "user"}]));
    post(&alice, &rid, "Rollout of Version 2 finished").await;

    let (_, mentioned) = bob.get("chat.getMentionedMessages", &[("roomId", &rid)]).await;
    assert_eq!(ids(&mentioned["messages"]), vec![m["_id"].as_str().unwrap().to_owned()]);
    let (_, mentioned) = bob.get("channels.getAllUserMentionsByChannel", &[("roomId", &rid)]).await;
    assert_eq!(mentioned["total"], 1);
    let (_, none) = alice.get("chat.getMentionedMessages", &[("roomId", &rid)]).await;
    assert_eq!(none["total"], 0);

    let (status, found) = bob.get("chat.search", &[("roomId", &rid), ("searchText", "version 2")]).await;
    assert_eq!(status, 200, "{found}");
    let texts: Vec<&str> = found["messages"].as_array().unwrap().iter().map(|m| m["msg"].as_str().unwrap()).collect();
    assert_eq!(texts, ["Rollout of Version 2 finished"]);
    let (_, found) = bob.get("chat.search", &[("roomId", &rid), ("searchText", "from:bob hello")]).await;
    assert_eq!(found["messages"], json!([]));
    // Regex characters are text.
    let (_, found) = bob.get("chat.search", &[("roomId", &rid), ("searchText", ".*")]).await;
    assert_eq!(found["messages"], json!([]));
    assert_failure(
        &bob.get("chat.search", &[("roomId", &rid)]).await,
        "must have required property 'searchText' [invalid-params]",
        Some("invalid-params"),
    );

    let bob_id = bob.user_id().to_owned();
    let (status, body) = alice.get("chat.ignoreUser", &[("rid", &rid), ("userId", &bob_id)]).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = alice.get("chat.ignoreUser", &[("rid", &rid), ("userId", &bob_id), ("ignore", "false")]).await;
    assert_eq!(status, 200);
    let outsider = server.user("carol").await;
    assert_failure(
        &alice.get("chat.ignoreUser", &[("rid", &rid), ("userId", outsider.user_id())]).await,
        "Invalid subscription [error-invalid-subscription]",
        Some("error-invalid-subscription"),
    );
}

#[tokio::test]
async fn discussions_are_rooms_announced_in_their_parent() {
    let server = Server::start_with(&[
        ("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false"),
        ("OVERWRITE_SETTING_Integrations_Outgoing_Allow_Private_Addresses", "true"),
    ]);
    let admin = server.admin().await;
    let rx = Receiver::start().await;
    outgoing(&admin, format!("{}/created", rx.base), "roomCreated", "all_public_channels").await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let rid = channel(&alice, "ops", &["bob"]).await;

    let body = json!({"prid": rid, "t_name": "incident 42", "users": ["bob"], "reply": "first"});
    let (status, created) = alice.post("rooms.createDiscussion", body).await;
    assert_eq!(status, 200, "{created}");
    let d = &created["discussion"];
    let drid = d["_id"].as_str().unwrap().to_owned();
    assert_eq!((d["fname"].clone(), d["prid"].clone(), d["t"].clone()), (json!("incident 42"), json!(rid), json!("c")));
    assert_eq!(d["rid"], json!(drid));
    let (_, members) = bob.get("channels.members", &[("roomId", &drid)]).await;
    assert_eq!(members["total"], 2, "{members}");
    let (_, found) = bob.get("chat.getDiscussions", &[("roomId", &rid)]).await;
    assert_eq!(found["messages"][0]["drid"], json!(drid));
    assert_eq!(found["messages"][0]["t"], "discussion-created");
    let (_, history) = bob.get("channels.messages", &[("roomId", &drid)]).await;
    assert!(history["messages"].as_array().unwrap().iter().any(|m| m["msg"] == "first"), "{history}");
    let created_events = rx.bodies("/created", 2).await;
    assert!(created_events.iter().any(|e| e["channel_id"] == json!(drid)), "{created_events:?}");

    assert_failure(
        &alice.post("rooms.createDiscussion", json!({"prid": rid})).await,
        "Body parameter \"t_name\" is required.",
        None,
    );
    assert_failure(
        &alice.post("rooms.createDiscussion", json!({"prid": "nope", "t_name": "x"})).await,
        "Invalid room [error-invalid-room]",
        Some("error-invalid-room"),
    );
    let (_, group) = alice.post("groups.create", json!({"name": "secret"})).await;
    let gid = group["group"]["_id"].as_str().unwrap();
    let denied = bob.post("rooms.createDiscussion", json!({"prid": gid, "t_name": "x"})).await;
    assert_failure(
        &denied,
        "You are not allowed to create a discussion [error-action-not-allowed]",
        Some("error-action-not-allowed"),
    );
}
