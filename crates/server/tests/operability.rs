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

/// The value of one sample line of a Prometheus text scrape (0 when absent).
fn sample(scrape: &str, name_and_labels: &str) -> f64 {
    scrape
        .lines()
        .find_map(|l| l.strip_prefix(name_and_labels).and_then(|rest| rest.strip_prefix(' ')))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_count_requests_hooks_and_messages() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let server = Server::start_with(&[
        ("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false"),
        ("OVERWRITE_SETTING_Prometheus_Enabled", "true"),
        ("OVERWRITE_SETTING_Prometheus_Port", &port),
    ]);
    let admin = server.admin().await;
    let scrape = || async {
        let resp = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await.unwrap();
        assert_eq!(resp.status(), 200);
        resp.text().await.unwrap()
    };
    let (_, created) = admin
        .post(
            "integrations.create",
            json!({"type": "webhook-incoming", "name": "m", "enabled": true, "username": "rocket.cat",
                   "channel": "#general", "scriptEnabled": false}),
        )
        .await;
    let hook = &created["integration"];
    let hook_url =
        format!("{}/hooks/{}/{}", admin.base, hook["_id"].as_str().unwrap(), hook["token"].as_str().unwrap());
    let before = scrape().await;
    for n in 0..3 {
        let (status, _) = admin.post("chat.postMessage", json!({"roomId": "GENERAL", "text": format!("m{n}")})).await;
        assert_eq!(status, 200);
    }
    let http = reqwest::Client::new();
    assert_eq!(http.post(&hook_url).json(&json!({"text": "from hook"})).send().await.unwrap().status(), 200);
    let wrong = format!("{}/hooks/{}/wrong-token", admin.base, hook["_id"].as_str().unwrap());
    assert_eq!(http.post(&wrong).json(&json!({"text": "x"})).send().await.unwrap().status(), 404);
    let after = scrape().await;
    let delta = |name: &str| sample(&after, name) - sample(&before, name);
    assert_eq!(delta("liftoff_messages_posted_total"), 4.0, "{after}");
    assert_eq!(delta(r#"liftoff_hooks_total{outcome="posted"}"#), 1.0, "{after}");
    assert_eq!(delta(r#"liftoff_hooks_total{outcome="rejected"}"#), 1.0, "{after}");
    let posted = r#"liftoff_http_requests_total{method="POST",route="/api/v1/chat.postMessage",status="200"}"#;
    assert_eq!(delta(posted), 3.0, "{after}");
    assert!(after.contains(r#"route="/hooks/{*rest}""#), "{after}");
    assert!(!after.contains(hook["token"].as_str().unwrap()), "hook tokens never appear in labels");

    // promtool validates the exposition format when it is installed (CI installs it).
    match std::process::Command::new("promtool").arg("--version").output() {
        Ok(_) => {
            use std::io::Write;
            let mut child = std::process::Command::new("promtool")
                .args(["check", "metrics"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(after.as_bytes()).unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "promtool: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("promtool is required in CI (apt package prometheus)")
        }
        Err(_) => {
            eprintln!("NOTICE: promtool not installed; skipping `promtool check metrics` (apt-get install prometheus)")
        }
    }
}
