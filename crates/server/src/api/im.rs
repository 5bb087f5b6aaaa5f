//! `im.*` and its alias `dm.*`: direct-message rooms. Rocket.Chat's handlers:
//! <https://github.com/RocketChat/Rocket.Chat/blob/develop/apps/meteor/app/api/server/v1/im.ts>

use super::docs::Routes;
use super::listing::{LIST_ARGS, ListParams};
use super::pagination::Page;
use super::room_views::room_counters;
use super::validation::schema::Ty;
use crate::domain::dm::{create_direct_message, open_direct_room};
use crate::domain::rooms::{can_access_room, public_room, system_message};
use crate::domain::{doc, get_path, str_of};
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Args, Body, Caller, Query, arg_bool, arg_str};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Map, Value, json};
use store::{Doc, MessageQuery};

pub fn routes() -> Routes {
    let mut router = Routes::new();
    for family in ["im", "dm"] {
        router = router
            .post(&format!("/{family}.create"), create)
            .summary("Open a direct-message room with one or more users")
            .body(&[("username", Ty::Str), ("usernames", Ty::Str), ("excludeSelf", Ty::Bool)])
            .get(&format!("/{family}.list"), list)
            .summary("Direct-message rooms of the caller")
            .query(LIST_ARGS)
            .get(&format!("/{family}.list.everyone"), list_everyone)
            .summary("All direct-message rooms (administration)")
            .query(LIST_ARGS)
            .get(&format!("/{family}.history"), history)
            .summary("Messages of a direct-message room between two dates")
            .query(&[
                ("roomId", Ty::Str),
                ("latest", Ty::Str),
                ("oldest", Ty::Str),
                ("inclusive", Ty::Bool),
                ("offset", Ty::Num),
                ("count", Ty::Num),
                ("unreads", Ty::Bool),
            ])
            .get(&format!("/{family}.messages"), messages)
            .summary("Messages of a direct-message room")
            .query(&[("roomId", Ty::Str), ("username", Ty::Str)])
            .query(LIST_ARGS)
            .get(&format!("/{family}.messages.others"), messages_others)
            .summary("Messages of any direct-message room (administration)")
            .query(&[("roomId", Ty::Str)])
            .query(LIST_ARGS)
            .get(&format!("/{family}.members"), members)
            .summary("Members of a direct-message room")
            .query(&[("roomId", Ty::Str), ("username", Ty::Str), ("status", Ty::StrList), ("filter", Ty::Str)])
            .query(LIST_ARGS)
            .get(&format!("/{family}.counters"), counters)
            .summary("Unread counters of a direct-message room")
            .query(&[("roomId", Ty::Str), ("userId", Ty::Str)])
            .post(&format!("/{family}.open"), |s: State<AppState>, c: Caller, b: Body| open_close(s, c, b, true))
            .summary("Show a direct-message room in the caller's list")
            .body(&[("roomId", Ty::Str)])
            .post(&format!("/{family}.close"), |s: State<AppState>, c: Caller, b: Body| open_close(s, c, b, false))
            .summary("Hide a direct-message room from the caller's list")
            .body(&[("roomId", Ty::Str)])
            .post(&format!("/{family}.setTopic"), set_topic)
            .summary("Set the topic of a direct-message room")
            .body(&[("roomId", Ty::Str), ("topic", Ty::Str)])
            .post(&format!("/{family}.delete"), delete)
            .summary("Delete a direct-message room")
            .body(&[("roomId", Ty::Str), ("username", Ty::Str)]);
    }
    router
}

fn room_response(room: Doc) -> Value {
    let mut room = public_room(room);
    room["rid"] = room["_id"].clone();
    room
}

async fn create(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let usernames: Vec<String> = match (arg_str(&body, "username"), arg_str(&body, "usernames")) {
        (Some(one), None) if !one.is_empty() => vec![one.into_owned()],
        (None, Some(many)) => many.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
        _ => {
            return Err(ApiError::invalid_params_typed("must match exactly one schema in oneOf"));
        }
    };
    let exclude_self = arg_bool(&body, "excludeSelf") == Some(true);
    let room = create_direct_message(&state, &caller.user, &usernames, exclude_self).await?;
    Ok(success(json!({"room": room_response(room)})))
}

