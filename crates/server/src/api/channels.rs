//! `channels.*` (public rooms). The handlers shared with `groups.*` take a [`Kind`].

use super::docs::Routes;
use super::listing::{LIST_ARGS, ListParams};
use super::lookup::{
    ROOM_ARGS, USER_ARGS, find_channel, find_group, group_not_found, room_param_required, user_from_params,
};
use super::pagination::Page;
use super::validation::checks::match_fields;
use super::validation::schema::Ty;
use crate::domain::rooms::{
    NewRoom, add_member, add_room_owner, archive_room, can_access_room, create_room, leave_room, public_room,
    system_message, users_by_names, valid_room_name,
};
use crate::domain::str_of;
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Args, Body, Caller, Query, arg_bool, arg_str};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Map, Value, json};
use store::{Doc, MessageQuery};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Group,
}

impl Kind {
    pub fn t(self) -> &'static str {
        match self {
            Kind::Channel => "c",
            Kind::Group => "p",
        }
    }
    /// The endpoint family (`channels` / `groups`).
    pub fn family(self) -> &'static str {
        match self {
            Kind::Channel => "channels",
            Kind::Group => "groups",
        }
    }
    /// The key of the room in responses (`channel` / `group`).
    pub fn key(self) -> &'static str {
        match self {
            Kind::Channel => "channel",
            Kind::Group => "group",
        }
    }

    pub async fn find(self, state: &AppState, args: &Args, caller: &Caller, check_archived: bool) -> ApiResult<Doc> {
        match self {
            Kind::Channel => find_channel(state, args, check_archived).await,
            Kind::Group => find_group(state, args, &caller.user, check_archived).await,
        }
    }
}

pub fn routes() -> Routes {
    shared_routes(Kind::Channel)
        .get("/channels.list", list_channels)
        .summary("Rooms of this kind")
        .query(LIST_ARGS)
        .get("/channels.list.joined", |s: State<AppState>, c: Caller, q: Query| list_joined(s, c, q, Kind::Channel))
        .summary("Rooms the caller joined")
        .query(LIST_ARGS)
        .post("/channels.join", join)
        .summary("Join a public channel")
        .body(ROOM_ARGS)
        .body(&[("joinCode", Ty::Str)])
}

/// The endpoints `channels.*` and `groups.*` share, for the family of `kind`.
pub fn shared_routes(kind: Kind) -> Routes {
    let path = |name: &str| format!("/{}.{name}", kind.family());
    Routes::new()
        .post(&path("create"), move |s: State<AppState>, c: Caller, b: Body| create(s, c, b, kind))
        .summary(match kind {
            Kind::Channel => "Create a public channel",
            Kind::Group => "Create a private group",
        })
        .body(&[
            ("name", Ty::Str),
            ("members", Ty::StrList),
            ("readOnly", Ty::Bool),
            ("excludeSelf", Ty::Bool),
            ("customFields", Ty::Obj),
            ("extraData", Ty::Obj),
        ])
        .get(&path("info"), move |s: State<AppState>, c: Caller, q: Query| info(s, c, q, kind))
        .summary("A room")
        .query(ROOM_ARGS)
        .post(&path("delete"), move |s: State<AppState>, c: Caller, b: Body| delete(s, c, b, kind))
        .summary("Delete a room")
        .body(ROOM_ARGS)
        .get(&path("members"), move |s: State<AppState>, c: Caller, q: Query| members(s, c, q, kind))
        .summary("Members of a room")
        .query(ROOM_ARGS)
        .query(LIST_ARGS)
        .query(&[("status", Ty::StrList), ("filter", Ty::Str)])
        .get(&path("messages"), move |s: State<AppState>, c: Caller, q: Query| messages(s, c, q, kind))
        .summary("Messages of a room")
        .query(ROOM_ARGS)
        .query(LIST_ARGS)
        .get(&path("history"), move |s: State<AppState>, c: Caller, q: Query| history(s, c, q, kind))
        .summary("Messages of a room between two dates")
        .query(ROOM_ARGS)
        .query(&[
            ("latest", Ty::Str),
            ("oldest", Ty::Str),
            ("inclusive", Ty::Bool),
            ("offset", Ty::Num),
            ("count", Ty::Num),
            ("unreads", Ty::Bool),
        ])
        .post(&path("invite"), move |s: State<AppState>, c: Caller, b: Body| invite(s, c, b, kind))
        .summary("Add users to a room")
        .body(ROOM_ARGS)
        .body(USER_ARGS)
        .body(&[("userIds", Ty::StrList)])
        .post(&path("addOwner"), move |s: State<AppState>, c: Caller, b: Body| add_owner(s, c, b, kind))
        .summary("Make a member an owner")
        .body(ROOM_ARGS)
        .body(USER_ARGS)
        .post(&path("leave"), move |s: State<AppState>, c: Caller, b: Body| leave(s, c, b, kind))
        .summary("Leave a room")
        .body(ROOM_ARGS)
        .post(&path("archive"), move |s: State<AppState>, c: Caller, b: Body| archive(s, c, b, kind))
        .summary("Archive a room")
        .body(ROOM_ARGS)
}

