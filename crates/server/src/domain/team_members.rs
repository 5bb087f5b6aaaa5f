//! Team membership (`Team.addMembers`, `Team.removeMembers`, `Team.updateMember`): a member
//! record per user, kept in step with the team's main room, where joining and leaving raise
//! `roomJoined` and `roomLeft` as for any room.

use super::events::Event;
use super::outbox::raise;
use super::rooms::{add_member, system_message};
use super::{doc, str_of, strings};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde_json::json;
use store::ids::now_iso;
use store::{Change, Doc};

/// A user to add or update, with the team roles to give.
pub struct MemberChange {
    pub user_id: String,
    pub roles: Option<Vec<String>>,
}

fn member_doc(team: &Doc, user: &Doc, roles: Vec<String>, actor: &Doc) -> Doc {
    let now = now_iso();
    doc(json!({
        "teamId": str_of(team, "_id"), "userId": str_of(user, "_id"), "roles": roles,
        "createdAt": now, "_updatedAt": now,
        "createdBy": {"_id": str_of(actor, "_id"), "username": str_of(actor, "username")},
    }))
}

async fn main_room(state: &AppState, team: &Doc) -> ApiResult<Doc> {
    state.store().room_by_id(str_of(team, "roomId")).await?.ok_or_else(|| ApiError::plain("team-does-not-exist"))
}

/// Adds users to the team and its main room (as `actor`, posting `au`).
pub async fn add_members(state: &AppState, actor: &Doc, team: &Doc, members: Vec<MemberChange>) -> ApiResult<()> {
    let room = main_room(state, team).await?;
    for m in members {
        let Some(user) = state.store().user_by_id(&m.user_id).await? else {
            return Err(ApiError::meteor_details(
                "error-invalid-user",
                "Invalid user",
                json!({"method": "addMembers"}),
            ));
        };
        let existing = state.store().team_member(str_of(team, "_id"), &m.user_id).await?;
        let roles = m.roles.unwrap_or_else(|| existing.as_ref().map(|e| strings(e.get("roles"))).unwrap_or_default());
        let record = match existing {
            Some(mut e) => {
                e.insert("roles".into(), json!(roles));
                e.insert("_updatedAt".into(), json!(now_iso()));
                e
            }
            None => member_doc(team, &user, roles, actor),
        };
        state.store().put_team_member(record).await?;
        add_member(state, &room, &user, Some(actor)).await?;
    }
    Ok(())
}

/// `Team.updateMember`: replaces the member's team roles.
pub async fn update_member(state: &AppState, team: &Doc, change: MemberChange) -> ApiResult<()> {
    let Some(mut member) = state.store().team_member(str_of(team, "_id"), &change.user_id).await? else {
        return Err(ApiError::plain("member-does-not-exist"));
    };
    member.insert("roles".into(), json!(change.roles.unwrap_or_default()));
    member.insert("_updatedAt".into(), json!(now_iso()));
    state.store().put_team_member(member).await?;
    Ok(())
}

/// `removeUserFromRoom` by `actor`: posts `ru` and raises `roomLeft`; a user not in the room
/// is left alone.
pub async fn remove_from_room(state: &AppState, room: &Doc, user: &Doc, actor: &Doc) -> ApiResult<()> {
    let rid = str_of(room, "_id");
    let note = system_message(rid, "ru", str_of(user, "username"), actor, None);
    let raised = raise(state, Event::RoomLeft { room, user }).await?;
    let change =
        Change::Unsubscribe { rid: rid.to_owned(), uid: str_of(user, "_id").to_owned(), system_message: Some(note) };
    raised.commit(state, change).await?;
    Ok(())
}

fn is_owner(member: &Doc) -> bool {
    strings(member.get("roles")).iter().any(|r| r == "owner")
}

/// `Team.removeMembers` for one user: the team's last owner stays; the user leaves the main
/// room and the other `rooms` named.
pub async fn remove_member(state: &AppState, actor: &Doc, team: &Doc, user: &Doc, rooms: &[String]) -> ApiResult<()> {
    let team_id = str_of(team, "_id");
    let Some(member) = state.store().team_member(team_id, str_of(user, "_id")).await? else {
        return Err(ApiError::plain("member-does-not-exist"));
    };
    if is_owner(&member) {
        let owners = state.store().team_members(team_id).await?.iter().filter(|m| is_owner(m)).count();
        if owners <= 1 {
            return Err(ApiError::plain("last-owner-can-not-be-removed"));
        }
    }
    state.store().remove_team_member(team_id, str_of(user, "_id")).await?;
    remove_from_room(state, &main_room(state, team).await?, user, actor).await?;
    for rid in rooms {
        if let Some(room) = state.store().room_by_id(rid).await?
            && room.get("teamId").and_then(|t| t.as_str()) == Some(team_id)
        {
            remove_from_room(state, &room, user, actor).await?;
        }
    }
    Ok(())
}
