//! Integrations in PostgreSQL. The fields that listings filter and sort on
//! are copied into columns (and `channel` into a side table) so those are answered by indexes.

use super::PgStore;
use super::docs::{conflict_or_backend, exec, id_of, json, one, pg, str_of};
use super::listing::find;
use super::listing_index::CHANGED_PREFIX;
use crate::integration_index;
use crate::tables::INTEGRATIONS;
use crate::{Doc, DocQuery, IntegrationStore, StoreError, StoreResult};
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use serde_json::Value;
use std::sync::atomic::Ordering;

/// Tells every node (this one included) that integration `id` changed: the kind other nodes'
/// caches follow, and the id their listing indexes re-read.
async fn announce(c: &impl GenericClient, id: &str) -> StoreResult<()> {
    super::notify::changed(c, "integrations").await?;
    super::notify::changed(c, &format!("{CHANGED_PREFIX}{id}")).await
}

pub(super) fn created_by(doc: &Doc) -> Option<&str> {
    doc.get("_createdBy").and_then(|c| c.get("_id")).and_then(Value::as_str)
}

async fn put(c: &impl GenericClient, doc: &Doc, insert: bool) -> StoreResult<()> {
    let id = id_of(doc)?;
    let sql = if insert {
        "INSERT INTO integrations (id, type, name, created_by, created_at, updated_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    } else {
        "UPDATE integrations SET type = $2, name = $3, created_by = $4, created_at = $5, updated_at = $6, doc = $7 WHERE id = $1"
    };
    let stmt = c.prepare_cached(sql).await.map_err(pg)?;
    let changed = c
        .execute(
            &stmt,
            &[
                &id,
                &str_of(doc, "type").unwrap_or_default(),
                &str_of(doc, "name").unwrap_or_default(),
                &created_by(doc),
                &str_of(doc, "_createdAt").unwrap_or_default(),
                &str_of(doc, "_updatedAt").or_else(|| str_of(doc, "_createdAt")).unwrap_or_default(),
                &json(doc),
            ],
        )
        .await
        .map_err(|e| conflict_or_backend(e, &[("integrations_pkey", "_id")]))?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    exec(c, "DELETE FROM integration_channels WHERE integration_id = $1", &[&id]).await?;
    if let Some(Value::Array(channels)) = doc.get("channel") {
        for (pos, ch) in channels.iter().enumerate() {
            if let Some(ch) = ch.as_str() {
                exec(
                    c,
                    "INSERT INTO integration_channels (integration_id, channel, pos) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    &[&id, &ch, &(pos as i32)],
                )
                .await?;
            }
        }
    }
    Ok(())
}

impl PgStore {
    /// Writes an integration and tells every node (their listing indexes re-read it).
    async fn put_integration(&self, doc: Doc, insert: bool) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        put(&tx, &doc, insert).await?;
        let id = id_of(&doc)?;
        announce(&tx, id).await?;
        tx.commit().await.map_err(pg)?;
        self.index.mark(id);
        self.integrations_generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }
}

#[async_trait]
impl IntegrationStore for PgStore {
    async fn insert_integration(&self, integration: Doc) -> StoreResult<()> {
        self.put_integration(integration, true).await
    }

    async fn replace_integration(&self, integration: Doc) -> StoreResult<()> {
        self.put_integration(integration, false).await
    }

    async fn delete_integration(&self, id: &str) -> StoreResult<Option<Doc>> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let Some(doc) = one(&tx, "DELETE FROM integrations WHERE id = $1 RETURNING doc", &[&id]).await? else {
            return Ok(None);
        };
        exec(&tx, "DELETE FROM integration_channels WHERE integration_id = $1", &[&id]).await?;
        exec(&tx, "DELETE FROM integration_history WHERE integration_id = $1", &[&id]).await?;
        announce(&tx, id).await?;
        tx.commit().await.map_err(pg)?;
        self.index.mark(id);
        self.integrations_generation.fetch_add(1, Ordering::AcqRel);
        Ok(Some(doc))
    }

    async fn integration_by_id(&self, id: &str) -> StoreResult<Option<Doc>> {
        self.doc_query("SELECT doc FROM integrations WHERE id = $1", &[&id]).await
    }

    async fn integration_by_url(&self, url: &str) -> StoreResult<Option<Doc>> {
        let c = self.conn().await?;
        one(
            &c,
            "SELECT doc FROM integrations WHERE doc->'urls' @> jsonb_build_array($1::text) ORDER BY seq LIMIT 1",
            &[&url],
        )
        .await
    }

    async fn find_integrations(&self, q: DocQuery) -> StoreResult<(Vec<Doc>, usize)> {
        let c = self.conn().await?;
        if !integration_index::answers(&q) {
            return find(&c, &INTEGRATIONS, q).await;
        }
        let Some((ids, total)) = self.index.find(&c, &q, usize::MAX).await? else {
            return find(&c, &INTEGRATIONS, q).await;
        };
        let found = super::docs::rows(&c, "SELECT id, doc FROM integrations WHERE id = ANY($1)", &[&ids]).await?;
        let mut by_id = std::collections::HashMap::with_capacity(found.len());
        for row in &found {
            let id: String = row.try_get(0).map_err(pg)?;
            by_id.insert(id, super::docs::doc_at(row, 1)?);
        }
        // In the index's order; one removed since the match is left out.
        Ok((ids.iter().filter_map(|id| by_id.remove(id)).collect(), total))
    }

    fn integrations_generation(&self) -> u64 {
        self.integrations_generation.load(Ordering::Acquire)
    }
}