fn names_list(v: Option<&Value>) -> Vec<String> {
    crate::domain::strings(v)
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body,
    kind: Kind,
) -> ApiResult<Response> {
    let extra_data = match body.get("extraData") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => {
            return Err(ApiError::plain(match kind {
                Kind::Channel => "Param \"extraData\" must be an object if provided",
                Kind::Group => "Body param \"extraData\" must be an object if provided",
            }));
        }
    };
    let team_id = extra_data.as_ref().and_then(|e| e.get("teamId")).and_then(Value::as_str).map(str::to_owned);
    let team = match &team_id {
        Some(id) => state.store().team_by_id(id).await?,
        None => None,
    };
    // Permission first, as Rocket.Chat's validator does.
    let allowed = match (&team, kind) {
        (Some(team), Kind::Channel) => {
            state.has_permission_in_room(&caller.user, "create-team-channel", str_of(team, "roomId")).await?
        }
        (Some(team), Kind::Group) => {
            state.has_permission_in_room(&caller.user, "create-team-group", str_of(team, "roomId")).await?
        }
        (None, _) => state.has_permission(&caller.user, &format!("create-{}", kind.t())),
    };
    let prefix = match kind {
        Kind::Channel => "Param",
        Kind::Group => "Body param",
    };
    if !allowed {
        return Err(match kind {
            Kind::Channel => ApiError::forbidden(),
            Kind::Group => {
                ApiError::meteor_details("error-not-allowed", "Not allowed", json!({"method": "createPrivateGroup"}))
            }
        });
    }
    // `createChannel`/`createPrivateGroup` check their arguments with Meteor's `check()`.
    match_fields(&body, &[("name", Ty::Str), ("readOnly", Ty::Bool), ("excludeSelf", Ty::Bool)])?;
    let name = arg_str(&body, "name").unwrap_or_default().into_owned();
    if name.is_empty() {
        return Err(ApiError::plain(format!("{prefix} \"name\" is required")));
    }
    if body.get("members").is_some_and(|m| !m.is_array() && !m.is_null()) {
        return Err(ApiError::plain(format!("{prefix} \"members\" must be an array if provided")));
    }
    if body.get("customFields").is_some_and(|m| !m.is_object() && !m.is_null()) {
        return Err(ApiError::plain(format!("{prefix} \"customFields\" must be an object if provided")));
    }
    if team_id.is_some() && team.is_none() {
        return Err(ApiError::meteor("error-team-not-found", "The \"teamId\" param provided does not match any team"));
    }
    let name = valid_room_name(&state, &name).await?;
    let members = users_by_names(&state, &names_list(body.get("members"))).await?;
    let room = create_room(
        &state,
        NewRoom {
            t: kind.t(),
            name,
            owner: &caller.user,
            members,
            read_only: arg_bool(&body, "readOnly") == Some(true),
            exclude_self: arg_bool(&body, "excludeSelf") == Some(true),
            custom_fields: body.get("customFields").filter(|v| !v.is_null()).cloned(),
            extra_data,
            team_main: None,
        },
    )
    .await?;
    if let Some(team) = &team {
        let mut extra = Map::new();
        extra.insert("msg".into(), json!(str_of(&room, "name")));
        let note = system_message(
            str_of(team, "roomId"),
            "user-added-room-to-team",
            str_of(&room, "name"),
            &caller.user,
            Some(extra),
        );
        state.store().insert_message(note).await?;
    }
    Ok(success(json!({ kind.key(): public_room(room) })))
}

