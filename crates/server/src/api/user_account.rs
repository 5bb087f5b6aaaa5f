//! `users.createToken`, `users.setActiveStatus`, `users.setPreferences`, `users.getPreferences`.

use super::docs::Routes;
use super::lookup::user_from_params;
use crate::domain::str_of;
use crate::domain::user_account::{create_access_token, save_preferences, set_active_status};
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Body, Caller};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};

pub fn routes() -> Routes {
    Routes::new()
        .post("/users.createToken", create_token)
        .post("/users.setActiveStatus", set_active)
        .post("/users.setPreferences", set_preferences)
        .get("/users.getPreferences", get_preferences)
}

async fn create_token(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let user = user_from_params(&state, &body).await?;
    let data = create_access_token(&state, &caller.user, &user).await?;
    Ok(success(json!({"data": data})))
}

async fn set_active(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    state.require_any(&caller.user, &["edit-other-user-active-status", "manage-moderation-actions"])?;
    let Some(user_id) = body.get("userId").and_then(Value::as_str) else {
        return Err(ApiError::invalid_params_typed("must have required property 'userId'"));
    };
    let Some(active) = body.get("activeStatus").and_then(Value::as_bool) else {
        return Err(ApiError::invalid_params_typed("must have required property 'activeStatus'"));
    };
    let Some(user) = state.store().user_by_id(user_id).await? else {
        return Err(ApiError::plain("User not found"));
    };
    set_active_status(&state, &user, active).await?;
    Ok(success(json!({"user": {"_id": user_id, "active": active}})))
}

async fn set_preferences(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let Some(Value::Object(data)) = body.get("data") else {
        return Err(ApiError::invalid_params_typed("must have required property 'data'"));
    };
    let user_id = body.get("userId").and_then(Value::as_str).unwrap_or(&caller.id).to_owned();
    if user_id != caller.id && !state.has_permission(&caller.user, "edit-other-user-info") {
        return Err(ApiError::meteor("error-action-not-allowed", "Editing user is not allowed"));
    }
    let Some(user) = state.store().user_by_id(&user_id).await? else {
        return Err(ApiError::meteor(
            "error-invalid-user",
            "The optional \"userId\" param provided does not match any users",
        ));
    };
    let user = save_preferences(&state, &user, data).await?;
    let preferences = user.get("settings").and_then(|s| s.get("preferences")).cloned().unwrap_or(json!({}));
    Ok(success(
        json!({"user": {"_id": str_of(&user, "_id"), "settings": {"preferences": preferences}, "language": user.get("language")}}),
    ))
}

async fn get_preferences(State(_state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let Some(Value::Object(settings)) = caller.user.get("settings") else {
        return Err(ApiError::plain(
            "FAILED TO RETRIEVE USER PREFERENCES BECAUSE THEY HAVEN'T BEEN SET UP BY THE USER",
        ));
    };
    let mut preferences = settings.get("preferences").cloned().unwrap_or(json!({}));
    if let Some(language) = caller.user.get("language") {
        preferences["language"] = language.clone();
    }
    Ok(success(json!({"preferences": preferences})))
}
