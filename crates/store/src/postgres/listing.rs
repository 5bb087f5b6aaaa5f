//! Filtered, sorted, paginated reads of document tables, pushing into SQL what the query
//! engine can translate (PostgreSQL dialect) and evaluating the rest in memory. Results are
//! identical either way, and identical to the SQLite store's.

use super::docs::{doc_at, pg};
use crate::tables::Table;
use crate::{Doc, DocQuery, StoreResult};
use deadpool_postgres::GenericClient;
use query::sql::{Dialect, SqlValue, translate};
use serde_json::Value;
use tokio_postgres::types::ToSql;

/// Bound parameters of a plan; the query engine binds only text here.
fn args(params: Vec<SqlValue>) -> Vec<String> {
    params
        .into_iter()
        .map(|p| match p {
            SqlValue::Text(s) => s,
            SqlValue::Integer(i) => i.to_string(),
        })
        .collect()
}

pub async fn find(c: &impl GenericClient, table: &Table, q: DocQuery) -> StoreResult<(Vec<Doc>, usize)> {
    let plan = translate(&q.filter, &table.schema, Dialect::Postgres, 1);
    let where_sql = plan.where_sql;
    let params = args(plan.params);
    let mut refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
    let t = table.name;
    let order = table.order_by(&q.sort_keys, "seq");

    if plan.exact
        && let Some(order) = &order
    {
        // Everything in SQL: count and page.
        let stmt = c.prepare_cached(&format!("SELECT count(*) FROM {t} WHERE {where_sql}")).await.map_err(pg)?;
        let total: i64 = c.query_one(&stmt, &refs).await.map_err(pg)?.get(0);
        let limit = q.limit.map(|l| l as i64);
        let offset = q.offset as i64;
        let n = refs.len();
        refs.push(&limit);
        refs.push(&offset);
        let sql = format!("SELECT doc FROM {t} WHERE {where_sql} ORDER BY {order} LIMIT ${} OFFSET ${}", n + 1, n + 2);
        let docs = super::docs::many(c, &sql, &refs).await?;
        return Ok((docs, total as usize));
    }

    // Candidates from SQL, the filter in memory.
    let sql = format!(
        "SELECT doc FROM {t} WHERE {where_sql} ORDER BY {}",
        order.clone().unwrap_or_else(|| format!("{t}.seq ASC"))
    );
    let rows = super::docs::rows(c, &sql, &refs).await?;
    let mut matched: Vec<Value> = Vec::new();
    for row in &rows {
        let value = Value::Object(doc_at(row, 0)?);
        if plan.exact || q.filter.matches(&value) {
            matched.push(value);
        }
    }
    if order.is_none()
        && let Some(sort) = &q.sort
    {
        // Stable: equal documents keep insertion order.
        matched.sort_by(|a, b| sort.compare(a, b));
    }
    let total = matched.len();
    let docs = matched
        .into_iter()
        .skip(q.offset)
        .take(q.limit.unwrap_or(usize::MAX))
        .filter_map(|v| match v {
            Value::Object(m) => Some(m),
            _ => None,
        })
        .collect();
    Ok((docs, total))
}
