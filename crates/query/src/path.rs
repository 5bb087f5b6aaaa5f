//! Dotted paths and MongoDB's traversal of sub-documents and arrays.
//!
//! For matching, a path yields *candidates*:
//! - an object step looks the field up; absent → `Missing`;
//! - a numeric step on an array indexes it (absent index → `Missing`);
//! - a named step on an array descends into every element that is an object
//!   (each may yield `Missing`); scalar and nested-array elements yield nothing;
//! - a step on a scalar or null → `Missing`.
//!
//! Operators then look at each candidate and, when it is an array, at its
//! elements (one level), as MongoDB does.

use crate::doc::{DocValue, Kind, key_hash};
use crate::error::QueryError;
use serde_json::Value;

/// Keys that are rejected anywhere in a query, projection or sort.
pub const FORBIDDEN_KEYS: [&str; 3] = ["__proto__", "constructor", "prototype"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seg {
    pub name: String,
    /// Set when the segment is all digits: an array index.
    pub index: Option<usize>,
    /// `key_hash(name)`, for fast lookups in a `DocSet`.
    pub hash: u32,
}

impl Seg {
    pub fn new(name: &str) -> Seg {
        let index = if !name.is_empty() && name.len() <= 9 && name.bytes().all(|b| b.is_ascii_digit()) {
            name.parse().ok()
        } else {
            None
        };
        Seg { name: name.to_owned(), index, hash: key_hash(name) }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    pub raw: String,
    pub segs: Vec<Seg>,
}

impl Path {
    /// Parses a dotted path. Empty segments, `$`-prefixed segments and the
    /// forbidden keys are errors.
    pub fn parse(raw: &str) -> Result<Path, QueryError> {
        if raw.is_empty() {
            return Err(QueryError::InvalidPath(raw.to_owned()));
        }
        let mut segs = Vec::new();
        for part in raw.split('.') {
            if part.is_empty() || part.starts_with('$') {
                return Err(QueryError::InvalidPath(raw.to_owned()));
            }
            check_key(part)?;
            segs.push(Seg::new(part));
        }
        if segs.len() > crate::limits::MAX_PATH_SEGMENTS {
            return Err(QueryError::Limit("path has too many segments"));
        }
        Ok(Path { raw: raw.to_owned(), segs })
    }

    /// Builds a path from trusted code without validation.
    pub(crate) fn trusted(raw: &str) -> Path {
        Path { raw: raw.to_owned(), segs: raw.split('.').map(Seg::new).collect() }
    }
}

/// Rejects `__proto__`, `constructor` and `prototype`.
pub fn check_key(k: &str) -> Result<(), QueryError> {
    if FORBIDDEN_KEYS.contains(&k) {
        return Err(QueryError::ForbiddenKey(k.to_owned()));
    }
    Ok(())
}

#[derive(Clone, Copy, Debug)]
pub enum Cand<D> {
    Missing,
    Val(D),
}

/// Calls `f` on each candidate of `segs` in `v`; stops and returns true as
/// soon as `f` does.
#[inline]
pub fn any_cand<'a, D: DocValue<'a>, F: FnMut(Cand<D>) -> bool>(v: D, segs: &[Seg], f: &mut F) -> bool {
    let Some((seg, rest)) = segs.split_first() else {
        return f(Cand::Val(v));
    };
    match v.kind() {
        Kind::Object => match v.get_hashed(&seg.name, seg.hash) {
            Some(c) => any_cand(c, rest, f),
            None => f(Cand::Missing),
        },
        Kind::Array => {
            if let Some(i) = seg.index {
                match v.at(i) {
                    Some(c) => any_cand(c, rest, f),
                    None => f(Cand::Missing),
                }
            } else {
                for e in v.elems() {
                    if e.is_object() && any_cand(e, segs, f) {
                        return true;
                    }
                }
                false
            }
        }
        _ => f(Cand::Missing),
    }
}

/// Looks a plain path up without array traversal (used by projection-free
/// helpers and SQL tests).
pub fn get_simple<'a>(v: &'a Value, segs: &[Seg]) -> Option<&'a Value> {
    let mut cur = v;
    for s in segs {
        cur = match cur {
            Value::Object(m) => m.get(&s.name)?,
            Value::Array(a) => a.get(s.index?)?,
            _ => return None,
        };
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cands(v: &Value, p: &str) -> Vec<Option<Value>> {
        let p = Path::parse(p).unwrap();
        let mut out = Vec::new();
        any_cand(v, &p.segs, &mut |c: Cand<&Value>| {
            out.push(match c {
                Cand::Missing => None,
                Cand::Val(v) => Some(v.clone()),
            });
            false
        });
        out
    }

    #[test]
    fn traversal() {
        let d = json!({"a": [{"b": 1}, {"c": 2}, 3, [{"b": 9}]], "x": {"y": null}, "s": 5});
        assert_eq!(cands(&d, "a.b"), vec![Some(json!(1)), None]);
        assert_eq!(cands(&d, "a.0.b"), vec![Some(json!(1))]);
        assert_eq!(cands(&d, "a.7"), vec![None]);
        assert_eq!(cands(&d, "x.y"), vec![Some(json!(null))]);
        assert_eq!(cands(&d, "x.y.z"), vec![None]);
        assert_eq!(cands(&d, "s.t"), vec![None]);
        assert_eq!(cands(&d, "nope"), vec![None]);
    }

    #[test]
    fn path_validation() {
        assert!(Path::parse("a..b").is_err());
        assert!(Path::parse("").is_err());
        assert!(Path::parse("a.$b").is_err());
        assert!(matches!(Path::parse("a.__proto__"), Err(QueryError::ForbiddenKey(_))));
        assert!(matches!(Path::parse("constructor"), Err(QueryError::ForbiddenKey(_))));
        assert_eq!(Path::parse("a.01").unwrap().segs[1].index, Some(1));
    }
}
