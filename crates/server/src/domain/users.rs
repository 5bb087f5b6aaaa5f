//! User accounts: creation with Rocket.Chat's validation order and messages, and the
//! projections clients see (`me`, `users.info`, lists).

use super::events::Event;
use super::outbox::raise;
use super::rooms::join_default_rooms;
use super::{doc, str_of};
use crate::auth::{hash_password_digest, password_digest};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde_json::{Map, Value, json};
use store::ids::{now_iso, random_id};
use store::{Change, Doc, StoreError};

/// Fields of a new account.
#[derive(Default)]
pub struct NewUser {
    pub username: String,
    pub email: Option<String>,
    pub name: String,
    pub password: Option<String>,
    pub roles: Vec<String>,
    pub active: Option<bool>,
    pub verified: Option<bool>,
    pub join_default_channels: bool,
    pub require_password_change: Option<bool>,
    pub extra: Map<String, Value>,
    pub id: Option<String>,
    pub user_type: Option<String>,
    /// Created by the server itself: the blocked-username list does not apply.
    pub system: bool,
}

fn save_error(code: &str, reason: &str, extra: Value) -> ApiError {
    let mut details = json!({"method": "insertOrUpdateUser"});
    if let (Value::Object(d), Value::Object(e)) = (&mut details, extra) {
        d.extend(e);
    }
    ApiError::meteor_details(code, reason, details)
}

pub fn valid_username(state: &AppState, username: &str) -> bool {
    let pattern = state.settings.string("UTF8_User_Names_Validation");
    regex::Regex::new(&format!("^(?:{pattern})$")).is_ok_and(|re| re.is_match(username))
}

fn blocked_username(state: &AppState, username: &str) -> bool {
    state
        .settings
        .string("Accounts_SystemBlockedUsernameList")
        .split(',')
        .any(|b| b.trim().eq_ignore_ascii_case(username))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#x27;")
}

/// Checks roles exist (`Assign_role`) and that `admin` is only given by those who may.
pub async fn check_roles(state: &AppState, roles: &[String], actor: Option<&Doc>) -> ApiResult<()> {
    let known: Vec<String> = state.store().roles().await?.iter().map(|r| str_of(r, "_id").to_owned()).collect();
    if roles.iter().any(|r| !known.contains(r)) {
        return Err(save_error(
            "error-action-not-allowed",
            "The field Roles consist invalid role id",
            json!({"action": "Assign_role"}),
        ));
    }
    if roles.iter().any(|r| r == "admin") && !actor.is_some_and(|a| state.has_permission(a, "assign-admin-role")) {
        return Err(save_error(
            "error-action-not-allowed",
            "Assigning admin is not allowed",
            json!({"action": "Assign_admin"}),
        ));
    }
    Ok(())
}

/// Validates and stores a new user (`saveUser` for a new account), joining default rooms
/// unless told not to. The first human account on a workspace without an admin becomes admin.
pub async fn create_user(state: &AppState, new: NewUser) -> ApiResult<Doc> {
    let NewUser { username, email, name, password, mut roles, .. } = new;
    if name.trim().is_empty() && state.settings.bool("Accounts_RequireNameForSignUp") {
        return Err(save_error("error-the-field-is-required", "The field Name is required", json!({"field": "Name"})));
    }
    if username.trim().is_empty() {
        return Err(save_error(
            "error-the-field-is-required",
            "The field Username is required",
            json!({"field": "Username"}),
        ));
    }
    if !valid_username(state, &username) {
        return Err(save_error(
            "error-input-is-not-a-valid-field",
            &format!("{} is not a valid username", html_escape(&username)),
            json!({"input": username, "field": "Username"}),
        ));
    }
    let Some(password) = password.filter(|p| !p.is_empty()) else {
        return Err(save_error(
            "error-the-field-is-required",
            "The field Password is required",
            json!({"field": "Password"}),
        ));
    };
    let taken = |what: &str| {
        save_error("error-field-unavailable", &format!("{what} is already in use :("), json!({"field": what}))
    };
    if (!new.system && blocked_username(state, &username)) || state.store().user_by_username(&username).await?.is_some()
    {
        return Err(taken(&html_escape(&username)));
    }
    if let Some(email) = &email
        && state.store().user_by_email(email).await?.is_some()
    {
        return Err(taken(email));
    }
    if roles.is_empty() {
        roles = state
            .settings
            .string("Accounts_Registration_Users_Default_Roles")
            .split(',')
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty())
            .collect();
    }
    let user_type = new.user_type.clone().unwrap_or_else(|| "user".into());
    if user_type == "user" && !roles.iter().any(|r| r == "admin") && !any_admin(state).await? {
        roles.push("admin".into());
    }
    let bcrypt = hash_password_digest(password_digest(&password)).await.map_err(ApiError::internal)?;
    let now = now_iso();
    let mut user = doc(json!({
        "_id": new.id.clone().unwrap_or_else(|| random_id(17)),
        "createdAt": now,
        "username": username,
        "services": {"password": {"bcrypt": bcrypt}},
        "type": user_type,
        "status": "offline",
        "active": new.active.unwrap_or(true),
        "roles": roles,
        "name": name,
        "settings": {},
        "utcOffset": 0,
        "_updatedAt": now,
        "__rooms": [],
    }));
    if let Some(email) = email {
        user.insert("emails".into(), json!([{"address": email, "verified": new.verified.unwrap_or(false)}]));
    }
    if let Some(r) = new.require_password_change {
        user.insert("requirePasswordChange".into(), json!(r));
    }
    for (k, v) in new.extra {
        user.insert(k, v);
    }
    let raised = raise(state, Event::UserCreated { user: &user }).await?;
    match raised.commit(state, Change::InsertUser(user.clone())).await {
        Ok(_) => {}
        Err(StoreError::Conflict("email")) => {
            let email = user["emails"][0]["address"].as_str().unwrap_or_default().to_owned();
            return Err(taken(&email));
        }
        Err(StoreError::Conflict(_)) => return Err(taken(&username_of(&user))),
        Err(e) => return Err(e.into()),
    }
    if new.join_default_channels {
        join_default_rooms(state, &user).await?;
    }
    Ok(state.store().user_by_id(str_of(&user, "_id")).await?.unwrap_or(user))
}

