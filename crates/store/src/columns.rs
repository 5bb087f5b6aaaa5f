//! The typed columns both backends take from documents, in one place so that both constrain and
//! index the same values (and `migrate-data` moves rows that mean the same on either side).

use crate::Doc;
use serde_json::Value;

/// A user's unique keys: the username and the first e-mail address, lowercased (both unique
/// whatever their case, as in Rocket.Chat).
pub(crate) fn user_keys(user: &Doc) -> (Option<String>, Option<String>) {
    let username = user.get("username").and_then(Value::as_str).map(str::to_lowercase);
    let email = user
        .get("emails")
        .and_then(|e| e.get(0))
        .and_then(|e| e.get("address"))
        .and_then(Value::as_str)
        .map(str::to_lowercase);
    (username, email)
}

/// A moderation report's message id, reporter id and `ts` (`""` when absent).
pub(crate) fn report_keys(report: &Doc) -> (&str, &str, &str) {
    let inner_id =
        |field: &str| report.get(field).and_then(|v| v.get("_id")).and_then(Value::as_str).unwrap_or_default();
    let ts = report.get("ts").and_then(Value::as_str).unwrap_or_default();
    (inner_id("message"), inner_id("reportedBy"), ts)
}
