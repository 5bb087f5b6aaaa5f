//! Creating a team (`Team.create`): its main room, memberships and team members in one write,
//! raising `roomCreated` for the main room.

use super::events::Event;
use super::outbox::raise;
use super::rooms::{NewRoom, room_docs, users_by_names, valid_room_name};
use super::{doc, str_of};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde_json::json;
use store::ids::{now_iso, object_id};
use store::{Change, Doc, StoreError};

/// A team to create, as requested.
pub struct NewTeam {
    /// Trimmed; checked against users, rooms, teams and the blocked-name list.
    pub name: String,
    /// 0 = public (main room `c`), 1 = private (`p`).
    pub team_type: i64,
    /// Another user to own the team (default: the creator).
    pub owner_id: Option<String>,
    /// Usernames or ids of the first members.
    pub members: Vec<String>,
}

/// Creates the team as `creator`; returns the team document.
pub async fn create_team(state: &AppState, creator: &Doc, new: NewTeam) -> ApiResult<Doc> {
    let NewTeam { name, team_type, owner_id, members } = new;
    let store = state.store();
    let blocked = state.settings.string("Accounts_SystemBlockedUsernameList");
    if store.user_by_username(&name).await?.is_some()
        || blocked.split(',').any(|b| b.trim().eq_ignore_ascii_case(&name))
    {
        return Err(ApiError::plain("team-name-already-exists"));
    }
    if store.room_by_name(&name).await?.is_some() || store.team_by_name(&name).await?.is_some() {
        return Err(ApiError::plain("room-name-already-exists"));
    }
    let owner = match owner_id {
        Some(id) => store.user_by_id(&id).await?.ok_or_else(|| ApiError::plain("error-team-creation"))?,
        None => creator.clone(),
    };
    let t = if team_type == 1 { "p" } else { "c" };
    if !state.has_permission(&owner, &format!("create-{t}")) {
        return Err(ApiError::plain("error-team-creation"));
    }
    let name = valid_room_name(state, &name).await.map_err(|_| ApiError::plain("error-team-creation"))?;
    let members = users_by_names(state, &members).await?;
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
    let created_by = json!({"_id": str_of(creator, "_id"), "username": str_of(creator, "username")});
    let team = doc(json!({
        "_id": team_id, "name": name, "type": team_type, "createdAt": now,
        "createdBy": created_by, "_updatedAt": now, "roomId": room["_id"],
    }));
    let mut team_members: Vec<Doc> = vec![doc(json!({
        "teamId": team_id, "userId": str_of(&owner, "_id"), "roles": ["owner"], "createdAt": now, "createdBy": created_by,
    }))];
    for m in members.iter().filter(|m| str_of(m, "_id") != str_of(&owner, "_id")) {
        team_members.push(doc(
            json!({"teamId": team_id, "userId": str_of(m, "_id"), "createdAt": now, "createdBy": created_by}),
        ));
    }
    let raised = raise(state, Event::RoomCreated { room: &room, owner: &owner }).await?;
    let change =
        Change::CreateTeam { team: team.clone(), main_room: room, room_subscriptions: subs, members: team_members };
    match raised.commit(state, change).await {
        Ok(_) => Ok(team),
        Err(StoreError::Conflict(_)) => Err(ApiError::plain("room-name-already-exists")),
        Err(e) => Err(e.into()),
    }
}
