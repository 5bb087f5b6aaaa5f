//! Property test: SQL pushdown + in-memory evaluation of the rest gives the
//! same documents as pure in-memory evaluation, on random
//! integration-shaped documents stored in the store's tables.
//!
//! SQLite (in memory, bundled) always runs. PostgreSQL runs when
//! `TEST_DATABASE_URL` is set (e.g. `postgres://postgres@127.0.0.1:5432/test`),
//! in a uniquely named schema that is dropped afterwards.

use proptest::prelude::*;
use query::Filter;
use query::sql::{Dialect, SqlPlan, SqlSchema, SqlValue, translate};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

const TYPES: &[&str] = &["webhook-incoming", "webhook-outgoing"];
const NAMES: &[&str] = &["alpha", "Beta", "gamma", "ALPHA bot", "beta-2", "x", "Zeta", "émile"];
const USERS: &[&str] = &["u1", "u2", "u3"];
const CHANNELS: &[&str] = &["#general", "#dev", "@bob", "#x", "all_public_channels"];
const DATES: &[&str] =
    &["2024-12-31T23:59:59.999Z", "2025-01-01T00:00:00.000Z", "2025-01-01T12:00:00.000Z", "2025-06-15T08:30:00.250Z"];

fn doc(r: &mut Rng, id: usize) -> Value {
    let mut m = Map::new();
    m.insert("_id".into(), json!(format!("i{id:02}")));
    m.insert("type".into(), json!(r.pick(TYPES)));
    m.insert("name".into(), json!(r.pick(NAMES)));
    match r.below(6) {
        0 => {}
        1 => {
            m.insert("_createdBy".into(), Value::Null);
        }
        2 => {
            m.insert("_createdBy".into(), json!({"username": "nobody"}));
        }
        3 => {
            m.insert("_createdBy".into(), json!({"_id": null}));
        }
        _ => {
            m.insert("_createdBy".into(), json!({"_id": r.pick(USERS), "username": "u"}));
        }
    }
    m.insert("_createdAt".into(), json!(r.pick(DATES)));
    match r.below(6) {
        0 => {}
        1 => {
            m.insert("channel".into(), json!([]));
        }
        _ => {
            let n = 1 + r.below(3);
            m.insert("channel".into(), Value::Array((0..n).map(|_| json!(r.pick(CHANNELS))).collect()));
        }
    }
    if r.chance(70) {
        m.insert("enabled".into(), json!(r.chance(50)));
    }
    Value::Object(m)
}

fn str_lit(r: &mut Rng, path: &str) -> Value {
    match path {
        "type" => json!(r.pick(TYPES)),
        "name" => json!(r.pick(NAMES)),
        "_createdBy._id" => json!(r.pick(USERS)),
        "channel" => json!(r.pick(CHANNELS)),
        "_createdAt" => json!(r.pick(DATES)),
        "_id" => json!(format!("i{:02}", r.below(25))),
        _ => json!(r.pick(&["a", "u1", "#dev"])),
    }
}

fn lit(r: &mut Rng, path: &str) -> Value {
    match r.below(12) {
        0 => Value::Null,
        1 => json!(r.below(3)),
        2 => json!(r.chance(50)),
        3 => json!({"$date": r.pick(DATES)}),
        4 if path == "channel" => json!([str_lit(r, path)]),
        5 => json!({"x": 1}),
        _ => str_lit(r, path),
    }
}

fn regex(r: &mut Rng) -> Value {
    let p = r.pick(&["alpha", "a", "^b", "eta", "ALPHA", "-", "^#", "u", "2025-01", "é"]);
    match r.below(3) {
        0 => json!({"$regex": p, "$options": "i"}),
        _ => json!({"$regex": p}),
    }
}