/// `findDirectMessageRoom`: the room by `roomId`, or the caller's conversation with `username`
/// (opened if it does not exist yet); the caller must be able to access it.
async fn find_dm(state: &AppState, caller: &Caller, args: &Args) -> ApiResult<Doc> {
    let not_found = || {
        ApiError::meteor(
            "error-room-not-found",
            "The required \"roomId\" or \"username\" param provided does not match any direct message",
        )
    };
    let room = if let Some(id) = arg_str(args, "roomId") {
        state.store().room_by_id(&id).await?.filter(|r| str_of(r, "t") == "d").ok_or_else(not_found)?
    } else if let Some(name) = arg_str(args, "username") {
        let other = state.store().user_by_username(&name).await?.ok_or_else(not_found)?;
        if !state.has_permission(&caller.user, "create-d") {
            return Err(not_found());
        }
        open_direct_room(state, &caller.user, vec![caller.user.clone(), other]).await?.0
    } else {
        return Err(ApiError::meteor(
            "error-room-param-not-provided",
            "Query param \"roomId\" or \"username\" is required",
        ));
    };
    Ok(room)
}

async fn accessible_dm(state: &AppState, caller: &Caller, args: &Args) -> ApiResult<Doc> {
    let room = find_dm(state, caller, args).await?;
    if !can_access_room(state, &room, &caller.user).await? {
        return Err(ApiError::forbidden());
    }
    Ok(room)
}

/// The caller's direct rooms: `{ims, count, offset, total}`.
async fn list(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let params = ListParams::from_args(&state, &q)?;
    let mut visible = Vec::new();
    for sub in state.store().subscriptions_of_user(&caller.id).await? {
        if str_of(&sub, "t") == "d"
            && let Some(room) = state.store().room_by_id(str_of(&sub, "rid")).await?
        {
            visible.push(public_room(room));
        }
    }
    let (rooms, total) = params.page_in_memory(visible, &[("_updatedAt", false)]);
    Ok(success(json!({"ims": rooms, "count": rooms.len(), "offset": params.page.offset, "total": total})))
}

/// Every direct room (route permission `view-room-administration`).
async fn list_everyone(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    state.require(&caller.user, "view-room-administration")?;
    let params = ListParams::from_args(&state, &q)?;
    let rooms: Vec<Value> = state.store().rooms_by_type("d").await?.into_iter().map(public_room).collect();
    let (rooms, total) = params.page_in_memory(rooms, &[("_updatedAt", false)]);
    Ok(success(json!({"ims": rooms, "count": rooms.len(), "offset": params.page.offset, "total": total})))
}

async fn history(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let room = find_dm(&state, &caller, &q).await?;
    if !can_access_room(&state, &room, &caller.user).await? {
        return Err(ApiError::forbidden());
    }
    let page = Page::from_args(&state.settings, &q)?;
    let date = |key: &str| -> ApiResult<Option<String>> {
        match arg_str(&q, key) {
            None => Ok(None),
            Some(s) => store::ids::parse_iso(&s)
                .map(|d| Some(store::ids::iso(d)))
                .ok_or_else(|| ApiError::invalid_params(&format!("Invalid date for `{key}`"))),
        }
    };
    let query = MessageQuery {
        latest: date("latest")?,
        oldest: date("oldest")?,
        inclusive: arg_str(&q, "inclusive").as_deref() == Some("true"),
        oldest_first: false,
        offset: page.offset,
        limit: page.count,
    };
    let (messages, _) = state.store().room_messages(str_of(&room, "_id"), query).await?;
    Ok(success(json!({"messages": messages})))
}

async fn page_of_messages(state: &AppState, room: &Doc, q: &Args) -> ApiResult<Response> {
    let page = Page::from_args(&state.settings, q)?;
    let oldest_first = arg_str(q, "sort").is_some_and(|s| s.replace(' ', "").contains("\"ts\":1"));
    let (messages, total) = state
        .store()
        .room_messages(
            str_of(room, "_id"),
            MessageQuery { oldest_first, offset: page.offset, limit: page.count, ..Default::default() },
        )
        .await?;
    Ok(success(json!({"messages": messages, "count": messages.len(), "offset": page.offset, "total": total})))
}

