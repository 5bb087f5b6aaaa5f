//! The async host: caching per (integration id, version), limits, pool.

use std::sync::Arc;
use std::time::Duration;

use script::{CallError, CallOutcome, Limits, ScriptError, ScriptHost, ScriptKey};
use serde_json::{Value, json};

const COUNTER: &str = r#"
class Script {
    process_incoming_request({ request }) {
        if (request.spin) while (true) {}
        if (request.bomb) { const a = []; while (true) a.push('x'.repeat(64) + a.length); }
        const n = (Store.get('n') || 0) + 1;
        Store.set('n', n);
        return { content: { text: `${request.content.text} #${n}` } };
    }
}
"#;

fn host(workers: usize) -> ScriptHost {
    ScriptHost::new(Limits { timeout: Duration::from_millis(200), workers, ..Limits::default() })
}

fn key(id: &str, version: &str) -> ScriptKey {
    ScriptKey::new(id, version)
}

fn request(text: &str) -> Value {
    json!({ "request": { "content": { "text": text } } })
}

async fn text(host: &ScriptHost, key: ScriptKey, src: &Arc<str>, arg: Value) -> String {
    match host.call(key, src.clone(), "process_incoming_request", arg).await {
        Ok(CallOutcome::Value(v)) => v["content"]["text"].as_str().unwrap().to_owned(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn store_persists_per_key_and_resets_on_version_change() {
    let host = host(2);
    let src: Arc<str> = COUNTER.into();
    assert_eq!(text(&host, key("a", "v1"), &src, request("hi")).await, "hi #1");
    assert_eq!(text(&host, key("a", "v1"), &src, request("hi")).await, "hi #2");
    // Another integration has its own Store.
    assert_eq!(text(&host, key("b", "v1"), &src, request("yo")).await, "yo #1");
    assert_eq!(text(&host, key("a", "v1"), &src, request("hi")).await, "hi #3");
    // The integration was updated: new context, empty Store.
    assert_eq!(text(&host, key("a", "v2"), &src, request("hi")).await, "hi #1");
    assert_eq!(text(&host, key("a", "v2"), &src, request("hi")).await, "hi #2");
    // Same version but other source text (caller mistake) also rebuilds.
    let changed: Arc<str> = format!("{COUNTER}\n// edited").into();
    assert_eq!(text(&host, key("a", "v2"), &changed, request("hi")).await, "hi #1");
}

#[tokio::test]
async fn forget_drops_the_context() {
    let host = host(1);
    let src: Arc<str> = COUNTER.into();
    assert_eq!(text(&host, key("a", "v1"), &src, request("x")).await, "x #1");
    assert!(host.memory_usage("a").await.is_some());
    host.forget("a");
    assert!(host.memory_usage("a").await.is_none());
    assert_eq!(text(&host, key("a", "v1"), &src, request("x")).await, "x #1");
}

#[tokio::test]
async fn least_recently_used_context_is_evicted() {
    let host = ScriptHost::new(Limits { workers: 1, max_cached_contexts: 2, ..Limits::default() });
    let src: Arc<str> = COUNTER.into();
    assert_eq!(text(&host, key("a", "1"), &src, request("a")).await, "a #1");
    assert_eq!(text(&host, key("b", "1"), &src, request("b")).await, "b #1");
    assert_eq!(text(&host, key("a", "1"), &src, request("a")).await, "a #2");
    // Evicts b (least recently used), keeps a.
    assert_eq!(text(&host, key("c", "1"), &src, request("c")).await, "c #1");
    assert_eq!(text(&host, key("a", "1"), &src, request("a")).await, "a #3");
    assert_eq!(text(&host, key("b", "1"), &src, request("b")).await, "b #1");
}

#[tokio::test]
async fn timeout_then_a_fresh_context() {
    let host = host(1);
    let src: Arc<str> = COUNTER.into();
    assert_eq!(text(&host, key("a", "v"), &src, request("x")).await, "x #1");
    let started = std::time::Instant::now();
    let spin =
        host.call(key("a", "v"), src.clone(), "process_incoming_request", json!({ "request": { "spin": true } })).await;
    assert_eq!(spin, Err(CallError::Timeout));
    assert!(started.elapsed() < Duration::from_secs(2));
    // Rebuilt: works again, Store starts over.
    assert_eq!(text(&host, key("a", "v"), &src, request("x")).await, "x #1");
}

#[tokio::test]
async fn out_of_memory_leaves_the_host_healthy() {
    let host = host(1);
    let src: Arc<str> = COUNTER.into();
    assert_eq!(text(&host, key("b", "v"), &src, request("other")).await, "other #1");
    let bomb =
        host.call(key("a", "v"), src.clone(), "process_incoming_request", json!({ "request": { "bomb": true } })).await;
    assert_eq!(bomb, Err(CallError::OutOfMemory));
    assert_eq!(text(&host, key("a", "v"), &src, request("x")).await, "x #1");
    // The other integration on the same worker kept its state.
    assert_eq!(text(&host, key("b", "v"), &src, request("other")).await, "other #2");
}

#[tokio::test]
async fn load_failures_are_evaluation_errors() {
    let host = host(1);
    let bad: Arc<str> = "class Script { oops(".into();
    let err = host.call(key("a", "v"), bad.clone(), "process_incoming_request", json!({})).await;
    match err {
        Err(CallError::Evaluation(ScriptError { name, .. })) => assert_eq!(name, "SyntaxError"),
        other => panic!("{other:?}"),
    }
    let none: Arc<str> = "const x = 1;".into();
    match host.call(key("b", "v"), none, "process_incoming_request", json!({})).await {
        Err(CallError::Evaluation(e)) => assert_eq!(e.message, ScriptError::NO_SCRIPT_CLASS),
        other => panic!("{other:?}"),
    }
    // Fixed in a new version.
    let src: Arc<str> = COUNTER.into();
    assert_eq!(text(&host, key("a", "v2"), &src, request("ok")).await, "ok #1");
}

#[tokio::test]
async fn compile_through_the_host() {
    let host = host(2);
    assert_eq!(host.compile(COUNTER.into()).await, Ok(()));
    assert_eq!(host.compile("}".into()).await.unwrap_err().name, "SyntaxError");
    let err = host.compile("while (true) {} class Script {}".into()).await.unwrap_err();
    assert!(err.message.contains("timed out"), "{err:?}");
}

#[tokio::test]
async fn no_method_and_undefined_through_the_host() {
    let host = host(1);
    let src: Arc<str> = "class Script { prepare_outgoing_request() {} }".into();
    let call = |m: &'static str| host.call(key("a", "v"), src.clone(), m, json!({ "request": {} }));
    assert_eq!(call("process_incoming_request").await, Ok(CallOutcome::NoMethod));
    assert_eq!(call("prepare_outgoing_request").await, Ok(CallOutcome::Undefined));
    // Owned method names are accepted too.
    let owned = host.call(key("a", "v"), src.clone(), String::from("process_outgoing_response"), json!({})).await;
    assert_eq!(owned, Ok(CallOutcome::NoMethod));
}

#[tokio::test]
async fn disabled_host_runs_nothing() {
    let host = ScriptHost::disabled(Limits::default());
    let src: Arc<str> = COUNTER.into();
    assert_eq!(host.call(key("a", "v"), src, "process_incoming_request", request("x")).await, Err(CallError::Disabled));
    assert_eq!(host.compile(COUNTER.into()).await, Ok(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_calls_across_integrations() {
    let host = host(2);
    let src: Arc<str> = COUNTER.into();
    let integrations = 40;
    let calls_per_task = 25;
    let mut tasks = Vec::new();
    for i in 0..integrations {
        // Two tasks per integration, interleaving on its worker.
        for t in 0..2 {
            let host = host.clone();
            let src = src.clone();
            tasks.push(tokio::spawn(async move {
                let id = format!("integration-{i}");
                let mut seen = Vec::new();
                for c in 0..calls_per_task {
                    let msg = format!("{id}/{t}/{c}");
                    let out = text(&host, key(&id, "v1"), &src, request(&msg)).await;
                    let (prefix, n) = out.rsplit_once(" #").unwrap();
                    assert_eq!(prefix, msg);
                    seen.push(n.parse::<u32>().unwrap());
                }
                (i, seen)
            }));
        }
    }
    let mut per_integration = vec![Vec::new(); integrations];
    for task in tasks {
        let (i, seen) = task.await.unwrap();
        // Calls of one task are sequential: its counters strictly increase.
        assert!(seen.windows(2).all(|w| w[0] < w[1]));
        per_integration[i].extend(seen);
    }
    for mut seen in per_integration {
        seen.sort_unstable();
        // Every call of an integration hit the same cached context.
        assert_eq!(seen, (1..=2 * calls_per_task as u32).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn host_is_send_sync_and_clone() {
    fn assert_traits<T: Send + Sync + Clone + 'static>() {}
    assert_traits::<ScriptHost>();
    let host = host(1);
    let src: Arc<str> = COUNTER.into();
    let h2 = host.clone();
    let handle = tokio::spawn(async move { text(&h2, key("a", "v"), &src, request("z")).await });
    assert_eq!(handle.await.unwrap(), "z #1");
}
