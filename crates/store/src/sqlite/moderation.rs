//! Moderation reports in SQLite.

use super::SqliteStore;
use super::docs::{conflict_or_backend, id_of, text};
use crate::columns::report_keys;
use crate::{Doc, ModerationStore, StoreResult};
use async_trait::async_trait;
use rusqlite::params;

#[async_trait]
impl ModerationStore for SqliteStore {
    async fn insert_report(&self, report: Doc) -> StoreResult<()> {
        self.write(move |c| {
            let (message_id, reported_by, ts) = report_keys(&report);
            c.prepare_cached(
                "INSERT INTO moderation_reports (id, message_id, reported_by, ts, doc) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(super::docs::backend)?
            .execute(params![id_of(&report)?, message_id, reported_by, ts, text(&report)])
            .map_err(|e| conflict_or_backend(e, &[]))?;
            Ok(())
        })
        .await
    }
}
