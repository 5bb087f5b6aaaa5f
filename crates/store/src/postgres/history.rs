//! The history of outgoing calls in PostgreSQL (records are written by the outbox with the end
//! of each attempt: `upsert_histories`).

use super::PgStore;
use super::docs::{exec, id_of, json, str_of};
use super::integrations::created_by;
use super::listing::find;
use crate::tables::HISTORY;
use crate::{Doc, DocQuery, HistoryStore, StoreResult};
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use serde_json::Value;

/// Stores history records with their index columns, in one statement (a record already
/// stored, an attempt's earlier step, is replaced). At most one record per id.
pub(super) async fn upsert_histories(c: &impl GenericClient, docs: &[&Doc]) -> StoreResult<()> {
    if docs.is_empty() {
        return Ok(());
    }
    let n = docs.len();
    let (mut ids, mut integrations, mut owners) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut created, mut updated, mut bodies) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for doc in docs {
        let integration = doc.get("integration").and_then(Value::as_object);
        ids.push(id_of(doc)?);
        integrations.push(integration.and_then(|i| i.get("_id")).and_then(Value::as_str).unwrap_or_default());
        owners.push(integration.and_then(created_by));
        created.push(str_of(doc, "_createdAt").unwrap_or_default());
        updated.push(str_of(doc, "_updatedAt").or_else(|| str_of(doc, "_createdAt")).unwrap_or_default());
        bodies.push(json(doc));
    }
    exec(
        c,
        "INSERT INTO integration_history (id, integration_id, created_by, created_at, updated_at, doc)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[])
         ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, doc = excluded.doc",
        &[&ids, &integrations, &owners, &created, &updated, &bodies],
    )
    .await
    .map(drop)
}

#[async_trait]
impl HistoryStore for PgStore {
    async fn history_by_id(&self, id: &str) -> StoreResult<Option<Doc>> {
        self.doc_query("SELECT doc FROM integration_history WHERE id = $1", &[&id]).await
    }

    async fn find_history(&self, q: DocQuery) -> StoreResult<(Vec<Doc>, usize)> {
        let c = self.conn().await?;
        find(&c, &HISTORY, q).await
    }

    async fn clear_history(&self, integration_id: &str) -> StoreResult<usize> {
        let c = self.conn().await?;
        exec(&c, "DELETE FROM integration_history WHERE integration_id = $1", &[&integration_id])
            .await
            .map(|n| n as usize)
    }

    async fn prune_history(&self, max: Option<usize>, before: Option<String>) -> StoreResult<usize> {
        let c = self.conn().await?;
        let mut deleted = 0;
        if let Some(before) = &before {
            deleted += exec(&c, "DELETE FROM integration_history WHERE created_at < $1", &[before]).await?;
        }
        if let Some(max) = max {
            let max = max as i64;
            let over = super::docs::strings(
                &c,
                "SELECT integration_id FROM integration_history GROUP BY integration_id HAVING count(*) > $1",
                &[&max],
            )
            .await?;
            for integration in over {
                deleted += exec(
                    &c,
                    "DELETE FROM integration_history WHERE integration_id = $1 AND id NOT IN (
                         SELECT id FROM integration_history WHERE integration_id = $1
                         ORDER BY created_at DESC, seq DESC LIMIT $2)",
                    &[&integration, &max],
                )
                .await?;
            }
        }
        Ok(deleted as usize)
    }
}
