//! The trash of deleted messages, shared by the backends. As Rocket.Chat does (its
//! `rocketchat__trash` collection), deleting a message keeps a record of it with `_deletedAt`,
//! written in the transaction that deletes the message, and records older than
//! [`RETENTION_DAYS`] go (Rocket.Chat's TTL index on `_deletedAt` is 30 days too).
//!
//! Unlike Rocket.Chat, which keeps the whole message, a record keeps only what tells clients
//! which message went and where it was: its `_id`, `rid`, `ts`, `tmid` (a thread reply) and
//! `tcount` (a thread's first message). The text is gone with the message.

use crate::Doc;
use crate::ids::iso;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

/// How long a deleted message's record is kept.
pub const RETENTION_DAYS: i64 = 30;

/// Expired records one delete removes at most; the deletes after it take the rest, so no
/// single write grows with the size of the trash.
pub const PRUNE_BATCH: i64 = 1000;

/// The fields of a message its trash record keeps.
const KEPT: &[&str] = &["_id", "rid", "ts", "tmid", "tcount"];

/// The trash record of `message`, deleted at `deleted_at` (an ISO date).
pub fn record(message: &Doc, deleted_at: &str) -> Doc {
    let mut record: Doc = KEPT.iter().filter_map(|k| message.get(*k).map(|v| ((*k).to_owned(), v.clone()))).collect();
    record.insert("_deletedAt".into(), Value::String(deleted_at.to_owned()));
    record
}

/// The oldest `_deletedAt` still kept at `now`.
pub fn cutoff(now: DateTime<Utc>) -> String {
    iso(now - Duration::days(RETENTION_DAYS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_what_places_the_message() {
        let message = json!({"_id": "m1", "rid": "r1", "ts": "2024-01-01T00:00:00.000Z", "msg": "secret",
                             "u": {"_id": "u1"}, "tmid": "t1", "_updatedAt": "2024-01-01T00:00:00.000Z"});
        let record = record(message.as_object().unwrap(), "2024-02-01T00:00:00.000Z");
        assert_eq!(
            Value::Object(record),
            json!({"_id": "m1", "rid": "r1", "ts": "2024-01-01T00:00:00.000Z", "tmid": "t1",
                   "_deletedAt": "2024-02-01T00:00:00.000Z"})
        );
        let now = DateTime::parse_from_rfc3339("2024-03-31T12:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(cutoff(now), "2024-03-01T12:00:00.000Z");
    }
}
