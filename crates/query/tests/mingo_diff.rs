//! Differential test against mingo (a JavaScript MongoDB query engine by
//! other authors), pinned in `tests/mingo/package.json` /
//! `package-lock.json` and installed by this test with `npm ci`.
//!
//! Random documents (nested documents, arrays, nulls, mixed types) and random
//! queries are evaluated by both engines; every (query, document) verdict
//! must agree. Cases: `MINGO_DIFF_QUERIES` (default 12,000) queries × 40
//! documents, seed `MINGO_DIFF_SEED`.
//!
//! mingo departs from MongoDB in places; the generator stays out of those
//! areas (no case is filtered after the fact). Each exclusion is referred to
//! in the generator as "mingo N":
//!
//! 1. mingo drops missing values when a path crosses an array of documents
//!    (`{"a.x": null}` on `{a: [{y: 1}]}` is false in mingo, true in
//!    MongoDB): documents inside arrays always have both `x` and `y`.
//! 2. mingo applies `$type`, `$size` and `$elemMatch` to the flattened
//!    values of a dotted path, and `$type` to an array rather than its
//!    elements: `$type` only on paths that never cross or reach an array,
//!    the others only on top-level fields.
//! 3. mingo's `$gt` family compares array literals with elements only and
//!    never matches a missing field for `$gte: null`: no array or null
//!    literals in comparisons.
//! 4. mingo's `$in` does not compare whole arrays: no array literals in `$in`.
//! 5. mingo's `$mod` uses JavaScript `%` (no truncation of floats, and
//!    `null % 2 === 0`): `$mod` only on `n`, integers and never null.
//! 6. JavaScript numbers cannot tell `1` from `1.0`: no `int`/`long`/`double`
//!    type aliases.
//! 7. JavaScript regexes differ from PCRE on Unicode spaces and newlines
//!    (`\s`, `.`, `$`): strings and patterns are ASCII without newlines.
//! 8. mingo compares objects by sorted keys, MongoDB in stored order: object
//!    literals and documents list keys in the same order (`x` before `y`).
//! 9. mingo resolves dotted paths into nested arrays (and compares the
//!    collected values of a path as one array, e.g. `{"a.y": []}`): nested
//!    arrays only in `u` at the top level, arrays inside array elements'
//!    fields never, and array literals only on top-level paths.
//! 10. mingo's document form of `$elemMatch` (`{$elemMatch: {x: ..}}`) reads
//!     a scalar element as the value of every field; MongoDB only looks at
//!     document elements: that form is only generated on `d`, an array of
//!     documents.
//! 11. mingo's value form of `$elemMatch` (`{$elemMatch: {$gte: 1}}`) looks
//!     inside nested arrays, MongoDB compares the nested array as a whole:
//!     that form is only generated on `a` and `d` (no nested arrays).
//! 12. mingo's `$all` needs an array where MongoDB's (an `$and` of
//!     equalities) also matches a scalar: `$all` only on `g`, always an array.
//! 13. mingo's `$regex` looks two array levels deep where MongoDB looks one:
//!     no `$regex` on `u`, the field with nested arrays.

use query::Filter;
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

const STRINGS: &[&str] = &["a", "b", "ab", "abc", "B", "", "x1", "ba"];
const DATES: &[&str] = &[
    "2024-12-31T23:59:59.999Z",
    "2025-01-01T00:00:00.000Z",
    "2025-01-01T12:00:00.000Z",
    "2025-06-15T08:30:00.250Z",
    "2026-01-01T00:00:00.000Z",
];

fn scalar(r: &mut Rng) -> Value {
    match r.below(10) {
        0 => Value::Null,
        1 => Value::Bool(r.chance(50)),
        2..=4 => json!(r.below(5) as i64 - 1),
        5 => json!(r.pick(&[1.5, 2.5, -0.5])),
        _ => json!(r.pick(STRINGS)),
    }
}

fn scalar_array(r: &mut Rng) -> Value {
    Value::Array((0..r.below(4)).map(|_| scalar(r)).collect())
}

/// A sub-document with keys in fixed order (mingo 8). With `in_array` (an
/// element of an array) both `x` and `y` are present and scalar (mingo 1, 9).
fn subdoc(r: &mut Rng, in_array: bool) -> Value {
    let mut m = Map::new();
    if in_array {
        m.insert("x".into(), scalar(r));
        m.insert("y".into(), scalar(r));
        return Value::Object(m);
    }
    if r.chance(75) {
        m.insert("x".into(), if r.chance(25) { scalar_array(r) } else { scalar(r) });
    }
    if r.chance(50) {
        m.insert("y".into(), scalar(r));
    }
    Value::Object(m)
}

