//! Filtered, sorted, paginated reads of document tables, pushing into SQL what the query
//! engine can translate and evaluating the rest in memory. Results are identical either way.

use super::docs::backend;
use crate::tables::Table;
use crate::{DocQuery, StoreError, StoreResult};
use query::sql::{Dialect, SqlValue, translate};
use rusqlite::Connection;
use rusqlite::types::Value as SqlArg;
use serde_json::Value;

fn args(params: Vec<SqlValue>) -> Vec<SqlArg> {
    params
        .into_iter()
        .map(|p| match p {
            SqlValue::Text(s) => SqlArg::Text(s),
            SqlValue::Integer(i) => SqlArg::Integer(i),
        })
        .collect()
}

fn parse_value(text: &str) -> StoreResult<Value> {
    serde_json::from_str(text).map_err(|e| StoreError::Backend(format!("stored document is not JSON: {e}")))
}

fn into_doc(v: Value) -> StoreResult<crate::Doc> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(StoreError::Backend("stored document is not an object".into())),
    }
}

/// Whether SQL alone answers the query (filter and order both pushed down).
pub fn fully_pushed(table: &Table, q: &DocQuery) -> bool {
    translate(&q.filter, &table.schema, Dialect::Sqlite, 1).exact && table.order_by(&q.sort_keys, "rowid").is_some()
}

pub fn find(conn: &Connection, table: &Table, q: DocQuery) -> StoreResult<(Vec<crate::Doc>, usize)> {
    let plan = translate(&q.filter, &table.schema, Dialect::Sqlite, 1);
    let where_sql = plan.where_sql;
    let params = args(plan.params);
    let t = table.name;
    let limit = q.limit.map(|l| l as i64).unwrap_or(-1);
    let order = table.order_by(&q.sort_keys, "rowid");

    if plan.exact
        && let Some(order) = &order
    {
        // Everything in SQL: count and page.
        let total: i64 = conn
            .prepare_cached(&format!("SELECT count(*) FROM {t} WHERE {where_sql}"))
            .map_err(backend)?
            .query_row(rusqlite::params_from_iter(params.iter()), |r| r.get(0))
            .map_err(backend)?;
        let n = params.len();
        let sql = format!("SELECT doc FROM {t} WHERE {where_sql} ORDER BY {order} LIMIT ?{} OFFSET ?{}", n + 1, n + 2);
        let mut page_args = params;
        page_args.push(SqlArg::Integer(limit));
        page_args.push(SqlArg::Integer(q.offset as i64));
        let docs = super::docs::many(conn, &sql, rusqlite::params_from_iter(page_args.iter()))?;
        return Ok((docs, total as usize));
    }

    // Candidates from SQL, the filter in memory.
    let sql = format!(
        "SELECT {t}.rowid, doc FROM {t} WHERE {where_sql} ORDER BY {}",
        order.clone().unwrap_or_else(|| format!("{t}.rowid ASC"))
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params.iter())).map_err(backend)?;
    let mut matched: Vec<(i64, Value)> = Vec::new();
    while let Some(row) = rows.next().map_err(backend)? {
        let rowid: i64 = row.get(0).map_err(backend)?;
        let text: String = row.get(1).map_err(backend)?;
        let value = parse_value(&text)?;
        if plan.exact || q.filter.matches(&value) {
            matched.push((rowid, value));
        }
    }
    if order.is_none()
        && let Some(sort) = &q.sort
    {
        // Stable: equal documents keep insertion order.
        matched.sort_by(|a, b| sort.compare(&a.1, &b.1));
    }
    let total = matched.len();
    let page: Vec<(i64, Value)> =
        matched.into_iter().skip(q.offset).take(if limit < 0 { usize::MAX } else { limit as usize }).collect();
    let docs = page.into_iter().map(|(_, v)| into_doc(v)).collect::<StoreResult<_>>()?;
    Ok((docs, total))
}
