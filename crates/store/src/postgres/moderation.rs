//! Moderation reports in PostgreSQL.

use super::PgStore;
use super::docs::{conflict_or_backend, id_of, json};
use crate::columns::report_keys;
use crate::{Doc, ModerationStore, StoreResult};
use async_trait::async_trait;

#[async_trait]
impl ModerationStore for PgStore {
    async fn insert_report(&self, report: Doc) -> StoreResult<()> {
        let c = self.conn().await?;
        let (message_id, reported_by, ts) = report_keys(&report);
        c.execute(
            "INSERT INTO moderation_reports (id, message_id, reported_by, ts, doc) VALUES ($1, $2, $3, $4, $5)",
            &[&id_of(&report)?, &message_id, &reported_by, &ts, &json(&report)],
        )
        .await
        .map(drop)
        .map_err(|e| conflict_or_backend(e, &[]))
    }
}
