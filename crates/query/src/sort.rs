//! Sort specifications (`sort`): several keys, `1` ascending / `-1`
//! descending, compared in MongoDB's cross-type order.
//!
//! Sort key of a document for a path (as MongoDB computes it):
//! - missing or `null` → `null`;
//! - an array contributes its elements (one level); ascending uses the
//!   smallest, descending the largest;
//! - an empty array sorts below `null` (MongoDB's `undefined`);
//! - paths through arrays of documents collect every reachable value.
//!
//! Ties keep the input order ([`Sort::sort_values`] is stable).

use crate::error::QueryError;
use crate::limits;
use crate::parse::check_shape;
use crate::path::{Cand, Path, any_cand};
use crate::value::{RANK_DATE, RANK_UNDEFINED, cmp_values, parse_iso_millis, rank};
use serde_json::Value;
use std::cmp::Ordering;

#[derive(Clone, Debug)]
pub struct Sort {
    /// (path, ascending, the path is a declared date field)
    keys: Vec<(Path, bool, bool)>,
}

/// A computed sort key: `None` is `undefined` (empty array).
#[derive(Clone, Copy, Debug)]
enum Key<'a> {
    Undefined,
    Null,
    Val(&'a Value),
    /// An ISO string in a date field: a date, after every other type.
    Date(i64),
}

impl Key<'_> {
    fn cmp(&self, other: &Key) -> Ordering {
        match (self, other) {
            (Key::Val(a), Key::Val(b)) => cmp_values(a, b),
            (Key::Date(a), Key::Date(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
    fn rank(&self) -> u8 {
        match self {
            Key::Undefined => RANK_UNDEFINED,
            Key::Null => rank(&Value::Null),
            Key::Val(v) => rank(v),
            Key::Date(_) => RANK_DATE,
        }
    }
}

fn sort_key<'a>(doc: &'a Value, path: &Path, asc: bool, date: bool) -> Key<'a> {
    let val = |v: &'a Value| match v {
        Value::String(s) if date => parse_iso_millis(s).map_or(Key::Val(v), Key::Date),
        _ => Key::Val(v),
    };
    let mut best: Option<Key<'a>> = None;
    let mut consider = |k: Key<'a>| {
        best = Some(match best {
            None => k,
            Some(b) => {
                let o = k.cmp(&b);
                if (asc && o == Ordering::Less) || (!asc && o == Ordering::Greater) { k } else { b }
            }
        });
    };
    any_cand(doc, &path.segs, &mut |c| {
        match c {
            Cand::Missing => consider(Key::Null),
            Cand::Val(Value::Null) => consider(Key::Null),
            Cand::Val(Value::Array(a)) if a.is_empty() => consider(Key::Undefined),
            Cand::Val(Value::Array(a)) => {
                for e in a {
                    consider(if e.is_null() { Key::Null } else { val(e) });
                }
            }
            Cand::Val(v) => consider(val(v)),
        }
        false
    });
    best.unwrap_or(Key::Null)
}

impl Sort {
    /// Parses `{field: 1|-1, ...}`. Every value must be exactly `1` or `-1`.
    pub fn parse(v: &Value) -> Result<Sort, QueryError> {
        Sort::parse_with_dates(v, &[])
    }

    /// [`Sort::parse`] where the values at paths `dates` are dates stored as
    /// ISO strings: they order as dates (by instant, after every other type).
    pub fn parse_with_dates(v: &Value, dates: &[&str]) -> Result<Sort, QueryError> {
        let Value::Object(m) = v else {
            return Err(QueryError::Sort("sort must be an object".into()));
        };
        check_shape(v)?;
        if m.len() > limits::MAX_KEYS {
            return Err(QueryError::Limit("too many sort keys"));
        }
        let mut keys = Vec::with_capacity(m.len());
        for (k, d) in m {
            let asc = match d.as_f64() {
                Some(1.0) => true,
                Some(-1.0) => false,
                _ => {
                    return Err(QueryError::Sort(format!("sort order for {k} must be 1 or -1")));
                }
            };
            let path = Path::parse(k).map_err(|e| QueryError::Sort(e.to_string()))?;
            let date = dates.contains(&path.raw.as_str());
            keys.push((path, asc, date));
        }
        Ok(Sort { keys })
    }

