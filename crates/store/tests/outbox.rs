//! The outbox: deliveries claimed per URL oldest first, each lane's next due time, the URLs
//! with free deliveries, and finished or rescheduled attempts; on SQLite, and on PostgreSQL
//! when `TEST_DATABASE_URL` is set.

mod common;

use std::sync::Arc;
use store::sqlite::SqliteStore;
use store::{AttemptRecord, Change, Claimed, Delivery, Store};

const A: &str = "http://receiver/a";
const B: &str = "http://receiver/b";

fn delivery(id: &str, url: &str, due_at: i64) -> Delivery {
    Delivery { id: id.into(), integration_id: "I".into(), url: url.into(), due_at, attempt: 0, doc: Default::default() }
}

fn ids(claimed: &Claimed) -> Vec<&str> {
    claimed.deliveries.iter().map(|d| d.id.as_str()).collect()
}

async fn pending(store: &dyn Store) -> Vec<(String, i64)> {
    let mut urls = store.pending_delivery_urls().await.unwrap();
    urls.sort();
    urls
}

async fn check(store: Arc<dyn Store>) {
    let now = chrono::Utc::now().timestamp_millis();
    let later = now + 3_600_000;
    let due =
        [("a1", A, now - 300), ("a2", A, now - 200), ("a3", A, now - 100), ("b1", B, now - 250), ("b2", B, later)];
    let deliveries = due.iter().map(|(id, url, at)| delivery(id, url, *at)).collect();
    store.commit(Change::Nothing, deliveries).await.unwrap();
    assert_eq!(pending(&*store).await, [(A.to_owned(), now - 300), (B.to_owned(), now - 250)]);

    let claimed = store.claim_due_deliveries(vec![(A.into(), 2), (B.into(), 5)], now).await.unwrap();
    assert_eq!(claimed.len(), 2);
    assert_eq!(
        (claimed[0].url.as_str(), ids(&claimed[0]), claimed[0].next_due),
        (A, vec!["a1", "a2"], Some(now - 100))
    );
    assert_eq!((claimed[1].url.as_str(), ids(&claimed[1]), claimed[1].next_due), (B, vec!["b1"], Some(later)));

    // Claimed rows are nobody else's: the next claim takes what is left.
    let claimed = store.claim_due_deliveries(vec![(A.into(), 5)], now).await.unwrap();
    assert_eq!((ids(&claimed[0]), claimed[0].next_due), (vec!["a3"], None));
    assert_eq!(pending(&*store).await, [(B.to_owned(), later)]);

    // a1 is done; a2 goes back for another attempt, due first.
    let records = vec![
        AttemptRecord { id: "a1".into(), reschedule: None, history: None },
        AttemptRecord { id: "a2".into(), reschedule: Some((now - 1_000, 1)), history: None },
    ];
    store.record_attempts(records).await.unwrap();
    assert_eq!(pending(&*store).await, [(A.to_owned(), now - 1_000), (B.to_owned(), later)]);
    let claimed = store.claim_due_deliveries(vec![(A.into(), 5)], now).await.unwrap();
    assert_eq!(ids(&claimed[0]), ["a2"]);
    assert_eq!(claimed[0].deliveries[0].attempt, 1);
    assert_eq!(store.outbox_stats().await.unwrap().pending, 4, "a2, a3, b1 and b2 are not finished");
}

#[tokio::test]
async fn sqlite_outbox_claims_and_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
    check(store.clone()).await;
    store.close().await;
}

#[tokio::test]
async fn postgres_outbox_claims_and_finishes() {
    let Some(db) = common::fresh_database("outbox").await else { return };
    check(db.store.clone()).await;
    db.drop_database().await;
}
