//! `chat.react`, `chat.pinMessage`, `chat.unPinMessage`, `chat.starMessage`,
//! `chat.unStarMessage`, `chat.followMessage`, `chat.unfollowMessage`, `chat.ignoreUser`,
//! `chat.reportMessage`.

use super::docs::Routes;
use super::validation::schema::{Branch, Ty};
use crate::domain::message_actions::{follow_thread, pin_message, set_reaction, star_message, unpin_message};
use crate::domain::moderation::report_message;
use crate::domain::str_of;
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Args, Body, Caller, Query, arg_bool, arg_str};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};
use store::Doc;

pub fn routes() -> Routes {
    Routes::new()
        .post("/chat.react", react)
        .post("/chat.pinMessage", pin)
        .post("/chat.unPinMessage", unpin)
        .post("/chat.starMessage", |s: State<AppState>, c: Caller, b: Body| star(s, c, b, true))
        .post("/chat.unStarMessage", |s: State<AppState>, c: Caller, b: Body| star(s, c, b, false))
        .post("/chat.followMessage", |s: State<AppState>, c: Caller, b: Body| follow(s, c, b, true))
        .post("/chat.unfollowMessage", |s: State<AppState>, c: Caller, b: Body| follow(s, c, b, false))
        .get("/chat.ignoreUser", ignore_user)
        .post("/chat.reportMessage", report)
        .summary("Report a message to the moderators")
        .body(&[("messageId", Ty::Str), ("description", Ty::Str)])
}

/// `chat.reportMessage`'s schema (validated as the legacy `validateParams` does).
const REPORT: Branch = Branch {
    type_pattern: None,
    required: &[("messageId", Ty::Str), ("description", Ty::Str)],
    optional: &[],
    more_optional: &[],
    additional_properties: false,
};

/// The message named by a required string `messageId`, or `error-message-not-found`.
async fn message_param(state: &AppState, body: &Args) -> ApiResult<Doc> {
    let id = match body.get("messageId") {
        Some(Value::String(id)) => id.clone(),
        Some(_) => return Err(ApiError::invalid_params("must be string")),
        None => return Err(ApiError::invalid_params("must have required property 'messageId'")),
    };
    state.store().message_by_id(&id).await?.ok_or_else(|| {
        ApiError::meteor("error-message-not-found", "The provided \"messageId\" does not match any existing message.")
    })
}

async fn react(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    if let Some(v) = body.get("shouldReact").filter(|v| !v.is_boolean()) {
        return Err(ApiError::invalid_params(&format!("shouldReact must be boolean, got {v}")));
    }
    let message = message_param(&state, &body).await?;
    let emoji = arg_str(&body, "emoji").or_else(|| arg_str(&body, "reaction")).filter(|e| !e.is_empty());
    let Some(emoji) = emoji else {
        return Err(ApiError::meteor("error-emoji-param-not-provided", "The required \"emoji\" param is missing."));
    };
    let should_react = body.get("shouldReact").and_then(Value::as_bool);
    set_reaction(&state, &caller.user, message, &emoji, should_react).await?;
    Ok(success(json!({})))
}

async fn pin(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let message = message_param(&state, &body).await?;
    let pinned = pin_message(&state, &caller.user, message).await?;
    Ok(success(json!({"message": pinned})))
}

async fn unpin(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let message = message_param(&state, &body).await?;
    unpin_message(&state, &caller.user, message).await?;
    Ok(success(json!({})))
}

async fn star(State(state): State<AppState>, caller: Caller, Body(body): Body, starred: bool) -> ApiResult<Response> {
    let message = message_param(&state, &body).await?;
    star_message(&state, &caller.user, message, starred).await?;
    Ok(success(json!({})))
}

async fn follow(State(state): State<AppState>, caller: Caller, Body(body): Body, yes: bool) -> ApiResult<Response> {
    let Some(mid) = arg_str(&body, "mid").filter(|m| !m.is_empty()) else {
        return Err(ApiError::meteor("The required \"mid\" body param is missing.", ""));
    };
    follow_thread(&state, &caller.user, &mid, yes).await?;
    Ok(success(json!({})))
}

/// `ignoreUser`: both users must be in the room; the caller's subscription keeps the list.
async fn ignore_user(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let Some(rid) = arg_str(&q, "rid").filter(|s| !s.trim().is_empty()) else {
        return Err(ApiError::meteor("error-room-id-param-not-provided", "The required \"rid\" param is missing."));
    };
    let Some(user_id) = arg_str(&q, "userId").filter(|s| !s.trim().is_empty()) else {
        return Err(ApiError::meteor("error-user-id-param-not-provided", "The required \"userId\" param is missing."));
    };
    let ignore = match arg_str(&q, "ignore") {
        None => arg_bool(&q, "ignore").unwrap_or(true),
        Some(s) => s.contains("true") || s.contains('1'),
    };
    let invalid = || {
        ApiError::meteor_details("error-invalid-subscription", "Invalid subscription", json!({"method": "ignoreUser"}))
    };
    let Some(sub) = state.store().subscription(&rid, &caller.id).await? else {
        return Err(invalid());
    };
    if state.store().subscription(&rid, &user_id).await?.is_none() {
        return Err(invalid());
    }
    let mut ignored: Vec<Value> = sub.get("ignored").and_then(Value::as_array).cloned().unwrap_or_default();
    ignored.retain(|u| u.as_str() != Some(&*user_id));
    if ignore {
        ignored.push(json!(user_id));
    }
    let mut set = Doc::new();
    set.insert("ignored".into(), Value::Array(ignored));
    state.store().update_subscription(&rid, str_of(&caller.user, "_id"), set).await?;
    Ok(success(json!({})))
}

async fn report(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    if let Some(e) = REPORT.first_error(&body) {
        return Err(ApiError::invalid_params(&e));
    }
    let message_id = arg_str(&body, "messageId").unwrap_or_default();
    if message_id.is_empty() {
        return Err(ApiError::plain("The required \"messageId\" param is missing."));
    }
    let description = arg_str(&body, "description").unwrap_or_default();
    if description.is_empty() {
        return Err(ApiError::plain("The required \"description\" param is missing."));
    }
    report_message(&state, &caller.user, &message_id, &description).await?;
    Ok(success(json!({})))
}
