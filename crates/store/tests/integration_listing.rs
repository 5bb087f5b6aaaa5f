//! Listings answered from the in-memory index, from SQL, or in memory over documents must agree,
//! also after updates and deletes.

use query::{Filter, Sort};
use serde_json::json;
use store::prelude::*;
use store::sqlite::SqliteStore;
use store::{Doc, DocQuery, Store};

fn integration(i: usize) -> Doc {
    json!({
        "_id": format!("id{i:04}"),
        "type": if i.is_multiple_of(3) { "webhook-outgoing" } else { "webhook-incoming" },
        "name": format!("Hook {} {}", i % 7, i),
        "channel": [format!("#room{}", i % 5)],
        "_createdAt": format!("2026-01-01T00:{:02}:{:02}.000Z", (i / 60) % 60, i % 60),
        "_updatedAt": "2026-01-01T00:00:00.000Z",
        "_createdBy": {"_id": format!("user{}", i % 4), "username": "u"},
        "token": format!("t{i}"),
    })
    .as_object()
    .unwrap()
    .clone()
}

fn queries() -> Vec<(Filter, Vec<(String, bool)>)> {
    let f = |v: serde_json::Value| Filter::parse_with_dates(&v, &["_createdAt", "_updatedAt"]).unwrap();
    vec![
        (f(json!({"name": {"$regex": "hook 3", "$options": "i"}})), vec![]),
        (
            f(
                json!({"$or": [{"_createdBy._id": "user1"}, {"type": "webhook-outgoing"}], "name": {"$regex": "^Hook [12]"}}),
            ),
            vec![("name".into(), false)],
        ),
        (
            f(json!({"_createdBy._id": {"$ne": "user2"}, "name": {"$not": {"$regex": "5$"}}})),
            vec![("_createdAt".into(), false), ("_id".into(), true)],
        ),
        (f(json!({"_id": {"$gte": "id0100", "$lt": "id0150"}})), vec![]),
        // the listing of one room, and fields the index does not hold (answered by SQL)
        (f(json!({"channel": {"$in": ["#room2", "#room3"]}})), vec![("_createdAt".into(), true)]),
        (f(json!({"channel": {"$exists": false}, "type": "webhook-incoming"})), vec![]),
        (f(json!({"token": {"$regex": "^t1"}})), vec![("name".into(), true)]),
        (Filter::and(vec![Filter::eq("_createdBy._id", "user1"), f(json!({"_createdAt": {"$type": "date"}}))]), vec![]),
        // answered from the posting lists of `channel` and `_createdBy._id`, unsorted and sorted
        (Filter::and(vec![Filter::all(), Filter::is_in("channel", ["#room1", "#room4"])]), vec![]),
        (
            f(json!({"$or": [{"_createdBy._id": "user3"}, {"_createdBy._id": "user0", "type": "webhook-outgoing"}]})),
            vec![],
        ),
        (f(json!({"channel": "#room2", "name": {"$regex": "hook", "$options": "i"}})), vec![("name".into(), true)]),
        // everything in scope (an admin's listing): the page is read from the index's order
        (Filter::and(vec![Filter::all()]), vec![]),
        (Filter::and(vec![Filter::all(), f(json!({}))]), vec![("name".into(), true)]),
    ]
}

/// The page and total the store gives, against the same query evaluated here over `mirror`
/// (every stored document in insertion order).
async fn check(store: &SqliteStore, mirror: &[Option<Doc>], filter: &Filter, keys: &[(String, bool)]) -> usize {
    let sort = if keys.is_empty() {
        None
    } else {
        Some(
            Sort::parse(&serde_json::Value::Object(
                keys.iter().map(|(k, a)| (k.clone(), json!(if *a { 1 } else { -1 }))).collect(),
            ))
            .unwrap(),
        )
    };
    let mut expected: Vec<serde_json::Value> =
        mirror.iter().flatten().map(|d| serde_json::Value::Object(d.clone())).filter(|v| filter.matches(v)).collect();
    if let Some(s) = &sort {
        s.sort_values(&mut expected);
    }
    let total = expected.len();
    let expected: Vec<String> =
        expected.iter().skip(3).take(20).map(|d| d["_id"].as_str().unwrap().to_owned()).collect();
    let q = DocQuery { filter: filter.clone(), sort_keys: keys.to_vec(), sort, offset: 3, limit: Some(20) };
    let (docs, got_total) = store.find_integrations(q).await.unwrap();
    let got: Vec<String> = docs.iter().map(|d| d["_id"].as_str().unwrap().to_owned()).collect();
    assert_eq!((got, got_total), (expected, total), "{filter:?} {keys:?}");
    total
}

#[tokio::test]
async fn index_sql_and_memory_agree() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    let mut mirror: Vec<Option<Doc>> = Vec::new();
    for i in 0..300 {
        let mut d = integration(i);
        if i % 13 == 0 {
            d.remove("channel");
        }
        // a lone string, and shapes the posting lists cannot read (always tested)
        if i % 17 == 0 {
            d.insert("channel".into(), json!(format!("#room{}", i % 5)));
        }
        if i % 19 == 0 {
            d.insert("_createdBy".into(), json!([{"_id": "user3"}]));
            d.insert("channel".into(), json!([["#room1"], "#room4", 7]));
        }
        store.insert_integration(d.clone()).await.unwrap();
        mirror.push(Some(d));
    }
    for round in 0..4 {
        for (filter, keys) in queries() {
            let total = check(&store, &mirror, &filter, &keys).await;
            assert!(total > 0 || round > 0, "the query matches something: {filter:?}");
        }
        // change names and owners (half of all, so that the index rebuilds), delete some
        for i in (round % 2..300).step_by(2) {
            let Some(mut d) = mirror[i].clone() else { continue };
            d.insert("name".into(), json!(format!("Renamed hook 3 {i} {round}")));
            d.insert("_createdBy".into(), json!({"_id": format!("user{}", (i + round) % 4)}));
            if i % 5 == round {
                d.remove("channel");
            }
            store.replace_integration(d.clone()).await.unwrap();
            mirror[i] = Some(d);
        }
        for i in (round..300).step_by(11) {
            if mirror[i].take().is_some() {
                store.delete_integration(&format!("id{i:04}")).await.unwrap();
            }
            assert!(store.integration_by_id(&format!("id{i:04}")).await.unwrap().is_none());
        }
    }
    store.close().await;
}
