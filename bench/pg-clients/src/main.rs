//! tokio-postgres 0.7 + deadpool-postgres 0.14 (as `crates/store` uses them) against sqlx 0.9,
//! on the store's `rooms` and `messages` tables, with the same pool size (16).
//!
//! Cases, each run by 64 concurrent tasks for a fixed time:
//! 1. `write`: one durable transaction per message: BEGIN; INSERT INTO messages; UPDATE rooms
//!    (msgs, lm, last_message) over 64 rooms; COMMIT.
//! 2. `read`: SELECT doc FROM messages WHERE id = $1 on random seeded ids, into serde_json::Value.
//! 3. `page`: SELECT doc FROM messages WHERE rid = $1 ORDER BY ts DESC LIMIT 50, every doc into
//!    serde_json::Value.
//!
//! Clients: `tokio-postgres` (deadpool, RecyclingMethod::Fast, prepare_cached, Json params, as
//! the store), `sqlx` (PgPool, max_connections 16, otherwise default options: it pings each
//! connection on acquire) and `sqlx-noping` (the same with test_before_acquire(false), which is
//! what deadpool's Fast recycling does). Each round runs every case for every client, the
//! clients' order rotating from round to round; the table shows the medians of the rounds.
//!
//! `PG_URL` (default postgres://postgres@127.0.0.1:5432) names the server; a fresh database
//! `liftoff_pgclients_<pid>` is created there and dropped at the end.

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use sqlx::{PgPool, Row as _};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_postgres::NoTls;
use tokio_postgres::types::Json;

type Doc = Map<String, Value>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = Result<T, BoxError>;

const POOL_SIZE: usize = 16;
const TASKS: usize = 64;
const ROOMS: usize = 64;
const SEED_PER_ROOM: usize = 300;
const ROUNDS: usize = 3;
const WARMUP: Duration = Duration::from_millis(300);

/// DDL copied from crates/store/src/postgres/schema.rs (migration 1), `rooms` and `messages`.
const DDL: &str = r#"
    CREATE TABLE rooms (
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        id TEXT COLLATE "C" PRIMARY KEY,
        name TEXT COLLATE "C" UNIQUE,
        t TEXT COLLATE "C" NOT NULL,
        team_id TEXT COLLATE "C",
        msgs BIGINT NOT NULL DEFAULT 0,
        lm TEXT COLLATE "C",
        last_message JSONB,
        doc JSONB NOT NULL
    );
    CREATE INDEX rooms_type ON rooms (t, seq);
    CREATE INDEX rooms_team ON rooms (team_id);
    CREATE TABLE messages (
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        id TEXT COLLATE "C" PRIMARY KEY,
        rid TEXT COLLATE "C" NOT NULL,
        ts TEXT COLLATE "C" NOT NULL,
        doc JSONB NOT NULL
    );
    CREATE INDEX messages_room_ts ON messages (rid, ts, seq);
"#;

const INSERT_MESSAGE: &str = "INSERT INTO messages (id, rid, ts, doc) VALUES ($1, $2, $3, $4)";
const BUMP_ROOM: &str = "UPDATE rooms SET msgs = msgs + 1, lm = $2, last_message = $3 WHERE id = $1";
const READ_ONE: &str = "SELECT doc FROM messages WHERE id = $1";
const READ_PAGE: &str = "SELECT doc FROM messages WHERE rid = $1 ORDER BY ts DESC LIMIT 50";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Client {
    TokioPostgres,
    Sqlx,
    SqlxNoPing,
}

