//! Incoming and outgoing integrations: Rocket.Chat's add/update/delete methods, with their
//! validation order, error codes and side effects (post-as user gets `bot`, scripts compiled).

use super::integration_kinds::{INCOMING, OUTGOING, creator, event_info};
use super::str_of;
use crate::error::{ApiError, ApiResult};
use crate::scripts::{self, DEFAULT_ENGINE};
use crate::state::AppState;
use serde_json::{Map, Value, json};
use store::Doc;
use store::ids::{now_iso, object_id, random_id};

fn meteor(code: &str, reason: &str, method: &str) -> ApiError {
    ApiError::meteor_details(code, reason, json!({"method": method}))
}

fn outgoing_error(code: &str, reason: &str, function: &str) -> ApiError {
    ApiError::meteor_details(code, reason, json!({"function": function}))
}

fn not_authorized_incoming(method: &str) -> ApiError {
    meteor("not_authorized", "Unauthorized", method)
}

fn string(body: &Map<String, Value>, key: &str) -> String {
    body.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn non_blank(body: &Map<String, Value>, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).filter(|s| !s.trim().is_empty()).map(str::to_owned)
}

/// Comma-separated channel entries, trimmed, empties dropped.
fn split_channels(raw: &Value) -> Vec<String> {
    let parts: Vec<String> = match raw {
        Value::String(s) => s.split(',').map(|p| p.trim().to_owned()).collect(),
        Value::Array(items) => items.iter().filter_map(|i| i.as_str()).map(|p| p.trim().to_owned()).collect(),
        _ => Vec::new(),
    };
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

/// Resolves `#room` / `@user` entries and applies the subscription rule: unless the caller holds
/// both the "all" and "own" permissions, it must be subscribed to each target.
async fn check_channel_targets(
    state: &AppState,
    channels: &[String],
    me: &str,
    privileged: bool,
    invalid_room: impl Fn() -> ApiError,
    invalid_channel: impl Fn() -> ApiError,
) -> ApiResult<()> {
    let store = state.store();
    for entry in channels {
        let (kind, key) = entry.split_at(1);
        let record_id = match kind {
            "#" => match store.room_by_id(key).await? {
                Some(r) => Some(str_of(&r, "_id").to_owned()),
                None => store.room_by_name(key).await?.map(|r| str_of(&r, "_id").to_owned()),
            },
            "@" => match store.user_by_id(key).await? {
                Some(u) => Some(str_of(&u, "_id").to_owned()),
                None => store.user_by_username(key).await?.map(|u| str_of(&u, "_id").to_owned()),
            },
            _ => None,
        };
        let Some(record_id) = record_id else { return Err(invalid_room()) };
        if !privileged && store.subscription(&record_id, me).await?.is_none() {
            return Err(invalid_channel());
        }
    }
    Ok(())
}

async fn add_bot_role(state: &AppState, user: &Doc) -> ApiResult<()> {
    let mut roles = AppState::user_roles(user);
    if roles.iter().any(|r| r == "bot") {
        return Ok(());
    }
    roles.push("bot".into());
    let mut user = user.clone();
    user.insert("roles".into(), json!(roles));
    user.insert("_updatedAt".into(), json!(now_iso()));
    state.store().replace_user(user).await?;
    Ok(())
}

/// A new document whose `_id` comes first, as MongoDB stores it.
fn with_new_id(fields: Doc) -> Doc {
    let mut d = Doc::new();
    d.insert("_id".into(), json!(object_id()));
    d.extend(fields);
    d
}

fn strip_nulls(mut d: Doc) -> Doc {
    d.retain(|_, v| !v.is_null());
    d
}

/// Compiles the script into `scriptCompiled` or `scriptError`, as Rocket.Chat stores them.
async fn apply_compile(state: &AppState, d: &mut Doc, script: &str) {
    match scripts::compile(&state.scripts, script).await {
        Ok(compiled) => {
            d.insert("scriptCompiled".into(), json!(compiled));
            d.remove("scriptError");
        }
        Err(error) => {
            d.insert("scriptError".into(), error);
            d.remove("scriptCompiled");
        }
    }
}

fn wants_compile(state: &AppState, body: &Map<String, Value>, engine: &str) -> Option<String> {
    let script = non_blank(body, "script")?;
    (body.get("scriptEnabled") == Some(&Value::Bool(true)) && !state.script_policy.is_frozen(engine)).then_some(script)
}

/// `addIncomingIntegration`.
pub async fn create_incoming(state: &AppState, caller: &Doc, body: &Map<String, Value>) -> ApiResult<Doc> {
    const M: &str = "addIncomingIntegration";
    let grants = state.grants(caller);
    if !grants.all_in && !grants.own_in {
        return Err(not_authorized_incoming(M));
    }
    let channel = string(body, "channel");
    if channel.trim().is_empty() {
        return Err(meteor("error-invalid-channel", "Invalid channel", M));
    }
    let channels = split_channels(&json!(channel));
    if channels.iter().any(|c| !c.starts_with(['@', '#'])) {
        return Err(meteor(
            "error-invalid-channel-start-with-chars",
            "Invalid channel. Start with @ or #",
            "updateIncomingIntegration",
        ));
    }
    if non_blank(body, "username").is_none() {
        return Err(meteor("error-invalid-username", "Invalid username", M));
    }
    let engine = non_blank(body, "scriptEngine").unwrap_or_else(|| DEFAULT_ENGINE.into());
    if non_blank(body, "script").is_some()
        && let Some(code) = state.script_policy.frozen_error(&engine)
    {
        return Err(ApiError::plain(code));
    }
    let Some(user) = state.store().user_by_username(&string(body, "username")).await? else {
        return Err(meteor("error-invalid-user", "Invalid user", M));
    };
    let me = str_of(caller, "_id").to_owned();
    let now = now_iso();
    let mut d = with_new_id(body.clone());
    d.insert("scriptEngine".into(), json!(engine));
    d.insert("type".into(), json!(INCOMING));
    d.insert("channel".into(), json!(channels));
    d.insert(
        "overrideDestinationChannelEnabled".into(),
        json!(body.get("overrideDestinationChannelEnabled") == Some(&Value::Bool(true))),
    );
    d.insert("token".into(), json!(random_id(48)));
    d.insert("userId".into(), json!(str_of(&user, "_id")));
    d.insert("_createdAt".into(), json!(now));
    d.insert("_createdBy".into(), json!({"_id": me, "username": str_of(caller, "username")}));
    d.insert("_updatedAt".into(), json!(now));
    if let Some(script) = wants_compile(state, body, &engine) {
        apply_compile(state, &mut d, &script).await;
    }
    check_channel_targets(
        state,
        &channels,
        &me,
        grants.all_in && grants.own_in,
        || meteor("error-invalid-room", "Invalid room", M),
        || meteor("error-invalid-channel", "Invalid Channel", M),
    )
    .await?;
    add_bot_role(state, &user).await?;
    let d = strip_nulls(d);
    state.store().insert_integration(d.clone()).await?;
    Ok(state.store().integration_by_id(str_of(&d, "_id")).await?.unwrap_or(d))
}

/// `validateOutgoingIntegration`: checks and normalises an outgoing body into document fields.
async fn validate_outgoing(state: &AppState, caller: &Doc, body: &Map<String, Value>) -> ApiResult<(Doc, Doc)> {
    const REQUIRED: &str = "validateOutgoing._verifyRequiredFields";
    const CHANNELS: &str = "validateOutgoing._verifyUserHasPermissionForChannels";
    let grants = state.grants(caller);
    let mut d = body.clone();
    if body.get("channel").and_then(Value::as_str).is_some_and(|c| c.trim().is_empty()) {
        d.remove("channel");
    }
    let event = non_blank(body, "event").unwrap_or_default();
    let Some((uses_channels, uses_triggers, needs_target)) = event_info(&event) else {
        return Err(outgoing_error("error-invalid-event-type", "Invalid event type", REQUIRED));
    };
    if non_blank(body, "username").is_none() {
        return Err(outgoing_error("error-invalid-username", "Invalid username", REQUIRED));
    }
    if needs_target && non_blank(body, "targetRoom").is_none() {
        return Err(outgoing_error("error-invalid-targetRoom", "Invalid Target Room", REQUIRED));
    }
    let urls: Vec<String> = match body.get("urls") {
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            items.iter().filter_map(Value::as_str).filter(|u| !u.trim().is_empty()).map(str::to_owned).collect()
        }
        _ => return Err(outgoing_error("error-invalid-urls", "Invalid URLs", REQUIRED)),
    };
    if urls.is_empty() {
        return Err(outgoing_error("error-invalid-urls", "Invalid URLs", REQUIRED));
    }
    d.insert("urls".into(), json!(urls));
    let channels = if uses_channels {
        let Some(raw) = d.get("channel").filter(|c| c.is_string() || c.is_array()).cloned() else {
            return Err(outgoing_error("error-invalid-channel", "Invalid Channel", REQUIRED));
        };
        let channels = split_channels(&raw);
        let special = |c: &str| {
            ["all_public_channels", "all_private_groups", "all_direct_messages"]
                .iter()
                .any(|s| s.eq_ignore_ascii_case(c))
        };
        if channels.iter().any(|c| !c.starts_with(['@', '#']) && !special(c)) {
            return Err(outgoing_error(
                "error-invalid-channel-start-with-chars",
                "Invalid Channel. Start with @ or #",
                REQUIRED,
            ));
        }
        channels
    } else {
        if !grants.all_out {
            return Err(outgoing_error(
                "error-invalid-permissions",
                "Invalid permission for required Integration creation.",
                REQUIRED,
            ));
        }
        Vec::new()
    };
    let Some(user) = state.store().user_by_username(&string(body, "username")).await? else {
        return Err(outgoing_error(
            "error-invalid-user",
            "Invalid user (did you delete the `rocket.cat` user?)",
            REQUIRED,
        ));
    };
    d.insert("type".into(), json!(OUTGOING));
    d.insert("channel".into(), json!(channels));
    d.insert("userId".into(), json!(str_of(&user, "_id")));
    if uses_triggers && body.contains_key("triggerWords") {
        let Some(words) = body.get("triggerWords").and_then(Value::as_array).filter(|w| w.iter().all(Value::is_string))
        else {
            return Err(outgoing_error("error-invalid-triggerWords", "Invalid triggerWords", REQUIRED));
        };
        let words: Vec<&str> = words.iter().filter_map(Value::as_str).filter(|w| !w.trim().is_empty()).collect();
        d.insert("triggerWords".into(), json!(words));
    } else {
        d.remove("triggerWords");
    }
    if let Some(v) = body.get("runOnEdits") {
        d.insert("runOnEdits".into(), json!(v == &Value::Bool(true)));
    }
    let me = str_of(caller, "_id").to_owned();
    for c in &channels {
        match c.as_str() {
            "all_public_channels" => {}
            "all_private_groups" | "all_direct_messages" => {
                if !grants.all_out {
                    return Err(outgoing_error("error-invalid-channel", "Invalid Channel", CHANNELS));
                }
            }
            _ => {
                check_channel_targets(
                    state,
                    std::slice::from_ref(c),
                    &me,
                    grants.all_out && grants.own_out,
                    || outgoing_error("error-invalid-room", "Invalid room", CHANNELS),
                    || outgoing_error("error-invalid-channel", "Invalid Channel", CHANNELS),
                )
                .await?;
            }
        }
    }
    if body.get("retryFailedCalls").is_some_and(|v| v.as_bool() == Some(true)) {
        let count =
            body.get("retryCount").and_then(Value::as_f64).map(|n| n.trunc() as i64).filter(|n| *n > 0).unwrap_or(4);
        d.insert("retryCount".into(), json!(count));
        let delay = non_blank(body, "retryDelay").map(|s| s.to_lowercase()).unwrap_or_else(|| "powers-of-ten".into());
        d.insert("retryDelay".into(), json!(delay));
    }
    Ok((d, user))
}

