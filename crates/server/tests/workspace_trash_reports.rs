//! Deleted messages and moderation reports against the real binary: the trash a deletion
//! leaves (`chat.getDeletedMessages`, the `deleted`/`remove` halves of the sync endpoints),
//! what a room's deletion does to it, and `chat.reportMessage`; both kept across a restart
//! and copied by `liftoff migrate-data`.

mod common;
use common::migrate::{counts, migrate};
use common::*;
use serde_json::{Value, json};
use std::time::Duration;

const SINCE: &str = "2000-01-01T00:00:00.000Z";

async fn post(c: &Client, rid: &str, text: &str) -> String {
    let (status, body) = c.post("chat.postMessage", json!({"roomId": rid, "text": text})).await;
    assert_eq!(status, 200, "{body}");
    body["message"]["_id"].as_str().unwrap().to_owned()
}

async fn reply(c: &Client, rid: &str, tmid: &str, text: &str) -> String {
    let (status, body) = c.post("chat.postMessage", json!({"roomId": rid, "text": text, "tmid": tmid})).await;
    assert_eq!(status, 200, "{body}");
    body["message"]["_id"].as_str().unwrap().to_owned()
}

/// Deletes a message, a few milliseconds after the previous deletion (so deletion times differ).
async fn delete(c: &Client, rid: &str, id: &str) {
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (status, body) = c.post("chat.delete", json!({"roomId": rid, "msgId": id})).await;
    assert_eq!(status, 200, "{body}");
}

async fn channel(c: &Client, name: &str, members: &[&str]) -> String {
    let (status, body) = c.post("channels.create", json!({"name": name, "members": members})).await;
    assert_eq!(status, 200, "{body}");
    body["channel"]["_id"].as_str().unwrap().to_owned()
}

async fn get_ok(c: &Client, path: &str, query: &[(&str, &str)]) -> Value {
    let (status, body) = c.get(path, query).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|m| m["_id"].as_str().unwrap().to_owned()).collect()
}

async fn deleted_ids(c: &Client, rid: &str, since: &str) -> Vec<String> {
    ids(&get_ok(c, "chat.getDeletedMessages", &[("roomId", rid), ("since", since)]).await["messages"])
}

#[tokio::test]
async fn deleted_messages_are_listed_since_a_date() {
    let server = Server::start();
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let rid = channel(&alice, "ops", &["bob"]).await;
    let first = post(&alice, &rid, "one").await;
    let second = post(&bob, &rid, "two").await;
    let kept = post(&alice, &rid, "three").await;
    delete(&alice, &rid, &first).await;
    delete(&bob, &rid, &second).await;

    // In the order they were deleted, as `{_id}` only.
    let page = get_ok(&bob, "chat.getDeletedMessages", &[("roomId", &rid), ("since", SINCE)]).await;
    assert_eq!(page["messages"], json!([{"_id": first}, {"_id": second}]), "{page}");
    assert_eq!((page["count"].as_u64(), page["offset"].as_u64(), page["total"].as_u64()), (Some(2), Some(0), Some(2)));
    let page =
        get_ok(&bob, "chat.getDeletedMessages", &[("roomId", &rid), ("since", SINCE), ("count", "1"), ("offset", "1")])
            .await;
    assert_eq!(page["messages"], json!([{"_id": second}]), "{page}");
    assert_eq!((page["count"].as_u64(), page["offset"].as_u64(), page["total"].as_u64()), (Some(1), Some(1), Some(2)));
    // `since` is exclusive: the first deletion's own time leaves the second.
    let synced = get_ok(&alice, "chat.syncMessages", &[("roomId", &rid), ("lastUpdate", SINCE)]).await;
    let deleted = synced["result"]["deleted"].as_array().unwrap().clone();
    let first_at = deleted.iter().find(|d| d["_id"] == json!(first)).expect("the first deletion")["_deletedAt"].clone();
    assert_eq!(deleted_ids(&alice, &rid, first_at.as_str().unwrap()).await, vec![second.clone()]);
    assert!(deleted_ids(&alice, &rid, "2999-01-01T00:00:00.000Z").await.is_empty());
    assert!(!deleted_ids(&alice, &rid, SINCE).await.contains(&kept));

    // Messages rooms.cleanHistory deletes go to the trash too.
    let range = json!({"roomId": rid, "oldest": SINCE, "latest": "2999-01-01T00:00:00.000Z"});
    let (status, body) = admin.post("rooms.cleanHistory", range).await;
    assert_eq!(status, 200, "{body}");
    assert!(deleted_ids(&alice, &rid, SINCE).await.contains(&kept));

    let missing = "The required \"roomId\" query param is missing.";
    assert_failure(
        &alice.get("chat.getDeletedMessages", &[("since", SINCE)]).await,
        &format!("[{missing}]"),
        Some(missing),
    );
    let missing = "The required \"since\" query param is missing.";
    assert_failure(
        &alice.get("chat.getDeletedMessages", &[("roomId", &rid)]).await,
        &format!("[{missing}]"),
        Some(missing),
    );
    let invalid = "The \"since\" query parameter must be a valid date.";
    assert_failure(
        &alice.get("chat.getDeletedMessages", &[("roomId", &rid), ("since", "InvalidaDate")]).await,
        &format!("[{invalid}]"),
        Some(invalid),
    );
    // A private room's deletions are not told to outsiders, nor a missing room's.
    let carol = server.user("carol").await;
    let (_, group) = alice.post("groups.create", json!({"name": "secret"})).await;
    let gid = group["group"]["_id"].as_str().unwrap().to_owned();
    let hidden = post(&alice, &gid, "psst").await;
    delete(&alice, &gid, &hidden).await;
    assert_eq!(deleted_ids(&alice, &gid, SINCE).await, vec![hidden]);
    for room in [gid.as_str(), "nope"] {
        assert_failure(
            &carol.get("chat.getDeletedMessages", &[("roomId", room), ("since", SINCE)]).await,
            "Not allowed [error-not-allowed]",
            Some("error-not-allowed"),
        );
    }
}

