//! `replayOutgoingIntegration`: a recorded call made again, as a new delivery.

use super::engine::delivery;
use super::index::Hook;
use crate::domain::events::EventSink;
use crate::domain::integration_kinds::OUTGOING;
use crate::domain::str_of;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde_json::{Value, json};
use store::{Change, Doc};

/// `replayOutgoingIntegration`: runs the recorded call again as a new delivery.
pub async fn replay(state: &AppState, integration: &Doc, record: &Doc) -> ApiResult<()> {
    const M: &str = "replayOutgoingIntegration";
    let details = || json!({"method": M});
    if str_of(integration, "type") != OUTGOING {
        return Err(ApiError::meteor_details(
            "integration-type-must-be-outgoing",
            "Integration type must be outgoing",
            details(),
        ));
    }
    let Some(Value::Object(data)) = record.get("data") else {
        return Err(ApiError::meteor_details(
            "history-data-must-be-defined",
            "History data must be defined",
            details(),
        ));
    };
    let Some(url) = record.get("url").and_then(Value::as_str).filter(|u| !u.is_empty()) else {
        return Ok(());
    };
    let hook = Hook::new(integration.clone());
    let event = record.get("event").and_then(Value::as_str).unwrap_or("sendMessage");
    let trigger = record.get("triggerWord").and_then(Value::as_str);
    let rid = data.get("channel_id").and_then(Value::as_str);
    let mut d = delivery(&hook, url, event, data.clone(), trigger, rid);
    d.doc.insert("replayOf".into(), json!(str_of(record, "_id")));
    state.store().commit(Change::Nothing, vec![d.clone()]).await?;
    state.outgoing.committed(&[d]);
    Ok(())
}
