//! The outbox of outgoing-webhook deliveries in SQLite.
//!
//! A delivery row is inserted by the same writer job (so in the same transaction) as the event
//! that caused it, claimed per URL by the dispatcher (`claimed = 1`), and either deleted or
//! rescheduled together with the history record of the attempt. SQLite has one process per
//! database file, so claims left by a crashed process are simply released at start.

use super::SqliteStore;
use super::docs::{backend, exec, parse, text};
use crate::{AttemptRecord, Claimed, Delivery, OutboxStats, OutboxStore, StoreResult};
use async_trait::async_trait;
use rusqlite::{Connection, params};
use serde_json::Value;

/// A delivery ready to insert: its document already serialised off the writer thread.
struct Row {
    id: String,
    integration_id: String,
    url: String,
    due_at: i64,
    attempt: u32,
    doc: String,
}

fn rows(deliveries: Vec<Delivery>) -> Vec<Row> {
    deliveries
        .into_iter()
        .map(|d| Row {
            doc: text(&d.doc),
            id: d.id,
            integration_id: d.integration_id,
            url: d.url,
            due_at: d.due_at,
            attempt: d.attempt,
        })
        .collect()
}

fn insert_rows(conn: &Connection, rows: &[Row]) -> StoreResult<()> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO outbox (id, integration_id, url, due_at, attempt, claimed, doc) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6)",
        )
        .map_err(backend)?;
    for r in rows {
        stmt.execute(params![r.id, r.integration_id, r.url, r.due_at, r.attempt, r.doc]).map_err(backend)?;
    }
    Ok(())
}

/// A history document with its index columns, serialised before reaching the writer.
struct HistoryRow {
    id: String,
    integration_id: String,
    created_by: Option<String>,
    created_at: String,
    updated_at: String,
    doc: String,
}

fn history_row(doc: &crate::Doc) -> HistoryRow {
    let integration = doc.get("integration").and_then(Value::as_object);
    let s = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    HistoryRow {
        id: s("_id"),
        integration_id: integration.and_then(|i| i.get("_id")).and_then(Value::as_str).unwrap_or_default().to_owned(),
        created_by: integration
            .and_then(|i| i.get("_createdBy"))
            .and_then(|c| c.get("_id"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        created_at: s("_createdAt"),
        updated_at: doc.get("_updatedAt").and_then(Value::as_str).map(str::to_owned).unwrap_or_else(|| s("_createdAt")),
        doc: text(doc),
    }
}

fn put_history(conn: &Connection, h: &HistoryRow) -> StoreResult<()> {
    exec(
        conn,
        "INSERT INTO integration_history (id, integration_id, created_by, created_at, updated_at, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, doc = excluded.doc",
        params![h.id, h.integration_id, h.created_by, h.created_at, h.updated_at, h.doc],
    )
    .map(drop)
}

/// A finished attempt as written: delivery id, the next attempt if any, the history row.
type EndedAttempt = (String, Option<(i64, u32)>, Option<HistoryRow>);

impl SqliteStore {
    /// Runs `f` and, when it says so, inserts the deliveries, all in one writer job.
    pub(super) async fn with_deliveries<R, F>(&self, deliveries: Vec<Delivery>, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<(R, bool)> + Send + 'static,
    {
        let rows = rows(deliveries);
        self.write(move |c| {
            let (result, store) = f(c)?;
            if store && !rows.is_empty() {
                insert_rows(c, &rows)?;
            }
            Ok(result)
        })
        .await
    }
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn claim_due_deliveries(&self, lanes: Vec<(String, usize)>, now: i64) -> StoreResult<Vec<Claimed>> {
        self.write(move |c| {
            let mut out = Vec::with_capacity(lanes.len());
            let mut select = c
                .prepare_cached(
                    "SELECT id, integration_id, due_at, attempt, doc FROM outbox
                     WHERE url = ?1 AND claimed = 0 AND due_at <= ?2 ORDER BY due_at LIMIT ?3",
                )
                .map_err(backend)?;
            let mut claim = c.prepare_cached("UPDATE outbox SET claimed = 1 WHERE id = ?1").map_err(backend)?;
            let mut next =
                c.prepare_cached("SELECT min(due_at) FROM outbox WHERE url = ?1 AND claimed = 0").map_err(backend)?;
            for (url, limit) in lanes {
                let found: Vec<(String, String, i64, u32, String)> = select
                    .query_map(params![url, now, limit as i64], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })
                    .map_err(backend)?
                    .collect::<Result<_, _>>()
                    .map_err(backend)?;
                let mut deliveries = Vec::with_capacity(found.len());
                for (id, integration_id, due_at, attempt, doc) in found {
                    claim.execute([&id]).map_err(backend)?;
                    deliveries.push(Delivery {
                        id,
                        integration_id,
                        url: url.clone(),
                        due_at,
                        attempt,
                        doc: parse(&doc)?,
                    });
                }
                let next_due: Option<i64> = next.query_row([&url], |r| r.get(0)).map_err(backend)?;
                out.push(Claimed { url, deliveries, next_due });
            }
            Ok(out)
        })
        .await
    }

    async fn record_attempts(&self, records: Vec<AttemptRecord>) -> StoreResult<()> {
        let rows: Vec<EndedAttempt> =
            records.into_iter().map(|r| (r.id, r.reschedule, r.history.as_ref().map(history_row))).collect();
        self.write(move |c| {
            let mut delete = c.prepare_cached("DELETE FROM outbox WHERE id = ?1").map_err(backend)?;
            let mut unclaim = c
                .prepare_cached("UPDATE outbox SET claimed = 0, due_at = ?2, attempt = ?3 WHERE id = ?1")
                .map_err(backend)?;
            for (id, reschedule, history) in &rows {
                match reschedule {
                    None => delete.execute([id]).map_err(backend)?,
                    Some((due_at, attempt)) => unclaim.execute(params![id, due_at, attempt]).map_err(backend)?,
                };
                if let Some(h) = history {
                    put_history(c, h)?;
                }
            }
            Ok(())
        })
        .await
    }

    async fn release_claimed_deliveries(&self) -> StoreResult<usize> {
        self.write(|c| exec(c, "UPDATE outbox SET claimed = 0 WHERE claimed <> 0", [])).await
    }

    async fn pending_delivery_urls(&self) -> StoreResult<Vec<(String, i64)>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached("SELECT url, min(due_at) FROM outbox WHERE claimed = 0 GROUP BY url")
                .map_err(backend)?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)
        })
        .await
    }

    async fn outbox_stats(&self) -> StoreResult<OutboxStats> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT count(*), min(due_at) FROM outbox").map_err(backend)?;
            stmt.query_row([], |r| {
                Ok(OutboxStats { pending: r.get::<_, i64>(0)?.max(0) as u64, earliest_due_ms: r.get(1)? })
            })
            .map_err(backend)
        })
        .await
    }
}
