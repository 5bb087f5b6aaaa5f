//! Messages in PostgreSQL: reads by room and by filter (pins, stars, threads, searches, the
//! trash), the thread bookkeeping of a reply, and deletion with its trash record (new messages
//! are written by `rooms` with their room's counters, in groups by `message_batch`).

use super::PgStore;
use super::docs::{doc_at, exec, id_of, one, pg, rows};
use super::listing::find;
use crate::tables::{MESSAGES, TRASH};
use crate::{Doc, DocQuery, MessageQuery, MessageStore, StoreResult, trash};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use std::collections::BTreeMap;
use tokio_postgres::types::{Json, ToSql};

/// Counts a thread reply on its thread's first message, locked for the rest of the
/// transaction that stores the reply.
pub(super) async fn count_thread_reply(c: &impl GenericClient, reply: &Doc) -> StoreResult<()> {
    let Some(tmid) = reply.get("tmid").and_then(serde_json::Value::as_str) else { return Ok(()) };
    change_thread_parent(c, tmid, |parent| crate::thread::count_reply(parent, reply)).await
}

/// Applies `change` to the first message of thread `tmid`, if it exists, locked for the rest of
/// the transaction.
async fn change_thread_parent(c: &impl GenericClient, tmid: &str, change: impl FnOnce(&mut Doc)) -> StoreResult<()> {
    let Some(mut parent) = one(c, "SELECT doc FROM messages WHERE id = $1 FOR UPDATE", &[&tmid]).await? else {
        return Ok(());
    };
    change(&mut parent);
    exec(c, "UPDATE messages SET doc = $2 WHERE id = $1", &[&tmid, &Json(&parent)]).await.map(drop)
}

/// Deletes those of `ids` that exist, set-wise: their rows, what they counted in their rooms
/// and threads, and their trash records (deleted at `now`). Returns how many were deleted.
async fn delete_all(c: &impl GenericClient, ids: &[String], now: DateTime<Utc>) -> StoreResult<usize> {
    // Every message row this changes (the messages, their threads' first messages) locked
    // first and in id order, then the rooms: deleters of a thread and of its replies at once
    // queue instead of deadlocking.
    exec(
        c,
        "SELECT 1 FROM messages WHERE id = ANY($1)
            OR id IN (SELECT doc->>'tmid' FROM messages WHERE id = ANY($1))
         ORDER BY id FOR UPDATE",
        &[&ids],
    )
    .await?;
    let deleted = rows(c, "DELETE FROM messages WHERE id = ANY($1) RETURNING rid, doc", &[&ids]).await?;
    let deleted_at = crate::ids::iso(now);
    let mut per_room: BTreeMap<String, i64> = BTreeMap::new();
    let mut per_thread: BTreeMap<String, i64> = BTreeMap::new();
    let (mut trash_ids, mut trash_rids, mut records) = (Vec::new(), Vec::new(), Vec::new());
    for row in &deleted {
        let rid: String = row.try_get(0).map_err(pg)?;
        let message = doc_at(row, 1)?;
        *per_room.entry(rid.clone()).or_default() += 1;
        if let Some(tmid) = message.get("tmid").and_then(serde_json::Value::as_str) {
            *per_thread.entry(tmid.to_owned()).or_default() += 1;
        }
        trash_ids.push(id_of(&message)?.to_owned());
        trash_rids.push(rid);
        records.push(trash::record(&message, &deleted_at));
    }
    // Taken off the room row, which may go below zero as long as the room's total does not
    // (what messages added is in its counter rows, see `rooms`). Rooms in id order, so that
    // deleters in several rooms lock them alike.
    for (rid, n) in &per_room {
        exec(
            c,
            "UPDATE rooms SET msgs = msgs - least($2::int8, greatest(0,
                 msgs + coalesce((SELECT sum(c.msgs) FROM room_counters c WHERE c.rid = $1), 0))::int8)
             WHERE id = $1",
            &[rid, n],
        )
        .await?;
    }
    for (tmid, &n) in &per_thread {
        change_thread_parent(c, tmid, |parent| crate::thread::uncount_replies(parent, n)).await?;
    }
    // A message re-sent with the id of a deleted one and deleted again: the newer deletion counts.
    exec(c, "DELETE FROM message_trash WHERE id = ANY($1)", &[&trash_ids]).await?;
    let records: Vec<Json<&Doc>> = records.iter().map(Json).collect();
    exec(
        c,
        "INSERT INTO message_trash (id, rid, deleted_at, doc)
         SELECT id, rid, $3, doc FROM unnest($1::text[], $2::text[], $4::jsonb[]) AS t(id, rid, doc)",
        &[&trash_ids, &trash_rids, &deleted_at, &records],
    )
    .await?;
    Ok(deleted.len())
}

/// Drops a batch of the trash records expired at `now`; records another transaction is already
/// dropping are left to it.
async fn prune_trash(c: &impl GenericClient, now: DateTime<Utc>) -> StoreResult<()> {
    exec(
        c,
        "DELETE FROM message_trash WHERE id IN
           (SELECT id FROM message_trash WHERE deleted_at < $1 ORDER BY deleted_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
        &[&trash::cutoff(now), &trash::PRUNE_BATCH],
    )
    .await
    .map(drop)
}

#[async_trait]
impl MessageStore for PgStore {
    async fn message_by_id(&self, id: &str) -> StoreResult<Option<Doc>> {
        self.doc_query("SELECT doc FROM messages WHERE id = $1", &[&id]).await
    }

    async fn delete_messages(&self, ids: &[String]) -> StoreResult<usize> {
        let now = Utc::now();
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let deleted = delete_all(&tx, ids, now).await?;
        prune_trash(&tx, now).await?;
        tx.commit().await.map_err(pg)?;
        Ok(deleted)
    }

    async fn room_messages(&self, rid: &str, q: MessageQuery) -> StoreResult<(Vec<Doc>, usize)> {
        let c = self.conn().await?;
        let (lt, gt) = if q.inclusive { ("<=", ">=") } else { ("<", ">") };
        let mut filter = String::from("rid = $1");
        let mut args: Vec<String> = vec![rid.to_owned()];
        if let Some(latest) = q.latest {
            args.push(latest);
            filter.push_str(&format!(" AND ts {lt} ${}", args.len()));
        }
        if let Some(oldest) = q.oldest {
            args.push(oldest);
            filter.push_str(&format!(" AND ts {gt} ${}", args.len()));
        }
        let mut params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
        let total: i64 = rows(&c, &format!("SELECT count(*) FROM messages WHERE {filter}"), &params)
            .await?
            .first()
            .map(|r| r.get(0))
            .unwrap_or(0);
        let order = if q.oldest_first { "ASC" } else { "DESC" };
        let limit = q.limit.map(|l| l as i64);
        let offset = q.offset as i64;
        params.push(&limit);
        params.push(&offset);
        let sql = format!(
            "SELECT doc FROM messages WHERE {filter} ORDER BY ts {order}, seq {order} LIMIT ${} OFFSET ${}",
            args.len() + 1,
            args.len() + 2
        );
        let docs = super::docs::many(&c, &sql, &params).await?;
        Ok((docs, total as usize))
    }

    async fn find_messages(&self, q: DocQuery) -> StoreResult<(Vec<Doc>, usize)> {
        let c = self.conn().await?;
        find(&c, &MESSAGES, q).await
    }

    async fn find_deleted_messages(&self, q: DocQuery) -> StoreResult<(Vec<Doc>, usize)> {
        let c = self.conn().await?;
        find(&c, &TRASH, q).await
    }
}
