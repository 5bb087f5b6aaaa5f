//! Small helpers to read and write JSON documents through tokio-postgres.

use super::nul::{doc_has_nul, doc_without_nul};
use crate::{Doc, StoreError, StoreResult};
use deadpool_postgres::GenericClient;
use serde_json::Value;
use std::borrow::Cow;
use tokio_postgres::Row;
use tokio_postgres::types::{Json, ToSql};

pub type Param<'a> = &'a (dyn ToSql + Sync);

pub fn pg(e: tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) => StoreError::Backend(format!("{}: {}", db.code().code(), db.message())),
        None => StoreError::Backend(e.to_string()),
    }
}

/// Maps a unique-constraint violation to the field that clashed, by constraint name
/// (`users_username_lower_key`, `rooms_name_key`, ...).
pub fn conflict_or_backend(e: tokio_postgres::Error, fields: &[(&str, &'static str)]) -> StoreError {
    if let Some(db) = e.as_db_error()
        && *db.code() == tokio_postgres::error::SqlState::UNIQUE_VIOLATION
    {
        let constraint = db.constraint().unwrap_or_default();
        for (name, field) in fields {
            if constraint.contains(name) {
                return StoreError::Conflict(field);
            }
        }
        return StoreError::Conflict("_id");
    }
    pg(e)
}

pub fn doc_at(row: &Row, i: usize) -> StoreResult<Doc> {
    row.try_get::<_, Json<Doc>>(i).map(|j| j.0).map_err(pg)
}

pub async fn one(c: &impl GenericClient, sql: &str, params: &[Param<'_>]) -> StoreResult<Option<Doc>> {
    let stmt = c.prepare_cached(sql).await.map_err(pg)?;
    match c.query_opt(&stmt, params).await.map_err(pg)? {
        Some(row) => Ok(Some(doc_at(&row, 0)?)),
        None => Ok(None),
    }
}

pub async fn many(c: &impl GenericClient, sql: &str, params: &[Param<'_>]) -> StoreResult<Vec<Doc>> {
    let stmt = c.prepare_cached(sql).await.map_err(pg)?;
    c.query(&stmt, params).await.map_err(pg)?.iter().map(|r| doc_at(r, 0)).collect()
}

pub async fn rows(c: &impl GenericClient, sql: &str, params: &[Param<'_>]) -> StoreResult<Vec<Row>> {
    let stmt = c.prepare_cached(sql).await.map_err(pg)?;
    c.query(&stmt, params).await.map_err(pg)
}

pub async fn exec(c: &impl GenericClient, sql: &str, params: &[Param<'_>]) -> StoreResult<u64> {
    let stmt = c.prepare_cached(sql).await.map_err(pg)?;
    c.execute(&stmt, params).await.map_err(pg)
}

pub async fn strings(c: &impl GenericClient, sql: &str, params: &[Param<'_>]) -> StoreResult<Vec<String>> {
    rows(c, sql, params).await?.iter().map(|r| r.try_get(0).map_err(pg)).collect()
}

pub fn str_of<'a>(doc: &'a Doc, key: &str) -> Option<&'a str> {
    doc.get(key).and_then(Value::as_str)
}

pub fn id_of(doc: &Doc) -> StoreResult<&str> {
    str_of(doc, "_id").ok_or_else(|| StoreError::Backend("document without a string _id".into()))
}

/// A document as a JSONB parameter; NUL characters, which PostgreSQL cannot store, become
/// U+FFFD.
pub fn json(doc: &Doc) -> Json<Cow<'_, Doc>> {
    if doc_has_nul(doc) { Json(Cow::Owned(doc_without_nul(doc))) } else { Json(Cow::Borrowed(doc)) }
}
