//! The script step: `process_incoming_request({ request })` in the sandbox.
//!
//! The compiled context is cached by the script host per integration and reused until the
//! integration's `_updatedAt` changes. The host runs scripts on its own threads with the memory
//! limit (`Integrations_Script_Memory_Limit_MB`, 8) and the per-call deadline
//! (`Integrations_Script_Timeout`, 3000 ms, which also covers every `fetch` the script awaits);
//! a script that hits either is stopped and answered with `error-running-script`. Waiting on a
//! fetch holds no thread: the host's worker serves other calls meanwhile.

use super::route::Target;
use crate::domain::str_of;
use crate::domain::truthy;
use crate::error::ApiError;
use crate::http::form_args;
use crate::state::AppState;
use axum::http::request::Parts;
use script::{CallError, CallOutcome, ScriptKey};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use store::Doc;

pub enum Outcome {
    /// A falsy result, or no `content`: answer `{success: true}` and post nothing.
    Nothing,
    /// Post `content`; answer `response` (if any); post as `user` (if any).
    Post { content: Box<Map<String, Value>>, response: Option<Value>, user: Option<Value> },
}

/// The `request` argument of `process_incoming_request`.
pub fn request_object(parts: &Parts, target: &Target, raw: &[u8], payload: &Map<String, Value>, user: &Doc) -> Value {
    let pathname = parts.uri.path();
    let search = parts.uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let path = format!("{pathname}{search}");
    let mut headers = Map::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match headers.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                headers.insert(name.as_str().to_owned(), Value::String(value));
            }
        }
    }
    let mut url_params = Map::new();
    url_params.insert("integrationId".into(), json!(target.integration_id));
    if let Some(uid) = &target.user_id {
        url_params.insert("userId".into(), json!(uid));
    }
    url_params.insert("token".into(), json!(target.token));
    json!({
        "url": {
            "hash": Value::Null,
            "search": search,
            // Parsed as the REST query string is (express's `qs` also reads `k[]=a` as a list).
            "query": Value::Object(form_args(parts.uri.query().unwrap_or_default().as_bytes())),
            "pathname": pathname,
            "path": path,
        },
        "url_raw": path,
        "url_params": url_params,
        "content": payload,
        "content_raw": String::from_utf8_lossy(raw),
        "headers": headers,
        "body": payload,
        "user": {
            "_id": str_of(user, "_id"),
            "name": str_of(user, "name"),
            "username": str_of(user, "username"),
        },
    })
}

/// Runs the integration's script on `request` and reads its answer.
pub async fn run(state: &AppState, integration: &Doc, request: Value) -> Result<Outcome, ApiError> {
    let id = str_of(integration, "_id");
    let version = crate::scripts::version(integration);
    let source: Arc<str> = Arc::from(str_of(integration, "scriptCompiled"));
    let key = ScriptKey::new(id, version);
    let result =
        state.scripts.call(key, source, script::methods::PROCESS_INCOMING_REQUEST, json!({ "request": request })).await;
    crate::observability::metrics::script_ran(script::methods::PROCESS_INCOMING_REQUEST, &result);
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(CallError::Evaluation(e)) => {
            tracing::warn!(integration_id = id, error = %e, "incoming script could not be evaluated");
            return Err(ApiError::plain("error-evaluating-script"));
        }
        Err(CallError::Disabled) => return Ok(Outcome::Nothing),
        Err(e) => {
            if e.is_limit() {
                tracing::warn!(integration_id = id, error = %e, "incoming script stopped at a limit");
            } else {
                tracing::info!(integration_id = id, error = %e, "incoming script failed");
            }
            return Err(ApiError::plain("error-running-script"));
        }
    };
    interpret(outcome)
}

/// The return contract of `process_incoming_request`.
pub fn interpret(outcome: CallOutcome) -> Result<Outcome, ApiError> {
    if outcome.is_falsy() {
        return Ok(Outcome::Nothing);
    }
    let Some(Value::Object(mut result)) = outcome.into_value() else {
        return Ok(Outcome::Nothing);
    };
    if let Some(error) = result.remove("error").filter(|v| truthy(Some(v))) {
        return Err(match error {
            Value::Object(body) => ApiError::FailureBody(body),
            Value::String(s) => ApiError::plain(s),
            other => {
                let mut body = Map::new();
                body.insert("error".into(), other);
                ApiError::FailureBody(body)
            }
        });
    }
    let response = result.remove("response").filter(|r| !r.is_null());
    let user = result.remove("user").filter(|v| truthy(Some(v)));
    match result.remove("content") {
        Some(Value::Object(content)) => Ok(Outcome::Post { content: Box::new(content), response, user }),
        _ => Ok(Outcome::Nothing),
    }
}

/// The user a script asks to post as (`{_id}` or `{username}`), looked up in the store.
pub async fn resolve_user(state: &AppState, given: &Value) -> Result<Doc, ApiError> {
    let by_id = given.get("_id").and_then(Value::as_str).filter(|s| !s.is_empty());
    let by_name = given.get("username").and_then(Value::as_str).filter(|s| !s.is_empty());
    let found = match (by_id, by_name) {
        (Some(id), _) => state.store().user_by_id(id).await?,
        (None, Some(name)) => state.store().user_by_username(name).await?,
        _ => None,
    };
    found.ok_or_else(|| ApiError::plain("error-invalid-user"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(v: Value) -> Result<Outcome, ApiError> {
        interpret(CallOutcome::Value(v))
    }

    #[test]
    fn contract() {
        assert!(matches!(interpret(CallOutcome::Undefined), Ok(Outcome::Nothing)));
        assert!(matches!(interpret(CallOutcome::NoMethod), Ok(Outcome::Nothing)));
        assert!(matches!(run(json!(false)), Ok(Outcome::Nothing)));
        assert!(matches!(run(json!({"response": {"a": 1}})), Ok(Outcome::Nothing)));
        assert!(matches!(run(json!({"error": "nope"})), Err(ApiError::Failure { .. })));
        assert!(matches!(run(json!({"error": {"x": 1}})), Err(ApiError::FailureBody(_))));
        match run(json!({"content": {"text": "hi"}, "response": {"ok": 1}})) {
            Ok(Outcome::Post { content, response, user }) => {
                assert_eq!(content["text"], "hi");
                assert_eq!(response, Some(json!({"ok": 1})));
                assert!(user.is_none());
            }
            _ => panic!("expected a post"),
        }
    }
}
