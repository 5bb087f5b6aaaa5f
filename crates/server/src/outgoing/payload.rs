//! The request `data` sent for each event, in Rocket.Chat's key order. Liftoff
//! sends the intended payloads for room and user events, not the 7.7.1+ regression that
//! reduced them to `{token, bot}`.

use crate::domain::str_of;
use crate::domain::truthy;
use serde_json::{Map, Value, json};
use store::Doc;

fn base(integration: &Doc, trigger_word: Option<&str>) -> Map<String, Value> {
    let mut data = Map::new();
    if let Some(token) = integration.get("token").filter(|t| !t.is_null()) {
        data.insert("token".into(), token.clone());
    }
    data.insert("bot".into(), json!(false));
    if let Some(word) = trigger_word {
        data.insert("trigger_word".into(), json!(word));
    }
    data
}

/// A user document as payloads embed it: without `services`.
pub fn public_user(user: &Doc) -> Value {
    let mut u = user.clone();
    u.remove("services");
    Value::Object(u)
}

fn is_bot(user: &Doc) -> bool {
    str_of(user, "type") == "bot"
}

/// `sendMessage`.
pub fn send_message(
    integration: &Doc,
    trigger_word: Option<&str>,
    room: &Doc,
    message: &Doc,
    site_url: &str,
) -> Map<String, Value> {
    let mut data = base(integration, trigger_word);
    data.insert("channel_id".into(), json!(str_of(room, "_id")));
    if str_of(room, "t") != "d"
        && let Some(name) = room.get("name").filter(|n| !n.is_null())
    {
        data.insert("channel_name".into(), name.clone());
    }
    let author = message.get("u");
    let author_field = |k: &str| author.and_then(|u| u.get(k)).cloned().unwrap_or(Value::Null);
    data.insert("message_id".into(), json!(str_of(message, "_id")));
    data.insert("timestamp".into(), message.get("ts").cloned().unwrap_or(Value::Null));
    data.insert("user_id".into(), author_field("_id"));
    data.insert("user_name".into(), author_field("username"));
    data.insert("text".into(), json!(str_of(message, "msg")));
    data.insert("siteUrl".into(), json!(site_url));
    if truthy(message.get("alias")) {
        data.insert("alias".into(), message["alias"].clone());
    }
    if truthy(message.get("bot")) {
        data.insert("bot".into(), json!(true));
    }
    if truthy(message.get("editedAt")) {
        data.insert("isEdited".into(), json!(true));
    }
    if truthy(message.get("tmid")) {
        data.insert("tmid".into(), message["tmid"].clone());
    }
    data
}

fn room_fields(data: &mut Map<String, Value>, room: &Doc) {
    data.insert("channel_id".into(), json!(str_of(room, "_id")));
    data.insert("channel_name".into(), room.get("name").cloned().unwrap_or(Value::Null));
}

/// `roomCreated`: the owner and the new room.
pub fn room_created(integration: &Doc, room: &Doc, owner: &Doc) -> Map<String, Value> {
    let mut data = base(integration, None);
    room_fields(&mut data, room);
    data.insert("timestamp".into(), room.get("ts").cloned().unwrap_or(Value::Null));
    data.insert("user_id".into(), json!(str_of(owner, "_id")));
    data.insert("user_name".into(), json!(str_of(owner, "username")));
    data.insert("owner".into(), public_user(owner));
    data.insert("room".into(), Value::Object(room.clone()));
    data
}

/// `roomArchived`, `roomJoined`, `roomLeft`: the user who acted and the room.
pub fn room_user(integration: &Doc, room: &Doc, user: &Doc, now: &str) -> Map<String, Value> {
    let mut data = base(integration, None);
    data.insert("timestamp".into(), json!(now));
    room_fields(&mut data, room);
    data.insert("user_id".into(), json!(str_of(user, "_id")));
    data.insert("user_name".into(), json!(str_of(user, "username")));
    data.insert("user".into(), public_user(user));
    data.insert("room".into(), Value::Object(room.clone()));
    if is_bot(user) {
        data.insert("bot".into(), json!(true));
    }
    data
}

/// `fileUploaded`: the message that carries the file, its author and room.
pub fn file_uploaded(integration: &Doc, room: &Doc, message: &Doc, user: &Doc) -> Map<String, Value> {
    let mut data = base(integration, None);
    room_fields(&mut data, room);
    let author = message.get("u");
    let author_field = |k: &str| author.and_then(|u| u.get(k)).cloned().unwrap_or(Value::Null);
    data.insert("message_id".into(), json!(str_of(message, "_id")));
    data.insert("timestamp".into(), message.get("ts").cloned().unwrap_or(Value::Null));
    data.insert("user_id".into(), author_field("_id"));
    data.insert("user_name".into(), author_field("username"));
    data.insert("text".into(), json!(str_of(message, "msg")));
    data.insert("user".into(), public_user(user));
    data.insert("room".into(), Value::Object(room.clone()));
    data.insert("message".into(), Value::Object(message.clone()));
    if truthy(message.get("alias")) {
        data.insert("alias".into(), message["alias"].clone());
    }
    if truthy(message.get("bot")) {
        data.insert("bot".into(), json!(true));
    }
    data
}

/// `userCreated`.
pub fn user_created(integration: &Doc, user: &Doc) -> Map<String, Value> {
    let mut data = base(integration, None);
    data.insert("timestamp".into(), user.get("createdAt").cloned().unwrap_or(Value::Null));
    data.insert("user_id".into(), json!(str_of(user, "_id")));
    data.insert("user_name".into(), json!(str_of(user, "username")));
    data.insert("user".into(), public_user(user));
    if is_bot(user) {
        data.insert("bot".into(), json!(true));
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::doc;

    #[test]
    fn send_message_order_and_extras() {
        let integration = doc(json!({"_id": "i", "token": "tok"}));
        let room = doc(json!({"_id": "GENERAL", "name": "general", "t": "c"}));
        let message = doc(json!({"_id": "m", "msg": "!go x", "ts": "2025-01-01T00:00:00.000Z",
            "u": {"_id": "u1", "username": "john"}, "alias": "A", "bot": {"i": "x"}, "editedAt": "t", "tmid": "p"}));
        let data = send_message(&integration, Some("!go"), &room, &message, "https://chat");
        let keys: Vec<&str> = data.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "token",
                "bot",
                "trigger_word",
                "channel_id",
                "channel_name",
                "message_id",
                "timestamp",
                "user_id",
                "user_name",
                "text",
                "siteUrl",
                "alias",
                "isEdited",
                "tmid"
            ]
        );
        assert_eq!(data["bot"], true);
        let dm = doc(json!({"_id": "ab", "t": "d"}));
        let data = send_message(&doc(json!({})), None, &dm, &message, "");
        assert!(!data.contains_key("token") && !data.contains_key("channel_name"));
    }

    #[test]
    fn users_lose_services() {
        let user = doc(json!({"_id": "u", "username": "bot1", "type": "bot", "services": {"password": {}}}));
        let data = user_created(&doc(json!({})), &user);
        assert!(data["user"].get("services").is_none());
        assert_eq!(data["bot"], true);
    }
}
