//! Column-at-a-time evaluation of a filter over a [`DocSet`], behind
//! [`Filter::count`](crate::Filter::count) and
//! [`Filter::select`](crate::Filter::select).
//!
//! Why a separate path: the generic evaluator starts every document at its
//! root, so each predicate pays a hashed probe for its top-level column, and
//! every value goes through the `DocValue` decoding and candidate closures.
//! Here each field's column is resolved once per call ([`Plan`]); per
//! document the evaluator reads the field's cell, follows object steps of
//! the path directly, and tests the common predicates (string equality,
//! string `$in`, `$regex`) on the encoded bytes.
//!
//! Everything else falls back to the generic evaluator on the same value,
//! so answers are identical by construction:
//! - a document without the field gets the answer the generic evaluator
//!   gives a document lacking it (computed once per call);
//! - a path step that meets an array (element traversal) or a predicate
//!   without a fast test runs `eval_pred` on the value reached so far with
//!   the rest of the path, which is exactly what the generic evaluator does
//!   once it has walked the object steps before it;
//! - documents that are not objects are evaluated by the generic evaluator.

use crate::compact::{Cell, ColumnView};
use crate::dated::Dated;
use crate::doc::bytes_eq;
use crate::docset::{DocRef, DocSet};
use crate::eval::{Src, eval_pred};
use crate::path::Seg;
use crate::pattern::Pattern;
use crate::tree::{Node, Pred};
use crate::value::Lit;
use serde_json::{Map, Value};

/// A filter node bound to the columns of one [`DocSet`].
enum Plan<'f, 's> {
    Const(bool),
    And(Vec<Plan<'f, 's>>),
    Or(Vec<Plan<'f, 's>>),
    Nor(Vec<Plan<'f, 's>>),
    Field(FieldPlan<'f, 's>),
    /// The generic evaluator from the document's root.
    Generic(&'f Node, &'s DocSet),
}

struct FieldPlan<'f, 's> {
    column: ColumnView<'s>,
    /// Path segments after the top-level field.
    rest: &'f [Seg],
    preds: &'f [Pred],
    /// The path is a declared date field: values are read through [`Dated`].
    date: bool,
    /// One test per predicate, for the value at the end of the path.
    tests: Vec<Test<'f>>,
    /// The answer for a document where the path reaches no value (the field
    /// is absent, or an object step finds nothing, or a step meets a scalar).
    missing: bool,
}

