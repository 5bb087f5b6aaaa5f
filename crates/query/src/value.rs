//! Values, MongoDB's cross-type (BSON) ordering, and dates.
//!
//! Documents are plain `serde_json::Value`s. Query literals are [`Lit`]s: the
//! same shapes plus a `Date` (from extended JSON `{"$date": ..}`).
//!
//! Date rule: documents store dates as ISO-8601 strings with milliseconds and
//! `Z` (`"2025-01-01T12:00:00.000Z"`, exactly 24 characters, valid calendar
//! fields). Such a string is a date (BSON date bracket, compared by instant)
//! when it is read through a path the filter or sort declares as a date
//! field ([`Kind::Date`], see `dated.rs`); anywhere else it is an ordinary
//! string, and a string never equals or compares with a date.

use crate::doc::{DocValue, Kind, Num, bytes_eq};
use serde_json::{Map, Number, Value};
use std::cmp::Ordering;

/// A literal value from a query.
#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    Null,
    Bool(bool),
    Num(Number),
    Str(String),
    /// Milliseconds since the Unix epoch.
    Date(i64),
    Array(Vec<Lit>),
    Object(Vec<(String, Lit)>),
}

impl Lit {
    /// Converts a plain JSON value (no extended JSON interpretation).
    pub fn from_json(v: &Value) -> Lit {
        match v {
            Value::Null => Lit::Null,
            Value::Bool(b) => Lit::Bool(*b),
            Value::Number(n) => Lit::Num(n.clone()),
            Value::String(s) => Lit::Str(s.clone()),
            Value::Array(a) => Lit::Array(a.iter().map(Lit::from_json).collect()),
            Value::Object(o) => Lit::Object(o.iter().map(|(k, v)| (k.clone(), Lit::from_json(v))).collect()),
        }
    }

    /// Converts back to JSON; dates become `{"$date": "<ISO>"}` (or a number
    /// of milliseconds when outside years 0000-9999).
    pub fn to_json(&self) -> Value {
        match self {
            Lit::Null => Value::Null,
            Lit::Bool(b) => Value::Bool(*b),
            Lit::Num(n) => Value::Number(n.clone()),
            Lit::Str(s) => Value::String(s.clone()),
            Lit::Date(ms) => {
                let mut m = Map::new();
                m.insert(
                    "$date".into(),
                    match format_iso_millis(*ms) {
                        Some(s) => Value::String(s),
                        None => Value::from(*ms),
                    },
                );
                Value::Object(m)
            }
            Lit::Array(a) => Value::Array(a.iter().map(Lit::to_json).collect()),
            Lit::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Lit::Null)
    }
}

impl From<&str> for Lit {
    fn from(s: &str) -> Lit {
        Lit::Str(s.to_owned())
    }
}
impl From<String> for Lit {
    fn from(s: String) -> Lit {
        Lit::Str(s)
    }
}
impl From<bool> for Lit {
    fn from(b: bool) -> Lit {
        Lit::Bool(b)
    }
}
impl From<i64> for Lit {
    fn from(n: i64) -> Lit {
        Lit::Num(n.into())
    }
}
impl From<Value> for Lit {
    fn from(v: Value) -> Lit {
        Lit::from_json(&v)
    }
}

// Canonical type ranks (MongoDB's canonicalizeBSONType order).
pub(crate) const RANK_UNDEFINED: u8 = 0; // empty array as a sort key
pub(crate) const RANK_NULL: u8 = 5; // null and missing
pub(crate) const RANK_NUMBER: u8 = 10;
pub(crate) const RANK_STRING: u8 = 15;
pub(crate) const RANK_OBJECT: u8 = 20;
pub(crate) const RANK_ARRAY: u8 = 25;
pub(crate) const RANK_BOOL: u8 = 40;
pub(crate) const RANK_DATE: u8 = 45;

pub(crate) fn rank(v: &Value) -> u8 {
    match v {
        Value::Null => RANK_NULL,
        Value::Bool(_) => RANK_BOOL,
        Value::Number(_) => RANK_NUMBER,
        Value::String(_) => RANK_STRING,
        Value::Array(_) => RANK_ARRAY,
        Value::Object(_) => RANK_OBJECT,
    }
}

