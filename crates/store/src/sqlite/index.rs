//! Loading the in-memory integration index (`crate::integration_index`) from SQLite.

use super::docs::backend;
use crate::StoreResult;
use crate::integration_index::{Entry, IntegrationIndex, entry_of};
use rusqlite::{Connection, OptionalExtension};
use serde_json::Value;

const SELECT: &str = "SELECT rowid, id, doc FROM integrations";

fn row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, String)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
}

fn to_entry((rowid, id, text): (i64, String, String)) -> Entry {
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(doc)) => entry_of(rowid, id, Some(&doc)),
        _ => entry_of(rowid, id, None),
    }
}

pub fn load(conn: &Connection) -> StoreResult<IntegrationIndex> {
    let mut stmt = conn.prepare(&format!("{SELECT} ORDER BY rowid")).map_err(backend)?;
    let rows = stmt.query_map([], row).map_err(backend)?;
    let mut entries = Vec::new();
    for r in rows {
        entries.push(to_entry(r.map_err(backend)?));
    }
    Ok(IntegrationIndex::from_entries(entries))
}

/// The committed state of one integration, to apply with [`IntegrationIndex::apply`].
pub fn read_entry(conn: &Connection, id: &str) -> StoreResult<Option<Entry>> {
    let found = conn
        .prepare_cached(&format!("{SELECT} WHERE id = ?1"))
        .map_err(backend)?
        .query_row([id], row)
        .optional()
        .map_err(backend)?;
    Ok(found.map(to_entry))
}
