//! Workspace logic shared by the REST handlers and the webhook engines: users, rooms and
//! their access rules, and message posting.

pub mod discussions;
pub mod dm;
pub mod events;
pub mod integration_kinds;
pub mod integrations;
pub mod mentions;
pub mod message_actions;
pub mod message_edits;
pub mod messages;
pub mod moderation;
pub mod outbox;
pub mod page_meta;
pub mod room_encryption;
pub mod room_history;
pub mod rooms;
pub mod statistics;
pub mod team_members;
pub mod team_rooms;
pub mod teams;
pub mod url_preview;
pub mod user_account;
pub mod users;

use serde_json::Value;
use store::Doc;

/// Turns a `json!` object literal into a document.
pub fn doc(value: Value) -> Doc {
    match value {
        Value::Object(map) => map,
        _ => Doc::new(),
    }
}

/// Only the fields of `from` named in `keys` that it has (as a MongoDB projection, which leaves
/// absent fields out).
pub fn present_fields(from: &Doc, keys: &[&str]) -> Doc {
    keys.iter().filter_map(|k| from.get(*k).map(|v| ((*k).to_owned(), v.clone()))).collect()
}

pub fn str_of<'a>(doc: &'a Doc, key: &str) -> &'a str {
    doc.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// JavaScript truthiness, which Rocket.Chat's checks use (`[]` and `{}` are truthy; a missing
/// value is not).
pub fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

/// A value at a dotted path (`"u._id"`) inside a document.
pub fn get_path<'a>(doc: &'a Doc, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut cur = doc.get(parts.next()?)?;
    for p in parts {
        cur = cur.get(p)?;
    }
    Some(cur)
}

/// `{_id, username, name}` of a user document, as rooms and messages embed it.
pub fn brief_user(user: &Doc) -> Value {
    serde_json::json!({
        "_id": str_of(user, "_id"),
        "username": str_of(user, "username"),
        "name": user.get("name").cloned().unwrap_or(Value::String(String::new())),
    })
}

/// The strings of a JSON list (other items skipped); a missing or non-list value gives none.
pub fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}
