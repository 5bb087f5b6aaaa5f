//! Settings, roles, permissions, users and login tokens in PostgreSQL.

use super::PgStore;
use super::docs::{conflict_or_backend, exec, id_of, json, many, one, pg, rows, str_of, strings};
use crate::ids::now_iso;
use crate::{Doc, StoreError, StoreResult};
use deadpool_postgres::GenericClient;
use serde_json::{Value, json};
use tokio_postgres::types::Json;

pub(super) async fn put_user(c: &impl GenericClient, user: &Doc, insert: bool) -> StoreResult<()> {
    let id = id_of(user)?;
    let username = str_of(user, "username").map(str::to_lowercase);
    let email = user
        .get("emails")
        .and_then(|e| e.get(0))
        .and_then(|e| e.get("address"))
        .and_then(Value::as_str)
        .map(str::to_lowercase);
    let sql = if insert {
        "INSERT INTO users (id, username_lower, email_lower, doc) VALUES ($1, $2, $3, $4)"
    } else {
        "UPDATE users SET username_lower = $2, email_lower = $3, doc = $4 WHERE id = $1"
    };
    let stmt = c.prepare_cached(sql).await.map_err(pg)?;
    let changed = c
        .execute(&stmt, &[&id, &username, &email, &json(user)])
        .await
        .map_err(|e| conflict_or_backend(e, &[("username_lower", "username"), ("email_lower", "email")]))?;
    if changed == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

impl PgStore {
    pub(super) async fn settings_all(&self) -> StoreResult<Vec<(String, Value)>> {
        let c = self.conn().await?;
        rows(&c, "SELECT id, value FROM settings", &[])
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0).map_err(pg)?, r.try_get::<_, Json<Value>>(1).map_err(pg)?.0)))
            .collect()
    }

    pub(super) async fn setting_save(&self, id: &str, value: Value) -> StoreResult<()> {
        let c = self.conn().await?;
        exec(
            &c,
            "INSERT INTO settings (id, value) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET value = excluded.value",
            &[&id, &Json(&value)],
        )
        .await
        .map(drop)
    }

    pub(super) async fn docs_of(&self, sql: &str) -> StoreResult<Vec<Doc>> {
        let c = self.conn().await?;
        many(&c, sql, &[]).await
    }

    /// Inserts documents whose `_id` is not stored yet (`sql` inserts id, doc, ignoring conflicts).
    pub(super) async fn insert_missing(&self, sql: &str, docs: Vec<Doc>) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        for d in &docs {
            exec(&tx, sql, &[&id_of(d)?, &json(d)]).await?;
        }
        tx.commit().await.map_err(pg)
    }

    pub(super) async fn permission_roles_set(&self, updates: Vec<(String, Vec<String>)>) -> StoreResult<()> {
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

    pub(super) async fn user_write(&self, user: Doc, insert: bool) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        put_user(&tx, &user, insert).await?;
        // A deactivated user's sessions end with the deactivation, in the same transaction.
        if user.get("active") == Some(&Value::Bool(false)) {
            exec(&tx, "DELETE FROM login_tokens WHERE user_id = $1", &[&id_of(&user)?]).await?;
        }
        tx.commit().await.map_err(pg)
    }

    pub(super) async fn user_delete(&self, id: &str) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let rooms = strings(&tx, "DELETE FROM subscriptions WHERE uid = $1 RETURNING rid", &[&id]).await?;
        for rid in rooms {
            super::membership::bump_users_count(&tx, &rid, -1).await?;
        }
        exec(&tx, "DELETE FROM login_tokens WHERE user_id = $1", &[&id]).await?;
        exec(&tx, "DELETE FROM team_members WHERE user_id = $1", &[&id]).await?;
        if exec(&tx, "DELETE FROM users WHERE id = $1", &[&id]).await? == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(pg)
    }

    pub(super) async fn user_one(&self, sql: &str, key: &str) -> StoreResult<Option<Doc>> {
        let c = self.conn().await?;
        one(&c, sql, &[&key]).await
    }

    pub(super) async fn users_with_ids(&self, ids: &[String]) -> StoreResult<Vec<Doc>> {
        let c = self.conn().await?;
        let found = rows(&c, "SELECT id, doc FROM users WHERE id = ANY($1)", &[&ids]).await?;
        let mut by_id = std::collections::HashMap::with_capacity(found.len());
        for r in &found {
            by_id.insert(r.try_get::<_, String>(0).map_err(pg)?, super::docs::doc_at(r, 1)?);
        }
        // In the order asked for, as the SQLite store answers.
        Ok(ids.iter().filter_map(|id| by_id.get(id).cloned()).collect())
    }

    pub(super) async fn token_add(&self, user_id: &str, hashed: &str) -> StoreResult<()> {
        let c = self.conn().await?;
        exec(
            &c,
            "INSERT INTO login_tokens (hashed_token, user_id, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (hashed_token) DO UPDATE SET user_id = excluded.user_id, created_at = excluded.created_at",
            &[&hashed, &user_id, &now_iso()],
        )
        .await
        .map(drop)
    }

    pub(super) async fn token_remove(&self, hashed: &str) -> StoreResult<()> {
        let c = self.conn().await?;
        exec(&c, "DELETE FROM login_tokens WHERE hashed_token = $1", &[&hashed]).await.map(drop)
    }

    pub(super) async fn token_user(&self, hashed: &str) -> StoreResult<Option<String>> {
        let c = self.conn().await?;
        Ok(strings(&c, "SELECT user_id FROM login_tokens WHERE hashed_token = $1", &[&hashed]).await?.pop())
    }
}
