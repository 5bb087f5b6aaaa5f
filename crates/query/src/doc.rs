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
            (word8(a, 0) ^ word8(b, 0)) | (word8(a, 8) ^ word8(b, 8)) | (word8(a, n - 16) ^ word8(b, n - 16)) | (word8(a, n - 8) ^ word8(b, n - 8))
                == 0
        }
        _ => a == b,
    }
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
//               directory: (key hash u32, entry offset from the tag u32)*,
//               entries: (key len u32, key bytes, value)*
//
// The directory lets a lookup compare hashes in a few contiguous bytes and
// jump to the entry, instead of walking every field before it.

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
            let tag_at = buf.len();
            buf.push(T_OBJ);
            put_u32(buf, 0);
            put_u32(buf, m.len());
            let dir = buf.len();
            buf.resize(dir + 8 * m.len(), 0);
            for (j, (k, e)) in m.iter().enumerate() {
                let off = buf.len() - tag_at;
                buf[dir + 8 * j..dir + 8 * j + 4].copy_from_slice(&key_hash(k).to_le_bytes());
                buf[dir + 8 * j + 4..dir + 8 * j + 8].copy_from_slice(&(off as u32).to_le_bytes());
                put_u32(buf, k.len());
                buf.extend_from_slice(k.as_bytes());
                encode(buf, e);
            }
            let n = buf.len() - tag_at - 5;
            buf[tag_at + 1..tag_at + 5].copy_from_slice(&(n as u32).to_le_bytes());
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

/// A value inside a [`DocSet`]: a whole document, or a value in a column.
#[derive(Clone, Copy, Debug)]
pub struct DocRef<'a>(Repr<'a>);

#[derive(Clone, Copy, Debug)]
enum Repr<'a> {
    /// Document `i` of the set (an object whose fields live in columns).
    Root(&'a DocSet, usize),
    /// An encoded value.
    Val(&'a [u8], usize),
}

impl<'a> DocRef<'a> {
    #[inline]
    fn val(buf: &'a [u8], pos: usize) -> DocRef<'a> {
        DocRef(Repr::Val(buf, pos))
    }
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
        let r = DocRef::val(self.buf, self.pos);
        self.pos += size_at(self.buf, self.pos);
        Some(r)
    }
}

pub enum CompactFields<'a> {
    Root { set: &'a DocSet, doc: usize, next: usize, end: usize },
    Val { buf: &'a [u8], pos: usize, left: usize },
}

impl<'a> Iterator for CompactFields<'a> {
    type Item = (&'a str, DocRef<'a>);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            CompactFields::Root { set, doc, next, end } => {
                if *next >= *end {
                    return None;
                }
                let col = &set.cols[set.order[*next] as usize];
                *next += 1;
                let cell = col.cells[*doc];
                Some((col.name.as_str(), DocRef::val(&col.buf, cell as usize - 1)))
            }
            CompactFields::Val { buf, pos, left } => {
                if *left == 0 {
                    return None;
                }
                *left -= 1;
                let klen = u32_at(buf, *pos);
                let key = str_at(buf, *pos + 4, klen);
                let vpos = *pos + 4 + klen;
                *pos = vpos + size_at(buf, vpos);
                Some((key, DocRef::val(buf, vpos)))
            }
        }
    }
}

impl<'a> DocRef<'a> {
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
        let (b, i) = match self.0 {
            Repr::Root(..) => return Kind::Object,
            Repr::Val(b, i) => (b, i),
        };
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
        let (b, pos) = match self.0 {
            Repr::Root(set, doc) => {
                let col = set.column(key, hash)?;
                let cell = col.cells.get(doc).copied().unwrap_or(0);
                return if cell == 0 { None } else { Some(DocRef::val(&col.buf, cell as usize - 1)) };
            }
            Repr::Val(b, pos) => (b, pos),
        };
        if b[pos] != T_OBJ {
            return None;
        }
        let n = u32_at(b, pos + 5);
        let dir = pos + 9;
        let kb = key.as_bytes();
        for j in 0..n {
            if u32_at(b, dir + 8 * j) as u32 == hash {
                let e = pos + u32_at(b, dir + 8 * j + 4);
                let klen = u32_at(b, e);
                if klen == kb.len() && bytes_eq(&b[e + 4..e + 4 + klen], kb) {
                    return Some(DocRef::val(b, e + 4 + klen));
                }
            }
        }
        None
    }
    #[inline]
    fn at(self, i: usize) -> Option<Self> {
        self.elems().nth(i)
    }
    #[inline]
    fn elems(self) -> Self::Elems {
        match self.0 {
            Repr::Val(b, pos) if b[pos] == T_ARR => CompactElems { buf: b, pos: pos + 9, left: u32_at(b, pos + 5) },
            _ => CompactElems { buf: &[], pos: 0, left: 0 },
        }
    }
    #[inline]
    fn fields(self) -> Self::Fields {
        match self.0 {
            Repr::Root(set, doc) => CompactFields::Root { set, doc, next: set.order_start[doc], end: set.order_start[doc + 1] },
            Repr::Val(b, pos) if b[pos] == T_OBJ => {
                let left = u32_at(b, pos + 5);
                // entries follow the directory
                CompactFields::Val { buf: b, pos: pos + 9 + 8 * left, left }
            }
            Repr::Val(..) => CompactFields::Val { buf: &[], pos: 0, left: 0 },
        }
    }
    fn len(self) -> usize {
        match self.0 {
            Repr::Root(set, doc) => set.order_start[doc + 1] - set.order_start[doc],
            Repr::Val(b, pos) => match b[pos] {
                T_ARR | T_OBJ => u32_at(b, pos + 5),
                _ => 0,
            },
        }
    }
}