fn doc(r: &mut Rng, id: usize) -> Value {
    let mut m = Map::new();
    m.insert("_id".into(), json!(id));
    // a: anything
    match r.below(8) {
        0 => {}
        1 => {
            m.insert("a".into(), scalar(r));
        }
        2 => {
            m.insert("a".into(), scalar_array(r));
        }
        3 | 4 => {
            let n = r.below(4);
            m.insert("a".into(), Value::Array((0..n).map(|_| subdoc(r, true)).collect()));
        }
        5 => {
            // mixed array of scalars and documents
            let n = 1 + r.below(3);
            let items = (0..n).map(|_| if r.chance(50) { scalar(r) } else { subdoc(r, true) }).collect();
            m.insert("a".into(), Value::Array(items));
        }
        _ => {
            m.insert("a".into(), subdoc(r, false));
        }
    }
    // t: scalars or arrays of scalars
    match r.below(5) {
        0 => {}
        1 => {
            m.insert("t".into(), scalar(r));
        }
        _ => {
            m.insert("t".into(), scalar_array(r));
        }
    }
    // u: arrays holding nested arrays of scalars (only here, at the top
    // level: mingo 9)
    if r.chance(70) {
        let items = (0..1 + r.below(3)).map(|_| if r.chance(50) { scalar(r) } else { scalar_array(r) }).collect();
        m.insert("u".into(), Value::Array(items));
    }
    // g: always an array of scalars when present (mingo 12)
    if r.chance(80) {
        m.insert("g".into(), scalar_array(r));
    }
    // s: never an array, at any depth
    match r.below(4) {
        0 => {}
        1 => {
            m.insert("s".into(), scalar(r));
        }
        _ => {
            let mut sd = Map::new();
            if r.chance(70) {
                sd.insert("x".into(), scalar(r));
            }
            m.insert("s".into(), Value::Object(sd));
        }
    }
    if r.chance(80) {
        m.insert("b".into(), scalar(r));
    }
    // d: an array of documents only (mingo 10)
    if r.chance(80) {
        let n = r.below(4);
        m.insert("d".into(), Value::Array((0..n).map(|_| subdoc(r, true)).collect()));
    }
    // n: integers, never null (mingo 5)
    match r.below(4) {
        0 => {}
        1 => {
            m.insert("n".into(), json!([r.below(7) as i64 - 3, r.below(7) as i64]));
        }
        _ => {
            m.insert("n".into(), json!(r.below(9) as i64 - 4));
        }
    }
    // ts: stored ISO dates, other strings, numbers, null
    match r.below(6) {
        0 => {}
        1 => {
            m.insert("ts".into(), Value::Null);
        }
        2 => {
            m.insert("ts".into(), json!("2025-01-01"));
        }
        3 => {
            m.insert("ts".into(), json!(1735689600000i64));
        }
        _ => {
            m.insert("ts".into(), json!(r.pick(DATES)));
        }
    }
    Value::Object(m)
}

/// Paths for equality, comparisons, `$in`, `$regex` and negations.
const PATHS: &[&str] = &[
    "u", "u.0", "u.1", "g", "a", "a.x", "d.x", "d.0.x", "d.y", "a.y", "a.0", "a.1", "a.0.x", "t", "t.0", "t.1", "s",
    "s.x", "b", "n", "zz",
];
/// Paths that never cross an array (mingo 2).
const TYPE_PATHS: &[&str] = &["s", "s.x", "b", "zz"];
/// Top-level array fields for `$size`, `$all`, `$elemMatch` (mingo 2).
const ARRAY_PATHS: &[&str] = &["a", "t", "d", "u", "g"];

/// An equality literal; array literals only on top-level paths (mingo 9).
fn lit(r: &mut Rng, top_level: bool) -> Value {
    match r.below(12) {
        0 => json!({"x": scalar(r)}),
        1 if top_level => scalar_array(r),
        _ => scalar(r),
    }
}

/// Comparison operands: never null (mingo 3).
fn non_null_scalar(r: &mut Rng) -> Value {
    loop {
        let v = scalar(r);
        if !v.is_null() {
            return v;
        }
    }
}

fn regex(r: &mut Rng) -> Value {
    let pat = r.pick(&["a", "^a", "b$", "A", "^$", "a|b", "^[ab]+$", "\\d", "x\\d", "^.b", "c"]);
    if r.chance(40) { json!({"$regex": pat, "$options": "i"}) } else { json!({"$regex": pat}) }
}

/// `$in` lists: scalars only (mingo 4).
fn in_list(r: &mut Rng) -> Value {
    Value::Array((0..1 + r.below(3)).map(|_| if r.chance(15) { Value::Null } else { non_null_scalar(r) }).collect())
}

