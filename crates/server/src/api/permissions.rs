//! `permissions.listAll`, `permissions.update`, `roles.list`.

use super::docs::Routes;
use super::validation::schema::Ty;
use crate::domain::str_of;
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Body, Caller, Query, arg_str};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};

pub fn routes() -> Routes {
    Routes::new()
        .get("/permissions.listAll", list_all)
        .summary("Permissions and the roles holding them")
        .query(&[("updatedSince", Ty::Str)])
        .post("/permissions.update", update)
        .summary("Set the roles of permissions")
        .body(&[("permissions", Ty::ObjList)])
        .get("/roles.list", roles_list)
        .summary("Roles")
}

async fn list_all(State(state): State<AppState>, _caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let mut permissions = state.store().permissions().await?;
    if let Some(since) = arg_str(&q, "updatedSince") {
        let Some(since) = store::ids::parse_iso(&since) else {
            return Err(ApiError::meteor(
                "error-roomId-param-invalid",
                "The \"updatedSince\" query parameter must be a valid date.",
            ));
        };
        permissions.retain(|p| store::ids::parse_iso(str_of(p, "_updatedAt")).is_some_and(|t| t > since));
    }
    Ok(success(json!({"update": permissions, "remove": []})))
}

async fn update(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    state.require(&caller.user, "access-permissions")?;
    let invalid_body = || ApiError::failure("Invalid body params", "error-invalid-body-params");
    let Some(Value::Array(items)) = body.get("permissions") else {
        return Err(if body.contains_key("permissions") {
            ApiError::failure("/permissions must be array", "invalid-params")
        } else {
            ApiError::failure("must have required property 'permissions'", "invalid-params")
        });
    };
    let mut updates: Vec<(String, Vec<String>)> = Vec::with_capacity(items.len());
    for item in items {
        let Some(obj) = item.as_object() else { return Err(invalid_body()) };
        let (Some(Value::String(id)), Some(Value::Array(roles))) = (obj.get("_id"), obj.get("roles")) else {
            return Err(invalid_body());
        };
        if obj.len() != 2 {
            return Err(invalid_body());
        }
        let mut list = Vec::with_capacity(roles.len());
        for r in roles {
            let Some(r) = r.as_str() else { return Err(invalid_body()) };
            if list.iter().any(|x: &String| x == r) {
                return Err(invalid_body());
            }
            list.push(r.to_owned());
        }
        updates.push((id.clone(), list));
    }
    // All or nothing: every permission and role must exist, and no permission twice.
    let mut seen = std::collections::HashSet::new();
    if updates.iter().any(|(id, _)| !state.permissions.exists(id) || !seen.insert(id.clone())) {
        return Err(ApiError::failure("Invalid permission", "error-invalid-permission"));
    }
    let roles: Vec<String> = state.store().roles().await?.iter().map(|r| str_of(r, "_id").to_owned()).collect();
    if updates.iter().any(|(_, rs)| rs.iter().any(|r| !roles.contains(r))) {
        return Err(ApiError::failure("Invalid role", "error-invalid-role"));
    }
    state.store().set_permission_roles(updates).await?;
    state.permissions.reload(state.store()).await?;
    let permissions = state.store().permissions().await?;
    Ok(success(json!({"permissions": permissions})))
}

async fn roles_list(State(state): State<AppState>, _caller: Caller) -> ApiResult<Response> {
    let roles: Vec<Value> = state
        .store()
        .roles()
        .await?
        .into_iter()
        .map(|mut r| {
            r.remove("_updatedAt");
            Value::Object(r)
        })
        .collect();
    Ok(success(json!({"roles": roles})))
}
