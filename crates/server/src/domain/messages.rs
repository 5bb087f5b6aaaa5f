//! Posting messages. `process_webhook_message` is Rocket.Chat's `processWebhookMessage`: it
//! serves `chat.postMessage`, incoming webhooks and the answers of outgoing webhooks alike.

use super::events::Event;
use super::outbox::raise;
use super::rooms::{add_member, can_access_room, direct_room, is_member};
use super::{brief_user, doc, str_of};
use crate::error::{ApiError, ApiResult};
use crate::settings::Settings;
use crate::state::AppState;
use serde_json::{Map, Value, json};
use store::ids::{now_iso, object_id};
use store::{Change, Doc};

/// Why a message could not be sent, in the two shapes Rocket.Chat produces.
#[derive(Debug)]
pub enum SendError {
    /// A Meteor error: code and reason.
    Meteor {
        code: String,
        reason: String,
    },
    /// A plain JS error message (`error-not-allowed`, `Not enough permission`, ...).
    Plain(String),
    Internal(ApiError),
}

impl SendError {
    fn meteor(code: &str, reason: &str) -> Self {
        Self::Meteor { code: code.into(), reason: reason.into() }
    }

    /// The REST form: Meteor errors as `"<reason> [<code>]"` with `errorType`.
    pub fn into_api(self) -> ApiError {
        match self {
            SendError::Meteor { code, reason } => ApiError::meteor(&code, &reason),
            SendError::Plain(m) => ApiError::plain(m),
            SendError::Internal(e) => e,
        }
    }

    /// The webhook form: the bare code of Meteor errors, the message of plain ones.
    pub fn code(&self) -> String {
        match self {
            SendError::Meteor { code, .. } => code.clone(),
            SendError::Plain(m) => m.clone(),
            SendError::Internal(_) => "error-internal".into(),
        }
    }
}

impl From<ApiError> for SendError {
    fn from(e: ApiError) -> Self {
        SendError::Internal(e)
    }
}

impl From<store::StoreError> for SendError {
    fn from(e: store::StoreError) -> Self {
        SendError::Internal(e.into())
    }
}

/// Whether a text is longer than `Message_MaxAllowedSize` characters (0 or less: no limit).
pub fn text_exceeds_max_size(settings: &Settings, text: &str) -> bool {
    let max = settings.int("Message_MaxAllowedSize");
    max > 0 && text.chars().count() as i64 > max
}

/// Whether a message's text fields `keys` or an attachment's `text` exceed the size limit.
pub fn exceeds_max_size(settings: &Settings, message: &Map<String, Value>, keys: &[&str]) -> bool {
    if settings.int("Message_MaxAllowedSize") <= 0 {
        return false;
    }
    let over = |v: Option<&Value>| v.and_then(Value::as_str).is_some_and(|s| text_exceeds_max_size(settings, s));
    keys.iter().any(|k| over(message.get(*k)))
        || message.get("attachments").and_then(Value::as_array).is_some_and(|a| a.iter().any(|x| over(x.get("text"))))
}

/// Message defaults of an integration (empty for `chat.postMessage`).
#[derive(Debug, Default, Clone)]
pub struct Defaults {
    pub alias: Option<String>,
    pub avatar: Option<String>,
    pub emoji: Option<String>,
    /// The integration id, set as `bot: {i}` on every message.
    pub integration_id: Option<String>,
}

/// The message fields of a payload (the `processWebhookMessage` table), before `_id`/`rid`/`u`.
pub fn message_fields(payload: &Map<String, Value>, defaults: &Defaults) -> Doc {
    message_fields_from(payload.clone(), defaults)
}

