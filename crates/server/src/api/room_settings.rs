//! Room settings of `channels.*` / `groups.*`: unarchive, topic, description, announcement,
//! purpose, read-only, rename, type, custom fields, join code, default, open/close.
//! Rocket.Chat routes them through `saveRoomSettings`, which needs `edit-room` in the room
//! and posts one system message per change:
//! <https://github.com/RocketChat/Rocket.Chat/blob/develop/apps/meteor/app/channel-settings/server/methods/saveRoomSettings.ts>

use super::channels::Kind;
use super::docs::Routes;
use super::lookup::ROOM_ARGS;
use super::validation::schema::Ty;
use crate::domain::rooms::{public_room, system_message, valid_room_name};
use crate::domain::{doc, str_of};
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Args, Body, Caller, arg_str};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Map, Value, json};
use store::Doc;

type Handler =
    fn(State<AppState>, Caller, Body, Kind) -> std::pin::Pin<Box<dyn Future<Output = ApiResult<Response>> + Send>>;

/// `(endpoint suffix, handler)` shared by both families.
fn endpoints() -> Vec<(&'static str, Handler)> {
    vec![
        ("unarchive", |s, c, b, k| Box::pin(unarchive(s, c, b, k))),
        ("setTopic", |s, c, b, k| Box::pin(set_text(s, c, b, k, "topic", "room_changed_topic"))),
        ("setDescription", |s, c, b, k| Box::pin(set_text(s, c, b, k, "description", "room_changed_description"))),
        ("setAnnouncement", |s, c, b, k| Box::pin(set_text(s, c, b, k, "announcement", "room_changed_announcement"))),
        ("setPurpose", |s, c, b, k| Box::pin(set_text(s, c, b, k, "purpose", "room_changed_description"))),
        ("setReadOnly", |s, c, b, k| Box::pin(set_read_only(s, c, b, k))),
        ("rename", |s, c, b, k| Box::pin(rename(s, c, b, k))),
        ("setType", |s, c, b, k| Box::pin(set_type(s, c, b, k))),
        ("setCustomFields", |s, c, b, k| Box::pin(set_custom_fields(s, c, b, k))),
        ("open", |s, c, b, k| Box::pin(open_close(s, c, b, k, true))),
        ("close", |s, c, b, k| Box::pin(open_close(s, c, b, k, false))),
    ]
}

pub fn routes() -> Routes {
    let mut router = Routes::new();
    for kind in [Kind::Channel, Kind::Group] {
        let family = match kind {
            Kind::Channel => "channels",
            Kind::Group => "groups",
        };
        for (name, handler) in endpoints() {
            router = router
                .post(&format!("/{family}.{name}"), move |s: State<AppState>, c: Caller, b: Body| {
                    handler(s, c, b, kind)
                })
                .summary(format!("Room settings: {name}"))
                .body(ROOM_ARGS)
                .body(SETTING_ARGS);
        }
    }
    router
        .post("/channels.setJoinCode", set_join_code)
        .summary("Set the code needed to join a channel")
        .body(ROOM_ARGS)
        .body(&[("joinCode", Ty::Str)])
        .post("/channels.setDefault", set_default)
        .summary("Make a channel a default one")
        .body(ROOM_ARGS)
        .body(&[("default", Ty::Bool)])
}

/// The values the setters read.
const SETTING_ARGS: &[(&str, Ty)] = &[
    ("topic", Ty::Str),
    ("description", Ty::Str),
    ("announcement", Ty::Str),
    ("purpose", Ty::Str),
    ("readOnly", Ty::Bool),
    ("name", Ty::Str),
    ("type", Ty::Str),
    ("customFields", Ty::Obj),
];

fn not_allowed() -> ApiError {
    ApiError::meteor_details(
        "error-action-not-allowed",
        "Editing room is not allowed",
        json!({"method": "saveRoomSettings", "action": "Editing_room"}),
    )
}

async fn require_edit_room(state: &AppState, caller: &Caller, room: &Doc) -> ApiResult<()> {
    if state.has_permission_in_room(&caller.user, "edit-room", str_of(room, "_id")).await? {
        Ok(())
    } else {
        Err(not_allowed())
    }
}

/// Applies `set` to the room and posts the system message `(t, msg)` announcing it.
async fn save(state: &AppState, caller: &Caller, room: &Doc, set: Doc, note: Option<(&str, &str)>) -> ApiResult<Doc> {
    let rid = str_of(room, "_id");
    let updated = state.store().update_room(rid, set).await?.ok_or_else(|| room_gone(room))?;
    if let Some((t, msg)) = note {
        state.store().insert_message(system_message(rid, t, msg, &caller.user, None)).await?;
    }
    Ok(state.store().room_by_id(rid).await?.unwrap_or(updated))
}

