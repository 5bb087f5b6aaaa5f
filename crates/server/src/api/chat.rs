//! `chat.postMessage`, `chat.sendMessage`, `chat.update`, `chat.delete`, `chat.getMessage`,
//! `chat.getURLPreview`.

use super::auth::COMPATIBLE_VERSION;
use super::docs::Routes;
use super::message_lists::accessible_room;
use super::validation::checks::{ajv_type_errors, match_fields, typed_body};
use super::validation::schema::{Branch, Ty, one_of};
use crate::domain::message_edits::{Edit, delete_message, update_message};
use crate::domain::messages::{
    Defaults, check_can_send, exceeds_max_size, message_fields, post_message, process_webhook_message,
};
use crate::domain::rooms::can_access_room;
use crate::domain::str_of;
use crate::domain::url_preview::preview;
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Body, Caller, Query, arg_bool, arg_str};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};
use store::Doc;
use store::ids::now_ms;

pub fn routes() -> Routes {
    Routes::new()
        .post("/chat.postMessage", post_message_route)
        .summary("Post a message to a room or a user")
        .body(&[
            ("roomId", Ty::Str),
            ("channel", Ty::StrOrList),
            ("text", Ty::Str),
            ("alias", Ty::Str),
            ("emoji", Ty::Str),
            ("avatar", Ty::Str),
            ("attachments", Ty::ObjList),
            ("tmid", Ty::Str),
        ])
        .post("/chat.sendMessage", send_message)
        .summary("Send a message object")
        .body(&[("message", Ty::Obj)])
        .post("/chat.update", update)
        .summary("Edit a message")
        .body(&[("roomId", Ty::Str), ("msgId", Ty::Str), ("text", Ty::Str), ("customFields", Ty::Obj)])
        .post("/chat.delete", delete)
        .summary("Delete a message")
        .body(&[("roomId", Ty::Str), ("msgId", Ty::Str), ("asUser", Ty::Bool)])
        .get("/chat.getMessage", get_message)
        .summary("One message")
        .query(&[("msgId", Ty::Str)])
        .get("/chat.getURLPreview", url_preview)
        .summary("A URL's preview: the page's title, meta tags and content type (not cached)")
        .query(&[("roomId", Ty::Str), ("url", Ty::Str)])
}

/// `chat.postMessage`'s schema: one of a `roomId` (which may carry `tmid`) or a `channel`.
const POST_FIELDS: &[(&str, Ty)] = &[
    ("text", Ty::MaybeStr),
    ("alias", Ty::MaybeStr),
    ("emoji", Ty::MaybeStr),
    ("avatar", Ty::MaybeStr),
    ("attachments", Ty::ObjList),
    ("customFields", Ty::Obj),
    ("parseUrls", Ty::Bool),
];
const POST_TO_ROOM: Branch = Branch {
    type_pattern: None,
    required: &[("roomId", Ty::Str)],
    optional: POST_FIELDS,
    more_optional: &[("tmid", Ty::Str)],
    additional_properties: false,
};
const POST_TO_CHANNEL: Branch = Branch {
    type_pattern: None,
    required: &[("channel", Ty::StrOrList)],
    optional: POST_FIELDS,
    more_optional: &[],
    additional_properties: false,
};

/// `chat.getURLPreview`'s query (`isChatGetURLPreviewProps`).
const URL_PREVIEW_QUERY: Branch = Branch {
    type_pattern: None,
    required: &[("roomId", Ty::Str), ("url", Ty::Str)],
    optional: &[],
    more_optional: &[],
    additional_properties: false,
};

/// The message fields `chat.sendMessage` hands to Meteor's `check()`.
const SEND_FIELDS: &[(&str, Ty)] = &[
    ("_id", Ty::Str),
    ("rid", Ty::Str),
    ("msg", Ty::Str),
    ("tmid", Ty::Str),
    ("tshow", Ty::Bool),
    ("alias", Ty::Str),
    ("emoji", Ty::Str),
    ("avatar", Ty::Str),
    ("attachments", Ty::Arr),
    ("blocks", Ty::Arr),
    ("customFields", Ty::Obj),
];

async fn post_message_route(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    one_of(&body, &[&POST_TO_ROOM, &POST_TO_CHANNEL]).map_err(|e| ApiError::invalid_params(&e))?;
    let destinations: Vec<String> = match (body.get("roomId"), body.get("channel")) {
        (Some(Value::String(id)), None) => vec![id.clone()],
        (None, Some(Value::String(c))) => vec![c.clone()],
        (None, Some(Value::Array(list))) if !list.is_empty() => {
            list.iter().filter_map(|c| c.as_str().map(str::to_owned)).collect()
        }
        _ => return Err(ApiError::invalid_params("must match exactly one schema in oneOf")),
    };
    if body.contains_key("tmid") && !body.contains_key("roomId") {
        return Err(ApiError::invalid_params("must match exactly one schema in oneOf"));
    }
    if exceeds_max_size(&state.settings, &body, &["text", "msg"]) {
        return Err(ApiError::plain("error-message-size-exceeded"));
    }
    let results = process_webhook_message(&state, &body, &caller.user, &Defaults::default(), &destinations, false)
        .await
        .map_err(|e| e.into_api())?;
    let Some((channel, result)) = results.into_iter().next() else {
        return Err(ApiError::plain("unknown-error"));
    };
    let message = result.map_err(|e| e.into_api())?;
    let channel = match body.get("channel") {
        Some(Value::String(c)) => c.clone(),
        _ => channel,
    };
    Ok(success(json!({"ts": now_ms(), "channel": channel, "message": message})))
}

