//! `settings`, `settings/:_id`, `settings.public` and `service.configurations`: reading and
//! changing workspace settings. Rocket.Chat's handlers:
//! <https://github.com/RocketChat/Rocket.Chat/blob/develop/apps/meteor/app/api/server/v1/settings.ts>

use super::docs::Routes;
use super::listing::{LIST_ARGS, ListParams};
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Body, Caller, MaybeCaller, Query};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Map, Value, json};

/// Settings Rocket.Chat marks `public`: readable without logging in.
const PUBLIC: &[&str] = &[
    "API_Embed_UserAgent",
    "Accounts_RegistrationForm",
    "Accounts_RequireNameForSignUp",
    "Message_AllowDeleting",
    "Message_AllowDeleting_BlockDeleteInMinutes",
    "Message_AllowEditing",
    "Message_AllowEditing_BlockEditInMinutes",
    "Message_MaxAllowedSize",
    "Site_Url",
    "UTF8_Channel_Names_Validation",
    "UTF8_User_Names_Validation",
];

/// Settings kept for the server's own bookkeeping, never listed or changed through the API.
const HIDDEN: &[&str] = &["Initial_Channel_Created"];

pub fn routes() -> Routes {
    Routes::new()
        .get("/settings", list)
        .summary("Settings (administration)")
        .query(LIST_ARGS)
        .get("/settings/{id}", get_one)
        .summary("One setting")
        .post("/settings/{id}", update)
        .summary("One setting")
        .get("/settings.public", list_public)
        .summary("Public settings")
        .query(LIST_ARGS)
        .get("/service.configurations", service_configurations)
        .summary("OAuth service configurations")
}

fn listing(state: &AppState, q: &store::Doc, visible: impl Fn(&str) -> bool) -> ApiResult<Response> {
    let params = ListParams::from_args(state, q)?;
    let items: Vec<Value> = state
        .settings
        .all()
        .into_iter()
        .filter(|(id, _)| !HIDDEN.contains(&id.as_str()) && visible(id))
        .map(|(id, value)| json!({"_id": id, "value": value}))
        .collect();
    let (items, total) = params.page_in_memory(items, &[("_id", true)]);
    Ok(success(json!({"settings": items, "count": items.len(), "offset": params.page.offset, "total": total})))
}

/// Public settings, or all of them for callers with `view-privileged-setting`.
async fn list(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let privileged = state.has_permission(&caller.user, "view-privileged-setting");
    listing(&state, &q, |id| privileged || PUBLIC.contains(&id))
}

async fn list_public(State(state): State<AppState>, _caller: MaybeCaller, Query(q): Query) -> ApiResult<Response> {
    listing(&state, &q, |id| PUBLIC.contains(&id))
}

fn known(state: &AppState, id: &str) -> Option<Value> {
    if HIDDEN.contains(&id) { None } else { state.settings.get(id) }
}

/// `API.v1.failure()` without a message: `{success: false}`.
fn bare_failure() -> ApiError {
    ApiError::FailureBody(Map::new())
}

async fn get_one(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    state.require(&caller.user, "view-privileged-setting")?;
    let value = known(&state, &id).ok_or_else(bare_failure)?;
    Ok(success(json!({"_id": id, "value": value})))
}

/// Sets a setting's `value`; it must have the type of the setting (a number for a number, ...).
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body,
) -> ApiResult<Response> {
    state.require(&caller.user, "edit-privileged-setting")?;
    let Some(value) = body.get("value").cloned() else {
        return Err(ApiError::plain("Match error: Missing key 'value'"));
    };
    let current = known(&state, &id).ok_or_else(bare_failure)?;
    let same_type = matches!(
        (&current, &value),
        (Value::Bool(_), Value::Bool(_)) | (Value::String(_), Value::String(_)) | (Value::Null, _)
    ) || (current.is_number() && value.as_i64().is_some());
    if !same_type {
        return Err(ApiError::meteor_details(
            "error-invalid-setting-value",
            "Invalid setting value",
            json!({"method": "saveSetting", "settingId": id}),
        ));
    }
    state.settings.set(state.store(), &id, value).await?;
    Ok(success(json!({})))
}

/// No OAuth services are configured in Liftoff.
async fn service_configurations(State(_state): State<AppState>, _caller: MaybeCaller) -> ApiResult<Response> {
    Ok(success(json!({"configurations": []})))
}
