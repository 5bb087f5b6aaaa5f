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

#[async_trait]
impl OutboxStore for PgStore {
    async fn claim_due_deliveries(&self, lanes: Vec<(String, usize)>, now: i64) -> StoreResult<Vec<Claimed>> {
        let mut c = self.conn().await?;
        let until = now + self.lease_ms();
        let mut out = Vec::with_capacity(lanes.len());
        for (url, limit) in lanes {
            let tx = c.transaction().await.map_err(pg)?;
            let claimed = rows(
                &tx,
                &format!(
                    "WITH picked AS (
                         SELECT id FROM outbox WHERE url = $1 AND due_at <= $2 AND {}
                         ORDER BY due_at, seq LIMIT $3 FOR UPDATE SKIP LOCKED)
                     UPDATE outbox o SET claimed_by = $4, claimed_until = $5 FROM picked WHERE o.id = picked.id
                     RETURNING o.id, o.integration_id, o.due_at, o.attempt, o.doc, o.seq",
                    free("$2")
                ),
                &[&url, &now, &(limit as i64), &self.node_id, &until],
            )
            .await?;
            let next_due: Option<i64> =
                rows(&tx, &format!("SELECT min(due_at) FROM outbox WHERE url = $1 AND {}", free("$2")), &[&url, &now])
                    .await?
                    .first()
                    .and_then(|r| r.get(0));
            tx.commit().await.map_err(pg)?;
            let mut found = Vec::with_capacity(claimed.len());
            for r in &claimed {
                let attempt: i32 = r.try_get(3).map_err(pg)?;
                let seq: i64 = r.try_get(5).map_err(pg)?;
                found.push((
                    seq,
                    Delivery {
                        id: r.try_get(0).map_err(pg)?,
                        integration_id: r.try_get(1).map_err(pg)?,
                        url: url.clone(),
                        due_at: r.try_get(2).map_err(pg)?,
                        attempt: attempt.max(0) as u32,
                        doc: doc_at(r, 4)?,
                    },
                ));
            }
            // RETURNING promises no order: oldest due first, as claimed.
            found.sort_by_key(|(seq, d)| (d.due_at, *seq));
            out.push(Claimed { url, deliveries: found.into_iter().map(|(_, d)| d).collect(), next_due });
        }
        Ok(out)
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

    async fn pending_delivery_urls(&self) -> StoreResult<Vec<(String, i64)>> {
        let now = chrono::Utc::now().timestamp_millis();
        let c = self.conn().await?;
        rows(&c, &format!("SELECT url, min(due_at) FROM outbox WHERE {} GROUP BY url", free("$1")), &[&now])
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0).map_err(pg)?, r.try_get(1).map_err(pg)?)))
            .collect()
    }

    fn set_claim_lease(&self, ms: i64) {
        self.lease_ms.store(ms.max(1), Ordering::Relaxed);
    }
}
