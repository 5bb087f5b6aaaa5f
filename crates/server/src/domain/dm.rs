//! Direct-message rooms (`t: "d"`): created once per set of members, found again by the same
//! set. Rocket.Chat's `createDirectRoom`:
//! <https://github.com/RocketChat/Rocket.Chat/blob/develop/apps/meteor/app/lib/server/functions/createDirectRoom.ts>

use super::events::Event;
use super::outbox::raise;
use super::rooms::subscription_doc;
use super::{doc, str_of};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde_json::{Value, json};
use store::Change;
use store::ids::now_iso;
use store::{Doc, StoreError};

/// The id of the direct room of a set of users: their ids, sorted and concatenated (one id for
/// a conversation with oneself), so the same members always meet in the same room.
pub fn direct_room_id(members: &[Doc]) -> String {
    let mut ids: Vec<&str> = members.iter().map(|m| str_of(m, "_id")).collect();
    ids.sort();
    ids.dedup();
    ids.concat()
}

/// Finds or creates the direct room of `members` (the creator included). A new room raises
/// `roomCreated` with `creator` as its owner. Returns the room and whether it was created.
pub async fn open_direct_room(state: &AppState, creator: &Doc, members: Vec<Doc>) -> ApiResult<(Doc, bool)> {
    let mut members = members;
    members.sort_by(|a, b| str_of(a, "username").cmp(str_of(b, "username")));
    members.dedup_by(|a, b| str_of(a, "_id") == str_of(b, "_id"));
    let rid = direct_room_id(&members);
    if let Some(room) = state.store().room_by_id(&rid).await? {
        return Ok((room, false));
    }
    let now = now_iso();
    let usernames: Vec<&str> = members.iter().map(|m| str_of(m, "username")).collect();
    let uids: Vec<&str> = members.iter().map(|m| str_of(m, "_id")).collect();
    let room = doc(json!({
        "_id": rid, "t": "d", "usernames": usernames, "uids": uids,
        "msgs": 0, "usersCount": 0, "ts": now, "_updatedAt": now,
    }));
    let subs: Vec<Doc> = members
        .iter()
        .map(|me| {
            let others: Vec<&Doc> = members.iter().filter(|o| str_of(o, "_id") != str_of(me, "_id")).collect();
            // A conversation with oneself is named after oneself.
            let others = if others.is_empty() { vec![me] } else { others };
            let name: Vec<&str> = others.iter().map(|o| str_of(o, "username")).collect();
            let fname: Vec<String> = others
                .iter()
                .map(|o| o.get("name").and_then(Value::as_str).unwrap_or(str_of(o, "username")).to_owned())
                .collect();
            let mut sub = subscription_doc(&room, me, &[], &now);
            sub.insert("name".into(), json!(name.join(", ")));
            sub.insert("fname".into(), json!(fname.join(", ")));
            sub
        })
        .collect();
    let raised = raise(state, Event::RoomCreated { room: &room, owner: creator }).await?;
    match raised.commit(state, Change::CreateRoom { room: room.clone(), subscriptions: subs }).await {
        Ok(_) => {}
        // Created meanwhile by a concurrent request: the same room.
        Err(StoreError::Conflict(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let room = state.store().room_by_id(&rid).await?.unwrap_or(room);
    Ok((room, true))
}

/// `createDirectMessage`: resolves the usernames, checks `create-d`, opens the room.
pub async fn create_direct_message(
    state: &AppState,
    creator: &Doc,
    usernames: &[String],
    exclude_self: bool,
) -> ApiResult<Doc> {
    let details = json!({"method": "createDirectMessage"});
    let mut members = Vec::new();
    for name in usernames {
        let user = match state.store().user_by_username(name).await? {
            Some(u) => u,
            None => state
                .store()
                .user_by_id(name)
                .await?
                .ok_or_else(|| ApiError::meteor_details("error-invalid-user", "Invalid user", details.clone()))?,
        };
        members.push(user);
    }
    if !state.has_permission(creator, "create-d") {
        return Err(ApiError::meteor_details("error-not-allowed", "Not allowed", details));
    }
    if !exclude_self {
        members.push(creator.clone());
    }
    if members.is_empty() {
        return Err(ApiError::meteor_details("error-invalid-user", "Invalid user", details));
    }
    let (room, _) = open_direct_room(state, creator, members).await?;
    Ok(room)
}
