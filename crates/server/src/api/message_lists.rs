//! Message listings of one room: `chat.getPinnedMessages`, `chat.getStarredMessages`,
//! `chat.getMentionedMessages`, `chat.getDiscussions`, `chat.search`, the deleted messages
//! (`chat.getDeletedMessages`), and their sync form `chat.syncMessages`. Each filter is the
//! room AND what the endpoint lists AND the caller's `query`; the caller must be able to access
//! the room.

use super::docs::Routes;
use super::listing::{DATE_FIELDS, ListParams};
use super::pagination::Page;
use super::validation::schema::Ty;
use crate::domain::present_fields;
use crate::domain::rooms::can_access_room;
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Args, Caller, Query, arg_str};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use query::Filter;
use query::filter::escape_pcre;
use serde_json::{Value, json};
use store::Doc;

pub fn routes() -> Routes {
    Routes::new()
        .get("/chat.getPinnedMessages", pinned)
        .get("/chat.getStarredMessages", starred)
        .get("/chat.getMentionedMessages", mentioned)
        .get("/channels.getAllUserMentionsByChannel", mentions_by_channel)
        .get("/chat.getDiscussions", discussions)
        .get("/chat.search", search)
        .get("/chat.syncMessages", sync_messages)
        .get("/chat.getDeletedMessages", deleted_messages)
        .summary("Messages of a room deleted since a date")
        .query(&[("roomId", Ty::Str), ("since", Ty::Str), ("offset", Ty::Num), ("count", Ty::Num)])
}

/// A filter built from trusted JSON (constant shapes and escaped user text).
pub fn trusted(v: Value) -> ApiResult<Filter> {
    Filter::parse_with_dates(&v, DATE_FIELDS).map_err(|e| ApiError::invalid_params(&e.to_string()))
}

/// Messages not hidden from listings.
pub fn visible() -> ApiResult<Filter> {
    trusted(json!({"_hidden": {"$ne": true}}))
}

/// A page of messages: `filters` AND the caller's `query`, in the caller's order or `order`.
pub async fn message_page(
    state: &AppState,
    args: &Args,
    filters: Vec<Filter>,
    order: &[(&str, bool)],
) -> ApiResult<(Vec<Value>, usize, usize)> {
    let params = ListParams::from_args(state, args)?;
    let (docs, total) = state.store().find_messages(params.doc_query(filters, order)).await?;
    Ok((params.project(docs), total, params.page.offset))
}

fn page_body(messages: Vec<Value>, total: usize, offset: usize) -> Response {
    success(json!({"messages": messages, "count": messages.len(), "offset": offset, "total": total}))
}

/// A room the caller can access, or `None`.
pub async fn accessible_room(state: &AppState, rid: &str, user: &Doc) -> ApiResult<Option<Doc>> {
    match state.store().room_by_id(rid).await? {
        Some(room) if can_access_room(state, &room, user).await? => Ok(Some(room)),
        _ => Ok(None),
    }
}

fn room_id_param(q: &Args, code: &str) -> ApiResult<String> {
    match arg_str(q, "roomId").filter(|s| !s.is_empty()) {
        Some(id) => Ok(id.into_owned()),
        None => Err(ApiError::meteor(code, "The required \"roomId\" query param is missing.")),
    }
}

async fn pinned(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let rid = room_id_param(&q, "error-roomId-param-not-provided")?;
    if accessible_room(&state, &rid, &caller.user).await?.is_none() {
        return Err(ApiError::meteor("error-not-allowed", "Not allowed"));
    }
    let filters = vec![visible()?, trusted(json!({"rid": rid, "pinned": true, "t": {"$ne": "rm"}}))?];
    let (messages, total, offset) = message_page(&state, &q, filters, &[("ts", false)]).await?;
    Ok(page_body(messages, total, offset))
}

