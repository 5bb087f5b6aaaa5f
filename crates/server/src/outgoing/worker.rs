//! The dispatcher and one attempt of a delivery (spec §7.4–7.7).
//!
//! Deliveries are grouped in lanes by URL. Each lane lets at most
//! `Integrations_Outgoing_Max_Concurrency_Per_Url` calls run at once (a semaphore) and keeps
//! up to as many again claimed and waiting, so the next call starts without waiting for a
//! claim to commit; [`MAX_IN_FLIGHT`] bounds claimed deliveries over all lanes. A slow or dead
//! receiver therefore only ever holds its own lane. The dispatcher sleeps until a lane is due
//! or it is woken by a new delivery or a finished call.

use super::history::History;
use super::index::Hook;
use super::{USER_AGENT, retry, signing};
use crate::domain::truthy;
use crate::domain::messages::{Defaults, process_webhook_message, resolve_destination};
use crate::domain::str_of;
use crate::scripts::has_runnable_script;
use crate::state::AppState;
use script::{CallError, CallOutcome, ScriptKey};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::ids::now_ms;
use store::{AttemptRecord, Delivery, Doc};
use tokio::sync::Notify;

/// Attempts running at once over all URLs.
pub const MAX_IN_FLIGHT: usize = 1024;
/// Largest response body read (Rocket.Chat's limit).
const MAX_RESPONSE_BYTES: usize = 10 * 1024 * 1024;
/// Longest idle sleep of the dispatcher (a safety net; it is normally woken).
const IDLE: Duration = Duration::from_secs(1);
/// How often (ms) a node sharing its database looks for deliveries it was not told about.
const SHARED_POLL_MS: i64 = 250;

struct Lane {
    /// Claimed deliveries of this URL not finished yet (running or waiting for a permit).
    in_flight: usize,
    /// Earliest known due time of an unclaimed delivery; `None`: none known.
    next_due: Option<i64>,
    /// Calls running at once.
    calls: Arc<tokio::sync::Semaphore>,
}

impl Lane {
    fn new(per_url: usize) -> Self {
        Lane { in_flight: 0, next_due: None, calls: Arc::new(tokio::sync::Semaphore::new(per_url)) }
    }
}

struct Lanes {
    by_url: HashMap<String, Lane>,
    in_flight: usize,
    per_url: usize,
}

impl Default for Lanes {
    fn default() -> Self {
        Lanes { by_url: HashMap::new(), in_flight: 0, per_url: 16 }
    }
}

impl Lanes {
    fn lane(&mut self, url: &str) -> &mut Lane {
        let per_url = self.per_url;
        self.by_url.entry(url.to_owned()).or_insert_with(|| Lane::new(per_url))
    }
}

#[derive(Default)]
pub struct Dispatcher {
    lanes: Mutex<Lanes>,
    wake: Notify,
}

fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Dispatcher {
    /// A delivery of `url` is due at `at`.
    pub fn due(&self, url: &str, at: i64) {
        {
            let mut lanes = self.lanes.lock().expect("lanes lock");
            let lane = lanes.lane(url);
            lane.next_due = earliest(lane.next_due, Some(at));
        }
        self.wake.notify_one();
    }

    fn finished(&self, url: &str) {
        {
            let mut lanes = self.lanes.lock().expect("lanes lock");
            lanes.in_flight = lanes.in_flight.saturating_sub(1);
            if let Some(lane) = lanes.by_url.get_mut(url) {
                lane.in_flight = lane.in_flight.saturating_sub(1);
                if lane.in_flight == 0 && lane.next_due.is_none() {
                    lanes.by_url.remove(url);
                }
            }
        }
        self.wake.notify_one();
    }

    /// Lanes to claim for now, with how many each may take; or when to look again.
    fn pick(&self, now: i64, per_url: usize) -> Result<Vec<(String, usize)>, Option<i64>> {
        let mut lanes = self.lanes.lock().expect("lanes lock");
        lanes.per_url = per_url;
        let mut free = MAX_IN_FLIGHT.saturating_sub(lanes.in_flight);
        let mut picks = Vec::new();
        let mut next: Option<i64> = None;
        for (url, lane) in lanes.by_url.iter_mut() {
            let room = (2 * per_url).saturating_sub(lane.in_flight).min(free);
            match lane.next_due {
                Some(due) if due <= now && room > 0 => {
                    lane.next_due = None;
                    free -= room;
                    picks.push((url.clone(), room));
                }
                Some(due) if room > 0 => next = earliest(next, Some(due)),
                _ => {}
            }
        }
        if picks.is_empty() { Err(next) } else { Ok(picks) }
    }
}

