//! A team's rooms (`Team.addRooms`, `Team.removeRoom`, `Team.updateRoom`) and turning a room
//! into a team (`channels.convertToTeam`, `groups.convertToTeam`).

use super::rooms::{add_member, can_access_room, system_message};
use super::{doc, get_path, str_of};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde_json::{Map, Value, json};
use store::ids::{now_iso, object_id};
use store::{Doc, StoreError};

fn set(pairs: &[(&str, Value)]) -> Doc {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

async fn note_in_main_room(state: &AppState, team: &Doc, t: &str, room: &Doc, actor: &Doc) -> ApiResult<()> {
    let note = system_message(str_of(team, "roomId"), t, str_of(room, "name"), actor, None);
    state.store().insert_message(note).await?;
    Ok(())
}

/// Moves rooms the actor can access into the team; returns them as they are now.
pub async fn add_rooms(state: &AppState, actor: &Doc, team: &Doc, rids: &[String]) -> ApiResult<Vec<Doc>> {
    let mut rooms = Vec::with_capacity(rids.len());
    for rid in rids {
        let room = state.store().room_by_id(rid).await?;
        let Some(room) = room.filter(|r| matches!(str_of(r, "t"), "c" | "p")) else {
            return Err(ApiError::plain("invalid-room"));
        };
        if room.get("teamId").is_some_and(|t| !t.is_null()) {
            return Err(ApiError::plain("room-already-on-team"));
        }
        if !can_access_room(state, &room, actor).await? {
            return Err(ApiError::plain("invalid-room"));
        }
        rooms.push(room);
    }
    let mut out = Vec::with_capacity(rooms.len());
    for room in rooms {
        let updated =
            state.store().update_room(str_of(&room, "_id"), set(&[("teamId", json!(str_of(team, "_id")))])).await?;
        note_in_main_room(state, team, "user-added-room-to-team", &room, actor).await?;
        out.push(updated.unwrap_or(room));
    }
    Ok(out)
}

/// Takes a room out of the team (never the main room); returns it as it is now.
pub async fn remove_room(state: &AppState, actor: &Doc, team: &Doc, rid: &str) -> ApiResult<Doc> {
    let Some(room) = state.store().room_by_id(rid).await? else {
        return Err(ApiError::plain("invalid-room"));
    };
    if room.get("teamMain").and_then(Value::as_bool) == Some(true) {
        return Err(ApiError::plain("invalid-room"));
    }
    if room.get("teamId").and_then(Value::as_str) != Some(str_of(team, "_id")) {
        return Err(ApiError::plain("room-not-on-team"));
    }
    let updated = state.store().update_room(rid, set(&[("teamId", Value::Null), ("teamDefault", Value::Null)])).await?;
    note_in_main_room(state, team, "user-removed-room-from-team", &room, actor).await?;
    Ok(updated.unwrap_or(room))
}

/// `Team.updateRoom`: marks a team room as auto-join (`teamDefault`); every team member joins
/// a room that becomes one.
pub async fn set_default_room(state: &AppState, actor: &Doc, room: &Doc, is_default: bool) -> ApiResult<Doc> {
    let Some(team_id) = room.get("teamId").and_then(Value::as_str).map(str::to_owned) else {
        return Err(ApiError::plain("room-not-on-team"));
    };
    let rid = str_of(room, "_id");
    let updated = state.store().update_room(rid, set(&[("teamDefault", json!(is_default))])).await?;
    let updated = updated.ok_or_else(|| ApiError::plain("invalid-room"))?;
    if is_default {
        let members = state.store().team_members(&team_id).await?;
        let ids: Vec<String> = members.iter().map(|m| str_of(m, "userId").to_owned()).collect();
        for user in state.store().users_by_ids(&ids).await? {
            add_member(state, &updated, &user, Some(actor)).await?;
        }
    }
    Ok(updated)
}

/// `Team.create` around an existing room: the team takes the room's name, `type` 0 (public)
/// or 1 (private); the room's members become team members, the actor its owner.
pub async fn convert_to_team(state: &AppState, actor: &Doc, room: &Doc, team_type: i64) -> ApiResult<Doc> {
    let name = str_of(room, "name").to_owned();
    if state.store().team_by_name(&name).await?.is_some() {
        return Err(ApiError::plain("team-name-already-exists"));
    }
    let now = now_iso();
    let team_id = object_id();
    let created_by = json!({"_id": str_of(actor, "_id"), "username": str_of(actor, "username")});
    let team = doc(json!({
        "_id": team_id, "name": name, "type": team_type, "createdAt": now,
        "createdBy": created_by, "_updatedAt": now, "roomId": str_of(room, "_id"),
    }));
    let mut members: Vec<Doc> = Vec::new();
    let actor_id = str_of(actor, "_id");
    let mut uids: Vec<String> = vec![actor_id.to_owned()];
    for sub in state.store().subscriptions_of_room(str_of(room, "_id")).await? {
        if let Some(uid) = get_path(&sub, "u._id").and_then(Value::as_str)
            && !uids.iter().any(|u| u == uid)
        {
            uids.push(uid.to_owned());
        }
    }
    for uid in uids {
        let roles: Vec<&str> = if uid == actor_id { vec!["owner"] } else { vec![] };
        let mut m = Map::new();
        m.extend(doc(
            json!({"teamId": team_id, "userId": uid, "roles": roles, "createdAt": now, "createdBy": created_by}),
        ));
        members.push(m);
    }
    match state.store().convert_room_to_team(team.clone(), members).await {
        Ok(()) => Ok(team),
        Err(StoreError::Conflict(_)) => Err(ApiError::plain("team-name-already-exists")),
        Err(StoreError::NotFound) => Err(ApiError::plain("invalid-room")),
        Err(e) => Err(e.into()),
    }
}
