//! Messages in PostgreSQL: reads by room and by filter (pins, stars, threads, searches), the
//! thread bookkeeping of a reply, and deletion (new messages are written by `rooms` with their
//! room's counters, in groups by `message_batch`).

use super::PgStore;
use super::docs::{exec, one, pg, rows, strings};
use super::listing::find;
use crate::tables::MESSAGES;
use crate::{Doc, DocQuery, MessageQuery, MessageStore, StoreError, StoreResult};
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::types::{Json, ToSql};

/// Counts a thread reply on its thread's first message, locked for the rest of the
/// transaction that stores the reply.
pub(super) async fn count_thread_reply(c: &impl GenericClient, reply: &Doc) -> StoreResult<()> {
    let Some(tmid) = reply.get("tmid").and_then(serde_json::Value::as_str) else { return Ok(()) };
    let Some(mut parent) = one(c, "SELECT doc FROM messages WHERE id = $1 FOR UPDATE", &[&tmid]).await? else {
        return Ok(());
    };
    crate::thread::count_reply(&mut parent, reply);
    exec(c, "UPDATE messages SET doc = $2 WHERE id = $1", &[&tmid, &Json(&parent)]).await.map(drop)
}

#[async_trait]
impl MessageStore for PgStore {
    async fn message_by_id(&self, id: &str) -> StoreResult<Option<Doc>> {
        self.doc_query("SELECT doc FROM messages WHERE id = $1", &[&id]).await
    }

    async fn delete_message(&self, id: &str) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let Some(rid) = strings(&tx, "DELETE FROM messages WHERE id = $1 RETURNING rid", &[&id]).await?.pop() else {
            return Err(StoreError::NotFound);
        };
        exec(&tx, "UPDATE rooms SET msgs = greatest(0, msgs - 1) WHERE id = $1", &[&rid]).await?;
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
}