fn room_gone(room: &Doc) -> ApiError {
    ApiError::meteor("error-room-not-found", &format!("The room {} no longer exists", str_of(room, "_id")))
}

fn required(body: &Args, key: &str) -> ApiResult<String> {
    match body.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        _ => Err(ApiError::plain(format!("The bodyParam \"{key}\" is required"))),
    }
}

/// `channels.unarchive` / `groups.unarchive` (`unarchiveRoom`, permission `unarchive-room`).
/// Rocket.Chat raises no outgoing event for it (its triggers know `roomArchived` only).
async fn unarchive(State(state): State<AppState>, caller: Caller, Body(body): Body, kind: Kind) -> ApiResult<Response> {
    let room = kind.find(&state, &body, &caller, false).await?;
    let rid = str_of(&room, "_id").to_owned();
    // The REST handler refuses a room that is not archived before the method checks rights.
    if room.get("archived").and_then(Value::as_bool) != Some(true) {
        return Err(ApiError::plain(format!("The {}, {}, is not archived", kind_word(kind), str_of(&room, "name"))));
    }
    if !state.has_permission_in_room(&caller.user, "unarchive-room", &rid).await? {
        return Err(ApiError::meteor_details(
            "error-not-authorized",
            "Not authorized",
            json!({"method": "unarchiveRoom"}),
        ));
    }
    save(&state, &caller, &room, doc(json!({"archived": false})), Some(("room-unarchived", caller.username()))).await?;
    Ok(success(json!({})))
}

/// `setTopic`, `setDescription`, `setAnnouncement`, `setPurpose`: `{<field>: value}`.
async fn set_text(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body,
    kind: Kind,
    field: &'static str,
    message_type: &'static str,
) -> ApiResult<Response> {
    let room = kind.find(&state, &body, &caller, true).await?;
    let value = match body.get(field) {
        Some(Value::String(s)) => s.clone(),
        _ => {
            return Err(ApiError::plain(format!("The bodyParam \"{field}\" is required")));
        }
    };
    require_edit_room(&state, &caller, &room).await?;
    if room.get(field).and_then(Value::as_str) != Some(value.as_str()) {
        let mut set = Map::new();
        set.insert(field.into(), json!(value));
        save(&state, &caller, &room, set, Some((message_type, &value))).await?;
    }
    Ok(success(json!({ field: value })))
}

async fn set_read_only(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body,
    kind: Kind,
) -> ApiResult<Response> {
    let room = kind.find(&state, &body, &caller, true).await?;
    let read_only = match body.get("readOnly") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s == "true" || s == "false" => s == "true",
        _ => return Err(ApiError::plain("The bodyParam \"readOnly\" is required")),
    };
    require_edit_room(&state, &caller, &room).await?;
    if room.get("ro").and_then(Value::as_bool).unwrap_or(false) == read_only {
        return Err(ApiError::plain(format!(
            "The {} read only setting is the same as what it would be changed to.",
            kind_word(kind)
        )));
    }
    let t = if read_only { "room-set-read-only" } else { "room-removed-read-only" };
    let room = save(&state, &caller, &room, doc(json!({"ro": read_only})), Some((t, caller.username()))).await?;
    Ok(success(json!({ kind.key(): public_room(room) })))
}

fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Channel => "channel",
        Kind::Group => "private group",
    }
}

async fn rename(State(state): State<AppState>, caller: Caller, Body(body): Body, kind: Kind) -> ApiResult<Response> {
    let name = match body.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
        _ => return Err(ApiError::plain("The bodyParam \"name\" is required")),
    };
    let room = kind.find(&state, &body, &caller, true).await?;
    if str_of(&room, "name") == name {
        return Err(ApiError::plain(format!(
            "The {} name is the same as what it would be renamed to.",
            kind_word(kind)
        )));
    }
    if room.get("teamMain").and_then(Value::as_bool) == Some(true)
        && !state.has_permission_in_room(&caller.user, "edit-team", str_of(&room, "_id")).await?
    {
        return Err(not_allowed());
    }
    require_edit_room(&state, &caller, &room).await?;
    let name = valid_room_name(&state, &name).await?;
    let set = doc(json!({"name": name, "fname": name}));
    let room = match save(&state, &caller, &room, set, Some(("r", &name))).await {
        Err(ApiError::Internal(_)) if state.store().room_by_name(&name).await?.is_some() => {
            return Err(ApiError::meteor_details(
                "error-duplicate-channel-name",
                &format!("A channel with name '{name}' exists"),
                json!({"method": "saveRoomSettings", "channel_name": name}),
            ));
        }
        other => other?,
    };
    Ok(success(json!({ kind.key(): public_room(room) })))
}

