//! Documents the evaluator can read: `&serde_json::Value`, and a compact
//! contiguous encoding ([`DocSet`]) for filtering many documents fast.
//!
//! A `serde_json::Value` document is a tree of separate heap allocations;
//! filtering a large collection is bound by cache misses on them. A
//! [`DocSet`] stores every document in one byte buffer (tagged values,
//! length-prefixed strings, arrays and objects inline), so a filter reads
//! each document sequentially. Matching gives the same answers on both (the
//! differential and unit tests run on both).

use serde_json::{Map, Number, Value};

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

/// Read access to a document value.
pub trait DocValue<'a>: Copy + 'a {
    type Elems: Iterator<Item = Self>;
    type Fields: Iterator<Item = (&'a str, Self)>;
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

// ------------------------------------------------------- compact encoding --
//
// value  := tag payload
// tag 0 null | 1 false | 2 true | 3 i64 (8 LE) | 4 u64 (8 LE) | 5 f64 (8 LE)
//     6 string: len u32, bytes
//     7 array:  byte length of the rest u32, count u32, values
//     8 object: byte length of the rest u32, count u32,
//               (key len u32, key hash u32, key bytes, value)*

const T_NULL: u8 = 0;
const T_FALSE: u8 = 1;
const T_TRUE: u8 = 2;
const T_I64: u8 = 3;
const T_U64: u8 = 4;
const T_F64: u8 = 5;
const T_STR: u8 = 6;
const T_ARR: u8 = 7;
const T_OBJ: u8 = 8;

fn put_u32(buf: &mut Vec<u8>, n: usize) {
    buf.extend_from_slice(&(n as u32).to_le_bytes());
}

fn encode(buf: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => buf.push(T_NULL),
        Value::Bool(false) => buf.push(T_FALSE),
        Value::Bool(true) => buf.push(T_TRUE),
        Value::Number(n) => match Num::from(n) {
            Num::I(i) => {
                buf.push(T_I64);
                buf.extend_from_slice(&i.to_le_bytes());
            }
            Num::U(u) => {
                buf.push(T_U64);
                buf.extend_from_slice(&u.to_le_bytes());
            }
            Num::F(f) => {
                buf.push(T_F64);
                buf.extend_from_slice(&f.to_le_bytes());
            }
        },
        Value::String(s) => {
            buf.push(T_STR);
            put_u32(buf, s.len());
            buf.extend_from_slice(s.as_bytes());
        }
        Value::Array(a) => {
            buf.push(T_ARR);
            let at = buf.len();
            put_u32(buf, 0);
            put_u32(buf, a.len());
            for e in a {
                encode(buf, e);
            }
            let n = buf.len() - at - 4;
            buf[at..at + 4].copy_from_slice(&(n as u32).to_le_bytes());
        }
        Value::Object(m) => {
            buf.push(T_OBJ);
            let at = buf.len();
            put_u32(buf, 0);
            put_u32(buf, m.len());
            for (k, e) in m {
                put_u32(buf, k.len());
                buf.extend_from_slice(&key_hash(k).to_le_bytes());
                buf.extend_from_slice(k.as_bytes());
                encode(buf, e);
            }
            let n = buf.len() - at - 4;
            buf[at..at + 4].copy_from_slice(&(n as u32).to_le_bytes());
        }
    }
}

#[inline]
fn u32_at(b: &[u8], i: usize) -> usize {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize
}

#[inline]
fn u64_at(b: &[u8], i: usize) -> [u8; 8] {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[i..i + 8]);
    a
}

/// Size in bytes of the encoded value starting at `i`.
#[inline]
fn size_at(b: &[u8], i: usize) -> usize {
    match b[i] {
        T_I64 | T_U64 | T_F64 => 9,
        T_STR => 5 + u32_at(b, i + 1),
        T_ARR | T_OBJ => 5 + u32_at(b, i + 1),
        _ => 1,
    }
}

#[inline]
fn str_at(b: &[u8], start: usize, len: usize) -> &str {
    let bytes = &b[start..start + len];
    debug_assert!(std::str::from_utf8(bytes).is_ok());
    // SAFETY: `DocRef`s only exist inside a `DocSet` buffer written by
    // `encode`, and `start..start + len` always spans a key or string that
    // `encode` copied from a `&str`, so the bytes are valid UTF-8.
    unsafe { std::str::from_utf8_unchecked(bytes) }
}

/// A value inside a [`DocSet`].
#[derive(Clone, Copy, Debug)]
pub struct DocRef<'a> {
    buf: &'a [u8],
    pos: usize,
}

pub struct CompactElems<'a> {
    buf: &'a [u8],
    pos: usize,
    left: usize,
}

impl<'a> Iterator for CompactElems<'a> {
    type Item = DocRef<'a>;
    #[inline]
    fn next(&mut self) -> Option<DocRef<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let r = DocRef { buf: self.buf, pos: self.pos };
        self.pos += size_at(self.buf, self.pos);
        Some(r)
    }
}

pub struct CompactFields<'a> {
    buf: &'a [u8],
    pos: usize,
    left: usize,
}

impl<'a> Iterator for CompactFields<'a> {
    type Item = (&'a str, DocRef<'a>);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let klen = u32_at(self.buf, self.pos);
        let key = str_at(self.buf, self.pos + 8, klen);
        let vpos = self.pos + 8 + klen;
        self.pos = vpos + size_at(self.buf, vpos);
        Some((key, DocRef { buf: self.buf, pos: vpos }))
    }
}

