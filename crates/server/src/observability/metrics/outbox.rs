//! The outbox gauges, read from the store at each scrape: the outbox is shared by every node on
//! PostgreSQL, so no node's own counters could tell its depth.

use super::families::Metrics;
use std::time::Duration;
use store::Store;
use store::ids::now_ms;

/// How long a scrape waits for the outbox query before keeping the previous values.
const DEADLINE: Duration = Duration::from_secs(2);

pub async fn refresh(m: &Metrics, store: &dyn Store) {
    match tokio::time::timeout(DEADLINE, store.outbox_stats()).await {
        Ok(Ok(stats)) => {
            m.outbox_pending.set(i64::try_from(stats.pending).unwrap_or(i64::MAX));
            let overdue_ms = stats.earliest_due_ms.map(|due| (now_ms() - due).max(0)).unwrap_or(0);
            m.outbox_oldest.set(overdue_ms as f64 / 1000.0);
        }
        Ok(Err(e)) => tracing::warn!(error = %e, "reading the outbox depth for metrics failed"),
        Err(_) => tracing::warn!("reading the outbox depth for metrics timed out"),
    }
}