    /// Builds a sort from trusted code: `[("name", true), ("_id", false)]`.
    pub fn by(keys: &[(&str, bool)]) -> Sort {
        Sort { keys: keys.iter().map(|(p, a)| (Path::trusted(p), *a, false)).collect() }
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Orders two documents.
    pub fn compare(&self, a: &Value, b: &Value) -> Ordering {
        for (path, asc, date) in &self.keys {
            let o = sort_key(a, path, *asc, *date).cmp(&sort_key(b, path, *asc, *date));
            let o = if *asc { o } else { o.reverse() };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }

    /// Sorts documents in place, stably (equal documents keep their order).
    pub fn sort_values(&self, docs: &mut Vec<Value>) {
        if self.keys.is_empty() || docs.len() < 2 {
            return;
        }
        let order = self.order(docs);
        let mut slots: Vec<Option<Value>> = std::mem::take(docs).into_iter().map(Some).collect();
        docs.extend(order.into_iter().map(|i| slots[i].take().unwrap_or(Value::Null)));
    }

    /// The positions of `docs` in sorted order, stably (equal documents keep their order): the
    /// order [`Sort::sort_values`] puts them in, and a sort by [`Sort::compare`]. Each
    /// document's sort keys are read once, not at every comparison.
    pub fn order(&self, docs: &[Value]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..docs.len()).collect();
        if self.keys.is_empty() || docs.len() < 2 {
            return order;
        }
        // Document i's keys are keys[i * width..][..width].
        let width = self.keys.len();
        let keys: Vec<Key> =
            docs.iter().flat_map(|d| self.keys.iter().map(|(p, asc, date)| sort_key(d, p, *asc, *date))).collect();
        order.sort_by(|&i, &j| {
            for (n, (_, asc, _)) in self.keys.iter().enumerate() {
                let o = keys[i * width + n].cmp(&keys[j * width + n]);
                let o = if *asc { o } else { o.reverse() };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sorted(spec: Value, docs: Vec<Value>) -> Vec<Value> {
        let mut d = docs;
        Sort::parse(&spec).unwrap().sort_values(&mut d);
        d
    }

    fn ids(v: &[Value]) -> Vec<i64> {
        v.iter().map(|d| d["_id"].as_i64().unwrap()).collect()
    }

    #[test]
    fn order_is_a_stable_sort_by_compare() {
        let values = [json!(2), json!("s"), json!(null), json!([2, 1]), json!({"a": 1}), json!(true), json!(1.5)];
        let docs: Vec<Value> = (0..70)
            .map(|i| {
                let mut d = json!({"_id": i, "v": values[i % 7].clone(), "n": format!("n{}", i % 5),
                    "d": format!("2026-01-0{}T00:00:00.000Z", 1 + i % 4)});
                if i % 11 == 0 {
                    d.as_object_mut().unwrap().remove("v");
                }
                d
            })
            .collect();
        for spec in [json!({"v": 1}), json!({"v": -1, "_id": 1}), json!({"d": -1}), json!({"n": 1, "v": -1})] {
            let sort = Sort::parse_with_dates(&spec, &["d"]).unwrap();
            let mut by_compare: Vec<usize> = (0..docs.len()).collect();
            by_compare.sort_by(|&a, &b| sort.compare(&docs[a], &docs[b]));
            assert_eq!(sort.order(&docs), by_compare, "{spec}");
            assert!(by_compare.windows(2).any(|w| w[0] > w[1]), "{spec} reorders");
        }
        assert_eq!(Sort::parse(&json!({})).unwrap().order(&docs), (0..docs.len()).collect::<Vec<_>>());
    }

    #[test]
    fn multi_key_stable() {
        let docs = vec![
            json!({"_id": 1, "v": 2, "n": "b"}),
            json!({"_id": 2, "v": 1, "n": "a"}),
            json!({"_id": 3, "v": 2, "n": "a"}),
            json!({"_id": 4, "v": 1, "n": "a"}),
        ];
        assert_eq!(ids(&sorted(json!({"v": -1, "n": 1}), docs.clone())), vec![3, 1, 2, 4]);
        assert_eq!(ids(&sorted(json!({"n": 1}), docs.clone())), vec![2, 3, 4, 1]);
        assert_eq!(ids(&sorted(json!({}), docs)), vec![1, 2, 3, 4]);
    }

    #[test]
    fn cross_type_and_missing() {
        let docs = vec![
            json!({"_id": 1, "v": true}),
            json!({"_id": 2, "v": "s"}),
            json!({"_id": 3}),
            json!({"_id": 4, "v": 3}),
            json!({"_id": 5, "v": null}),
            json!({"_id": 6, "v": {"a": 1}}),
            json!({"_id": 7, "v": 2.5}),
        ];
        // missing and null tie (stable), then numbers, strings, objects, booleans
        assert_eq!(ids(&sorted(json!({"v": 1}), docs.clone())), vec![3, 5, 7, 4, 2, 6, 1]);
        assert_eq!(ids(&sorted(json!({"v": -1}), docs)), vec![1, 6, 2, 4, 7, 3, 5]);
    }

    #[test]
    fn arrays_min_asc_max_desc() {
        let docs = vec![
            json!({"_id": 1, "v": [5, 1]}),
            json!({"_id": 2, "v": 3}),
            json!({"_id": 3, "v": [2, 4]}),
            json!({"_id": 4, "v": []}),
        ];
        // asc keys: 1, 3, 2, undefined
        assert_eq!(ids(&sorted(json!({"v": 1}), docs.clone())), vec![4, 1, 3, 2]);
        // desc keys: 5, 3, 4, undefined
        assert_eq!(ids(&sorted(json!({"v": -1}), docs)), vec![1, 3, 2, 4]);
    }

    #[test]
    fn dotted_paths() {
        let docs = vec![
            json!({"_id": 1, "a": {"b": 2}}),
            json!({"_id": 2, "a": [{"b": 5}, {"b": 0}]}),
            json!({"_id": 3, "a": {"c": 1}}),
        ];
        assert_eq!(ids(&sorted(json!({"a.b": 1}), docs.clone())), vec![3, 2, 1]);
        assert_eq!(ids(&sorted(json!({"a.b": -1}), docs)), vec![2, 1, 3]);
    }

    #[test]
    fn validation() {
        assert!(Sort::parse(&json!({"a": 2})).is_err());
        assert!(Sort::parse(&json!({"a": "1"})).is_err());
        assert!(Sort::parse(&json!({"a": true})).is_err());
        assert!(Sort::parse(&json!([1])).is_err());
        assert!(Sort::parse(&json!({"__proto__": 1})).is_err());
        assert!(Sort::parse(&json!({"a": -1.0})).is_ok());
        let s = Sort::parse(&json!({"a": 1})).unwrap();
        assert_eq!(s.compare(&json!({"a": 1}), &json!({"a": 1.0})), Ordering::Equal);
    }
}
