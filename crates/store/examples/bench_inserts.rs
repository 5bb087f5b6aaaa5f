//! Durable message inserts through the store: group commit against one commit per row.
//!
//! `cargo run --release -p store --example bench_inserts [rows-per-case]`
//!
//! Every insert is awaited until its transaction is committed with `synchronous = FULL`, so each
//! counted row is on disk. The baseline runs the same inserts, each in its own transaction.

use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use store::ids::{now_iso, object_id};
use store::sqlite::SqliteStore;
use store::{Doc, Store};

fn message(rid: &str, i: usize) -> Doc {
    let now = now_iso();
    json!({
        "_id": object_id(), "rid": rid, "msg": format!("message {i}"), "ts": now,
        "u": {"_id": "bench", "username": "bench", "name": "Bench"}, "_updatedAt": now,
        "alias": "", "groupable": false, "parseUrls": true, "urls": [], "mentions": [], "channels": [],
    })
    .as_object()
    .unwrap()
    .clone()
}

async fn run(store: Arc<SqliteStore>, writers: usize, rows: usize, batched: bool) -> f64 {
    let per_writer = rows / writers;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                let m = message("BENCH", w * per_writer + i);
                if batched {
                    store.insert_message(m).await.unwrap();
                } else {
                    store
                        .write_unbatched(move |c| {
                            c.execute(
                                "INSERT INTO messages (id, rid, ts, doc) VALUES (?1, ?2, ?3, ?4)",
                                (
                                    m["_id"].as_str().unwrap(),
                                    "BENCH",
                                    m["ts"].as_str().unwrap(),
                                    serde_json::to_string(&m).unwrap(),
                                ),
                            )
                            .map_err(|e| store::StoreError::Backend(e.to_string()))?;
                            c.execute(
                                "UPDATE rooms SET doc = json_set(doc, '$.msgs', coalesce(json_extract(doc, '$.msgs'), 0) + 1) WHERE id = 'BENCH'",
                                [],
                            )
                            .map_err(|e| store::StoreError::Backend(e.to_string()))?;
                            Ok(())
                        })
                        .await
                        .unwrap();
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (per_writer * writers) as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let rows: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("bench.db")).unwrap());
    store
        .create_room(json!({"_id": "BENCH", "t": "c", "name": "bench", "msgs": 0}).as_object().unwrap().clone(), vec![])
        .await
        .unwrap();
    println!("durable message inserts, {rows} rows per case (baseline: {} rows)", rows / 4);
    println!("{:>8} {:>16} {:>16} {:>8}", "writers", "group rows/s", "baseline rows/s", "ratio");
    for writers in [1, 16, 64] {
        let group = run(store.clone(), writers, rows, true).await;
        let baseline = run(store.clone(), writers, rows / 4, false).await;
        println!("{writers:>8} {group:>16.0} {baseline:>16.0} {:>7.1}x", group / baseline);
    }
    store.close().await;
}
