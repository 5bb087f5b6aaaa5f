//! The group-commit writer: batching, isolation of failed writes, durability across reopen.

use serde_json::json;
use std::sync::Arc;
use store::prelude::*;
use store::sqlite::SqliteStore;
use store::{Doc, MessageQuery, Store, StoreError};

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
