//! Field projections (`fields`): inclusion or exclusion, with MongoDB's rules
//! and error messages.
//!
//! - `{a: 1, "b.c": 1}` keeps `_id`, `a` and `b.c`; `{a: 0}` drops `a`.
//! - Inclusion and exclusion cannot be mixed, except for `_id`:
//!   "Cannot do exclusion on field b in inclusion projection" /
//!   "Cannot do inclusion on field b in exclusion projection".
//! - A path and its prefix cannot both appear: "Path collision at a.b
//!   remaining portion b" / "Path collision at a".
//! - Dotted paths descend through arrays (each document element is
//!   projected; an inclusion drops the array's non-document elements).
//!   Numeric segments are field names here, as in MongoDB.

use crate::error::QueryError;
use crate::limits;
use crate::parse::check_shape;
use crate::path::check_key;
use serde_json::{Map, Value};

#[derive(Clone, Debug, Default)]
struct Trie {
    /// The path ends here (the whole value is included/excluded).
    leaf: bool,
    kids: Vec<(String, Trie)>,
}

impl Trie {
    fn get(&self, k: &str) -> Option<&Trie> {
        self.kids.iter().find(|(n, _)| n == k).map(|(_, t)| t)
    }

    fn insert(&mut self, raw: &str) -> Result<(), QueryError> {
        let parts: Vec<&str> = raw.split('.').collect();
        let mut cur = self;
        for (i, p) in parts.iter().enumerate() {
            if cur.leaf {
                return Err(QueryError::Projection(format!(
                    "Path collision at {raw} remaining portion {}",
                    parts[i..].join(".")
                )));
            }
            let pos = match cur.kids.iter().position(|(n, _)| n == p) {
                Some(pos) => pos,
                None => {
                    cur.kids.push(((*p).to_owned(), Trie::default()));
                    cur.kids.len() - 1
                }
            };
            cur = &mut cur.kids[pos].1;
        }
        if cur.leaf || !cur.kids.is_empty() {
            return Err(QueryError::Projection(format!("Path collision at {raw}")));
        }
        cur.leaf = true;
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// No fields listed: everything is kept.
    All,
    Include,
    Exclude,
}

/// A parsed projection.
#[derive(Clone, Debug)]
pub struct Projection {
    mode: Mode,
    trie: Trie,
    /// `_id` is kept (inclusion) / not removed (exclusion).
    keep_id: bool,
    /// Top-level fields removed from every output whatever the projection.
    always_exclude: Vec<String>,
}

fn truthy(k: &str, v: &Value) -> Result<bool, QueryError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) => Ok(n.as_f64().is_some_and(|f| f != 0.0)),
        _ => Err(QueryError::Projection(format!("Unsupported projection option: {k}: {v}"))),
    }
}

impl Projection {
    /// Returns every field unchanged.
    pub fn all() -> Projection {
        Projection { mode: Mode::All, trie: Trie::default(), keep_id: true, always_exclude: Vec::new() }
    }

    /// Parses `{field: 0|1|true|false, ...}`.
    pub fn parse(v: &Value) -> Result<Projection, QueryError> {
        let Value::Object(m) = v else {
            return Err(QueryError::Projection("projection must be an object".into()));
        };
        check_shape(v)?;
        if m.len() > limits::MAX_KEYS {
            return Err(QueryError::Limit("too many projection fields"));
        }
        let mut p = Projection::all();
        for (k, val) in m {
            if k.is_empty() || k.split('.').any(|s| s.is_empty()) {
                return Err(QueryError::Projection(format!("FieldPath field names may not be empty strings: {k}")));
            }
            if k.starts_with('$') || k.split('.').any(|s| s.starts_with('$')) {
                return Err(QueryError::Projection(format!("FieldPath field names may not start with '$': {k}")));
            }
            for s in k.split('.') {
                check_key(s)?;
            }
            if k.split('.').count() > limits::MAX_PATH_SEGMENTS {
                return Err(QueryError::Limit("path has too many segments"));
            }
            let inc = truthy(k, val)?;
            if k == "_id" {
                p.keep_id = inc;
                continue;
            }
            match (p.mode, inc) {
                (Mode::All, true) => p.mode = Mode::Include,
                (Mode::All, false) => p.mode = Mode::Exclude,
                (Mode::Include, false) => {
                    return Err(QueryError::Projection(format!(
                        "Cannot do exclusion on field {k} in inclusion projection"
                    )));
                }
                (Mode::Exclude, true) => {
                    return Err(QueryError::Projection(format!(
                        "Cannot do inclusion on field {k} in exclusion projection"
                    )));
                }
                _ => {}
            }
            p.trie.insert(k)?;
        }
        if p.mode == Mode::All && !p.keep_id {
            p.mode = Mode::Exclude;
        }
        if p.mode == Mode::All && m.contains_key("_id") {
            // {_id: 1}: inclusion of _id alone
            p.mode = Mode::Include;
        }
        Ok(p)
    }

    /// Adds top-level fields that are removed from every output.
    pub fn with_always_excluded(mut self, fields: &[&str]) -> Projection {
        self.always_exclude.extend(fields.iter().map(|s| (*s).to_owned()));
        self
    }

    /// Is this an inclusion projection?
    pub fn is_inclusion(&self) -> bool {
        self.mode == Mode::Include
    }

