//! An in-memory columnar copy ([`DocSet`]) of the integrations' listing fields (`_id`, `type`,
//! `name`, `_createdBy._id`, `_createdAt`, `_updatedAt`, `channel`), so that a listing whose
//! filter reads only those fields, such as a case-insensitive regex on `name` or the
//! integrations of one room, is matched without reading or parsing stored documents. Each
//! backend loads it on first use and, after every committed change, applies the committed
//! state of that integration re-read from the database, so the copy converges to what is
//! committed.
//!
//! A `DocSet` only appends: a changed or removed integration leaves a dead slot (and a changed
//! one a new slot at the end), and the set is rebuilt in insertion order once dead slots make
//! up a quarter of it.

use crate::DocQuery;
use query::{DocRef, DocSet, DocValue};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Paths the index holds completely, so may filter and sort on.
pub const FIELDS: &[&str] = &["_id", "type", "name", "_createdBy._id", "_createdAt", "_updatedAt", "channel"];

/// Whether the index can answer `q`: its filter and order read only the indexed fields.
pub fn answers(q: &DocQuery) -> bool {
    q.filter.reads_only(FIELDS) && q.sort_keys.iter().all(|(k, _)| FIELDS.contains(&k.as_str()))
}

/// Rebuilds happen only past this many dead slots (and a quarter of the set).
const MIN_DEAD_FOR_REBUILD: usize = 256;

/// Fields with posting lists: a listing that requires one of a few values there (the
/// integrations of a room, the caller's own) tests only the documents listed, so its cost
/// follows what it matches rather than how many integrations are stored.
const POSTED: [&str; 2] = ["channel", "_createdBy._id"];

/// One committed integration: its insertion order (rowid, sequence), id and listing fields.
pub type Entry = (i64, String, Value);

#[derive(Default)]
pub struct IntegrationIndex {
    set: DocSet,
    /// Per slot of `set`: rowid and id, `None` once the slot is dead.
    slots: Vec<Option<(i64, String)>>,
    slot_of: HashMap<String, usize>,
    dead: usize,
    /// Live slots are in ascending rowid order (no change appended an older row).
    ordered: bool,
    /// Per field of `POSTED`: value → slots holding it (dead slots included), and the slots
    /// whose value there is not a string or a list of strings (always tested).
    postings: [Postings; 2],
}

#[derive(Default)]
struct Postings {
    by_value: HashMap<String, Vec<usize>>,
    other: Vec<usize>,
}

/// The strings at `path` as a filter sees them (the value, or the elements of a list); `None`
/// when something else is there. Absent is an empty list: no string can match it.
fn strings_at<'v>(doc: &'v Value, path: &str) -> Option<Vec<&'v str>> {
    let mut v = doc;
    for key in path.split('.') {
        match v {
            Value::Object(m) => match m.get(key) {
                Some(next) => v = next,
                None => return Some(Vec::new()),
            },
            Value::Null => return Some(Vec::new()),
            _ => return None,
        }
    }
    match v {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Null => Some(Vec::new()),
        Value::Array(items) => items.iter().map(|i| i.as_str()).collect(),
        _ => None,
    }
}

/// The listing fields of a stored document, exactly as stored (absent stays absent).
pub fn slim(doc: &Map<String, Value>) -> Value {
    let mut m = Map::with_capacity(FIELDS.len());
    for key in ["_id", "type", "name", "_createdAt", "_updatedAt", "channel"] {
        if let Some(v) = doc.get(key) {
            m.insert(key.to_owned(), v.clone());
        }
    }
    match doc.get("_createdBy") {
        Some(Value::Object(by)) => {
            let mut c = Map::with_capacity(1);
            if let Some(id) = by.get("_id") {
                c.insert("_id".into(), id.clone());
            }
            m.insert("_createdBy".into(), Value::Object(c));
        }
        Some(other) => {
            m.insert("_createdBy".into(), other.clone());
        }
        None => {}
    }
    Value::Object(m)
}

/// The top-level fields of `doc` that a sort on `keys` reads.
fn sort_view(doc: DocRef<'_>, keys: &[(String, bool)]) -> Value {
    let mut m = Map::with_capacity(keys.len());
    for (key, _) in keys {
        let top = key.split('.').next().unwrap_or(key);
        if let Some(v) = doc.get(top) {
            m.insert(top.to_owned(), v.to_value());
        }
    }
    Value::Object(m)
}

/// The entry of a stored row; an unreadable document is indexed by its id alone (listings
/// skip such rows too).
pub fn entry_of(order: i64, id: String, doc: Option<&Map<String, Value>>) -> Entry {
    let value = match doc {
        Some(doc) => slim(doc),
        None => serde_json::json!({ "_id": id }),
    };
    (order, id, value)
}