async fn set_type(State(state): State<AppState>, caller: Caller, Body(body): Body, kind: Kind) -> ApiResult<Response> {
    let t = match arg_str(&body, "type") {
        Some(t) if !t.trim().is_empty() => t.into_owned(),
        _ => return Err(ApiError::plain("The bodyParam \"type\" is required")),
    };
    let room = kind.find(&state, &body, &caller, true).await?;
    if str_of(&room, "t") == t {
        return Err(ApiError::plain(format!(
            "The {} type is the same as what it would be changed to.",
            kind_word(kind)
        )));
    }
    if t != "c" && t != "p" {
        return Err(ApiError::meteor_details(
            "error-invalid-room-type",
            &format!("{t} is not a valid room type"),
            json!({"method": "saveRoomSettings", "type": t}),
        ));
    }
    require_edit_room(&state, &caller, &room).await?;
    // Making a room public or private needs the right to create rooms of that kind.
    if !state.has_permission(&caller.user, &format!("create-{t}")) {
        return Err(ApiError::meteor_details(
            "error-action-not-allowed",
            &format!(
                "Changing a {} to a {} is not allowed",
                kind_word(kind),
                if t == "c" { "public room" } else { "private room" }
            ),
            json!({"method": "saveRoomSettings", "action": "Change_Room_Type"}),
        ));
    }
    let label = if t == "c" { "public" } else { "private" };
    let room = save(&state, &caller, &room, doc(json!({"t": t})), Some(("room_changed_privacy", label))).await?;
    Ok(success(json!({ kind.key(): public_room(room) })))
}

async fn set_custom_fields(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body,
    kind: Kind,
) -> ApiResult<Response> {
    let fields = match body.get("customFields") {
        Some(Value::Object(m)) if !m.is_empty() => m.clone(),
        _ => {
            return Err(ApiError::plain("The bodyParam \"customFields\" is required with a type like object."));
        }
    };
    let room = kind.find(&state, &body, &caller, true).await?;
    require_edit_room(&state, &caller, &room).await?;
    let room = save(&state, &caller, &room, doc(json!({"customFields": fields})), None).await?;
    Ok(success(json!({ kind.key(): public_room(room) })))
}

/// `open` / `close`: shows or hides the room in the caller's own room list (the subscription's
/// `open` flag); closing a room that is not open fails as Rocket.Chat does.
async fn open_close(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body,
    kind: Kind,
    open: bool,
) -> ApiResult<Response> {
    let room = kind.find(&state, &body, &caller, false).await?;
    let rid = str_of(&room, "_id");
    let Some(sub) = state.store().subscription(rid, &caller.id).await? else {
        return Err(ApiError::plain(format!(
            "The user/callee is not in the {} \"{}\"",
            kind_word(kind),
            str_of(&room, "name")
        )));
    };
    let is_open = sub.get("open").and_then(Value::as_bool).unwrap_or(false);
    if is_open == open {
        let state_word = if open { "open" } else { "closed" };
        return Err(ApiError::plain(format!(
            "The {} \"{}\" is already {state_word} to the sender",
            kind_word(kind),
            str_of(&room, "name")
        )));
    }
    state.store().set_subscription_open(rid, &caller.id, open).await?;
    Ok(success(json!({})))
}

async fn set_join_code(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let code = required(&body, "joinCode")?;
    let room = Kind::Channel.find(&state, &body, &caller, true).await?;
    require_edit_room(&state, &caller, &room).await?;
    let room = save(&state, &caller, &room, doc(json!({"joinCode": code, "joinCodeRequired": true})), None).await?;
    Ok(success(json!({"channel": public_room(room)})))
}

async fn set_default(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let default = match body.get("default") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s == "true" || s == "false" => s == "true",
        _ => return Err(ApiError::plain("The bodyParam \"default\" is required")),
    };
    let room = Kind::Channel.find(&state, &body, &caller, true).await?;
    if room.get("default").and_then(Value::as_bool).unwrap_or(false) == default {
        return Err(ApiError::plain("The channel default setting is the same as what it would be changed to."));
    }
    require_edit_room(&state, &caller, &room).await?;
    let room = save(&state, &caller, &room, doc(json!({"default": default})), None).await?;
    Ok(success(json!({"channel": public_room(room)})))
}