/// An encoded value inside a column, read directly by the column-at-a-time
/// scan of [`crate::filter::Filter::count`] (see `scan.rs`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cell<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cell<'a> {
    /// The same value as a [`DocRef`], for the generic evaluator.
    #[inline]
    pub(crate) fn doc_ref(self) -> DocRef<'a> {
        DocRef::val(self.buf, self.pos)
    }

    /// The value as text when it is a string; `None` for every other kind.
    #[inline(always)]
    pub(crate) fn as_str(self) -> Option<&'a str> {
        let b = &self.buf[self.pos..];
        if b.len() < 5 || b[0] != T_STR {
            return None;
        }
        let len = u32::from_le_bytes([b[1], b[2], b[3], b[4]]) as usize;
        Some(str_at(b, 5, len))
    }

    #[inline(always)]
    pub(crate) fn is_array(self) -> bool {
        self.buf[self.pos] == T_ARR
    }

    #[inline(always)]
    pub(crate) fn is_object(self) -> bool {
        self.buf[self.pos] == T_OBJ
    }

    /// Field `key` of an object (`hash == key_hash(key)`); `None` when absent
    /// or when the value is not an object. (The lookup of
    /// `DocRef::get_hashed`, reading the directory as one slice.)
    #[inline(always)]
    pub(crate) fn get_hashed(self, key: &str, hash: u32) -> Option<Cell<'a>> {
        let obj = &self.buf[self.pos..];
        if obj.len() < 9 || obj[0] != T_OBJ {
            return None;
        }
        let n = u32_at(obj, 5);
        let dir = obj.get(9..9 + 8 * n)?;
        for e in dir.chunks_exact(8) {
            if u32::from_le_bytes([e[0], e[1], e[2], e[3]]) == hash {
                let at = u32::from_le_bytes([e[4], e[5], e[6], e[7]]) as usize;
                let entry = obj.get(at..at + 4)?;
                let klen = u32_at(entry, 0);
                if bytes_eq(obj.get(at + 4..at + 4 + klen)?, key.as_bytes()) {
                    return Some(Cell { buf: self.buf, pos: self.pos + at + 4 + klen });
                }
            }
        }
        None
    }

    /// Elements of an array (empty for other kinds).
    #[inline]
    pub(crate) fn elems(self) -> impl Iterator<Item = Cell<'a>> {
        let b = &self.buf[self.pos..];
        let (mut at, left) = if b.len() >= 9 && b[0] == T_ARR { (self.pos + 9, u32_at(b, 5)) } else { (0, 0) };
        (0..left).map(move |_| {
            let e = Cell { buf: self.buf, pos: at };
            at += size_at(self.buf, at);
            e
        })
    }
}

/// The column of one top-level field, as the scan reads it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ColumnView<'a> {
    cells: &'a [u32],
    buf: &'a [u8],
}

impl<'a> ColumnView<'a> {
    /// A column no document has.
    pub(crate) const ABSENT: ColumnView<'static> = ColumnView { cells: &[], buf: &[] };

    /// The value of document `doc`, `None` when the document lacks the field.
    #[inline(always)]
    pub(crate) fn cell(&self, doc: usize) -> Option<Cell<'a>> {
        match self.cells.get(doc) {
            Some(&c) if c != 0 => Some(Cell { buf: self.buf, pos: c as usize - 1 }),
            _ => None,
        }
    }
}

/// One top-level field of every document: `cells[doc]` is 0 when the
/// document lacks the field, else 1 + the value's offset in `buf`.
#[derive(Clone, Debug, Default)]
struct Column {
    name: String,
    hash: u32,
    cells: Vec<u32>,
    buf: Vec<u8>,
}

/// Many documents stored column by column (one column per top-level field,
/// values encoded contiguously), for fast repeated filtering: a filter only
/// reads the columns of the fields it names, sequentially.
#[derive(Clone, Debug, Default)]
pub struct DocSet {
    len: usize,
    cols: Vec<Column>,
    /// Open-addressing table from name hash to 1 + column index (0 = empty);
    /// its length is a power of two at least twice the number of columns.
    slots: Vec<u32>,
    /// Field order of each document: `order[order_start[d]..order_start[d + 1]]`.
    order: Vec<u32>,
    order_start: Vec<usize>,
    /// Documents that are not objects: (document, offset in `other`).
    other_docs: Vec<(usize, usize)>,
    other: Vec<u8>,
}