/// The dispatcher loop; runs for the life of the process.
pub async fn run(state: AppState) {
    let store = state.store.clone();
    let dispatcher = &state.outgoing.dispatcher;
    // Claims of a previous process are void: its attempts died with it.
    match store.release_claimed_deliveries().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(released = n, "released deliveries claimed before the restart"),
        Err(e) => tracing::error!(error = %e, "releasing claimed deliveries failed"),
    }
    match store.pending_delivery_urls().await {
        Ok(urls) => {
            for (url, due) in urls {
                dispatcher.due(&url, due);
            }
        }
        Err(e) => tracing::error!(error = %e, "reading pending deliveries failed"),
    }
    let mut last_poll = now_ms();
    loop {
        let per_url = state.settings.int("Integrations_Outgoing_Max_Concurrency_Per_Url").max(1) as usize;
        let now = now_ms();
        if store.shared() && now - last_poll >= SHARED_POLL_MS {
            // Other nodes enqueue deliveries too, and claims of a node that died come free
            // when their lease runs out: look at the shared outbox now and then.
            last_poll = now;
            if let Ok(urls) = store.pending_delivery_urls().await {
                for (url, due) in urls {
                    dispatcher.due(&url, due);
                }
            }
        }
        let picks = match dispatcher.pick(now, per_url) {
            Ok(picks) => picks,
            Err(next) => {
                let idle = if store.shared() { Duration::from_millis(SHARED_POLL_MS as u64) } else { IDLE };
                let wait = next.map(|t| Duration::from_millis((t - now).max(1) as u64).min(idle)).unwrap_or(idle);
                tokio::select! {
                    _ = dispatcher.wake.notified() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
                continue;
            }
        };
        let claimed = match store.claim_due_deliveries(picks.clone(), now).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "claiming deliveries failed");
                for (url, _) in &picks {
                    dispatcher.due(url, now + 1000);
                }
                tokio::time::sleep(IDLE).await;
                continue;
            }
        };
        let mut lanes = dispatcher.lanes.lock().expect("lanes lock");
        for c in claimed {
            let n = c.deliveries.len();
            lanes.in_flight += n;
            let lane = lanes.lane(&c.url);
            lane.in_flight += n;
            lane.next_due = earliest(lane.next_due, c.next_due);
            for d in c.deliveries {
                tokio::spawn(run_delivery(state.clone(), lane.calls.clone(), d));
            }
        }
    }
}

enum Finish {
    Done(Option<Doc>),
    Retry { due_at: i64, attempt: u32, history: Option<Doc> },
}

async fn run_delivery(state: AppState, calls: Arc<tokio::sync::Semaphore>, d: Delivery) {
    let (id, url) = (d.id.clone(), d.url.clone());
    // The permit is held for the call only: the lane may start its next call while this
    // attempt is recorded (the row stays claimed until then, so nothing else picks it up).
    let finish = {
        let _permit = calls.acquire_owned().await;
        attempt(&state, d).await
    };
    let (reschedule, history) = match finish {
        Finish::Done(h) => (None, h),
        Finish::Retry { due_at, attempt, history } => (Some((due_at, attempt)), history),
    };
    let recorded = state.outgoing.recorder.record(&state, AttemptRecord { id, reschedule, history }).await;
    if recorded && let Some((due_at, _)) = reschedule {
        state.outgoing.dispatcher.due(&url, due_at);
    }
    state.outgoing.dispatcher.finished(&url);
}

type Ack = tokio::sync::oneshot::Sender<bool>;

/// Writes the ends of attempts in batches: one store write for all that finished meanwhile.
#[derive(Default)]
pub struct Recorder {
    queue: std::sync::OnceLock<tokio::sync::mpsc::Sender<(AttemptRecord, Ack)>>,
}

/// Attempts recorded in one write at most.
const RECORD_BATCH: usize = 512;

impl Recorder {
    /// Records one attempt; `false` when it could not be (the row then stays claimed until the
    /// next start releases it, and the call is made again).
    async fn record(&self, state: &AppState, record: AttemptRecord) -> bool {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = tokio::sync::mpsc::channel(4 * RECORD_BATCH);
            tokio::spawn(record_loop(state.clone(), rx));
            tx
        });
        let (ack, done) = tokio::sync::oneshot::channel();
        if queue.send((record, ack)).await.is_err() {
            return false;
        }
        done.await.unwrap_or(false)
    }
}

