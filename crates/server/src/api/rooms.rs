//! `rooms.info`.

use super::docs::Routes;
use super::lookup::{ROOM_ARGS, find_any_room};
use crate::domain::rooms::{can_access_room, public_room};
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Caller, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};

pub fn routes() -> Routes {
    Routes::new().get("/rooms.info", info).summary("One room the caller can see").query(ROOM_ARGS)
}

async fn info(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let room = find_any_room(&state, &q).await?;
    if !can_access_room(&state, &room, &caller.user).await? {
        return Err(ApiError::failure("not-allowed", "Not Allowed"));
    }
    let mut body = json!({});
    if let Some(team_id) = room.get("teamId").and_then(Value::as_str)
        && let Some(team) = state.store().team_by_id(team_id).await?
    {
        body["team"] = Value::Object(team);
    }
    body["room"] = public_room(room);
    Ok(success(body))
}