/// `addOutgoingIntegration`.
pub async fn create_outgoing(state: &AppState, caller: &Doc, body: &Map<String, Value>) -> ApiResult<Doc> {
    let grants = state.grants(caller);
    if !grants.all_out && !grants.own_out {
        return Err(ApiError::meteor("not_authorized", ""));
    }
    let engine = non_blank(body, "scriptEngine").unwrap_or_else(|| DEFAULT_ENGINE.into());
    if non_blank(body, "script").is_some()
        && let Some(code) = state.script_policy.frozen_error(&engine)
    {
        return Err(ApiError::plain(code));
    }
    let (d, _) = validate_outgoing(state, caller, body).await?;
    let mut d = with_new_id(d);
    let now = now_iso();
    d.insert("scriptEngine".into(), json!(engine));
    d.insert("_createdAt".into(), json!(now));
    d.insert("_createdBy".into(), json!({"_id": str_of(caller, "_id"), "username": str_of(caller, "username")}));
    d.insert("_updatedAt".into(), json!(now));
    if let Some(script) = wants_compile(state, body, &engine) {
        apply_compile(state, &mut d, &script).await;
    }
    let d = strip_nulls(d);
    state.store().insert_integration(d.clone()).await?;
    Ok(state.store().integration_by_id(str_of(&d, "_id")).await?.unwrap_or(d))
}

