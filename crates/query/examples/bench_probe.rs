use serde_json::Value;
use std::time::Instant;
#[path = "bench_filter.rs"]
#[allow(dead_code)]
mod bf;
fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(100_000); let docs = bf::gen_docs(n); let reps = 1_000_000 / n;
    for _ in 0..3 {
        let t = Instant::now();
        let mut c = 0;
        for _ in 0..reps { for d in &docs { if d.get("type").and_then(Value::as_str) == Some("webhook-incoming") { c += 1; } } }
        println!("raw get: {:.0} docs/s ({c})", 1_000_000.0 / t.elapsed().as_secs_f64());
        let f = query::Filter::parse(&serde_json::json!({"type": "webhook-incoming"})).unwrap();
        let t = Instant::now();
        let mut c = 0;
        for _ in 0..reps { for d in &docs { if f.matches(d) { c += 1; } } }
        println!("filter: {:.0} docs/s ({c})", 1_000_000.0 / t.elapsed().as_secs_f64());
    }
}
