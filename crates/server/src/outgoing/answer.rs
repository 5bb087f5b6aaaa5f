//! Posting the answer of an outgoing integration back into the workspace, as the integration's
//! post-as user (or the impersonated author).

use super::index::Hook;
use crate::domain::messages::{Defaults, process_webhook_message, resolve_destination};
use crate::domain::str_of;
use crate::state::AppState;
use serde_json::{Map, Value, json};

/// Posts an answer as the integration (or the impersonated author). Returns the
/// `[{channel, message}]` posted, or the error code.
pub async fn post_answer(
    state: &AppState,
    hook: &Hook,
    data: &Map<String, Value>,
    rid: Option<&str>,
    answer: &Map<String, Value>,
) -> Result<Value, String> {
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