async fn send_message(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let Some(Value::Object(message)) = body.get("message") else {
        return Err(ApiError::invalid_params("must have required property 'message'"));
    };
    // A falsy `rid` is missing; a truthy one of another type fails the type check below.
    if !crate::domain::truthy(message.get("rid")) {
        return Err(ApiError::plain("The 'rid' property on the message object is missing."));
    }
    match_fields(message, SEND_FIELDS)?;
    let rid = str_of(message, "rid");
    if message.get("t").is_some_and(|t| !t.is_null()) {
        return Err(ApiError::plain("Cannot send system messages using 'chat.sendMessage'"));
    }
    if message.contains_key("tshow") && !message.contains_key("tmid") {
        return Err(ApiError::invalid_params("tshow provided but missing tmid"));
    }
    if exceeds_max_size(&state.settings, message, &["text", "msg"]) {
        return Err(ApiError::meteor("error-message-size-exceeded", "Message size exceeds Message_MaxAllowedSize"));
    }
    let Some(room) = state.store().room_by_id(rid).await? else {
        return Err(ApiError::plain("error-invalid-room"));
    };
    let mut fields = message_fields(message, &Defaults::default());
    if !message.contains_key("alias") {
        fields.remove("alias");
    }
    check_can_send(&state, &room, &caller.user, &fields).await.map_err(|e| e.into_api())?;
    if let Some(id) = message.get("_id").and_then(Value::as_str) {
        if state.store().message_by_id(id).await?.is_some() {
            return Err(ApiError::meteor("error-message-already-exists", "Message already exists"));
        }
        fields.insert("_id".into(), json!(id));
    }
    let posted = post_message(&state, &room, &caller.user, fields).await?;
    Ok(success(json!({"message": posted})))
}

fn msg_not_found(id: &str) -> ApiError {
    ApiError::plain(format!("No message found with the id of \"{id}\"."))
}

async fn load_message(state: &AppState, body: &serde_json::Map<String, Value>) -> ApiResult<(Doc, Doc)> {
    let msg_id = arg_str(body, "msgId").unwrap_or_default().into_owned();
    let room_id = arg_str(body, "roomId").unwrap_or_default().into_owned();
    let Some(message) = state.store().message_by_id(&msg_id).await? else {
        return Err(msg_not_found(&msg_id));
    };
    if str_of(&message, "rid") != room_id {
        return Err(ApiError::plain("The room id provided does not match where the message is from."));
    }
    let room = state.store().room_by_id(&room_id).await?.ok_or_else(|| msg_not_found(&msg_id))?;
    Ok((message, room))
}

/// The required string fields of a typed body, then the types of its optional ones.
fn check_body(body: &serde_json::Map<String, Value>, required: &[&str], optional: &[(&str, Ty)]) -> ApiResult<()> {
    for key in required {
        if !body.contains_key(*key) {
            return Err(ApiError::failure(format!("must have required property '{key}'"), "invalid-params"));
        }
    }
    let strings: Vec<(&str, Ty)> = required.iter().map(|k| (*k, Ty::Str)).collect();
    let mut errors = ajv_type_errors(body, "", &strings);
    errors.extend(ajv_type_errors(body, "", optional));
    typed_body(errors)
}

async fn update(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    check_body(&body, &["roomId", "msgId", "text"], &[("customFields", Ty::Obj), ("previewUrls", Ty::Arr)])?;
    let (message, room) = load_message(&state, &body).await?;
    let text = arg_str(&body, "text").unwrap_or_default().into_owned();
    let edit = Edit { text, custom_fields: body.get("customFields").cloned() };
    let message = update_message(&state, &room, message, &caller.user, edit).await?;
    Ok(success(json!({"message": message})))
}

async fn delete(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    check_body(&body, &["roomId", "msgId"], &[("asUser", Ty::Bool)])?;
    let (message, room) = load_message(&state, &body).await?;
    let as_user = arg_bool(&body, "asUser") == Some(true);
    delete_message(&state, &room, &message, &caller.user, as_user).await?;
    let id = str_of(&message, "_id");
    Ok(success(json!({
        "_id": id,
        "ts": now_ms().to_string(),
        "message": {"_id": id, "rid": str_of(&room, "_id"), "u": message.get("u")},
    })))
}

async fn get_message(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let Some(id) = arg_str(&q, "msgId").filter(|s| !s.is_empty()) else {
        return Err(ApiError::plain("The \"msgId\" query parameter must be provided."));
    };
    let Some(message) = state.store().message_by_id(&id).await? else {
        return Err(ApiError::plain(format!("No message found with the id of \"{id}\".")));
    };
    let room = state.store().room_by_id(str_of(&message, "rid")).await?;
    match room {
        Some(room) if can_access_room(&state, &room, &caller.user).await? => Ok(success(json!({"message": message}))),
        _ => Err(ApiError::meteor_details("error-not-allowed", "Not allowed", json!({"method": "getSingleMessage"}))),
    }
}

/// `chat.getURLPreview`: the preview of `url` (`OEmbed.parseUrl`) for a caller who can access
/// `roomId`, marked `ignoreParse` so that a message sent with it is not parsed again.
async fn url_preview(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    if let Some(e) = URL_PREVIEW_QUERY.first_error(&q) {
        return Err(ApiError::invalid_params(&e));
    }
    let room_id = arg_str(&q, "roomId").unwrap_or_default();
    if accessible_room(&state, &room_id, &caller.user).await?.is_none() {
        return Err(ApiError::meteor("error-not-allowed", "Not allowed"));
    }
    let url = arg_str(&q, "url").unwrap_or_default();
    let mut url_preview = preview(&state, &url, COMPATIBLE_VERSION).await?;
    url_preview.insert("ignoreParse".into(), Value::Bool(true));
    Ok(success(json!({"urlPreview": url_preview})))
}