/// Applies the script fields of an update unless the engine is frozen (then the stored
/// script, flags and compile result stay untouched).
async fn update_script(state: &AppState, current: &Doc, body: &Map<String, Value>, d: &mut Doc) -> ApiResult<()> {
    let engine = non_blank(body, "scriptEngine")
        .or_else(|| non_blank(current, "scriptEngine"))
        .unwrap_or_else(|| DEFAULT_ENGINE.into());
    let script = string(body, "script");
    let changed = engine != str_of(current, "scriptEngine") || script != str_of(current, "script");
    if !script.trim().is_empty()
        && changed
        && let Some(code) = state.script_policy.frozen_error(&engine)
    {
        return Err(ApiError::meteor(code, ""));
    }
    if state.script_policy.is_frozen(&engine) {
        return Ok(());
    }
    d.insert("script".into(), json!(script));
    d.insert("scriptEnabled".into(), body.get("scriptEnabled").cloned().unwrap_or(json!(false)));
    d.insert("scriptEngine".into(), json!(engine));
    if let Some(script) = wants_compile(state, body, &engine) {
        apply_compile(state, d, &script).await;
    }
    Ok(())
}

/// `updateIncomingIntegration`.
pub async fn update_incoming(state: &AppState, caller: &Doc, id: &str, body: &Map<String, Value>) -> ApiResult<Doc> {
    const M: &str = "updateIncomingIntegration";
    let channel = string(body, "channel");
    if channel.trim().is_empty() {
        return Err(meteor("error-invalid-channel", "Invalid channel", M));
    }
    let channels = split_channels(&json!(channel));
    if channels.iter().any(|c| !c.starts_with(['@', '#'])) {
        return Err(meteor("error-invalid-channel-start-with-chars", "Invalid channel. Start with @ or #", M));
    }
    let grants = state.grants(caller);
    let me = str_of(caller, "_id").to_owned();
    if !grants.all_in && !grants.own_in {
        return Err(not_authorized_incoming(M));
    }
    let current = state
        .store()
        .integration_by_id(id)
        .await?
        .filter(|i| grants.all_in || creator(i) == Some(me.as_str()))
        .ok_or_else(|| meteor("error-invalid-integration", "Invalid integration", M))?;
    let mut d = current.clone();
    update_script(state, &current, body, &mut d).await?;
    check_channel_targets(
        state,
        &channels,
        &me,
        grants.all_in && grants.own_in,
        || meteor("error-invalid-room", "Invalid room", M),
        || meteor("error-invalid-channel", "Invalid Channel", M),
    )
    .await?;
    let username = if body.contains_key("username") { string(body, "username") } else { string(&current, "username") };
    let Some(user) = state.store().user_by_username(&username).await? else {
        return Err(meteor("error-invalid-post-as-user", "Invalid Post As User", M));
    };
    add_bot_role(state, &user).await?;
    for key in ["enabled", "name"] {
        if let Some(v) = body.get(key) {
            d.insert(key.into(), v.clone());
        }
    }
    d.insert("channel".into(), json!(channels));
    for key in ["avatar", "emoji", "alias", "overrideDestinationChannelEnabled"] {
        if let Some(v) = body.get(key).filter(|v| !v.is_null()) {
            d.insert(key.into(), v.clone());
        }
    }
    if body.contains_key("username") {
        d.insert("username".into(), json!(username));
        d.insert("userId".into(), json!(str_of(&user, "_id")));
    }
    d.insert("_updatedAt".into(), json!(now_iso()));
    d.insert("_updatedBy".into(), json!({"_id": me, "username": str_of(caller, "username")}));
    let d = strip_nulls(d);
    state.store().replace_integration(d.clone()).await?;
    state.integrations.invalidate(id);
    Ok(d)
}

