//! `fetch` in the sandbox and awaiting promise results through the host, with a fake fetcher.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use script::{
    CallError, CallOutcome, FetchFuture, FetchRequest, FetchResponse, Fetcher, Limits, ScriptHost, ScriptKey,
};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

/// Answers `{"path": <url>, "n": <call number>}`; fails URLs containing "refuse"; waits for a
/// gate permit on URLs containing "gated"; never answers URLs containing "hang".
struct Fake {
    seen: Mutex<Vec<FetchRequest>>,
    calls: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    gate: Arc<Semaphore>,
}

impl Default for Fake {
    fn default() -> Self {
        Fake {
            seen: Mutex::default(),
            calls: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            gate: Arc::new(Semaphore::new(0)),
        }
    }
}

struct Shared(Arc<Fake>);

impl Fetcher for Shared {
    fn fetch(&self, request: FetchRequest) -> FetchFuture {
        let fake = self.0.clone();
        Box::pin(async move {
            fake.seen.lock().unwrap().push(request.clone());
            let n = fake.calls.fetch_add(1, Ordering::SeqCst) + 1;
            let now = fake.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            fake.max_in_flight.fetch_max(now, Ordering::SeqCst);
            struct Leave<'a>(&'a AtomicUsize);
            impl Drop for Leave<'_> {
                fn drop(&mut self) {
                    self.0.fetch_sub(1, Ordering::SeqCst);
                }
            }
            let _leave = Leave(&fake.in_flight);
            if request.url.contains("hang") {
                std::future::pending::<()>().await;
            }
            if request.url.contains("gated") {
                fake.gate.acquire().await.unwrap().forget();
            }
            if request.url.contains("refuse") {
                return Err("127.0.0.1 is not an address scripts may reach".to_owned());
            }
            Ok(FetchResponse {
                status: 201,
                status_text: "Created".into(),
                url: request.url.clone(),
                redirected: false,
                headers: vec![("Content-Type".into(), "application/json".into()), ("X-A".into(), "1".into())],
                body: json!({"path": request.url, "n": n}).to_string(),
            })
        })
    }
}

fn host_with(limits: Limits) -> (ScriptHost, Arc<Fake>) {
    let host = ScriptHost::new(limits);
    let fake = Arc::new(Fake::default());
    assert!(host.set_fetcher(Arc::new(Shared(fake.clone()))));
    (host, fake)
}

fn limits() -> Limits {
    Limits { timeout: Duration::from_millis(2000), workers: 1, ..Limits::default() }
}

async fn run(host: &ScriptHost, id: &str, src: &str, arg: Value) -> Result<CallOutcome, CallError> {
    host.call(ScriptKey::new(id, "1"), Arc::from(src), "process_incoming_request", json!({ "request": arg })).await
}

fn value(r: Result<CallOutcome, CallError>) -> Value {
    match r {
        Ok(CallOutcome::Value(v)) => v,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn awaited_fetch_resolves_to_a_response() {
    let (host, fake) = host_with(limits());
    let src = r#"class Script { async process_incoming_request({ request }) {
        const r = await fetch('http://api.test/x', { method: 'post', headers: { 'X-Token': 't' },
                                                     body: { k: 1 }, params: { q: 'a b' } });
        const j = await r.json();
        let again;
        try { await r.text(); } catch (e) { again = e.name; }
        let cloned;
        try { r.clone(); } catch (e) { cloned = e.message; }
        return { status: r.status, statusText: r.statusText, ok: r.ok, url: r.url, ct: r.headers.get('content-type'),
                 has: r.headers.has('X-A'), missing: r.headers.get('nope'), body: j, again, cloned };
    } }"#;
    let v = value(run(&host, "a", src, json!({})).await);
    assert_eq!(v["status"], 201);
    assert_eq!(v["statusText"], "Created");
    assert_eq!(v["ok"], true);
    assert_eq!(v["url"], "http://api.test/x?q=a%20b");
    assert_eq!(v["ct"], "application/json");
    assert_eq!(v["has"], true);
    assert_eq!(v["missing"], Value::Null);
    assert_eq!(v["body"]["path"], "http://api.test/x?q=a%20b");
    assert_eq!(v["again"], "TypeError");
    assert!(v["cloned"].as_str().unwrap().contains("clone"), "{v}");
    let seen = fake.seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.integration_id, "a");
    assert_eq!(r.method, "POST");
    assert_eq!(r.body.as_deref(), Some(r#"{"k":1}"#));
    assert!(r.headers.contains(&("X-Token".into(), "t".into())));
    assert!(r.headers.contains(&("Content-Type".into(), "application/json".into())));
    assert!(!r.allow_self_signed);
    assert_eq!(r.max_bytes, 1024 * 1024);
    assert!(r.timeout <= Duration::from_millis(2000) && r.timeout > Duration::ZERO);
}

#[tokio::test]
async fn returned_promise_chains_and_self_signed_flag() {
    let (host, fake) = host_with(limits());
    let src = r#"class Script { process_incoming_request() {
        return fetch('https://self.test/', {}, true).then((r) => r.text()).then((t) => ({ text: t }));
    } }"#;
    let v = value(run(&host, "b", src, json!({})).await);
    assert!(v["text"].as_str().unwrap().contains("self.test"), "{v}");
    assert!(fake.seen.lock().unwrap()[0].allow_self_signed);
}

