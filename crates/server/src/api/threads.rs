//! Threads: `chat.getThreadsList`, `chat.getThreadMessages`, `chat.syncThreadsList`,
//! `chat.syncThreadMessages`. A thread is a message with replies (`tcount`); its replies carry
//! its id in `tmid`.

use super::docs::Routes;
use super::message_lists::{accessible_room, date_param, deleted_since, message_page, trusted, visible};
use crate::domain::str_of;
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Args, Caller, Query, arg_str};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use query::Filter;
use serde_json::{Value, json};
use store::{Doc, DocQuery};

pub fn routes() -> Routes {
    Routes::new()
        .get("/chat.getThreadsList", threads_list)
        .get("/chat.getThreadMessages", thread_messages)
        .get("/chat.syncThreadsList", sync_threads_list)
        .get("/chat.syncThreadMessages", sync_thread_messages)
}

fn threads_enabled(state: &AppState) -> ApiResult<()> {
    if state.settings.bool("Threads_enabled") {
        Ok(())
    } else {
        Err(ApiError::meteor("error-not-allowed", "Threads Disabled"))
    }
}

fn not_allowed() -> ApiError {
    ApiError::meteor("error-not-allowed", "Not Allowed")
}

fn required(q: &Args, key: &str, code: &str) -> ApiResult<String> {
    match arg_str(q, key).filter(|s| !s.is_empty()) {
        Some(v) => Ok(v.into_owned()),
        None => Err(ApiError::meteor(code, &format!("The required \"{key}\" query param is missing."))),
    }
}

/// The room of `rid` when the caller may read it.
async fn thread_room(state: &AppState, rid: &str, caller: &Caller) -> ApiResult<Doc> {
    accessible_room(state, rid, &caller.user).await?.ok_or_else(not_allowed)
}

/// The thread's first message when the caller may read its room.
async fn thread_start(state: &AppState, tmid: &str, caller: &Caller) -> ApiResult<Doc> {
    let thread = state.store().message_by_id(tmid).await?;
    let Some(thread) = thread.filter(|t| !str_of(t, "rid").is_empty()) else {
        return Err(ApiError::meteor("error-invalid-message", "Invalid Message"));
    };
    thread_room(state, str_of(&thread, "rid"), caller).await?;
    Ok(thread)
}

async fn threads_list(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let rid = required(&q, "rid", "error-room-id-param-not-provided")?;
    threads_enabled(&state)?;
    thread_room(&state, &rid, &caller).await?;
    let mut filters = vec![visible()?, trusted(json!({"rid": rid, "tcount": {"$exists": true}}))?];
    match arg_str(&q, "type").as_deref() {
        Some("following") => filters.push(trusted(json!({"replies": {"$in": [caller.id]}}))?),
        // No unread threads are tracked: Liftoff serves no live clients that read them.
        Some("unread") => filters.push(Filter::none()),
        _ => {}
    }
    let (threads, total, offset) = message_page(&state, &q, filters, &[("tlm", false)]).await?;
    Ok(success(json!({"threads": threads, "count": threads.len(), "offset": offset, "total": total})))
}

async fn thread_messages(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let tmid = required(&q, "tmid", "error-invalid-params")?;
    threads_enabled(&state)?;
    thread_start(&state, &tmid, &caller).await?;
    let filters = vec![visible()?, trusted(json!({"tmid": tmid}))?];
    let (messages, total, offset) = message_page(&state, &q, filters, &[("ts", true)]).await?;
    Ok(success(json!({"messages": messages, "count": messages.len(), "offset": offset, "total": total})))
}

fn updated_since(q: &Args) -> ApiResult<String> {
    date_param(
        q,
        "updatedSince",
        ApiError::meteor("error-updatedSince-param-invalid", "The required param \"updatedSince\" is missing."),
        ApiError::meteor(
            "error-updatedSince-param-invalid",
            "The \"updatedSince\" query parameter must be a valid date.",
        ),
    )
}

/// Messages matching `filter` changed after `since` (the `update` half of a sync; the trash
/// gives the `remove` half).
async fn changed_since(state: &AppState, filter: Value, since: &str, order: (&str, bool)) -> ApiResult<Vec<Doc>> {
    let filters = vec![trusted(filter)?, trusted(json!({"_updatedAt": {"$gt": {"$date": since}}}))?];
    let query = DocQuery {
        sort: Some(query::Sort::by(&[order])),
        sort_keys: vec![(order.0.into(), order.1)],
        ..DocQuery::all(Filter::and(filters))
    };
    Ok(state.store().find_messages(query).await?.0)
}

async fn sync_threads_list(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    threads_enabled(&state)?;
    let rid = required(&q, "rid", "error-room-id-param-not-provided")?;
    let since = updated_since(&q)?;
    thread_room(&state, &rid, &caller).await?;
    let threads = json!({"rid": rid, "tcount": {"$exists": true}});
    let update = changed_since(&state, threads.clone(), &since, ("tlm", false)).await?;
    let (remove, _) = deleted_since(&state, threads, &since, &[], None).await?;
    Ok(success(json!({"threads": {"update": update, "remove": remove}})))
}

async fn sync_thread_messages(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let tmid = required(&q, "tmid", "error-invalid-params")?;
    let since = updated_since(&q)?;
    threads_enabled(&state)?;
    let thread = thread_start(&state, &tmid, &caller).await?;
    let update = changed_since(&state, json!({"tmid": tmid}), &since, ("ts", true)).await?;
    // Replies live in their thread's room, which narrows the trash to search.
    let replies = json!({"rid": str_of(&thread, "rid"), "tmid": tmid});
    let (remove, _) = deleted_since(&state, replies, &since, &[], None).await?;
    Ok(success(json!({"messages": {"update": update, "remove": remove}})))
}
