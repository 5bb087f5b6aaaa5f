//! `rooms.get` (the caller's rooms, for syncing clients) and `rooms.adminRooms` (every room,
//! for administrators).

use super::docs::Routes;
use super::listing::{LIST_ARGS, ListParams};
use super::validation::schema::Ty;
use crate::domain::rooms::public_room;
use crate::domain::str_of;
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Caller, Query, arg_str};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};

pub fn routes() -> Routes {
    Routes::new()
        .get("/rooms.get", rooms_get)
        .summary("Rooms the caller is subscribed to")
        .query(&[("updatedSince", Ty::Str)])
        .get("/rooms.adminRooms", admin_rooms)
        .summary("All rooms (administration)")
        .query(LIST_ARGS)
        .query(&[("types", Ty::StrList), ("filter", Ty::Str)])
}

/// The rooms the caller is subscribed to, changed after `updatedSince` when given:
/// `{update, remove}` (deleted rooms are not tracked, so `remove` is empty).
async fn rooms_get(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let since = match arg_str(&q, "updatedSince") {
        None => None,
        Some(raw) => Some(store::ids::parse_iso(&raw).ok_or_else(|| {
            ApiError::meteor(
                "error-updatedSince-param-invalid",
                "The \"updatedSince\" query parameter must be a valid date.",
            )
        })?),
    };
    let mut update = Vec::new();
    for sub in state.store().subscriptions_of_user(&caller.id).await? {
        if let Some(room) = state.store().room_by_id(str_of(&sub, "rid")).await?
            && since.is_none_or(|s| store::ids::parse_iso(str_of(&room, "_updatedAt")).is_some_and(|t| t > s))
        {
            update.push(public_room(room));
        }
    }
    Ok(success(json!({"update": update, "remove": []})))
}

/// Every room of the `types` asked for (all by default) whose name contains `filter`
/// (case-insensitive); route permission `view-room-administration`.
async fn admin_rooms(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    state.require(&caller.user, "view-room-administration")?;
    let params = ListParams::from_args(&state, &q)?;
    let types: Vec<String> = match q.get("types").or_else(|| q.get("types[]")) {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
        _ => vec!["c".into(), "p".into(), "d".into()],
    };
    let filter = arg_str(&q, "filter").unwrap_or_default().to_lowercase();
    let mut rooms = Vec::new();
    for t in types.iter().filter(|t| matches!(t.as_str(), "c" | "p" | "d")) {
        for room in state.store().rooms_by_type(t).await? {
            let name = room.get("fname").or_else(|| room.get("name")).and_then(Value::as_str).unwrap_or_default();
            if filter.is_empty() || name.to_lowercase().contains(&filter) {
                rooms.push(public_room(room));
            }
        }
    }
    let (rooms, total) = params.page_in_memory(rooms, &[("ts", false)]);
    Ok(success(json!({"rooms": rooms, "count": rooms.len(), "offset": params.page.offset, "total": total})))
}
