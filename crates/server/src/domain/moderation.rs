//! `reportMessage`: a user reports a message to the moderators. The report keeps the message as
//! it was, the reporter and the room (Rocket.Chat's `ModerationReports`); nothing reads reports
//! back yet (the moderation console is not offered).

use super::rooms::can_access_room;
use super::{doc, present_fields, str_of};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde_json::json;
use store::Doc;
use store::ids::{now_iso, object_id};

/// Stores `reporter`'s report on the message `message_id`. A message the reporter cannot read
/// is answered as one that does not exist.
pub async fn report_message(state: &AppState, reporter: &Doc, message_id: &str, description: &str) -> ApiResult<()> {
    if description.trim().is_empty() {
        return Err(ApiError::plain("error-invalid-description"));
    }
    let invalid_message = || ApiError::plain("error-invalid-message_id");
    let message = state.store().message_by_id(message_id).await?.ok_or_else(invalid_message)?;
    let room = state.store().room_by_id(str_of(&message, "rid")).await?;
    let room = match room {
        Some(room) if can_access_room(state, &room, reporter).await? => room,
        _ => return Err(invalid_message()),
    };
    let now = now_iso();
    let report = doc(json!({
        "_id": object_id(),
        "message": message,
        "description": description,
        // Rocket.Chat builds these field by field; MongoDB drops the `undefined` ones.
        "reportedBy": present_fields(reporter, &["_id", "username", "name", "createdAt"]),
        "room": present_fields(&room, &["_id", "name", "t", "federated", "fname"]),
        "ts": now,
        "_updatedAt": now,
    }));
    state.store().insert_report(report).await?;
    Ok(())
}