/// `findStarredMessages` / `findMentionedMessages`: the room's messages `path` ties to the caller.
async fn mine(state: &AppState, caller: &Caller, q: &Args, path: &str) -> ApiResult<Response> {
    let rid = room_id_param(q, "error-invalid-params")?;
    if accessible_room(state, &rid, &caller.user).await?.is_none() {
        return Err(ApiError::plain("error-not-allowed"));
    }
    let filters = vec![visible()?, trusted(json!({"rid": rid, path: caller.id}))?];
    let (messages, total, offset) = message_page(state, q, filters, &[("ts", false)]).await?;
    Ok(page_body(messages, total, offset))
}

async fn starred(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    mine(&state, &caller, &q, "starred._id").await
}

async fn mentioned(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    mine(&state, &caller, &q, "mentions._id").await
}

/// The same listing as `chat.getMentionedMessages`, with this endpoint's own error.
async fn mentions_by_channel(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    if arg_str(&q, "roomId").filter(|s| !s.is_empty()).is_none() {
        return Err(ApiError::plain("The request param \"roomId\" is required"));
    }
    mine(&state, &caller, &q, "mentions._id").await
}

/// `findDiscussionsFromRoom`: the messages announcing the room's discussions (`drid`).
async fn discussions(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let rid = room_id_param(&q, "error-invalid-params")?;
    if accessible_room(&state, &rid, &caller.user).await?.is_none() {
        return Err(ApiError::plain("error-not-allowed"));
    }
    let mut filters = vec![trusted(json!({"rid": rid, "drid": {"$exists": true}}))?];
    if let Some(text) = arg_str(&q, "text").filter(|t| !t.is_empty()) {
        filters.push(trusted(json!({"msg": {"$regex": escape_pcre(&text), "$options": "i"}}))?);
    }
    let (messages, total, offset) = message_page(&state, &q, filters, &[("ts", false)]).await?;
    Ok(page_body(messages, total, offset))
}

/// `messageSearch`: the words of `searchText` (case-insensitive), with the `from:user`,
/// `is:pinned` and `has:star` operators; newest first. A room the caller cannot access gives
/// no messages.
async fn search(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    for key in ["roomId", "searchText"] {
        if arg_str(&q, key).is_none() {
            return Err(ApiError::invalid_params(&format!("must have required property '{key}'")));
        }
    }
    let rid = arg_str(&q, "roomId").unwrap_or_default().into_owned();
    let text = arg_str(&q, "searchText").unwrap_or_default().trim().to_owned();
    if text.is_empty() || accessible_room(&state, &rid, &caller.user).await?.is_none() {
        return Ok(success(json!({"messages": []})));
    }
    let mut filters = vec![visible()?, trusted(json!({"rid": rid, "t": {"$ne": "rm"}}))?];
    let mut words = Vec::new();
    for word in text.split_whitespace() {
        if let Some(user) = word.strip_prefix("from:") {
            let user = user.trim_start_matches('@');
            let user = if user == "me" { caller.username() } else { user };
            filters.push(trusted(json!({"u.username": user}))?);
        } else if word == "is:pinned" {
            filters.push(trusted(json!({"pinned": true}))?);
        } else if word == "has:star" {
            filters.push(trusted(json!({"starred._id": caller.id}))?);
        } else {
            words.push(escape_pcre(word));
        }
    }
    if !words.is_empty() {
        filters.push(trusted(json!({"msg": {"$regex": words.join(".*"), "$options": "i"}}))?);
    }
    let (messages, _, _) = message_page(&state, &q, filters, &[("ts", false)]).await?;
    Ok(success(json!({"messages": messages})))
}

/// A date parameter, or the error Rocket.Chat gives for it.
pub fn date_param(q: &Args, key: &str, missing: ApiError, invalid: ApiError) -> ApiResult<String> {
    let raw = arg_str(q, key).filter(|s| !s.is_empty()).ok_or(missing)?;
    store::ids::parse_iso(&raw).map(store::ids::iso).ok_or(invalid)
}

