//! `teams.create`, `teams.delete`, `teams.info`.

use super::docs::Routes;
use super::validation::checks::{ajv_type_errors, typed_body};
use super::validation::schema::Ty;
use crate::domain::str_of;
use crate::domain::teams::{NewTeam, create_team};
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Args, Body, Caller, Query, arg_str};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};
use store::Doc;

pub fn routes() -> Routes {
    Routes::new()
        .post("/teams.create", create)
        .summary("Create a team and its main room")
        .body(&[("name", Ty::Str), ("type", Ty::Num), ("members", Ty::StrList), ("owner", Ty::Str), ("room", Ty::Obj)])
        .post("/teams.delete", delete)
        .summary("Delete a team")
        .body(&[("teamId", Ty::Str), ("teamName", Ty::Str), ("roomsToRemove", Ty::StrList)])
        .get("/teams.info", info)
        .summary("One team")
        .query(&[("teamId", Ty::Str), ("teamName", Ty::Str)])
}

async fn create(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    state.require(&caller.user, "create-team")?;
    let mut errors = Vec::new();
    match body.get("name") {
        None => errors.push("must have required property 'name'".to_owned()),
        Some(Value::String(_)) => {}
        Some(_) => errors.push("/name must be string".to_owned()),
    }
    let team_type = match body.get("type") {
        Some(Value::Number(n)) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) if s == "0" || s == "1" => s.parse().unwrap_or(0),
        Some(_) => {
            errors.push("/type must be equal to one of the allowed values".to_owned());
            0
        }
        None => {
            errors.push("must have required property 'type'".to_owned());
            0
        }
    };
    errors.extend(ajv_type_errors(&body, "", &[("owner", Ty::Str), ("members", Ty::Arr), ("room", Ty::Obj)]));
    typed_body(errors)?;
    let name = arg_str(&body, "name").unwrap_or_default().trim().to_owned();
    let owner = arg_str(&body, "owner").filter(|id| !id.is_empty()).map(|id| id.into_owned());
    let members: Vec<String> = crate::domain::strings(body.get("members"));
    let new = NewTeam { name, team_type, owner_id: owner, members };
    let team = create_team(&state, &caller.user, new).await?;
    Ok(success(json!({"team": team})))
}

pub(super) async fn find_team(state: &AppState, args: &Args) -> ApiResult<Doc> {
    let team = if let Some(id) = arg_str(args, "teamId").filter(|s| !s.is_empty()) {
        state.store().team_by_id(&id).await?
    } else if let Some(name) = arg_str(args, "teamName").filter(|s| !s.is_empty()) {
        state.store().team_by_name(&name).await?
    } else {
        return Err(ApiError::plain("Provide either the \"teamId\" or \"teamName\""));
    };
    team.ok_or_else(|| ApiError::plain("team-does-not-exist"))
}

async fn delete(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let team = find_team(&state, &body).await?;
    if !state.has_permission_in_room(&caller.user, "delete-team", str_of(&team, "roomId")).await? {
        return Err(ApiError::forbidden());
    }
    let rooms: Vec<String> = crate::domain::strings(body.get("roomsToRemove"));
    state.store().delete_team(str_of(&team, "_id"), rooms).await?;
    Ok(success(json!({})))
}

async fn info(State(state): State<AppState>, _caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let team = find_team(&state, &q).await?;
    Ok(success(json!({"teamInfo": team})))
}