impl Client {
    const ALL: [Client; 3] = [Client::TokioPostgres, Client::Sqlx, Client::SqlxNoPing];
    fn name(self) -> &'static str {
        match self {
            Client::TokioPostgres => "tokio-postgres",
            Client::Sqlx => "sqlx",
            Client::SqlxNoPing => "sqlx-noping",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    Write,
    Read,
    Page,
}

impl Case {
    const ALL: [Case; 3] = [Case::Write, Case::Read, Case::Page];
    fn name(self) -> &'static str {
        match self {
            Case::Write => "write (1 msg/tx)",
            Case::Read => "point read",
            Case::Page => "page of 50",
        }
    }
    fn unit(self) -> &'static str {
        match self {
            Case::Write => "rows/s",
            Case::Read => "reads/s",
            Case::Page => "pages/s",
        }
    }
    fn duration(self) -> Duration {
        match self {
            Case::Write => Duration::from_secs(5),
            Case::Read | Case::Page => Duration::from_secs(3),
        }
    }
}

#[derive(Clone)]
struct Pools {
    tp: Pool,
    sqlx: PgPool,
    sqlx_noping: PgPool,
    ids: Arc<Vec<String>>,
    rooms: Arc<Vec<String>>,
    clock: Arc<AtomicU64>,
    written: Arc<AtomicU64>,
}

/// One measured run: operations per second and latency percentiles (µs, including the wait
/// for a pooled connection, as a caller sees it).
#[derive(Clone, Copy, Default)]
struct Sample {
    rate: f64,
    p50: f64,
    p99: f64,
    /// CPU time of this process (all threads, user + system) per operation, µs: the client's
    /// own cost, which depends less on what else the machine is running than the rates do.
    cpu: f64,
}

/// User + system CPU time of this process so far, µs (from /proc/self/stat, 1/100 s ticks).
fn process_cpu_us() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // fields after the command name, which is in parentheses: state is field 3, utime 14, stime 15
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i - 3).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(14) + ticks(15)) * 10_000.0
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// `yyyy-mm-ddThh:mm:ss.mmmZ` for milliseconds since the epoch (the store keeps `ts` as text).
fn iso(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // civil-from-days (H. Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem / 60 % 60, rem % 60, ms % 1000)
}

fn random_id(rng: &mut StdRng) -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz";
    (0..17).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// A message as an incoming webhook posts it: text, an attachment with fields, parsed markdown.
fn message(id: &str, rid: &str, ts: &str, n: u64) -> Doc {
    let text = format!("Build #{n} of liftoff/main passed in 4m{:02}s — 1,284 tests, 0 failures", n % 60);
    let v = json!({
        "_id": id,
        "rid": rid,
        "msg": text,
        "ts": ts,
        "u": { "_id": "rocket.cat", "username": "rocket.cat", "name": "Rocket.Cat" },
        "_updatedAt": ts,
        "groupable": false,
        "alias": "CI",
        "emoji": ":rocket:",
        "bot": { "i": "vNp5zQ3Wk2Rr8sYtA" },
        "attachments": [{
            "title": format!("liftoff/main #{n}"),
            "title_link": format!("https://ci.example.invalid/liftoff/main/{n}"),
            "text": "All checks have passed",
            "color": "#2de0a5",
            "ts": ts,
            "fields": [
                { "short": true, "title": "Branch", "value": "main" },
                { "short": true, "title": "Commit", "value": "5987b20" },
                { "short": false, "title": "Author", "value": "Ada Lovelace" }
            ]
        }],
        "mentions": [],
        "channels": [],
        "md": [{ "type": "PARAGRAPH", "value": [{ "type": "PLAIN_TEXT", "value": text }] }]
    });
    match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i] as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

impl Pools {
    fn next_ts(&self) -> String {
        iso(self.clock.fetch_add(1, Ordering::Relaxed))
    }