pub(crate) fn lit_rank(l: &Lit) -> u8 {
    match l {
        Lit::Null => RANK_NULL,
        Lit::Bool(_) => RANK_BOOL,
        Lit::Num(_) => RANK_NUMBER,
        Lit::Str(_) => RANK_STRING,
        Lit::Date(_) => RANK_DATE,
        Lit::Array(_) => RANK_ARRAY,
        Lit::Object(_) => RANK_OBJECT,
    }
}

fn cmp_int_float(i: i128, f: f64) -> Ordering {
    if f.is_nan() {
        // MongoDB orders NaN below every other number.
        return Ordering::Greater;
    }
    let fi = i as f64;
    match fi.partial_cmp(&f) {
        Some(Ordering::Equal) => {
            // `f` is integral and close to `i`; compare exactly.
            i.cmp(&(f as i128))
        }
        Some(o) => o,
        None => Ordering::Equal,
    }
}

/// Numbers compare by value: `1` equals `1.0`.
pub fn cmp_num(a: Num, b: Num) -> Ordering {
    let int = |n: Num| match n {
        Num::I(i) => Some(i as i128),
        Num::U(u) => Some(u as i128),
        Num::F(_) => None,
    };
    match (a, b) {
        (Num::F(x), Num::F(y)) => match (x.is_nan(), y.is_nan()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            _ => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        },
        (Num::F(x), _) => cmp_int_float(int(b).unwrap_or(0), x).reverse(),
        (_, Num::F(y)) => cmp_int_float(int(a).unwrap_or(0), y),
        _ => int(a).cmp(&int(b)),
    }
}

/// Numbers compare by value: `1` equals `1.0`.
pub fn cmp_numbers(a: &Number, b: &Number) -> Ordering {
    cmp_num(a.into(), b.into())
}

/// MongoDB's total order over document values (used by sort).
pub fn cmp_values(a: &Value, b: &Value) -> Ordering {
    let (ra, rb) = (rank(a), rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => cmp_numbers(x, y),
        (Value::String(x), Value::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                let o = cmp_values(p, q);
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            for ((ka, va), (kb, vb)) in x.iter().zip(y.iter()) {
                let o = rank(va).cmp(&rank(vb));
                if o != Ordering::Equal {
                    return o;
                }
                let o = ka.as_bytes().cmp(kb.as_bytes());
                if o != Ordering::Equal {
                    return o;
                }
                let o = cmp_values(va, vb);
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        _ => Ordering::Equal,
    }
}

pub(crate) fn rank_kind(k: &Kind) -> u8 {
    match k {
        Kind::Null => RANK_NULL,
        Kind::Bool(_) => RANK_BOOL,
        Kind::Num(_) => RANK_NUMBER,
        Kind::Str(_) => RANK_STRING,
        Kind::Date(_) => RANK_DATE,
        Kind::Array => RANK_ARRAY,
        Kind::Object => RANK_OBJECT,
    }
}

/// Compares a document value with a query literal in MongoDB's order.
pub fn cmp_value_lit<'a, D: DocValue<'a>>(v: D, l: &Lit) -> Ordering {
    let k = v.kind();
    let (rv, rl) = (rank_kind(&k), lit_rank(l));
    if rv != rl {
        return rv.cmp(&rl);
    }
    match (k, l) {
        (Kind::Date(x), Lit::Date(y)) => x.cmp(y),
        (Kind::Null, Lit::Null) => Ordering::Equal,
        (Kind::Bool(x), Lit::Bool(y)) => x.cmp(y),
        (Kind::Num(x), Lit::Num(y)) => cmp_num(x, y.into()),
        (Kind::Str(x), Lit::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Kind::Array, Lit::Array(y)) => {
            for (p, q) in v.elems().zip(y.iter()) {
                let o = cmp_value_lit(p, q);
                if o != Ordering::Equal {
                    return o;
                }
            }
            v.len().cmp(&y.len())
        }
        (Kind::Object, Lit::Object(y)) => {
            for ((ka, va), (kb, vb)) in v.fields().zip(y.iter()) {
                let o = rank_kind(&va.kind()).cmp(&lit_rank(vb));
                if o != Ordering::Equal {
                    return o;
                }
                let o = ka.as_bytes().cmp(kb.as_bytes());
                if o != Ordering::Equal {
                    return o;
                }
                let o = cmp_value_lit(va, vb);
                if o != Ordering::Equal {
                    return o;
                }
            }
            v.len().cmp(&y.len())
        }
        _ => Ordering::Equal,
    }
}

/// MongoDB equality (comparison-based: numbers by value, objects field by
/// field in order).
#[inline]
pub fn eq_value_lit<'a, D: DocValue<'a>>(v: D, l: &Lit) -> bool {
    // Fast paths for the common scalar cases.
    match (v.kind(), l) {
        (Kind::Str(a), Lit::Str(b)) => bytes_eq(a.as_bytes(), b.as_bytes()),
        (Kind::Str(_), _) | (_, Lit::Str(_)) => false,
        _ => cmp_value_lit(v, l) == Ordering::Equal,
    }
}

/// Same bracket test for `$gt`-style operators: both values must have the
/// same canonical type.
#[inline]
pub fn same_bracket<'a, D: DocValue<'a>>(v: D, l: &Lit) -> bool {
    rank_kind(&v.kind()) == lit_rank(l)
}

// ---------------------------------------------------------------- dates ----

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        _ => 28,
    }
}

