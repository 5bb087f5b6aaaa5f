//! Changes to one message made at the same moment all hold: reactions, a star, a pin and an
//! edit are applied to the message as stored, not to copies read before (a copy written back
//! would erase what another request changed meanwhile).

mod common;
use common::*;
use serde_json::{Value, json};
use tokio::task::JoinSet;

/// Sends every `(client, method, body)` at once; asserts each answered 200.
async fn all_at_once(calls: Vec<(Client, &'static str, Value)>) {
    let mut set = JoinSet::new();
    for (client, method, body) in calls {
        set.spawn(async move { client.post(method, body).await });
    }
    while let Some(done) = set.join_next().await {
        let (status, body) = done.unwrap();
        assert_eq!(status, 200, "{body}");
    }
}

const USERS: usize = 12;
const EMOJIS: [&str; 3] = ["smile", "tada", "rocket"];

#[tokio::test]
async fn concurrent_changes_to_one_message_all_hold() {
    let server = Server::start();
    let admin = server.admin().await;
    let mut users = Vec::new();
    for i in 0..USERS {
        users.push(server.user(&format!("u{i}")).await);
    }
    let names: Vec<String> = (0..USERS).map(|i| format!("u{i}")).collect();
    let (status, created) = admin.post("channels.create", json!({"name": "busy", "members": names})).await;
    assert_eq!(status, 200, "{created}");
    let rid = created["channel"]["_id"].as_str().unwrap().to_owned();
    let (status, posted) = admin.post("chat.postMessage", json!({"roomId": rid, "text": "release 1.0"})).await;
    assert_eq!(status, 200, "{posted}");
    let mid = posted["message"]["_id"].as_str().unwrap().to_owned();

    let mut calls = Vec::new();
    for user in &users {
        for emoji in EMOJIS {
            calls.push((user.clone(), "chat.react", json!({"messageId": mid, "emoji": emoji, "shouldReact": true})));
        }
    }
    calls.push((admin.clone(), "chat.starMessage", json!({"messageId": mid})));
    calls.push((admin.clone(), "chat.pinMessage", json!({"messageId": mid})));
    calls.push((admin.clone(), "chat.update", json!({"roomId": rid, "msgId": mid, "text": "release 1.0.1"})));
    all_at_once(calls).await;

    let (status, got) = admin.get("chat.getMessage", &[("msgId", &mid)]).await;
    assert_eq!(status, 200, "{got}");
    let message = &got["message"];
    for emoji in EMOJIS {
        let mut reacted: Vec<String> = message["reactions"][format!(":{emoji}:")]["usernames"]
            .as_array()
            .unwrap_or_else(|| panic!("no :{emoji}: in {message}"))
            .iter()
            .map(|u| u.as_str().unwrap().to_owned())
            .collect();
        reacted.sort();
        let mut expected = names.clone();
        expected.sort();
        assert_eq!(reacted, expected, ":{emoji}: in {message}");
    }
    assert_eq!(message["starred"], json!([{"_id": admin.user_id()}]), "{message}");
    assert_eq!(message["pinned"], true, "{message}");
    assert_eq!(message["msg"], "release 1.0.1", "{message}");
    assert!(message["editedAt"].is_string(), "{message}");
}

#[tokio::test]
async fn concurrent_follows_of_one_thread_all_hold() {
    let server = Server::start();
    let admin = server.admin().await;
    let mut users = Vec::new();
    for i in 0..USERS {
        users.push(server.user(&format!("f{i}")).await);
    }
    let (_, posted) = admin.post("chat.postMessage", json!({"channel": "#general", "text": "thread start"})).await;
    let mid = posted["message"]["_id"].as_str().unwrap().to_owned();
    all_at_once(users.iter().map(|u| (u.clone(), "chat.followMessage", json!({"mid": mid}))).collect()).await;
    let (_, got) = admin.get("chat.getMessage", &[("msgId", &mid)]).await;
    let followers: Vec<&Value> = got["message"]["replies"].as_array().unwrap().iter().collect();
    for u in &users {
        assert!(followers.contains(&&json!(u.user_id())), "{} missing in {}", u.user_id(), got["message"]);
    }
}
