//! SQLite rows of messages: the insert that also moves its room's counters.

use super::docs::{backend, conflict_or_backend, exec, id_of, str_of, text};
use crate::{Doc, StoreError, StoreResult};
use rusqlite::{Connection, params};

pub(super) fn put_message(conn: &Connection, msg: &Doc) -> StoreResult<()> {
    let id = id_of(msg)?;
    let rid = str_of(msg, "rid").ok_or(StoreError::Backend("message without rid".into()))?;
    let ts = str_of(msg, "ts").unwrap_or_default();
    let body = text(msg);
    conn.prepare_cached("INSERT INTO messages (id, rid, ts, doc) VALUES (?1, ?2, ?3, ?4)")
        .map_err(backend)?
        .execute(params![id, rid, ts, body])
        .map_err(|e| conflict_or_backend(e, &[("messages.id", "_id")]))?;
    exec(conn, "UPDATE rooms SET msgs = msgs + 1, lm = ?2, last_message = ?3 WHERE id = ?1", params![rid, ts, body])?;
    Ok(())
}
