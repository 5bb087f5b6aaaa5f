//! Integrations and their history in PostgreSQL. The fields that listings filter and sort on
//! are copied into columns (and `channel` into a side table) so those are answered by indexes.

use super::PgStore;
use super::docs::{conflict_or_backend, exec, id_of, json, one, pg, str_of};
use super::listing::find;
use super::listing_index::CHANGED_PREFIX;
use crate::integration_index;
use crate::tables::{HISTORY, INTEGRATIONS};
use crate::{Doc, DocQuery, StoreError, StoreResult};
use deadpool_postgres::GenericClient;
use serde_json::Value;

/// Tells every node (this one included) that integration `id` changed: the kind other nodes'
/// caches follow, and the id their listing indexes re-read.
async fn announce(c: &impl GenericClient, id: &str) -> StoreResult<()> {
    super::notify::changed(c, "integrations").await?;
    super::notify::changed(c, &format!("{CHANGED_PREFIX}{id}")).await
}

fn created_by(doc: &Doc) -> Option<&str> {
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

/// A history record's index columns.
pub(super) async fn upsert_history(c: &impl GenericClient, doc: &Doc) -> StoreResult<()> {
    let integration = doc.get("integration").and_then(Value::as_object);
    exec(
        c,
        "INSERT INTO integration_history (id, integration_id, created_by, created_at, updated_at, doc) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, doc = excluded.doc",
        &[
            &id_of(doc)?,
            &integration.and_then(|i| i.get("_id")).and_then(Value::as_str).unwrap_or_default(),
            &integration.and_then(created_by),
            &str_of(doc, "_createdAt").unwrap_or_default(),
            &str_of(doc, "_updatedAt").or_else(|| str_of(doc, "_createdAt")).unwrap_or_default(),
            &json(doc),
        ],
    )
    .await
    .map(drop)
}

impl PgStore {
    pub(super) async fn integration_write(&self, doc: Doc, insert: bool) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        put(&tx, &doc, insert).await?;
        let id = id_of(&doc)?;
        announce(&tx, id).await?;
        tx.commit().await.map_err(pg)?;
        self.index.mark(id);
        self.bump_integrations_generation();
        Ok(())
    }

    pub(super) async fn integration_delete(&self, id: &str) -> StoreResult<Option<Doc>> {
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
        self.bump_integrations_generation();
        Ok(Some(doc))
    }

    pub(super) async fn integration_with_url(&self, url: &str) -> StoreResult<Option<Doc>> {
        let c = self.conn().await?;
        one(
            &c,
            "SELECT doc FROM integrations WHERE doc->'urls' @> jsonb_build_array($1::text) ORDER BY seq LIMIT 1",
            &[&url],
        )
        .await
    }

    pub(super) async fn integrations_find(&self, q: DocQuery) -> StoreResult<(Vec<Doc>, usize)> {
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

    pub(super) async fn history_find(&self, q: DocQuery) -> StoreResult<(Vec<Doc>, usize)> {
        let c = self.conn().await?;
        find(&c, &HISTORY, q).await
    }

    pub(super) async fn history_clear(&self, integration_id: &str) -> StoreResult<usize> {
        let c = self.conn().await?;
        exec(&c, "DELETE FROM integration_history WHERE integration_id = $1", &[&integration_id])
            .await
            .map(|n| n as usize)
    }

    pub(super) async fn history_prune(&self, max: Option<usize>, before: Option<String>) -> StoreResult<usize> {
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