fn username_of(user: &Doc) -> String {
    str_of(user, "username").to_owned()
}

async fn any_admin(state: &AppState) -> ApiResult<bool> {
    Ok(state.store().users().await?.iter().any(|u| {
        str_of(u, "type") == "user"
            && u.get("roles").and_then(Value::as_array).is_some_and(|r| r.iter().any(|x| x == "admin"))
    }))
}

fn has_password(user: &Doc) -> bool {
    crate::domain::get_path(user, "services.password.bcrypt").and_then(Value::as_str).is_some()
}

/// `GET /me` and login's `data.me`.
pub fn me(state: &AppState, user: &Doc) -> Value {
    const FIELDS: &[&str] = &[
        "_id",
        "name",
        "username",
        "nickname",
        "emails",
        "status",
        "statusDefault",
        "statusText",
        "statusConnection",
        "bio",
        "avatarOrigin",
        "utcOffset",
        "language",
        "roles",
        "active",
        "defaultRoom",
        "customFields",
        "requirePasswordChange",
        "requirePasswordChangeReason",
        "_updatedAt",
        "avatarETag",
    ];
    let mut me = Map::new();
    for f in FIELDS {
        if let Some(v) = user.get(*f) {
            me.insert((*f).into(), v.clone());
        }
    }
    if let Some(email) = user
        .get("emails")
        .and_then(Value::as_array)
        .and_then(|e| e.iter().find(|x| x.get("verified").and_then(Value::as_bool) == Some(true)))
        .and_then(|e| e.get("address"))
    {
        me.insert("email".into(), email.clone());
    }
    me.insert("services".into(), json!({"password": {"exists": has_password(user)}}));
    me.insert("settings".into(), json!({"profile": {}, "preferences": {}, "calendar": {}}));
    me.insert("avatarUrl".into(), json!(format!("{}/avatar/{}", state.root_url, str_of(user, "username"))));
    me.insert("isOAuthUser".into(), json!(false));
    Value::Object(me)
}

/// The stored user without secrets (what `users.create` returns to privileged callers).
pub fn without_secrets(mut user: Doc) -> Value {
    user.remove("services");
    user.remove("inviteToken");
    Value::Object(user)
}

/// `users.info` fields; `full` when the caller is the user or may see everything.
pub fn info(user: &Doc, full: bool, is_self: bool) -> Value {
    const PUBLIC: &[&str] = &[
        "_id",
        "name",
        "username",
        "nickname",
        "status",
        "utcOffset",
        "type",
        "active",
        "bio",
        "reason",
        "statusText",
        "avatarETag",
        "customFields",
    ];
    const PRIVATE: &[&str] =
        &["emails", "phone", "statusConnection", "createdAt", "lastLogin", "requirePasswordChange", "roles"];
    let mut out = Map::new();
    for f in PUBLIC.iter().chain(if full { PRIVATE } else { &[] }) {
        if let Some(v) = user.get(*f) {
            out.insert((*f).into(), v.clone());
        }
    }
    if is_self {
        out.insert("services".into(), json!({"password": has_password(user)}));
    }
    out.insert("canViewAllInfo".into(), json!(full));
    Value::Object(out)
}

/// The fields `users.list` shows.
pub fn list_item(user: &Doc, privileged: bool) -> Value {
    let mut out = Map::new();
    let fields: &[&str] = if privileged {
        &["_id", "name", "username", "status", "active", "avatarETag", "type", "emails", "roles", "lastLogin"]
    } else {
        &["_id", "name", "username", "status", "active", "avatarETag", "type"]
    };
    for f in fields {
        if let Some(v) = user.get(*f) {
            out.insert((*f).into(), v.clone());
        }
    }
    out.insert("nameInsensitive".into(), json!(str_of(user, "name").to_lowercase()));
    Value::Object(out)
}