impl<'a> DocRef<'a> {
    fn children(self, tag: u8) -> (usize, usize) {
        if self.buf[self.pos] == tag { (self.pos + 9, u32_at(self.buf, self.pos + 5)) } else { (self.pos, 0) }
    }

    /// Decodes back into a `serde_json::Value`.
    pub fn to_value(self) -> Value {
        match self.kind() {
            Kind::Null => Value::Null,
            Kind::Bool(b) => Value::Bool(b),
            Kind::Num(Num::I(i)) => Value::from(i),
            Kind::Num(Num::U(u)) => Value::from(u),
            Kind::Num(Num::F(f)) => Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null),
            Kind::Str(s) => Value::String(s.to_owned()),
            Kind::Array => Value::Array(self.elems().map(DocRef::to_value).collect()),
            Kind::Object => Value::Object(self.fields().map(|(k, v)| (k.to_owned(), v.to_value())).collect::<Map<_, _>>()),
        }
    }
}

impl<'a> DocValue<'a> for DocRef<'a> {
    type Elems = CompactElems<'a>;
    type Fields = CompactFields<'a>;

    #[inline]
    fn kind(self) -> Kind<'a> {
        let b = self.buf;
        let i = self.pos;
        match b[i] {
            T_NULL => Kind::Null,
            T_FALSE => Kind::Bool(false),
            T_TRUE => Kind::Bool(true),
            T_I64 => Kind::Num(Num::I(i64::from_le_bytes(u64_at(b, i + 1)))),
            T_U64 => Kind::Num(Num::U(u64::from_le_bytes(u64_at(b, i + 1)))),
            T_F64 => Kind::Num(Num::F(f64::from_le_bytes(u64_at(b, i + 1)))),
            T_STR => Kind::Str(str_at(b, i + 5, u32_at(b, i + 1))),
            T_ARR => Kind::Array,
            _ => Kind::Object,
        }
    }
    #[inline]
    fn get(self, key: &str) -> Option<Self> {
        self.get_hashed(key, key_hash(key))
    }
    #[inline]
    fn get_hashed(self, key: &str, hash: u32) -> Option<Self> {
        let (mut pos, n) = self.children(T_OBJ);
        let b = self.buf;
        let kb = key.as_bytes();
        for _ in 0..n {
            let klen = u32_at(b, pos);
            let vpos = pos + 8 + klen;
            if klen == kb.len() && u32_at(b, pos + 4) as u32 == hash && &b[pos + 8..vpos] == kb {
                return Some(DocRef { buf: b, pos: vpos });
            }
            pos = vpos + size_at(b, vpos);
        }
        None
    }
    #[inline]
    fn at(self, i: usize) -> Option<Self> {
        self.elems().nth(i)
    }
    #[inline]
    fn elems(self) -> Self::Elems {
        let (pos, left) = self.children(T_ARR);
        CompactElems { buf: self.buf, pos, left }
    }
    #[inline]
    fn fields(self) -> Self::Fields {
        let (pos, left) = self.children(T_OBJ);
        CompactFields { buf: self.buf, pos, left }
    }
    fn len(self) -> usize {
        match self.buf[self.pos] {
            T_ARR | T_OBJ => u32_at(self.buf, self.pos + 5),
            _ => 0,
        }
    }
}

/// Many documents in one contiguous buffer, for fast repeated filtering.
#[derive(Clone, Debug, Default)]
pub struct DocSet {
    buf: Vec<u8>,
    starts: Vec<usize>,
}

impl DocSet {
    pub fn new() -> DocSet {
        DocSet::default()
    }

    pub fn from_values<'v>(docs: impl IntoIterator<Item = &'v Value>) -> DocSet {
        let mut s = DocSet::new();
        for d in docs {
            s.push(d);
        }
        s
    }

    /// Appends a document. Values nested deeper than serde_json's parser
    /// allows (128 levels) are encoded recursively as well; keep documents
    /// to parser-produced depths.
    pub fn push(&mut self, doc: &Value) {
        self.starts.push(self.buf.len());
        encode(&mut self.buf, doc);
    }

    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<DocRef<'_>> {
        self.starts.get(i).map(|&pos| DocRef { buf: &self.buf, pos })
    }

    pub fn iter(&self) -> impl Iterator<Item = DocRef<'_>> {
        self.starts.iter().map(|&pos| DocRef { buf: &self.buf, pos })
    }

    /// Bytes used by the encoded documents.
    pub fn encoded_bytes(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn roundtrip() {
        let v = json!({"a": [1, -2, 18446744073709551615u64, 1.5, null, true, false, "é"], "b": {"c": {}}, "": []});
        let s = DocSet::from_values([&v, &json!(3)]);
        assert_eq!(s.len(), 2);
        assert_eq!(s.get(0).unwrap().to_value(), v);
        assert_eq!(s.get(1).unwrap().to_value(), json!(3));
        let d = s.get(0).unwrap();
        assert_eq!(d.get("b").unwrap().get("c").unwrap().len(), 0);
        assert_eq!(d.get("a").unwrap().len(), 8);
        assert!(matches!(d.get("a").unwrap().at(7).unwrap().kind(), Kind::Str("é")));
        assert!(d.get("zz").is_none());
        assert!(d.get("a").unwrap().get("x").is_none());
        assert_eq!(d.fields().map(|(k, _)| k).collect::<Vec<_>>(), vec!["a", "b", ""]);
    }
}