/// `updateOutgoingIntegration`.
pub async fn update_outgoing(state: &AppState, caller: &Doc, id: &str, body: &Map<String, Value>) -> ApiResult<Doc> {
    let (fields, _) = validate_outgoing(state, caller, body).await?;
    if non_blank(body, "token").is_none() {
        return Err(outgoing_error("error-invalid-token", "Invalid token", "validateOutgoing._verifyRequiredFields"));
    }
    let grants = state.grants(caller);
    let me = str_of(caller, "_id").to_owned();
    if !grants.all_out && !grants.own_out {
        return Err(ApiError::meteor("not_authorized", "Unauthorized"));
    }
    let current = state
        .store()
        .integration_by_id(id)
        .await?
        .filter(|i| grants.all_out || creator(i) == Some(me.as_str()))
        .ok_or_else(|| {
            ApiError::meteor("invalid_integration", "[methods] updateOutgoingIntegration -> integration not found")
        })?;
    let mut d = current.clone();
    update_script(state, &current, body, &mut d).await?;
    const SET: &[&str] = &[
        "event",
        "enabled",
        "name",
        "avatar",
        "emoji",
        "alias",
        "channel",
        "targetRoom",
        "impersonateUser",
        "username",
        "userId",
        "urls",
        "token",
        "triggerWords",
        "retryFailedCalls",
        "retryCount",
        "retryDelay",
        "triggerWordAnywhere",
        "runOnEdits",
    ];
    for key in SET {
        match fields.get(*key) {
            Some(v) => d.insert((*key).into(), v.clone()),
            None => d.remove(*key),
        };
    }
    d.insert("_updatedAt".into(), json!(now_iso()));
    d.insert("_updatedBy".into(), json!({"_id": me, "username": str_of(caller, "username")}));
    let d = strip_nulls(d);
    state.store().replace_integration(d.clone()).await?;
    state.integrations.invalidate(id);
    Ok(d)
}

/// `deleteIncomingIntegration` / `deleteOutgoingIntegration`. As in Rocket.Chat the stored
/// type is not checked: `kind` picks which permission pair applies.
pub async fn delete(state: &AppState, caller: &Doc, integration: &Doc, kind: &str) -> ApiResult<()> {
    let grants = state.grants(caller);
    let own = creator(integration) == Some(str_of(caller, "_id"));
    let (all, own_perm, method) = if kind == INCOMING {
        (grants.all_in, grants.own_in, "deleteIncomingIntegration")
    } else {
        (grants.all_out, grants.own_out, "deleteOutgoingIntegration")
    };
    if !all && !own_perm {
        return Err(meteor("not_authorized", "Unauthorized", method));
    }
    if !all && !own {
        return Err(meteor("error-invalid-integration", "Invalid integration", method));
    }
    let id = str_of(integration, "_id").to_owned();
    state.store().delete_integration(&id).await?;
    state.integrations.invalidate(&id);
    state.scripts.forget(&id);
    Ok(())
}
