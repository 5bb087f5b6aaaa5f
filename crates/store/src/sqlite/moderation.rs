//! Moderation reports in SQLite.

use super::SqliteStore;
use super::docs::{conflict_or_backend, id_of, text};
use crate::{Doc, ModerationStore, StoreResult};
use async_trait::async_trait;
use rusqlite::params;
use serde_json::Value;

/// A report's `field._id`, or `""`.
fn inner_id<'a>(report: &'a Doc, field: &str) -> &'a str {
    report.get(field).and_then(|v| v.get("_id")).and_then(Value::as_str).unwrap_or_default()
}

#[async_trait]
impl ModerationStore for SqliteStore {
    async fn insert_report(&self, report: Doc) -> StoreResult<()> {
        self.write(move |c| {
            let ts = report.get("ts").and_then(Value::as_str).unwrap_or_default();
            c.prepare_cached(
                "INSERT INTO moderation_reports (id, message_id, reported_by, ts, doc) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(super::docs::backend)?
            .execute(params![
                id_of(&report)?,
                inner_id(&report, "message"),
                inner_id(&report, "reportedBy"),
                ts,
                text(&report)
            ])
            .map_err(|e| conflict_or_backend(e, &[]))?;
            Ok(())
        })
        .await
    }
}
