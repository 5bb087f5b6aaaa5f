//! Messages in SQLite: the insert that also moves its room's counters, the thread bookkeeping
//! of a reply, deletion with its trash record, and reads by room and by filter (pins, stars,
//! threads, searches, the trash).

use super::SqliteStore;
use super::docs::{backend, conflict_or_backend, exec, id_of, many, one, parse, str_of, text};
use super::listing::find;
use crate::tables::{MESSAGES, TRASH};
use crate::{Doc, DocQuery, MessageQuery, MessageStore, StoreError, StoreResult, trash};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

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
    change_thread_parent(conn, tmid, |parent| crate::thread::count_reply(parent, reply))
}

/// Applies `change` to the first message of thread `tmid`, if it exists.
fn change_thread_parent(conn: &Connection, tmid: &str, change: impl FnOnce(&mut Doc)) -> StoreResult<()> {
    let Some(mut parent) = one(conn, "SELECT doc FROM messages WHERE id = ?1", [tmid])? else { return Ok(()) };
    change(&mut parent);
    exec(conn, "UPDATE messages SET doc = ?2 WHERE id = ?1", params![tmid, text(&parent)])?;
    Ok(())
}

/// Deletes one message, if it exists, with what that changes and its trash record (deleted at
/// `now`); tells whether it existed.
fn delete_one(conn: &Connection, id: &str, now: DateTime<Utc>) -> StoreResult<bool> {
    let found: Option<(String, String)> = conn
        .query_row("SELECT rid, doc FROM messages WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(backend)?;
    let Some((rid, doc)) = found else { return Ok(false) };
    exec(conn, "DELETE FROM messages WHERE id = ?1", [id])?;
    exec(conn, "UPDATE rooms SET msgs = max(0, msgs - 1) WHERE id = ?1", [&rid])?;
    let message = parse(&doc)?;
    if let Some(tmid) = str_of(&message, "tmid") {
        change_thread_parent(conn, tmid, |parent| crate::thread::uncount_replies(parent, 1))?;
    }
    let deleted_at = crate::ids::iso(now);
    let record = trash::record(&message, &deleted_at);
    // A message re-sent with the id of a deleted one and deleted again: the newer deletion counts.
    exec(conn, "DELETE FROM message_trash WHERE id = ?1", [id])?;
    exec(
        conn,
        "INSERT INTO message_trash (id, rid, deleted_at, doc) VALUES (?1, ?2, ?3, ?4)",
        params![id, rid, deleted_at, text(&record)],
    )?;
    Ok(true)
}

/// Drops a batch of the trash records expired at `now`.
fn prune_trash(conn: &Connection, now: DateTime<Utc>) -> StoreResult<()> {
    exec(
        conn,
        "DELETE FROM message_trash WHERE id IN
           (SELECT id FROM message_trash WHERE deleted_at < ?1 ORDER BY deleted_at LIMIT ?2)",
        params![trash::cutoff(now), trash::PRUNE_BATCH],
    )?;
    Ok(())
}

#[async_trait]
impl MessageStore for SqliteStore {
    async fn message_by_id(&self, id: &str) -> StoreResult<Option<Doc>> {
        self.read_one("SELECT doc FROM messages WHERE id = ?1", id).await
    }

    async fn delete_messages(&self, ids: &[String]) -> StoreResult<usize> {
        let ids = ids.to_vec();
        let now = Utc::now();
        self.write(move |c| {
            let mut deleted = 0;
            for id in &ids {
                deleted += usize::from(delete_one(c, id, now)?);
            }
            prune_trash(c, now)?;
            Ok(deleted)
        })
        .await
    }

    async fn room_messages(&self, rid: &str, q: MessageQuery) -> StoreResult<(Vec<Doc>, usize)> {
        let rid = rid.to_owned();
        self.read(move |c| {
            let (lt, gt) = if q.inclusive { ("<=", ">=") } else { ("<", ">") };
            let mut filter = String::from("rid = ?");
            let mut args: Vec<rusqlite::types::Value> = vec![rid.into()];
            if let Some(latest) = q.latest {
                filter.push_str(&format!(" AND ts {lt} ?"));
                args.push(latest.into());
            }
            if let Some(oldest) = q.oldest {
                filter.push_str(&format!(" AND ts {gt} ?"));
                args.push(oldest.into());
            }
            let total: i64 = c
                .prepare_cached(&format!("SELECT count(*) FROM messages WHERE {filter}"))
                .map_err(backend)?
                .query_row(rusqlite::params_from_iter(args.iter()), |r| r.get(0))
                .map_err(backend)?;
            let order = if q.oldest_first { "ASC" } else { "DESC" };
            args.push(q.limit.map(|l| l as i64).unwrap_or(-1).into());
            args.push((q.offset as i64).into());
            let sql =
                format!("SELECT doc FROM messages WHERE {filter} ORDER BY ts {order}, rowid {order} LIMIT ? OFFSET ?");
            let docs = many(c, &sql, rusqlite::params_from_iter(args.iter()))?;
            Ok((docs, total as usize))
        })
        .await
    }

    async fn find_messages(&self, query: DocQuery) -> StoreResult<(Vec<Doc>, usize)> {
        self.read(move |c| find(c, &MESSAGES, query)).await
    }

    async fn find_deleted_messages(&self, query: DocQuery) -> StoreResult<(Vec<Doc>, usize)> {
        self.read(move |c| find(c, &TRASH, query)).await
    }
}
