//! What users do to an existing message: react (`setReaction`), pin and unpin (`pinMessage`,
//! `unpinMessage`), star (`starMessage`) and follow a thread (`followMessage`). Each is a change
//! to the message document; pinning also posts the `message_pinned` system message.

use super::rooms::{can_access_room, system_message};
use super::{get_path, str_of};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde_json::{Map, Value, json};
use store::ids::now_iso;
use store::{Change, Doc};

async fn replace(state: &AppState, message: Doc) -> ApiResult<()> {
    state.store().commit(Change::ReplaceMessage(message), Vec::new()).await?;
    Ok(())
}

async fn room_of(state: &AppState, message: &Doc) -> ApiResult<Option<Doc>> {
    Ok(state.store().room_by_id(str_of(message, "rid")).await?)
}

/// `setReaction`: toggles `user`'s reaction (`shouldReact` forces adding or removing).
pub async fn set_reaction(
    state: &AppState,
    user: &Doc,
    mut message: Doc,
    emoji: &str,
    should_react: Option<bool>,
) -> ApiResult<()> {
    let details = json!({"method": "setReaction"});
    let Some(room) = room_of(state, &message).await? else {
        return Err(ApiError::meteor_details("error-not-allowed", "Not allowed", details));
    };
    if !can_access_room(state, &room, user).await? {
        return Err(ApiError::meteor_details("not-authorized", "Not Authorized", details));
    }
    let username = str_of(user, "username").to_owned();
    if room.get("muted").and_then(Value::as_array).is_some_and(|m| m.iter().any(|u| u == &json!(username))) {
        return Err(ApiError::meteor_details(
            "error-not-allowed",
            "You can't send messages because you have been muted",
            details,
        ));
    }
    let reaction = format!(":{}:", emoji.replace(':', ""));
    let mut reactions = match message.remove("reactions") {
        Some(Value::Object(r)) => r,
        _ => Map::new(),
    };
    let mut usernames: Vec<Value> = reactions
        .get(&reaction)
        .and_then(|r| r.get("usernames"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let reacted = usernames.iter().any(|u| u == &json!(username));
    let add = should_react.unwrap_or(!reacted);
    if add && !reacted {
        usernames.push(json!(username));
    } else if !add && reacted {
        usernames.retain(|u| u != &json!(username));
    } else {
        message.insert("reactions".into(), Value::Object(reactions));
        return Ok(());
    }
    if usernames.is_empty() {
        reactions.remove(&reaction);
    } else {
        reactions.insert(reaction, json!({"usernames": usernames}));
    }
    if !reactions.is_empty() {
        message.insert("reactions".into(), Value::Object(reactions));
    }
    message.insert("_updatedAt".into(), json!(now_iso()));
    replace(state, message).await
}

/// The checks `pinMessage` and `unpinMessage` share: the permission in the room, the setting,
/// and a subscription (without one the message is reported as not found).
async fn check_can_pin(state: &AppState, user: &Doc, message: &Doc, method: &str) -> ApiResult<()> {
    let rid = str_of(message, "rid");
    let not_found = || {
        ApiError::meteor_details(
            "error-invalid-message",
            "Message you are pinning was not found",
            json!({"method": method, "action": "Message_pinning"}),
        )
    };
    if rid.is_empty() {
        return Err(not_found());
    }
    if !state.has_permission_in_room(user, "pin-message", rid).await? {
        return Err(ApiError::meteor_details("not-authorized", "Not Authorized", json!({"method": method})));
    }
    if !state.settings.bool("Message_AllowPinning") {
        return Err(ApiError::meteor_details(
            "error-action-not-allowed",
            "Message pinning not allowed",
            json!({"method": method, "action": "Message_pinning"}),
        ));
    }
    if state.store().subscription(rid, str_of(user, "_id")).await?.is_none() {
        return Err(not_found());
    }
    Ok(())
}

/// `pinMessage`: marks the message pinned and posts `message_pinned` quoting it; returns that
/// system message.
pub async fn pin_message(state: &AppState, user: &Doc, mut message: Doc) -> ApiResult<Doc> {
    check_can_pin(state, user, &message, "pinMessage").await?;
    let now = now_iso();
    message.insert("pinned".into(), json!(true));
    message.insert("pinnedAt".into(), json!(now));
    message.insert("pinnedBy".into(), json!({"_id": str_of(user, "_id"), "username": str_of(user, "username")}));
    message.insert("_updatedAt".into(), json!(now));
    let author = get_path(&message, "u.username").and_then(Value::as_str).unwrap_or_default().to_owned();
    let quote = json!({
        "text": str_of(&message, "msg"),
        "author_name": author,
        "author_icon": format!("/avatar/{author}"),
        "ts": message.get("ts"),
        "attachments": message.get("attachments").cloned().unwrap_or(json!([])),
    });
    let rid = str_of(&message, "rid").to_owned();
    replace(state, message).await?;
    let mut extra = Map::new();
    extra.insert("attachments".into(), json!([quote]));
    let note = system_message(&rid, "message_pinned", "", user, Some(extra));
    Ok(state.store().insert_message(note).await?)
}

/// `unpinMessage`.
pub async fn unpin_message(state: &AppState, user: &Doc, mut message: Doc) -> ApiResult<()> {
    check_can_pin(state, user, &message, "unpinMessage").await?;
    message.insert("pinned".into(), json!(false));
    message.insert("pinnedBy".into(), json!({"_id": str_of(user, "_id"), "username": str_of(user, "username")}));
    message.insert("_updatedAt".into(), json!(now_iso()));
    replace(state, message).await
}

/// `starMessage`: adds (or removes) `user` in the message's `starred` list. Without a
/// subscription to the room nothing changes, as in Rocket.Chat.
pub async fn star_message(state: &AppState, user: &Doc, mut message: Doc, starred: bool) -> ApiResult<()> {
    if !state.settings.bool("Message_AllowStarring") {
        return Err(ApiError::meteor_details(
            "error-action-not-allowed",
            "Message starring not allowed",
            json!({"method": "starMessage", "action": "Message_starring"}),
        ));
    }
    let uid = str_of(user, "_id").to_owned();
    if state.store().subscription(str_of(&message, "rid"), &uid).await?.is_none() {
        return Ok(());
    }
    let Some(room) = room_of(state, &message).await? else {
        return Err(ApiError::meteor_details("error-invalid-room", "Invalid room", json!({"method": "starMessage"})));
    };
    if !can_access_room(state, &room, user).await? {
        return Err(ApiError::meteor_details("not-authorized", "Not Authorized", json!({"method": "starMessage"})));
    }
    let mut list: Vec<Value> = message.get("starred").and_then(Value::as_array).cloned().unwrap_or_default();
    let present = list.iter().any(|s| s.get("_id") == Some(&json!(uid)));
    match (starred, present) {
        (true, false) => list.push(json!({"_id": uid})),
        (false, true) => list.retain(|s| s.get("_id") != Some(&json!(uid))),
        _ => return Ok(()),
    }
    message.insert("starred".into(), Value::Array(list));
    message.insert("_updatedAt".into(), json!(now_iso()));
    replace(state, message).await
}

/// `followMessage` / `unfollowMessage`: adds (or removes) `user` among the followers
/// (`replies`) of the thread the message starts or belongs to.
pub async fn follow_thread(state: &AppState, user: &Doc, mid: &str, follow: bool) -> ApiResult<()> {
    let method = if follow { "followMessage" } else { "unfollowMessage" };
    if !state.settings.bool("Threads_enabled") {
        return Err(ApiError::meteor_details("error-not-allowed", "not-allowed", json!({"method": method})));
    }
    let Some(message) = state.store().message_by_id(mid).await? else {
        return Err(ApiError::meteor_details("error-invalid-message", "Invalid message", json!({"method": method})));
    };
    let room = room_of(state, &message).await?;
    let allowed = match &room {
        Some(room) => can_access_room(state, room, user).await?,
        None => false,
    };
    if !allowed {
        return Err(ApiError::meteor_details("error-not-allowed", "not-allowed", json!({"method": method})));
    }
    let thread_id = message.get("tmid").and_then(Value::as_str).unwrap_or(mid).to_owned();
    let Some(mut thread) = state.store().message_by_id(&thread_id).await? else {
        return Ok(());
    };
    let uid = json!(str_of(user, "_id"));
    let mut replies: Vec<Value> = thread.get("replies").and_then(Value::as_array).cloned().unwrap_or_default();
    let present = replies.contains(&uid);
    match (follow, present) {
        (true, false) => replies.push(uid),
        (false, true) => replies.retain(|r| r != &uid),
        _ => return Ok(()),
    }
    thread.insert("replies".into(), Value::Array(replies));
    replace(state, thread).await
}
