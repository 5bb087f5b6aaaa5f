//! Users and login tokens in SQLite.

use super::SqliteStore;
use super::docs::{backend, exec, id_of, many, strings};
use super::rooms::bump_users_count;
use super::user_rows::{get_user, put_user};
use crate::ids::now_iso;
use crate::{Doc, StoreError, StoreResult, UserStore};
use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use serde_json::Value;

#[async_trait]
impl UserStore for SqliteStore {
    async fn replace_user(&self, user: Doc) -> StoreResult<()> {
        self.write(move |c| {
            put_user(c, &user, false)?;
            // A deactivated user's sessions end with the deactivation, in the same transaction.
            if user.get("active") == Some(&Value::Bool(false)) {
                exec(c, "DELETE FROM login_tokens WHERE user_id = ?1", [id_of(&user)?])?;
            }
            Ok(())
        })
        .await
    }

    async fn delete_user(&self, id: &str) -> StoreResult<()> {
        let id = id.to_owned();
        self.write(move |c| {
            let rooms = strings(c, "SELECT rid FROM subscriptions WHERE uid = ?1", &id)?;
            for rid in rooms {
                exec(c, "DELETE FROM subscriptions WHERE rid = ?1 AND uid = ?2", params![rid, id])?;
                bump_users_count(c, &rid, -1)?;
            }
            exec(c, "DELETE FROM login_tokens WHERE user_id = ?1", [&id])?;
            exec(c, "DELETE FROM team_members WHERE user_id = ?1", [&id])?;
            if exec(c, "DELETE FROM users WHERE id = ?1", [&id])? == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn user_by_id(&self, id: &str) -> StoreResult<Option<Doc>> {
        let id = id.to_owned();
        self.read(move |c| get_user(c, &id)).await
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<Doc>> {
        self.read_one("SELECT doc FROM users WHERE username_lower = ?1", username.to_lowercase()).await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<Doc>> {
        self.read_one("SELECT doc FROM users WHERE email_lower = ?1", email.to_lowercase()).await
    }

    async fn users(&self) -> StoreResult<Vec<Doc>> {
        self.read(|c| many(c, "SELECT doc FROM users ORDER BY rowid", [])).await
    }

    async fn users_by_ids(&self, ids: &[String]) -> StoreResult<Vec<Doc>> {
        let ids = ids.to_vec();
        self.read(move |c| {
            let mut out = Vec::with_capacity(ids.len());
            for id in &ids {
                out.extend(get_user(c, id)?);
            }
            Ok(out)
        })
        .await
    }

    async fn add_login_token(&self, user_id: &str, hashed_token: &str) -> StoreResult<()> {
        let (uid, hashed) = (user_id.to_owned(), hashed_token.to_owned());
        self.write(move |c| {
            exec(
                c,
                "INSERT OR REPLACE INTO login_tokens (hashed_token, user_id, created_at) VALUES (?1, ?2, ?3)",
                params![hashed, uid, now_iso()],
            )
            .map(drop)
        })
        .await
    }

    async fn remove_login_token(&self, hashed_token: &str) -> StoreResult<()> {
        let hashed = hashed_token.to_owned();
        self.write(move |c| exec(c, "DELETE FROM login_tokens WHERE hashed_token = ?1", [hashed]).map(drop)).await
    }

    async fn user_id_by_token(&self, hashed_token: &str) -> StoreResult<Option<String>> {
        let hashed = hashed_token.to_owned();
        self.read(move |c| {
            c.prepare_cached("SELECT user_id FROM login_tokens WHERE hashed_token = ?1")
                .map_err(backend)?
                .query_row([hashed], |r| r.get(0))
                .optional()
                .map_err(backend)
        })
        .await
    }
}
