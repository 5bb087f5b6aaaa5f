//! The history of outgoing calls in SQLite (records are written by the outbox with the end of
//! each attempt).

use super::SqliteStore;
use super::docs::{backend, exec};
use super::listing::find;
use crate::tables::HISTORY;
use crate::{Doc, DocQuery, HistoryStore, StoreResult};
use async_trait::async_trait;
use rusqlite::params;

#[async_trait]
impl HistoryStore for SqliteStore {
    async fn history_by_id(&self, id: &str) -> StoreResult<Option<Doc>> {
        self.read_one("SELECT doc FROM integration_history WHERE id = ?1", id).await
    }

    async fn find_history(&self, q: DocQuery) -> StoreResult<(Vec<Doc>, usize)> {
        self.read(move |c| find(c, &HISTORY, q)).await
    }

    async fn clear_history(&self, integration_id: &str) -> StoreResult<usize> {
        let id = integration_id.to_owned();
        self.write(move |c| exec(c, "DELETE FROM integration_history WHERE integration_id = ?1", [id])).await
    }

    async fn prune_history(&self, max: Option<usize>, before: Option<String>) -> StoreResult<usize> {
        self.write(move |c| {
            let mut deleted = 0;
            if let Some(before) = &before {
                deleted += exec(c, "DELETE FROM integration_history WHERE created_at < ?1", [before])?;
            }
            if let Some(max) = max {
                let over: Vec<String> = {
                    let mut stmt = c
                        .prepare_cached(
                            "SELECT integration_id FROM integration_history GROUP BY integration_id HAVING count(*) > ?1",
                        )
                        .map_err(backend)?;
                    let rows = stmt.query_map([max as i64], |r| r.get(0)).map_err(backend)?;
                    rows.collect::<Result<_, _>>().map_err(backend)?
                };
                for integration in over {
                    deleted += exec(
                        c,
                        "DELETE FROM integration_history WHERE integration_id = ?1 AND id NOT IN (
                             SELECT id FROM integration_history WHERE integration_id = ?1
                             ORDER BY created_at DESC, rowid DESC LIMIT ?2)",
                        params![integration, max as i64],
                    )?;
                }
            }
            Ok(deleted)
        })
        .await
    }
}
