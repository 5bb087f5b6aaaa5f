//! Listings answered from the in-memory index, from SQL, or in memory over documents must agree,
//! also after updates and deletes.

use query::{Filter, Sort};
use serde_json::json;
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
    let f = |v: serde_json::Value| Filter::parse(&v).unwrap();
    vec![
        (f(json!({"name": {"$regex": "hook 3", "$options": "i"}})), vec![]),
        (f(json!({"$or": [{"_createdBy._id": "user1"}, {"type": "webhook-outgoing"}], "name": {"$regex": "^Hook [12]"}})), vec![("name".into(), false)]),
        (f(json!({"_createdBy._id": {"$ne": "user2"}, "name": {"$not": {"$regex": "5$"}}})), vec![("_createdAt".into(), false), ("_id".into(), true)]),
        (f(json!({"_id": {"$gte": "id0100", "$lt": "id0150"}})), vec![]),
    ]
}

async fn listing(store: &SqliteStore, filter: &Filter, keys: &[(String, bool)], indexed: bool) -> (Vec<String>, usize) {
    let sort = if keys.is_empty() {
        None
    } else {
        Some(Sort::parse(&serde_json::Value::Object(keys.iter().map(|(k, a)| (k.clone(), json!(if *a { 1 } else { -1 }))).collect())).unwrap())
    };
    let q = DocQuery { filter: filter.clone(), sort_keys: keys.to_vec(), sort, offset: 3, limit: Some(20), indexed_only: indexed };
    let (docs, total) = store.find_integrations(q).await.unwrap();
    (docs.iter().map(|d| d["_id"].as_str().unwrap().to_owned()).collect(), total)
}

#[tokio::test]
async fn index_sql_and_memory_agree() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    for i in 0..300 {
        store.insert_integration(integration(i)).await.unwrap();
    }
    for round in 0..2 {
        for (filter, keys) in queries() {
            let by_index = listing(&store, &filter, &keys, true).await;
            let by_docs = listing(&store, &filter, &keys, false).await;
            assert_eq!(by_index, by_docs, "round {round}, {filter:?}");
            assert!(by_index.1 > 0, "the query matches something: {filter:?}");
        }
        // change names and owners, delete some: the index follows
        for i in (0..300).step_by(7) {
            let mut d = integration(i);
            d.insert("name".into(), json!(format!("Renamed hook 3 {i}")));
            d.insert("_createdBy".into(), json!({"_id": "user2"}));
            match store.replace_integration(d).await {
                Ok(()) | Err(store::StoreError::NotFound) => {} // deleted in an earlier round
                Err(e) => panic!("{e}"),
            }
        }
        for i in (0..300).step_by(11) {
            store.delete_integration(&format!("id{i:04}")).await.unwrap();
            assert!(store.integration_by_id(&format!("id{i:04}")).await.unwrap().is_none());
        }
    }
    store.close().await;
}