    async fn op(&self, client: Client, case: Case, rng: &mut StdRng) -> Res<()> {
        match case {
            Case::Write => {
                // unique across runs (every run of a round uses the same random sequence)
                let id = format!("w{:08}{}", self.written.fetch_add(1, Ordering::Relaxed), &random_id(rng)[..8]);
                let rid = &self.rooms[rng.random_range(0..self.rooms.len())];
                let ts = self.next_ts();
                let n = rng.random_range(1..100_000u64);
                let doc = message(&id, rid, &ts, n);
                match client {
                    Client::TokioPostgres => {
                        let mut c = self.tp.get().await?;
                        let tx = c.transaction().await?;
                        let insert = tx.prepare_cached(INSERT_MESSAGE).await?;
                        tx.execute(&insert, &[&id, rid, &ts, &Json(&doc)]).await?;
                        let bump = tx.prepare_cached(BUMP_ROOM).await?;
                        tx.execute(&bump, &[rid, &ts, &Json(&doc)]).await?;
                        tx.commit().await?;
                    }
                    Client::Sqlx | Client::SqlxNoPing => {
                        let pool = if client == Client::Sqlx { &self.sqlx } else { &self.sqlx_noping };
                        let mut tx = pool.begin().await?;
                        sqlx::query(INSERT_MESSAGE)
                            .bind(&id)
                            .bind(rid)
                            .bind(&ts)
                            .bind(sqlx::types::Json(&doc))
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query(BUMP_ROOM)
                            .bind(rid)
                            .bind(&ts)
                            .bind(sqlx::types::Json(&doc))
                            .execute(&mut *tx)
                            .await?;
                        tx.commit().await?;
                    }
                }
            }
            Case::Read => {
                let id = &self.ids[rng.random_range(0..self.ids.len())];
                let doc: Value = match client {
                    Client::TokioPostgres => {
                        let c = self.tp.get().await?;
                        let stmt = c.prepare_cached(READ_ONE).await?;
                        let row = c.query_opt(&stmt, &[id]).await?.ok_or("seeded message not found")?;
                        row.try_get::<_, Json<Value>>(0)?.0
                    }
                    Client::Sqlx | Client::SqlxNoPing => {
                        let pool = if client == Client::Sqlx { &self.sqlx } else { &self.sqlx_noping };
                        let row = sqlx::query(READ_ONE)
                            .bind(id)
                            .fetch_optional(pool)
                            .await?
                            .ok_or("seeded message not found")?;
                        row.try_get::<sqlx::types::Json<Value>, _>(0)?.0
                    }
                };
                if !doc.is_object() {
                    return Err("doc is not an object".into());
                }
            }
            Case::Page => {
                let rid = &self.rooms[rng.random_range(0..self.rooms.len())];
                let docs: Vec<Value> = match client {
                    Client::TokioPostgres => {
                        let c = self.tp.get().await?;
                        let stmt = c.prepare_cached(READ_PAGE).await?;
                        let rows = c.query(&stmt, &[rid]).await?;
                        rows.iter().map(|r| r.try_get::<_, Json<Value>>(0).map(|j| j.0)).collect::<Result<_, _>>()?
                    }
                    Client::Sqlx | Client::SqlxNoPing => {
                        let pool = if client == Client::Sqlx { &self.sqlx } else { &self.sqlx_noping };
                        let rows = sqlx::query(READ_PAGE).bind(rid).fetch_all(pool).await?;
                        rows.iter()
                            .map(|r| r.try_get::<sqlx::types::Json<Value>, _>(0).map(|j| j.0))
                            .collect::<Result<_, _>>()?
                    }
                };
                if docs.len() != 50 {
                    return Err(format!("page of {} docs", docs.len()).into());
                }
            }
        }
        Ok(())
    }

