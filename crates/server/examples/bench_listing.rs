//! Listing latency with many integrations stored.
//!
//! `cargo run --release -p liftoff --example bench_listing [sizes...]` (default: 10000 100000,
//! then the one-busy-room shape at 10000; `busy` runs only that shape)
//!
//! Seeds integrations of mixed types, owners and channels straight into a fresh SQLite store,
//! serves the real app on loopback and measures, over HTTP, p50/p99 of: `integrations.list`
//! first page (admin: everything in scope; a user holding only the "own" permissions),
//! `integrations.list` with a case-insensitive `$regex` `query` on `name` (must examine every
//! document in scope), and `channels.getIntegrations` for one room.
//!
//! The one-busy-room shape stores ~9% of the integrations (909 of 10,000) on one room and
//! measures that room's `channels.getIntegrations` and the own-only first page beside
//! `/api/info`: listing cost must not grow with what the page does not show.
//!
//! With `PG_URL=postgres://user@host:port` (a server where that user may create databases) the
//! same runs use a fresh PostgreSQL database per shape instead of SQLite.

use clap::Parser;
use liftoff::config::Cli;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::ids::{iso, object_id, random_id};

const OWNERS: usize = 50;
const ROOMS: usize = 200;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn measure(client: &reqwest::Client, url: &str, auth: &(String, String), runs: usize) -> (f64, f64, usize) {
    let mut times = Vec::with_capacity(runs);
    let mut total = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let resp = client.get(url).header("X-User-Id", &auth.0).header("X-Auth-Token", &auth.1).send().await.unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        times.push(start.elapsed());
        assert_eq!(status, 200, "{url}: {body}");
        total = body["total"].as_u64().unwrap_or(0) as usize;
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99), total)
}