    /// Projects one document.
    pub fn apply(&self, doc: &Value) -> Value {
        let mut out = match (self.mode, doc) {
            (Mode::All, _) => doc.clone(),
            (Mode::Include, Value::Object(m)) => {
                let mut o = Map::new();
                for (k, v) in m {
                    if k == "_id" && !self.trie.kids.iter().any(|(n, _)| n == "_id") {
                        if self.keep_id {
                            o.insert(k.clone(), v.clone());
                        }
                        continue;
                    }
                    if let Some(t) = self.trie.get(k)
                        && let Some(pv) = include(v, t)
                    {
                        o.insert(k.clone(), pv);
                    }
                }
                Value::Object(o)
            }
            (Mode::Exclude, Value::Object(_)) => {
                let mut d = doc.clone();
                if let Value::Object(m) = &mut d
                    && !self.keep_id
                {
                    m.shift_remove("_id");
                }
                exclude(&mut d, &self.trie);
                d
            }
            _ => doc.clone(),
        };
        if let Value::Object(m) = &mut out {
            for k in &self.always_exclude {
                m.shift_remove(k);
            }
        }
        out
    }
}

fn include(v: &Value, t: &Trie) -> Option<Value> {
    if t.leaf {
        return Some(v.clone());
    }
    match v {
        Value::Object(m) => {
            let mut o = Map::new();
            for (k, c) in m {
                if let Some(sub) = t.get(k)
                    && let Some(pv) = include(c, sub)
                {
                    o.insert(k.clone(), pv);
                }
            }
            Some(Value::Object(o))
        }
        Value::Array(a) => Some(Value::Array(
            a.iter().filter(|e| e.is_object() || e.is_array()).filter_map(|e| include(e, t)).collect(),
        )),
        _ => None,
    }
}

fn exclude(v: &mut Value, t: &Trie) {
    match v {
        Value::Object(m) => {
            for (k, sub) in &t.kids {
                if sub.leaf {
                    m.shift_remove(k);
                } else if let Some(c) = m.get_mut(k) {
                    exclude(c, sub);
                }
            }
        }
        Value::Array(a) => {
            for e in a {
                exclude(e, t);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(v: Value) -> Projection {
        Projection::parse(&v).unwrap()
    }
    fn err(v: Value) -> String {
        Projection::parse(&v).unwrap_err().to_string()
    }

    #[test]
    fn inclusion_keeps_id_and_order() {
        let d = json!({"_id": "x", "a": 1, "b": {"c": 2, "d": 3}, "e": 4});
        assert_eq!(p(json!({"e": 1, "a": 1})).apply(&d), json!({"_id": "x", "a": 1, "e": 4}));
        assert_eq!(p(json!({"b.c": 1})).apply(&d), json!({"_id": "x", "b": {"c": 2}}));
        assert_eq!(p(json!({"a": 1, "_id": 0})).apply(&d), json!({"a": 1}));
        assert_eq!(p(json!({"_id": 1})).apply(&d), json!({"_id": "x"}));
        assert_eq!(p(json!({"a": true})).apply(&d), json!({"_id": "x", "a": 1}));
        // missing fields are simply absent
        assert_eq!(p(json!({"zz": 1})).apply(&d), json!({"_id": "x"}));
        // b.c.x on a scalar: nothing; on a document without it: empty document
        assert_eq!(p(json!({"a.x": 1})).apply(&d), json!({"_id": "x"}));
        assert_eq!(p(json!({"b.x": 1})).apply(&d), json!({"_id": "x", "b": {}}));
    }

    #[test]
    fn exclusion() {
        let d = json!({"_id": "x", "a": 1, "b": {"c": 2, "d": 3}});
        assert_eq!(p(json!({"a": 0})).apply(&d), json!({"_id": "x", "b": {"c": 2, "d": 3}}));
        assert_eq!(p(json!({"b.c": 0, "_id": 0})).apply(&d), json!({"a": 1, "b": {"d": 3}}));
        assert_eq!(p(json!({"_id": 0})).apply(&d), json!({"a": 1, "b": {"c": 2, "d": 3}}));
        assert_eq!(p(json!({"a": false})).apply(&d), json!({"_id": "x", "b": {"c": 2, "d": 3}}));
        assert_eq!(p(json!({})).apply(&d), d);
    }

    #[test]
    fn arrays() {
        let d = json!({"_id": 1, "a": [{"b": 1, "c": 2}, 5, {"c": 3}, [{"b": 4}]]});
        assert_eq!(p(json!({"a.b": 1})).apply(&d), json!({"_id": 1, "a": [{"b": 1}, {}, [{"b": 4}]]}));
        assert_eq!(p(json!({"a.b": 0})).apply(&d), json!({"_id": 1, "a": [{"c": 2}, 5, {"c": 3}, [{}]]}));
    }

    #[test]
    fn mongo_errors() {
        assert_eq!(err(json!({"a": 1, "b": 0})), "Cannot do exclusion on field b in inclusion projection");
        assert_eq!(err(json!({"a": 0, "b": 1})), "Cannot do inclusion on field b in exclusion projection");
        assert_eq!(err(json!({"a": 1, "a.b": 1})), "Path collision at a.b remaining portion b");
        assert_eq!(err(json!({"a.b": 1, "a": 1})), "Path collision at a");
        assert!(err(json!({"a": "x"})).starts_with("Unsupported projection option"));
        assert!(err(json!({"$a": 1})).contains("'$'"));
        assert!(Projection::parse(&json!({"__proto__": 1})).is_err());
        // _id may be mixed with either mode
        assert!(Projection::parse(&json!({"_id": 0, "a": 1})).is_ok());
        assert!(Projection::parse(&json!({"_id": 1, "a": 0})).is_ok());
    }

    #[test]
    fn always_excluded() {
        let d = json!({"_id": 1, "a": 1, "joinCode": "s"});
        let pr = p(json!({})).with_always_excluded(&["joinCode"]);
        assert_eq!(pr.apply(&d), json!({"_id": 1, "a": 1}));
    }
}