    /// TASKS tasks doing `case` with `client` for `dur`; latencies in µs.
    async fn run(&self, client: Client, case: Case, dur: Duration, seed: u64) -> Res<Sample> {
        let cpu0 = process_cpu_us();
        let start = Instant::now();
        let deadline = start + dur;
        let mut tasks = Vec::with_capacity(TASKS);
        for t in 0..TASKS {
            let pools = self.clone();
            let mut rng = StdRng::seed_from_u64(seed * 1000 + t as u64);
            tasks.push(tokio::spawn(async move {
                let mut lat: Vec<u32> = Vec::with_capacity(4096);
                while Instant::now() < deadline {
                    let t0 = Instant::now();
                    pools.op(client, case, &mut rng).await?;
                    lat.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
                }
                Ok::<_, BoxError>(lat)
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await??);
        }
        let elapsed = start.elapsed().as_secs_f64();
        let cpu = (process_cpu_us() - cpu0) / all.len().max(1) as f64;
        all.sort_unstable();
        Ok(Sample { rate: all.len() as f64 / elapsed, p50: percentile(&all, 0.50), p99: percentile(&all, 0.99), cpu })
    }
}

/// Runs each statement on its own (CREATE/DROP DATABASE refuse a transaction block).
async fn admin_exec(url: &str, sqls: &[&str]) -> Res<()> {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await?;
    let h = tokio::spawn(conn);
    for sql in sqls {
        client.batch_execute(sql).await?;
    }
    drop(client);
    let _ = h.await;
    Ok(())
}

async fn seed(pool: &Pool) -> Res<(Vec<String>, Vec<String>, u64)> {
    let mut c = pool.get().await?;
    c.batch_execute(DDL).await?;
    let rooms: Vec<String> = (0..ROOMS).map(|i| format!("room{i:02}-GENERAL-xyz")).collect();
    for (i, rid) in rooms.iter().enumerate() {
        let doc = json!({ "_id": rid, "name": format!("bench-{i:02}"), "t": "c", "msgs": 0, "usersCount": 3 });
        c.execute(
            "INSERT INTO rooms (id, name, t, doc) VALUES ($1, $2, 'c', $3)",
            &[rid, &format!("bench-{i:02}"), &Json(&doc)],
        )
        .await?;
    }
    let mut rng = StdRng::seed_from_u64(42);
    let start_ms = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64 - 86_400_000;
    let mut ms = start_ms;
    let mut ids = Vec::with_capacity(ROOMS * SEED_PER_ROOM);
    let tx = c.transaction().await?;
    let stmt = tx
        .prepare("INSERT INTO messages (id, rid, ts, doc) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[])")
        .await?;
    for _ in 0..SEED_PER_ROOM {
        let (mut bid, mut brid, mut bts, mut bdoc) = (vec![], vec![], vec![], vec![]);
        for rid in &rooms {
            ms += 1;
            let id = random_id(&mut rng);
            let ts = iso(ms);
            bdoc.push(Json(message(&id, rid, &ts, ms % 100_000)));
            bid.push(id.clone());
            brid.push(rid.clone());
            bts.push(ts);
            ids.push(id);
        }
        tx.execute(&stmt, &[&bid, &brid, &bts, &bdoc]).await?;
    }
    tx.execute(
        "UPDATE rooms r SET msgs = m.n, lm = m.ts FROM (SELECT rid, count(*) n, max(ts) ts FROM messages GROUP BY rid) m
         WHERE r.id = m.rid",
        &[],
    )
    .await?;
    tx.commit().await?;
    c.batch_execute("VACUUM ANALYZE rooms").await?;
    c.batch_execute("VACUUM ANALYZE messages").await?;
    Ok((ids, rooms, ms + 1))
}

#[tokio::main]
async fn main() -> Res<()> {
    let url = std::env::var("PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let db = format!("liftoff_pgclients_{}", std::process::id());
    let load_before = load_average();
    println!("load average before: {load_before}");
    admin_exec(&url, &[&format!("DROP DATABASE IF EXISTS {db}"), &format!("CREATE DATABASE {db}")]).await?;
    let result = bench(&url, &db).await;
    admin_exec(&url, &[&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")]).await?;
    let load_after = load_average();
    let (table, raw, settings) = result?;
    println!("\n{settings}; pool size {POOL_SIZE}, {TASKS} tasks, {ROUNDS} rounds, medians:\n");
    println!("{table}");
    println!("per round (load average at its start; client: rate / p50 µs / p99 µs / client CPU µs per op):\n{raw}");
    println!("load average before: {load_before}; after: {load_after}");
    Ok(())
}

async fn bench(url: &str, db: &str) -> Res<(String, String, String)> {
    let mut config = tokio_postgres::Config::from_str(url)?;
    config.dbname(db);
    config.application_name("liftoff-pgclients-tp");
    let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    let tp = Pool::builder(manager).max_size(POOL_SIZE).build()?;

    let (ids, rooms, clock) = seed(&tp).await?;
    let settings = {
        let c = tp.get().await?;
        let mut s = String::from("server:");
        for q in ["SELECT version()", "SHOW synchronous_commit", "SHOW fsync", "SHOW shared_buffers"] {
            let v: String = c.query_one(q, &[]).await?.get(0);
            s.push_str(&format!(" {}", v.split(" on ").next().unwrap_or(&v)));
            s.push(';');
        }
        s.push_str(&format!(" seeded {} messages in {} rooms", ids.len(), rooms.len()));
        s
    };
    println!("{settings}");

    let opts = PgConnectOptions::from_str(url)?
        .database(db)
        .ssl_mode(PgSslMode::Disable)
        .application_name("liftoff-pgclients-sqlx");
    let sqlx = PgPoolOptions::new().max_connections(POOL_SIZE as u32).connect_with(opts.clone()).await?;
    let sqlx_noping = PgPoolOptions::new()
        .max_connections(POOL_SIZE as u32)
        .test_before_acquire(false)
        .connect_with(opts.clone().application_name("liftoff-pgclients-sqlx-noping"))
        .await?;

    let pools = Pools {
        tp,
        sqlx,
        sqlx_noping,
        ids: Arc::new(ids),
        rooms: Arc::new(rooms),
        clock: Arc::new(AtomicU64::new(clock)),
        written: Arc::new(AtomicU64::new(0)),
    };

    // Warm up: open every pool's 16 connections and prepare every statement on each.
    for client in Client::ALL {
        for case in Case::ALL {
            pools.run(client, case, WARMUP, 7).await?;
        }
    }

    // results[case][client] = one sample per round
    let mut results = vec![vec![Vec::<Sample>::new(); Client::ALL.len()]; Case::ALL.len()];
    let mut raw = String::new();
    for round in 0..ROUNDS {
        for (ci, case) in Case::ALL.into_iter().enumerate() {
            let mut line = format!("round {} {:<17} load {}", round + 1, case.name(), load_average());
            for k in 0..Client::ALL.len() {
                let client = Client::ALL[(k + round) % Client::ALL.len()];
                let s = pools.run(client, case, case.duration(), (round * 10 + ci) as u64 + 100).await?;
                let idx = Client::ALL.iter().position(|c| *c == client).unwrap();
                results[ci][idx].push(s);
                line.push_str(&format!(
                    " | {}: {:.0} / {:.0} / {:.0} / {:.1}",
                    client.name(),
                    s.rate,
                    s.p50,
                    s.p99,
                    s.cpu
                ));
            }
            eprintln!("{line}");
            raw.push_str(&line);
            raw.push('\n');
        }
    }
    pools.sqlx.close().await;
    pools.sqlx_noping.close().await;
    pools.tp.close();

    let mut table = String::from(
        "| case | metric | tokio-postgres | sqlx | sqlx-noping | tokio-postgres / sqlx | tokio-postgres / sqlx-noping |\n\
         |---|---|---:|---:|---:|---:|---:|\n",
    );
    for (ci, case) in Case::ALL.into_iter().enumerate() {
        let metrics: [(&str, fn(&Sample) -> f64); 4] =
            [(case.unit(), |s| s.rate), ("p50 µs", |s| s.p50), ("p99 µs", |s| s.p99), ("client CPU µs/op", |s| s.cpu)];
        for (metric, get) in metrics {
            let p = if metric.contains("CPU") { 1 } else { 0 };
            let m: Vec<f64> = results[ci].iter().map(|v| median(v.iter().map(get).collect())).collect();
            table.push_str(&format!(
                "| {} | {} | {:.p$} | {:.p$} | {:.p$} | {:.2} | {:.2} |\n",
                case.name(),
                metric,
                m[0],
                m[1],
                m[2],
                m[0] / m[1],
                m[0] / m[2]
            ));
        }
    }
    Ok((table, raw, settings))
}