#[tokio::test]
async fn sync_endpoints_tell_what_was_deleted() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let rid = channel(&alice, "ops", &["bob"]).await;
    let thread = post(&alice, &rid, "thread start").await;
    let gone_reply = reply(&bob, &rid, &thread, "one").await;
    let kept_reply = reply(&bob, &rid, &thread, "two").await;
    let other_thread = post(&bob, &rid, "another thread").await;
    reply(&alice, &rid, &other_thread, "a reply").await;
    let plain = post(&alice, &rid, "plain").await;
    delete(&bob, &rid, &gone_reply).await;
    delete(&bob, &rid, &other_thread).await;
    delete(&alice, &rid, &plain).await;

    let synced = get_ok(&alice, "chat.syncThreadMessages", &[("tmid", &thread), ("updatedSince", SINCE)]).await;
    assert_eq!(ids(&synced["messages"]["update"]), vec![kept_reply]);
    let removed = &synced["messages"]["remove"];
    assert_eq!(ids(removed), vec![gone_reply.clone()]);
    let record = &removed[0];
    assert_eq!((record["rid"].as_str(), record["tmid"].as_str()), (Some(&*rid), Some(&*thread)), "{record}");
    assert!(record["_deletedAt"].is_string() && record["ts"].is_string(), "{record}");
    assert!(record.get("msg").is_none(), "the text is not kept: {record}");

    let synced = get_ok(&alice, "chat.syncThreadsList", &[("rid", &rid), ("updatedSince", SINCE)]).await;
    assert_eq!(ids(&synced["threads"]["update"]), vec![thread.clone()]);
    assert_eq!(ids(&synced["threads"]["remove"]), vec![other_thread.clone()]);
    assert_eq!(synced["threads"]["remove"][0]["tcount"], 1);

    // Every deletion of the room, newest message first, as `{_id, _deletedAt}`.
    let synced = get_ok(&alice, "chat.syncMessages", &[("roomId", &rid), ("lastUpdate", SINCE)]).await;
    let deleted = &synced["result"]["deleted"];
    assert_eq!(ids(deleted), vec![plain.clone(), other_thread.clone(), gone_reply.clone()]);
    for d in deleted.as_array().unwrap() {
        let keys: Vec<&String> = d.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 2, "{d}");
        assert!(d["_deletedAt"].is_string(), "{d}");
    }
    let later = deleted[0]["_deletedAt"].as_str().unwrap();
    let synced = get_ok(&alice, "chat.syncMessages", &[("roomId", &rid), ("lastUpdate", later)]).await;
    assert_eq!(synced["result"]["deleted"], json!([]));
}

