//! The integration types and the outgoing event catalogue: plain facts every layer may read
//! (the outgoing engine, permission grants, the API), kept apart from the integration logic.

use serde_json::Value;
use store::Doc;

pub const INCOMING: &str = "webhook-incoming";
pub const OUTGOING: &str = "webhook-outgoing";

/// `(event, uses channels, uses trigger words, requires targetRoom)`.
pub const EVENTS: &[(&str, bool, bool, bool)] = &[
    ("sendMessage", true, true, false),
    ("fileUploaded", true, false, false),
    ("roomArchived", false, false, false),
    ("roomCreated", false, false, false),
    ("roomJoined", true, false, false),
    ("roomLeft", true, false, false),
    ("userCreated", false, false, true),
];

pub fn event_info(event: &str) -> Option<(bool, bool, bool)> {
    EVENTS.iter().find(|(e, ..)| *e == event).map(|(_, c, t, r)| (*c, *t, *r))
}

pub fn creator(integration: &Doc) -> Option<&str> {
    integration.get("_createdBy").and_then(|c| c.get("_id")).and_then(Value::as_str)
}