pub async fn info(State(state): State<AppState>, caller: Caller, Query(q): Query, kind: Kind) -> ApiResult<Response> {
    let room = kind.find(&state, &q, &caller, false).await?;
    if kind == Kind::Channel && !can_access_room(&state, &room, &caller.user).await? {
        return Err(ApiError::forbidden());
    }
    Ok(success(json!({ kind.key(): public_room(room) })))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body,
    kind: Kind,
) -> ApiResult<Response> {
    let room = kind.find(&state, &body, &caller, false).await?;
    let rid = str_of(&room, "_id").to_owned();
    if room.get("teamMain").and_then(Value::as_bool) == Some(true) {
        return Err(ApiError::meteor_details(
            "error-cannot-delete-team-channel",
            "Cannot delete a team channel",
            json!({"method": "eraseRoom"}),
        ));
    }
    let not_allowed = || ApiError::meteor_details("error-not-allowed", "Not allowed", json!({"method": "eraseRoom"}));
    if !state.has_permission_in_room(&caller.user, &format!("delete-{}", kind.t()), &rid).await? {
        return Err(not_allowed());
    }
    if let Some(team_id) = room.get("teamId").and_then(Value::as_str)
        && let Some(team) = state.store().team_by_id(team_id).await?
    {
        let perm = match kind {
            Kind::Channel => "delete-team-channel",
            Kind::Group => "delete-team-group",
        };
        if !state.has_permission_in_room(&caller.user, perm, str_of(&team, "roomId")).await? {
            return Err(not_allowed());
        }
        let note = system_message(
            str_of(&team, "roomId"),
            "user-deleted-room-from-team",
            str_of(&room, "name"),
            &caller.user,
            None,
        );
        state.store().insert_message(note).await?;
    }
    state.store().delete_room(&rid).await?;
    Ok(success(json!({})))
}

async fn list_channels(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    state.require_any(&caller.user, &["view-c-room", "view-joined-room"])?;
    let params = ListParams::from_args(&state, &q)?;
    let can_view_all = state.has_permission(&caller.user, "view-c-room");
    let joined: Vec<String> =
        state.store().subscriptions_of_user(&caller.id).await?.iter().map(|s| str_of(s, "rid").to_owned()).collect();
    let only_id = arg_str(&q, "_id");
    let visible: Vec<Value> = state
        .store()
        .rooms_by_type("c")
        .await?
        .into_iter()
        .filter(|r| {
            let subscribed = joined.iter().any(|j| j == str_of(r, "_id"));
            let in_team = r.get("teamId").is_some();
            (subscribed || (can_view_all && !in_team)) && only_id.as_deref().is_none_or(|id| id == str_of(r, "_id"))
        })
        .map(public_room)
        .collect();
    let (rooms, total) = params.page_in_memory(visible, &[("name", true)]);
    Ok(success(json!({"channels": rooms, "count": rooms.len(), "offset": params.page.offset, "total": total})))
}

pub async fn list_joined(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query,
    kind: Kind,
) -> ApiResult<Response> {
    let params = ListParams::from_args(&state, &q)?;
    let mut visible = Vec::new();
    for sub in state.store().subscriptions_of_user(&caller.id).await? {
        if str_of(&sub, "t") == kind.t()
            && let Some(room) = state.store().room_by_id(str_of(&sub, "rid")).await?
        {
            visible.push(public_room(room));
        }
    }
    let (rooms, total) = params.page_in_memory(visible, &[("name", true)]);
    let page = params.page;
    let key = match kind {
        Kind::Channel => "channels",
        Kind::Group => "groups",
    };
    Ok(success(json!({key: rooms, "count": rooms.len(), "offset": page.offset, "total": total})))
}

