//! Prometheus metrics against the real binary: scrapes of `/metrics` on the metrics port before
//! and after requests, hook calls, outgoing deliveries to a loopback receiver and script runs,
//! each scrape checked by `promtool check metrics` when it is installed.

mod common;
use common::receiver::{Receiver, Reply};
use common::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(15);

/// A server with metrics on a free port; returns it with that port.
fn start(extra: &[(&str, &str)]) -> (Server, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let mut env = vec![
        ("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false"),
        ("OVERWRITE_SETTING_Prometheus_Enabled", "true"),
        ("OVERWRITE_SETTING_Prometheus_Port", port.as_str()),
    ];
    env.extend_from_slice(extra);
    (Server::start_with(&env), port)
}

/// One scrape, checked by promtool.
async fn scrape(port: &str) -> String {
    let resp = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await.unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    promtool_check(&text);
    text
}

/// The value of one sample line of a Prometheus text scrape (0 when absent).
fn sample(scrape: &str, name_and_labels: &str) -> f64 {
    scrape
        .lines()
        .find_map(|l| l.strip_prefix(name_and_labels).and_then(|rest| rest.strip_prefix(' ')))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0.0)
}

/// Scrapes until `done` holds for the scrape (panics after [`WAIT`]).
async fn scrape_until(port: &str, what: &str, done: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    loop {
        let text = scrape(port).await;
        if done(&text) {
            return text;
        }
        assert!(started.elapsed() < WAIT, "{what}: not reached in {WAIT:?}\n{text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `promtool check metrics` validates the exposition format when it is installed (CI installs it).
fn promtool_check(text: &str) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    if Command::new("promtool").arg("--version").output().is_err() {
        assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "promtool is required in CI (apt package prometheus)");
        eprintln!("NOTICE: promtool not installed; skipping `promtool check metrics` (apt-get install prometheus)");
        return;
    }
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "promtool: {report}");
}

async fn create_integration(admin: &Client, body: Value) -> Value {
    let (status, created) = admin.post("integrations.create", body).await;
    assert_eq!(status, 200, "{created}");
    created["integration"].clone()
}

fn hook_url(base: &str, hook: &Value) -> String {
    format!("{base}/hooks/{}/{}", hook["_id"].as_str().unwrap(), hook["token"].as_str().unwrap())
}

