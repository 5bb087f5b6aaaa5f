//! What a thread reply does to its thread's first message, shared by the backends, which apply
//! it in the transaction that stores the reply so that concurrent replies all count.

use crate::Doc;
use serde_json::{Value, json};

fn user_id(message: &Doc) -> Option<Value> {
    message.get("u").and_then(|u| u.get("_id")).cloned()
}

/// Rocket.Chat's `updateRepliesByThreadId`: the parent counts the reply (`tcount`), dates it
/// (`tlm`) and gains its author (and, on the first reply, its own author) as a follower
/// (`replies`).
pub fn count_reply(parent: &mut Doc, reply: &Doc) {
    let mut replies: Vec<Value> = parent.get("replies").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut followers = Vec::new();
    if replies.is_empty() {
        followers.extend(user_id(parent));
    }
    followers.extend(user_id(reply));
    for f in followers {
        if !replies.contains(&f) {
            replies.push(f);
        }
    }
    let count = parent.get("tcount").and_then(Value::as_i64).unwrap_or(0) + 1;
    parent.insert("replies".into(), Value::Array(replies));
    parent.insert("tcount".into(), json!(count));
    if let Some(ts) = reply.get("ts") {
        parent.insert("tlm".into(), ts.clone());
        parent.insert("_updatedAt".into(), ts.clone());
    }
}

/// Rocket.Chat's `decreaseReplyCountById`: `deleted` replies are no longer counted on their
/// thread's first message (its followers and `tlm` stay as they were).
pub fn uncount_replies(parent: &mut Doc, deleted: i64) {
    let count = parent.get("tcount").and_then(Value::as_i64).unwrap_or(0);
    parent.insert("tcount".into(), json!((count - deleted).max(0)));
}

#[cfg(test)]
mod tests {
    use super::{count_reply, uncount_replies};
    use serde_json::json;

    #[test]
    fn a_deleted_reply_is_uncounted_never_below_zero() {
        let mut parent = json!({"_id": "p", "tcount": 2, "replies": ["a"]}).as_object().unwrap().clone();
        uncount_replies(&mut parent, 1);
        assert_eq!(parent["tcount"], 1);
        uncount_replies(&mut parent, 2);
        assert_eq!(parent["tcount"], 0);
        assert_eq!(parent["replies"], json!(["a"]));
    }

    #[test]
    fn first_reply_adds_both_authors_then_counts() {
        let mut parent = json!({"_id": "p", "u": {"_id": "a"}}).as_object().unwrap().clone();
        let reply = json!({"_id": "r", "u": {"_id": "b"}, "ts": "2026-01-01T00:00:00.000Z"});
        count_reply(&mut parent, reply.as_object().unwrap());
        count_reply(&mut parent, reply.as_object().unwrap());
        assert_eq!(parent["replies"], json!(["a", "b"]));
        assert_eq!(parent["tcount"], 2);
        assert_eq!(parent["tlm"], "2026-01-01T00:00:00.000Z");
    }
}
