//! Read-only views of a room for `channels.*` / `groups.*` (and `im.*` counters): counters,
//! role holders, moderators, online members, and `groups.listAll`.

use super::channels::Kind;
use super::docs::Routes;
use super::listing::{LIST_ARGS, ListParams};
use super::lookup::ROOM_ARGS;
use super::room_roles::roles_of;
use super::validation::schema::Ty;
use crate::domain::rooms::{can_access_room, public_room};
use crate::domain::{get_path, str_of};
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Caller, Query, arg_str};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};
use store::{Doc, MessageQuery};

pub fn routes() -> Routes {
    let mut router = Routes::new();
    for (kind, family) in [(Kind::Channel, "channels"), (Kind::Group, "groups")] {
        router = router
            .get(&format!("/{family}.counters"), move |s: State<AppState>, c: Caller, q: Query| counters(s, c, q, kind))
            .summary("Unread counters of a room")
            .query(ROOM_ARGS)
            .query(&[("userId", Ty::Str)])
            .get(&format!("/{family}.roles"), move |s: State<AppState>, c: Caller, q: Query| roles(s, c, q, kind))
            .summary("Role holders of a room")
            .query(ROOM_ARGS)
            .get(&format!("/{family}.moderators"), move |s: State<AppState>, c: Caller, q: Query| {
                moderators(s, c, q, kind)
            })
            .summary("Moderators of a room")
            .query(ROOM_ARGS)
            .get(&format!("/{family}.online"), move |s: State<AppState>, c: Caller, q: Query| online(s, c, q, kind))
            .summary("Online members of a room")
            .query(ROOM_ARGS)
            .query(&[("query", Ty::Str)]);
    }
    router.get("/groups.listAll", list_all_groups).summary("All private groups (administration)").query(LIST_ARGS)
}

/// Room counters for the caller, or for `userId` when the caller has
/// `view-room-administration`: `{joined, members, unreads, unreadsFrom, msgs, latest, userMentions}`.
pub async fn room_counters(state: &AppState, caller: &Caller, room: &Doc, q: &store::Doc) -> ApiResult<Response> {
    let rid = str_of(room, "_id");
    let uid = match arg_str(q, "userId").filter(|u| !u.is_empty()) {
        Some(u) if u != caller.id => {
            if !state.has_permission(&caller.user, "view-room-administration") {
                return Err(ApiError::forbidden());
            }
            u.into_owned()
        }
        _ => caller.id.clone(),
    };
    let sub = state.store().subscription(rid, &uid).await?;
    let joined = sub.is_some();
    let (members, msgs, latest, unreads, unreads_from, mentions) = match &sub {
        Some(sub) => {
            let ls = sub.get("ls").and_then(Value::as_str).map(str::to_owned);
            let (_, unread) = state
                .store()
                .room_messages(rid, MessageQuery { oldest: ls.clone(), limit: Some(0), ..Default::default() })
                .await?;
            (
                room.get("usersCount").cloned().unwrap_or(json!(0)),
                room.get("msgs").cloned().unwrap_or(json!(0)),
                room.get("lm").cloned().unwrap_or(Value::Null),
                json!(unread),
                ls.map(Value::String).unwrap_or(Value::Null),
                sub.get("userMentions").cloned().unwrap_or(json!(0)),
            )
        }
        None => (Value::Null, Value::Null, Value::Null, Value::Null, Value::Null, Value::Null),
    };
    Ok(success(json!({
        "joined": joined, "members": members, "unreads": unreads, "unreadsFrom": unreads_from,
        "msgs": msgs, "latest": latest, "userMentions": mentions,
    })))
}

async fn counters(State(state): State<AppState>, caller: Caller, Query(q): Query, kind: Kind) -> ApiResult<Response> {
    let room = kind.find(&state, &q, &caller, false).await?;
    room_counters(&state, &caller, &room, &q).await
}

async fn readable_room(state: &AppState, caller: &Caller, q: &store::Doc, kind: Kind) -> ApiResult<Doc> {
    let room = kind.find(state, q, caller, false).await?;
    if !can_access_room(state, &room, &caller.user).await? {
        return Err(ApiError::forbidden());
    }
    Ok(room)
}

/// `{roles: [{_id, rid, u, roles}]}`: the members holding a room role.
async fn roles(State(state): State<AppState>, caller: Caller, Query(q): Query, kind: Kind) -> ApiResult<Response> {
    let room = readable_room(&state, &caller, &q, kind).await?;
    let roles: Vec<Value> = state
        .store()
        .subscriptions_of_room(str_of(&room, "_id"))
        .await?
        .into_iter()
        .filter(|s| !roles_of(s).is_empty())
        .map(|s| json!({"_id": s.get("_id"), "rid": s.get("rid"), "u": s.get("u"), "roles": s.get("roles")}))
        .collect();
    Ok(success(json!({"roles": roles})))
}

async fn moderators(State(state): State<AppState>, caller: Caller, Query(q): Query, kind: Kind) -> ApiResult<Response> {
    let room = readable_room(&state, &caller, &q, kind).await?;
    let moderators: Vec<Value> = state
        .store()
        .subscriptions_of_room(str_of(&room, "_id"))
        .await?
        .into_iter()
        .filter(|s| roles_of(s).iter().any(|r| r == "moderator"))
        .filter_map(|s| s.get("u").cloned())
        .collect();
    Ok(success(json!({"moderators": moderators})))
}

/// Members whose status is not `offline`: `{online: [{_id, username}]}`. The room is named by
/// `_id` (or `roomId`/`roomName`) as in Rocket.Chat.
async fn online(State(state): State<AppState>, caller: Caller, Query(mut q): Query, kind: Kind) -> ApiResult<Response> {
    if let Some(id) = q.get("_id").cloned()
        && !q.contains_key("roomId")
    {
        q.insert("roomId".into(), id);
    }
    let room = readable_room(&state, &caller, &q, kind).await?;
    let ids: Vec<String> = state
        .store()
        .subscriptions_of_room(str_of(&room, "_id"))
        .await?
        .iter()
        .filter_map(|s| get_path(s, "u._id").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let online: Vec<Value> = state
        .store()
        .users_by_ids(&ids)
        .await?
        .iter()
        .filter(|u| !matches!(u.get("status").and_then(Value::as_str), None | Some("offline")))
        .map(|u| json!({"_id": str_of(u, "_id"), "username": str_of(u, "username")}))
        .collect();
    Ok(success(json!({"online": online})))
}

/// `groups.listAll` (route permission `view-room-administration`): every private group.
async fn list_all_groups(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    state.require(&caller.user, "view-room-administration")?;
    let params = ListParams::from_args(&state, &q)?;
    let rooms: Vec<Value> = state.store().rooms_by_type("p").await?.into_iter().map(public_room).collect();
    let (rooms, total) = params.page_in_memory(rooms, &[("name", true)]);
    Ok(success(json!({"groups": rooms, "count": rooms.len(), "offset": params.page.offset, "total": total})))
}
