//! `teams.create`, `teams.delete`, `teams.info`.

use super::checks::{ajv_type_errors, typed_body};
use crate::domain::rooms::{NewRoom, room_docs, users_by_names, valid_room_name};
use crate::domain::schema::Ty;
use crate::domain::{doc, str_of};
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Args, Body, Caller, Query, arg_str};
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};
use store::Doc;
use store::ids::{now_iso, object_id};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/teams.create", post(create))
        .route("/teams.delete", post(delete))
        .route("/teams.info", get(info))
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
    let store = state.store();
    let blocked = state.settings.string("Accounts_SystemBlockedUsernameList");
    if store.user_by_username(&name).await?.is_some() || blocked.split(',').any(|b| b.trim().eq_ignore_ascii_case(&name)) {
        return Err(ApiError::plain("team-name-already-exists"));
    }
    if store.room_by_name(&name).await?.is_some() || store.team_by_name(&name).await?.is_some() {
        return Err(ApiError::plain("room-name-already-exists"));
    }
    let owner = match arg_str(&body, "owner") {
        Some(id) if !id.is_empty() => store.user_by_id(&id).await?.ok_or_else(|| ApiError::plain("error-team-creation"))?,
        _ => caller.user.clone(),
    };
    let t = if team_type == 1 { "p" } else { "c" };
    if !state.has_permission(&owner, &format!("create-{t}")) {
        return Err(ApiError::plain("error-team-creation"));
    }
    let name = valid_room_name(&state, &name).await.map_err(|_| ApiError::plain("error-team-creation"))?;
    let member_names: Vec<String> = body
        .get("members")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let members = users_by_names(&state, &member_names).await?;
    let team_id = object_id();
    let now = now_iso();
    let (room, subs) = room_docs(NewRoom {
        t,
        name: name.clone(),
        owner: &owner,
        members: members.clone(),
        read_only: false,
        exclude_self: false,
        custom_fields: None,
        extra_data: None,
        team_main: Some(team_id.clone()),
    });
    let created_by = json!({"_id": caller.id, "username": caller.username()});
    let team = doc(json!({
        "_id": team_id, "name": name, "type": team_type, "createdAt": now,
        "createdBy": created_by, "_updatedAt": now, "roomId": room["_id"],
    }));
    let mut team_members: Vec<Doc> = vec![doc(json!({
        "teamId": team_id, "userId": str_of(&owner, "_id"), "roles": ["owner"], "createdAt": now, "createdBy": created_by,
    }))];
    for m in members.iter().filter(|m| str_of(m, "_id") != str_of(&owner, "_id")) {
        team_members.push(doc(json!({"teamId": team_id, "userId": str_of(m, "_id"), "createdAt": now, "createdBy": created_by})));
    }
    let deliveries = crate::outgoing::room_deliveries(&state, "roomCreated", &room, &owner).await?;
    match store.create_team_with_deliveries(team.clone(), room, subs, team_members, deliveries.clone()).await {
        Ok(()) => crate::outgoing::enqueued(&state, &deliveries),
        Err(store::StoreError::Conflict(_)) => return Err(ApiError::plain("room-name-already-exists")),
        Err(e) => return Err(e.into()),
    }
    Ok(success(json!({"team": team})))
}

async fn find_team(state: &AppState, args: &Args) -> ApiResult<Doc> {
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
    let rooms: Vec<String> = body
        .get("roomsToRemove")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    state.store().delete_team(str_of(&team, "_id"), rooms).await?;
    Ok(success(json!({})))
}

async fn info(State(state): State<AppState>, _caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let team = find_team(&state, &q).await?;
    Ok(success(json!({"teamInfo": team})))
}
