//! Filter throughput on integration-shaped documents.
//!
//! `bench_filter [--docs N] [--reps R] [--write-docs FILE] [--json FILE]`
//!
//! Generates N documents (deterministic), optionally writes them to FILE for
//! the mingo side of `bench/run.sh`, then times three filters over all of
//! them: (a) equality on `type`, (b) case-insensitive `$regex` on `name`,
//! (c) an `$or` of three clauses, both on `serde_json::Value` documents
//! and on the same documents in a `DocSet`. Build with `--release`.

use query::{DocSet, Filter};
use serde_json::{Map, Value, json};
use std::time::Instant;

#[path = "../tests/support/rng.rs"]
mod rng;
use rng::Rng;

const WORDS: &[&str] = &[
    "deploy", "alerts", "GitHub", "alpha", "Jenkins", "build", "ALPHA", "status", "metrics", "sentry", "Alpha",
    "release",
];
const CHANNELS: &[&str] = &["#general", "#dev", "#ops", "#random", "#alerts", "@bot", "#support", "#qa"];

pub fn gen_docs(n: usize) -> Vec<Value> {
    let mut r = Rng::new(2024);
    (0..n)
        .map(|i| {
            let incoming = r.below(2) == 0;
            let mut m = Map::new();
            m.insert("_id".into(), json!(format!("int{i:07}")));
            m.insert("type".into(), json!(if incoming { "webhook-incoming" } else { "webhook-outgoing" }));
            m.insert("name".into(), json!(format!("{} {} {}", r.pick(WORDS), r.pick(WORDS), i)));
            m.insert("enabled".into(), json!(r.below(4) != 0));
            let nch = 1 + r.below(3);
            m.insert("channel".into(), Value::Array((0..nch).map(|_| json!(r.pick(CHANNELS))).collect()));
            m.insert("username".into(), json!(format!("bot{}", r.below(50))));
            m.insert("alias".into(), json!("Notifier"));
            m.insert("avatar".into(), json!("https://example.invalid/avatar.png"));
            m.insert("emoji".into(), json!(":ghost:"));
            m.insert("scriptEnabled".into(), json!(r.below(2) == 0));
            m.insert("script".into(), json!("class Script { process_incoming_request({ request }) { return { content: { text: request.content.text } }; } }"));
            if incoming {
                m.insert("token".into(), json!(format!("tok{:016x}", r.next())));
            } else {
                m.insert("event".into(), json!("sendMessage"));
                m.insert("urls".into(), json!(["https://example.invalid/hook"]));
                m.insert("triggerWords".into(), json!(["deploy", "status"]));
            }
            let user = format!("u{}", r.below(40));
            m.insert("_createdBy".into(), json!({"_id": user, "username": format!("user{user}")}));
            m.insert("_createdAt".into(), json!(format!("2025-{:02}-{:02}T12:00:00.000Z", 1 + r.below(12), 1 + r.below(28))));
            m.insert("_updatedAt".into(), json!("2025-06-01T00:00:00.000Z"));
            Value::Object(m)
        })
        .collect()
}

pub fn queries() -> Vec<(&'static str, Value)> {
    vec![
        ("a_type_eq", json!({"type": "webhook-incoming"})),
        ("b_name_regex_i", json!({"name": {"$regex": "alpha", "$options": "i"}})),
        ("c_or_3", json!({"$or": [{"_createdBy._id": "u7"}, {"channel": "#alerts"}, {"name": {"$regex": "^deploy"}}]})),
    ]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let n: usize = arg("--docs").and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let reps: usize = arg("--reps").and_then(|s| s.parse().ok()).unwrap_or(10);
    let docs = gen_docs(n);
    if let Some(path) = arg("--write-docs") {
        std::fs::write(&path, serde_json::to_vec(&docs).expect("serialize")).expect("write docs");
    }
    let t = Instant::now();
    let set = DocSet::from_values(&docs);
    let encode_secs = t.elapsed().as_secs_f64();
    println!("rust  DocSet encoding of {n} docs: {:.3}s ({:.1} MB)", encode_secs, set.encoded_bytes() as f64 / 1e6);
    let mut results = Vec::new();
    let only = arg("--only");
    for (name, q) in queries() {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let f = Filter::parse(&q).expect("query");
        // serde_json::Value documents
        let matched = docs.iter().filter(|d| f.matches(d)).count();
        let start = Instant::now();
        let mut total = 0usize;
        let value_reps = if args.iter().any(|a| a == "--docset-only") { 0 } else { reps };
        for _ in 0..value_reps {
            total += docs.iter().filter(|d| f.matches(d)).count();
        }
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(total, matched * value_reps);
        let value_dps = (n * value_reps) as f64 / secs;
        // the same documents in a DocSet
        assert_eq!(f.count(&set), matched);
        let start = Instant::now();
        let mut total = 0usize;
        for _ in 0..reps {
            total += f.count(&set);
        }
        let csecs = start.elapsed().as_secs_f64();
        assert_eq!(total, matched * reps);
        let set_dps = (n * reps) as f64 / csecs;
        println!(
            "rust  {name:<16} matched {matched:>7} of {n}  Value: {value_dps:>12.0} docs/s  DocSet: {set_dps:>12.0} docs/s  ({reps} reps)"
        );
        results.push(json!({"name": name, "query": q, "matched": matched, "value_docs_per_sec": value_dps, "docset_docs_per_sec": set_dps}));
    }
    if let Some(path) = arg("--json") {
        std::fs::write(path, serde_json::to_vec_pretty(&results).expect("serialize")).expect("write results");
    }
}