#[tokio::test]
async fn metrics_count_requests_hooks_messages_and_commits() {
    let (server, port) = start(&[]);
    let admin = server.admin().await;
    let hook = create_integration(
        &admin,
        json!({"type": "webhook-incoming", "name": "m", "enabled": true, "username": "rocket.cat",
               "channel": "#general", "scriptEnabled": false}),
    )
    .await;
    let before = scrape(&port).await;
    for n in 0..3 {
        let (status, _) = admin.post("chat.postMessage", json!({"roomId": "GENERAL", "text": format!("m{n}")})).await;
        assert_eq!(status, 200);
    }
    let http = reqwest::Client::new();
    assert_eq!(
        http.post(hook_url(&admin.base, &hook)).json(&json!({"text": "from hook"})).send().await.unwrap().status(),
        200
    );
    let wrong = format!("{}/hooks/{}/wrong-token", admin.base, hook["_id"].as_str().unwrap());
    assert_eq!(http.post(&wrong).json(&json!({"text": "x"})).send().await.unwrap().status(), 404);
    let stray = format!("{}/no/such/path-7f3a", admin.base);
    assert_eq!(http.get(&stray).send().await.unwrap().status(), 404);
    let after = scrape(&port).await;
    let delta = |name: &str| sample(&after, name) - sample(&before, name);

    assert_eq!(delta("liftoff_messages_posted_total"), 4.0, "{after}");
    assert_eq!(delta(r#"liftoff_hooks_total{outcome="posted"}"#), 1.0, "{after}");
    assert_eq!(delta(r#"liftoff_hooks_total{outcome="rejected"}"#), 1.0, "{after}");
    let posted = r#"liftoff_http_requests_total{method="POST",route="/api/v1/chat.postMessage",status="200"}"#;
    assert_eq!(delta(posted), 3.0, "{after}");
    assert!(after.contains(r#"route="/hooks/{*rest}""#), "{after}");
    assert!(!after.contains(hook["token"].as_str().unwrap()), "hook tokens never appear in labels");
    // Requests no route matched count under one fixed label, never their path.
    assert_eq!(delta(r#"liftoff_http_requests_total{method="GET",route="unmatched",status="404"}"#), 1.0, "{after}");
    assert!(!after.contains("path-7f3a"), "{after}");

    // Every stored message went through a committed transaction.
    let commits = delta("liftoff_store_commit_duration_seconds_count");
    assert!(commits >= 1.0, "{after}");
    assert_eq!(delta("liftoff_store_commit_batch_rows_count"), commits, "{after}");
    assert!(delta("liftoff_store_commit_batch_rows_sum") >= 4.0, "{after}");

    for name in ["process_resident_memory_bytes", "process_open_fds", "process_max_fds", "process_start_time_seconds"] {
        assert!(sample(&after, name) > 0.0, "{name}: {after}");
    }
    // Whole seconds: a server this young may not have used one yet.
    assert!(after.lines().any(|l| l.starts_with("process_cpu_seconds_total ")), "{after}");
}

/// An outgoing integration on #general for messages starting with `word`, calling `url`.
async fn outgoing(admin: &Client, word: &str, url: String, extra: Value) -> Value {
    let mut body = json!({
        "type": "webhook-outgoing", "name": word, "enabled": true, "username": "rocket.cat",
        "event": "sendMessage", "channel": "#general", "urls": [url], "triggerWords": [word],
        "scriptEnabled": false, "token": "tok",
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    create_integration(admin, body).await
}

async fn post(admin: &Client, text: &str) {
    let (status, body) = admin.post("chat.postMessage", json!({"roomId": "GENERAL", "text": text})).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn metrics_follow_outgoing_deliveries_and_the_outbox() {
    let rx = Receiver::start().await;
    rx.reply("/flaky", vec![Reply::empty(500), Reply::empty(200)]);
    rx.reply("/down", vec![Reply::empty(500)]);
    rx.reply("/slow", vec![Reply::empty(200).after(Duration::from_millis(1500))]);
    let (server, port) = start(&[
        ("OVERWRITE_SETTING_Integrations_Outgoing_Allow_Private_Addresses", "true"),
        // The first retry of `powers-of-two` then waits 4 s: long enough to watch the outbox.
        ("OVERWRITE_SETTING_Integrations_Outgoing_Retry_Delay_Percent", "200"),
    ]);
    let admin = server.admin().await;
    let prepare = "class Script { prepare_outgoing_request({ request }) { return request; } }";
    outgoing(&admin, "ok", rx.url("/ok"), json!({"scriptEnabled": true, "script": prepare})).await;
    let retrying = json!({"retryFailedCalls": true, "retryCount": 3, "retryDelay": "powers-of-two"});
    outgoing(&admin, "flaky", rx.url("/flaky"), retrying).await;
    outgoing(&admin, "down", rx.url("/down"), json!({})).await;
    outgoing(&admin, "slow", rx.url("/slow"), json!({})).await;
    let before = scrape(&port).await;
    let delta = |after: &str, name: &str| sample(after, name) - sample(&before, name);
    let deliveries = |outcome: &str| format!(r#"liftoff_outgoing_deliveries_total{{outcome="{outcome}"}}"#);

    for n in 0..3 {
        post(&admin, &format!("ok {n}")).await;
    }
    post(&admin, "flaky").await;
    post(&admin, "down").await;
    rx.wait("/ok", 3, WAIT).await;
    rx.wait("/down", 1, WAIT).await;
    rx.wait("/flaky", 1, WAIT).await;
    // The flaky delivery failed once and waits for its retry in the outbox.
    let waiting = scrape_until(&port, "first flaky attempt ended", |s| delta(s, &deliveries("retry")) == 1.0).await;
    assert!(rx.hits("/flaky").len() == 1, "the retry came too early to watch the outbox");
    assert!(sample(&waiting, "liftoff_outgoing_pending") >= 1.0, "{waiting}");

    rx.wait("/flaky", 2, WAIT).await;
    let after = scrape_until(&port, "all delivered", |s| {
        delta(s, &deliveries("success")) == 4.0 && sample(s, "liftoff_outgoing_pending") == 0.0
    })
    .await;
    assert_eq!(delta(&after, &deliveries("retry")), 1.0, "{after}");
    assert_eq!(delta(&after, &deliveries("failed")), 1.0, "{after}");
    assert_eq!(delta(&after, "liftoff_outgoing_attempt_duration_seconds_count"), 6.0, "{after}");
    assert_eq!(sample(&after, "liftoff_outgoing_oldest_pending_seconds"), 0.0, "{after}");
    let prepared = r#"liftoff_script_runs_total{kind="outgoing_prepare",outcome="ok"}"#;
    assert_eq!(delta(&after, prepared), 3.0, "{after}");
    // Attempts are recorded with their history in the store's transactions.
    assert!(delta(&after, "liftoff_store_commit_duration_seconds_count") >= 1.0, "{after}");

    // A call in flight keeps its delivery due: the gauges show how long it has been waiting.
    post(&admin, "slow").await;
    rx.wait("/slow", 1, WAIT).await;
    let slow = scrape_until(&port, "the slow delivery overdue", |s| {
        sample(s, "liftoff_outgoing_oldest_pending_seconds") >= 0.5
    })
    .await;
    assert!(sample(&slow, "liftoff_outgoing_pending") >= 1.0, "{slow}");
    let done = scrape_until(&port, "the slow delivery done", |s| delta(s, &deliveries("success")) == 5.0).await;
    let done = if sample(&done, "liftoff_outgoing_pending") == 0.0 {
        done
    } else {
        scrape_until(&port, "the outbox empty", |s| sample(s, "liftoff_outgoing_pending") == 0.0).await
    };
    assert_eq!(sample(&done, "liftoff_outgoing_oldest_pending_seconds"), 0.0, "{done}");
}

#[tokio::test]
async fn metrics_count_script_runs_by_outcome() {
    let (server, port) = start(&[("OVERWRITE_SETTING_Integrations_Script_Timeout", "300")]);
    let admin = server.admin().await;
    let script_hook = |script: &'static str| {
        let admin = &admin;
        async move {
            let hook = create_integration(
                admin,
                json!({"type": "webhook-incoming", "name": "s", "enabled": true, "username": "rocket.cat",
                       "channel": "#general", "scriptEnabled": true, "script": script}),
            )
            .await;
            hook_url(&admin.base, &hook)
        }
    };
    let ok =
        script_hook("class Script { process_incoming_request({ request }) { return { content: { text: 'hi' } }; } }")
            .await;
    let throws = script_hook("class Script { process_incoming_request() { throw new Error('boom'); } }").await;
    let spins = script_hook("class Script { process_incoming_request() { for (;;) {} } }").await;
    let before = scrape(&port).await;
    let http = reqwest::Client::new();
    let call = |url: String| {
        let http = http.clone();
        async move { http.post(url).json(&json!({"text": "x"})).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(call(ok.clone()).await, 200);
    assert_eq!(call(ok).await, 200);
    assert_eq!(call(throws).await, 400);
    assert_eq!(call(spins).await, 400);
    let after = scrape(&port).await;
    let runs = |outcome: &str| {
        let name = format!(r#"liftoff_script_runs_total{{kind="incoming",outcome="{outcome}"}}"#);
        sample(&after, &name) - sample(&before, &name)
    };
    assert_eq!((runs("ok"), runs("error"), runs("timeout")), (2.0, 1.0, 1.0), "{after}");
}
