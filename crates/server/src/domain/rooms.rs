//! Rooms: creation with Rocket.Chat's name rules, lookups by id or name with their exact
//! errors, `canAccessRoom`, memberships and system messages.

use super::events::Event;
use super::outbox::raise;
use super::{brief_user, doc, str_of};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde_json::{Map, Value, json};
use store::ids::{now_iso, object_id};
use store::{Change, Doc, StoreError};

/// Fields never returned to clients.
pub const HIDDEN_ROOM_FIELDS: &[&str] = &["joinCode", "members", "importIds", "e2e"];

pub fn public_room(mut room: Doc) -> Value {
    for f in HIDDEN_ROOM_FIELDS {
        room.remove(*f);
    }
    Value::Object(room)
}

pub fn subscription_doc(room: &Doc, user: &Doc, roles: &[&str], now: &str) -> Doc {
    let name = match str_of(room, "t") {
        "d" => "",
        _ => str_of(room, "name"),
    };
    let mut sub = doc(json!({
        "_id": object_id(),
        "rid": str_of(room, "_id"),
        "name": name,
        "fname": room.get("fname").cloned().unwrap_or_else(|| json!(name)),
        "t": str_of(room, "t"),
        "u": brief_user(user),
        "open": true,
        "alert": false,
        "unread": 0,
        "userMentions": 0,
        "groupMentions": 0,
        "ts": now,
        "ls": now,
        "_updatedAt": now,
    }));
    if !roles.is_empty() {
        sub.insert("roles".into(), json!(roles));
    }
    sub
}

/// A system message (`uj`, `ul`, `au`, `subscription-role-added`, ...).
pub fn system_message(rid: &str, t: &str, msg: &str, actor: &Doc, extra: Option<Map<String, Value>>) -> Doc {
    let now = now_iso();
    let mut m = doc(json!({
        "_id": object_id(), "t": t, "rid": rid, "ts": now, "msg": msg,
        "u": brief_user(actor), "groupable": false, "_updatedAt": now,
    }));
    if let Some(extra) = extra {
        m.extend(extra);
    }
    m
}

/// `getValidRoomName`: trimmed, matching `UTF8_Channel_Names_Validation`, not a blocked name,
/// and not taken.
pub async fn valid_room_name(state: &AppState, raw: &str) -> ApiResult<String> {
    let name = raw.trim().to_owned();
    let details = || json!({"function": "RocketChat.getValidRoomName", "channel_name": name});
    let pattern = state.settings.string("UTF8_Channel_Names_Validation");
    let valid = regex::Regex::new(&format!("^(?:{pattern})$")).map(|re| re.is_match(&name)).unwrap_or(false);
    let blocked = state
        .settings
        .string("Accounts_SystemBlockedUsernameList")
        .split(',')
        .any(|b| b.trim().eq_ignore_ascii_case(&name));
    if name.is_empty() || !valid || blocked {
        return Err(ApiError::meteor_details(
            "error-invalid-room-name",
            &format!("{name} is not a valid room name."),
            details(),
        ));
    }
    if let Some(existing) = state.store().room_by_name(&name).await? {
        if existing.get("archived").and_then(Value::as_bool) == Some(true) {
            return Err(ApiError::meteor_details(
                "error-archived-duplicate-name",
                &format!("There's an archived channel with name {name}"),
                details(),
            ));
        }
        return Err(duplicate_name(&name));
    }
    Ok(name)
}

fn duplicate_name(name: &str) -> ApiError {
    ApiError::meteor_details(
        "error-duplicate-channel-name",
        &format!("A channel with name '{name}' exists"),
        json!({"function": "RocketChat.getValidRoomName", "channel_name": name}),
    )
}

pub struct NewRoom<'a> {
    pub t: &'a str,
    pub name: String,
    pub owner: &'a Doc,
    pub members: Vec<Doc>,
    pub read_only: bool,
    pub exclude_self: bool,
    pub custom_fields: Option<Value>,
    pub extra_data: Option<Map<String, Value>>,
    pub team_main: Option<String>,
}

/// Builds the room document and its subscriptions (owner gets `owner`).
pub fn room_docs(new: NewRoom<'_>) -> (Doc, Vec<Doc>) {
    let now = now_iso();
    let mut room = doc(json!({
        "_id": object_id(),
        "fname": new.name,
        "_updatedAt": now,
        "customFields": new.custom_fields.clone().unwrap_or_else(|| json!({})),
    }));
    if let Some(extra) = new.extra_data {
        for (k, v) in extra {
            if k != "teamId" || !v.is_null() {
                room.insert(k, v);
            }
        }
    }
    let broadcast = room.get("broadcast").and_then(Value::as_bool) == Some(true);
    room.extend(doc(json!({
        "name": new.name,
        "t": new.t,
        "msgs": 0,
        "usersCount": 0,
        "u": {"_id": str_of(new.owner, "_id"), "username": str_of(new.owner, "username"), "name": new.owner.get("name")},
        "ts": now,
        "ro": new.read_only || broadcast,
    })));
    if let Some(team_id) = new.team_main {
        room.insert("teamMain".into(), json!(true));
        room.insert("teamId".into(), json!(team_id));
    }
    let mut subs = Vec::new();
    if !new.exclude_self {
        subs.push(subscription_doc(&room, new.owner, &["owner"], &now));
    }
    for m in &new.members {
        if str_of(m, "_id") != str_of(new.owner, "_id") {
            subs.push(subscription_doc(&room, m, &[], &now));
        }
    }
    (room, subs)
}

