//! What users do to an existing message: react (`setReaction`), pin and unpin (`pinMessage`,
//! `unpinMessage`), star (`starMessage`) and follow a thread (`followMessage`). Each is an edit
//! of the message as stored, applied inside the write, so that two users reacting at once both
//! count; pinning also posts the `message_pinned` system message.

use super::rooms::{can_access_room, system_message};
use super::{doc, get_path, str_of};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde_json::{Map, Value, json};
use store::ids::now_iso;
use store::{Change, Doc, MessageEdit};

/// Applies `edit` to the stored message `id`; returns the message after it, or `None` when
/// there is no such message (any more).
pub(super) async fn edit_message(
    state: &AppState,
    id: &str,
    edit: impl Fn(&mut Doc) -> bool + Send + Sync + 'static,
) -> ApiResult<Option<Doc>> {
    let change = Change::EditMessage { id: id.to_owned(), edit: MessageEdit::new(edit) };
    match state.store().commit(change, Vec::new()).await {
        Ok(done) => Ok(done.doc),
        Err(store::StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// An edit that sets `fields` (and `_updatedAt` with them, when given).
pub(super) fn set_fields(fields: Doc) -> impl Fn(&mut Doc) -> bool + Send + Sync + 'static {
    move |message| {
        message.extend(fields.clone());
        true
    }
}

/// Adds or removes `username`'s `reaction` (`should_react` forces one way); `false` when it is
/// already as asked.
fn toggle_reaction(message: &mut Doc, reaction: &str, username: &str, should_react: Option<bool>) -> bool {
    let mut reactions = match message.get("reactions") {
        Some(Value::Object(r)) => r.clone(),
        _ => Map::new(),
    };
    let me = json!(username);
    let mut usernames: Vec<Value> =
        reactions.get(reaction).and_then(|r| r.get("usernames")).and_then(Value::as_array).cloned().unwrap_or_default();
    let reacted = usernames.contains(&me);
    let add = should_react.unwrap_or(!reacted);
    if add == reacted {
        return false;
    }
    if add {
        usernames.push(me);
    } else {
        usernames.retain(|u| u != &me);
    }
    if usernames.is_empty() {
        reactions.remove(reaction);
    } else {
        reactions.insert(reaction.to_owned(), json!({"usernames": usernames}));
    }
    if reactions.is_empty() {
        message.remove("reactions");
    } else {
        message.insert("reactions".into(), Value::Object(reactions));
    }
    message.insert("_updatedAt".into(), json!(now_iso()));
    true
}

/// Adds or removes `item` in the list at `key`; `false` when it is already as asked.
fn toggle_in_list(message: &mut Doc, key: &str, item: &Value, present: impl Fn(&Value) -> bool, on: bool) -> bool {
    let mut list: Vec<Value> = message.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
    if list.iter().any(&present) == on {
        return false;
    }
    if on {
        list.push(item.clone());
    } else {
        list.retain(|v| !present(v));
    }
    message.insert(key.into(), Value::Array(list));
    true
}

async fn room_of(state: &AppState, message: &Doc) -> ApiResult<Option<Doc>> {
    Ok(state.store().room_by_id(str_of(message, "rid")).await?)
}

/// `setReaction`: toggles `user`'s reaction (`shouldReact` forces adding or removing).
pub async fn set_reaction(
    state: &AppState,
    user: &Doc,
    message: Doc,
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
    edit_message(state, str_of(&message, "_id"), move |m| toggle_reaction(m, &reaction, &username, should_react))
        .await?;
    Ok(())
}

fn message_to_pin_not_found(method: &str) -> ApiError {
    ApiError::meteor_details(
        "error-invalid-message",
        "Message you are pinning was not found",
        json!({"method": method, "action": "Message_pinning"}),
    )
}

/// The checks `pinMessage` and `unpinMessage` share: the permission in the room, the setting,
/// and a subscription (without one the message is reported as not found).
async fn check_can_pin(state: &AppState, user: &Doc, message: &Doc, method: &str) -> ApiResult<()> {
    let rid = str_of(message, "rid");
    let not_found = || message_to_pin_not_found(method);
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
pub async fn pin_message(state: &AppState, user: &Doc, message: Doc) -> ApiResult<Doc> {
    check_can_pin(state, user, &message, "pinMessage").await?;
    let now = now_iso();
    let pin = set_fields(doc(json!({
        "pinned": true,
        "pinnedAt": now,
        "pinnedBy": {"_id": str_of(user, "_id"), "username": str_of(user, "username")},
        "_updatedAt": now,
    })));
    let Some(message) = edit_message(state, str_of(&message, "_id"), pin).await? else {
        return Err(message_to_pin_not_found("pinMessage"));
    };
    let author = get_path(&message, "u.username").and_then(Value::as_str).unwrap_or_default().to_owned();
    let quote = json!({
        "text": str_of(&message, "msg"),
        "author_name": author,
        "author_icon": format!("/avatar/{author}"),
        "ts": message.get("ts"),
        "attachments": message.get("attachments").cloned().unwrap_or(json!([])),
    });
    let rid = str_of(&message, "rid").to_owned();
    let mut extra = Map::new();
    extra.insert("attachments".into(), json!([quote]));
    let note = system_message(&rid, "message_pinned", "", user, Some(extra));
    Ok(state.store().insert_message(note).await?)
}

/// `unpinMessage`.
pub async fn unpin_message(state: &AppState, user: &Doc, message: Doc) -> ApiResult<()> {
    check_can_pin(state, user, &message, "unpinMessage").await?;
    let unpin = set_fields(doc(json!({
        "pinned": false,
        "pinnedBy": {"_id": str_of(user, "_id"), "username": str_of(user, "username")},
        "_updatedAt": now_iso(),
    })));
    edit_message(state, str_of(&message, "_id"), unpin).await?;
    Ok(())
}

/// `starMessage`: adds (or removes) `user` in the message's `starred` list. Without a
/// subscription to the room nothing changes, as in Rocket.Chat.
pub async fn star_message(state: &AppState, user: &Doc, message: Doc, starred: bool) -> ApiResult<()> {
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
    let star = move |m: &mut Doc| {
        let me = json!({"_id": uid});
        let changed = toggle_in_list(m, "starred", &me, |s| s.get("_id") == me.get("_id"), starred);
        if changed {
            m.insert("_updatedAt".into(), json!(now_iso()));
        }
        changed
    };
    edit_message(state, str_of(&message, "_id"), star).await?;
    Ok(())
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
    let uid = json!(str_of(user, "_id"));
    // A reply whose thread is gone has no followers to change.
    edit_message(state, &thread_id, move |t| toggle_in_list(t, "replies", &uid, |r| r == &uid, follow)).await?;
    Ok(())
}
