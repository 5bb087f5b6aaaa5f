//! Messages in PostgreSQL: reads by room and by filter (pins, stars, threads, searches, the
//! trash), the thread bookkeeping of a reply, and deletion with its trash record (new messages
//! are written by `rooms` with their room's counters, in groups by `message_batch`).

use super::PgStore;
use super::docs::{doc_at, exec, id_of, json, one, pg, rows};
use super::listing::find;
use crate::tables::{MESSAGES, TRASH};
use crate::{Doc, DocQuery, MessageQuery, MessageStore, StoreError, StoreResult, trash};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::types::{Json, ToSql};

/// Counts a thread reply on its thread's first message, locked for the rest of the
/// transaction that stores the reply.
pub(super) async fn count_thread_reply(c: &impl GenericClient, reply: &Doc) -> StoreResult<()> {
    change_thread_parent(c, reply, |parent| crate::thread::count_reply(parent, reply)).await
}

/// Applies `change` to the first message of the thread `message` replies in, if any, locked for
/// the rest of the transaction.
async fn change_thread_parent(c: &impl GenericClient, message: &Doc, change: impl FnOnce(&mut Doc)) -> StoreResult<()> {
    let Some(tmid) = message.get("tmid").and_then(serde_json::Value::as_str) else { return Ok(()) };
    let Some(mut parent) = one(c, "SELECT doc FROM messages WHERE id = $1 FOR UPDATE", &[&tmid]).await? else {
        return Ok(());
    };
    change(&mut parent);
    exec(c, "UPDATE messages SET doc = $2 WHERE id = $1", &[&tmid, &Json(&parent)]).await.map(drop)
}

/// Keeps the trash record of a message deleted at `now` and drops a batch of expired ones;
/// expired records another transaction is already dropping are left to it.
async fn keep_in_trash(c: &impl GenericClient, message: &Doc, rid: &str, now: DateTime<Utc>) -> StoreResult<()> {
    let deleted_at = crate::ids::iso(now);
    let record = trash::record(message, &deleted_at);
    let id = id_of(&record)?;
    // A message re-sent with the id of a deleted one and deleted again: the newer deletion counts.
    exec(c, "DELETE FROM message_trash WHERE id = $1", &[&id]).await?;
    exec(
        c,
        "INSERT INTO message_trash (id, rid, deleted_at, doc) VALUES ($1, $2, $3, $4)",
        &[&id, &rid, &deleted_at, &json(&record)],
    )
    .await?;
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

    async fn delete_message(&self, id: &str) -> StoreResult<()> {
        let now = Utc::now();
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let Some(row) = rows(&tx, "DELETE FROM messages WHERE id = $1 RETURNING rid, doc", &[&id]).await?.pop() else {
            return Err(StoreError::NotFound);
        };
        let rid: String = row.try_get(0).map_err(pg)?;
        // Taken off the room row, which may go below zero as long as the room's total does not
        // (what messages added is in its counter rows, see `rooms`). Deleters queue on the room
        // row; each rechecks the total with the row as the one before left it (what counter
        // rows hold only grows meanwhile).
        exec(
            &tx,
            "UPDATE rooms SET msgs = msgs - 1 WHERE id = $1
             AND msgs + coalesce((SELECT sum(c.msgs) FROM room_counters c WHERE c.rid = $1), 0) > 0",
            &[&rid],
        )
        .await?;
        let message = doc_at(&row, 1)?;
        change_thread_parent(&tx, &message, crate::thread::uncount_reply).await?;
        keep_in_trash(&tx, &message, &rid, now).await?;
        tx.commit().await.map_err(pg)
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
