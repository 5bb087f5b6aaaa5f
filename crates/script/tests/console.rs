//! Console output goes to `tracing` (target `script::console`) with the
//! integration id, never to stdout.

use std::sync::{Arc, Mutex, OnceLock};

use script::{CallOutcome, Limits, Sandbox, ScriptHost, ScriptKey};
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

#[derive(Debug, Clone, Default, PartialEq)]
struct Line {
    level: String,
    integration_id: String,
    console: String,
    message: String,
}

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "integration_id" => self.integration_id = value.to_owned(),
            "console" => self.console = value.to_owned(),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        }
    }
}

struct Capture(Arc<Mutex<Vec<Line>>>);

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() != "script::console" {
            return;
        }
        let mut line = Line { level: event.metadata().level().to_string(), ..Line::default() };
        event.record(&mut line);
        self.0.lock().unwrap().push(line);
    }
}

fn captured() -> Arc<Mutex<Vec<Line>>> {
    static LINES: OnceLock<Arc<Mutex<Vec<Line>>>> = OnceLock::new();
    LINES
        .get_or_init(|| {
            let lines = Arc::new(Mutex::new(Vec::new()));
            let subscriber = tracing_subscriber::registry().with(Capture(lines.clone()));
            tracing::subscriber::set_global_default(subscriber).unwrap();
            lines
        })
        .clone()
}

fn lines_of(id: &str) -> Vec<Line> {
    captured().lock().unwrap().iter().filter(|l| l.integration_id == id).cloned().collect()
}

#[test]
fn console_methods_are_captured_with_the_integration_id() {
    captured();
    let mut sb = Sandbox::new(
        "console-sync",
        r#"class Script { process_incoming_request({ request }) {
            console.log('log', 1, { a: [1, 2] }, null, undefined);
            console.info('info');
            console.warn('warn');
            console.error(new TypeError('bad'));
            console.debug('debug');
            return typeof print;
        } }"#,
        &Limits::default(),
    )
    .unwrap();
    let out = sb.call("process_incoming_request", &json!({ "request": {} })).unwrap();
    // QuickJS's own `print` (stdout) is not part of the sandbox.
    assert_eq!(out, CallOutcome::Value(json!("undefined")));
    let lines = lines_of("console-sync");
    let summary: Vec<(&str, &str)> = lines.iter().map(|l| (l.level.as_str(), l.console.as_str())).collect();
    assert_eq!(summary, [("INFO", "log"), ("INFO", "info"), ("WARN", "warn"), ("ERROR", "error"), ("DEBUG", "debug")]);
    assert_eq!(lines[0].message, r#"log 1 {"a":[1,2]} null undefined"#);
    assert!(lines[3].message.starts_with("TypeError: bad"), "{:?}", lines[3]);
}

#[test]
fn long_messages_are_truncated() {
    captured();
    let mut sb = Sandbox::new(
        "console-long",
        "class Script { process_incoming_request() { console.log('é'.repeat(100000)); } }",
        &Limits::default(),
    )
    .unwrap();
    sb.call("process_incoming_request", &json!({})).unwrap();
    let lines = lines_of("console-long");
    assert_eq!(lines.len(), 1);
    assert!(lines[0].message.len() <= 16 * 1024);
}

#[tokio::test]
async fn console_from_host_workers_is_captured() {
    captured();
    let host = ScriptHost::new(Limits::default());
    let src: Arc<str> = "console.log('loading'); class Script { process_incoming_request({ request }) { console.warn('got', request.n); } }".into();
    let out = host
        .call(ScriptKey::new("console-host", "1"), src, "process_incoming_request", json!({ "request": { "n": 5 } }))
        .await
        .unwrap();
    assert_eq!(out, CallOutcome::Undefined);
    let lines = lines_of("console-host");
    let msgs: Vec<&str> = lines.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(msgs, ["loading", "got 5"]);
}
