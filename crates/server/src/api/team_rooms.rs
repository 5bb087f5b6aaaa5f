//! A team's rooms: `teams.listRooms`, `teams.listRoomsOfUser`, `teams.addRooms`,
//! `teams.removeRoom`, `teams.updateRoom`.

use super::docs::Routes;
use super::pagination::Page;
use super::teams::find_team;
use crate::domain::rooms::public_room;
use crate::domain::team_rooms::{add_rooms, remove_room, set_default_room};
use crate::domain::{get_path, str_of, strings};
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Body, Caller, Query, arg_bool, arg_str};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};
use store::Doc;

pub fn routes() -> Routes {
    Routes::new()
        .get("/teams.listRooms", list_rooms)
        .get("/teams.listRoomsOfUser", list_rooms_of_user)
        .post("/teams.addRooms", add)
        .post("/teams.removeRoom", remove)
        .post("/teams.updateRoom", update)
}

async fn require_in_team(state: &AppState, caller: &Caller, team: &Doc, permission: &str) -> ApiResult<()> {
    if state.has_permission_in_room(&caller.user, permission, str_of(team, "roomId")).await? {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

/// Every channel and group of a team, in creation order.
async fn team_rooms(state: &AppState, team_id: &str) -> ApiResult<Vec<Doc>> {
    let mut rooms = Vec::new();
    for t in ["c", "p"] {
        rooms.extend(state.store().rooms_by_type(t).await?.into_iter().filter(|r| str_of(r, "teamId") == team_id));
    }
    rooms.sort_by(|a, b| str_of(a, "ts").cmp(str_of(b, "ts")));
    Ok(rooms)
}

fn is_private_team(team: &Doc) -> bool {
    team.get("type").and_then(Value::as_i64) == Some(1)
}

/// A private team's rooms are listed to its members and to holders of `view-all-teams` only.
async fn check_private_team(state: &AppState, caller: &Caller, team: &Doc) -> ApiResult<()> {
    let allow_private = state.has_permission_in_room(&caller.user, "view-all-teams", str_of(team, "roomId")).await?;
    if is_private_team(team)
        && !allow_private
        && state.store().team_member(str_of(team, "_id"), &caller.id).await?.is_none()
    {
        return Err(ApiError::plain("user-not-on-private-team"));
    }
    Ok(())
}

fn page_body(key: &str, items: Vec<Value>, page: Page, offset: usize) -> Response {
    let total = items.len();
    let items = page.slice(items);
    success(json!({ key: items, "count": items.len(), "offset": offset, "total": total }))
}

/// `Team.listRooms`: the team's rooms but its main room, filtered by `filter` (name) and
/// `type=autoJoin`; without `view-all-team-channels` only public rooms and the caller's.
async fn list_rooms(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let team = find_team(&state, &q).await?;
    let page = Page::from_args(&state.settings, &q)?;
    check_private_team(&state, &caller, &team).await?;
    let all_rooms =
        state.has_permission_in_room(&caller.user, "view-all-team-channels", str_of(&team, "roomId")).await?;
    let name = arg_str(&q, "filter").unwrap_or_default().to_lowercase();
    let auto_join = arg_str(&q, "type").as_deref() == Some("autoJoin");
    let mine = strings(caller.user.get("__rooms"));
    let rooms: Vec<Value> = team_rooms(&state, str_of(&team, "_id"))
        .await?
        .into_iter()
        .filter(|r| r.get("teamMain").is_none())
        .filter(|r| name.is_empty() || str_of(r, "name").to_lowercase().contains(&name))
        .filter(|r| !auto_join || r.get("teamDefault").and_then(Value::as_bool) == Some(true))
        .filter(|r| all_rooms || str_of(r, "t") == "c" || mine.iter().any(|m| m == str_of(r, "_id")))
        .map(public_room)
        .collect();
    Ok(page_body("rooms", rooms, page, page.offset))
}

/// `Team.listRoomsOfUser`: the team's public rooms and the private ones `userId` is in.
async fn list_rooms_of_user(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let team = find_team(&state, &q).await?;
    let page = Page::from_args(&state.settings, &q)?;
    let user_id = arg_str(&q, "userId").unwrap_or_default().into_owned();
    if user_id != caller.id
        && !state.has_permission_in_room(&caller.user, "view-all-team-channels", str_of(&team, "roomId")).await?
    {
        return Err(ApiError::forbidden());
    }
    check_private_team(&state, &caller, &team).await?;
    let can_user_delete = arg_bool(&q, "canUserDelete") == Some(true);
    let mut rooms = Vec::new();
    for room in team_rooms(&state, str_of(&team, "_id")).await? {
        let rid = str_of(&room, "_id").to_owned();
        let sub = state.store().subscription(&rid, &user_id).await?;
        if str_of(&room, "t") != "c" && sub.is_none() {
            continue;
        }
        let mut out = public_room(room);
        if can_user_delete {
            let is_owner = |s: &Doc| strings(s.get("roles")).iter().any(|r| r == "owner");
            let owners: Vec<Doc> =
                state.store().subscriptions_of_room(&rid).await?.into_iter().filter(|s| is_owner(s)).collect();
            let last =
                owners.len() == 1 && get_path(&owners[0], "u._id").and_then(Value::as_str) == Some(user_id.as_str());
            out["isLastOwner"] = json!(last);
        }
        rooms.push(out);
    }
    Ok(page_body("rooms", rooms, page, 0))
}

async fn add(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let rids = match body.get("rooms") {
        Some(Value::Array(_)) => strings(body.get("rooms")),
        Some(_) => return Err(ApiError::invalid_params("/rooms must be array")),
        None => return Err(ApiError::invalid_params("must have required property 'rooms'")),
    };
    let team = find_team(&state, &body).await?;
    require_in_team(&state, &caller, &team, "move-room-to-team").await?;
    let rooms = add_rooms(&state, &caller.user, &team, &rids).await?;
    let rooms: Vec<Value> = rooms.into_iter().map(public_room).collect();
    Ok(success(json!({"rooms": rooms})))
}

async fn remove(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let Some(rid) = body.get("roomId").and_then(Value::as_str).map(str::to_owned) else {
        return Err(ApiError::invalid_params("must have required property 'roomId'"));
    };
    let team = find_team(&state, &body).await?;
    require_in_team(&state, &caller, &team, "remove-team-channel").await?;
    let room = remove_room(&state, &caller.user, &team, &rid).await?;
    Ok(success(json!({"room": public_room(room)})))
}

async fn update(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let Some(rid) = body.get("roomId").and_then(Value::as_str).map(str::to_owned) else {
        return Err(ApiError::invalid_params("must have required property 'roomId'"));
    };
    let Some(is_default) = body.get("isDefault").and_then(Value::as_bool) else {
        return Err(ApiError::invalid_params("must have required property 'isDefault'"));
    };
    let room = state.store().room_by_id(&rid).await?;
    let team = match room.as_ref().and_then(|r| r.get("teamId")).and_then(Value::as_str) {
        Some(team_id) => state.store().team_by_id(team_id).await?,
        None => None,
    };
    let (Some(room), Some(team)) = (room, team) else {
        return Err(ApiError::plain("team-does-not-exist"));
    };
    require_in_team(&state, &caller, &team, "edit-team-channel").await?;
    let room = set_default_room(&state, &caller.user, &room, is_default).await?;
    Ok(success(json!({"room": public_room(room)})))
}
