//! Users and login tokens in PostgreSQL.

use super::PgStore;
use super::docs::{conflict_or_backend, exec, id_of, json, pg, rows, strings};
use crate::ids::now_iso;
use crate::{Doc, StoreError, StoreResult, UserStore};
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use serde_json::Value;

pub(super) async fn put_user(c: &impl GenericClient, user: &Doc, insert: bool) -> StoreResult<()> {
    let id = id_of(user)?;
    let (username, email) = crate::columns::user_keys(user);
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

#[async_trait]
impl UserStore for PgStore {
    async fn replace_user(&self, user: Doc) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        put_user(&tx, &user, false).await?;
        // A deactivated user's sessions end with the deactivation, in the same transaction.
        if user.get("active") == Some(&Value::Bool(false)) {
            exec(&tx, "DELETE FROM login_tokens WHERE user_id = $1", &[&id_of(&user)?]).await?;
        }
        tx.commit().await.map_err(pg)
    }

    async fn delete_user(&self, id: &str) -> StoreResult<()> {
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

    async fn user_by_id(&self, id: &str) -> StoreResult<Option<Doc>> {
        self.doc_query("SELECT doc FROM users WHERE id = $1", &[&id]).await
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<Doc>> {
        self.doc_query("SELECT doc FROM users WHERE username_lower = $1", &[&username.to_lowercase()]).await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<Doc>> {
        self.doc_query("SELECT doc FROM users WHERE email_lower = $1", &[&email.to_lowercase()]).await
    }

    async fn users(&self) -> StoreResult<Vec<Doc>> {
        self.docs_of("SELECT doc FROM users ORDER BY seq").await
    }

    async fn users_by_ids(&self, ids: &[String]) -> StoreResult<Vec<Doc>> {
        let c = self.conn().await?;
        let found = rows(&c, "SELECT id, doc FROM users WHERE id = ANY($1)", &[&ids]).await?;
        let mut by_id = std::collections::HashMap::with_capacity(found.len());
        for r in &found {
            by_id.insert(r.try_get::<_, String>(0).map_err(pg)?, super::docs::doc_at(r, 1)?);
        }
        // In the order asked for, as the SQLite store answers.
        Ok(ids.iter().filter_map(|id| by_id.get(id).cloned()).collect())
    }

    async fn add_login_token(&self, user_id: &str, hashed: &str) -> StoreResult<()> {
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

    async fn remove_login_token(&self, hashed: &str) -> StoreResult<()> {
        let c = self.conn().await?;
        exec(&c, "DELETE FROM login_tokens WHERE hashed_token = $1", &[&hashed]).await.map(drop)
    }

    async fn user_id_by_token(&self, hashed: &str) -> StoreResult<Option<String>> {
        let c = self.conn().await?;
        Ok(strings(&c, "SELECT user_id FROM login_tokens WHERE hashed_token = $1", &[&hashed]).await?.pop())
    }
}
