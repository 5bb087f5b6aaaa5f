//! Arbitrary-input harness over the parameter parsers, the evaluator, the
//! projection/sort code and the SQL translation: nothing may panic or blow
//! the stack, whatever the input.
//!
//! Runs for `QUERY_FUZZ_SECONDS` (default 2) with seed `QUERY_FUZZ_SEED`:
//! `QUERY_FUZZ_SECONDS=600 cargo test --release -p query --test fuzz -- --nocapture`

use query::params::{parse_fields_param, parse_query_param, parse_sort_param};
use query::sql::{Dialect, SqlSchema, translate};
use query::{DocSet, Filter, Pattern};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "null",
    "true",
    "false",
    "0",
    "1",
    "-1",
    "1.5",
    "1e308",
    "-0",
    "\"a\"",
    "\"a.b\"",
    "\"a.0\"",
    "\"$and\"",
    "\"$or\"",
    "\"$nor\"",
    "\"$not\"",
    "\"$eq\"",
    "\"$ne\"",
    "\"$gt\"",
    "\"$gte\"",
    "\"$lt\"",
    "\"$lte\"",
    "\"$in\"",
    "\"$nin\"",
    "\"$exists\"",
    "\"$type\"",
    "\"$regex\"",
    "\"$options\"",
    "\"$all\"",
    "\"$elemMatch\"",
    "\"$size\"",
    "\"$mod\"",
    "\"$where\"",
    "\"$expr\"",
    "\"$date\"",
    "\"$numberLong\"",
    "\"__proto__\"",
    "\"constructor\"",
    "\"i\"",
    "\"msx\"",
    "\"(a|b)*c\"",
    "\"\\\\d+\"",
    "\"[\"",
    "\"(?=x)\"",
    "\"\\\\1\"",
    "\"2025-01-01T00:00:00.000Z\"",
    "\"channel\"",
    "\"_createdBy._id\"",
    "\"name\"",
    "\"type\"",
    "\"_id\"",
    "\"string\"",
    "\"array\"",
    "9007199254740993",
    "-9223372036854775809",
    "\"\\u0000\"",
    " ",
];

/// Token soup: mostly-JSON-looking text.
fn token_soup(r: &mut Rng) -> String {
    let n = 1 + r.below(40);
    (0..n).map(|_| r.pick(TOKENS)).collect()
}

const KEYS: &[&str] = &[
    "a",
    "a.b",
    "a.0",
    "b",
    "name",
    "type",
    "_id",
    "channel",
    "_createdBy._id",
    "_createdAt",
    "$and",
    "$or",
    "$nor",
    "$not",
    "$eq",
    "$ne",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$in",
    "$nin",
    "$exists",
    "$type",
    "$regex",
    "$options",
    "$all",
    "$elemMatch",
    "$size",
    "$mod",
    "$date",
    "$where",
    "$text",
    "$comment",
    "__proto__",
    "",
    ".",
    "a..b",
    "$",
];

/// Random structured JSON biased towards query shapes.
fn structured(r: &mut Rng, depth: usize) -> Value {
    let k = r.below(if depth > 6 { 6 } else { 10 });
    match k {
        0 => Value::Null,
        1 => json!(r.below(2) == 0),
        2 => json!(r.below(7) as i64 - 3),
        3 => json!([0.5, -1e300, 1e-300, 2.0][r.below(4)]),
        4 => json!(r.pick(&["a", "", "2025-01-01T12:00:00.000Z", "^a.*", "(?i)x", "[[:alpha:]]", "\\", "i", "string"])),
        5 => json!(r.pick(&[
            "(a+)+$",
            "a{1000}{1000}",
            "\\p{L}{500}",
            "(?<n>x)",
            "a|",
            "[z-a]",
            "\\b\\w+\\b",
            "x*?",
            ".{0,65535}"
        ])),
        6 | 7 => Value::Array((0..r.below(4)).map(|_| structured(r, depth + 1)).collect()),
        _ => {
            let mut m = serde_json::Map::new();
            for _ in 0..r.below(4) {
                m.insert(r.pick(KEYS).to_owned(), structured(r, depth + 1));
            }
            Value::Object(m)
        }
    }
}

