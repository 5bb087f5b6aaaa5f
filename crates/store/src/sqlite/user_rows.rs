//! SQLite rows of users, written inside the writer's transaction by whatever changes a user:
//! the user's own writes, and joins and leaves (the user's `__rooms`).

use super::docs::{backend, conflict_or_backend, id_of, one, text};
use crate::{Doc, StoreError, StoreResult};
use rusqlite::{Connection, params};
use serde_json::{Value, json};

pub(super) fn put_user(conn: &Connection, user: &Doc, insert: bool) -> StoreResult<()> {
    let id = id_of(user)?;
    let (username, email) = crate::columns::user_keys(user);
    let sql = if insert {
        "INSERT INTO users (id, username_lower, email_lower, doc) VALUES (?1, ?2, ?3, ?4)"
    } else {
        "UPDATE users SET username_lower = ?2, email_lower = ?3, doc = ?4 WHERE id = ?1"
    };
    let changed =
        conn.prepare_cached(sql).map_err(backend)?.execute(params![id, username, email, text(user)]).map_err(|e| {
            conflict_or_backend(e, &[("users.username_lower", "username"), ("users.email_lower", "email")])
        })?;
    if changed == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub(super) fn get_user(conn: &Connection, id: &str) -> StoreResult<Option<Doc>> {
    one(conn, "SELECT doc FROM users WHERE id = ?1", [id])
}

/// Adds or removes `rid` in the user's `__rooms` list.
pub(super) fn touch_user_rooms(conn: &Connection, uid: &str, rid: &str, member: bool) -> StoreResult<()> {
    let Some(mut user) = get_user(conn, uid)? else { return Ok(()) };
    let rooms = user.entry("__rooms").or_insert_with(|| json!([]));
    if let Value::Array(list) = rooms {
        let present = list.iter().any(|r| r.as_str() == Some(rid));
        if member && !present {
            list.push(Value::String(rid.to_owned()));
        } else if !member && present {
            list.retain(|r| r.as_str() != Some(rid));
        } else {
            return Ok(());
        }
    }
    put_user(conn, &user, false)
}
