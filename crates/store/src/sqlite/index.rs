//! An in-memory copy of the integrations' indexed fields (`_id`, `type`, `name`,
//! `_createdBy._id`, `_createdAt`, `_updatedAt`), so that a listing whose filter reads only
//! those fields, such as a case-insensitive regex on `name`, is answered without reading or
//! parsing stored documents. Loaded on first use; every integration write refreshes its entry
//! after commit by re-reading the row, so the copy always converges to what is committed.

use super::docs::backend;
use crate::{DocQuery, StoreResult};
use rusqlite::{Connection, OptionalExtension};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// Paths the index holds, and so may sort on.
pub const FIELDS: &[&str] = &["_id", "type", "name", "_createdBy._id", "_createdAt", "_updatedAt"];

const SELECT: &str = "SELECT rowid, id, type, name, created_by, created_at, updated_at FROM integrations";

#[derive(Default)]
pub struct IntegrationIndex {
    /// By rowid: insertion order.
    rows: BTreeMap<i64, Value>,
    rowid_of: HashMap<String, i64>,
}

fn slim(row: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, Value)> {
    let rowid: i64 = row.get(0)?;
    let id: String = row.get(1)?;
    let mut m = Map::with_capacity(6);
    m.insert("_id".into(), Value::String(id.clone()));
    m.insert("type".into(), Value::String(row.get(2)?));
    m.insert("name".into(), Value::String(row.get(3)?));
    if let Some(by) = row.get::<_, Option<String>>(4)? {
        let mut c = Map::with_capacity(1);
        c.insert("_id".into(), Value::String(by));
        m.insert("_createdBy".into(), Value::Object(c));
    }
    m.insert("_createdAt".into(), Value::String(row.get(5)?));
    m.insert("_updatedAt".into(), Value::String(row.get(6)?));
    Ok((rowid, id, Value::Object(m)))
}

impl IntegrationIndex {
    pub fn load(conn: &Connection) -> StoreResult<Self> {
        let mut index = Self::default();
        let mut stmt = conn.prepare(SELECT).map_err(backend)?;
        let rows = stmt.query_map([], slim).map_err(backend)?;
        for row in rows {
            let (rowid, id, value) = row.map_err(backend)?;
            index.rowid_of.insert(id, rowid);
            index.rows.insert(rowid, value);
        }
        Ok(index)
    }

    /// The committed state of one integration, to apply with [`IntegrationIndex::apply`].
    pub fn read_entry(conn: &Connection, id: &str) -> StoreResult<Option<(i64, String, Value)>> {
        conn.prepare_cached(&format!("{SELECT} WHERE id = ?1"))
            .map_err(backend)?
            .query_row([id], slim)
            .optional()
            .map_err(backend)
    }

    pub fn apply(&mut self, id: &str, entry: Option<(i64, String, Value)>) {
        if let Some(old) = self.rowid_of.remove(id) {
            self.rows.remove(&old);
        }
        if let Some((rowid, id, value)) = entry {
            self.rowid_of.insert(id, rowid);
            self.rows.insert(rowid, value);
        }
    }

    /// Ids of one page, in order, and the number of matches; `candidates` (rowids in
    /// ascending order) narrows the scan when SQL could pre-select rows.
    pub fn find(&self, q: &DocQuery, candidates: Option<&[i64]>) -> (Vec<String>, usize) {
        let mut matched: Vec<&Value> = match candidates {
            Some(rowids) => rowids.iter().filter_map(|r| self.rows.get(r)).filter(|v| q.filter.matches(v)).collect(),
            None => self.rows.values().filter(|v| q.filter.matches(v)).collect(),
        };
        if let Some(sort) = &q.sort {
            matched.sort_by(|a, b| sort.compare(a, b));
        }
        let total = matched.len();
        let ids = matched
            .into_iter()
            .skip(q.offset)
            .take(q.limit.unwrap_or(usize::MAX))
            .filter_map(|v| v.get("_id").and_then(Value::as_str).map(str::to_owned))
            .collect();
        (ids, total)
    }
}