pub async fn members(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query,
    kind: Kind,
) -> ApiResult<Response> {
    let room = kind.find(&state, &q, &caller, kind == Kind::Group).await?;
    if !can_access_room(&state, &room, &caller.user).await? {
        return Err(ApiError::forbidden());
    }
    if room.get("broadcast").and_then(Value::as_bool) == Some(true)
        && !state.has_permission_in_room(&caller.user, "view-broadcast-member-list", str_of(&room, "_id")).await?
    {
        return Err(ApiError::forbidden());
    }
    let page = Page::from_args(&state.settings, &q)?;
    let ids: Vec<String> = state
        .store()
        .subscriptions_of_room(str_of(&room, "_id"))
        .await?
        .iter()
        .filter_map(|s| crate::domain::get_path(s, "u._id").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let mut users: Vec<Doc> = state
        .store()
        .users_by_ids(&ids)
        .await?
        .into_iter()
        .filter(|u| u.get("active").and_then(Value::as_bool) != Some(false))
        .collect();
    users.sort_by(|a, b| str_of(a, "username").cmp(str_of(b, "username")));
    let total = users.len();
    let members: Vec<Value> = page
        .slice(users)
        .iter()
        .map(|u| {
            let mut m = Map::new();
            for f in ["_id", "username", "name", "status", "_updatedAt", "nickname", "avatarETag"] {
                if let Some(v) = u.get(f) {
                    m.insert(f.into(), v.clone());
                }
            }
            Value::Object(m)
        })
        .collect();
    Ok(success(json!({"members": members, "count": members.len(), "offset": page.offset, "total": total})))
}

pub async fn messages(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query,
    kind: Kind,
) -> ApiResult<Response> {
    let room = match kind {
        Kind::Channel => {
            if !q.contains_key("roomId") {
                return Err(ApiError::invalid_params("must have required property 'roomId'"));
            }
            state.require(&caller.user, "view-c-room")?;
            let room = find_channel(&state, &q, false).await?;
            if !can_access_room(&state, &room, &caller.user).await? {
                return Err(ApiError::forbidden());
            }
            room
        }
        Kind::Group => find_group(&state, &q, &caller.user, false).await?,
    };
    let page = Page::from_args(&state.settings, &q)?;
    let oldest_first = crate::http::arg_str(&q, "sort").is_some_and(|s| s.replace(' ', "").contains("\"ts\":1"));
    let (messages, total) = state
        .store()
        .room_messages(
            str_of(&room, "_id"),
            MessageQuery { oldest_first, offset: page.offset, limit: page.count, ..Default::default() },
        )
        .await?;
    Ok(success(json!({"messages": messages, "count": messages.len(), "offset": page.offset, "total": total})))
}

pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Query(mut q): Query,
    kind: Kind,
) -> ApiResult<Response> {
    let room = kind.find(&state, &q, &caller, false).await?;
    // canReadRoom: access, and for public channels a subscription or `preview-c-room`.
    let readable = can_access_room(&state, &room, &caller.user).await?
        && (kind == Kind::Group
            || state.has_permission(&caller.user, "preview-c-room")
            || state.store().subscription(str_of(&room, "_id"), &caller.id).await?.is_some());
    if !readable {
        return Err(ApiError::forbidden());
    }
    if kind == Kind::Group && !q.contains_key("count") {
        q.insert("count".into(), json!("20"));
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

/// Users named by `userId`/`username`/`user` and `userIds`/`usernames`; unknown ones dropped.
async fn invitees(state: &AppState, body: &Args) -> ApiResult<Vec<Doc>> {
    let mut found: Vec<Doc> = Vec::new();
    let mut push = |u: Doc| {
        if !found.iter().any(|f| str_of(f, "_id") == str_of(&u, "_id")) {
            found.push(u);
        }
    };
    for key in ["userId", "userIds"] {
        for id in string_or_list(body.get(key)) {
            if let Some(u) = state.store().user_by_id(&id).await? {
                push(u);
            }
        }
    }
    for key in ["username", "user", "usernames"] {
        for name in string_or_list(body.get(key)) {
            if let Some(u) = state.store().user_by_username(&name).await? {
                push(u);
            }
        }
    }
    Ok(found)
}

fn string_or_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
        _ => vec![],
    }
}

