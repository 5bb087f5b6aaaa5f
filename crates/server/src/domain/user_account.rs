//! A user's account beyond its profile: activation by an administrator (`setUserActiveStatus`),
//! personal login tokens (`generateAccessToken`) and preferences (`saveUserPreferences`).

use super::str_of;
use crate::auth::hash_login_token;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde_json::{Map, Value, json};
use store::Doc;
use store::ids::{now_iso, secret};

fn is_admin(user: &Doc) -> bool {
    super::strings(user.get("roles")).iter().any(|r| r == "admin")
}

/// `setUserActiveStatus`: the last active administrator cannot be deactivated; a deactivated
/// user loses every login token (the store drops them with the write).
pub async fn set_active_status(state: &AppState, user: &Doc, active: bool) -> ApiResult<()> {
    if !active && is_admin(user) {
        let admins = state.store().users().await?;
        let active_admins =
            admins.iter().filter(|u| is_admin(u) && u.get("active").and_then(Value::as_bool) != Some(false)).count();
        if active_admins <= 1 {
            return Err(ApiError::meteor_details(
                "error-action-not-allowed",
                "Leaving the app without an active admin is not allowed",
                json!({"method": "removeUserFromRole", "action": "Remove_last_admin"}),
            ));
        }
    }
    let mut updated = user.clone();
    updated.insert("active".into(), json!(active));
    updated.insert("_updatedAt".into(), json!(now_iso()));
    state.store().replace_user(updated).await?;
    Ok(())
}

/// `generateAccessToken`: a new login token for `user`, made by `caller` (themself, or with
/// `user-generate-access-token`), only where the deployment allows it.
pub async fn create_access_token(state: &AppState, caller: &Doc, user: &Doc) -> ApiResult<Value> {
    let own = str_of(caller, "_id") == str_of(user, "_id");
    if !state.config.create_tokens_for_users || (!own && !state.has_permission(caller, "user-generate-access-token")) {
        return Err(ApiError::meteor("error-not-authorized", "Not authorized"));
    }
    let token = secret();
    state.store().add_login_token(str_of(user, "_id"), &hash_login_token(&token)).await?;
    Ok(json!({"userId": str_of(user, "_id"), "authToken": token}))
}

/// The preferences Rocket.Chat keeps, with the JSON type each takes.
const PREFERENCES: &[(&str, &str)] = &[
    ("newRoomNotification", "string"),
    ("newMessageNotification", "string"),
    ("clockMode", "number"),
    ("useEmojis", "boolean"),
    ("convertAsciiEmoji", "boolean"),
    ("saveMobileBandwidth", "boolean"),
    ("collapseMediaByDefault", "boolean"),
    ("autoImageLoad", "boolean"),
    ("emailNotificationMode", "string"),
    ("unreadAlert", "boolean"),
    ("notificationsSoundVolume", "number"),
    ("desktopNotifications", "string"),
    ("pushNotifications", "string"),
    ("enableAutoAway", "boolean"),
    ("highlights", "array"),
    ("desktopNotificationRequireInteraction", "boolean"),
    ("messageViewMode", "number"),
    ("showMessageInMainThread", "boolean"),
    ("hideUsernames", "boolean"),
    ("hideRoles", "boolean"),
    ("displayAvatars", "boolean"),
    ("hideFlexTab", "boolean"),
    ("sendOnEnter", "string"),
    ("idleTimeLimit", "number"),
    ("sidebarShowFavorites", "boolean"),
    ("sidebarShowUnread", "boolean"),
    ("sidebarSortby", "string"),
    ("sidebarViewMode", "string"),
    ("sidebarDisplayAvatar", "boolean"),
    ("sidebarGroupByType", "boolean"),
    ("muteFocusedConversations", "boolean"),
    ("themeAppearence", "string"),
    ("receiveLoginDetectionEmail", "boolean"),
    ("language", "string"),
];

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `saveUserPreferences`: the known preferences of `data` go to `settings.preferences`
/// (`language` to the user's `language`); others are ignored. Returns the user as stored.
pub async fn save_preferences(state: &AppState, user: &Doc, data: &Map<String, Value>) -> ApiResult<Doc> {
    for (key, ty) in PREFERENCES {
        match data.get(*key) {
            Some(v) if !v.is_null() && json_type(v) != *ty => {
                return Err(ApiError::plain(format!(
                    "Match error: Expected {ty}, got {} in field data.{key}",
                    json_type(v)
                )));
            }
            _ => {}
        }
    }
    let mut updated = user.clone();
    let mut settings = match updated.remove("settings") {
        Some(Value::Object(s)) => s,
        _ => Map::new(),
    };
    let mut preferences = match settings.remove("preferences") {
        Some(Value::Object(p)) => p,
        _ => Map::new(),
    };
    for (key, _) in PREFERENCES {
        match data.get(*key) {
            Some(v) if !v.is_null() && *key == "language" => {
                updated.insert("language".into(), v.clone());
            }
            Some(v) if !v.is_null() => {
                preferences.insert((*key).into(), v.clone());
            }
            _ => {}
        }
    }
    settings.insert("preferences".into(), Value::Object(preferences));
    updated.insert("settings".into(), Value::Object(settings));
    updated.insert("_updatedAt".into(), json!(now_iso()));
    state.store().replace_user(updated.clone()).await?;
    Ok(updated)
}
