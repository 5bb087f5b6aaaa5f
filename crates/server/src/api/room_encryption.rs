//! `groups.setEncrypted`.

use super::docs::Routes;
use super::lookup::find_group;
use crate::domain::room_encryption::set_encrypted;
use crate::domain::rooms::public_room;
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Body, Caller};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};

pub fn routes() -> Routes {
    Routes::new().post("/groups.setEncrypted", set)
}

async fn set(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let Some(encrypted) = body.get("encrypted").and_then(Value::as_bool) else {
        return Err(ApiError::plain("The bodyParam \"encrypted\" is required"));
    };
    let room = find_group(&state, &body, &caller.user, false).await?;
    let room = set_encrypted(&state, &caller.user, &room, encrypted).await?;
    Ok(success(json!({"group": public_room(room)})))
}
