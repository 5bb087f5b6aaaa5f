//! The SQL text that `query::sql::translate` produces for typical filters:
//! what is pushed, with which parameters, and whether it is exact.

use query::Filter;
use query::sql::{Dialect, SqlPlan, SqlSchema, SqlValue, translate};
use serde_json::json;

fn tr(q: serde_json::Value, d: Dialect) -> SqlPlan {
    translate(&Filter::parse_with_dates(&q, &["_createdAt"]).unwrap(), &SqlSchema::integrations(), d, 1)
}

fn t(s: &str) -> SqlValue {
    SqlValue::Text(s.into())
}

#[test]
fn equality_and_in_are_exact() {
    let p = tr(json!({"type": "webhook-incoming"}), Dialect::Sqlite);
    assert_eq!(p.where_sql, "integrations.type = ?1");
    assert_eq!(p.params, vec![t("webhook-incoming")]);
    assert!(p.exact);
    let p = tr(json!({"_id": {"$in": ["a", "b"]}}), Dialect::Postgres);
    assert_eq!(p.where_sql, "integrations.id IN ($1, $2)");
    assert!(p.exact);
    let p = tr(json!({"channel": "#general"}), Dialect::Sqlite);
    assert_eq!(
        p.where_sql,
        "EXISTS (SELECT 1 FROM integration_channels c WHERE c.integration_id = integrations.id AND c.channel = ?1)"
    );
    assert!(p.exact);
    let p = tr(json!({"_createdBy._id": "u1"}), Dialect::Sqlite);
    assert_eq!(p.where_sql, "(integrations.created_by IS NOT NULL AND integrations.created_by = ?1)");
    assert!(p.exact);
    let p = tr(json!({"$or": [{"type": "a"}, {"name": "b"}], "_id": {"$in": ["x"]}}), Dialect::Sqlite);
    assert_eq!(p.where_sql, "((integrations.type = ?1 OR integrations.name = ?2) AND integrations.id IN (?3))");
    assert!(p.exact);
}

#[test]
fn negations_match_missing() {
    let p = tr(json!({"_createdBy._id": {"$ne": "u1"}}), Dialect::Sqlite);
    assert_eq!(p.where_sql, "NOT ((integrations.created_by IS NOT NULL AND integrations.created_by = ?1))");
    assert!(p.exact);
    let p = tr(json!({"channel": {"$nin": ["#a"]}}), Dialect::Sqlite);
    assert!(p.where_sql.starts_with("NOT (EXISTS"));
    assert!(p.exact);
    // $not of something inexact pushes nothing
    let p = tr(json!({"name": {"$not": {"$regex": "a", "$options": "i"}}}), Dialect::Sqlite);
    assert_eq!((p.where_sql.as_str(), p.exact), ("1=1", false));
}

#[test]
fn brackets_and_inexact_parts() {
    // a number never equals a string column
    let p = tr(json!({"name": 5}), Dialect::Sqlite);
    assert_eq!((p.where_sql.as_str(), p.exact), ("1=0", true));
    let p = tr(json!({"name": {"$regex": "ab", "$options": "i"}, "type": "x"}), Dialect::Sqlite);
    assert_eq!((p.where_sql.as_str(), p.exact), ("integrations.type = ?1", false));
    // $or with one unpushable branch pushes nothing
    let p = tr(json!({"$or": [{"type": "x"}, {"other": 1}]}), Dialect::Sqlite);
    assert_eq!((p.where_sql.as_str(), p.exact), ("1=1", false));
    let p = tr(json!({"name": {"$gt": "m"}}), Dialect::Postgres);
    assert_eq!(p.where_sql, "integrations.name COLLATE \"C\" > $1");
    let p = tr(json!({"_createdAt": {"$gte": {"$date": "2025-01-01T00:00:00Z"}}}), Dialect::Sqlite);
    assert_eq!(p.where_sql, "integrations.created_at >= ?1");
    assert_eq!(p.params, vec![t("2025-01-01T00:00:00.000Z")]);
    assert!(p.exact);
    let p = tr(json!({"name": {"$regex": "web"}}), Dialect::Sqlite);
    assert_eq!((p.where_sql.as_str(), p.exact), ("instr(integrations.name, ?1) > 0", true));
    let p = tr(json!({}), Dialect::Sqlite);
    assert_eq!((p.where_sql.as_str(), p.exact), ("1=1", true));
}

#[test]
fn placeholders_start_at_index() {
    let f = Filter::and(vec![Filter::eq("type", "a"), Filter::is_in("channel", ["#x", "#y"])]);
    let p = translate(&f, &SqlSchema::integrations(), Dialect::Postgres, 3);
    assert!(p.where_sql.contains("$3") && p.where_sql.contains("$5") && !p.where_sql.contains("$6"));
    assert_eq!(p.params.len(), 3);
}

#[test]
fn date_columns_hold_dates() {
    let pushed = |q| {
        let p = tr(q, Dialect::Sqlite);
        (p.where_sql, p.exact)
    };
    // a string operand never equals or orders with a date; $regex never matches one
    for q in [
        json!({"_createdAt": "2025-01-01T00:00:00.000Z"}),
        json!({"_createdAt": {"$gt": "1970-01-01T00:00:00.000Z"}}),
        json!({"_createdAt": {"$in": ["2025-01-01T00:00:00.000Z"]}}),
        json!({"_createdAt": {"$regex": "\\d"}}),
        json!({"_createdAt": {"$type": "string"}}),
        // a date never equals a string column
        json!({"name": {"$date": 0}}),
    ] {
        assert_eq!(pushed(q.clone()), ("1=0".to_owned(), true), "{q}");
    }
    assert_eq!(pushed(json!({"_createdAt": {"$type": "date"}})), ("1=1".to_owned(), true));
    assert_eq!(pushed(json!({"$nor": [{"_createdAt": {"$regex": "0"}}]})), ("1=1".to_owned(), true));
    let p = tr(json!({"_createdAt": {"$in": [{"$date": 0}]}}), Dialect::Postgres);
    assert_eq!((p.where_sql.as_str(), p.exact), ("integrations.created_at IN ($1)", true));
    assert_eq!(p.params, vec![t("1970-01-01T00:00:00.000Z")]);
}
