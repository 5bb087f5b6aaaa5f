//! The outbox of outgoing-webhook deliveries in PostgreSQL, shared by every node.
//!
//! A delivery row is inserted in the same transaction as the event that caused it. Nodes claim
//! due rows per URL with `FOR UPDATE SKIP LOCKED`, writing their name (`claimed_by`) and a
//! lease (`claimed_until`); a claim whose lease ran out (its node died) may be taken by any
//! node. Finishing an attempt deletes or reschedules the row only while this node still holds
//! the claim, and stores the attempt's history in the same transaction, so a delivery
//! completes once and its history shows one completed attempt.

use super::APP_PREFIX;
use super::PgStore;
use super::docs::{doc_at, exec, pg, rows, str_of, strings};
use super::history::upsert_histories;
use crate::{AttemptRecord, Claimed, Delivery, Doc, OutboxStats, OutboxStore, StoreResult};
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;
use std::sync::atomic::Ordering;

/// Not claimed, or claimed by a node whose lease ran out, or by a node that has no connection
/// to the database any more (it died: every connection of a node carries its name).
fn free(now: &str) -> String {
    format!(
        "(claimed_until IS NULL OR claimed_until < {now} OR claimed_by NOT IN (
             SELECT substr(application_name, {}) FROM pg_stat_activity WHERE application_name LIKE '{APP_PREFIX}%'))",
        APP_PREFIX.len() + 1
    )
}

/// The earliest due time among the free deliveries to `url`, leaving out those `also` (a
/// condition, or `true`) excludes; SQL expressions all. Walks the URL's index in due order and
/// stops at the first free row, so it reads past the rows in flight, not the whole backlog.
fn earliest_free(url: &str, now: &str, also: &str) -> String {
    format!("(SELECT due_at FROM outbox WHERE url = {url} AND {} AND {also} ORDER BY due_at LIMIT 1)", free(now))
}

/// The claim of every lane at once (see `claim_due_deliveries`): `$1` URLs, `$2` how many per
/// URL, `$3` now, `$4` this node, `$5` the lease's end. Built once: the dispatcher runs it all
/// the time.
static CLAIM: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH picked AS (
             SELECT p.id FROM unnest($1::text[], $2::int8[]) AS lane(url, lim) CROSS JOIN LATERAL (
                 SELECT id FROM outbox WHERE url = lane.url AND due_at <= $3 AND {}
                 ORDER BY due_at, seq LIMIT lane.lim FOR UPDATE SKIP LOCKED) p
         ), claimed AS (
             UPDATE outbox o SET claimed_by = $4, claimed_until = $5 WHERE o.id = ANY(ARRAY(SELECT id FROM picked))
             RETURNING o.url, o.id, o.integration_id, o.due_at, o.attempt, o.doc, o.seq
         )
         SELECT url, id, integration_id, due_at, attempt, doc, seq FROM claimed
         UNION ALL
         SELECT lane.url, NULL, NULL, {}, NULL, NULL, NULL FROM unnest($1::text[]) AS lane(url)",
        free("$3"),
        earliest_free("lane.url", "$3", "id <> ALL(ARRAY(SELECT id FROM picked))")
    )
});

/// Every URL with free deliveries and the earliest of them (`$1` now).
static PENDING_URLS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH RECURSIVE urls AS (
             SELECT min(url) AS url FROM outbox
             UNION ALL
             SELECT (SELECT min(url) FROM outbox WHERE url > urls.url) FROM urls WHERE urls.url IS NOT NULL)
         SELECT url, {} FROM urls WHERE url IS NOT NULL",
        earliest_free("urls.url", "$1", "true")
    )
});

#[async_trait]
impl OutboxStore for PgStore {
    /// Claims every lane's due deliveries in one statement, whatever the number of lanes (the
    /// dispatcher waits for it, so its round trips and commits bound the delivery rate): one
    /// locked pick per lane, the picked rows updated by key (not by a join the planner may run
    /// over the whole outbox), and each lane's next due time as rows without an id. That
    /// statement reads the outbox as it was before the claim, so it leaves the picked rows out.
    async fn claim_due_deliveries(&self, lanes: Vec<(String, usize)>, now: i64) -> StoreResult<Vec<Claimed>> {
        let c = self.conn().await?;
        let until = now + self.lease_ms();
        let urls: Vec<&str> = lanes.iter().map(|(url, _)| url.as_str()).collect();
        let limits: Vec<i64> = lanes.iter().map(|(_, limit)| *limit as i64).collect();
        let found_rows = rows(&c, &CLAIM, &[&urls, &limits, &now, &self.node_id, &until]).await?;
        let (claimed, next_due): (Vec<_>, Vec<_>) =
            found_rows.iter().partition(|r| matches!(r.try_get::<_, Option<&str>>(1), Ok(Some(_))));
        let mut found: HashMap<String, Vec<(i64, Delivery)>> = HashMap::with_capacity(lanes.len());
        for r in claimed {
            let url: String = r.try_get(0).map_err(pg)?;
            let attempt: i32 = r.try_get(4).map_err(pg)?;
            let delivery = Delivery {
                id: r.try_get(1).map_err(pg)?,
                integration_id: r.try_get(2).map_err(pg)?,
                url: url.clone(),
                due_at: r.try_get(3).map_err(pg)?,
                attempt: attempt.max(0) as u32,
                doc: doc_at(r, 5)?,
            };
            found.entry(url).or_default().push((r.try_get(6).map_err(pg)?, delivery));
        }
        let mut next: HashMap<String, i64> = HashMap::with_capacity(next_due.len());
        for r in next_due {
            if let Some(due) = r.try_get::<_, Option<i64>>(3).map_err(pg)? {
                next.insert(r.try_get(0).map_err(pg)?, due);
            }
        }
        Ok(lanes
            .into_iter()
            .map(|(url, _)| {
                let mut picked = found.remove(&url).unwrap_or_default();
                // RETURNING promises no order: oldest due first, as claimed.
                picked.sort_by_key(|(seq, d)| (d.due_at, *seq));
                let next_due = next.get(&url).copied();
                Claimed { url, deliveries: picked.into_iter().map(|(_, d)| d).collect(), next_due }
            })
            .collect())
    }

