//! [`DocSet`]: many documents stored column by column, and [`DocRef`], a value
//! inside one, readable by the evaluator like a `serde_json::Value`.

use crate::compact::{
    Cell, ColumnView, T_ARR, T_F64, T_FALSE, T_I64, T_NULL, T_OBJ, T_STR, T_TRUE, T_U64, encode, size_at, str_at,
    u32_at, u64_at,
};
use crate::doc::{DocValue, Kind, Num, bytes_eq, key_hash};
use crate::value::format_iso_millis;
use serde_json::{Map, Number, Value};

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
    pub(crate) fn val(buf: &'a [u8], pos: usize) -> DocRef<'a> {
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
    /// The value of a column cell, for the generic evaluator.
    #[inline]
    pub(crate) fn of_cell(c: Cell<'a>) -> DocRef<'a> {
        DocRef::val(c.buf, c.pos)
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
            Kind::Date(ms) => format_iso_millis(ms).map(Value::String).unwrap_or_else(|| Value::from(ms)),
            Kind::Array => Value::Array(self.elems().map(DocRef::to_value).collect()),
            Kind::Object => {
                Value::Object(self.fields().map(|(k, v)| (k.to_owned(), v.to_value())).collect::<Map<_, _>>())
            }
        }
    }
}

impl<'a> DocValue<'a> for DocRef<'a> {
    type Elems = CompactElems<'a>;
    type Fields = CompactFields<'a>;
    type Plain = Self;

    #[inline]
    fn plain(self) -> Self {
        self
    }

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
            Repr::Root(set, doc) => {
                CompactFields::Root { set, doc, next: set.order_start[doc], end: set.order_start[doc + 1] }
            }
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

    /// Document `d` when it is not an object.
    pub(crate) fn non_object_doc(&self, d: usize) -> Option<DocRef<'_>> {
        if self.other_docs.is_empty() {
            return None;
        }
        let k = self.other_docs.binary_search_by_key(&d, |&(doc, _)| doc).ok()?;
        Some(DocRef::val(&self.other, self.other_docs[k].1))
    }

    /// Bytes used by the encoded documents.
    pub fn encoded_bytes(&self) -> usize {
        self.cols.iter().map(|c| c.buf.len() + 4 * c.cells.len()).sum::<usize>()
            + self.other.len()
            + 4 * self.order.len()
            + 4 * self.slots.len()
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

    #[test]
    fn sparse_columns_keep_each_documents_order() {
        let docs = [
            json!({"b": 1, "a": {"x": [1, {"y": 2}]}}),
            json!({"a": 3}),
            json!({}),
            json!([1, 2]),
            json!({"c": null, "b": "s"}),
        ];
        let s = DocSet::from_values(&docs);
        assert_eq!(s.len(), docs.len());
        for (i, d) in docs.iter().enumerate() {
            assert_eq!(s.get(i).unwrap().to_value(), *d);
            assert_eq!(
                s.get(i).unwrap().len(),
                match d {
                    Value::Object(m) => m.len(),
                    Value::Array(a) => a.len(),
                    _ => 0,
                }
            );
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
