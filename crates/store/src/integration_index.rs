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
//! up a quarter of it. Listings are in insertion order (rowid, sequence), which the order of the
//! slots follows only until a change appends an older row (an edit, or changes committed
//! concurrently), so the live slots are also kept sorted by insertion order: a page of a listing
//! that matches everything in scope (the admin's first page) is read from there directly, and
//! any other unsorted listing keeps just the first matches of a page while it counts the rest.

use crate::DocQuery;
use query::{DocRef, DocSet, DocValue};
use serde_json::{Map, Value};
use std::collections::{BinaryHeap, HashMap};

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
    /// The live slots as (rowid, slot), ascending: the listing order.
    order: Vec<(i64, usize)>,
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
        let mut index = Self::default();
        for e in entries {
            index.push(e);
        }
        index
    }

    /// Appends `entry` in a new slot, in its place in `order`.
    fn push(&mut self, entry: Entry) {
        let slot = self.slots.len();
        let key = (entry.0, slot);
        match self.order.last() {
            Some(last) if *last > key => {
                let at = self.order.partition_point(|k| *k < key);
                self.order.insert(at, key);
            }
            _ => self.order.push(key),
        }
        self.push_slot(entry);
    }

    fn push_slot(&mut self, (rowid, id, value): Entry) {
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
        let mut freed = None;
        if let Some(slot) = self.slot_of.remove(id) {
            if let Some((rowid, _)) = self.slots[slot].take() {
                let at = self.order.binary_search(&(rowid, slot));
                debug_assert!(at.is_ok(), "a live slot is in the order");
                freed = at.ok().map(|at| (rowid, at));
            }
            self.dead += 1;
        }
        match (freed, entry) {
            // A changed row that keeps its rowid keeps its place in the order, unless another
            // live slot has that rowid too (a rowid reused while its old row was still listed).
            (Some((rowid, at)), Some(e))
                if e.0 == rowid && self.order.get(at + 1).is_none_or(|next| next.0 != rowid) =>
            {
                self.order[at].1 = self.slots.len();
                self.push_slot(e);
            }
            (freed, entry) => {
                if let Some((_, at)) = freed {
                    self.order.remove(at);
                }
                if let Some(e) = entry {
                    self.push(e);
                }
            }
        }
        if self.dead >= MIN_DEAD_FOR_REBUILD && self.dead * 4 >= self.slots.len() {
            self.rebuild();
        }
    }

    /// A new set of the live slots in rowid order.
    fn rebuild(&mut self) {
        let live: Vec<Entry> = self
            .order
            .iter()
            .filter_map(|&(rowid, s)| {
                let (_, id) = self.slots[s].as_ref()?;
                Some((rowid, id.clone(), self.set.get(s)?.to_value()))
            })
            .collect();
        *self = Self::from_entries(live);
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

    /// The first `keep` live matching slots in listing order, as (rowid, slot), and the number
    /// of all of them.
    fn matches(&self, q: &DocQuery, keep: usize) -> (Vec<(i64, usize)>, usize) {
        match q.filter.constant() {
            Some(true) => return (self.order[..keep.min(self.order.len())].to_vec(), self.order.len()),
            Some(false) => return (Vec::new(), 0),
            None => {}
        }
        let mut total = 0;
        let mut first = First::new(keep);
        let mut hit = |s: usize| {
            if let Some((rowid, _)) = &self.slots[s] {
                total += 1;
                first.offer((*rowid, s));
            }
        };
        match self.candidates(q) {
            Some(candidates) => q.filter.for_each_match_among(&self.set, candidates, &mut hit),
            None => q.filter.for_each_match(&self.set, &mut hit),
        }
        (first.into_sorted(), total)
    }

    /// Number of matches, and ids of one page in order; `None` when the caller's order is
    /// better left to SQL (many matches to sort).
    pub fn find(&self, q: &DocQuery, sort_limit: usize) -> Option<(Vec<String>, usize)> {
        let limit = q.limit.unwrap_or(usize::MAX);
        let (slots, total): (Vec<usize>, usize) = match &q.sort {
            Some(sort) if !sort.is_empty() => {
                let (hits, total) = self.matches(q, usize::MAX);
                if total > sort_limit {
                    return None;
                }
                // Stable: equal documents keep insertion order. Only the sorted fields are
                // copied out of the set.
                let (slots, views): (Vec<usize>, Vec<Value>) =
                    hits.iter().filter_map(|&(_, s)| self.set.get(s).map(|d| (s, sort_view(d, &q.sort_keys)))).unzip();
                (sort.order(&views).into_iter().skip(q.offset).take(limit).map(|i| slots[i]).collect(), total)
            }
            // Everything in scope: the page is a slice of the order.
            _ if q.filter.constant() == Some(true) => {
                (self.order.iter().skip(q.offset).take(limit).map(|&(_, s)| s).collect(), self.order.len())
            }
            _ => {
                let (hits, total) = self.matches(q, q.offset.saturating_add(limit));
                (hits.into_iter().skip(q.offset).map(|(_, s)| s).collect(), total)
            }
        };
        let ids = slots.into_iter().filter_map(|s| self.slots[s].as_ref().map(|(_, id)| id.clone())).collect();
        Some((ids, total))
    }
}