async fn messages(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let room = accessible_dm(&state, &caller, &q).await?;
    page_of_messages(&state, &room, &q).await
}

/// Another pair's conversation: off unless `API_Enable_Direct_Message_History_EndPoint` is on,
/// and then only with `view-room-administration`.
async fn messages_others(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    if !state.settings.bool("API_Enable_Direct_Message_History_EndPoint") {
        return Err(ApiError::meteor_details(
            "error-endpoint-disabled",
            "This endpoint is disabled",
            json!({"route": "/api/v1/im.messages.others"}),
        ));
    }
    state.require(&caller.user, "view-room-administration")?;
    let rid = arg_str(&q, "roomId")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::meteor("error-roomid-param-not-provided", "The parameter \"roomId\" is required"))?;
    let room = state.store().room_by_id(&rid).await?.filter(|r| str_of(r, "t") == "d").ok_or_else(|| {
        ApiError::meteor("error-room-not-found", &format!("No direct message room found by the id of: {rid}"))
    })?;
    page_of_messages(&state, &room, &q).await
}

async fn members(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let room = accessible_dm(&state, &caller, &q).await?;
    let page = Page::from_args(&state.settings, &q)?;
    let ids: Vec<String> = state
        .store()
        .subscriptions_of_room(str_of(&room, "_id"))
        .await?
        .iter()
        .filter_map(|s| get_path(s, "u._id").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let mut users = state.store().users_by_ids(&ids).await?;
    users.sort_by(|a, b| str_of(a, "username").cmp(str_of(b, "username")));
    let total = users.len();
    let members: Vec<Value> = page
        .slice(users)
        .iter()
        .map(|u| {
            let mut m = Map::new();
            for f in ["_id", "username", "name", "status", "statusText", "utcOffset"] {
                if let Some(v) = u.get(f) {
                    m.insert(f.into(), v.clone());
                }
            }
            Value::Object(m)
        })
        .collect();
    Ok(success(json!({"members": members, "count": members.len(), "offset": page.offset, "total": total})))
}

async fn counters(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let room = accessible_dm(&state, &caller, &q).await?;
    room_counters(&state, &caller, &room, &q).await
}

async fn open_close(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body,
    open: bool,
) -> ApiResult<Response> {
    let room = accessible_dm(&state, &caller, &body).await?;
    let rid = str_of(&room, "_id");
    let Some(sub) = state.store().subscription(rid, &caller.id).await? else {
        return Err(ApiError::plain(format!("The user is not subscribed to the room {rid}")));
    };
    let is_open = sub.get("open").and_then(Value::as_bool).unwrap_or(false);
    if !open && !is_open {
        return Err(ApiError::plain(format!("The direct message room, {rid}, is already closed to the sender")));
    }
    if is_open != open {
        state.store().set_subscription_open(rid, &caller.id, open).await?;
    }
    Ok(success(json!({})))
}

async fn set_topic(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let topic = match body.get("topic") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(ApiError::plain("The bodyParam \"topic\" is required")),
    };
    let room = accessible_dm(&state, &caller, &body).await?;
    let rid = str_of(&room, "_id");
    if room.get("topic").and_then(Value::as_str) != Some(topic.as_str()) {
        state.store().update_room(rid, doc(json!({"topic": topic}))).await?;
        state.store().insert_message(system_message(rid, "room_changed_topic", &topic, &caller.user, None)).await?;
    }
    Ok(success(json!({"topic": topic})))
}

/// Erases a direct room (`delete-d` in the room).
async fn delete(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let room = accessible_dm(&state, &caller, &body).await?;
    let rid = str_of(&room, "_id");
    if !state.has_permission_in_room(&caller.user, "delete-d", rid).await? {
        return Err(ApiError::plain("error-not-allowed"));
    }
    state.store().delete_room(rid).await?;
    Ok(success(json!({})))
}
