//! Parsing the raw `query`, `sort` and `fields` query-string parameters with
//! Rocket.Chat's error strings.
//!
//! - Unparsable JSON (or the wrong JSON shape) gives Rocket.Chat's own
//!   message, quoting the raw text:
//!   `Invalid query parameter provided: "<raw>" [error-invalid-query]`.
//! - A query that parses but is refused names the reason:
//!   `Invalid query parameter provided: operator $where is not allowed [error-invalid-query]`.
//! - `fields` keys `joinCode`, `members`, `importIds`, `e2e` (or paths below
//!   them) are dropped, and those fields are always removed from output.

use crate::error::QueryError;
use crate::filter::Filter;
use crate::limits;
use crate::projection::Projection;
use crate::sort::Sort;
use serde_json::Value;

pub const ERROR_INVALID_QUERY: &str = "error-invalid-query";
pub const ERROR_INVALID_SORT: &str = "error-invalid-sort";
pub const ERROR_INVALID_FIELDS: &str = "error-invalid-fields";

/// Fields never returned through the `fields` parameter.
pub const HIDDEN_FIELDS: [&str; 4] = ["joinCode", "members", "importIds", "e2e"];

/// An endpoint error: `error` is the full message (ending in
/// `[<error_type>]`), `error_type` the Rocket.Chat errorType.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    pub error: String,
    pub error_type: &'static str,
}

impl std::fmt::Display for ParamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.error)
    }
}

impl std::error::Error for ParamError {}

fn raw_error(what: &str, raw: &str, error_type: &'static str) -> ParamError {
    ParamError { error: format!("Invalid {what} parameter provided: \"{raw}\" [{error_type}]"), error_type }
}

fn reason_error(what: &str, reason: &QueryError, error_type: &'static str) -> ParamError {
    ParamError { error: format!("Invalid {what} parameter provided: {reason} [{error_type}]"), error_type }
}

fn parse_object(raw: &str) -> Option<Value> {
    if raw.len() > limits::MAX_PARAM_LEN {
        return None;
    }
    // serde_json refuses nesting deeper than 128 before recursing further.
    match serde_json::from_str::<Value>(raw) {
        Ok(v @ Value::Object(_)) => Some(v),
        _ => None,
    }
}

/// Parses the `query` parameter; the values at paths `dates` are dates.
pub fn parse_query_param(raw: &str, dates: &[&str]) -> Result<Filter, ParamError> {
    let v = parse_object(raw).ok_or_else(|| raw_error("query", raw, ERROR_INVALID_QUERY))?;
    Filter::parse_with_dates(&v, dates).map_err(|e| reason_error("query", &e, ERROR_INVALID_QUERY))
}

/// Parses the `sort` parameter: a JSON object whose values are all 1 or -1;
/// the values at paths `dates` order as dates.
pub fn parse_sort_param(raw: &str, dates: &[&str]) -> Result<Sort, ParamError> {
    let v = parse_object(raw).ok_or_else(|| raw_error("sort", raw, ERROR_INVALID_SORT))?;
    Sort::parse_with_dates(&v, dates).map_err(|_| raw_error("sort", raw, ERROR_INVALID_SORT))
}

fn hidden(key: &str) -> bool {
    let head = key.split('.').next().unwrap_or(key);
    HIDDEN_FIELDS.contains(&head)
}

/// Parses the `fields` parameter: a JSON object with values 0/1
/// (`true`/`false` accepted). Hidden fields are dropped from the
/// specification and always removed from the output.
pub fn parse_fields_param(raw: &str) -> Result<Projection, ParamError> {
    let v = parse_object(raw).ok_or_else(|| raw_error("fields", raw, ERROR_INVALID_FIELDS))?;
    let Value::Object(m) = v else {
        return Err(raw_error("fields", raw, ERROR_INVALID_FIELDS));
    };
    let mut kept = serde_json::Map::new();
    for (k, val) in m {
        let ok = match &val {
            Value::Bool(_) => true,
            Value::Number(n) => matches!(n.as_f64(), Some(x) if x == 0.0 || x == 1.0),
            _ => false,
        };
        if !ok {
            return Err(raw_error("fields", raw, ERROR_INVALID_FIELDS));
        }
        if !hidden(&k) {
            kept.insert(k, val);
        }
    }
    Projection::parse(&Value::Object(kept))
        .map(|p| p.with_always_excluded(&HIDDEN_FIELDS))
        .map_err(|e| reason_error("fields", &e, ERROR_INVALID_FIELDS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_messages() {
        let e = parse_query_param("{bad", &[]).unwrap_err();
        assert_eq!(e.error, "Invalid query parameter provided: \"{bad\" [error-invalid-query]");
        assert_eq!(e.error_type, "error-invalid-query");
        let e = parse_query_param("[1]", &[]).unwrap_err();
        assert_eq!(e.error, "Invalid query parameter provided: \"[1]\" [error-invalid-query]");
        let e = parse_query_param(r#"{"$where":"1"}"#, &[]).unwrap_err();
        assert_eq!(e.error, "Invalid query parameter provided: operator $where is not allowed [error-invalid-query]");
        let e = parse_query_param(r#"{"a":{"$foo":1}}"#, &[]).unwrap_err();
        assert_eq!(e.error, "Invalid query parameter provided: unknown operator $foo [error-invalid-query]");
        assert_eq!(e.error_type, ERROR_INVALID_QUERY);
        assert!(parse_query_param(r#"{"name":{"$regex":"g"}}"#, &[]).unwrap().matches(&json!({"name": "dog"})));
    }

    #[test]
    fn sort_messages() {
        let e = parse_sort_param(r#"{"a":2}"#, &[]).unwrap_err();
        assert_eq!(e.error, "Invalid sort parameter provided: \"{\"a\":2}\" [error-invalid-sort]");
        assert_eq!(e.error_type, "error-invalid-sort");
        assert!(parse_sort_param("nope", &[]).is_err());
        assert!(parse_sort_param(r#"{"value":-1,"_id":1}"#, &[]).is_ok());
    }

    #[test]
    fn fields_params() {
        let e = parse_fields_param("{").unwrap_err();
        assert_eq!(e.error, "Invalid fields parameter provided: \"{\" [error-invalid-fields]");
        assert_eq!(e.error_type, "error-invalid-fields");
        assert!(parse_fields_param(r#"{"a":2}"#).is_err());
        assert!(parse_fields_param(r#"{"a":"1"}"#).is_err());
        let e = parse_fields_param(r#"{"a":1,"b":0}"#).unwrap_err();
        assert_eq!(
            e.error,
            "Invalid fields parameter provided: Cannot do exclusion on field b in inclusion projection [error-invalid-fields]"
        );
        let doc =
            json!({"_id": "i", "username": "u", "joinCode": "x", "members": [1], "importIds": [], "e2e": "k", "z": 1});
        let p = parse_fields_param(r#"{"username":1,"joinCode":1,"members.x":1}"#).unwrap();
        assert_eq!(p.apply(&doc), json!({"_id": "i", "username": "u"}));
        let p = parse_fields_param(r#"{"z":0}"#).unwrap();
        assert_eq!(p.apply(&doc), json!({"_id": "i", "username": "u"}));
        let p = parse_fields_param(r#"{"e2e":0}"#).unwrap();
        assert_eq!(p.apply(&doc), json!({"_id": "i", "username": "u", "z": 1}));
        let p = parse_fields_param(r#"{"z":true}"#).unwrap();
        assert_eq!(p.apply(&doc), json!({"_id": "i", "z": 1}));
    }
}
