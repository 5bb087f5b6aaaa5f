//! Integrations in SQLite. The fields that listings filter and sort on are
//! copied into columns (and `channel` into a side table) so those are answered by indexes.

use super::SqliteStore;
use super::docs::{backend, exec, id_of, one, str_of, text};
use super::index;
use super::listing::{find, fully_pushed};
use crate::integration_index;
use crate::tables::INTEGRATIONS;
use crate::{Doc, DocQuery, IntegrationStore, StoreError, StoreResult};
use async_trait::async_trait;
use rusqlite::{Connection, params};
use serde_json::Value;
use std::sync::atomic::Ordering;

/// Above this many matches, a query SQL answers whole is sorted by SQL rather than in memory.
const SORT_IN_MEMORY_MAX: usize = 5_000;

fn created_by(doc: &Doc) -> Option<&str> {
    doc.get("_createdBy").and_then(|c| c.get("_id")).and_then(Value::as_str)
}

fn put(conn: &Connection, doc: &Doc, insert: bool) -> StoreResult<()> {
    let id = id_of(doc)?;
    let sql = if insert {
        "INSERT INTO integrations (id, type, name, created_by, created_at, updated_at, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    } else {
        "UPDATE integrations SET type = ?2, name = ?3, created_by = ?4, created_at = ?5, updated_at = ?6, doc = ?7 WHERE id = ?1"
    };
    let changed = conn
        .prepare_cached(sql)
        .map_err(backend)?
        .execute(params![
            id,
            str_of(doc, "type").unwrap_or_default(),
            str_of(doc, "name").unwrap_or_default(),
            created_by(doc),
            str_of(doc, "_createdAt").unwrap_or_default(),
            str_of(doc, "_updatedAt").or_else(|| str_of(doc, "_createdAt")).unwrap_or_default(),
            text(doc)
        ])
        .map_err(|e| super::docs::conflict_or_backend(e, &[("integrations.id", "_id")]))?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    exec(conn, "DELETE FROM integration_channels WHERE integration_id = ?1", [id])?;
    if let Some(Value::Array(channels)) = doc.get("channel") {
        for (pos, c) in channels.iter().enumerate() {
            if let Some(c) = c.as_str() {
                exec(
                    conn,
                    "INSERT OR IGNORE INTO integration_channels (integration_id, channel, pos) VALUES (?1, ?2, ?3)",
                    params![id, c, pos as i64],
                )?;
            }
        }
    }
    Ok(())
}

impl SqliteStore {
    /// Brings the in-memory index up to date with the committed row of `id`. Reading and
    /// applying under the index lock keeps concurrent refreshes in commit order.
    async fn refresh_index(&self, id: String) -> StoreResult<()> {
        if self.integration_index.read().expect("integration index lock").is_none() {
            return Ok(());
        }
        let index = self.integration_index.clone();
        self.read(move |c| {
            let mut guard = index.write().expect("integration index lock");
            if let Some(ix) = guard.as_mut() {
                ix.apply(&id, index::read_entry(c, &id)?);
            }
            Ok(())
        })
        .await
    }

    async fn ensure_index(&self) -> StoreResult<()> {
        if self.integration_index.read().expect("integration index lock").is_some() {
            return Ok(());
        }
        let index = self.integration_index.clone();
        self.read(move |c| {
            let mut guard = index.write().expect("integration index lock");
            if guard.is_none() {
                *guard = Some(index::load(c)?);
            }
            Ok(())
        })
        .await
    }

    /// Writes an integration and brings the index up to date, then moves the generation
    /// (whether or not the write went through), so whoever sees the new generation also finds
    /// the change in the index.
    async fn put_integration(&self, doc: Doc, insert: bool) -> StoreResult<()> {
        let id = id_of(&doc)?.to_owned();
        let done = match self.write(move |c| put(c, &doc, insert)).await {
            Ok(()) => self.refresh_index(id).await,
            Err(e) => Err(e),
        };
        self.integrations_generation.fetch_add(1, Ordering::AcqRel);
        done
    }
}

#[async_trait]
impl IntegrationStore for SqliteStore {
    async fn insert_integration(&self, doc: Doc) -> StoreResult<()> {
        self.put_integration(doc, true).await
    }

    async fn replace_integration(&self, doc: Doc) -> StoreResult<()> {
        self.put_integration(doc, false).await
    }

    async fn delete_integration(&self, id: &str) -> StoreResult<Option<Doc>> {
        let id = id.to_owned();
        let key = id.clone();
        let deleted = self
            .write(move |c| {
                let Some(doc) = one(c, "SELECT doc FROM integrations WHERE id = ?1", [&id])? else { return Ok(None) };
                exec(c, "DELETE FROM integration_channels WHERE integration_id = ?1", [&id])?;
                exec(c, "DELETE FROM integration_history WHERE integration_id = ?1", [&id])?;
                exec(c, "DELETE FROM integrations WHERE id = ?1", [&id])?;
                Ok(Some(doc))
            })
            .await;
        let done = match deleted {
            Ok(deleted) => self.refresh_index(key).await.map(|()| deleted),
            Err(e) => Err(e),
        };
        self.integrations_generation.fetch_add(1, Ordering::AcqRel);
        done
    }

    async fn integration_by_id(&self, id: &str) -> StoreResult<Option<Doc>> {
        self.read_one("SELECT doc FROM integrations WHERE id = ?1", id).await
    }

    async fn integration_by_url(&self, url: &str) -> StoreResult<Option<Doc>> {
        let url = url.to_owned();
        self.read(move |c| {
            one(
                c,
                "SELECT doc FROM integrations WHERE EXISTS (SELECT 1 FROM json_each(integrations.doc, '$.urls') u WHERE u.value = ?1) ORDER BY rowid LIMIT 1",
                [url],
            )
        })
        .await
    }

    async fn find_integrations(&self, q: DocQuery) -> StoreResult<(Vec<Doc>, usize)> {
        if !integration_index::answers(&q) {
            return self.read(move |c| find(c, &INTEGRATIONS, q)).await;
        }
        // The filter and order read only fields the in-memory index holds: match there off the
        // async runtime, then load just the page. Sorting many matches is left to SQL's indexes
        // when SQL answers the whole query.
        self.ensure_index().await?;
        let sort_limit = if fully_pushed(&INTEGRATIONS, &q) { SORT_IN_MEMORY_MAX } else { usize::MAX };
        let index = self.integration_index.clone();
        let probe = q.clone();
        let found = tokio::task::spawn_blocking(move || {
            let guard = index.read().expect("integration index lock");
            guard.as_ref().and_then(|ix| ix.find(&probe, sort_limit))
        })
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))?;
        let Some((ids, total)) = found else {
            return self.read(move |c| find(c, &INTEGRATIONS, q)).await;
        };
        let docs = self
            .read(move |c| {
                let mut docs = Vec::with_capacity(ids.len());
                for id in &ids {
                    docs.extend(one(c, "SELECT doc FROM integrations WHERE id = ?1", [id])?);
                }
                Ok(docs)
            })
            .await?;
        Ok((docs, total))
    }

    fn integrations_generation(&self) -> u64 {
        self.integrations_generation.load(Ordering::Acquire)
    }
}
