//! Outgoing-webhook benchmark: messages posted at a steady rate into a channel with outgoing
//! integrations pointing at a loopback receiver run by this program.
//!
//! Reports deliveries per second, the delay from sending `chat.postMessage` to the receiver
//! being hit (an upper bound of "accepted → hit": it includes the post's own latency), and the
//! `chat.postMessage` latency, first with a fast receiver, then with one receiver answering
//! after 1 s.
//!
//! ```text
//! cargo build --release -p liftoff --examples
//! target/release/examples/bench_outgoing            # LIFTOFF_BIN=target/release/liftoff
//! RATE=1000 SECONDS=10 INTEGRATIONS=5 target/release/examples/bench_outgoing
//! NODES=2 DATABASE_URL=postgres://postgres@127.0.0.1:5432/fresh target/release/examples/bench_outgoing
//! ```
//!
//! `NODES` servers share one database (`DATABASE_URL`, which must be a fresh PostgreSQL
//! database when there are several; by default each run gets its own SQLite file), and the
//! posts alternate between them.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[derive(Default)]
struct Rx {
    /// message id → arrival instants (one per integration).
    hits: Mutex<HashMap<String, Vec<Instant>>>,
    /// Paths answering slowly.
    slow: Mutex<Vec<String>>,
}

async fn receive(State(rx): State<Arc<Rx>>, uri: Uri, body: Bytes) -> &'static str {
    let at = Instant::now();
    let slow = rx.slow.lock().unwrap().iter().any(|p| p == uri.path());
    if !slow
        && let Ok(v) = serde_json::from_slice::<Value>(&body)
        && let Some(id) = v["message_id"].as_str()
    {
        rx.hits.lock().unwrap().entry(id.to_owned()).or_default().push(at);
    }
    if slow {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    ""
}

