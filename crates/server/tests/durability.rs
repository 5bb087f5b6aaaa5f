//! Acknowledged writes survive a crash; a clean stop closes the database.

mod common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn acknowledged_messages_survive_kill_9() {
    let mut server = Server::start();
    let admin = server.admin().await;
    let (_, ch) = admin.post("channels.create", json!({"name": "durable"})).await;
    let rid = ch["channel"]["_id"].as_str().unwrap().to_owned();

    // 64 concurrent writers, 8 messages each; every 200 is a promise of durability.
    let mut tasks = Vec::new();
    for w in 0..64 {
        let c = admin.clone();
        let rid = rid.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..8 {
                let (status, body) =
                    c.post("chat.postMessage", json!({"roomId": rid, "text": format!("w{w}-{i}")})).await;
                assert_eq!(status, 200, "{body}");
                ids.push(body["message"]["_id"].as_str().unwrap().to_owned());
            }
            ids
        }));
    }
    let mut acknowledged = Vec::new();
    for t in tasks {
        acknowledged.extend(t.await.unwrap());
    }
    server.restart_after_kill();

    let admin = server.admin().await;
    let (_, page) = admin.get("channels.messages", &[("roomId", &rid), ("count", "0")]).await;
    assert_eq!(page["total"], 512, "every acknowledged message is there after kill -9");
    let stored: std::collections::HashSet<&str> =
        page["messages"].as_array().unwrap().iter().map(|m| m["_id"].as_str().unwrap()).collect();
    assert!(acknowledged.iter().all(|id| stored.contains(id.as_str())));
    let (_, info) = admin.get("channels.info", &[("roomId", &rid)]).await;
    assert_eq!(info["channel"]["msgs"], 512, "the room counter committed with the messages");
}

#[tokio::test]
async fn sigterm_shuts_down_cleanly() {
    let mut server = Server::start();
    let admin = server.admin().await;
    admin.post("chat.postMessage", json!({"roomId": "GENERAL", "text": "before stop"})).await;
    let status = server.stop();
    assert!(status.success(), "exit status {status:?}");
    // The writer checkpointed and truncated the WAL on close.
    let wal = server.db_path().with_extension("db-wal");
    assert!(!server.is_sqlite() || std::fs::metadata(&wal).map(|m| m.len() == 0).unwrap_or(true), "WAL left non-empty");
    server.restart();
    let admin = server.admin().await;
    let (_, page) = admin.get("channels.messages", &[("roomId", "GENERAL")]).await;
    assert!(page["messages"].as_array().unwrap().iter().any(|m| m["msg"] == "before stop"));
}