pub async fn create_room(state: &AppState, new: NewRoom<'_>) -> ApiResult<Doc> {
    let name = new.name.clone();
    let owner = new.owner.clone();
    let (room, subs) = room_docs(new);
    let raised = raise(state, Event::RoomCreated { room: &room, owner: &owner }).await?;
    match raised.commit(state, Change::CreateRoom { room: room.clone(), subscriptions: subs }).await {
        Ok(_) => Ok(state.store().room_by_id(str_of(&room, "_id")).await?.unwrap_or(room)),
        Err(StoreError::Conflict(_)) => Err(duplicate_name(&name)),
        Err(e) => Err(e.into()),
    }
}

/// Users named in `members` (usernames or ids) that exist and are active.
pub async fn users_by_names(state: &AppState, names: &[String]) -> ApiResult<Vec<Doc>> {
    let mut out: Vec<Doc> = Vec::new();
    for n in names {
        let user = match state.store().user_by_username(n).await? {
            Some(u) => Some(u),
            None => state.store().user_by_id(n).await?,
        };
        if let Some(u) = user
            && u.get("active").and_then(Value::as_bool) != Some(false)
            && !out.iter().any(|o| str_of(o, "_id") == str_of(&u, "_id"))
        {
            out.push(u);
        }
    }
    Ok(out)
}

/// `canAccessRoom(room, user)`.
pub async fn can_access_room(state: &AppState, room: &Doc, user: &Doc) -> ApiResult<bool> {
    let t = str_of(room, "t");
    let uid = str_of(user, "_id");
    if t == "c" {
        if let Some(team_id) = room.get("teamId").and_then(Value::as_str) {
            let team = state.store().team_by_id(team_id).await?;
            let private_team = team.as_ref().and_then(|t| t.get("type")).and_then(Value::as_i64) == Some(1);
            if private_team {
                if state.store().team_member(team_id, uid).await?.is_some() {
                    return Ok(true);
                }
            } else if state.has_permission(user, "view-c-room") {
                return Ok(true);
            }
        } else if state.has_permission(user, "view-c-room") {
            return Ok(true);
        }
    }
    if state.store().subscription(str_of(room, "_id"), uid).await?.is_some()
        && (state.has_permission(user, "view-joined-room") || state.has_permission(user, &format!("view-{t}-room")))
    {
        return Ok(true);
    }
    Ok(false)
}

/// Subscribes `user` to `room` with a `uj` (joined) or `au` (added by `actor`) message.
/// Returns whether the user was newly added.
pub async fn add_member(state: &AppState, room: &Doc, user: &Doc, actor: Option<&Doc>) -> ApiResult<bool> {
    let rid = str_of(room, "_id");
    let message = match actor {
        Some(a) if str_of(a, "_id") != str_of(user, "_id") => {
            system_message(rid, "au", str_of(user, "username"), a, None)
        }
        _ => system_message(rid, "uj", str_of(user, "username"), user, None),
    };
    let sub = subscription_doc(room, user, &[], &now_iso());
    let raised = raise(state, Event::RoomJoined { room, user }).await?;
    let change = Change::Subscribe { subscription: sub, system_message: Some(message) };
    Ok(raised.commit(state, change).await?.applied)
}

/// Joins every `default: true` room (a new user's first rooms).
pub async fn join_default_rooms(state: &AppState, user: &Doc) -> ApiResult<()> {
    for t in ["c", "p"] {
        for room in state.store().rooms_by_type(t).await? {
            if room.get("default").and_then(Value::as_bool) == Some(true) {
                add_member(state, &room, user, None).await?;
            }
        }
    }
    Ok(())
}

/// The user's subscription to a room, if any.
pub async fn is_member(state: &AppState, rid: &str, uid: &str) -> ApiResult<bool> {
    Ok(state.store().subscription(rid, uid).await?.is_some())
}

