//! Fields that Rocket.Chat stores as dates behave as dates in `query` and `sort`, against the
//! real binary: MongoDB's type brackets decide what a query selects, and the output keeps the
//! ISO string.

mod common;
use common::*;
use serde_json::{Value, json};

async fn create(c: &Client, name: &str) -> Value {
    let body = json!({"type": "webhook-incoming", "name": name, "enabled": true, "username": "rocket.cat",
                      "channel": "#general", "scriptEnabled": false});
    let (status, resp) = c.post("integrations.create", body).await;
    assert_eq!(status, 200, "{resp}");
    resp["integration"].clone()
}

/// Names of the integrations `query` selects, and the total.
async fn selected(c: &Client, query: &str) -> (Vec<String>, u64) {
    let (status, body) = c.get("integrations.list", &[("query", query)]).await;
    assert_eq!(status, 200, "{query}: {body}");
    let names =
        body["integrations"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_owned()).collect();
    (names, body["total"].as_u64().unwrap())
}

#[tokio::test]
async fn created_at_is_a_date_for_every_operator() {
    let server = Server::start();
    let admin = server.admin().await;
    for n in ["one", "two", "three"] {
        create(&admin, n).await;
    }
    // the five cases where a date and a string differ
    for none in [
        r#"{"_createdAt":{"$type":"string"}}"#,
        r#"{"_createdAt":{"$gt":"1970-01-01T00:00:00.000Z"}}"#,
        r#"{"_createdAt":{"$regex":"\\d"}}"#,
        r#"{"_createdAt":{"$type":"date","$lt":"z"}}"#,
        r#"{"_updatedAt":{"$in":["x",{"$regex":"2"}]}}"#,
        r#"{"_createdAt":{"$lt":{"$date":0}}}"#,
    ] {
        assert_eq!(selected(&admin, none).await, (vec![], 0), "{none}");
    }
    for all in [
        r#"{"_createdAt":{"$type":"date"}}"#,
        r#"{"_createdAt":{"$type":9}}"#,
        r#"{"$nor":[{"_createdAt":{"$regex":"0"}}]}"#,
        r#"{"_createdAt":{"$gt":{"$date":"1970-01-01T00:00:00Z"}}}"#,
        r#"{"_updatedAt":{"$gte":{"$date":0}}}"#,
        r#"{"_createdAt":{"$ne":"x"}}"#,
    ] {
        assert_eq!(selected(&admin, all).await.1, 3, "{all}");
    }
    // an EJSON date (ISO string or milliseconds) equals the stored date; the output keeps the ISO string
    let (_, body) = admin.get("integrations.list", &[("query", r#"{"name":"two"}"#)]).await;
    let created = body["integrations"][0]["_createdAt"].as_str().unwrap().to_owned();
    assert!(created.ends_with('Z') && created.len() == 24, "{created}");
    let ms = chrono::DateTime::parse_from_rfc3339(&created).unwrap().timestamp_millis();
    for q in
        [json!({"_createdAt": {"$date": created}, "name": "two"}), json!({"_createdAt": {"$date": ms}, "name": "two"})]
    {
        assert_eq!(selected(&admin, &q.to_string()).await, (vec!["two".to_owned()], 1), "{q}");
    }
    // a string equal to the stored text is still not the date
    let q = json!({"_createdAt": created}).to_string();
    assert_eq!(selected(&admin, &q).await.1, 0);
}

#[tokio::test]
async fn dates_sort_as_dates_and_other_endpoints_agree() {
    let server = Server::start();
    let admin = server.admin().await;
    for n in ["a", "b", "c", "d"] {
        create(&admin, n).await;
    }
    for (spec, desc) in [(r#"{"_createdAt":-1}"#, true), (r#"{"_createdAt":1}"#, false)] {
        let (status, body) = admin.get("integrations.list", &[("sort", spec)]).await;
        assert_eq!(status, 200, "{body}");
        let times: Vec<&str> =
            body["integrations"].as_array().unwrap().iter().map(|i| i["_createdAt"].as_str().unwrap()).collect();
        assert_eq!(times.len(), 4);
        let mut expected = times.clone();
        expected.sort();
        if desc {
            expected.reverse();
        }
        assert_eq!(times, expected, "{spec}");
    }
    // users.list filters in memory: `lastLogin` is a date there too
    let (status, body) = admin.get("users.list", &[("query", r#"{"lastLogin":{"$type":"string"}}"#)]).await;
    assert_eq!((status.as_u16(), body["total"].as_u64()), (200, Some(0)), "{body}");
    let (_, body) = admin.get("users.list", &[("query", r#"{"lastLogin":{"$type":"date"}}"#)]).await;
    assert!(body["total"].as_u64().unwrap() >= 1, "{body}");
    let (_, body) = admin.get("users.list", &[("query", r#"{"lastLogin":{"$regex":"2"}}"#)]).await;
    assert_eq!(body["total"].as_u64(), Some(0), "{body}");
}
