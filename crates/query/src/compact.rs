//! The compact encoding of document values inside a [`crate::docset::DocSet`]
//! column, and the raw views of it that the column-at-a-time scan reads.

use crate::doc::{Num, bytes_eq, key_hash};
use serde_json::Value;

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

pub(crate) const T_NULL: u8 = 0;
pub(crate) const T_FALSE: u8 = 1;
pub(crate) const T_TRUE: u8 = 2;
pub(crate) const T_I64: u8 = 3;
pub(crate) const T_U64: u8 = 4;
pub(crate) const T_F64: u8 = 5;
pub(crate) const T_STR: u8 = 6;
pub(crate) const T_ARR: u8 = 7;
pub(crate) const T_OBJ: u8 = 8;

fn put_u32(buf: &mut Vec<u8>, n: usize) {
    buf.extend_from_slice(&(n as u32).to_le_bytes());
}

pub(crate) fn encode(buf: &mut Vec<u8>, v: &Value) {
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
pub(crate) fn u32_at(b: &[u8], i: usize) -> usize {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize
}

#[inline]
pub(crate) fn u64_at(b: &[u8], i: usize) -> [u8; 8] {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[i..i + 8]);
    a
}

/// Size in bytes of the encoded value starting at `i`.
#[inline]
pub(crate) fn size_at(b: &[u8], i: usize) -> usize {
    match b[i] {
        T_I64 | T_U64 | T_F64 => 9,
        T_STR => 5 + u32_at(b, i + 1),
        T_ARR | T_OBJ => 5 + u32_at(b, i + 1),
        _ => 1,
    }
}

#[inline]
pub(crate) fn str_at(b: &[u8], start: usize, len: usize) -> &str {
    let bytes = &b[start..start + len];
    debug_assert!(std::str::from_utf8(bytes).is_ok());
    // SAFETY: `DocRef`s only exist inside a `DocSet` buffer written by
    // `encode`, and `start..start + len` always spans a key or string that
    // `encode` copied from a `&str`, so the bytes are valid UTF-8.
    unsafe { std::str::from_utf8_unchecked(bytes) }
}

/// An encoded value inside a column, read directly by the column-at-a-time
/// scan of `Filter::count` (see `scan.rs`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cell<'a> {
    pub(crate) buf: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Cell<'a> {
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
    pub(crate) cells: &'a [u32],
    pub(crate) buf: &'a [u8],
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