struct Server {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One server on `database` (a fresh SQLite file in its own directory when `None`).
fn start_server(database: Option<&str>) -> Server {
    let bin = std::env::var("LIFTOFF_BIN").unwrap_or_else(|_| {
        let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
        format!("{target}/release/liftoff")
    });
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(&bin)
        .env("PORT", "0")
        .env("BIND_IP", "127.0.0.1")
        .env(
            "DATABASE_URL",
            database.map(str::to_owned).unwrap_or_else(|| format!("sqlite://{}/bench.db", dir.path().display())),
        )
        .env("ADMIN_USERNAME", "admin")
        .env("ADMIN_PASS", "admin-pass")
        .env("ADMIN_EMAIL", "admin@example.com")
        .env("RUST_LOG", "warn")
        .env("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false")
        .env("OVERWRITE_SETTING_Integrations_Outgoing_Allow_Private_Addresses", "true")
        .env("OVERWRITE_SETTING_Integrations_Outgoing_Max_Concurrency_Per_Url", env_num("PER_URL", 16).to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("liftoff listening on ").expect("listening line").to_owned();
    Server { child, url, _dir: dir }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

struct Phase {
    posted: usize,
    post_ms: Vec<f64>,
    /// message id → send instant.
    sent: HashMap<String, Instant>,
    started: Instant,
}

/// Posts `rate` messages per second for `seconds`, open loop.
async fn post_at_rate(
    http: &reqwest::Client,
    bases: &[String],
    auth: &(String, String),
    rid: &str,
    rate: u64,
    seconds: u64,
) -> Phase {
    let total = rate * seconds;
    let every = Duration::from_secs_f64(1.0 / rate as f64);
    let results: Arc<Mutex<Vec<(String, Instant, f64)>>> = Default::default();
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    for n in 0..total {
        let due = started + every * n as u32;
        tokio::time::sleep_until(due.into()).await;
        let base = &bases[n as usize % bases.len()];
        let (http, url, results) = (http.clone(), format!("{base}/api/v1/chat.postMessage"), results.clone());
        let (uid, token, rid) = (auth.0.clone(), auth.1.clone(), rid.to_owned());
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let resp = http
                .post(url)
                .header("X-User-Id", uid)
                .header("X-Auth-Token", token)
                .json(&json!({"roomId": rid, "text": format!("bench {n}")}))
                .send()
                .await;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            if let Ok(resp) = resp
                && resp.status().is_success()
                && let Ok(v) = resp.json::<Value>().await
                && let Some(id) = v["message"]["_id"].as_str()
            {
                results.lock().unwrap().push((id.to_owned(), t, ms));
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let results = std::mem::take(&mut *results.lock().unwrap());
    let mut post_ms: Vec<f64> = results.iter().map(|r| r.2).collect();
    post_ms.sort_by(f64::total_cmp);
    Phase { posted: results.len(), post_ms, sent: results.into_iter().map(|(id, t, _)| (id, t)).collect(), started }
}

#[tokio::main]
async fn main() {
    let rate = env_num("RATE", 1000);
    let seconds = env_num("SECONDS", 10);
    let integrations = env_num("INTEGRATIONS", 5);
    let rx = Arc::new(Rx::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rx_base = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().fallback(receive).with_state(rx.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let database = std::env::var("DATABASE_URL").ok();
    let nodes = env_num("NODES", 1).max(1);
    assert!(nodes == 1 || database.is_some(), "several NODES need a shared DATABASE_URL");
    let servers: Vec<Server> = (0..nodes).map(|_| start_server(database.as_deref())).collect();
    let bases: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
    let server = &servers[0];
    let http = reqwest::Client::builder().pool_max_idle_per_host(512).build().unwrap();
    let login: Value = http
        .post(format!("{}/api/v1/login", server.url))
        .json(&json!({"user": "admin", "password": "admin-pass"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let auth =
        (login["data"]["userId"].as_str().unwrap().to_owned(), login["data"]["authToken"].as_str().unwrap().to_owned());
    let call = |path: &str, body: Value| {
        let req = http
            .post(format!("{}/api/v1/{path}", server.url))
            .header("X-User-Id", &auth.0)
            .header("X-Auth-Token", &auth.1)
            .json(&body);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let ch = call("channels.create", json!({"name": "bench"})).await;
    let rid = ch["channel"]["_id"].as_str().unwrap().to_owned();
    for i in 0..integrations {
        let r = call(
            "integrations.create",
            json!({
                "type": "webhook-outgoing", "name": format!("bench {i}"), "enabled": true, "username": "rocket.cat",
                "event": "sendMessage", "channel": "#bench", "urls": [format!("{rx_base}/hook{i}")],
                "scriptEnabled": false, "token": "t",
            }),
        )
        .await;
        assert_eq!(r["success"], true, "{r}");
    }
    println!(
        "machine: {} cores, {}; rate {rate} msg/s for {seconds} s, {integrations} outgoing integrations (one URL each), {nodes} node(s) on {}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l
                .split(':')
                .nth(1)
                .unwrap_or("")
                .trim()
                .to_owned()))
            .unwrap_or_default(),
        database.as_deref().map(|d| d.split(':').next().unwrap_or(d)).unwrap_or("sqlite")
    );
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average before: {}", load.trim());
    }

    // Warm-up (connections, caches).
    post_at_rate(&http, &bases, &auth, &rid, 100, 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    rx.hits.lock().unwrap().clear();

    // Phase 1: fast receiver.
    let phase = post_at_rate(&http, &bases, &auth, &rid, rate, seconds).await;
    let expected = phase.posted * integrations as usize;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got: usize = rx.hits.lock().unwrap().values().map(Vec::len).sum();
        if got >= expected || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let hits = std::mem::take(&mut *rx.hits.lock().unwrap());
    let mut delays = Vec::new();
    let mut last = phase.started;
    let mut delivered = 0;
    for (id, arrivals) in &hits {
        if let Some(sent) = phase.sent.get(id) {
            for a in arrivals {
                delays.push(a.duration_since(*sent).as_secs_f64() * 1000.0);
                last = last.max(*a);
                delivered += 1;
            }
        }
    }
    delays.sort_by(f64::total_cmp);
    let span = last.duration_since(phase.started).as_secs_f64();
    println!("\n== fast receiver ==");
    println!("posted {} messages in {:.2} s; deliveries {delivered} of {expected}", phase.posted, seconds);
    println!("deliveries/s (first post → last delivery): {:.0}", delivered as f64 / span);
    println!(
        "delay post sent → receiver hit: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(&delays, 0.5),
        pct(&delays, 0.99),
        delays.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "chat.postMessage latency: p50 {:.2} ms, p99 {:.2} ms",
        pct(&phase.post_ms, 0.5),
        pct(&phase.post_ms, 0.99)
    );
    let fast_post = (pct(&phase.post_ms, 0.5), pct(&phase.post_ms, 0.99));

    // Phase 2: the same load with one receiver answering after 1 s.
    rx.slow.lock().unwrap().push("/hook0".into());
    let phase = post_at_rate(&http, &bases, &auth, &rid, rate, seconds).await;
    println!("\n== one receiver answers after 1 s ==");
    println!(
        "chat.postMessage latency: p50 {:.2} ms, p99 {:.2} ms (fast receiver: p50 {:.2} ms, p99 {:.2} ms)",
        pct(&phase.post_ms, 0.5),
        pct(&phase.post_ms, 0.99),
        fast_post.0,
        fast_post.1
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let hits = rx.hits.lock().unwrap();
    let mut delays = Vec::new();
    for (id, arrivals) in hits.iter() {
        if let Some(sent) = phase.sent.get(id) {
            for a in arrivals.iter() {
                delays.push(a.duration_since(*sent).as_secs_f64() * 1000.0);
            }
        }
    }
    delays.sort_by(f64::total_cmp);
    println!(
        "deliveries to the {} fast URLs during the slow phase: {} (p50 {:.1} ms, p99 {:.1} ms from post sent); the slow URL is limited to PER_URL calls at once",
        integrations - 1,
        delays.len(),
        pct(&delays, 0.5),
        pct(&delays, 0.99)
    );
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average after: {}", load.trim());
    }
}