async fn record_loop(state: AppState, mut rx: tokio::sync::mpsc::Receiver<(AttemptRecord, Ack)>) {
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while rx.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        let (records, acks): (Vec<AttemptRecord>, Vec<Ack>) = batch.drain(..).unzip();
        let mut tries = 0;
        let ok = loop {
            match state.store().record_attempts(records.clone()).await {
                Ok(()) => break true,
                Err(store::StoreError::Closed) => break false,
                Err(e) if tries < 5 => {
                    tries += 1;
                    tracing::warn!(error = %e, "recording delivery attempts failed; trying again");
                    tokio::time::sleep(Duration::from_millis(200 * tries)).await;
                }
                Err(e) => {
                    tracing::error!(error = %e, "recording delivery attempts failed");
                    break false;
                }
            }
        };
        for ack in acks {
            let _ = ack.send(ok);
        }
    }
}

/// Runs a script method; `Err` carries the history step and error of a failed run.
async fn run_script(state: &AppState, hook: &Hook, method: &'static str, arg: Value) -> Result<CallOutcome, (String, Value)> {
    let version = match hook.doc.get("_updatedAt") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let source: Arc<str> = Arc::from(str_of(&hook.doc, "scriptCompiled"));
    match state.scripts.call(ScriptKey::new(hook.id.clone(), version), source, method, arg).await {
        Ok(outcome) => Ok(outcome),
        // A script that cannot be loaded (or scripts turned off) is as if there were none.
        Err(CallError::Evaluation(e)) => {
            tracing::warn!(integration_id = %hook.id, error = %e, "outgoing script could not be evaluated");
            Ok(CallOutcome::NoMethod)
        }
        Err(CallError::Disabled) => Ok(CallOutcome::NoMethod),
        Err(CallError::Runtime { name, message, stack }) => {
            Err((format!("execute-script-error-running-{method}"), error_stack(&name, &message, &stack)))
        }
        Err(e) => Err((format!("execute-script-error-running-{method}"), error_stack("Error", &e.to_string(), ""))),
    }
}

/// `errorStack` as Rocket.Chat's script engine records it: the JavaScript `err.stack` text
/// (`"<name>: <message>"` then the frames), each line indented by two spaces.
fn error_stack(name: &str, message: &str, stack: &str) -> Value {
    let mut text = format!("{name}: {message}");
    for line in stack.lines().filter(|l| !l.trim().is_empty()) {
        text.push('\n');
        text.push_str(line);
    }
    let indented: Vec<String> = text.lines().map(|l| format!("  {l}")).collect();
    Value::String(indented.join("\n"))
}

/// Posts an answer (§7.7) as the integration (or the impersonated author). Returns the
/// `[{channel, message}]` posted, or the error code.
async fn post_answer(state: &AppState, hook: &Hook, data: &Map<String, Value>, rid: Option<&str>, answer: &Map<String, Value>) -> Result<Value, String> {
    let store = state.store();
    let mut author = None;
    if hook.doc.get("impersonateUser").and_then(Value::as_bool) == Some(true)
        && let Some(name) = data.get("user_name").and_then(Value::as_str)
    {
        author = store.user_by_username(name).await.map_err(|e| e.to_string())?;
    }
    if author.is_none() {
        author = store.user_by_username(str_of(&hook.doc, "username")).await.map_err(|e| e.to_string())?;
    }
    let Some(author) = author else { return Ok(json!([])) };
    let explicit = answer
        .get("channel")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .or_else(|| hook.doc.get("targetRoom").and_then(Value::as_str).filter(|s| !s.is_empty()));
    let mut room = None;
    if let Some(name) = explicit {
        room = resolve_destination(state, name, &author).await.ok();
    }
    if room.is_none()
        && let Some(rid) = rid
    {
        room = store.room_by_id(rid).await.map_err(|e| e.to_string())?;
    }
    let Some(room) = room else { return Ok(json!([])) };
    let channel = format!("#{}", str_of(&room, "_id"));
    let defaults = Defaults {
        alias: hook.doc.get("alias").and_then(Value::as_str).map(str::to_owned),
        avatar: hook.doc.get("avatar").and_then(Value::as_str).map(str::to_owned),
        emoji: hook.doc.get("emoji").and_then(Value::as_str).map(str::to_owned),
        integration_id: Some(hook.id.clone()),
    };
    let results = process_webhook_message(state, answer, &author, &defaults, std::slice::from_ref(&channel), false)
        .await
        .map_err(|e| e.code())?;
    let mut posted = Vec::new();
    for (channel, result) in results {
        match result {
            Ok(message) => posted.push(json!({"channel": channel, "message": message})),
            Err(e) => return Err(e.code()),
        }
    }
    Ok(Value::Array(posted))
}