fn ops(r: &mut Rng, path: &str, allow_not: bool) -> Value {
    match r.below(if allow_not { 14 } else { 13 }) {
        0 | 1 => lit(r, path),
        2 => json!({"$ne": lit(r, path)}),
        3 => json!({"$in": (0..1 + r.below(3)).map(|_| lit(r, path)).collect::<Vec<_>>()}),
        4 => json!({"$nin": (0..1 + r.below(3)).map(|_| lit(r, path)).collect::<Vec<_>>()}),
        5 => json!({r.pick(&["$gt", "$gte", "$lt", "$lte"]): lit(r, path)}),
        6 => json!({"$gt": str_lit(r, path), "$lte": str_lit(r, path)}),
        7 => json!({"$exists": r.chance(50)}),
        8 | 9 => regex(r),
        10 => match r.below(5) {
            0 => json!({"$size": r.below(3)}),
            1 => json!({"$type": r.pick(&["string", "null", "array", "date", "number"])}),
            2 => json!({"$mod": [2, 0]}),
            3 => json!({"$elemMatch": {"$eq": str_lit(r, path)}}),
            _ => json!({"$type": [2, 10]}),
        },
        11 => json!({"$all": (0..r.below(3)).map(|_| str_lit(r, path)).collect::<Vec<_>>()}),
        12 => json!({"$eq": str_lit(r, path)}),
        _ => {
            let mut inner = ops(r, path, false);
            while !inner.as_object().is_some_and(|m| m.keys().all(|k| k.starts_with('$')) && !m.contains_key("$date")) {
                inner = ops(r, path, false);
            }
            json!({"$not": inner})
        }
    }
}

const PATHS: &[&str] =
    &["_id", "type", "type", "name", "_createdBy._id", "channel", "channel", "_createdAt", "enabled", "_createdBy"];

fn query(r: &mut Rng, depth: usize) -> Value {
    let mut m = Map::new();
    for _ in 0..1 + r.below(2) {
        if depth < 2 && r.chance(25) {
            let op = r.pick(&["$and", "$or", "$or", "$nor"]);
            m.insert(op.into(), Value::Array((0..1 + r.below(3)).map(|_| query(r, depth + 1)).collect()));
        } else {
            let p = r.pick(PATHS);
            m.insert(p.into(), ops(r, p, true));
        }
    }
    Value::Object(m)
}

fn filter(r: &mut Rng) -> Filter {
    let q = query(r, 0);
    let untrusted = Filter::parse_with_dates(&q, &["_createdAt"]).unwrap_or_else(|e| panic!("{q}: {e}"));
    match r.below(3) {
        // a permission scope built in code, ANDed with the untrusted part
        0 => Filter::and(vec![
            Filter::or(vec![Filter::eq("_createdBy._id", r.pick(USERS)), Filter::is_in("channel", [r.pick(CHANNELS)])]),
            untrusted,
        ]),
        1 => Filter::and(vec![Filter::contains_ci("name", r.pick(&["ALP", "eta"])).unwrap(), untrusted]),
        _ => untrusted,
    }
}

fn in_memory(f: &Filter, docs: &[Value]) -> BTreeSet<String> {
    docs.iter().filter(|d| f.matches(d)).map(|d| d["_id"].as_str().unwrap().to_owned()).collect()
}

/// Rows selected by SQL, then (if the plan is not exact) filtered in memory.
fn pushed(f: &Filter, plan: &SqlPlan, rows: Vec<(String, String)>) -> BTreeSet<String> {
    rows.into_iter()
        .filter(|(_, doc)| plan.exact || f.matches(&serde_json::from_str(doc).unwrap()))
        .map(|(id, _)| id)
        .collect()
}

