//! Editing and deleting messages (`updateMessage`, `deleteMessage`) with Rocket.Chat's
//! permission, setting and time-limit rules; an edit raises `sendMessage` for integrations
//! that run on edits.

use super::events::Event;
use super::message_actions::set_fields;
use super::messages::{markdown, text_exceeds_max_size};
use super::outbox::raise;
use super::{doc, get_path, str_of};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde_json::{Value, json};
use store::ids::now_iso;
use store::{Change, Doc, MessageEdit};

/// What an edit changes.
pub struct Edit {
    pub text: String,
    pub custom_fields: Option<Value>,
}

fn minutes_since(ts: &str) -> Option<i64> {
    store::ids::parse_iso(ts).map(|t| (chrono::Utc::now() - t).num_minutes())
}

fn is_own(message: &Doc, actor: &Doc) -> bool {
    get_path(message, "u._id").and_then(Value::as_str) == Some(str_of(actor, "_id"))
}

/// `updateMessage`: returns the message as it is now (unchanged when neither the text nor the
/// custom fields were given anew).
pub async fn update_message(state: &AppState, room: &Doc, mut message: Doc, actor: &Doc, edit: Edit) -> ApiResult<Doc> {
    let rid = str_of(room, "_id");
    let own = is_own(&message, actor);
    let can_edit = state.has_permission_in_room(actor, "edit-message", rid).await?
        || (own && state.settings.bool("Message_AllowEditing"));
    if !can_edit {
        return Err(ApiError::meteor_details(
            "error-action-not-allowed",
            "Message editing not allowed",
            json!({"method": "updateMessage", "action": "Message_editing"}),
        ));
    }
    let block = state.settings.int("Message_AllowEditing_BlockEditInMinutes");
    if block > 0
        && !state.has_permission(actor, "bypass-time-limit-edit-and-delete")
        && minutes_since(str_of(&message, "ts")).is_some_and(|m| m >= block)
    {
        return Err(ApiError::meteor_details(
            "error-message-editing-blocked",
            "Message editing is blocked",
            json!({"method": "updateMessage"}),
        ));
    }
    let text = edit.text;
    if text_exceeds_max_size(&state.settings, &text) {
        return Err(ApiError::plain("error-message-size-exceeded"));
    }
    if str_of(&message, "msg") != text || edit.custom_fields.is_some() {
        let now = now_iso();
        let mut fields = doc(json!({
            "msg": text,
            "md": markdown(text.clone()),
            "editedAt": now,
            "editedBy": {"_id": str_of(actor, "_id"), "username": str_of(actor, "username")},
            "_updatedAt": now,
        }));
        if let Some(cf) = edit.custom_fields {
            fields.insert("customFields".into(), cf);
        }
        // Only these fields change, on the message as stored: a reaction added meanwhile stays.
        message.extend(fields.clone());
        let raised = raise(state, Event::SendMessage { room, message: &message, edited: true }).await?;
        let id = str_of(&message, "_id").to_owned();
        raised.commit(state, Change::EditMessage { id, edit: MessageEdit::new(set_fields(fields)) }).await?;
    }
    Ok(message)
}

/// `deleteMessage`: `as_user` asks to delete another user's message as them, which needs
/// `force-delete-message`.
pub async fn delete_message(state: &AppState, room: &Doc, message: &Doc, actor: &Doc, as_user: bool) -> ApiResult<()> {
    let rid = str_of(room, "_id");
    let own = is_own(message, actor);
    let force = state.has_permission_in_room(actor, "force-delete-message", rid).await?;
    if as_user && !own && !force {
        return Err(ApiError::plain(
            "Unauthorized. You must have the permission \"force-delete-message\" to delete other's message as them.",
        ));
    }
    let allowed = force
        || state.has_permission_in_room(actor, "delete-message", rid).await?
        || (own
            && state.settings.bool("Message_AllowDeleting")
            && state.has_permission_in_room(actor, "delete-own-message", rid).await?);
    let block = state.settings.int("Message_AllowDeleting_BlockDeleteInMinutes");
    let blocked = !force
        && block > 0
        && !state.has_permission(actor, "bypass-time-limit-edit-and-delete")
        && minutes_since(str_of(message, "ts")).is_some_and(|m| m >= block);
    if !allowed || blocked {
        return Err(ApiError::meteor_details(
            "error-action-not-allowed",
            "Not allowed",
            json!({"method": "deleteMessage", "action": "Delete_message"}),
        ));
    }
    state.store().delete_message(str_of(message, "_id")).await?;
    Ok(())
}