/// An operator expression for a general path.
fn op_expr(r: &mut Rng, allow_not: bool, top_level: bool) -> Value {
    match r.below(if allow_not { 11 } else { 10 }) {
        0 => lit(r, top_level),
        1 => json!({"$eq": lit(r, top_level)}),
        2 => json!({"$ne": lit(r, top_level)}),
        3 => json!({r.pick(&["$gt", "$gte", "$lt", "$lte"]): non_null_scalar(r)}),
        4 => json!({"$gt": non_null_scalar(r), "$lt": non_null_scalar(r)}),
        5 => json!({"$in": in_list(r)}),
        6 => json!({"$nin": in_list(r)}),
        7 => json!({"$exists": r.chance(50)}),
        8 | 9 => regex(r),
        _ => json!({"$not": op_expr_no_lit(r, top_level)}),
    }
}

fn op_expr_no_lit(r: &mut Rng, top_level: bool) -> Value {
    loop {
        let v = op_expr(r, false, top_level);
        if let Value::Object(m) = &v
            && m.keys().next().is_some_and(|k| k.starts_with('$'))
        {
            return v;
        }
    }
}

fn date_lit(r: &mut Rng) -> Value {
    json!({"$date": r.pick(DATES)})
}

/// A string operand for the date field: a date's text, or another string.
fn date_text(r: &mut Rng) -> Value {
    if r.chance(50) {
        json!(r.pick(DATES))
    } else {
        json!(r.pick(&["1970-01-01T00:00:00.000Z", "2025-01-01", "a", ""]))
    }
}