/// Up to this many kept matches are kept in a heap; a larger page keeps every match and orders
/// them at the end.
const HEAP_MAX: usize = 4096;

/// The `keep` smallest of the (rowid, slot) pairs offered. Offered nearly in ascending order
/// (slots mostly follow rowids), all but the first few are dismissed by one comparison.
enum First {
    Heap(usize, BinaryHeap<(i64, usize)>),
    All(usize, Vec<(i64, usize)>),
}

impl First {
    fn new(keep: usize) -> Self {
        if keep <= HEAP_MAX { Self::Heap(keep, BinaryHeap::with_capacity(keep)) } else { Self::All(keep, Vec::new()) }
    }

    #[inline]
    fn offer(&mut self, key: (i64, usize)) {
        match self {
            Self::Heap(keep, heap) if heap.len() < *keep => heap.push(key),
            Self::Heap(_, heap) => {
                if let Some(mut top) = heap.peek_mut()
                    && key < *top
                {
                    *top = key;
                }
            }
            Self::All(_, all) => all.push(key),
        }
    }

    /// The kept pairs, ascending.
    fn into_sorted(self) -> Vec<(i64, usize)> {
        match self {
            Self::Heap(_, heap) => heap.into_sorted_vec(),
            Self::All(keep, mut all) => {
                if keep < all.len() {
                    all.select_nth_unstable(keep);
                    all.truncate(keep);
                }
                all.sort_unstable();
                all
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use query::{Filter, Sort};
    use serde_json::json;
    use std::collections::BTreeMap;

    /// A small deterministic generator (xorshift), so that failures reproduce.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    fn listing_fields(rng: &mut Rng, id: &str, version: usize) -> Value {
        let mut v = json!({
            "_id": id,
            "type": if rng.below(3) == 0 { "webhook-outgoing" } else { "webhook-incoming" },
            "name": format!("Hook {} v{version}", rng.below(40)),
            "_createdBy": {"_id": format!("user{}", rng.below(6))},
            "_createdAt": format!("2026-01-01T00:{:02}:{:02}.000Z", rng.below(60), rng.below(60)),
        });
        match rng.below(8) {
            0 => {}
            1 => v["channel"] = json!(format!("#room{}", rng.below(5))),
            2 => v["channel"] = json!([["#room1"], 7]),
            _ => v["channel"] = json!([format!("#room{}", rng.below(5)), "all_public_channels"]),
        }
        v
    }

    fn filters() -> Vec<Filter> {
        let p = |v: Value| Filter::parse_with_dates(&v, &["_createdAt"]).unwrap();
        vec![
            Filter::all(),
            Filter::and(vec![Filter::all()]),
            Filter::and(vec![Filter::all(), p(json!({}))]),
            Filter::or(vec![Filter::eq("type", "webhook-outgoing"), Filter::all()]),
            Filter::none(),
            Filter::and(vec![Filter::eq("_createdBy._id", "user1"), Filter::none()]),
            // the same as everything, but not seen to be: the general path
            p(json!({"_id": {"$exists": true}})),
            Filter::and(vec![Filter::all(), Filter::eq("type", "webhook-incoming")]),
            p(json!({"name": {"$regex": "hook 1", "$options": "i"}})),
            p(json!({"name": {"$regex": "nothing matches this"}})),
            // answered from the posting lists
            Filter::and(vec![Filter::all(), Filter::is_in("channel", ["#room1", "all_public_channels"])]),
            Filter::and(vec![Filter::eq("_createdBy._id", "user2"), p(json!({"name": {"$regex": "v0$"}}))]),
            Filter::or(vec![
                Filter::and(vec![Filter::eq("_createdBy._id", "user3"), Filter::eq("type", "webhook-outgoing")]),
                Filter::eq("_createdBy._id", "user4"),
            ]),
        ]
    }

    fn sorts() -> Vec<Vec<(String, bool)>> {
        vec![vec![], vec![("name".into(), true)], vec![("_createdAt".into(), false), ("_id".into(), true)]]
    }

    const PAGES: [(usize, Option<usize>); 8] = [
        (0, Some(25)),
        (3, Some(20)),
        (0, Some(1)),
        (590, Some(50)),
        (0, None),
        (17, None),
        (10_000, Some(5)),
        (40, Some(4_500)),
    ];

    fn query(filter: &Filter, keys: &[(String, bool)], (offset, limit): (usize, Option<usize>)) -> DocQuery {
        let sort = (!keys.is_empty()).then(|| {
            let spec = Value::Object(keys.iter().map(|(k, a)| (k.clone(), json!(if *a { 1 } else { -1 }))).collect());
            Sort::parse_with_dates(&spec, &["_createdAt"]).unwrap()
        });
        DocQuery { filter: filter.clone(), sort_keys: keys.to_vec(), sort, offset, limit }
    }

    /// The ids of every match straight from the definition: every live entry in rowid order,
    /// filtered, stably sorted.
    fn expected(model: &BTreeMap<i64, (String, Value)>, q: &DocQuery) -> Vec<String> {
        let mut docs: Vec<Value> = model.values().map(|(_, v)| v.clone()).filter(|v| q.filter.matches(v)).collect();
        if let Some(sort) = &q.sort {
            sort.sort_values(&mut docs);
        }
        docs.iter().map(|d| d["_id"].as_str().unwrap().to_owned()).collect()
    }

    fn check(index: &IntegrationIndex, model: &BTreeMap<i64, (String, Value)>, context: &str) {
        let everything = Filter::and(vec![Filter::all()]);
        let general = Filter::parse(&json!({"_id": {"$exists": true}})).unwrap();
        for filter in filters() {
            for keys in sorts() {
                let all = expected(model, &query(&filter, &keys, (0, None)));
                for page @ (offset, limit) in PAGES {
                    let got = index.find(&query(&filter, &keys, page), usize::MAX).expect("no sort limit");
                    let want = all.iter().skip(offset).take(limit.unwrap_or(usize::MAX)).cloned().collect();
                    assert_eq!(got, (want, all.len()), "{context}: {filter:?} {keys:?} {page:?}");
                }
            }
        }
        // The page read from the order is the one the general path finds.
        for page in PAGES {
            let fast = index.find(&query(&everything, &[], page), usize::MAX);
            assert_eq!(fast, index.find(&query(&general, &[], page), usize::MAX), "{context}: {page:?}");
        }
        // The order holds the live slots, ascending.
        let live: Vec<(i64, usize)> =
            index.slots.iter().enumerate().filter_map(|(s, e)| e.as_ref().map(|(r, _)| (*r, s))).collect();
        let mut sorted = live.clone();
        sorted.sort_unstable();
        assert_eq!(index.order, sorted, "{context}");
    }

    /// Inserts (new rows, and rows older than the newest: commits applied out of order),
    /// changes that keep the rowid, and deletes, checked against a model of the table after
    /// every round; enough changes that the set is rebuilt on the way.
    #[test]
    fn pages_and_totals_follow_insertion_order_through_changes() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut model: BTreeMap<i64, (String, Value)> = BTreeMap::new();
        let mut entries = Vec::new();
        for i in 0..600 {
            let (rowid, id) = (10 * i as i64, format!("id{i:04}"));
            let v = listing_fields(&mut rng, &id, 0);
            model.insert(rowid, (id.clone(), v.clone()));
            entries.push((rowid, id, v));
        }
        let mut index = IntegrationIndex::from_entries(entries);
        check(&index, &model, "loaded");
        let mut next = 6_000;
        let (mut rebuilt, mut shuffled) = (false, false);
        for round in 1..=6 {
            for _ in 0..150 {
                let rowids: Vec<i64> = model.keys().copied().collect();
                match rng.below(10) {
                    // a new row, usually the newest, sometimes older than rows applied before
                    0..=2 => {
                        let rowid = if rng.below(3) == 0 {
                            let r = rng.below(next as usize) as i64;
                            if model.contains_key(&r) {
                                continue;
                            }
                            r
                        } else {
                            next += 10;
                            next
                        };
                        let id = format!("new{rowid}");
                        let v = listing_fields(&mut rng, &id, round);
                        model.insert(rowid, (id.clone(), v.clone()));
                        index.apply(&id, Some((rowid, id.clone(), v)));
                    }
                    3..=7 if !rowids.is_empty() => {
                        let rowid = rowids[rng.below(rowids.len())];
                        let id = model[&rowid].0.clone();
                        let v = listing_fields(&mut rng, &id, round);
                        model.insert(rowid, (id.clone(), v.clone()));
                        index.apply(&id, Some((rowid, id.clone(), v)));
                    }
                    _ if !rowids.is_empty() => {
                        let rowid = rowids[rng.below(rowids.len())];
                        let (id, _) = model.remove(&rowid).unwrap();
                        index.apply(&id, None);
                    }
                    _ => {}
                }
                rebuilt |= index.dead == 0;
                shuffled |= index.order.windows(2).any(|w| w[0].1 > w[1].1);
            }
            check(&index, &model, &format!("round {round}"));
        }
        assert!(rebuilt, "the set was rebuilt on the way");
        assert!(shuffled, "slots left rowid order on the way");
    }

    /// A rowid reused while the row it belonged to is still listed (its delete not yet
    /// applied): both are listed, then the right one goes.
    #[test]
    fn a_reused_rowid_is_listed_once_per_live_slot() {
        let v = |id: &str| json!({"_id": id, "type": "webhook-incoming"});
        let mut index = IntegrationIndex::from_entries([(1, "a".to_owned(), v("a")), (2, "b".to_owned(), v("b"))]);
        index.apply("c", Some((2, "c".to_owned(), v("c"))));
        index.apply("b", Some((2, "b".to_owned(), v("b"))));
        let all = |index: &IntegrationIndex| index.find(&query(&Filter::all(), &[], (0, None)), usize::MAX);
        let general = Filter::eq("type", "webhook-incoming");
        let page = (vec!["a".to_owned(), "c".to_owned(), "b".to_owned()], 3);
        assert_eq!(all(&index), Some(page.clone()));
        assert_eq!(index.find(&query(&general, &[], (0, None)), usize::MAX), Some(page.clone()));
        assert_eq!(index.find(&query(&general, &[], (1, Some(1))), usize::MAX), Some((vec!["c".to_owned()], 3)));
        index.apply("b", None);
        assert_eq!(all(&index), Some((vec!["a".to_owned(), "c".to_owned()], 2)));
        assert_eq!(index.order, vec![(1, 0), (2, 2)]);
    }

    #[test]
    fn first_keeps_the_smallest_in_order() {
        let mut rng = Rng(42);
        for keep in [0, 1, 7, HEAP_MAX, HEAP_MAX + 1, 10_000] {
            let keys: Vec<(i64, usize)> = (0..6_000).map(|s| ((rng.below(3_000) as i64), s)).collect();
            let mut first = First::new(keep);
            keys.iter().for_each(|&k| first.offer(k));
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            sorted.truncate(keep);
            assert_eq!(first.into_sorted(), sorted, "keep {keep}");
        }
    }
}
