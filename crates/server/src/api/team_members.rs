//! `teams.members`, `teams.addMembers`, `teams.updateMember`, `teams.removeMember`.

use super::docs::Routes;
use super::pagination::Page;
use super::teams::find_team;
use crate::domain::team_members::{MemberChange, add_members, remove_member, update_member};
use crate::domain::{str_of, strings};
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Args, Body, Caller, Query, arg_str};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};
use store::Doc;

pub fn routes() -> Routes {
    Routes::new()
        .get("/teams.members", members)
        .post("/teams.addMembers", add)
        .post("/teams.updateMember", update)
        .post("/teams.removeMember", remove)
}

async fn require_in_team(state: &AppState, caller: &Caller, team: &Doc, permissions: &[&str]) -> ApiResult<()> {
    for p in permissions {
        if state.has_permission_in_room(&caller.user, p, str_of(team, "roomId")).await? {
            return Ok(());
        }
    }
    Err(ApiError::forbidden())
}

fn member_change(v: &Value) -> ApiResult<MemberChange> {
    let Some(user_id) = v.get("userId").and_then(Value::as_str) else {
        return Err(ApiError::invalid_params("must have required property 'userId'"));
    };
    let roles = match v.get("roles") {
        None | Some(Value::Null) => None,
        Some(Value::Array(_)) => Some(strings(v.get("roles"))),
        Some(_) => return Err(ApiError::invalid_params("/roles must be array")),
    };
    Ok(MemberChange { user_id: user_id.to_owned(), roles })
}

/// A case-insensitive "contains" on a field, for the `username` and `name` parameters.
fn contains(haystack: &str, needle: &str) -> bool {
    needle.is_empty() || haystack.to_lowercase().contains(&needle.to_lowercase())
}

/// `Team.members`: visible to members and to holders of `view-all-teams`.
async fn members(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let team = find_team(&state, &q).await?;
    let team_id = str_of(&team, "_id");
    let page = Page::from_args(&state.settings, &q)?;
    let can_see_all = state.has_permission_in_room(&caller.user, "view-all-teams", str_of(&team, "roomId")).await?;
    if !can_see_all && state.store().team_member(team_id, &caller.id).await?.is_none() {
        return Ok(success(json!({"members": [], "count": 0, "offset": page.offset, "total": 0})));
    }
    let records = state.store().team_members(team_id).await?;
    let ids: Vec<String> = records.iter().map(|m| str_of(m, "userId").to_owned()).collect();
    let users = state.store().users_by_ids(&ids).await?;
    let username = arg_str(&q, "username").unwrap_or_default().into_owned();
    let name = arg_str(&q, "name").unwrap_or_default().into_owned();
    let statuses = strings(q.get("status"));
    let mut out = Vec::new();
    for m in &records {
        let Some(u) = users.iter().find(|u| str_of(u, "_id") == str_of(m, "userId")) else { continue };
        let status = u.get("status").and_then(Value::as_str).unwrap_or("offline");
        if !contains(str_of(u, "username"), &username)
            || !contains(str_of(u, "name"), &name)
            || (!statuses.is_empty() && !statuses.iter().any(|s| s == status))
        {
            continue;
        }
        out.push(json!({
            "user": {"_id": u.get("_id"), "username": u.get("username"), "name": u.get("name"), "status": status},
            "roles": m.get("roles").cloned().unwrap_or(json!([])),
            "createdBy": m.get("createdBy"),
            "createdAt": m.get("createdAt"),
        }));
    }
    let total = out.len();
    let page_items = page.slice(out);
    Ok(success(json!({"members": page_items, "count": page_items.len(), "offset": page.offset, "total": total})))
}

async fn add(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let members = match body.get("members") {
        Some(Value::Array(list)) if !list.is_empty() => {
            list.iter().map(member_change).collect::<ApiResult<Vec<_>>>()?
        }
        Some(Value::Array(_)) => return Err(ApiError::invalid_params("/members must NOT have fewer than 1 items")),
        Some(_) => return Err(ApiError::invalid_params("/members must be array")),
        None => return Err(ApiError::invalid_params("must have required property 'members'")),
    };
    let team = find_team(&state, &body).await?;
    require_in_team(&state, &caller, &team, &["add-team-member", "edit-team-member"]).await?;
    add_members(&state, &caller.user, &team, members).await?;
    Ok(success(json!({})))
}

async fn update(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let change = match body.get("member") {
        Some(m @ Value::Object(_)) => member_change(m)?,
        Some(_) => return Err(ApiError::invalid_params("/member must be object")),
        None => return Err(ApiError::invalid_params("must have required property 'member'")),
    };
    let team = find_team(&state, &body).await?;
    require_in_team(&state, &caller, &team, &["edit-team-member"]).await?;
    update_member(&state, &team, change).await?;
    Ok(success(json!({})))
}

fn user_id_param(body: &Args) -> ApiResult<String> {
    match body.get("userId") {
        Some(Value::String(id)) => Ok(id.clone()),
        Some(_) => Err(ApiError::invalid_params("/userId must be string")),
        None => Err(ApiError::invalid_params("must have required property 'userId'")),
    }
}

async fn remove(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let user_id = user_id_param(&body)?;
    if body.get("rooms").is_some_and(|r| !r.is_array()) {
        return Err(ApiError::invalid_params("/rooms must be array"));
    }
    let team = find_team(&state, &body).await?;
    require_in_team(&state, &caller, &team, &["edit-team-member"]).await?;
    let user = state.store().user_by_id(&user_id).await?;
    let Some(user) = user.filter(|u| u.get("active").and_then(Value::as_bool) != Some(false)) else {
        return Err(ApiError::plain("User not found"));
    };
    remove_member(&state, &caller.user, &team, &user, &strings(body.get("rooms"))).await?;
    Ok(success(json!({})))
}
