//! Subscriptions in PostgreSQL: reads and the per-user fields (`open`, roles, favourites).

use super::PgStore;
use super::docs::{exec, one, pg};
use super::rooms::{merge_set, put_message};
use crate::ids::now_iso;
use crate::{Doc, StoreError, StoreResult, SubscriptionStore};
use async_trait::async_trait;
use serde_json::json;
use tokio_postgres::types::Json;

#[async_trait]
impl SubscriptionStore for PgStore {
    async fn subscription(&self, rid: &str, uid: &str) -> StoreResult<Option<Doc>> {
        self.doc_query("SELECT doc FROM subscriptions WHERE rid = $1 AND uid = $2", &[&rid, &uid]).await
    }

    async fn subscriptions_of_user(&self, uid: &str) -> StoreResult<Vec<Doc>> {
        self.docs_query("SELECT doc FROM subscriptions WHERE uid = $1 ORDER BY seq", &[&uid]).await
    }

    async fn subscriptions_of_room(&self, rid: &str) -> StoreResult<Vec<Doc>> {
        self.docs_query("SELECT doc FROM subscriptions WHERE rid = $1 ORDER BY seq", &[&rid]).await
    }

    async fn set_subscription_open(&self, rid: &str, uid: &str, open: bool) -> StoreResult<()> {
        let c = self.conn().await?;
        let patch = json!({"open": open, "_updatedAt": now_iso()});
        let changed = exec(
            &c,
            "UPDATE subscriptions SET doc = doc || $3 WHERE rid = $1 AND uid = $2",
            &[&rid, &uid, &Json(&patch)],
        )
        .await?;
        if changed == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn set_subscription_roles(
        &self,
        rid: &str,
        uid: &str,
        roles: Vec<String>,
        system_message: Option<Doc>,
    ) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let patch = json!({"roles": roles, "_updatedAt": now_iso()});
        let changed = exec(
            &tx,
            "UPDATE subscriptions SET doc = doc || $3 WHERE rid = $1 AND uid = $2",
            &[&rid, &uid, &Json(&patch)],
        )
        .await?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        if let Some(msg) = &system_message {
            put_message(&tx, msg).await?;
        }
        tx.commit().await.map_err(pg)
    }

    async fn update_subscription(&self, rid: &str, uid: &str, set: Doc) -> StoreResult<bool> {
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
