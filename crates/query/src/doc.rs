//! Documents the evaluator can read: `&serde_json::Value`, and a columnar
//! in-memory encoding ([`DocSet`]) for filtering many documents fast.
//!
//! A `serde_json::Value` document is a tree of separate heap allocations;
//! filtering a large collection is bound by cache misses on them. A
//! [`DocSet`] stores one column per top-level field (each value encoded
//! contiguously: tagged scalars, length-prefixed strings, arrays, and objects
//! with a hashed field directory), so a filter reads only the columns of the
//! fields it names, sequentially. Matching gives the same answers on both
//! (the unit, differential and fuzz tests check it).

use serde_json::{Number, Value};

/// A number read from a document.
#[derive(Clone, Copy, Debug)]
pub enum Num {
    I(i64),
    U(u64),
    F(f64),
}

impl From<&Number> for Num {
    fn from(n: &Number) -> Num {
        if let Some(i) = n.as_i64() {
            Num::I(i)
        } else if let Some(u) = n.as_u64() {
            Num::U(u)
        } else {
            Num::F(n.as_f64().unwrap_or(f64::NAN))
        }
    }
}

impl Num {
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Num::I(i) => Some(i),
            Num::U(u) => i64::try_from(u).ok(),
            Num::F(_) => None,
        }
    }
}

/// The shape of one document value.
#[derive(Clone, Copy, Debug)]
pub enum Kind<'a> {
    Null,
    Bool(bool),
    Num(Num),
    Str(&'a str),
    /// A date (milliseconds since the Unix epoch): an ISO string read
    /// through a declared date field (see `dated.rs`).
    Date(i64),
    Array,
    Object,
}

/// FNV-1a hash of a field name, stored next to keys in a [`DocSet`] so that
/// lookups rarely compare key bytes.
#[inline]
pub fn key_hash(key: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in key.as_bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

#[inline]
fn word8(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_ne_bytes(w)
}

#[inline]
fn word4(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_ne_bytes(w)
}

/// Byte equality without a `memcmp` call for short slices (field names and
/// typical string values).
#[inline(always)]
pub(crate) fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0 => true,
        1..=3 => a.iter().zip(b).all(|(x, y)| x == y),
        4..=7 => (word4(a, 0) ^ word4(b, 0)) | (word4(a, n - 4) ^ word4(b, n - 4)) == 0,
        8..=16 => (word8(a, 0) ^ word8(b, 0)) | (word8(a, n - 8) ^ word8(b, n - 8)) == 0,
        17..=32 => {
            (word8(a, 0) ^ word8(b, 0))
                | (word8(a, 8) ^ word8(b, 8))
                | (word8(a, n - 16) ^ word8(b, n - 16))
                | (word8(a, n - 8) ^ word8(b, n - 8))
                == 0
        }
        _ => a == b,
    }
}

/// Read access to a document value.
pub trait DocValue<'a>: Copy + 'a {
    type Elems: Iterator<Item = Self>;
    type Fields: Iterator<Item = (&'a str, Self)>;
    /// The same value without any date view (see `dated.rs`).
    type Plain: DocValue<'a>;
    fn plain(self) -> Self::Plain;
    fn kind(self) -> Kind<'a>;
    /// Field of an object (`None` for other kinds or when absent).
    fn get(self, key: &str) -> Option<Self>;
    /// Same as [`DocValue::get`] with `hash == key_hash(key)` precomputed.
    #[inline]
    fn get_hashed(self, key: &str, hash: u32) -> Option<Self> {
        let _ = hash;
        self.get(key)
    }
    /// Element `i` of an array.
    fn at(self, i: usize) -> Option<Self>;
    /// Elements of an array (empty for other kinds).
    fn elems(self) -> Self::Elems;
    /// Fields of an object in stored order (empty for other kinds).
    fn fields(self) -> Self::Fields;
    /// Number of elements (arrays) or fields (objects); 0 otherwise.
    fn len(self) -> usize;
    fn is_empty(self) -> bool {
        self.len() == 0
    }
    fn is_array(self) -> bool {
        matches!(self.kind(), Kind::Array)
    }
    fn is_object(self) -> bool {
        matches!(self.kind(), Kind::Object)
    }
}

// ------------------------------------------------------- serde_json::Value --

pub struct ValueFields<'a>(Option<serde_json::map::Iter<'a>>);

impl<'a> Iterator for ValueFields<'a> {
    type Item = (&'a str, &'a Value);
    fn next(&mut self) -> Option<Self::Item> {
        self.0.as_mut()?.next().map(|(k, v)| (k.as_str(), v))
    }
}

impl<'a> DocValue<'a> for &'a Value {
    type Elems = std::slice::Iter<'a, Value>;
    type Fields = ValueFields<'a>;
    type Plain = Self;

    #[inline]
    fn plain(self) -> Self {
        self
    }

    #[inline]
    fn kind(self) -> Kind<'a> {
        match self {
            Value::Null => Kind::Null,
            Value::Bool(b) => Kind::Bool(*b),
            Value::Number(n) => Kind::Num(n.into()),
            Value::String(s) => Kind::Str(s),
            Value::Array(_) => Kind::Array,
            Value::Object(_) => Kind::Object,
        }
    }
    #[inline]
    fn get(self, key: &str) -> Option<Self> {
        match self {
            Value::Object(m) => m.get(key),
            _ => None,
        }
    }
    #[inline]
    fn at(self, i: usize) -> Option<Self> {
        match self {
            Value::Array(a) => a.get(i),
            _ => None,
        }
    }
    #[inline]
    fn elems(self) -> Self::Elems {
        match self {
            Value::Array(a) => a.iter(),
            _ => [].iter(),
        }
    }
    fn fields(self) -> Self::Fields {
        match self {
            Value::Object(m) => ValueFields(Some(m.iter())),
            _ => ValueFields(None),
        }
    }
    fn len(self) -> usize {
        match self {
            Value::Array(a) => a.len(),
            Value::Object(m) => m.len(),
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_byte_equality() {
        let words = [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "abcde",
            "abcdefg",
            "abcdefgh",
            "abcdefghi",
            "abcdefghijklmnop",
            "abcdefghijklmnopq",
            "abcdefghijklmnopqrstuvwxyz",
            "abcdefghijklmnopqrstuvwxyz012345",
            "abcdefghijklmnopqrstuvwxyz0123456",
        ];
        for x in words {
            for y in words {
                assert_eq!(bytes_eq(x.as_bytes(), y.as_bytes()), x == y);
            }
            let mut z = x.as_bytes().to_vec();
            if let Some(last) = z.last_mut() {
                *last ^= 1;
                assert!(!bytes_eq(x.as_bytes(), &z));
                z[0] ^= 2;
                assert!(!bytes_eq(x.as_bytes(), &z) || z.len() == 1);
            }
        }
    }
}
