//! The payload becomes messages: the receiver's pre-checks, the destinations,
//! `process_webhook_message`, and the answer (`responses` with `separateResponse`).

use crate::domain::messages::{
    Defaults, SendError, check_can_send, message_fields_from, post_message, process_webhook_message,
    resolve_destination,
};
use crate::domain::str_of;
use crate::domain::truthy;
use crate::error::{ApiError, success};
use crate::state::AppState;
use axum::response::Response;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use store::Doc;

pub const OVERRIDE_DISABLED: &str = "overriding destination channel is disabled for this integration";

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
        Some(Value::Array(list)) => {
            list.iter().map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned).ok_or_else(invalid)).collect()
        }
        _ => Err(invalid()),
    }
}

fn send_error(e: SendError) -> ApiError {
    match e {
        SendError::Internal(api) => api,
        other => ApiError::plain(other.code()),
    }
}

/// `own_user`: `user` is the integration's post-as user (not one a script chose), so the
/// destinations cached for it apply.
pub async fn deliver(
    state: &AppState,
    integration: &Doc,
    user: &Arc<Doc>,
    own_user: bool,
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
    let planned = if own_user && !overrides && !separate {
        planned_rooms(state, integration, user, &targets).await?
    } else {
        None
    };
    if let Some(rooms) = planned {
        post_planned(state, &rooms, user, message_fields_from(payload, &defaults)).await?;
        return Ok(match script_response {
            Some(Value::Object(map)) => success(Value::Object(map)),
            Some(other) => axum::Json(other).into_response_ok(),
            None => success(json!({})),
        });
    }
    let deliveries =
        process_webhook_message(state, &payload, user, &defaults, &targets, separate).await.map_err(send_error)?;
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
            result.map_err(send_error)?;
        }
    }
    Ok(success(Value::Object(body)))
}

/// The rooms of the hook's own destinations from its plan (resolving and remembering them the
/// first time). `None` when there is no plan to use: the caller then takes the general path,
/// which also produces the exact error of a destination that does not resolve.
async fn planned_rooms(
    state: &AppState,
    integration: &Doc,
    user: &Arc<Doc>,
    targets: &[String],
) -> Result<Option<Arc<Vec<Doc>>>, ApiError> {
    let Some(current) = state.hook_plans.get(&state.settings, integration).filter(|p| Arc::ptr_eq(&p.user, user))
    else {
        return Ok(None);
    };
    let rooms = match &current.rooms {
        Some(rooms) => rooms.clone(),
        None => {
            let mut unique: Vec<&String> = Vec::with_capacity(targets.len());
            for t in targets {
                if !unique.contains(&t) {
                    unique.push(t);
                }
            }
            let mut rooms: Vec<Doc> = Vec::with_capacity(unique.len());
            for target in unique {
                let Ok(room) = resolve_destination(state, target, user).await else {
                    return Ok(None);
                };
                rooms.push(room);
            }
            state.hook_plans.put_rooms(integration, &current, rooms.clone());
            Arc::new(rooms)
        }
    };
    Ok((!rooms.is_empty()).then_some(rooms))
}

/// Checks every planned room first, then posts: the first failure posts nothing.
async fn post_planned(state: &AppState, rooms: &[Doc], user: &Arc<Doc>, fields: Doc) -> Result<(), ApiError> {
    for room in rooms {
        check_can_send(state, room, user, &fields).await.map_err(send_error)?;
    }
    // Every room but the last gets a copy; the last takes the fields themselves.
    let (last, others) = rooms.split_last().expect("planned rooms are not empty");
    for room in others {
        post_message(state, room, user, fields.clone()).await?;
    }
    post_message(state, last, user, fields).await?;
    Ok(())
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