fn mutate(r: &mut Rng, s: &str) -> String {
    let mut b: Vec<u8> = s.as_bytes().to_vec();
    for _ in 0..1 + r.below(4) {
        let pos = r.below(b.len() + 1);
        match r.below(4) {
            0 if !b.is_empty() => {
                b.remove(pos.min(b.len() - 1));
            }
            1 => b.insert(pos, (r.next() & 0xFF) as u8),
            2 => {
                let t = r.pick(TOKENS).as_bytes().to_vec();
                b.splice(pos..pos, t);
            }
            _ => {
                if !b.is_empty() {
                    let p = pos.min(b.len() - 1);
                    b[p] ^= 1 << r.below(8);
                }
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

fn deep(r: &mut Rng) -> String {
    let n = 1 + r.below(200_000);
    match r.below(5) {
        0 => "[".repeat(n),
        1 => "{\"a\":".repeat(n) + "1" + &"}".repeat(n),
        2 => "{\"$and\":[".repeat(n.min(5000)) + "{}" + &"]}".repeat(n.min(5000)),
        3 => "{\"a\":{\"$not\":".repeat(n.min(100)) + "{\"$eq\":1}" + &"}}".repeat(n.min(100)),
        _ => "{\"a\":{\"$elemMatch\":".repeat(n.min(100)) + "{}" + &"}}".repeat(n.min(100)),
    }
}

fn docs() -> Vec<Value> {
    vec![
        json!({"_id": "1", "type": "webhook-incoming", "name": "abc", "channel": ["#general", "@u"], "_createdBy": {"_id": "u1"}, "_createdAt": "2025-01-01T12:00:00.000Z"}),
        json!({"_id": "2", "a": [{"b": [1, 2]}, {"b": null}, 3, [4]], "b": {"c": {"d": "x"}}}),
        json!({"_id": "3", "a": {"b": "é\n"}, "name": null, "channel": []}),
        json!({}),
    ]
}

fn exercise(raw: &str, docs: &[Value], set: &DocSet, schema: &SqlSchema, stats: &mut [usize; 3]) {
    match parse_query_param(raw, &["ts"]) {
        Ok(f) => {
            stats[0] += 1;
            let on_values: Vec<usize> = docs.iter().enumerate().filter(|(_, d)| f.matches(d)).map(|(i, _)| i).collect();
            assert_eq!(on_values, f.select(set), "Value and DocSet disagree on {raw}");
            let _ = translate(&f, schema, Dialect::Sqlite, 1);
            let _ = translate(&f, schema, Dialect::Postgres, 1);
        }
        Err(e) => {
            assert!(e.error.starts_with("Invalid query parameter provided") && e.error_type == "error-invalid-query")
        }
    }
    if let Ok(s) = parse_sort_param(raw, &["ts"]) {
        stats[1] += 1;
        let mut v = docs.to_vec();
        s.sort_values(&mut v);
    }
    if let Ok(p) = parse_fields_param(raw) {
        stats[2] += 1;
        for d in docs {
            let _ = p.apply(d);
        }
    }
}

#[test]
fn fuzz_parsers_and_evaluator() {
    let secs: u64 = std::env::var("QUERY_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(2);
    let seed: u64 = std::env::var("QUERY_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(7);
    let mut r = Rng::new(seed);
    let docs = docs();
    let set = DocSet::from_values(&docs);
    let schema = SqlSchema::integrations();
    let start = Instant::now();
    let mut iters = 0u64;
    let mut stats = [0usize; 3];
    let mut corpus: Vec<String> = vec![
        r#"{"name":{"$regex":"g","$options":"i"}}"#.into(),
        r##"{"$or":[{"type":"a"},{"channel":{"$in":["#x"]}}],"_createdBy._id":{"$ne":null}}"##.into(),
        r#"{"a.b":{"$elemMatch":{"$gt":1}},"x":{"$not":{"$size":2}}}"#.into(),
        r#"{"value":-1,"_id":1}"#.into(),
        r#"{"username":1,"joinCode":0}"#.into(),
    ];
    while start.elapsed() < Duration::from_secs(secs) || iters < 2_000 {
        iters += 1;
        let raw = match r.below(10) {
            0..=2 => token_soup(&mut r),
            3..=5 => structured(&mut r, 0).to_string(),
            6 | 7 => {
                let base = corpus[r.below(corpus.len())].clone();
                mutate(&mut r, &base)
            }
            8 => {
                let n = r.below(64);
                let bytes: Vec<u8> = (0..n).map(|_| (r.next() & 0xFF) as u8).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            }
            _ => {
                if r.below(20) == 0 {
                    deep(&mut r)
                } else {
                    // random regex sources through the translator
                    let src: String = (0..r.below(12))
                        .map(|_| {
                            r.pick(&[
                                "a", "\\", "(", ")", "[", "]", "{", "}", "?", "*", "+", "|", "^", "$", ".", "-", ",",
                                "1", ":", "<", "=", "!", "#", " ", "Q", "E", "w", "p", "x", "é",
                            ])
                        })
                        .collect();
                    let opts = r.pick(&["", "i", "m", "s", "x", "imsx", "q"]);
                    if let Ok(p) = Pattern::new(&src, opts) {
                        for s in ["", "a", "abc\n", "é(a)"] {
                            let _ = p.is_match(s);
                        }
                    }
                    json!({"f": {"$regex": src, "$options": opts}}).to_string()
                }
            }
        };
        exercise(&raw, &docs, &set, &schema, &mut stats);
        if r.below(50) == 0 && raw.len() < 2000 && corpus.len() < 500 {
            corpus.push(raw);
        }
    }
    eprintln!(
        "fuzz: {iters} inputs in {:.1}s (accepted: {} queries, {} sorts, {} projections)",
        start.elapsed().as_secs_f64(),
        stats[0],
        stats[1],
        stats[2]
    );
}

#[test]
fn deep_values_are_rejected_without_recursion() {
    // Built directly (serde_json's parser would stop at 128 levels).
    let mut v = json!(1);
    for _ in 0..20_000 {
        v = wrap("a", v);
    }
    assert!(Filter::parse(&v).is_err());
    assert!(query::Projection::parse(&v).is_err());
    assert!(query::Sort::parse(&v).is_err());
    unnest(v, "a");
    let mut v = json!({"$eq": 1});
    for _ in 0..20_000 {
        v = wrap("$not", v);
    }
    let q = wrap("a", v);
    assert!(Filter::parse(&q).is_err());
    unnest(q, "a");
}

/// `{key: v}` without `json!` (which would serialize `v` recursively).
fn wrap(key: &str, v: Value) -> Value {
    let mut m = serde_json::Map::new();
    m.insert(key.to_owned(), v);
    Value::Object(m)
}

/// Drops a deep value layer by layer (a plain drop would recurse).
fn unnest(v: Value, _key: &str) {
    let mut cur = v;
    while let Value::Object(m) = cur {
        cur = m.into_iter().next().map(|(_, c)| c).unwrap_or(Value::Null);
    }
}
