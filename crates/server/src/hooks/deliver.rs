//! The payload becomes messages (spec §6.5): the receiver's pre-checks, the destinations,
//! `process_webhook_message`, and the answer (`responses` with `separateResponse`).

use crate::domain::messages::{Defaults, process_webhook_message};
use crate::domain::str_of;
use crate::error::{ApiError, success};
use crate::state::AppState;
use axum::response::Response;
use serde_json::{Map, Value, json};
use store::Doc;

pub const OVERRIDE_DISABLED: &str = "overriding destination channel is disabled for this integration";

/// JavaScript truthiness (`[]` and `{}` are truthy).
pub fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

fn opt_string(integration: &Doc, key: &str) -> Option<String> {
    integration.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// `payload.channel || payload.roomId || integration.channel`, as strings.
fn destinations(payload: &Map<String, Value>, integration: &Doc) -> Result<Vec<String>, ApiError> {
    let target = ["channel", "roomId"]
        .iter()
        .find_map(|k| payload.get(*k).filter(|v| truthy(Some(v))))
        .or_else(|| integration.get("channel"));
    let invalid = || ApiError::plain("invalid-channel");
    match target {
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned).ok_or_else(invalid))
            .collect(),
        _ => Err(invalid()),
    }
}

pub async fn deliver(
    state: &AppState,
    integration: &Doc,
    user: &Doc,
    mut payload: Map<String, Value>,
    script_response: Option<Value>,
) -> Result<Response, ApiError> {
    let script_enabled = integration.get("scriptEnabled") == Some(&Value::Bool(true));
    if payload.is_empty() && !script_enabled {
        return Ok(success(json!({})));
    }
    let overrides = truthy(payload.get("channel")) || truthy(payload.get("roomId"));
    if overrides && integration.get("overrideDestinationChannelEnabled") != Some(&Value::Bool(true)) {
        return Err(ApiError::plain(OVERRIDE_DISABLED));
    }
    let integration_id = str_of(integration, "_id").to_owned();
    payload.insert("bot".into(), json!({"i": integration_id}));
    let targets = destinations(&payload, integration)?;
    let separate = payload.get("separateResponse") == Some(&Value::Bool(true));
    let defaults = Defaults {
        alias: opt_string(integration, "alias"),
        avatar: opt_string(integration, "avatar"),
        emoji: opt_string(integration, "emoji"),
        integration_id: Some(integration_id),
    };
    let deliveries = process_webhook_message(state, &payload, user, &defaults, &targets, separate)
        .await
        .map_err(|e| match e {
            crate::domain::messages::SendError::Internal(api) => api,
            other => ApiError::plain(other.code()),
        })?;
    if deliveries.is_empty() {
        return Err(ApiError::plain("unknown-error"));
    }
    let mut body = match script_response {
        Some(Value::Object(map)) => map,
        Some(other) => return Ok(axum::Json(other).into_response_ok()),
        None => Map::new(),
    };
    if separate {
        let mut any_ok = false;
        let responses: Vec<Value> = deliveries
            .into_iter()
            .map(|(channel, result)| match result {
                Ok(message) => {
                    any_ok = true;
                    json!({"channel": channel, "message": message})
                }
                Err(e) => {
                    if let crate::domain::messages::SendError::Internal(cause) = &e {
                        tracing::error!(?cause, "hook delivery failed");
                    }
                    json!({"channel": channel, "error": e.code()})
                }
            })
            .collect();
        body.insert("responses".into(), Value::Array(responses));
        if !any_ok {
            return Err(ApiError::FailureBody(body));
        }
    } else {
        for (_, result) in deliveries {
            result.map_err(|e| match e {
                crate::domain::messages::SendError::Internal(api) => api,
                other => ApiError::plain(other.code()),
            })?;
        }
    }
    Ok(success(Value::Object(body)))
}

trait IntoOk {
    fn into_response_ok(self) -> Response;
}

impl IntoOk for axum::Json<Value> {
    /// A script `response` that is not an object is sent as it is (`success()` only adds
    /// `success: true` to objects).
    fn into_response_ok(self) -> Response {
        use axum::response::IntoResponse;
        (axum::http::StatusCode::OK, self).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destination_forms() {
        let integ = crate::domain::doc(json!({"channel": ["#general"]}));
        let p = |v: Value| crate::domain::doc(v);
        assert_eq!(destinations(&p(json!({})), &integ).unwrap(), vec!["#general"]);
        assert_eq!(destinations(&p(json!({"channel": ""})), &integ).unwrap(), vec!["#general"]);
        assert_eq!(destinations(&p(json!({"channel": "@bob"})), &integ).unwrap(), vec!["@bob"]);
        assert_eq!(destinations(&p(json!({"roomId": "R1"})), &integ).unwrap(), vec!["R1"]);
        assert_eq!(destinations(&p(json!({"channel": ["#a", "b"]})), &integ).unwrap(), vec!["#a", "b"]);
        assert!(destinations(&p(json!({"channel": [1]})), &integ).is_err());
        assert!(destinations(&p(json!({"channel": 5})), &integ).is_err());
        assert!(destinations(&p(json!({"channel": []})), &integ).unwrap().is_empty());
    }
}