pub async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body,
    kind: Kind,
) -> ApiResult<Response> {
    let room = match kind {
        Kind::Channel => find_channel(&state, &body, true).await?,
        Kind::Group => {
            let id = arg_str(&body, "roomId").unwrap_or_default();
            let name = arg_str(&body, "roomName").unwrap_or_default();
            if id.is_empty() && name.is_empty() {
                return Err(room_param_required());
            }
            let room = match state.store().room_by_id(&id).await? {
                Some(r) => Some(r),
                None => state.store().room_by_name(&name).await?,
            };
            room.filter(|r| str_of(r, "t") == "p").ok_or_else(group_not_found)?
        }
    };
    let rid = str_of(&room, "_id").to_owned();
    let users = invitees(&state, &body).await?;
    if users.is_empty() {
        return Err(match kind {
            Kind::Channel => ApiError::failure("invalid-user-invite-list", "Cannot invite if no users are provided"),
            Kind::Group => ApiError::meteor("error-empty-invite-list", "Cannot invite if no valid users are provided"),
        });
    }
    let in_room = state.store().subscription(&rid, &caller.id).await?.is_some();
    let allowed = (in_room && state.has_permission_in_room(&caller.user, "add-user-to-joined-room", &rid).await?)
        || state.has_permission(&caller.user, &format!("add-user-to-any-{}-room", kind.t()));
    if !allowed {
        return Err(ApiError::meteor_details("error-not-allowed", "Not allowed", json!({"method": "addUsersToRoom"})));
    }
    for u in &users {
        add_member(&state, &room, u, Some(&caller.user)).await?;
    }
    let room = state.store().room_by_id(&rid).await?.unwrap_or(room);
    Ok(success(json!({ kind.key(): public_room(room) })))
}

async fn join(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let room = find_channel(&state, &body, true).await?;
    if !can_access_room(&state, &room, &caller.user).await? {
        return Err(ApiError::meteor_details("error-not-allowed", "Not allowed", json!({"method": "joinRoom"})));
    }
    if let Some(code) = room.get("joinCode").and_then(Value::as_str).filter(|c| !c.is_empty())
        && !state.has_permission(&caller.user, "join-without-join-code")
    {
        match_fields(&body, &[("joinCode", Ty::Str)])?;
        match arg_str(&body, "joinCode") {
            None => {
                return Err(ApiError::meteor_details(
                    "error-code-required",
                    "Code required",
                    json!({"method": "joinRoom"}),
                ));
            }
            Some(given) if given != code => {
                return Err(ApiError::meteor_details(
                    "error-code-invalid",
                    "Invalid Code",
                    json!({"method": "joinRoom"}),
                ));
            }
            _ => {}
        }
    }
    add_member(&state, &room, &caller.user, None).await?;
    let room = state.store().room_by_id(str_of(&room, "_id")).await?.unwrap_or(room);
    Ok(success(json!({"channel": public_room(room)})))
}

pub async fn leave(State(state): State<AppState>, caller: Caller, Body(body): Body, kind: Kind) -> ApiResult<Response> {
    let room = kind.find(&state, &body, &caller, true).await?;
    leave_room(&state, &room, &caller.user, kind.t()).await?;
    let room = state.store().room_by_id(str_of(&room, "_id")).await?.unwrap_or(room);
    Ok(success(json!({ kind.key(): public_room(room) })))
}

pub async fn add_owner(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body,
    kind: Kind,
) -> ApiResult<Response> {
    let room = kind.find(&state, &body, &caller, true).await?;
    let user = user_from_params(&state, &body).await?;
    add_room_owner(&state, &room, &caller.user, &user).await?;
    Ok(success(json!({})))
}

/// `channels.archive` / `groups.archive`.
pub async fn archive(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body,
    kind: Kind,
) -> ApiResult<Response> {
    let room = kind.find(&state, &body, &caller, true).await?;
    archive_room(&state, &room, &caller.user).await?;
    Ok(success(json!({})))
}
