//! Filtered reads of messages (pins, stars, threads, searches) through the query engine, the
//! thread bookkeeping of a reply, and field updates of one subscription (favourites, ignored
//! users).

use super::PgStore;
use super::docs::{exec, one, pg};
use super::listing::find;
use super::rooms::merge_set;
use crate::ids::now_iso;
use crate::tables::MESSAGES;
use crate::{Doc, DocQuery, StoreResult};
use deadpool_postgres::GenericClient;
use serde_json::json;
use tokio_postgres::types::Json;

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

impl PgStore {
    pub(super) async fn find_message_docs(&self, q: DocQuery) -> StoreResult<(Vec<Doc>, usize)> {
        let c = self.conn().await?;
        find(&c, &MESSAGES, q).await
    }

    pub(super) async fn set_subscription_fields(&self, rid: &str, uid: &str, set: Doc) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let sql = "SELECT doc FROM subscriptions WHERE rid = $1 AND uid = $2 FOR UPDATE";
        let Some(mut sub) = one(&tx, sql, &[&rid, &uid]).await? else { return Ok(false) };
        merge_set(&mut sub, set);
        sub.insert("_updatedAt".into(), json!(now_iso()));
        exec(&tx, "UPDATE subscriptions SET doc = $3 WHERE rid = $1 AND uid = $2", &[&rid, &uid, &Json(&sub)]).await?;
        tx.commit().await.map_err(pg)?;
        Ok(true)
    }
}