/// Retry or give up after a failed call (§7.6): `step_if_not_configured` names the record
/// when the integration does not retry.
fn retry_or_give_up(hook: &Hook, d: &Delivery, state: &AppState, mut h: History, step_if_not_configured: &str) -> Finish {
    let Some((count, schedule)) = retry::policy(&hook.doc) else {
        h.fail(step_if_not_configured).set("finished", json!(true));
        return Finish::Done(Some(h.into_doc()));
    };
    if d.attempt >= count {
        h.fail("too-many-retries").set("finished", json!(true));
        return Finish::Done(Some(h.into_doc()));
    }
    match retry::delay_ms(&schedule, d.attempt) {
        Some(ms) => {
            let percent = state.settings.int("Integrations_Outgoing_Retry_Delay_Percent").max(0) as u64;
            let ms = ms.saturating_mul(percent) / 100;
            h.fail(&format!("going-to-retry-{}", d.attempt + 1));
            Finish::Retry { due_at: now_ms() + ms as i64, attempt: d.attempt + 1, history: Some(h.into_doc()) }
        }
        None => {
            h.fail("failed-and-retry-delay-is-invalid")
                .set("errorStack", json!(format!("Invalid retry delay \"{schedule}\"")))
                .set("finished", json!(true));
            Finish::Done(Some(h.into_doc()))
        }
    }
}

struct Response {
    status: u16,
    headers: Map<String, Value>,
    body: String,
    content_type: String,
}

/// Why a call produced no response.
struct CallFailure {
    message: String,
    /// Retrying cannot help (refused by the address guard, bad request).
    permanent: bool,
}

async fn read_body(mut resp: reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = MAX_RESPONSE_BYTES.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_RESPONSE_BYTES {
            break;
        }
    }
    Ok(body)
}

fn error_text(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

async fn call(state: &AppState, d: &Delivery, hook: &Hook, request: &Map<String, Value>, body: Option<Vec<u8>>) -> Result<Response, CallFailure> {
    let permanent = |message: String| CallFailure { message, permanent: true };
    let guard = !state.settings.bool("Integrations_Outgoing_Allow_Private_Addresses");
    let url_text = str_of(request, "url");
    let url = reqwest::Url::parse(url_text).map_err(|e| permanent(format!("Invalid URL {url_text:?}: {e}")))?;
    super::http::check_url(&url, guard).map_err(permanent)?;
    let method = reqwest::Method::from_bytes(str_of(request, "method").to_ascii_uppercase().as_bytes())
        .map_err(|_| permanent(format!("Invalid method {:?}", str_of(request, "method"))))?;
    let clients = state.outgoing.clients();
    let client = if guard { &clients.guarded } else { &clients.open };
    let setting = state.settings.int("Integrations_Outgoing_Timeout").max(1) as u64;
    let timeout = match request.get("timeout").and_then(Value::as_f64) {
        Some(t) if t > 0.0 => (t as u64).min(setting),
        _ => setting,
    };
    let mut req = client.request(method, url).timeout(Duration::from_millis(timeout));
    if let Some(Value::Object(headers)) = request.get("headers") {
        for (k, v) in headers {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            req = req.header(k.as_str(), v);
        }
    }
    req = req.header(signing::ID_HEADER, &d.id);
    let body = body.unwrap_or_default();
    if let Some(secret) = hook.doc.get("signingSecret").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        let ts = now_ms() / 1000;
        req = req
            .header(signing::TIMESTAMP_HEADER, ts.to_string())
            .header(signing::SIGNATURE_HEADER, signing::sign(secret, &d.id, ts, &body));
    }
    if request.get("data").is_some_and(|v| !v.is_null()) {
        req = req.header("content-type", "application/json").body(body);
    }
    let resp = req.send().await.map_err(|e| {
        let message = error_text(&e);
        let refused = message.contains("outgoing webhooks may") || e.is_builder();
        CallFailure { message, permanent: refused }
    })?;
    let status = resp.status().as_u16();
    let mut headers = Map::new();
    for (name, value) in resp.headers() {
        headers.insert(name.as_str().to_owned(), json!(String::from_utf8_lossy(value.as_bytes())));
    }
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let body = read_body(resp).await.map_err(|e| CallFailure { message: error_text(&e), permanent: false })?;
    Ok(Response { status, headers, body: String::from_utf8_lossy(&body).into_owned(), content_type })
}