/// Runs `liftoff migrate-data` and returns its report's "<kind>: <count>" lines.
fn migrate_counts(from: &str, to: &str) -> std::collections::HashMap<String, u64> {
    let (success, stdout, stderr) = migrate(from, to);
    assert!(success, "{stdout}\n{stderr}");
    counts(&stdout)
}

#[tokio::test]
async fn reports_and_the_trash_are_kept_and_a_deleted_room_takes_its_trash_along() {
    let mut server = Server::start();
    let alice = server.user("alice").await;
    let kept_room = channel(&alice, "ops", &[]).await;
    let gone = post(&alice, &kept_room, "gone").await;
    delete(&alice, &kept_room, &gone).await;
    let doomed_room = channel(&alice, "doomed", &[]).await;
    let doomed = post(&alice, &doomed_room, "doomed").await;
    delete(&alice, &doomed_room, &doomed).await;
    post(&alice, &doomed_room, "left in the room").await;
    let (status, body) = alice.post("channels.delete", json!({"roomId": doomed_room})).await;
    assert_eq!(status, 200, "{body}");
    let reported = post(&alice, &kept_room, "rude").await;
    let (status, body) = alice.post("chat.reportMessage", json!({"messageId": reported, "description": "rude"})).await;
    assert_eq!((status.as_u16(), body), (200, json!({"success": true})));

    server.restart();
    let alice = server.client().login("alice", "pw-123").await;
    assert_eq!(deleted_ids(&alice, &kept_room, SINCE).await, vec![gone]);
    assert!(server.stop().success());
    // One trash record: the deleted room's went with it, and its messages left none.
    let target = server.dir.path().join("copy.db");
    let counts = migrate_counts(&server.database_url(), &format!("sqlite://{}", target.display()));
    assert_eq!(counts.get("deleted messages"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("moderation reports"), Some(&1), "{counts:?}");
}

#[tokio::test]
async fn reports_need_a_description_and_a_message_the_reporter_can_read() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let carol = server.user("carol").await;
    let mid = post(&alice, "GENERAL", "hello").await;
    let report = |body: Value| {
        let alice = alice.clone();
        async move { alice.post("chat.reportMessage", body).await }
    };
    let (status, body) = report(json!({"messageId": mid, "description": "this makes me angry"})).await;
    assert_eq!((status.as_u16(), body), (200, json!({"success": true})));

    let invalid = |e: &str| (format!("{e} [invalid-params]"), Some("invalid-params"));
    for (body, (error, error_type)) in [
        (json!({"messageId": mid}), invalid("must have required property 'description'")),
        (json!({"description": "spam"}), invalid("must have required property 'messageId'")),
        (json!({"messageId": mid, "description": "spam", "extra": 1}), invalid("must NOT have additional properties")),
        (json!({"messageId": mid, "description": 7}), invalid("must be string")),
        (
            json!({"messageId": "", "description": "spam"}),
            ("The required \"messageId\" param is missing.".into(), None),
        ),
        (json!({"messageId": mid, "description": ""}), ("The required \"description\" param is missing.".into(), None)),
        (json!({"messageId": mid, "description": "  "}), ("error-invalid-description".into(), None)),
        (json!({"messageId": "nope", "description": "spam"}), ("error-invalid-message_id".into(), None)),
    ] {
        assert_failure(&report(body).await, &error, error_type);
    }
    // A message in a room the reporter cannot read is answered as one that does not exist.
    let (_, group) = alice.post("groups.create", json!({"name": "secret"})).await;
    let gid = group["group"]["_id"].as_str().unwrap().to_owned();
    let hidden = post(&alice, &gid, "psst").await;
    assert_failure(
        &carol.post("chat.reportMessage", json!({"messageId": hidden, "description": "spam"})).await,
        "error-invalid-message_id",
        None,
    );
}
