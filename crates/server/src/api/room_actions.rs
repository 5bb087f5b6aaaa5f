//! `rooms.favorite`, `rooms.leave`, `rooms.cleanHistory`, `rooms.createDiscussion`.

use super::docs::Routes;
use super::lookup::find_any_room;
use crate::domain::discussions::{NewDiscussion, create_discussion};
use crate::domain::room_history::{CleanHistory, clean_room_history};
use crate::domain::rooms::leave_room;
use crate::domain::{str_of, strings};
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Args, Body, Caller, arg_str};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};
use store::Doc;

pub fn routes() -> Routes {
    Routes::new()
        .post("/rooms.favorite", favorite)
        .post("/rooms.leave", leave)
        .post("/rooms.cleanHistory", clean_history)
        .post("/rooms.createDiscussion", create_discussion_route)
}

/// `toggleFavorite`: the caller's subscription gets `f`.
async fn favorite(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let Some(fav) = body.get("favorite") else {
        return Err(ApiError::plain("The 'favorite' param is required"));
    };
    let room = find_any_room(&state, &body).await?;
    let mut set = Doc::new();
    set.insert("f".into(), json!(crate::domain::truthy(Some(fav)) && fav.as_str() != Some("false")));
    if !state.store().update_subscription(str_of(&room, "_id"), &caller.id, set).await? {
        return Err(ApiError::meteor_details(
            "error-invalid-subscription",
            "You must be part of a room to favorite it",
            json!({"method": "toggleFavorite"}),
        ));
    }
    Ok(success(json!({})))
}

/// `leaveRoomMethod` for any room type but direct messages.
async fn leave(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let room = find_any_room(&state, &body).await?;
    let t = str_of(&room, "t").to_owned();
    if t != "c" && t != "p" {
        return Err(ApiError::meteor_details("error-not-allowed", "Not allowed", json!({"method": "leaveRoom"})));
    }
    leave_room(&state, &room, &caller.user, &t).await?;
    Ok(success(json!({})))
}

/// `true`, `"true"`, `1` or `"1"` (Rocket.Chat's reading of boolean body flags).
fn flag(body: &Args, key: &str, default: bool) -> bool {
    match body.get(key) {
        None | Some(Value::Null) => default,
        Some(v) => [json!(true), json!("true"), json!(1), json!("1")].contains(v),
    }
}

fn date(body: &Args, key: &str) -> ApiResult<String> {
    let raw = arg_str(body, key).filter(|s| !s.is_empty());
    let Some(raw) = raw else {
        return Err(ApiError::plain(format!("Body parameter \"{key}\" is required.")));
    };
    store::ids::parse_iso(&raw)
        .map(store::ids::iso)
        .ok_or_else(|| ApiError::invalid_params(&format!("/{key} must match format \"date-time\"")))
}

async fn clean_history(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let room = find_any_room(&state, &body).await?;
    let rid = str_of(&room, "_id").to_owned();
    let clean = CleanHistory {
        rid: rid.clone(),
        latest: date(&body, "latest")?,
        oldest: date(&body, "oldest")?,
        inclusive: flag(&body, "inclusive", false),
        exclude_pinned: flag(&body, "excludePinned", false),
        files_only: flag(&body, "filesOnly", false),
        ignore_threads: flag(&body, "ignoreThreads", false),
        ignore_discussion: flag(&body, "ignoreDiscussion", true),
        from_users: strings(body.get("users")),
        limit: body.get("limit").and_then(Value::as_u64).unwrap_or(0) as usize,
    };
    let count = clean_room_history(&state, &caller.user, clean).await?;
    Ok(success(json!({"_id": rid, "count": count})))
}

async fn create_discussion_route(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body,
) -> ApiResult<Response> {
    let text = |key: &str| arg_str(&body, key).filter(|s| !s.is_empty()).map(|s| s.into_owned());
    let Some(prid) = text("prid") else {
        return Err(ApiError::plain("Body parameter \"prid\" is required."));
    };
    let Some(name) = text("t_name") else {
        return Err(ApiError::plain("Body parameter \"t_name\" is required."));
    };
    if body.get("users").is_some_and(|u| !u.is_array()) {
        return Err(ApiError::plain("Body parameter \"users\" must be an array."));
    }
    if body.get("encrypted").is_some_and(|e| !e.is_boolean()) {
        return Err(ApiError::plain("Body parameter \"encrypted\" must be a boolean when included."));
    }
    let new = NewDiscussion {
        prid,
        pmid: text("pmid"),
        name,
        users: strings(body.get("users")),
        reply: text("reply"),
        topic: text("topic"),
    };
    let discussion = create_discussion(&state, &caller.user, new).await?;
    Ok(success(json!({"discussion": discussion})))
}