fn row_fields(d: &Value) -> (String, String, String, Option<String>, String, String, Vec<String>) {
    let created_by = d.get("_createdBy").and_then(|c| c.get("_id")).and_then(|v| v.as_str()).map(str::to_owned);
    let mut channels: Vec<String> = d
        .get("channel")
        .and_then(|c| c.as_array())
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    channels.sort();
    channels.dedup();
    (
        d["_id"].as_str().unwrap().to_owned(),
        d["type"].as_str().unwrap().to_owned(),
        d["name"].as_str().unwrap().to_owned(),
        created_by,
        d["_createdAt"].as_str().unwrap().to_owned(),
        d.to_string(),
        channels,
    )
}

const SQLITE_DDL: &str = "
CREATE TABLE integrations (
  id TEXT PRIMARY KEY, type TEXT NOT NULL, name TEXT NOT NULL, created_by TEXT,
  created_at TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE integration_channels (integration_id TEXT NOT NULL, channel TEXT NOT NULL,
  PRIMARY KEY (channel, integration_id));";

fn sqlite_db(docs: &[Value]) -> rusqlite::Connection {
    let c = rusqlite::Connection::open_in_memory().unwrap();
    c.execute_batch(SQLITE_DDL).unwrap();
    for d in docs {
        let (id, ty, name, by, at, doc, chans) = row_fields(d);
        c.execute(
            "INSERT INTO integrations VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![id, ty, name, by, at, doc],
        )
        .unwrap();
        for ch in chans {
            c.execute("INSERT INTO integration_channels VALUES (?1, ?2)", rusqlite::params![id, ch]).unwrap();
        }
    }
    c
}

fn sqlite_rows(c: &rusqlite::Connection, plan: &SqlPlan) -> Vec<(String, String)> {
    let sql = format!("SELECT id, doc FROM integrations WHERE {} ORDER BY id", plan.where_sql);
    let mut st = c.prepare(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let params: Vec<rusqlite::types::Value> = plan
        .params
        .iter()
        .map(|p| match p {
            SqlValue::Text(s) => rusqlite::types::Value::Text(s.clone()),
            SqlValue::Integer(i) => rusqlite::types::Value::Integer(*i),
        })
        .collect();
    st.query_map(rusqlite::params_from_iter(params), |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .map(|r| r.unwrap())
        .collect()
}

fn check_case(
    seed: u64,
    mut run: impl FnMut(&Filter, Dialect) -> (SqlPlan, Vec<(String, String)>),
    dialect: Dialect,
    docs: &[Value],
    r: &mut Rng,
) -> (usize, usize) {
    let mut exact = 0;
    let mut pushed_any = 0;
    for _ in 0..25 {
        let f = filter(r);
        let (plan, rows) = run(&f, dialect);
        let expected = in_memory(&f, docs);
        let got = pushed(&f, &plan, rows.clone());
        let sql_ids: BTreeSet<String> = rows.iter().map(|(id, _)| id.clone()).collect();
        assert!(
            expected.is_subset(&sql_ids),
            "seed {seed}: SQL condition is not necessary\n{f:?}\n{plan:?}\nexpected {expected:?}\nsql {sql_ids:?}"
        );
        assert_eq!(got, expected, "seed {seed}: pushdown differs\n{f:?}\n{plan:?}");
        exact += plan.exact as usize;
        pushed_any += (plan.where_sql != "1=1") as usize;
    }
    (exact, pushed_any)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn sqlite_pushdown_equals_in_memory(seed in any::<u64>()) {
        let mut r = Rng::new(seed);
        let docs: Vec<Value> = (0..20).map(|i| doc(&mut r, i)).collect();
        let db = sqlite_db(&docs);
        let schema = SqlSchema::integrations();
        check_case(seed, |f, d| {
            let plan = translate(f, &schema, d, 1);
            let rows = sqlite_rows(&db, &plan);
            (plan, rows)
        }, Dialect::Sqlite, &docs, &mut r);
    }
}

/// Pushdown is not vacuous: the common endpoint filters are pushed exactly.
#[test]
fn sqlite_pushdown_is_used() {
    let mut r = Rng::new(99);
    let docs: Vec<Value> = (0..20).map(|i| doc(&mut r, i)).collect();
    let db = sqlite_db(&docs);
    let schema = SqlSchema::integrations();
    let (mut exact, mut pushed_any) = (0, 0);
    for seed in 0..40u64 {
        let mut r = Rng::new(seed);
        let (e, p) = check_case(
            seed,
            |f, d| {
                let plan = translate(f, &schema, d, 1);
                let rows = sqlite_rows(&db, &plan);
                (plan, rows)
            },
            Dialect::Sqlite,
            &docs,
            &mut r,
        );
        exact += e;
        pushed_any += p;
    }
    eprintln!("sqlite: {exact} of 1000 random filters exact, {pushed_any} pushed something");
    assert!(exact > 100 && pushed_any > 500);
}

mod pg {
    use super::*;
    use postgres::{Client, NoTls};

    struct Schema {
        client: Client,
        name: String,
    }

    impl Drop for Schema {
        fn drop(&mut self) {
            let _ = self.client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }

    fn connect(url: &str) -> Schema {
        let mut client = Client::connect(url, NoTls).expect("connect to TEST_DATABASE_URL");
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let name = format!("query_test_{}_{}", std::process::id(), nanos);
        client
            .batch_execute(&format!(
                "CREATE SCHEMA {name}; SET search_path TO {name};
                 CREATE TABLE integrations (id TEXT PRIMARY KEY, type TEXT NOT NULL, name TEXT NOT NULL,
                   created_by TEXT, created_at TEXT NOT NULL, doc TEXT NOT NULL);
                 CREATE TABLE integration_channels (integration_id TEXT NOT NULL, channel TEXT NOT NULL,
                   PRIMARY KEY (channel, integration_id));"
            ))
            .unwrap();
        Schema { client, name }
    }

    fn load(s: &mut Schema, docs: &[Value]) {
        s.client.batch_execute("DELETE FROM integration_channels; DELETE FROM integrations;").unwrap();
        for d in docs {
            let (id, ty, name, by, at, doc, chans) = row_fields(d);
            s.client
                .execute("INSERT INTO integrations VALUES ($1, $2, $3, $4, $5, $6)", &[&id, &ty, &name, &by, &at, &doc])
                .unwrap();
            for ch in chans {
                s.client.execute("INSERT INTO integration_channels VALUES ($1, $2)", &[&id, &ch]).unwrap();
            }
        }
    }

    fn rows(s: &mut Schema, plan: &SqlPlan) -> Vec<(String, String)> {
        let sql = format!("SELECT id, doc FROM integrations WHERE {} ORDER BY id", plan.where_sql);
        let texts: Vec<String> = plan.params.iter().map(|p| p.as_text().unwrap().to_owned()).collect();
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> =
            texts.iter().map(|t| t as &(dyn postgres::types::ToSql + Sync)).collect();
        s.client
            .query(&sql, &params)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .into_iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect()
    }

    #[test]
    fn postgres_pushdown_equals_in_memory() {
        let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
            eprintln!("SKIP: TEST_DATABASE_URL is not set; PostgreSQL pushdown test did not run");
            return;
        };
        let mut s = connect(&url);
        let schema = SqlSchema::integrations();
        let (mut exact, mut total) = (0, 0);
        for seed in 0..120u64 {
            let mut r = Rng::new(seed ^ 0x5eed);
            let docs: Vec<Value> = (0..20).map(|i| doc(&mut r, i)).collect();
            load(&mut s, &docs);
            let (e, _) = check_case(
                seed,
                |f, d| {
                    let plan = translate(f, &schema, d, 1);
                    let rows = rows(&mut s, &plan);
                    (plan, rows)
                },
                Dialect::Postgres,
                &docs,
                &mut r,
            );
            exact += e;
            total += 25;
        }
        eprintln!("postgres: {total} random filters, {exact} exact, all equal to in-memory evaluation");
    }
}
