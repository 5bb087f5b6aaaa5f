//! Settings, roles and permissions in PostgreSQL; permission changes notify the other nodes.

use super::PgStore;
use super::docs::{exec, id_of, json, pg, rows};
use crate::ids::now_iso;
use crate::{Doc, SettingsStore, StoreError, StoreResult};
use async_trait::async_trait;
use serde_json::{Value, json};
use tokio_postgres::types::Json;

impl PgStore {
    /// Inserts documents whose `_id` is not stored yet (`sql` inserts id, doc, ignoring conflicts).
    async fn insert_missing(&self, sql: &str, docs: Vec<Doc>) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        for d in &docs {
            exec(&tx, sql, &[&id_of(d)?, &json(d)]).await?;
        }
        tx.commit().await.map_err(pg)
    }
}

#[async_trait]
impl SettingsStore for PgStore {
    async fn settings(&self) -> StoreResult<Vec<(String, Value)>> {
        let c = self.conn().await?;
        rows(&c, "SELECT id, value FROM settings", &[])
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0).map_err(pg)?, r.try_get::<_, Json<Value>>(1).map_err(pg)?.0)))
            .collect()
    }

    async fn save_setting(&self, id: &str, value: Value) -> StoreResult<()> {
        let c = self.conn().await?;
        exec(
            &c,
            "INSERT INTO settings (id, value) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET value = excluded.value",
            &[&id, &Json(&value)],
        )
        .await
        .map(drop)
    }

    async fn roles(&self) -> StoreResult<Vec<Doc>> {
        self.docs_of("SELECT doc FROM roles ORDER BY id").await
    }

    async fn ensure_roles(&self, roles: Vec<Doc>) -> StoreResult<()> {
        self.insert_missing("INSERT INTO roles (id, doc) VALUES ($1, $2) ON CONFLICT DO NOTHING", roles).await
    }

    async fn permissions(&self) -> StoreResult<Vec<Doc>> {
        self.docs_of("SELECT doc FROM permissions ORDER BY id").await
    }

    async fn ensure_permissions(&self, permissions: Vec<Doc>) -> StoreResult<()> {
        self.insert_missing("INSERT INTO permissions (id, doc) VALUES ($1, $2) ON CONFLICT DO NOTHING", permissions)
            .await
    }

    async fn set_permission_roles(&self, updates: Vec<(String, Vec<String>)>) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let now = now_iso();
        for (id, roles) in &updates {
            let patch = json!({"roles": roles, "_updatedAt": now});
            let changed =
                exec(&tx, "UPDATE permissions SET doc = doc || $2 WHERE id = $1", &[id, &Json(&patch)]).await?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
        }
        super::notify::changed(&tx, "permissions").await?;
        tx.commit().await.map_err(pg)
    }
}
