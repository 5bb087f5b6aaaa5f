//! Operability against the real binary: health probes, request ids and what request logs show
//! (metrics are in `metrics.rs`).

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

/// Request logs name the route, never a hook's token, even at the most verbose level.
#[tokio::test]
async fn request_logs_hide_hook_tokens() {
    let server = Server::start_logging(&[
        ("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false"),
        ("RUST_LOG", "liftoff=trace,tower_http=trace"),
    ]);
    let admin = server.admin().await;
    let (status, created) = admin
        .post(
            "integrations.create",
            json!({"type": "webhook-incoming", "name": "logged", "enabled": true, "username": "rocket.cat",
                   "channel": "#general", "scriptEnabled": false}),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let (id, token) =
        (created["integration"]["_id"].as_str().unwrap(), created["integration"]["token"].as_str().unwrap());
    let http = reqwest::Client::new();
    let hook = format!("{}/hooks/{id}/{token}", admin.base);
    assert_eq!(http.post(&hook).json(&json!({"text": "logged"})).send().await.unwrap().status(), 200);
    let wrong = format!("{}/hooks/{id}/not-the-token-5d1c", admin.base);
    assert_eq!(http.post(&wrong).json(&json!({"text": "x"})).send().await.unwrap().status(), 404);
    let log = server.log();
    assert!(log.contains(&format!("/hooks/{id}/***")), "the request span names the hook: {log}");
    assert!(!log.contains(token), "a hook token was logged");
    assert!(!log.contains("not-the-token-5d1c"), "a wrong token was logged");
}
