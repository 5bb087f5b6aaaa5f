//! Small helpers to read and write JSON documents through rusqlite.

use crate::{Doc, StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, Params};
use serde_json::Value;

pub fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Maps a unique-constraint violation to the field that clashed.
pub fn conflict_or_backend(e: rusqlite::Error, fields: &[(&str, &'static str)]) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, Some(msg)) = &e
        && f.code == rusqlite::ErrorCode::ConstraintViolation
    {
        for (column, field) in fields {
            if msg.contains(column) {
                return StoreError::Conflict(field);
            }
        }
        return StoreError::Conflict("_id");
    }
    backend(e)
}

pub fn parse(text: &str) -> StoreResult<Doc> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(StoreError::Backend("stored document is not an object".into())),
        Err(e) => Err(StoreError::Backend(format!("stored document is not JSON: {e}"))),
    }
}

pub fn text(doc: &Doc) -> String {
    serde_json::to_string(doc).expect("a JSON map always serialises")
}

pub fn one(conn: &Connection, sql: &str, params: impl Params) -> StoreResult<Option<Doc>> {
    let text: Option<String> =
        conn.prepare_cached(sql).map_err(backend)?.query_row(params, |r| r.get(0)).optional().map_err(backend)?;
    text.as_deref().map(parse).transpose()
}

pub fn many(conn: &Connection, sql: &str, params: impl Params) -> StoreResult<Vec<Doc>> {
    let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
    let rows = stmt.query_map(params, |r| r.get::<_, String>(0)).map_err(backend)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(parse(&row.map_err(backend)?)?);
    }
    Ok(out)
}

/// The first column of every row, as strings.
pub fn strings(conn: &Connection, sql: &str, arg: &str) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
    let rows = stmt.query_map([arg], |r| r.get(0)).map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

pub fn exec(conn: &Connection, sql: &str, params: impl Params) -> StoreResult<usize> {
    conn.prepare_cached(sql).map_err(backend)?.execute(params).map_err(backend)
}

pub fn str_of<'a>(doc: &'a Doc, key: &str) -> Option<&'a str> {
    doc.get(key).and_then(Value::as_str)
}

pub fn id_of(doc: &Doc) -> StoreResult<&str> {
    str_of(doc, "_id").ok_or_else(|| StoreError::Backend("document without a string _id".into()))
}