async fn login(client: &reqwest::Client, base: &str, user: &str, pass: &str) -> (String, String) {
    let body: Value = client
        .post(format!("{base}/api/v1/login"))
        .json(&json!({"user": user, "password": pass}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (body["data"]["userId"].as_str().unwrap().to_owned(), body["data"]["authToken"].as_str().unwrap().to_owned())
}

async fn bench(size: usize, busy_room: bool) {
    let dir = tempfile::tempdir().unwrap();
    let database = match std::env::var("PG_URL") {
        Ok(server) => {
            fresh_pg_database(server, format!("liftoff_bench_listing_{size}{}", if busy_room { "_busy" } else { "" }))
                .await
        }
        Err(_) => format!("sqlite://{}", dir.path().join("bench.db").display()),
    };
    let config = Cli::parse_from(["liftoff", "--admin-username", "admin", "--admin-pass", "pw", "--port", "0"]).config;
    let store = liftoff::open_store(&database).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = liftoff::build_state(config, store.clone(), addr.port()).await.unwrap();
    // One client makes all the calls: the per-IP REST limiter would stop it.
    state.settings.set(&*store, "API_Enable_Rate_Limiter", json!(false)).await.unwrap();
    let app = liftoff::app(state);
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();
    let admin = login(&client, &base, "admin", "pw").await;

    // One real user who holds only the "own" permissions owns 1/OWNERS of everything.
    for p in ["manage-own-incoming-integrations", "manage-own-outgoing-integrations"] {
        client
            .post(format!("{base}/api/v1/permissions.update"))
            .header("X-User-Id", &admin.0)
            .header("X-Auth-Token", &admin.1)
            .json(&json!({"permissions": [{"_id": p, "roles": ["admin", "user"]}]}))
            .send()
            .await
            .unwrap();
    }
    client
        .post(format!("{base}/api/v1/users.create"))
        .header("X-User-Id", &admin.0)
        .header("X-Auth-Token", &admin.1)
        .json(&json!({"username": "owner0", "email": "o@example.com", "name": "Owner", "password": "pw"}))
        .send()
        .await
        .unwrap();
    let owner = login(&client, &base, "owner0", "pw").await;
    client
        .post(format!("{base}/api/v1/channels.create"))
        .header("X-User-Id", &admin.0)
        .header("X-Auth-Token", &admin.1)
        .json(&json!({"name": "room-7"}))
        .send()
        .await
        .unwrap();

    let seed_start = Instant::now();
    let store = Arc::new(store);
    let mut tasks = Vec::new();
    let per_task = size / 64;
    for t in 0..64 {
        let store = store.clone();
        let owner_id = owner.0.clone();
        tasks.push(tokio::spawn(async move {
            for k in 0..per_task {
                let i = t * per_task + k;
                let owner = if i.is_multiple_of(OWNERS) { owner_id.clone() } else { format!("user{}", i % OWNERS) };
                let incoming = !i.is_multiple_of(3);
                let now = iso(chrono::Utc::now());
                let mut d = json!({
                    "_id": object_id(), "type": if incoming { "webhook-incoming" } else { "webhook-outgoing" },
                    "name": format!("Integration {i} for team {}", i % 97), "enabled": true,
                    "username": "rocket.cat", "userId": "rocket.cat",
                    "channel": [room(i, busy_room), if i.is_multiple_of(1000) { "all_public_channels".to_owned() } else { format!("@user{}", i % OWNERS) }],
                    "scriptEnabled": false, "scriptEngine": "isolated-vm",
                    "_createdAt": now, "_createdBy": {"_id": owner, "username": "someone"}, "_updatedAt": now,
                });
                if incoming {
                    d["token"] = json!(random_id(48));
                    d["overrideDestinationChannelEnabled"] = json!(false);
                } else {
                    d["event"] = json!("sendMessage");
                    d["urls"] = json!(["http://example.com/hook"]);
                    d["triggerWords"] = json!(["!deploy"]);
                }
                store.insert_integration(d.as_object().unwrap().clone()).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let stored = per_task * 64;
    let shape = if busy_room { ", 1 in 11 on room-7" } else { "" };
    let backend = database.split(':').next().unwrap_or_default();
    println!(
        "\n{stored} integrations stored{shape} in {backend} (seeded in {:.1} s)",
        seed_start.elapsed().as_secs_f64()
    );
    println!("{:<58} {:>9} {:>9} {:>8}", "request", "p50 ms", "p99 ms", "total");
    let regex = r#"{"name":{"$regex":"team 42$","$options":"i"}}"#;
    let busy_cases = [
        ("/api/info", format!("{base}/api/info"), &admin, 300),
        (
            "channels.getIntegrations roomName=room-7",
            format!("{base}/api/v1/channels.getIntegrations?roomName=room-7"),
            &admin,
            300,
        ),
        (
            "integrations.list first page (own permissions only)",
            format!("{base}/api/v1/integrations.list"),
            &owner,
            300,
        ),
    ];
    let cases = [
        ("integrations.list first page (admin)", format!("{base}/api/v1/integrations.list"), &admin, 300),
        (
            "integrations.list first page (own permissions only)",
            format!("{base}/api/v1/integrations.list"),
            &owner,
            300,
        ),
        (
            "integrations.list query $regex on name (admin)",
            format!("{base}/api/v1/integrations.list?query={}", url_escape(regex)),
            &admin,
            40,
        ),
        (
            "integrations.list query $regex on name (own only)",
            format!("{base}/api/v1/integrations.list?query={}", url_escape(regex)),
            &owner,
            100,
        ),
        (
            "channels.getIntegrations roomName=room-7",
            format!("{base}/api/v1/channels.getIntegrations?roomName=room-7"),
            &admin,
            300,
        ),
    ];
    let cases: Vec<_> = if busy_room { busy_cases.into_iter().collect() } else { cases.into_iter().collect() };
    for (name, url, auth, runs) in cases {
        let _ = measure(&client, &url, auth, 5).await; // warm-up
        let (p50, p99, total) = measure(&client, &url, auth, runs).await;
        println!("{name:<58} {p50:>9.2} {p99:>9.2} {total:>8}");
    }
}

/// Creates (or empties) database `name` on the PostgreSQL server and returns its URL.
async fn fresh_pg_database(server: String, name: String) -> String {
    tokio::task::spawn_blocking(move || {
        let mut admin = postgres::Client::connect(&format!("{server}/postgres"), postgres::NoTls).unwrap();
        // Separate statements: neither may run inside the implicit transaction of a batch.
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).unwrap();
        admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        format!("{server}/{name}")
    })
    .await
    .unwrap()
}

/// The first channel of integration `i`: spread over the rooms, or with one busy room.
fn room(i: usize, busy_room: bool) -> String {
    match i % ROOMS {
        _ if busy_room && i.is_multiple_of(11) => "#room-7".to_owned(),
        7 if busy_room => "#room-8".to_owned(),
        r => format!("#room-{r}"),
    }
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![10_000, 100_000] } else { sizes };
    let busy_only = std::env::args().any(|a| a == "busy");
    if !busy_only {
        for &size in &sizes {
            bench(size, false).await;
        }
    }
    if busy_only || std::env::args().len() == 1 {
        bench(10_000, true).await;
    }
}