#[tokio::test]
async fn refusals_reject_and_can_be_caught() {
    let (host, _fake) = host_with(limits());
    let src = r#"class Script { async process_incoming_request() {
        try { await fetch('http://refuse.test/'); return 'fetched'; }
        catch (e) { return e.name + ': ' + e.message; }
    } }"#;
    let v = value(run(&host, "c", src, json!({})).await);
    assert_eq!(v, "TypeError: fetch failed: 127.0.0.1 is not an address scripts may reach");
    // Uncaught, the rejection fails the call.
    let src = "class Script { async process_incoming_request() { await fetch('http://refuse.test/'); } }";
    match run(&host, "c2", src, json!({})).await {
        Err(CallError::Runtime { name, message, .. }) => {
            assert_eq!(name, "TypeError");
            assert!(message.starts_with("fetch failed"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn fetch_count_is_capped_per_run() {
    let (host, fake) = host_with(Limits { max_fetches: 2, ..limits() });
    let src = r#"class Script { async process_incoming_request() {
        const out = [];
        for (let i = 0; i < 3; i++) {
            try { await fetch('http://api.test/' + i); out.push('ok'); } catch (e) { out.push(e.message); }
        }
        return out;
    } }"#;
    for _ in 0..2 {
        let v = value(run(&host, "d", src, json!({})).await);
        assert_eq!(v[0], "ok");
        assert_eq!(v[1], "ok");
        assert!(v[2].as_str().unwrap().contains("at most 2 fetches"), "{v}");
    }
    // The cap is per run: the second run could fetch again.
    assert_eq!(fake.seen.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn deadline_covers_fetches_and_keeps_the_context() {
    let (host, fake) = host_with(Limits { timeout: Duration::from_millis(300), ..limits() });
    let src = r#"class Script { async process_incoming_request({ request }) {
        const n = (Store.get('n') || 0) + 1;
        Store.set('n', n);
        if (request.hang) await fetch('http://hang.test/');
        return n;
    } }"#;
    assert_eq!(run(&host, "e", src, json!({"hang": true})).await, Err(CallError::Timeout));
    // The request was dropped, and no JavaScript was interrupted: the Store survives.
    assert_eq!(fake.in_flight.load(Ordering::SeqCst), 0);
    assert_eq!(value(run(&host, "e", src, json!({})).await), json!(2));
}

#[tokio::test]
async fn a_waiting_call_does_not_hold_up_others() {
    // One worker thread: everything below shares it.
    let (host, fake) = host_with(limits());
    let src = r#"class Script { async process_incoming_request({ request }) {
        if (request.gated) { const r = await fetch('http://gated.test/'); return (await r.json()).path; }
        return 'quick';
    } }"#;
    let slow = tokio::spawn({
        let host = host.clone();
        async move { run(&host, "f", src, json!({"gated": true})).await }
    });
    while fake.calls.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    // Same integration and another one both answer while the first call waits.
    assert_eq!(value(run(&host, "f", src, json!({})).await), json!("quick"));
    assert_eq!(value(run(&host, "g", src, json!({})).await), json!("quick"));
    assert!(!slow.is_finished());
    fake.gate.add_permits(1);
    assert_eq!(value(slow.await.unwrap()), json!("http://gated.test/"));
}

#[tokio::test]
async fn concurrent_fetches_per_integration_are_capped() {
    let (host, fake) = host_with(Limits { max_concurrent_fetches: 2, ..limits() });
    let src = r#"class Script { async process_incoming_request() {
        const all = await Promise.all([1, 2, 3, 4, 5].map((i) => fetch('http://gated.test/' + i)));
        return all.map((r) => r.status);
    } }"#;
    let call = tokio::spawn({
        let host = host.clone();
        async move { run(&host, "h", src, json!({})).await }
    });
    while fake.calls.load(Ordering::SeqCst) < 2 {
        tokio::task::yield_now().await;
    }
    for _ in 0..5 {
        fake.gate.add_permits(1);
    }
    assert_eq!(value(call.await.unwrap()), json!([201, 201, 201, 201, 201]));
    assert_eq!(fake.calls.load(Ordering::SeqCst), 5);
    assert_eq!(fake.max_in_flight.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn without_a_fetcher_fetch_rejects() {
    let host = ScriptHost::new(limits());
    let src = r#"class Script { async process_incoming_request() {
        try { await fetch('http://api.test/'); return 'fetched'; } catch (e) { return e.message; }
    } }"#;
    let v = value(run(&host, "i", src, json!({})).await);
    assert!(v.as_str().unwrap().contains("not available"), "{v}");
}

#[test]
fn a_plain_sandbox_reports_a_fetch_that_cannot_settle() {
    let mut sb = script::Sandbox::new(
        "j",
        "class Script { async process_incoming_request() { await fetch('http://api.test/'); return 1; } }",
        &limits(),
    )
    .unwrap();
    match sb.call("process_incoming_request", &json!({})) {
        Err(CallError::Runtime { message, .. }) => {
            assert!(message.contains("never settled"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    // Top-level code cannot fetch: it runs outside any call.
    let err = script::compile("fetch('http://api.test/'); class Script {}", &limits());
    assert!(err.is_ok(), "{err:?}");
}
