//! Moderation reports in PostgreSQL.

use super::PgStore;
use super::docs::{conflict_or_backend, id_of, json, str_of};
use crate::{Doc, ModerationStore, StoreResult};
use async_trait::async_trait;
use serde_json::Value;

/// A report's `field._id`, or `""`.
fn inner_id<'a>(report: &'a Doc, field: &str) -> &'a str {
    report.get(field).and_then(|v| v.get("_id")).and_then(Value::as_str).unwrap_or_default()
}

#[async_trait]
impl ModerationStore for PgStore {
    async fn insert_report(&self, report: Doc) -> StoreResult<()> {
        let c = self.conn().await?;
        c.execute(
            "INSERT INTO moderation_reports (id, message_id, reported_by, ts, doc) VALUES ($1, $2, $3, $4, $5)",
            &[
                &id_of(&report)?,
                &inner_id(&report, "message"),
                &inner_id(&report, "reportedBy"),
                &str_of(&report, "ts").unwrap_or_default(),
                &json(&report),
            ],
        )
        .await
        .map(drop)
        .map_err(|e| conflict_or_backend(e, &[]))
    }
}