/// Finds or creates the direct-message room between two users (id = both ids sorted).
pub async fn direct_room(state: &AppState, a: &Doc, b: &Doc) -> ApiResult<Doc> {
    let (ida, idb) = (str_of(a, "_id"), str_of(b, "_id"));
    let mut ids = [ida, idb];
    ids.sort();
    let rid = if ida == idb { ida.to_owned() } else { format!("{}{}", ids[0], ids[1]) };
    if let Some(room) = state.store().room_by_id(&rid).await? {
        return Ok(room);
    }
    let now = now_iso();
    let (ua, ub) = (str_of(a, "username"), str_of(b, "username"));
    let (uids, usernames) = if ida == idb { (json!([ida]), json!([ua])) } else { (json!([ida, idb]), json!([ua, ub])) };
    let room = doc(json!({
        "_id": rid, "t": "d", "usernames": usernames, "uids": uids,
        "msgs": 0, "usersCount": 0, "ts": now, "_updatedAt": now,
    }));
    let mut subs = Vec::new();
    for (me, other) in [(a, b), (b, a)] {
        let mut sub = subscription_doc(&room, me, &[], &now);
        sub.insert("name".into(), json!(str_of(other, "username")));
        sub.insert("fname".into(), other.get("name").cloned().unwrap_or(json!(str_of(other, "username"))));
        subs.push(sub);
        if ida == idb {
            break;
        }
    }
    match state.store().create_room(room.clone(), subs).await {
        Ok(()) | Err(StoreError::Conflict(_)) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(state.store().room_by_id(&rid).await?.unwrap_or(room))
}

fn has_role(sub: &Doc, role: &str) -> bool {
    sub.get("roles").and_then(Value::as_array).is_some_and(|r| r.iter().any(|x| x == role))
}

/// `leaveRoom`: `user` leaves a room of type `t` (`c`, `p`) unless it is its last owner;
/// raises `roomLeft`.
pub async fn leave_room(state: &AppState, room: &Doc, user: &Doc, t: &str) -> ApiResult<()> {
    let rid = str_of(room, "_id");
    let uid = str_of(user, "_id");
    let details = json!({"method": "leaveRoom"});
    if !state.has_permission(user, &format!("leave-{t}")) {
        return Err(ApiError::meteor_details("error-not-allowed", "Not allowed", details));
    }
    let Some(sub) = state.store().subscription(rid, uid).await? else {
        return Err(ApiError::meteor_details("error-user-not-in-room", "You are not in this room", details));
    };
    // As Rocket.Chat: an owner leaves only when another owner remains, even from a room where
    // nobody else is left.
    if has_role(&sub, "owner") {
        let others = state.store().subscriptions_of_room(rid).await?;
        let other_owner = others
            .iter()
            .any(|s| super::get_path(s, "u._id").and_then(Value::as_str) != Some(uid) && has_role(s, "owner"));
        if !other_owner {
            return Err(ApiError::meteor_details(
                "error-you-are-last-owner",
                "You are the last owner. Please set new owner before leaving the room.",
                details,
            ));
        }
    }
    let note = system_message(rid, "ul", str_of(user, "username"), user, None);
    let raised = raise(state, Event::RoomLeft { room, user }).await?;
    let change = Change::Unsubscribe { rid: rid.to_owned(), uid: uid.to_owned(), system_message: Some(note) };
    raised.commit(state, change).await?;
    Ok(())
}

/// `addRoomOwner`: `actor` makes `user` an owner of the room.
pub async fn add_room_owner(state: &AppState, room: &Doc, actor: &Doc, user: &Doc) -> ApiResult<()> {
    let rid = str_of(room, "_id");
    let details = json!({"method": "addRoomOwner"});
    if !state.has_permission_in_room(actor, "set-owner", rid).await? {
        return Err(ApiError::meteor_details("error-not-allowed", "Not allowed", details));
    }
    let uid = str_of(user, "_id");
    let Some(sub) = state.store().subscription(rid, uid).await? else {
        return Err(ApiError::meteor_details("error-user-not-in-room", "User is not in this room", details));
    };
    if has_role(&sub, "owner") {
        return Err(ApiError::meteor_details("error-user-already-owner", "User is already an owner", details));
    }
    let mut roles = super::strings(sub.get("roles"));
    roles.push("owner".into());
    let mut extra = Map::new();
    extra.insert("role".into(), json!("owner"));
    let note = system_message(rid, "subscription-role-added", str_of(user, "username"), actor, Some(extra));
    state.store().set_subscription_roles(rid, uid, roles, Some(note)).await?;
    Ok(())
}

/// `archiveRoom`: marks the room archived; raises `roomArchived`.
pub async fn archive_room(state: &AppState, room: &Doc, actor: &Doc) -> ApiResult<()> {
    let rid = str_of(room, "_id");
    if !state.has_permission_in_room(actor, "archive-room", rid).await? {
        return Err(ApiError::meteor_details(
            "error-not-authorized",
            "Not authorized",
            json!({"method": "archiveRoom"}),
        ));
    }
    let mut set = Map::new();
    set.insert("archived".into(), json!(true));
    let mut archived = room.clone();
    archived.insert("archived".into(), json!(true));
    let raised = raise(state, Event::RoomArchived { room: &archived, user: actor }).await?;
    raised.commit(state, Change::UpdateRoom { id: rid.to_owned(), set }).await?;
    Ok(())
}