impl DocSet {
    pub fn new() -> DocSet {
        DocSet { order_start: vec![0], ..DocSet::default() }
    }

    pub fn from_values<'v>(docs: impl IntoIterator<Item = &'v Value>) -> DocSet {
        let mut s = DocSet::new();
        for d in docs {
            s.push(d);
        }
        s
    }

    #[inline]
    fn column_index(&self, key: &str, hash: u32) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let c = self.slots[i];
            if c == 0 {
                return None;
            }
            let col = &self.cols[c as usize - 1];
            if col.hash == hash && bytes_eq(col.name.as_bytes(), key.as_bytes()) {
                return Some(c as usize - 1);
            }
            i = (i + 1) & mask;
        }
    }

    fn add_column(&mut self, key: &str, hash: u32) -> usize {
        self.cols.push(Column { name: key.to_owned(), hash, cells: Vec::new(), buf: Vec::new() });
        if self.slots.len() < 2 * self.cols.len() {
            self.slots = vec![0; (4 * self.cols.len()).next_power_of_two()];
            for (c, col) in self.cols.iter().enumerate() {
                let mask = self.slots.len() - 1;
                let mut i = col.hash as usize & mask;
                while self.slots[i] != 0 {
                    i = (i + 1) & mask;
                }
                self.slots[i] = c as u32 + 1;
            }
        } else {
            let mask = self.slots.len() - 1;
            let mut i = hash as usize & mask;
            while self.slots[i] != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = self.cols.len() as u32;
        }
        self.cols.len() - 1
    }

    #[inline]
    fn column(&self, key: &str, hash: u32) -> Option<&Column> {
        self.column_index(key, hash).map(|c| &self.cols[c])
    }

    /// Appends a document (any JSON value; objects are stored by column).
    pub fn push(&mut self, doc: &Value) {
        let d = self.len;
        self.len += 1;
        if self.order_start.is_empty() {
            self.order_start.push(0);
        }
        match doc {
            Value::Object(m) => {
                for (k, v) in m {
                    let h = key_hash(k);
                    let c = match self.column_index(k, h) {
                        Some(c) => c,
                        None => self.add_column(k, h),
                    };
                    let col = &mut self.cols[c];
                    col.cells.resize(d, 0);
                    col.cells.push(col.buf.len() as u32 + 1);
                    encode(&mut col.buf, v);
                    self.order.push(c as u32);
                }
            }
            other => {
                self.other_docs.push((d, self.other.len()));
                encode(&mut self.other, other);
            }
        }
        self.order_start.push(self.order.len());
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, i: usize) -> Option<DocRef<'_>> {
        if i >= self.len {
            return None;
        }
        if !self.other_docs.is_empty()
            && let Ok(k) = self.other_docs.binary_search_by_key(&i, |&(d, _)| d)
        {
            return Some(DocRef::val(&self.other, self.other_docs[k].1));
        }
        Some(DocRef(Repr::Root(self, i)))
    }

    pub fn iter(&self) -> impl Iterator<Item = DocRef<'_>> {
        (0..self.len).filter_map(|i| self.get(i))
    }

    /// The column of top-level field `key` (`hash == key_hash(key)`), empty
    /// when no document has it.
    pub(crate) fn column_view(&self, key: &str, hash: u32) -> ColumnView<'_> {
        match self.column(key, hash) {
            Some(col) => ColumnView { cells: &col.cells, buf: &col.buf },
            None => ColumnView::ABSENT,
        }
    }

    /// The documents that are not objects (they have no cells in any
    /// column), in increasing order.
    pub(crate) fn non_object_docs(&self) -> impl Iterator<Item = (usize, DocRef<'_>)> {
        self.other_docs.iter().map(|&(d, off)| (d, DocRef::val(&self.other, off)))
    }

    /// Bytes used by the encoded documents.
    pub fn encoded_bytes(&self) -> usize {
        self.cols.iter().map(|c| c.buf.len() + 4 * c.cells.len()).sum::<usize>() + self.other.len() + 4 * self.order.len() + 4 * self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    #[test]
    fn sparse_columns_keep_each_documents_order() {
        let docs = [json!({"b": 1, "a": {"x": [1, {"y": 2}]}}), json!({"a": 3}), json!({}), json!([1, 2]), json!({"c": null, "b": "s"})];
        let s = DocSet::from_values(&docs);
        assert_eq!(s.len(), docs.len());
        for (i, d) in docs.iter().enumerate() {
            assert_eq!(s.get(i).unwrap().to_value(), *d);
            assert_eq!(s.get(i).unwrap().len(), match d { Value::Object(m) => m.len(), Value::Array(a) => a.len(), _ => 0 });
        }
        assert!(s.get(1).unwrap().get("b").is_none());
        assert!(s.get(2).unwrap().get("a").is_none());
        assert!(s.get(4).unwrap().get("a").is_none());
        assert!(matches!(s.get(4).unwrap().get("c").unwrap().kind(), Kind::Null));
        assert!(s.get(3).unwrap().is_array());
        assert!(s.get(5).is_none());
        assert_eq!(s.iter().count(), 5);
    }
}