/// Trash records of deleted messages matching `filter` and deleted after `since` (records past
/// the retention are never listed, even before they are pruned), in `order` or the order they
/// were deleted in; one page, or all with `page: None`.
pub async fn deleted_since(
    state: &AppState,
    filter: Value,
    since: &str,
    order: &[(&str, bool)],
    page: Option<Page>,
) -> ApiResult<(Vec<Doc>, usize)> {
    let kept = store::trash::cutoff(chrono::Utc::now());
    let deleted = json!({"_deletedAt": {"$gt": {"$date": since}, "$gte": {"$date": kept}}});
    let query = store::DocQuery {
        sort: (!order.is_empty()).then(|| query::Sort::by(order)),
        sort_keys: order.iter().map(|(k, asc)| ((*k).to_owned(), *asc)).collect(),
        offset: page.map_or(0, |p| p.offset),
        limit: page.and_then(|p| p.count),
        ..store::DocQuery::all(Filter::and(vec![trusted(filter)?, trusted(deleted)?]))
    };
    Ok(state.store().find_deleted_messages(query).await?)
}

/// Only these fields of each document.
fn pick(docs: &[Doc], keys: &[&str]) -> Vec<Value> {
    docs.iter().map(|d| Value::Object(present_fields(d, keys))).collect()
}

/// `chat.getDeletedMessages`: the room's messages deleted after `since`, in the order they were
/// deleted, as `{_id}`. Rocket.Chat asks nothing of the caller here; Liftoff answers only those
/// who can access the room (`error-not-allowed` otherwise, as the room's other listings).
async fn deleted_messages(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let page = Page::from_args(&state.settings, &q)?;
    let Some(rid) = arg_str(&q, "roomId").filter(|s| !s.is_empty()).map(|s| s.into_owned()) else {
        return Err(ApiError::meteor("The required \"roomId\" query param is missing.", ""));
    };
    let since = date_param(
        &q,
        "since",
        ApiError::meteor("The required \"since\" query param is missing.", ""),
        ApiError::meteor("The \"since\" query parameter must be a valid date.", ""),
    )?;
    if accessible_room(&state, &rid, &caller.user).await?.is_none() {
        return Err(ApiError::meteor("error-not-allowed", "Not allowed"));
    }
    let (deleted, total) = deleted_since(&state, json!({"rid": rid}), &since, &[], Some(page)).await?;
    Ok(page_body(pick(&deleted, &["_id"]), total, page.offset))
}

/// `messages/get` with `lastUpdate`: the room's messages changed since then, and those deleted
/// since then (`{_id, _deletedAt}`), newest first.
async fn sync_messages(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let rid = match arg_str(&q, "roomId").filter(|s| !s.is_empty()) {
        Some(id) => id.into_owned(),
        None => {
            return Err(ApiError::meteor(
                "error-roomId-param-not-provided",
                "The required \"roomId\" query param is missing",
            ));
        }
    };
    let since = date_param(
        &q,
        "lastUpdate",
        ApiError::meteor("error-param-required", "The \"type\" or \"lastUpdate\" parameters must be provided"),
        ApiError::meteor("error-lastUpdate-param-invalid", "The \"lastUpdate\" query parameter must be a valid date"),
    )?;
    if accessible_room(&state, &rid, &caller.user).await?.is_none() {
        return Err(ApiError::meteor_details("error-not-allowed", "not-allowed", json!({"method": "messages/get"})));
    }
    let filters = vec![visible()?, trusted(json!({"rid": rid, "_updatedAt": {"$gt": {"$date": since}}}))?];
    let query = store::DocQuery {
        sort: Some(query::Sort::by(&[("ts", false)])),
        sort_keys: vec![("ts".into(), false)],
        ..store::DocQuery::all(Filter::and(filters))
    };
    let (updated, _) = state.store().find_messages(query).await?;
    let (deleted, _) = deleted_since(&state, json!({"rid": rid}), &since, &[("ts", false)], None).await?;
    Ok(success(json!({"result": {"updated": updated, "deleted": pick(&deleted, &["_id", "_deletedAt"])}})))
}