/// One attempt of a delivery, from the index lookup to the last history step.
async fn attempt(state: &AppState, d: Delivery) -> Finish {
    let ix = match state.outgoing.index.get(state.store()).await {
        Ok(ix) => ix,
        Err(e) => {
            tracing::warn!(error = %e, "loading outgoing integrations failed; delivery postponed");
            return Finish::Retry { due_at: now_ms() + 1000, attempt: d.attempt, history: None };
        }
    };
    // Deleted or disabled since the event: nothing to do.
    let Some(hook) = ix.get(&d.integration_id).cloned().filter(|h| h.enabled) else {
        return Finish::Done(None);
    };
    let event = str_of(&d.doc, "event").to_owned();
    let data = match d.doc.get("data") {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    let rid = d.doc.get("roomId").and_then(Value::as_str).map(str::to_owned);
    let mut h = History::start(&hook.doc, &event, &d);
    h.step("mapped-args-to-data").set("data", Value::Object(data.clone()));
    if let Some(word) = d.doc.get("triggerWord") {
        h.set("triggerWord", word.clone());
    }

    // prepare_outgoing_request
    let mut request = Map::new();
    request.insert("params".into(), json!({}));
    request.insert("method".into(), json!("POST"));
    request.insert("url".into(), json!(d.url));
    request.insert("data".into(), Value::Object(data.clone()));
    request.insert("headers".into(), json!({"User-Agent": USER_AGENT}));
    let scripted = has_runnable_script(&state.script_policy, &hook.doc);
    if scripted {
        let arg = json!({"request": request});
        match run_script(state, &hook, script::methods::PREPARE_OUTGOING_REQUEST, arg).await {
            Ok(CallOutcome::NoMethod) => {}
            Ok(outcome) if outcome.is_falsy() => {
                h.step("after-maybe-ran-prepare").set("ranPrepareScript", json!(true));
                h.finish("after-prepare-no-opts");
                return Finish::Done(Some(h.into_doc()));
            }
            Ok(outcome) => match outcome.into_value() {
                Some(Value::Object(r)) => request = r,
                _ => {
                    h.step("after-maybe-ran-prepare").set("ranPrepareScript", json!(true));
                    h.finish("after-prepare-no-opts");
                    return Finish::Done(Some(h.into_doc()));
                }
            },
            Err((step, error)) => {
                h.step(step).set("errorStack", error).set("error", json!(true));
                h.step("after-maybe-ran-prepare").set("ranPrepareScript", json!(true));
                h.finish("after-prepare-no-opts");
                return Finish::Done(Some(h.into_doc()));
            }
        }
    }
    h.step("after-maybe-ran-prepare").set("ranPrepareScript", json!(true));
    if let Some(Value::Object(message)) = request.get("message").filter(|m| truthy(Some(m))) {
        match post_answer(state, &hook, &data, rid.as_deref(), message).await {
            Ok(sent) => {
                h.step("after-prepare-send-message").set("prepareSentMessage", sent);
            }
            Err(e) => {
                h.fail("after-prepare-send-message-failed").set("errorStack", json!(e)).set("finished", json!(true));
                return Finish::Done(Some(h.into_doc()));
            }
        }
    }
    if !truthy(request.get("url")) || !truthy(request.get("method")) {
        h.finish("after-prepare-no-url_or_method");
        return Finish::Done(Some(h.into_doc()));
    }
    if let Some(auth) = request.get("auth").and_then(Value::as_str).filter(|a| !a.is_empty()) {
        if !auth.contains(':') {
            h.fail("after-maybe-ran-prepare")
                .set("errorStack", json!("auth option should be of the form \"username:password\""))
                .set("finished", json!(true));
            return Finish::Done(Some(h.into_doc()));
        }
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode(auth);
        let headers = request.entry("headers").or_insert_with(|| json!({}));
        if let Value::Object(map) = headers {
            map.insert("Authorization".into(), json!(format!("Basic {basic}")));
        }
    }
    let body = request
        .get("data")
        .filter(|v| !v.is_null())
        .map(|v| serde_json::to_vec(v).expect("JSON values serialise"));
    h.step("pre-http-call")
        .set("url", json!(str_of(&request, "url")))
        .set("httpCallData", request.get("data").cloned().unwrap_or(Value::Null));

    let resp = match call(state, &d, &hook, &request, body).await {
        Ok(resp) => resp,
        Err(failure) => {
            h.step("after-http-call")
                .set("httpError", json!({"message": failure.message}))
                .set("httpResult", Value::Null)
                .set("error", json!(true));
            if failure.permanent {
                h.set("finished", json!(true));
                return Finish::Done(Some(h.into_doc()));
            }
            return retry_or_give_up(&hook, &d, state, h, "after-http-call");
        }
    };
    h.step("after-http-call")
        .set("httpResult", json!(serde_json::to_string(&Value::String(resp.body.clone())).unwrap_or_default()))
        .set("statusCode", json!(resp.status));
    let parsed = if matches!(
        resp.content_type.as_str(),
        "application/json" | "text/javascript" | "application/javascript" | "application/x-javascript"
    ) {
        serde_json::from_str::<Value>(&resp.body).ok()
    } else {
        None
    };

    // process_outgoing_response
    if scripted {
        let arg = json!({"request": request, "response": {
            "error": null, "status_code": resp.status, "content": resp.body, "content_raw": resp.body, "headers": resp.headers,
        }});
        match run_script(state, &hook, script::methods::PROCESS_OUTGOING_RESPONSE, arg).await {
            Ok(CallOutcome::Value(Value::Bool(false))) => {
                h.finish("after-process-false-result");
                return Finish::Done(Some(h.into_doc()));
            }
            Ok(CallOutcome::Value(Value::Object(result))) if truthy(result.get("content")) => {
                let content = match result.get("content") {
                    Some(Value::Object(c)) => c.clone(),
                    _ => Map::new(),
                };
                match post_answer(state, &hook, &data, rid.as_deref(), &content).await {
                    Ok(sent) => {
                        h.finish("after-process-send-message").set("processSentMessage", sent);
                    }
                    Err(e) => {
                        h.fail("after-process-send-message-failed").set("errorStack", json!(e)).set("finished", json!(true));
                    }
                }
                return Finish::Done(Some(h.into_doc()));
            }
            Ok(_) => {}
            // Rocket.Chat records the failure on the run's history record and goes on with the
            // default handling of the response, whose later steps overwrite `step` but keep
            // `error` and `errorStack`.
            Err((step, error)) => {
                h.fail(&step).set("errorStack", error);
            }
        }
    }

    let accepted = matches!(resp.status, 200..=202);
    if resp.body.is_empty() && (200..300).contains(&resp.status) {
        // A 2xx without a body is a delivered call (Rocket.Chat issue #25562 retried these).
        h.set("finished", json!(true));
        return Finish::Done(Some(h.into_doc()));
    }
    if resp.body.is_empty() || !accepted {
        if !resp.body.is_empty() && resp.status == 410 {
            h.fail("after-process-http-status-410").set("finished", json!(true));
            disable(state, &hook.id).await;
            return Finish::Done(Some(h.into_doc()));
        }
        if !resp.body.is_empty() && resp.status == 500 {
            h.fail("after-process-http-status-500").set("finished", json!(true));
            return Finish::Done(Some(h.into_doc()));
        }
        return retry_or_give_up(&hook, &d, state, h, "failed-and-not-configured-to-retry");
    }
    if let Some(Value::Object(answer)) = parsed
        && (answer.contains_key("text") || answer.contains_key("attachments"))
    {
        match post_answer(state, &hook, &data, rid.as_deref(), &answer).await {
            Ok(sent) => {
                h.finish("url-response-sent-message").set("resultMessage", sent);
            }
            Err(e) => {
                h.fail("after-http-call-send-message-failed").set("errorStack", json!(e)).set("finished", json!(true));
            }
        }
        return Finish::Done(Some(h.into_doc()));
    }
    h.set("finished", json!(true));
    Finish::Done(Some(h.into_doc()))
}

/// A 410 answer disables the integration (§7.6).
async fn disable(state: &AppState, id: &str) {
    let store = state.store();
    match store.integration_by_id(id).await {
        Ok(Some(mut doc)) => {
            doc.insert("enabled".into(), json!(false));
            doc.insert("_updatedAt".into(), json!(store::ids::now_iso()));
            if let Err(e) = store.replace_integration(doc).await {
                tracing::error!(error = %e, integration_id = id, "disabling an integration after 410 failed");
            }
            state.integrations.invalidate(id);
        }
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, integration_id = id, "disabling an integration after 410 failed"),
    }
}
