//! `roles.sync`, `roles.getUsersInRole`, `roles.getUsersInPublicRoles`. Rocket.Chat's handlers:
//! <https://github.com/RocketChat/Rocket.Chat/blob/develop/apps/meteor/app/api/server/v1/roles.ts>

use super::docs::Routes;
use super::pagination::Page;
use super::validation::schema::Ty;
use crate::domain::{get_path, str_of};
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Caller, Query, arg_str};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};
use store::Doc;

pub fn routes() -> Routes {
    Routes::new()
        .get("/roles.sync", sync)
        .summary("Roles changed since a date")
        .query(&[("updatedSince", Ty::Str)])
        .get("/roles.getUsersInRole", users_in_role)
        .summary("Users holding a role")
        .query(&[("role", Ty::Str), ("roomId", Ty::Str), ("offset", Ty::Num), ("count", Ty::Num)])
        .get("/roles.getUsersInPublicRoles", users_in_public_roles)
        .summary("Users holding public roles")
}

fn has_role(doc: &Doc, role: &str) -> bool {
    doc.get("roles").and_then(Value::as_array).is_some_and(|r| r.iter().any(|x| x == role))
}

/// Roles changed after `updatedSince`: `{roles: {update, remove}}`.
async fn sync(State(state): State<AppState>, _caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let Some(raw) = arg_str(&q, "updatedSince") else {
        return Err(ApiError::invalid_params_typed("must have required property 'updatedSince'"));
    };
    let Some(since) = store::ids::parse_iso(&raw) else {
        return Err(ApiError::meteor(
            "error-updatedSince-param-invalid",
            "The \"updatedSince\" query parameter must be a valid date.",
        ));
    };
    let mut roles = state.store().roles().await?;
    roles.retain(|r| store::ids::parse_iso(str_of(r, "_updatedAt")).is_some_and(|t| t > since));
    Ok(success(json!({"roles": {"update": roles, "remove": []}})))
}

fn user_item(u: &Doc) -> Value {
    let mut item = serde_json::Map::new();
    for f in ["_id", "name", "username", "status", "statusText", "roles", "active", "type", "emails", "createdAt"] {
        if let Some(v) = u.get(f) {
            item.insert(f.into(), v.clone());
        }
    }
    Value::Object(item)
}

/// Holders of a role (needs `access-permissions`): of a room's subscriptions with `roomId`
/// for room-scoped roles, else of the users' own roles. `{users, total}`.
async fn users_in_role(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let role = arg_str(&q, "role")
        .filter(|r| !r.is_empty())
        .ok_or_else(|| ApiError::meteor("error-param-not-provided", "Query param \"role\" is required"))?;
    if !state.has_permission(&caller.user, "access-permissions") {
        return Err(ApiError::meteor("error-not-allowed", "Not allowed"));
    }
    let roles = state.store().roles().await?;
    let Some(role_doc) = roles.iter().find(|r| str_of(r, "_id") == role || str_of(r, "name") == role) else {
        return Err(ApiError::meteor("error-invalid-roleId", "Role not found"));
    };
    let role_id = str_of(role_doc, "_id");
    let page = Page::from_args(&state.settings, &q)?;
    let room_id = arg_str(&q, "roomId").filter(|r| !r.is_empty());
    let mut users: Vec<Doc> = match (&room_id, str_of(role_doc, "scope")) {
        (Some(rid), "Subscriptions") => {
            if state.store().room_by_id(rid).await?.is_none() {
                return Err(ApiError::meteor("error-invalid-room", "Invalid room"));
            }
            let ids: Vec<String> = state
                .store()
                .subscriptions_of_room(rid)
                .await?
                .iter()
                .filter(|s| has_role(s, role_id))
                .filter_map(|s| get_path(s, "u._id").and_then(Value::as_str).map(str::to_owned))
                .collect();
            state.store().users_by_ids(&ids).await?
        }
        _ => state.store().users().await?.into_iter().filter(|u| has_role(u, role_id)).collect(),
    };
    users.sort_by(|a, b| str_of(a, "username").cmp(str_of(b, "username")));
    let total = users.len();
    let users: Vec<Value> = page.slice(users).iter().map(user_item).collect();
    Ok(success(json!({"users": users, "total": total})))
}

/// Users holding a public role: a workspace-wide role with a description (`admin`, the
/// livechat roles). `{users: [{_id, username, roles}]}`.
async fn users_in_public_roles(State(state): State<AppState>, _caller: Caller) -> ApiResult<Response> {
    let public: Vec<String> = state
        .store()
        .roles()
        .await?
        .iter()
        .filter(|r| str_of(r, "scope") == "Users" && !str_of(r, "description").is_empty())
        .map(|r| str_of(r, "_id").to_owned())
        .collect();
    let users: Vec<Value> = state
        .store()
        .users()
        .await?
        .iter()
        .filter(|u| public.iter().any(|r| has_role(u, r)))
        .map(|u| json!({"_id": str_of(u, "_id"), "username": str_of(u, "username"), "roles": u.get("roles")}))
        .collect();
    Ok(success(json!({"users": users})))
}
