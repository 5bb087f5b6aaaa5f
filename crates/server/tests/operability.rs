//! Operability against the real binary: health probes and request ids.

mod common;
use common::*;
use serde_json::{Value, json};

async fn raw_get(c: &Client, path: &str, request_id: Option<&str>) -> (u16, Option<String>, Value) {
    let mut req = c.http.get(format!("{}{path}", c.base));
    if let Some(id) = request_id {
        req = req.header("X-Request-Id", id);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let id = resp.headers().get("x-request-id").map(|v| v.to_str().unwrap().to_owned());
    (status, id, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn probes_answer_without_authentication() {
    let server = Server::start();
    let anon = server.client();
    assert_eq!(raw_get(&anon, "/livez", None).await.0, 200);
    let (status, _, body) = raw_get(&anon, "/readyz", None).await;
    assert_eq!((status, body), (200, json!({"status": "ok"})));
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let server = Server::start();
    let anon = server.client();
    let (_, id, _) = raw_get(&anon, "/api/info", Some("trace-abc-123")).await;
    assert_eq!(id.as_deref(), Some("trace-abc-123"));
    // Errors carry it too.
    let (status, id, _) = raw_get(&anon, "/api/v1/me", Some("trace-401")).await;
    assert_eq!((status, id.as_deref()), (401, Some("trace-401")));
    // Absent or unusable ids are replaced by generated ones, different per request.
    let (_, a, _) = raw_get(&anon, "/api/info", None).await;
    let (_, b, _) = raw_get(&anon, "/api/info", Some("has space")).await;
    let (a, b) = (a.expect("generated id"), b.expect("generated id"));
    assert!(!a.is_empty() && a != b && b != "has space", "{a} {b}");
}
