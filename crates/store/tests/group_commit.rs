//! The group-commit writer: batching, isolation of failed writes, durability across reopen;
//! messages committed with their deliveries, on SQLite and, when `TEST_DATABASE_URL` is set,
//! on PostgreSQL.

mod common;

use serde_json::json;
use std::sync::Arc;
use store::prelude::*;
use store::sqlite::SqliteStore;
use store::{Change, Delivery, Doc, MessageQuery, Store, StoreError};

fn doc(v: serde_json::Value) -> Doc {
    v.as_object().unwrap().clone()
}

fn message(id: &str) -> Doc {
    doc(json!({"_id": id, "rid": "R", "msg": id, "ts": "2026-01-01T00:00:00.000Z"}))
}

#[tokio::test]
async fn concurrent_writes_commit_together_and_failures_stay_isolated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    store.create_room(doc(json!({"_id": "R", "t": "c", "name": "r", "msgs": 0})), vec![]).await.unwrap();

    let mut tasks = Vec::new();
    for i in 0..200 {
        let s = store.clone();
        // Every tenth write reuses an id: it must fail alone.
        let id = if i % 10 == 9 { format!("m{}", i - 1) } else { format!("m{i}") };
        tasks.push(tokio::spawn(async move { (i, s.insert_message(message(&id)).await) }));
    }
    let mut failed = 0;
    for t in tasks {
        let (i, r) = t.await.unwrap();
        match r {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => failed += 1,
            Err(e) => panic!("write {i}: {e}"),
        }
    }
    assert_eq!(failed, 20);
    let (_, total) = store.room_messages("R", MessageQuery::default()).await.unwrap();
    assert_eq!(total, 180);
    let room = store.room_by_id("R").await.unwrap().unwrap();
    assert_eq!(room["msgs"], 180, "a failed write's room counter update was rolled back with it");
    store.close().await;

    let reopened = SqliteStore::open(&path).unwrap();
    let (_, total) = reopened.room_messages("R", MessageQuery::default()).await.unwrap();
    assert_eq!(total, 180);
    reopened.close().await;
}

#[tokio::test]
async fn unique_fields_report_what_clashed() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    let user =
        |id: &str, name: &str, email: &str| doc(json!({"_id": id, "username": name, "emails": [{"address": email}]}));
    store.insert_user(user("a", "Ann", "ann@x.io")).await.unwrap();
    assert!(matches!(store.insert_user(user("b", "ann", "b@x.io")).await, Err(StoreError::Conflict("username"))));
    assert!(matches!(store.insert_user(user("c", "cat", "ANN@x.io")).await, Err(StoreError::Conflict("email"))));
    assert_eq!(store.user_by_username("ANN").await.unwrap().unwrap()["_id"], "a");
    store.close().await;
}

#[tokio::test]
async fn a_lone_failing_write_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    store.create_room(doc(json!({"_id": "R", "t": "c", "name": "r", "msgs": 0})), vec![]).await.unwrap();
    store.insert_message(message("a")).await.unwrap();
    // Sequential: each write is alone in its batch.
    assert!(matches!(store.insert_message(message("a")).await, Err(StoreError::Conflict(_))));
    store.insert_message(message("b")).await.unwrap();
    let room = store.room_by_id("R").await.unwrap().unwrap();
    assert_eq!(room["msgs"], 2, "the failed write's counter update was rolled back");
    store.close().await;
}

/// Posts messages `range` at once, each with two deliveries (`d<i>-0`, `d<i>-1`); with `clash`,
/// message `i` reuses the id of `i - 1` when `i` ends in 9. Returns the deliveries of the
/// messages written.
async fn post_with_deliveries(store: &Arc<dyn Store>, range: std::ops::Range<i64>, clash: bool) -> Vec<String> {
    let mut tasks = Vec::new();
    for i in range {
        let s = store.clone();
        let id = if clash && i % 10 == 9 { format!("m{}", i - 1) } else { format!("m{i}") };
        let deliveries = (0..2)
            .map(|url| Delivery {
                id: format!("d{i}-{url}"),
                integration_id: "I".into(),
                url: format!("http://receiver/{url}"),
                due_at: 1_000 + i,
                attempt: 0,
                // Keys out of alphabetical order: the receiver gets them as they were given.
                doc: doc(json!({"z": i, "a": id})),
            })
            .collect();
        tasks.push(tokio::spawn(async move { (i, s.commit(Change::InsertMessage(message(&id)), deliveries).await) }));
    }
    let mut written = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            (i, Ok(done)) => {
                assert!(done.applied);
                written.extend([format!("d{i}-0"), format!("d{i}-1")]);
            }
            (_, Err(StoreError::Conflict(_))) => {}
            (i, Err(e)) => panic!("message {i}: {e}"),
        }
    }
    written
}

/// 100 messages with deliveries, in two waves: the first all new (written in batches), the
/// second with a clash in every ten, so one of two messages fails, alone, its deliveries with
/// it. The deliveries of the messages written are all in the outbox, as given.
async fn messages_commit_with_their_deliveries(store: Arc<dyn Store>) {
    store.create_room(doc(json!({"_id": "R", "t": "c", "name": "r", "msgs": 0})), vec![]).await.unwrap();
    let mut written = post_with_deliveries(&store, 0..50, false).await;
    assert_eq!(written.len(), 100);
    written.extend(post_with_deliveries(&store, 50..100, true).await);
    assert_eq!(written.len(), 190);
    assert_eq!(store.room_by_id("R").await.unwrap().unwrap()["msgs"], 95);

    let lanes = (0..2).map(|url| (format!("http://receiver/{url}"), 1000)).collect();
    let claimed = store.claim_due_deliveries(lanes, chrono::Utc::now().timestamp_millis()).await.unwrap();
    let mut ids: Vec<String> = Vec::new();
    for lane in &claimed {
        for d in &lane.deliveries {
            let i: i64 = d.id[1..d.id.find('-').unwrap()].parse().unwrap();
            assert_eq!((d.integration_id.as_str(), d.due_at, d.attempt), ("I", 1_000 + i, 0));
            assert!(d.id.ends_with(&d.url[d.url.len() - 1..]), "{} went to {}", d.id, d.url);
            assert_eq!(d.doc.keys().collect::<Vec<_>>(), ["z", "a"]);
            assert_eq!(d.doc["z"], i);
            ids.push(d.id.clone());
        }
    }
    ids.sort();
    written.sort();
    assert_eq!(ids, written, "the outbox holds the deliveries of the messages written, once each");
}

#[tokio::test]
async fn sqlite_commits_messages_with_their_deliveries() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
    messages_commit_with_their_deliveries(store.clone()).await;
    store.close().await;
}

#[tokio::test]
async fn postgres_commits_messages_with_their_deliveries() {
    let Some(db) = common::fresh_database("group_commit").await else { return };
    messages_commit_with_their_deliveries(db.store.clone()).await;
    db.drop_database().await;
}