fn clause(r: &mut Rng, depth: usize) -> (String, Value) {
    let k = r.below(20);
    if depth < 2 && k < 3 {
        let op = r.pick(&["$and", "$or", "$nor"]);
        let n = 1 + r.below(3);
        return (op.to_owned(), Value::Array((0..n).map(|_| query(r, depth + 1)).collect()));
    }
    match k {
        3 => (
            r.pick(TYPE_PATHS).to_owned(),
            json!({"$type": if r.chance(70) {
                json!(r.pick(&["string", "number", "object", "null", "bool", "array", "date"]))
            } else {
                json!(r.pick(&[2, 3, 8, 10]))
            }}),
        ),
        4 => (r.pick(ARRAY_PATHS).to_owned(), json!({"$size": r.below(4)})),
        9 => ("g".to_owned(), json!({"$all": (0..1 + r.below(2)).map(|_| non_null_scalar(r)).collect::<Vec<_>>()})),
        8 => (
            r.pick(&["a", "d"]).to_owned(),
            // value form: only arrays without nested arrays (mingo 11)
            json!({"$elemMatch": match r.below(3) {
                0 => json!({"$gte": non_null_scalar(r)}),
                1 => json!({"$in": in_list(r)}),
                _ => regex(r),
            }}),
        ),
        7 => ("d".to_owned(), json!({"$elemMatch": query(r, 2)})),
        5 => ("n".to_owned(), json!({"$mod": r.pick(&[json!([2, 0]), json!([2, 1]), json!([3, 1]), json!([-3, -1])])})),
        6 => (
            "ts".to_owned(),
            // `ts` is a declared date field: its ISO strings are `Date`s for
            // mingo, so string operands, `$regex` and `$type` meet real dates
            match r.below(12) {
                0 => date_lit(r),
                1 => json!({"$ne": date_lit(r)}),
                2 => json!({r.pick(&["$gt", "$gte", "$lt", "$lte"]): date_lit(r)}),
                3 => json!({"$in": [date_lit(r), date_lit(r)]}),
                4 => json!({"$nin": [date_lit(r)]}),
                5 => json!({r.pick(&["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]): date_text(r)}),
                6 => json!({r.pick(&["$in", "$nin"]): [date_text(r), date_lit(r)]}),
                7 => json!({"$regex": r.pick(&["\\d", "0", "^2025", "Z$", "-"])}),
                8 => json!({"$not": {"$regex": r.pick(&["\\d", "0", "^2025"])}}),
                9 => json!({"$type": r.pick(&["string", "date", "number", "null"])}),
                10 => json!({"$type": "date", r.pick(&["$lt", "$gte"]): date_text(r)}),
                _ => json!({"$exists": r.chance(50)}),
            },
        ),
        _ => {
            let p = r.pick(PATHS);
            let mut e = op_expr(r, true, !p.contains('.'));
            // mingo 13: no regexes on `u`
            while p.starts_with('u') && e.to_string().contains("$regex") {
                e = op_expr(r, true, !p.contains('.'));
            }
            (p.to_owned(), e)
        }
    }
}

fn query(r: &mut Rng, depth: usize) -> Value {
    let mut m = Map::new();
    for _ in 0..1 + r.below(2) {
        let (k, v) = clause(r, depth);
        m.insert(k, v);
    }
    Value::Object(m)
}

fn which(prog: &str) -> bool {
    Command::new(prog).arg("--version").output().map(|o| o.status.success()).unwrap_or(false)
}

fn mingo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("mingo")
}

/// Installs the pinned mingo with `npm ci` when it is not there yet.
pub fn ensure_mingo() -> bool {
    if !which("node") || !which("npm") {
        eprintln!("SKIP: node/npm not found; the mingo differential test did not run");
        return false;
    }
    let dir = mingo_dir();
    if !dir.join("node_modules").join("mingo").join("package.json").exists() {
        let st = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
            .arg(&dir)
            .status()
            .expect("run npm ci");
        assert!(st.success(), "npm ci for mingo failed");
    }
    true
}

#[test]
fn agrees_with_mingo() {
    if !ensure_mingo() {
        return;
    }
    let n_queries: usize = std::env::var("MINGO_DIFF_QUERIES").ok().and_then(|s| s.parse().ok()).unwrap_or(12_000);
    let seed: u64 = std::env::var("MINGO_DIFF_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20250101);
    let mut r = Rng::new(seed);
    // Several document sets so that queries meet varied data.
    let batches = 4;
    let per_batch = n_queries.div_ceil(batches);
    let mut compared = 0usize;
    let mut matched_pairs = 0usize;
    let mut queries_run = 0usize;
    let mut both_rejected = 0usize;
    let mut mismatches: Vec<String> = Vec::new();
    for b in 0..batches {
        let docs: Vec<Value> = (0..40).map(|i| doc(&mut r, i)).collect();
        let queries: Vec<Value> = (0..per_batch).map(|_| query(&mut r, 0)).collect();
        let set = query::DocSet::from_values(&docs);
        let input = json!({"docs": docs, "queries": queries});
        let file = std::env::temp_dir().join(format!("query-mingo-diff-{}-{b}.json", std::process::id()));
        std::fs::write(&file, serde_json::to_vec(&input).unwrap()).unwrap();
        let out = Command::new("node").arg(mingo_dir().join("eval.js")).arg(&file).output().expect("run node");
        let _ = std::fs::remove_file(&file);
        assert!(out.status.success(), "node failed: {}", String::from_utf8_lossy(&out.stderr));
        let results: Vec<String> = serde_json::from_slice(&out.stdout).expect("mingo output");
        assert_eq!(results.len(), queries.len());
        for (q, theirs) in queries.iter().zip(results) {
            let ours = Filter::parse_with_dates(q, &["ts"]);
            let (ours, theirs) = match (ours, theirs.strip_prefix("E:")) {
                (Err(_), Some(_)) => {
                    both_rejected += 1;
                    continue;
                }
                (Err(e), None) => {
                    mismatches.push(format!("we reject {q}: {e}; mingo accepts"));
                    continue;
                }
                (Ok(_), Some(msg)) => {
                    mismatches.push(format!("mingo rejects {q}: {msg}; we accept"));
                    continue;
                }
                (Ok(f), None) => (f, theirs),
            };
            queries_run += 1;
            let compact: Vec<usize> = ours.select(&set);
            for (i, (d, t)) in docs.iter().zip(theirs.chars()).enumerate() {
                compared += 1;
                let o = ours.matches(d);
                assert_eq!(o, compact.contains(&i), "Value and DocSet disagree on {q} / {d}");
                matched_pairs += o as usize;
                if o != (t == '1') {
                    mismatches.push(format!("query {q}\n  doc {d}\n  ours={o} mingo={}", t == '1'));
                }
            }
        }
    }
    eprintln!(
        "mingo differential: {queries_run} queries x 40 docs = {compared} cases, {matched_pairs} matches, {} mismatches, {both_rejected} queries rejected by both",
        mismatches.len()
    );
    if !mismatches.is_empty() {
        // one example per distinct query
        let mut seen = std::collections::BTreeSet::new();
        let mut shown = Vec::new();
        for m in &mismatches {
            let q = m.lines().next().unwrap_or("").to_owned();
            if seen.insert(q) && shown.len() < 40 {
                shown.push(m.as_str());
            }
        }
        panic!(
            "{} disagreements with mingo ({} distinct queries), examples:\n{}",
            mismatches.len(),
            seen.len(),
            shown.join("\n")
        );
    }
    assert!(queries_run >= 10_000 || n_queries < 10_000, "only {queries_run} queries ran");
}