    /// Deletes (`reschedule: None`) or unclaims deliveries this node still holds, each with its
    /// attempt's history, in three statements whatever the batch's size; a delivery whose
    /// claim was lost is left to the node that holds it.
    async fn record_attempts(&self, records: Vec<AttemptRecord>) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let started = std::time::Instant::now();
        let tx = c.transaction().await.map_err(pg)?;
        let finished: Vec<&str> = records.iter().filter(|r| r.reschedule.is_none()).map(|r| r.id.as_str()).collect();
        let (mut again, mut due, mut attempts) = (Vec::new(), Vec::new(), Vec::new());
        for r in &records {
            if let Some((due_at, attempt)) = r.reschedule {
                again.push(r.id.as_str());
                due.push(due_at);
                attempts.push(attempt as i32);
            }
        }
        let mut held: HashSet<String> = HashSet::with_capacity(records.len());
        if !finished.is_empty() {
            let sql = "DELETE FROM outbox WHERE id = ANY($1) AND claimed_by = $2 RETURNING id";
            held.extend(strings(&tx, sql, &[&finished, &self.node_id]).await?);
        }
        if !again.is_empty() {
            let sql =
                "UPDATE outbox o SET claimed_by = NULL, claimed_until = NULL, due_at = v.due_at, attempt = v.attempt
                       FROM unnest($1::text[], $3::int8[], $4::int4[]) AS v(id, due_at, attempt)
                       WHERE o.id = v.id AND o.claimed_by = $2 RETURNING o.id";
            held.extend(strings(&tx, sql, &[&again, &self.node_id, &due, &attempts]).await?);
        }
        // One record per history id: the last one of the batch is the latest step.
        let mut histories: HashMap<&str, &Doc> = HashMap::with_capacity(records.len());
        for r in &records {
            if !held.contains(&r.id) {
                tracing::warn!(delivery = %r.id, "claim lost before the attempt was recorded; left to its new owner");
                continue;
            }
            if let Some(h) = &r.history {
                histories.insert(str_of(h, "_id").unwrap_or_default(), h);
            }
        }
        upsert_histories(&tx, &histories.into_values().collect::<Vec<_>>()).await?;
        tx.commit().await.map_err(pg)?;
        self.commit_observer.committed(records.len(), started);
        Ok(())
    }

    /// Gives back this node's claims (on a clean stop), so other nodes take them at once.
    async fn release_claimed_deliveries(&self) -> StoreResult<usize> {
        let c = self.conn().await?;
        exec(&c, "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = $1", &[&self.node_id])
            .await
            .map(|n| n as usize)
    }

    /// Every node's deliveries: the table is the shared outbox.
    async fn outbox_stats(&self) -> StoreResult<OutboxStats> {
        let c = self.conn().await?;
        let found = rows(&c, "SELECT count(*), min(due_at) FROM outbox", &[]).await?;
        let Some(r) = found.first() else { return Ok(OutboxStats::default()) };
        let pending: i64 = r.try_get(0).map_err(pg)?;
        Ok(OutboxStats { pending: pending.max(0) as u64, earliest_due_ms: r.try_get(1).map_err(pg)? })
    }

    /// Each URL of the outbox found by skipping through its index (one probe per URL, however
    /// long the backlog: every node runs this a few times a second), then its earliest free
    /// delivery.
    async fn pending_delivery_urls(&self) -> StoreResult<Vec<(String, i64)>> {
        let now = chrono::Utc::now().timestamp_millis();
        let c = self.conn().await?;
        let mut pending = Vec::new();
        for r in rows(&c, &PENDING_URLS, &[&now]).await? {
            if let Some(due) = r.try_get::<_, Option<i64>>(1).map_err(pg)? {
                pending.push((r.try_get(0).map_err(pg)?, due));
            }
        }
        Ok(pending)
    }

    fn set_claim_lease(&self, ms: i64) {
        self.lease_ms.store(ms.max(1), Ordering::Relaxed);
    }
}
