//! Warm-call throughput of integration scripts.
//!
//! `cargo run --release -p script --example bench_calls [ITERATIONS] [direct]`
//! (`direct`: only the single-thread cases, e.g. under `valgrind --tool=callgrind`)
//!
//! Measures, for a typical `process_incoming_request` script and a ~1.5 KB
//! request:
//! * a direct `Sandbox::call` loop on one thread (engine + JSON copy cost);
//! * `ScriptHost::call` from a single-threaded tokio runtime: sequential
//!   round trips (latency) and 64 calls in flight (throughput), with one
//!   worker and with the full pool over many integrations;
//! * cold context build time and per-context memory.

use std::sync::Arc;
use std::time::{Duration, Instant};

use script::{CallOutcome, Limits, Sandbox, ScriptHost, ScriptKey};
use serde_json::{Value, json};

const SCRIPT: &str = r#"
class Script {
    process_incoming_request({ request }) {
        const c = request.content;
        if (!c || !c.commits) {
            return { error: 'unsupported payload' };
        }
        const count = (Store.get('pushes') || 0) + 1;
        Store.set('pushes', count);
        return {
            content: {
                alias: 'GitHub',
                emoji: ':octocat:',
                text: `[${c.repository.full_name}] ${c.pusher.name} pushed ${c.commits.length} commit(s) to ${c.ref.replace('refs/heads/', '')}`,
                attachments: c.commits.map((commit) => ({
                    title: commit.id.slice(0, 7),
                    title_link: commit.url,
                    text: commit.message.split('\n')[0],
                    author_name: commit.author.name,
                })),
            },
        };
    }
}
"#;

fn request() -> Value {
    let content = json!({
        "ref": "refs/heads/main",
        "repository": { "full_name": "liftoff/server", "html_url": "https://example.test/liftoff/server" },
        "pusher": { "name": "alice", "email": "alice@example.test" },
        "commits": [
            { "id": "0123456789abcdef0123456789abcdef01234567", "url": "https://example.test/c/1",
              "message": "Fix the hook parser\n\nLonger description.", "author": { "name": "Alice" } },
            { "id": "89abcdef0123456789abcdef0123456789abcdef", "url": "https://example.test/c/2",
              "message": "Add tests", "author": { "name": "Bob" } }
        ]
    });
    json!({ "request": {
        "url": { "hash": null, "search": "", "query": {}, "pathname": "/hooks/abc/tok", "path": "/hooks/abc/tok" },
        "url_raw": "/hooks/abc/tok",
        "url_params": { "integrationId": "abc", "token": "tok" },
        "content": content.clone(),
        "content_raw": content.to_string(),
        "headers": { "content-type": "application/json", "user-agent": "bench", "x-github-event": "push" },
        "body": content,
        "user": { "_id": "u1", "name": "Bot", "username": "bot" }
    } })
}

fn per_call(elapsed: Duration, n: usize) -> String {
    let us = elapsed.as_secs_f64() * 1e6 / n as f64;
    let rate = n as f64 / elapsed.as_secs_f64();
    format!("{us:8.2} µs/call  {rate:>10.0} calls/s")
}

fn check(out: &CallOutcome) {
    let text = out.value().and_then(|v| v["content"]["text"].as_str());
    assert!(text.is_some_and(|t| t.starts_with("[liftoff/server] alice pushed 2")), "{out:?}");
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(50_000);
    let arg = request();
    let arg_len = serde_json::to_string(&arg).unwrap().len();
    let cores = std::thread::available_parallelism().map(|c| c.get()).unwrap_or(1);
    println!("script bench: {n} warm calls per case, request {arg_len} bytes of JSON, {cores} cores");

    // Cold build and memory.
    let limits = Limits::default();
    let builds = 200;
    let start = Instant::now();
    for _ in 0..builds {
        Sandbox::new("bench", SCRIPT, &limits).unwrap();
    }
    println!(
        "cold context build (runtime + context + script + new Script()): {:.0} µs",
        start.elapsed().as_secs_f64() * 1e6 / builds as f64
    );

    let mut sb = Sandbox::new("bench", SCRIPT, &limits).unwrap();
    let fresh = sb.memory_usage();
    // Direct sandbox loop: engine cost without any thread hop.
    for _ in 0..1000 {
        sb.call("process_incoming_request", &arg).unwrap();
    }
    let start = Instant::now();
    for _ in 0..n {
        let out = sb.call("process_incoming_request", &arg).unwrap();
        if out.is_falsy() {
            unreachable!();
        }
    }
    let direct = start.elapsed();
    check(&sb.call("process_incoming_request", &arg).unwrap());
    sb.run_gc();
    let warm = sb.memory_usage();
    println!("direct Sandbox::call (1 thread):               {}", per_call(direct, n));

    // Tiny request for comparison.
    let tiny = json!({ "request": { "content": { "text": "hi" } } });
    let mut tiny_sb = Sandbox::new(
        "bench-tiny",
        "class Script { process_incoming_request({ request }) { return { content: { text: request.content.text } }; } }",
        &limits,
    )
    .unwrap();
    let start = Instant::now();
    for _ in 0..n {
        tiny_sb.call("process_incoming_request", &tiny).unwrap();
    }
    println!("direct Sandbox::call, tiny script+request:      {}", per_call(start.elapsed(), n));

    if std::env::args().nth(2).as_deref() == Some("direct") {
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let src: Arc<str> = SCRIPT.into();
    rt.block_on(async {
        for workers in [1, cores] {
            let host = ScriptHost::new(Limits { workers, ..Limits::default() });
            // Sequential round trips on one integration.
            let key = ScriptKey::new("bench-0", "v1");
            host.call(key.clone(), src.clone(), "process_incoming_request", arg.clone()).await.unwrap();
            let start = Instant::now();
            for _ in 0..n {
                let out = host.call(key.clone(), src.clone(), "process_incoming_request", arg.clone()).await.unwrap();
                debug_assert!(!out.is_falsy());
            }
            println!("host, {workers} worker(s), sequential, 1 integration: {}", per_call(start.elapsed(), n));

            for integrations in [1, 64] {
            // 64 calls in flight over `integrations` integrations (spread over
            // the pool).
            let keys: Vec<ScriptKey> = (0..integrations).map(|i| ScriptKey::new(format!("bench-{i}"), "v1")).collect();
            for k in &keys {
                host.call(k.clone(), src.clone(), "process_incoming_request", arg.clone()).await.unwrap();
            }
            let start = Instant::now();
            let mut tasks = tokio::task::JoinSet::new();
            for t in 0..64 {
                let k = keys[t % integrations].clone();
                let host = host.clone();
                let src = src.clone();
                let arg = arg.clone();
                let per_task = n / 64;
                tasks.spawn(async move {
                    for _ in 0..per_task {
                        host.call(k.clone(), src.clone(), "process_incoming_request", arg.clone()).await.unwrap();
                    }
                });
            }
            while let Some(r) = tasks.join_next().await {
                r.unwrap();
            }
            let total = (n / 64) * 64;
            println!(
                "host, {workers} worker(s), 64 in flight, {integrations:2} integration(s): {}",
                per_call(start.elapsed(), total)
            );
            }
            let mem = host.memory_usage("bench-0").await.unwrap();
            if workers == 1 {
                println!(
                    "per-context memory: fresh {} KiB malloc / {} objects; after {n} warm calls + GC {} KiB / {} objects; via host {} KiB",
                    fresh.malloc_size / 1024,
                    fresh.obj_count,
                    warm.malloc_size / 1024,
                    warm.obj_count,
                    mem.malloc_size / 1024
                );
            }
        }
    });
}
