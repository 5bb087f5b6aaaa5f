//! Settings, roles and permissions in SQLite.

use super::SqliteStore;
use super::docs::{backend, exec, id_of, many, one, text};
use crate::ids::now_iso;
use crate::{Doc, SettingsStore, StoreError, StoreResult};
use async_trait::async_trait;
use rusqlite::{Connection, params};
use serde_json::{Value, json};

/// Inserts documents whose `_id` is not stored yet (`sql` is an `INSERT OR IGNORE` of id, doc).
fn insert_missing(conn: &Connection, sql: &str, docs: &[Doc]) -> StoreResult<()> {
    for d in docs {
        exec(conn, sql, params![id_of(d)?, text(d)])?;
    }
    Ok(())
}

#[async_trait]
impl SettingsStore for SqliteStore {
    async fn settings(&self) -> StoreResult<Vec<(String, Value)>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT id, value FROM settings").map_err(backend)?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).map_err(backend)?;
            let mut out = Vec::new();
            for row in rows {
                let (id, value) = row.map_err(backend)?;
                out.push((id, serde_json::from_str(&value).unwrap_or(Value::Null)));
            }
            Ok(out)
        })
        .await
    }

    async fn save_setting(&self, id: &str, value: Value) -> StoreResult<()> {
        let id = id.to_owned();
        self.write(move |c| {
            exec(
                c,
                "INSERT INTO settings (id, value) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET value = excluded.value",
                params![id, value.to_string()],
            )
            .map(drop)
        })
        .await
    }

    async fn roles(&self) -> StoreResult<Vec<Doc>> {
        self.read(|c| many(c, "SELECT doc FROM roles ORDER BY id", [])).await
    }

    async fn ensure_roles(&self, roles: Vec<Doc>) -> StoreResult<()> {
        self.write(move |c| insert_missing(c, "INSERT OR IGNORE INTO roles (id, doc) VALUES (?1, ?2)", &roles)).await
    }

    async fn permissions(&self) -> StoreResult<Vec<Doc>> {
        self.read(|c| many(c, "SELECT doc FROM permissions ORDER BY id", [])).await
    }

    async fn ensure_permissions(&self, permissions: Vec<Doc>) -> StoreResult<()> {
        self.write(move |c| {
            insert_missing(c, "INSERT OR IGNORE INTO permissions (id, doc) VALUES (?1, ?2)", &permissions)
        })
        .await
    }

    async fn set_permission_roles(&self, updates: Vec<(String, Vec<String>)>) -> StoreResult<()> {
        self.write(move |c| {
            let now = now_iso();
            for (id, roles) in &updates {
                let Some(mut doc) = one(c, "SELECT doc FROM permissions WHERE id = ?1", [id])? else {
                    return Err(StoreError::NotFound);
                };
                doc.insert("roles".into(), json!(roles));
                doc.insert("_updatedAt".into(), json!(now));
                exec(c, "UPDATE permissions SET doc = ?2 WHERE id = ?1", params![id, text(&doc)])?;
            }
            Ok(())
        })
        .await
    }
}