/// Removes `key` when it holds a non-empty string (JavaScript's `payload.key || ...`).
fn take_truthy_str(payload: &mut Map<String, Value>, key: &str) -> Option<String> {
    match payload.get(key) {
        Some(Value::String(s)) if !s.is_empty() => match payload.remove(key) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

fn trimmed(s: String) -> String {
    if s.trim().len() == s.len() { s } else { s.trim().to_owned() }
}

/// [`message_fields`] taking the payload, so its strings and attachments move instead of
/// being copied (the `/hooks` hot path).
pub fn message_fields_from(mut payload: Map<String, Value>, defaults: &Defaults) -> Doc {
    let mut m = Doc::new();
    let alias = take_truthy_str(&mut payload, "username")
        .or_else(|| take_truthy_str(&mut payload, "alias"))
        .or_else(|| defaults.alias.clone().filter(|s| !s.is_empty()));
    m.insert("alias".into(), Value::String(alias.unwrap_or_default()));
    let text =
        take_truthy_str(&mut payload, "text").or_else(|| take_truthy_str(&mut payload, "msg")).unwrap_or_default();
    m.insert("msg".into(), Value::String(trimmed(text)));
    let has_attachments = payload.get("attachments").is_some_and(|a| !a.is_null());
    let attachments = match payload.remove("attachments") {
        Some(Value::Array(list)) => list
            .into_iter()
            .map(|mut a| {
                if let Value::Object(att) = &mut a
                    && let Some(msg) = att.remove("msg")
                {
                    let text = match msg {
                        Value::String(s) => Value::String(trimmed(s)),
                        other => other,
                    };
                    att.insert("text".into(), text);
                }
                a
            })
            .collect(),
        _ => Vec::new(),
    };
    m.insert("attachments".into(), Value::Array(attachments));
    let parse_urls = payload.remove("parseUrls").unwrap_or(json!(!has_attachments));
    m.insert("parseUrls".into(), parse_urls);
    if let Some(id) = &defaults.integration_id {
        m.insert("bot".into(), json!({"i": id}));
    }
    m.insert("groupable".into(), payload.remove("groupable").unwrap_or(json!(false)));
    for key in ["tmid", "customFields"] {
        if let Some(v) = payload.remove(key).filter(|v| !v.is_null()) {
            m.insert(key.into(), v);
        }
    }
    if let Some(avatar) = take_truthy_str(&mut payload, "icon_url").or_else(|| take_truthy_str(&mut payload, "avatar"))
    {
        m.insert("avatar".into(), Value::String(avatar));
    } else if let Some(emoji) =
        take_truthy_str(&mut payload, "icon_emoji").or_else(|| take_truthy_str(&mut payload, "emoji"))
    {
        m.insert("emoji".into(), Value::String(emoji));
    } else if let Some(avatar) = defaults.avatar.as_deref().filter(|s| !s.is_empty()) {
        m.insert("avatar".into(), json!(avatar));
    } else if let Some(emoji) = defaults.emoji.as_deref().filter(|s| !s.is_empty()) {
        m.insert("emoji".into(), json!(emoji));
    }
    m
}

/// `getRoomByNameOrIdWithOptionToJoin`: `#name`/`#id`, `@user` (direct room, created when
/// missing) or a bare id/name; public channels are joined.
pub async fn resolve_destination(state: &AppState, target: &str, user: &Doc) -> Result<Doc, SendError> {
    let invalid = || SendError::meteor("invalid-channel", "");
    let store = state.store();
    let (room, dm_user) = match target.chars().next() {
        Some('#') => {
            let key = &target[1..];
            let room = match store.room_by_id(key).await? {
                Some(r) => Some(r),
                None => store.room_by_name(key).await?,
            };
            (room, None)
        }
        Some('@') => {
            let key = &target[1..];
            let other = match store.user_by_id(key).await? {
                Some(u) => Some(u),
                None => store.user_by_username(key).await?,
            };
            (None, Some(other.ok_or_else(invalid)?))
        }
        _ => {
            let room = match store.room_by_id(target).await? {
                Some(r) => Some(r),
                None => store.room_by_name(target).await?,
            };
            match room {
                Some(r) => (Some(r), None),
                None => (None, Some(store.user_by_id(target).await?.ok_or_else(invalid)?)),
            }
        }
    };
    if let Some(other) = dm_user {
        return Ok(direct_room(state, user, &other).await?);
    }
    let room = room.ok_or_else(invalid)?;
    if str_of(&room, "t") == "c" && !is_member(state, str_of(&room, "_id"), str_of(user, "_id")).await? {
        if !can_access_room(state, &room, user).await? {
            return Err(SendError::Plain("error-not-allowed".into()));
        }
        add_member(state, &room, user, None).await?;
    }
    Ok(room)
}

/// `canSendMessage` plus message validation for one destination.
pub async fn check_can_send(state: &AppState, room: &Doc, user: &Doc, message: &Doc) -> Result<(), SendError> {
    let rid = str_of(room, "_id");
    if str_of(user, "type") != "app" && !can_access_room(state, room, user).await? {
        return Err(SendError::Plain("error-not-allowed".into()));
    }
    if room.get("ro").and_then(Value::as_bool) == Some(true)
        && !state.has_permission_in_room(user, "post-readonly", rid).await?
    {
        return Err(SendError::Plain("You can't send messages because the room is readonly.".into()));
    }
    if exceeds_max_size(&state.settings, message, &["msg"]) {
        return Err(SendError::Plain("error-message-size-exceeded".into()));
    }
    let impersonates = message.get("alias").and_then(Value::as_str).is_some_and(|s| !s.is_empty())
        || message.get("avatar").and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    if impersonates && !state.has_permission_in_room(user, "message-impersonate", rid).await? {
        return Err(SendError::Plain("Not enough permission".into()));
    }
    Ok(())
}

/// Minimal parsed-markdown tree: one paragraph of plain text.
pub fn markdown(text: String) -> Value {
    if text.is_empty() {
        return json!([]);
    }
    json!([{"type": "PARAGRAPH", "value": [{"type": "PLAIN_TEXT", "value": text}]}])
}

/// Stores a message from `user` in `room`; the one place every message goes through.
pub async fn post_message(state: &AppState, room: &Doc, user: &Doc, fields: Doc) -> ApiResult<Doc> {
    let now = now_iso();
    let mut message = doc(json!({"_id": object_id(), "rid": str_of(room, "_id")}));
    message.extend(fields);
    let text = str_of(&message, "msg").to_owned();
    message.insert("ts".into(), json!(now));
    message.insert("u".into(), brief_user(user));
    message.insert("_updatedAt".into(), json!(now));
    message.entry("urls").or_insert(json!([]));
    message.insert("mentions".into(), super::mentions::mentions(state, &text).await?);
    message.insert("channels".into(), json!([]));
    message.insert("md".into(), markdown(text));
    message.retain(|_, v| !v.is_null());
    let raised = raise(state, Event::SendMessage { room, message: &message, edited: false }).await?;
    let committed = raised.commit(state, Change::InsertMessage(message)).await?;
    crate::observability::metrics::message_posted();
    committed.doc.ok_or_else(|| ApiError::Internal("the inserted message was not given back".into()))
}

/// The outcome per destination, in order.
pub type Deliveries = Vec<(String, Result<Doc, SendError>)>;

/// Sends `payload` as `user` to each destination. Without `separate`, every destination is
/// resolved and checked first and the first failure aborts before anything is posted.
pub async fn process_webhook_message(
    state: &AppState,
    payload: &Map<String, Value>,
    user: &Doc,
    defaults: &Defaults,
    destinations: &[String],
    separate: bool,
) -> Result<Deliveries, SendError> {
    let fields = message_fields(payload, defaults);
    let mut unique: Vec<&String> = Vec::new();
    for d in destinations {
        if !unique.contains(&d) {
            unique.push(d);
        }
    }
    let mut resolved = Vec::with_capacity(unique.len());
    for d in unique {
        let room = resolve_destination(state, d, user).await;
        let checked = match room {
            Ok(room) => check_can_send(state, &room, user, &fields).await.map(|_| room),
            Err(e) => Err(e),
        };
        match checked {
            Err(e) if !separate => return Err(e),
            other => resolved.push((d.clone(), other)),
        }
    }
    let mut out = Vec::with_capacity(resolved.len());
    let last = resolved.len().saturating_sub(1);
    let mut fields = Some(fields);
    for (i, (channel, room)) in resolved.into_iter().enumerate() {
        // The last destination takes the fields themselves; the others get copies.
        let f = if i == last { fields.take() } else { fields.clone() }.unwrap_or_default();
        let result = match room {
            Ok(room) => post_message(state, &room, user, f).await.map_err(SendError::Internal),
            Err(e) => Err(e),
        };
        out.push((channel, result));
    }
    Ok(out)
}
