//! A room's `encrypted` flag (`saveRoomSettings` with `encrypted`). Clients encrypt and decrypt
//! end to end; the server only keeps the flag and announces its changes.

use super::rooms::system_message;
use super::{doc, str_of};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde_json::{Value, json};
use store::Doc;

fn not_allowed(reason: &str) -> ApiError {
    ApiError::meteor_details(
        "error-action-not-allowed",
        reason,
        json!({"method": "saveRoomSettings", "action": "Change_Room_Encrypted"}),
    )
}

/// Sets the flag as `actor` (who needs `toggle-room-e2e-encryption` in the room); a change
/// posts `room_e2e_enabled` or `room_e2e_disabled`. Returns the room as it is now.
pub async fn set_encrypted(state: &AppState, actor: &Doc, room: &Doc, encrypted: bool) -> ApiResult<Doc> {
    let rid = str_of(room, "_id");
    if room.get("encrypted").and_then(Value::as_bool).unwrap_or(false) == encrypted {
        return Ok(room.clone());
    }
    if !matches!(str_of(room, "t"), "p" | "d") {
        return Err(not_allowed("Only groups or direct channels can enable encryption"));
    }
    if str_of(room, "t") != "d" && !state.has_permission_in_room(actor, "toggle-room-e2e-encryption", rid).await? {
        return Err(not_allowed("You do not have permission to toggle E2E encryption"));
    }
    let updated = state.store().update_room(rid, doc(json!({"encrypted": encrypted}))).await?;
    let t = if encrypted { "room_e2e_enabled" } else { "room_e2e_disabled" };
    state.store().insert_message(system_message(rid, t, str_of(room, "name"), actor, None)).await?;
    Ok(state.store().room_by_id(rid).await?.or(updated).unwrap_or_else(|| room.clone()))
}
