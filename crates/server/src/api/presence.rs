//! `users.setStatus` and `users.getPresence`. Liftoff serves no live connections, so a user's
//! presence is the status last set through the API. Rocket.Chat's handlers:
//! <https://github.com/RocketChat/Rocket.Chat/blob/develop/apps/meteor/app/api/server/v1/users.ts>

use super::docs::Routes;
use super::lookup::{USER_ARGS, user_from_params};
use super::validation::schema::Ty;
use crate::domain::str_of;
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Body, Caller, Query, arg_str};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};

const STATUSES: &[&str] = &["online", "away", "offline", "busy"];

pub fn routes() -> Routes {
    Routes::new()
        .post("/users.setStatus", set_status)
        .summary("Set the caller's (or a user's) status")
        .body(&[("status", Ty::Str), ("message", Ty::Str), ("userId", Ty::Str)])
        .get("/users.getPresence", get_presence)
        .summary("A user's presence")
        .query(USER_ARGS)
}

/// Sets `status` and/or the status `message` of the caller, or of `userId` with
/// `edit-other-user-info`.
async fn set_status(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    for key in ["status", "message", "userId"] {
        if body.get(key).is_some_and(|v| !v.is_string() && !v.is_null()) {
            return Err(ApiError::plain(format!(
                "Match error: Expected string, got {} in field {key}",
                kind_of(&body[key])
            )));
        }
    }
    let mut user = match arg_str(&body, "userId").filter(|id| !id.is_empty() && *id != caller.id) {
        Some(id) => {
            if !state.has_permission(&caller.user, "edit-other-user-info") {
                return Err(ApiError::Forbidden("Unauthorized".into()));
            }
            state.store().user_by_id(&id).await?.ok_or_else(|| {
                ApiError::meteor(
                    "error-invalid-user",
                    "The optional \"userId\" param provided does not match any users",
                )
            })?
        }
        None => caller.user.clone(),
    };
    let details = json!({"method": "users.setStatus"});
    if let Some(status) = arg_str(&body, "status") {
        if !STATUSES.contains(&status.as_ref()) {
            return Err(ApiError::meteor_details(
                "error-invalid-status",
                "Valid status types include online, away, offline, and busy.",
                details,
            ));
        }
        user.insert("status".into(), json!(status));
        user.insert("statusDefault".into(), json!(status));
    }
    if let Some(message) = arg_str(&body, "message") {
        user.insert("statusText".into(), json!(message.trim()));
    }
    user.insert("_updatedAt".into(), json!(store::ids::now_iso()));
    state.store().replace_user(user).await?;
    Ok(success(json!({})))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "Boolean",
        Value::Number(_) => "Number",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
        _ => "String",
    }
}

/// `{presence}` of any user; for oneself also `connectionStatus` and `lastLogin`.
async fn get_presence(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let user = user_from_params(&state, &q).await?;
    let presence = user.get("status").cloned().unwrap_or(json!("offline"));
    if str_of(&user, "_id") != caller.id {
        return Ok(success(json!({"presence": presence})));
    }
    let connection = user.get("statusConnection").cloned().unwrap_or(json!("offline"));
    let last_login = user.get("lastLogin").cloned().unwrap_or(Value::Null);
    Ok(success(json!({"presence": presence, "connectionStatus": connection, "lastLogin": last_login})))
}
