//! Finding teams: `teams.listAll`, `teams.list`, `teams.autocomplete`; and making one from a
//! room: `channels.convertToTeam`, `groups.convertToTeam`.

use super::docs::Routes;
use super::listing::ListParams;
use super::lookup::{find_channel, find_group};
use crate::domain::team_rooms::convert_to_team;
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
        .get("/teams.listAll", list_all)
        .get("/teams.list", list)
        .get("/teams.autocomplete", autocomplete)
        .post("/channels.convertToTeam", channel_to_team)
        .post("/groups.convertToTeam", group_to_team)
}

fn page_body(params: &ListParams, teams: Vec<Value>) -> Response {
    let (teams, total) = params.page_in_memory(teams, &[]);
    success(json!({"teams": teams, "count": teams.len(), "offset": params.page.offset, "total": total}))
}

async fn list_all(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    state.require(&caller.user, "view-all-teams")?;
    let params = ListParams::from_args(&state, &q)?;
    let teams = state.store().teams().await?.into_iter().map(Value::Object).collect();
    Ok(page_body(&params, teams))
}

/// `Team.list`: the caller's teams, each with its number of rooms and members.
async fn list(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let params = ListParams::from_args(&state, &q)?;
    let mut teams = Vec::new();
    for membership in state.store().team_memberships(&caller.id).await? {
        let team_id = str_of(&membership, "teamId");
        let Some(mut team) = state.store().team_by_id(team_id).await? else { continue };
        let mut rooms = 0;
        for t in ["c", "p"] {
            rooms += state.store().rooms_by_type(t).await?.iter().filter(|r| str_of(r, "teamId") == team_id).count();
        }
        team.insert("rooms".into(), json!(rooms));
        team.insert("numberOfUsers".into(), json!(state.store().team_members(team_id).await?.len()));
        teams.push(Value::Object(team));
    }
    Ok(page_body(&params, teams))
}

/// Main rooms of teams whose name or display name starts with `name`, among public teams and
/// the caller's (at most 10).
async fn autocomplete(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let Some(name) = arg_str(&q, "name") else {
        return Err(ApiError::plain("Match error: Missing key 'name'"));
    };
    let prefix = name.trim().to_lowercase();
    let mine = strings(caller.user.get("__rooms"));
    let starts = |r: &Doc, key: &str| str_of(r, key).to_lowercase().starts_with(&prefix);
    let mut rooms: Vec<Doc> = Vec::new();
    for t in ["c", "p"] {
        rooms.extend(state.store().rooms_by_type(t).await?.into_iter().filter(|r| {
            r.get("teamMain").and_then(Value::as_bool) == Some(true)
                && (starts(r, "name") || starts(r, "fname"))
                && (t == "c" || mine.iter().any(|m| m == str_of(r, "_id")))
        }));
    }
    rooms.sort_by(|a, b| (str_of(a, "name"), str_of(a, "fname")).cmp(&(str_of(b, "name"), str_of(b, "fname"))));
    let teams: Vec<Value> = rooms
        .iter()
        .take(10)
        .map(|r| {
            let mut out = serde_json::Map::new();
            for key in ["_id", "fname", "teamId", "name", "t", "avatarETag"] {
                if let Some(v) = r.get(key) {
                    out.insert(key.into(), v.clone());
                }
            }
            Value::Object(out)
        })
        .collect();
    Ok(success(json!({"teams": teams})))
}

/// Both permissions Rocket.Chat asks of a conversion, in the room.
async fn require_convert(state: &AppState, caller: &Caller, rid: &str) -> ApiResult<()> {
    for p in ["create-team", "edit-room"] {
        if !state.has_permission_in_room(&caller.user, p, rid).await? {
            return Err(ApiError::forbidden());
        }
    }
    Ok(())
}

async fn channel_to_team(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let id = arg_str(&body, "channelId").unwrap_or_default().into_owned();
    let name = arg_str(&body, "channelName").unwrap_or_default().into_owned();
    if id.is_empty() && name.is_empty() {
        return Err(ApiError::plain("The parameter \"channelId\" or \"channelName\" is required"));
    }
    if !id.is_empty() {
        require_convert(&state, &caller, &id).await?;
    }
    let mut args = Args::new();
    args.insert("roomId".into(), json!(id));
    args.insert("roomName".into(), json!(name));
    let room = find_channel(&state, &args, true).await?;
    require_convert(&state, &caller, str_of(&room, "_id")).await?;
    let team = convert_to_team(&state, &caller.user, &room, 0).await?;
    Ok(success(json!({"team": team})))
}

async fn group_to_team(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let id = arg_str(&body, "roomId").unwrap_or_default();
    let name = arg_str(&body, "roomName").unwrap_or_default();
    if id.is_empty() && name.is_empty() {
        return Err(ApiError::plain("The parameter \"roomId\" or \"roomName\" is required"));
    }
    let room = find_group(&state, &body, &caller.user, true).await?;
    require_convert(&state, &caller, str_of(&room, "_id")).await?;
    let team = convert_to_team(&state, &caller.user, &room, 1).await?;
    Ok(success(json!({"team": team})))
}
