//! [`Filter`]: a parsed, validated MongoDB query, its matching entry points
//! and the constructors trusted code uses to build scopes.

use crate::doc::DocValue;
use crate::docset::DocSet;
use crate::error::QueryError;
use crate::parse::{bad, check_shape, parse_node};
use crate::path::Path;
use crate::pattern::Pattern;
use crate::tree::{InList, Node, Pred};
use crate::value::Lit;
use serde_json::Value;
use std::sync::Arc;

/// A parsed, validated query filter.
#[derive(Clone, Debug)]
pub struct Filter {
    pub(crate) node: Node,
}

/// Escapes text so that PCRE (and this engine) reads it literally.
pub fn escape_pcre(text: &str) -> String {
    let mut s = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if c.is_ascii() && !c.is_ascii_alphanumeric() && c != ' ' && c != '_' {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

impl Filter {
    /// Parses an (untrusted) MongoDB query document in which every string
    /// is a string.
    pub fn parse(v: &Value) -> Result<Filter, QueryError> {
        Filter::parse_with_dates(v, &[])
    }

    /// Parses an (untrusted) MongoDB query document where the values at the
    /// top-level paths `dates` are dates stored as ISO strings
    /// (`YYYY-MM-DDTHH:MM:SS.mmmZ`): for every operator they behave as
    /// MongoDB dates (`$type: "date"`, compared with `{"$date": ..}`
    /// operands, never equal to or ordered with a string, never matched by
    /// `$regex`).
    pub fn parse_with_dates(v: &Value, dates: &[&str]) -> Result<Filter, QueryError> {
        let Value::Object(m) = v else {
            return Err(bad("query must be an object"));
        };
        check_shape(v)?;
        Ok(Filter { node: parse_node(m, dates)? })
    }

    /// Whether every field the filter reads is one of `paths` (dotted, as
    /// written in the query): a store holding just those fields of each
    /// document can evaluate it.
    pub fn reads_only(&self, paths: &[&str]) -> bool {
        fn node(n: &Node, paths: &[&str]) -> bool {
            match n {
                Node::And(ks) | Node::Or(ks) | Node::Nor(ks) => ks.iter().all(|k| node(k, paths)),
                Node::Field(p, ..) => paths.contains(&p.raw.as_str()),
                Node::Const(_) => true,
            }
        }
        node(&self.node, paths)
    }

    /// Strings one of which every matching document holds at `path` (as its value there or an
    /// element of an array there), when the filter requires that: `{path: "s"}` or
    /// `{path: {$in: ["s", ...]}}` in a conjunction, or in every branch of a disjunction. A
    /// store keeping a posting list for `path` then tests only the documents listed under these.
    pub fn required_strings(&self, path: &str) -> Option<Vec<String>> {
        fn of(n: &Node, path: &str) -> Option<Vec<String>> {
            match n {
                Node::And(ks) => ks.iter().find_map(|k| of(k, path)),
                Node::Or(ks) if !ks.is_empty() => {
                    let mut all = Vec::new();
                    for k in ks {
                        all.extend(of(k, path)?);
                    }
                    Some(all)
                }
                // Date fields never equal a string; they need no posting list.
                Node::Field(p, preds, false) if p.raw == path => preds.iter().find_map(|pred| match pred {
                    Pred::Eq(Lit::Str(s)) => Some(vec![s.clone()]),
                    Pred::In(list) if list.patterns.is_empty() => list
                        .lits
                        .iter()
                        .map(|l| match l {
                            Lit::Str(s) => Some(s.clone()),
                            _ => None,
                        })
                        .collect(),
                    _ => None,
                }),
                _ => None,
            }
        }
        let mut found = of(&self.node, path)?;
        found.sort_unstable();
        found.dedup();
        Some(found)
    }

    /// Does `doc` satisfy the filter?
    pub fn matches(&self, doc: &Value) -> bool {
        self.node.matches_doc(doc)
    }

    /// Does a document of a [`DocSet`] (or any [`DocValue`]) satisfy the filter?
    pub fn matches_ref<'a, D: DocValue<'a>>(&self, doc: D) -> bool {
        self.node.matches_doc(doc)
    }

    /// Indices of the documents of `docs` that match, in order.
    /// (Evaluated column by column: see `scan.rs`.)
    pub fn select(&self, docs: &DocSet) -> Vec<usize> {
        let mut out = Vec::new();
        crate::scan::scan(&self.node, docs, |d| out.push(d));
        out
    }

    /// Number of documents of `docs` that match.
    pub fn count(&self, docs: &DocSet) -> usize {
        let mut n = 0;
        crate::scan::scan(&self.node, docs, |_| n += 1);
        n
    }

    /// Calls `hit` with the index of each document of `docs` that matches, in order: what
    /// [`Filter::select`] collects, without collecting it.
    pub fn for_each_match(&self, docs: &DocSet, hit: impl FnMut(usize)) {
        crate::scan::scan(&self.node, docs, hit);
    }

    /// Calls `hit` with each index of `among` whose document of `docs` matches, in the order
    /// given (indices past the end are skipped). Evaluated as [`Filter::select`] evaluates,
    /// for a few documents picked from a large set (such as those of a posting list).
    pub fn for_each_match_among(&self, docs: &DocSet, among: impl IntoIterator<Item = usize>, hit: impl FnMut(usize)) {
        crate::scan::scan_among(&self.node, docs, among, hit);
    }

    /// `Some(b)` when the filter answers `b` for every document, whatever it holds: it is
    /// built of constants alone (as [`Filter::all`] and [`Filter::none`] are), or a constant
    /// decides it (`false` in a conjunction, `true` in a disjunction).
    pub fn constant(&self) -> Option<bool> {
        fn of(n: &Node) -> Option<bool> {
            // `any` in a disjunction, `all` in a conjunction: one `decides` child settles it,
            // and it is constant when every child is.
            fn fold(ks: &[Node], decides: bool) -> Option<bool> {
                let mut constant = true;
                for k in ks {
                    match of(k) {
                        Some(b) if b == decides => return Some(decides),
                        Some(_) => {}
                        None => constant = false,
                    }
                }
                constant.then_some(!decides)
            }
            match n {
                Node::Const(b) => Some(*b),
                Node::And(ks) => fold(ks, false),
                Node::Or(ks) => fold(ks, true),
                Node::Nor(ks) => fold(ks, true).map(|b| !b),
                Node::Field(..) => None,
            }
        }
        of(&self.node)
    }

    /// Keeps the documents of `docs` that match, in order.
    pub fn filter<'a>(&self, docs: impl IntoIterator<Item = &'a Value>) -> Vec<&'a Value> {
        docs.into_iter().filter(|d| self.matches(d)).collect()
    }

    /// Matches every document (`{}`).
    pub fn all() -> Filter {
        Filter { node: Node::Const(true) }
    }

    /// Matches no document.
    pub fn none() -> Filter {
        Filter { node: Node::Const(false) }
    }

    /// Conjunction. Use it to combine a trusted scope with an untrusted
    /// filter: the result matches only documents that every part matches, so
    /// the untrusted part can only narrow the scope.
    pub fn and(filters: Vec<Filter>) -> Filter {
        match filters.len() {
            0 => Filter::all(),
            _ => Filter { node: Node::And(filters.into_iter().map(|f| f.node).collect()) },
        }
    }

    /// Disjunction (`$or`); an empty list matches nothing.
    pub fn or(filters: Vec<Filter>) -> Filter {
        match filters.len() {
            0 => Filter::none(),
            _ => Filter { node: Node::Or(filters.into_iter().map(|f| f.node).collect()) },
        }
    }

    /// `$nor`: matches documents that match none of `filters`.
    pub fn nor(filters: Vec<Filter>) -> Filter {
        Filter { node: Node::Nor(filters.into_iter().map(|f| f.node).collect()) }
    }

    fn field(path: &str, pred: Pred) -> Filter {
        Filter { node: Node::Field(Path::trusted(path), vec![pred], false) }
    }

    /// `{path: value}` (trusted code: the path is not validated).
    pub fn eq(path: &str, value: impl Into<Lit>) -> Filter {
        Filter::field(path, Pred::Eq(value.into()))
    }

    /// `{path: {$ne: value}}`.
    pub fn ne(path: &str, value: impl Into<Lit>) -> Filter {
        Filter::field(path, Pred::Ne(value.into()))
    }

    /// `{path: {$in: values}}`.
    pub fn is_in(path: &str, values: impl IntoIterator<Item = impl Into<Lit>>) -> Filter {
        Filter::field(
            path,
            Pred::In(InList { lits: values.into_iter().map(Into::into).collect(), patterns: Vec::new() }),
        )
    }

    /// `{path: {$exists: yes}}`.
    pub fn exists(path: &str, yes: bool) -> Filter {
        Filter::field(path, Pred::Exists(yes))
    }

    /// `{path: {$regex: <escaped text>, $options: "i"}}`: a case-insensitive
    /// substring match of `text`, which is escaped (fails only when the text
    /// is longer than the regex limits allow).
    pub fn contains_ci(path: &str, text: &str) -> Result<Filter, QueryError> {
        let p = Pattern::new(&escape_pcre(text), "i")?;
        Ok(Filter::field(path, Pred::Regex(Arc::new(p))))
    }

    /// `{path: {$regex: pattern, $options: options}}`.
    pub fn regex(path: &str, pattern: &str, options: &str) -> Result<Filter, QueryError> {
        Ok(Filter::field(path, Pred::Regex(Arc::new(Pattern::new(pattern, options)?))))
    }
}