fn digits(b: &[u8]) -> Option<i64> {
    let mut n = 0i64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + (c - b'0') as i64;
    }
    Some(n)
}

/// Largest instant a JavaScript `Date` can hold (±8.64e15 ms).
pub const MAX_DATE_MS: i64 = 8_640_000_000_000_000;

/// Parses the stored date shape `YYYY-MM-DDTHH:MM:SS.mmmZ` exactly.
pub fn parse_iso_millis(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 24
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[23] != b'Z'
    {
        return None;
    }
    let y = digits(&b[0..4])?;
    let mo = digits(&b[5..7])?;
    let d = digits(&b[8..10])?;
    let h = digits(&b[11..13])?;
    let mi = digits(&b[14..16])?;
    let sec = digits(&b[17..19])?;
    let ms = digits(&b[20..23])?;
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    Some(((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + ms)
}

/// Formats milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ` (years 0000-9999 only).
pub fn format_iso_millis(ms: i64) -> Option<String> {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return None;
    }
    let (h, rem) = (rem / 3_600_000, rem % 3_600_000);
    let (mi, rem) = (rem / 60_000, rem % 60_000);
    let (s, milli) = (rem / 1000, rem % 1000);
    Some(format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z"))
}

/// Parses the string form of an extended-JSON date: RFC 3339 / ISO 8601
/// `YYYY-MM-DDTHH:MM[:SS[.fraction]](Z|±HH[:]MM)`, or a date alone
/// `YYYY-MM-DD` (midnight UTC). Fractions beyond milliseconds are truncated.
pub fn parse_ejson_date_string(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 10 || b.len() > 40 {
        return None;
    }
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = digits(&b[0..4])?;
    let mo = digits(&b[5..7])?;
    let d = digits(&b[8..10])?;
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    let day_ms = days_from_civil(y, mo, d) * 86_400_000;
    if b.len() == 10 {
        return Some(day_ms);
    }
    if b[10] != b'T' && b[10] != b't' && b[10] != b' ' {
        return None;
    }
    let rest = &b[11..];
    if rest.len() < 5 || rest[2] != b':' {
        return None;
    }
    let h = digits(&rest[0..2])?;
    let mi = digits(&rest[3..5])?;
    let mut i = 5;
    let mut sec = 0;
    let mut milli = 0;
    if rest.len() > i && rest[i] == b':' {
        sec = digits(rest.get(i + 1..i + 3)?)?;
        i += 3;
        if rest.len() > i && (rest[i] == b'.' || rest[i] == b',') {
            i += 1;
            let start = i;
            while i < rest.len() && rest[i].is_ascii_digit() {
                i += 1;
            }
            let frac = &rest[start..i];
            if frac.is_empty() {
                return None;
            }
            let mut scale = 100;
            for &c in frac.iter().take(3) {
                milli += (c - b'0') as i64 * scale;
                scale /= 10;
            }
        }
    }
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let tz = &rest[i..];
    let offset_min = match tz {
        [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), hh @ ..] if !hh.is_empty() => {
            let (oh, om) = match hh {
                [a, b2, b':', c, d2] => (digits(&[*a, *b2])?, digits(&[*c, *d2])?),
                [a, b2, c, d2] => (digits(&[*a, *b2])?, digits(&[*c, *d2])?),
                [a, b2] => (digits(&[*a, *b2])?, 0),
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let m = oh * 60 + om;
            if *sign == b'+' { m } else { -m }
        }
        _ => return None,
    };
    Some(day_ms + ((h * 60 + mi - offset_min) * 60 + sec) * 1000 + milli)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn iso_roundtrip() {
        let s = "2025-01-01T12:00:00.000Z";
        let ms = parse_iso_millis(s).unwrap();
        assert_eq!(ms, 1_735_732_800_000);
        assert_eq!(format_iso_millis(ms).unwrap(), s);
        assert_eq!(parse_iso_millis("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(format_iso_millis(-1).unwrap(), "1969-12-31T23:59:59.999Z");
        assert_eq!(parse_iso_millis("2025-02-29T00:00:00.000Z"), None);
        assert!(parse_iso_millis("2024-02-29T00:00:00.000Z").is_some());
        assert_eq!(parse_iso_millis("2025-01-01T12:00:00Z"), None);
        assert_eq!(parse_iso_millis("2025-01-01T24:00:00.000Z"), None);
    }

    #[test]
    fn ejson_date_strings() {
        let base = parse_iso_millis("2017-01-05T17:06:05.660Z").unwrap();
        assert_eq!(parse_ejson_date_string("2017-01-05T17:06:05.660Z"), Some(base));
        assert_eq!(parse_ejson_date_string("2017-01-05T18:06:05.660+01:00"), Some(base));
        assert_eq!(parse_ejson_date_string("2017-01-05T17:06:05.660123Z"), Some(base));
        assert_eq!(parse_ejson_date_string("2017-01-05T17:06:05Z"), Some(base - 660));
        assert_eq!(parse_ejson_date_string("2017-01-05"), parse_iso_millis("2017-01-05T00:00:00.000Z"));
        assert_eq!(parse_ejson_date_string("2017-01-05T17:06:05.660"), None);
        assert_eq!(parse_ejson_date_string("garbage"), None);
    }

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(cmp_values(&json!(1), &json!(1.0)), Ordering::Equal);
        assert_eq!(cmp_values(&json!(1), &json!(1.5)), Ordering::Less);
        assert_eq!(cmp_values(&json!(u64::MAX), &json!(i64::MIN)), Ordering::Greater);
        assert_eq!(cmp_values(&json!(9007199254740993u64), &json!(9007199254740992.0)), Ordering::Greater);
        assert_eq!(cmp_values(&json!(-2.5), &json!(-3)), Ordering::Greater);
    }

    #[test]
    fn bson_type_order() {
        // null < numbers < strings < objects < arrays < booleans
        let order = [json!(null), json!(-5), json!(""), json!({}), json!([]), json!(false), json!(true)];
        for w in order.windows(2) {
            assert_eq!(cmp_values(&w[0], &w[1]), Ordering::Less, "{} < {}", w[0], w[1]);
        }
        // objects compare field by field: type of value, then name, then value
        assert_eq!(cmp_values(&json!({"a": 1}), &json!({"a": "x"})), Ordering::Less);
        assert_eq!(cmp_values(&json!({"a": 1}), &json!({"b": 0})), Ordering::Less);
        assert_eq!(cmp_values(&json!({"a": 1}), &json!({"a": 1, "b": 0})), Ordering::Less);
        assert_eq!(cmp_values(&json!([1, 2]), &json!([1, 3])), Ordering::Less);
        assert_eq!(cmp_values(&json!([1]), &json!([1, 0])), Ordering::Less);
    }
}