/// How one predicate is tested on the value at the end of a path.
enum Test<'f> {
    /// `{$eq: "s"}`: true for a string equal to `s`, or an array with such
    /// an element; false for every other value.
    EqStr(&'f [u8]),
    /// `{$in: ["s", ...]}` with strings only: as `EqStr`, for any of them.
    InStr(Vec<&'f [u8]>),
    /// `{$regex: ..}`: true for a matching string, or an array with a
    /// matching string element; false for every other value.
    Regex(&'f Pattern),
    /// Anything else: the generic evaluator.
    Generic(&'f Pred),
    /// Any predicate on a date field: the generic evaluator on the date view.
    GenericDate(&'f Pred),
}

impl<'f> Test<'f> {
    fn new(p: &'f Pred, date: bool) -> Test<'f> {
        if date {
            return Test::GenericDate(p);
        }
        match p {
            Pred::Eq(Lit::Str(s)) => Test::EqStr(s.as_bytes()),
            Pred::In(list) if list.patterns.is_empty() && list.lits.iter().all(|l| matches!(l, Lit::Str(_))) => {
                Test::InStr(
                    list.lits
                        .iter()
                        .filter_map(|l| if let Lit::Str(s) = l { Some(s.as_bytes()) } else { None })
                        .collect(),
                )
            }
            Pred::Regex(re) => Test::Regex(re),
            _ => Test::Generic(p),
        }
    }

    /// Tests a present value (the path fully resolved to `v`).
    #[inline(always)]
    fn test(&self, v: Cell<'_>) -> bool {
        match self {
            Test::EqStr(s) => str_or_elems(v, |x| bytes_eq(x.as_bytes(), s)),
            Test::InStr(list) => str_or_elems(v, |x| list.iter().any(|s| bytes_eq(x.as_bytes(), s))),
            Test::Regex(re) => str_or_elems(v, |x| re.is_match(x)),
            Test::Generic(p) => eval_pred(p, Src::Path(DocRef::of_cell(v), &[])),
            Test::GenericDate(p) => eval_pred(p, Src::Path(Dated(DocRef::of_cell(v)), &[])),
        }
    }
}

/// `test` on a string value, or on the string elements of an array (one
/// level, as MongoDB expands arrays); false for everything else.
#[inline(always)]
fn str_or_elems(v: Cell<'_>, mut test: impl FnMut(&str) -> bool) -> bool {
    if let Some(s) = v.as_str() {
        return test(s);
    }
    v.is_array() && v.elems().any(|e| e.as_str().is_some_and(&mut test))
}

impl<'f, 's> Plan<'f, 's> {
    fn new(node: &'f Node, set: &'s DocSet) -> Plan<'f, 's> {
        let kids = |ks: &'f [Node]| ks.iter().map(|k| Plan::new(k, set)).collect();
        match node {
            Node::Const(b) => Plan::Const(*b),
            Node::And(ks) => Plan::And(kids(ks)),
            Node::Or(ks) => Plan::Or(kids(ks)),
            Node::Nor(ks) => Plan::Nor(kids(ks)),
            Node::Field(path, preds, date) => {
                let Some((first, rest)) = path.segs.split_first() else {
                    // An empty path (never parsed) names the document itself.
                    return Plan::Generic(node, set);
                };
                let empty = Value::Object(Map::new());
                Plan::Field(FieldPlan {
                    column: set.column_view(&first.name, first.hash),
                    rest,
                    preds,
                    date: *date,
                    tests: preds.iter().map(|p| Test::new(p, *date)).collect(),
                    missing: node.matches_doc(&empty),
                })
            }
        }
    }

    /// Calls `hit` for each matching document in `from..to` (all objects).
    fn scan_objects(&self, from: usize, to: usize, hit: &mut impl FnMut(usize)) {
        // A single field is the common case: give it a loop of its own.
        if let Plan::Field(f) = self {
            for d in from..to {
                if f.matches(d) {
                    hit(d);
                }
            }
            return;
        }
        for d in from..to {
            if self.matches(d) {
                hit(d);
            }
        }
    }

    /// Does object document `doc` of the set match?
    fn matches(&self, doc: usize) -> bool {
        match self {
            Plan::Field(f) => f.matches(doc),
            Plan::Or(ks) => ks.iter().any(|k| k.matches_inline(doc)),
            Plan::And(ks) => ks.iter().all(|k| k.matches_inline(doc)),
            Plan::Nor(ks) => !ks.iter().any(|k| k.matches_inline(doc)),
            Plan::Const(b) => *b,
            Plan::Generic(node, set) => set.get(doc).is_some_and(|d| node.matches_doc(d)),
        }
    }

    /// [`Plan::matches`] with a field's test inlined into the caller.
    #[inline(always)]
    fn matches_inline(&self, doc: usize) -> bool {
        match self {
            Plan::Field(f) => f.matches(doc),
            _ => self.matches(doc),
        }
    }
}

impl FieldPlan<'_, '_> {
    #[inline(always)]
    fn matches(&self, doc: usize) -> bool {
        let Some(mut v) = self.column.cell(doc) else {
            return self.missing;
        };
        // Follow object steps directly; a scalar ends the path (no value).
        for (i, seg) in self.rest.iter().enumerate() {
            if v.is_object() {
                match v.get_hashed(&seg.name, seg.hash) {
                    Some(c) => v = c,
                    None => return self.missing,
                }
            } else if v.is_array() {
                // Array traversal: the generic evaluator from here on.
                let (d, rest) = (DocRef::of_cell(v), &self.rest[i..]);
                return if self.date {
                    self.preds.iter().all(|p| eval_pred(p, Src::Path(Dated(d), rest)))
                } else {
                    self.preds.iter().all(|p| eval_pred(p, Src::Path(d, rest)))
                };
            } else {
                return self.missing;
            }
        }
        match &self.tests[..] {
            [t] => t.test(v),
            ts => ts.iter().all(|t| t.test(v)),
        }
    }
}

/// Calls `hit` with the index of each matching document, in order.
pub(crate) fn scan(node: &Node, set: &DocSet, mut hit: impl FnMut(usize)) {
    let plan = Plan::new(node, set);
    let mut from = 0;
    for (d, doc) in set.non_object_docs() {
        plan.scan_objects(from, d, &mut hit);
        if node.matches_doc(doc) {
            hit(d);
        }
        from = d + 1;
    }
    plan.scan_objects(from, set.len(), &mut hit);
}

/// Calls `hit` with each of `docs` (indices of `set`, in the order given) that matches.
pub(crate) fn scan_among(node: &Node, set: &DocSet, docs: impl IntoIterator<Item = usize>, mut hit: impl FnMut(usize)) {
    let plan = Plan::new(node, set);
    for d in docs {
        if d >= set.len() {
            continue;
        }
        let matched = match set.non_object_doc(d) {
            Some(doc) => node.matches_doc(doc),
            None => plan.matches(d),
        };
        if matched {
            hit(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{DocSet, Filter};
    use serde_json::{Value, json};

    /// Documents that reach every branch of the scan: strings, other
    /// scalars, null, arrays (of strings, of objects, nested, empty),
    /// objects (nested, with numeric keys), absent fields and documents
    /// that are not objects.
    fn docs() -> Vec<Value> {
        vec![
            json!({"type": "webhook-incoming", "name": "Alpha deploy 1", "channel": ["#alerts", "#dev"], "_createdBy": {"_id": "u7", "username": "x"}}),
            json!({"type": "webhook-outgoing", "name": "deploy ALPHA", "channel": "#alerts", "_createdBy": {"_id": "u8"}}),
            json!({"type": ["webhook-incoming", 3], "name": ["x", "alpha"], "channel": [["#alerts"]], "_createdBy": [{"_id": "u7"}, {"_id": "u9"}]}),
            json!({"type": null, "name": null, "channel": null, "_createdBy": null}),
            json!({"type": 1, "name": 2.5, "channel": true, "_createdBy": "u7"}),
            json!({"type": {"a": "webhook-incoming"}, "name": {"x": "alpha"}, "channel": {"0": "#alerts"}, "_createdBy": {"_id": null}}),
            json!({"type": [], "name": [], "channel": [], "_createdBy": {}}),
            json!({"other": 1}),
            json!({}),
            json!(["webhook-incoming"]),
            json!("webhook-incoming"),
            json!(null),
            json!({"type": "webhook-incoming", "name": "é alpha \u{212A}", "channel": ["#x", {"a": 1}, "#alerts"], "_createdBy": {"_id": ["u7"]}}),
            json!({"type": "WEBHOOK-INCOMING", "name": "s\u{17F}k\u{212A}", "channel": "#ALERTS", "_createdBy": {"_id": {"x": 1}}}),
            json!({"a": {"b": {"c": "x"}}, "n": [1, 2], "d": {"0": "z"}, "e": [{"f": [{"g": "x"}]}]}),
            json!({"a": {"b": [{"c": "x"}, {"c": "y"}]}, "n": 3, "d": ["z"], "e": {"f": {"g": "x"}}}),
            json!({"a": {"b": "scalar"}, "n": null, "d": {"1": "z"}, "e": [[{"f": {"g": "x"}}]]}),
        ]
    }

    fn queries() -> Vec<Value> {
        vec![
            json!({}),
            json!({"type": "webhook-incoming"}),
            json!({"type": {"$eq": "webhook-incoming"}}),
            json!({"type": null}),
            json!({"type": {"$ne": "webhook-incoming"}}),
            json!({"type": {"$in": ["webhook-outgoing", "webhook-incoming"]}}),
            json!({"type": {"$in": ["webhook-outgoing", null]}}),
            json!({"type": {"$in": ["webhook-outgoing", {"$regex": "^web"}]}}),
            json!({"type": {"$nin": ["webhook-outgoing"]}}),
            json!({"type": {"$exists": false}}),
            json!({"type": 1}),
            json!({"type": []}),
            json!({"type": {"$size": 0}}),
            json!({"name": {"$regex": "alpha", "$options": "i"}}),
            json!({"name": {"$regex": "k", "$options": "i"}}),
            json!({"name": {"$regex": "SK", "$options": "i"}}),
            json!({"name": {"$regex": "^deploy"}}),
            json!({"name": {"$regex": "^DEPLOY", "$options": "i"}}),
            json!({"name": {"$regex": "alpha"}}),
            json!({"name": {"$regex": "a.p", "$options": "i"}}),
            json!({"name": {"$not": {"$regex": "alpha", "$options": "i"}}}),
            json!({"name": {"$regex": "alpha", "$options": "i"}, "type": "webhook-incoming"}),
            json!({"name": {"$regex": "alpha", "$options": "i", "$ne": "deploy ALPHA"}}),
            json!({"channel": "#alerts"}),
            json!({"channel": ["#alerts"]}),
            json!({"channel.0": "#alerts"}),
            json!({"channel.a": 1}),
            json!({"_createdBy._id": "u7"}),
            json!({"_createdBy._id": null}),
            json!({"_createdBy._id": {"$exists": true}}),
            json!({"_createdBy._id.x": 1}),
            json!({"_createdBy._id": {"$in": ["u7", "u8"]}}),
            json!({"a.b.c": "x"}),
            json!({"a.b.c": null}),
            json!({"a.b": {"$type": "string"}}),
            json!({"d.0": "z"}),
            json!({"d.1": {"$exists": false}}),
            json!({"e.f.g": "x"}),
            json!({"n": {"$gt": 1}}),
            json!({"n": {"$elemMatch": {"$gt": 1}}}),
            json!({"$or": [{"_createdBy._id": "u7"}, {"channel": "#alerts"}, {"name": {"$regex": "^deploy"}}]}),
            json!({"$and": [{"type": "webhook-incoming"}, {"$or": [{"channel": "#alerts"}, {"missing": null}]}]}),
            json!({"$nor": [{"type": "webhook-incoming"}, {"name": {"$regex": "alpha", "$options": "i"}}]}),
            json!({"$or": [{"nothing": "x"}, {"type": {"$exists": false}}]}),
        ]
    }

    #[test]
    fn scan_agrees_with_the_generic_evaluator() {
        let docs = docs();
        let set = DocSet::from_values(&docs);
        // Also with the non-object documents first and last (their runs).
        let mut rotated = docs.clone();
        rotated.rotate_left(9);
        let rotated_set = DocSet::from_values(&rotated);
        for q in queries() {
            let f = Filter::parse(&q).unwrap_or_else(|e| panic!("{q}: {e}"));
            for (docs, set) in [(&docs, &set), (&rotated, &rotated_set)] {
                let expected: Vec<usize> =
                    docs.iter().enumerate().filter(|(_, d)| f.matches(d)).map(|(i, _)| i).collect();
                let one_by_one: Vec<usize> = (0..set.len()).filter(|&i| f.matches_ref(set.get(i).unwrap())).collect();
                assert_eq!(one_by_one, expected, "{q}");
                assert_eq!(f.select(set), expected, "{q}");
                assert_eq!(f.count(set), expected.len(), "{q}");
                let mut each = Vec::new();
                f.for_each_match(set, |d| each.push(d));
                assert_eq!(each, expected, "{q}");
                // Picked documents: every other one, backwards, repeated and past the end.
                let among: Vec<usize> = (0..set.len() + 2).rev().step_by(2).chain([1, 1]).collect();
                let mut picked = Vec::new();
                f.for_each_match_among(set, among.iter().copied(), |d| picked.push(d));
                let wanted: Vec<usize> = among.into_iter().filter(|d| expected.contains(d)).collect();
                assert_eq!(picked, wanted, "{q}");
                // A constant answer is the answer for every document.
                if let Some(b) = f.constant() {
                    let all: Vec<usize> = if b { (0..docs.len()).collect() } else { Vec::new() };
                    assert_eq!(expected, all, "{q}");
                }
            }
        }
    }

    #[test]
    fn constant_filters_are_recognised() {
        let constant = |q: Value| Filter::parse(&q).unwrap().constant();
        assert_eq!(Filter::all().constant(), Some(true));
        assert_eq!(Filter::none().constant(), Some(false));
        assert_eq!(Filter::and(vec![Filter::all(), Filter::all()]).constant(), Some(true));
        assert_eq!(Filter::and(vec![Filter::all(), Filter::eq("type", "x")]).constant(), None);
        assert_eq!(Filter::and(vec![Filter::none(), Filter::eq("type", "x")]).constant(), Some(false));
        assert_eq!(Filter::or(vec![Filter::eq("type", "x"), Filter::all()]).constant(), Some(true));
        assert_eq!(Filter::or(vec![Filter::eq("type", "x"), Filter::none()]).constant(), None);
        assert_eq!(Filter::or(vec![Filter::none(), Filter::none()]).constant(), Some(false));
        assert_eq!(Filter::nor(vec![Filter::none()]).constant(), Some(true));
        assert_eq!(Filter::nor(vec![Filter::eq("type", "x"), Filter::all()]).constant(), Some(false));
        assert_eq!(Filter::nor(vec![Filter::eq("type", "x"), Filter::none()]).constant(), None);
        assert_eq!(constant(json!({})), Some(true));
        assert_eq!(constant(json!({"type": "x"})), None);
        assert_eq!(constant(json!({"$and": [{}, {"$or": [{}, {"type": "x"}]}]})), Some(true));
        assert_eq!(constant(json!({"$nor": [{}]})), Some(false));
        // Every document, objects or not, gets the constant answer.
        let docs = docs();
        let set = DocSet::from_values(&docs);
        for (f, n) in [
            (Filter::and(vec![Filter::all(), Filter::parse(&json!({"$or": [{}, {"a": 1}]})).unwrap()]), docs.len()),
            (Filter::and(vec![Filter::eq("type", "webhook-incoming"), Filter::none()]), 0),
        ] {
            assert_eq!(f.count(&set), n);
            assert!(docs.iter().all(|d| f.matches(d) == (n > 0)));
        }
    }

    #[test]
    fn fast_paths_cover_the_intended_shapes() {
        let docs = docs();
        let set = DocSet::from_values(&docs);
        let count = |q: Value| Filter::parse(&q).unwrap().count(&set);
        // string equality: the string, and arrays holding it; not nested arrays,
        // other types, objects or documents that are not objects
        assert_eq!(count(json!({"type": "webhook-incoming"})), 3);
        // missing field ≡ null: null, absent, and the scalar documents (an
        // array document without object elements yields no candidate)
        assert_eq!(count(json!({"type": null})), 8);
        // case-insensitive literal: ASCII and Unicode folding (KELVIN SIGN is k)
        assert_eq!(count(json!({"name": {"$regex": "alpha", "$options": "i"}})), 4);
        assert_eq!(count(json!({"name": {"$regex": "k", "$options": "i"}})), 2);
        // object steps, arrays of objects on the way
        assert_eq!(count(json!({"_createdBy._id": "u7"})), 3);
        assert_eq!(count(json!({"e.f.g": "x"})), 2);
        // an empty set and a filter on an absent column
        assert_eq!(Filter::parse(&json!({"type": "x"})).unwrap().count(&DocSet::new()), 0);
        assert_eq!(count(json!({"nothing": null})), docs.len() - 1);
    }
}