impl IntegrationIndex {
    /// An index of `entries`, given in insertion order.
    pub fn from_entries(entries: impl IntoIterator<Item = Entry>) -> Self {
        let mut index = Self { ordered: true, ..Self::default() };
        for e in entries {
            index.push(e);
        }
        index
    }

    fn push(&mut self, (rowid, id, value): Entry) {
        if let Some(Some((last, _))) = self.slots.iter().rev().find(|s| s.is_some()) {
            self.ordered &= *last < rowid;
        }
        let slot = self.slots.len();
        for (field, postings) in POSTED.iter().zip(self.postings.iter_mut()) {
            match strings_at(&value, field) {
                Some(values) => {
                    for v in values {
                        postings.by_value.entry(v.to_owned()).or_default().push(slot);
                    }
                }
                None => postings.other.push(slot),
            }
        }
        self.slot_of.insert(id.clone(), slot);
        self.slots.push(Some((rowid, id)));
        self.set.push(&value);
    }

    pub fn apply(&mut self, id: &str, entry: Option<Entry>) {
        if let Some(slot) = self.slot_of.remove(id) {
            self.slots[slot] = None;
            self.dead += 1;
        }
        if let Some(e) = entry {
            self.push(e);
        }
        if self.dead >= MIN_DEAD_FOR_REBUILD && self.dead * 4 >= self.slots.len() {
            self.rebuild();
        }
    }

    /// A new set of the live slots in rowid order.
    fn rebuild(&mut self) {
        let mut live: Vec<Entry> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(s, slot)| {
                let (rowid, id) = slot.as_ref()?;
                Some((*rowid, id.clone(), self.set.get(s)?.to_value()))
            })
            .collect();
        live.sort_by_key(|e| e.0);
        *self = Self { ordered: true, ..Self::default() };
        for e in live {
            self.push(e);
        }
    }

    /// The only slots that can match, from a posting list, when the filter requires one of a
    /// few values of a posted field; ascending, possibly dead.
    fn candidates(&self, q: &DocQuery) -> Option<Vec<usize>> {
        let (postings, values) = POSTED
            .iter()
            .zip(&self.postings)
            .find_map(|(field, postings)| Some((postings, q.filter.required_strings(field)?)))?;
        let mut slots = postings.other.clone();
        for v in &values {
            slots.extend(postings.by_value.get(v).into_iter().flatten());
        }
        slots.sort_unstable();
        slots.dedup();
        Some(slots)
    }

    /// Live matching slots with their rowids: all of them (for the count), the first `keep` in
    /// rowid order.
    fn matches(&self, q: &DocQuery, keep: usize) -> Vec<(i64, usize)> {
        let slots = match self.candidates(q) {
            Some(candidates) => {
                candidates.into_iter().filter(|&s| self.set.get(s).is_some_and(|d| q.filter.matches_ref(d))).collect()
            }
            None => q.filter.select(&self.set),
        };
        let mut hits: Vec<(i64, usize)> =
            slots.into_iter().filter_map(|s| self.slots[s].as_ref().map(|(rowid, _)| (*rowid, s))).collect();
        if !self.ordered {
            // Changes committed concurrently appended slots out of rowid order: order just the
            // part a page needs.
            if keep < hits.len() {
                hits.select_nth_unstable_by_key(keep, |h| h.0);
                hits[..keep].sort_unstable_by_key(|h| h.0);
            } else {
                hits.sort_unstable_by_key(|h| h.0);
            }
        }
        hits
    }

    /// Number of matches, and ids of one page in order; `None` when the caller's order is
    /// better left to SQL (many matches to sort).
    pub fn find(&self, q: &DocQuery, sort_limit: usize) -> Option<(Vec<String>, usize)> {
        let limit = q.limit.unwrap_or(usize::MAX);
        let sorted = q.sort.as_ref().is_some_and(|s| !s.is_empty());
        let keep = if sorted { usize::MAX } else { q.offset.saturating_add(limit) };
        let hits = self.matches(q, keep);
        let total = hits.len();
        let slots: Vec<usize> = match &q.sort {
            Some(sort) if !sort.is_empty() => {
                if total > sort_limit {
                    return None;
                }
                // Stable: equal documents keep insertion order. Only the sorted fields are
                // copied out of the set.
                let mut docs: Vec<(usize, Value)> = hits
                    .iter()
                    .filter_map(|&(_, s)| self.set.get(s).map(|d| (s, sort_view(d, &q.sort_keys))))
                    .collect();
                docs.sort_by(|a, b| sort.compare(&a.1, &b.1));
                docs.into_iter().skip(q.offset).take(limit).map(|(s, _)| s).collect()
            }
            _ => hits.into_iter().skip(q.offset).take(limit).map(|(_, s)| s).collect(),
        };
        let ids = slots.into_iter().filter_map(|s| self.slots[s].as_ref().map(|(_, id)| id.clone())).collect();
        Some((ids, total))
    }
}
