//! One attempt of a delivery: the integration's scripts (`prepare_outgoing_request`,
//! `process_outgoing_response`), the HTTP call, the answer posted back, the retry decision and
//! the history record of every step.

use super::answer::post_answer;
use super::call::call;
use super::history::History;
use super::index::Hook;
use super::retry;
use crate::domain::str_of;
use crate::domain::truthy;
use crate::observability::metrics;
use crate::outbound_http::USER_AGENT;
use crate::scripts::has_runnable_script;
use crate::state::AppState;
use script::{CallError, CallOutcome, ScriptKey};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Instant;
use store::ids::now_ms;
use store::{Delivery, Doc};

pub enum Finish {
    Done(Option<Doc>),
    Retry { due_at: i64, attempt: u32, history: Option<Doc> },
}

/// Terminal steps where the integration's script chose not to call or not to go on.
const CANCELLED_STEPS: [&str; 3] =
    ["after-prepare-no-opts", "after-prepare-no-url_or_method", "after-process-false-result"];

impl Finish {
    /// How the attempt ended, for metrics: `success`, `retry`, `failed` (given up),
    /// `cancelled` (by the script), `dropped` (integration gone or disabled) or `postponed`.
    pub fn outcome(&self) -> &'static str {
        match self {
            Finish::Done(None) => "dropped",
            Finish::Retry { history: None, .. } => "postponed",
            Finish::Retry { .. } => "retry",
            Finish::Done(Some(h)) if h.get("error") == Some(&Value::Bool(true)) => "failed",
            Finish::Done(Some(h)) if CANCELLED_STEPS.contains(&str_of(h, "step")) => "cancelled",
            Finish::Done(Some(_)) => "success",
        }
    }
}

/// Runs a script method; `Err` carries the history step and error of a failed run.
async fn run_script(
    state: &AppState,
    hook: &Hook,
    method: &'static str,
    arg: Value,
) -> Result<CallOutcome, (String, Value)> {
    let version = crate::scripts::version(&hook.doc);
    let source: Arc<str> = Arc::from(str_of(&hook.doc, "scriptCompiled"));
    let result = state.scripts.call(ScriptKey::new(hook.id.clone(), version), source, method, arg).await;
    metrics::script_ran(method, &result);
    match result {
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

/// Retry or give up after a failed call: `step_if_not_configured` names the record
/// when the integration does not retry.
fn retry_or_give_up(
    hook: &Hook,
    d: &Delivery,
    state: &AppState,
    mut h: History,
    step_if_not_configured: &str,
) -> Finish {
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

/// One attempt of a delivery, from the index lookup to the last history step.
pub async fn attempt(state: &AppState, d: Delivery) -> Finish {
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
    let body =
        request.get("data").filter(|v| !v.is_null()).map(|v| serde_json::to_vec(v).expect("JSON values serialise"));
    h.step("pre-http-call")
        .set("url", json!(str_of(&request, "url")))
        .set("httpCallData", request.get("data").cloned().unwrap_or(Value::Null));

    let started = Instant::now();
    let called = call(&state.settings, &state.outgoing, &d, &hook, &request, body).await;
    metrics::outgoing_call_took(started.elapsed());
    let resp = match called {
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
                        h.fail("after-process-send-message-failed")
                            .set("errorStack", json!(e))
                            .set("finished", json!(true));
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

/// A 410 answer disables the integration.
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
