//! SQLite rows of messages: the insert that also moves its room's counters, and the thread
//! bookkeeping of a reply.

use super::docs::{backend, conflict_or_backend, exec, id_of, one, str_of, text};
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

/// Counts a thread reply on its thread's first message, inside the writer's transaction.
pub(super) fn count_thread_reply(conn: &Connection, reply: &Doc) -> StoreResult<()> {
    let Some(tmid) = str_of(reply, "tmid") else { return Ok(()) };
    let Some(mut parent) = one(conn, "SELECT doc FROM messages WHERE id = ?1", [tmid])? else { return Ok(()) };
    crate::thread::count_reply(&mut parent, reply);
    exec(conn, "UPDATE messages SET doc = ?2 WHERE id = ?1", params![tmid, text(&parent)])?;
    Ok(())
}
