//! Integrations by id, in memory: the `/hooks` hot path reads them here instead of the store.
//! Every change through the API calls [`IntegrationCache::invalidate`].

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use store::{Doc, Store, StoreResult};

#[derive(Default)]
pub struct IntegrationCache {
    by_id: RwLock<HashMap<String, Option<Arc<Doc>>>>,
}

/// Bound on remembered ids (misses included), so unknown ids cannot grow it without limit.
const MAX_ENTRIES: usize = 200_000;

impl IntegrationCache {
    pub async fn get(&self, store: &dyn Store, id: &str) -> StoreResult<Option<Arc<Doc>>> {
        if let Some(hit) = self.by_id.read().expect("integration cache lock").get(id) {
            return Ok(hit.clone());
        }
        let loaded = store.integration_by_id(id).await?.map(Arc::new);
        let mut map = self.by_id.write().expect("integration cache lock");
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, v| v.is_some());
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert(id.to_owned(), loaded.clone());
        Ok(loaded)
    }

    /// Forgets every integration (another node changed some).
    pub fn clear(&self) {
        self.by_id.write().expect("integration cache lock").clear();
    }

    pub fn invalidate(&self, id: &str) {
        self.by_id.write().expect("integration cache lock").remove(id);
    }
}
