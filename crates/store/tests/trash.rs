//! The trash of deleted messages: a delete (of one message or several in one write) keeps the
//! message's record and drops records past the retention, on SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` is set.

mod common;

use query::Filter;
use serde_json::{Value, json};
use store::migrate::{Cell, Kind, Transfer};
use store::prelude::*;
use store::sqlite::SqliteStore;
use store::{Doc, DocQuery, StoreError};

fn doc(v: Value) -> Doc {
    v.as_object().unwrap().clone()
}

/// A trash record deleted `days` ago, put in as `migrate-data` would.
fn old_record(id: &str, days: i64) -> Vec<Cell> {
    let at = store::ids::iso(chrono::Utc::now() - chrono::Duration::days(days));
    let record = json!({"_id": id, "rid": "R", "ts": "2020-01-01T00:00:00.000Z", "_deletedAt": at});
    vec![Cell::Text(id.into()), Cell::Text("R".into()), Cell::Text(at), Cell::Text(record.to_string())]
}

async fn trash_ids(store: &dyn Transfer) -> Vec<String> {
    let (records, total) = store.find_deleted_messages(DocQuery::all(Filter::and(vec![]))).await.unwrap();
    assert_eq!(total, records.len());
    records.iter().map(|r| r["_id"].as_str().unwrap().to_owned()).collect()
}

async fn check(store: &dyn Transfer) {
    let mut import = store.begin_import().await.unwrap();
    import.insert(Kind::DeletedMessages, vec![old_record("expired", 31), old_record("recent", 29)]).await.unwrap();
    import.commit().await.unwrap();
    store.create_room(doc(json!({"_id": "R", "t": "c", "name": "r", "msgs": 0})), vec![]).await.unwrap();
    let message = doc(json!({"_id": "m1", "rid": "R", "msg": "secret", "ts": "2026-01-01T00:00:00.000Z",
                             "tmid": "T", "u": {"_id": "u1"}}));
    store.insert_message(message).await.unwrap();

    store.delete_message("m1").await.unwrap();
    assert_eq!(trash_ids(store).await, ["recent", "m1"], "the expired record went with the delete");
    let (records, _) = store.find_deleted_messages(DocQuery::all(Filter::and(vec![]))).await.unwrap();
    let mut kept: Vec<&String> = records[1].keys().collect();
    kept.sort();
    assert_eq!(kept, ["_deletedAt", "_id", "rid", "tmid", "ts"], "{records:?}");
    assert!(store.message_by_id("m1").await.unwrap().is_none());
    assert_eq!(store.room_by_id("R").await.unwrap().unwrap()["msgs"], 0);
    assert!(matches!(store.delete_message("m1").await, Err(StoreError::NotFound)));
    assert_eq!(store.count(Kind::DeletedMessages).await.unwrap(), 2, "a failed delete keeps nothing");

    // Several in one write: those that exist are deleted, counted and kept in the trash.
    for id in ["m2", "m3"] {
        let m = json!({"_id": id, "rid": "R", "msg": "x", "ts": "2026-01-01T00:00:01.000Z", "u": {"_id": "u1"}});
        store.insert_message(doc(m)).await.unwrap();
    }
    assert_eq!(store.room_by_id("R").await.unwrap().unwrap()["msgs"], 2);
    assert_eq!(store.delete_messages(&["m2", "gone", "m3"].map(String::from)).await.unwrap(), 2);
    assert_eq!(store.room_by_id("R").await.unwrap().unwrap()["msgs"], 0);
    assert_eq!(trash_ids(store).await, ["recent", "m1", "m2", "m3"]);

    // A deleted room takes its trash along.
    store.delete_room("R").await.unwrap();
    assert!(trash_ids(store).await.is_empty());
}

#[tokio::test]
async fn sqlite_keeps_the_trash_for_its_retention() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    check(&store).await;
    store.close().await;
}

#[tokio::test]
async fn postgres_keeps_the_trash_for_its_retention() {
    let Some(db) = common::fresh_database("trash").await else { return };
    check(&*db.store).await;
    db.drop_database().await;
}

/// A thread's first message and its reply deleted at the same moment, many times over: each
/// delete locks the messages (a reply with its thread's first message) before the room, so the
/// two never wait on each other in a cycle.
#[tokio::test]
async fn postgres_deletes_a_thread_and_its_reply_at_once() {
    let Some(db) = common::fresh_database("trash_race").await else { return };
    let store = db.store.clone();
    store.create_room(doc(json!({"_id": "R", "t": "c", "name": "r", "msgs": 0})), vec![]).await.unwrap();
    let ts = "2026-01-01T00:00:00.000Z";
    for i in 0..40 {
        let parent = json!({"_id": format!("p{i}"), "rid": "R", "msg": "start", "ts": ts, "u": {"_id": "u1"}});
        store.insert_message(doc(parent)).await.unwrap();
        let reply = json!({"_id": format!("r{i}"), "rid": "R", "msg": "re", "ts": ts, "tmid": format!("p{i}"), "u": {"_id": "u2"}});
        store.insert_message(doc(reply)).await.unwrap();
    }
    let mut deletes = Vec::new();
    for i in 0..40 {
        for id in [format!("r{i}"), format!("p{i}")] {
            let store = store.clone();
            deletes.push(tokio::spawn(async move { store.delete_message(&id).await }));
        }
    }
    for d in deletes {
        d.await.unwrap().unwrap();
    }
    assert_eq!(store.room_by_id("R").await.unwrap().unwrap()["msgs"], 0);
    drop(store);
    db.drop_database().await;
}
