//! The in-memory integration index (`crate::integration_index`) on PostgreSQL, where other
//! nodes change integrations too. Every committed change of an integration also notifies
//! `integration:<id>`; each node marks those ids stale (its own writes at once, without waiting
//! for the notification) and re-reads them before its next indexed listing. After a lost
//! notification connection (`*`) the index is loaded again.

use super::docs::{pg, rows};
use crate::integration_index::{Entry, IntegrationIndex, entry_of};
use crate::{DocQuery, StoreError, StoreResult};
use deadpool_postgres::GenericClient;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tokio::sync::{RwLock, broadcast};

/// The notification kind of one changed integration.
pub const CHANGED_PREFIX: &str = "integration:";

/// Only the listing fields travel; `_createdBy` is trimmed to its `_id` here. A key absent from
/// the document stays absent.
const SELECT: &str = "SELECT seq, id, (SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb) FROM jsonb_each(doc)
     WHERE key IN ('_id', 'type', 'name', '_createdAt', '_updatedAt', 'channel', '_createdBy'))
     FROM integrations";

#[derive(Default)]
struct Stale {
    ids: HashSet<String>,
    everything: bool,
}

pub(super) struct PgIndex {
    index: Arc<RwLock<Option<IntegrationIndex>>>,
    stale: Arc<Mutex<Stale>>,
}

impl PgIndex {
    /// Follows `changes` (every node's notifications) for the life of the process.
    pub fn start(changes: &broadcast::Sender<String>) -> Self {
        let stale: Arc<Mutex<Stale>> = Default::default();
        let mut rx = changes.subscribe();
        let marks = stale.clone();
        tokio::spawn(async move {
            loop {
                let kind = match rx.recv().await {
                    Ok(kind) => kind,
                    Err(broadcast::error::RecvError::Lagged(_)) => super::notify::EVERYTHING.to_owned(),
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let mut stale = marks.lock().expect("stale integrations lock");
                if let Some(id) = kind.strip_prefix(CHANGED_PREFIX) {
                    stale.ids.insert(id.to_owned());
                } else if kind == super::notify::EVERYTHING {
                    stale.everything = true;
                }
            }
        });
        Self { index: Default::default(), stale }
    }

    /// An integration this node changed: re-read before the next listing.
    pub fn mark(&self, id: &str) {
        self.stale.lock().expect("stale integrations lock").ids.insert(id.to_owned());
    }

    /// The ids of one page and the total, when the index answers `q`.
    pub async fn find(
        &self,
        c: &impl GenericClient,
        q: &DocQuery,
        sort_limit: usize,
    ) -> StoreResult<Option<(Vec<String>, usize)>> {
        self.catch_up(c).await?;
        let guard = self.index.clone().read_owned().await;
        let q = q.clone();
        tokio::task::spawn_blocking(move || guard.as_ref().and_then(|ix| ix.find(&q, sort_limit)))
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))
    }

    /// Loads the index, or applies what changed since the last listing. Stale ids are taken
    /// under the write lock, so a listing that finds none waits for the one applying them.
    async fn catch_up(&self, c: &impl GenericClient) -> StoreResult<()> {
        let pending = {
            let stale = self.stale.lock().expect("stale integrations lock");
            stale.everything || !stale.ids.is_empty()
        };
        if !pending && self.index.read().await.is_some() {
            return Ok(());
        }
        let mut guard = self.index.write().await;
        let Stale { ids, everything } = std::mem::take(&mut *self.stale.lock().expect("stale integrations lock"));
        let caught_up = if everything || guard.is_none() {
            load(c).await.map(|ix| *guard = Some(ix))
        } else if ids.is_empty() {
            Ok(())
        } else {
            refresh(c, guard.as_mut().expect("loaded"), ids).await
        };
        if caught_up.is_err() {
            // Load again from scratch at the next listing.
            *guard = None;
        }
        caught_up
    }
}

fn to_entry(row: &tokio_postgres::Row) -> StoreResult<Entry> {
    let seq: i64 = row.try_get(0).map_err(pg)?;
    let id: String = row.try_get(1).map_err(pg)?;
    let doc: Value = row.try_get(2).map_err(pg)?;
    Ok(entry_of(seq, id, doc.as_object()))
}

async fn load(c: &impl GenericClient) -> StoreResult<IntegrationIndex> {
    let found = rows(c, &format!("{SELECT} ORDER BY seq"), &[]).await?;
    Ok(IntegrationIndex::from_entries(found.iter().map(to_entry).collect::<StoreResult<Vec<_>>>()?))
}

/// Applies the committed state of `ids` (gone when no row is left).
async fn refresh(c: &impl GenericClient, index: &mut IntegrationIndex, ids: HashSet<String>) -> StoreResult<()> {
    let wanted: Vec<String> = ids.into_iter().collect();
    let found = rows(c, &format!("{SELECT} WHERE id = ANY($1)"), &[&wanted]).await?;
    let mut gone: HashSet<&str> = wanted.iter().map(String::as_str).collect();
    for row in &found {
        let entry = to_entry(row)?;
        gone.remove(entry.1.as_str());
        let id = entry.1.clone();
        index.apply(&id, Some(entry));
    }
    for id in gone {
        index.apply(id, None);
    }
    Ok(())
}
