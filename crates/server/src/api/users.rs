//! `users.*`: create, register, delete, info, list, update.

use super::docs::Routes;
use super::listing::{LIST_ARGS, ListParams};
use super::lookup::{USER_ARGS, user_from_params};
use super::validation::checks::{ajv_type_errors, typed_body};
use super::validation::schema::Ty;
use crate::auth::{hash_password_digest, password_digest};
use crate::domain::str_of;
use crate::domain::users::{NewUser, check_roles, create_user, info, list_item, valid_username, without_secrets};
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Args, Body, Caller, MaybeCaller, Query, arg_bool, arg_str};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Map, Value, json};
use store::ids::now_iso;

pub fn routes() -> Routes {
    Routes::new()
        .post("/users.create", create)
        .summary("Create a user (administration)")
        .body(&[
            ("username", Ty::Str),
            ("email", Ty::Str),
            ("name", Ty::Str),
            ("password", Ty::Str),
            ("roles", Ty::StrList),
            ("active", Ty::Bool),
            ("verified", Ty::Bool),
            ("joinDefaultChannels", Ty::Bool),
            ("requirePasswordChange", Ty::Bool),
            ("sendWelcomeEmail", Ty::Bool),
            ("customFields", Ty::Obj),
        ])
        .post("/users.register", register)
        .summary("Register an account (the first one is the administrator)")
        .body(&[("username", Ty::Str), ("email", Ty::Str), ("name", Ty::Str), ("pass", Ty::Str)])
        .post("/users.delete", delete)
        .summary("Delete a user")
        .body(&[("userId", Ty::Str), ("username", Ty::Str), ("confirmRelinquish", Ty::Bool)])
        .get("/users.info", user_info)
        .summary("One user")
        .query(USER_ARGS)
        .query(&[("includeUserRooms", Ty::Bool)])
        .get("/users.list", list)
        .summary("Users")
        .query(LIST_ARGS)
        .post("/users.update", update)
        .summary("Change a user")
        .body(&[("userId", Ty::Str), ("data", Ty::Obj)])
}

/// Typed-body validation: required string properties, typed optional ones, no unknown ones.
fn validate_body(body: &Args, required: &[&str], optional: &[(&str, Ty)]) -> ApiResult<()> {
    let mut errors = Vec::new();
    for r in required {
        match body.get(*r) {
            None => errors.push(format!("must have required property '{r}'")),
            Some(Value::String(_)) => {}
            Some(_) => errors.push(format!("/{r} must be string")),
        }
    }
    if body.keys().any(|k| !required.contains(&k.as_str()) && !optional.iter().any(|(o, _)| o == k)) {
        errors.push("must NOT have additional properties".into());
    }
    errors.extend(ajv_type_errors(body, "", optional));
    if errors.is_empty() { Ok(()) } else { Err(ApiError::failure(errors.join("\n "), "invalid-params")) }
}

fn invalid_name(name: &str) -> bool {
    name.contains(['<', '>'])
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    crate::domain::strings(v)
}

async fn create(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    const OPTIONAL: &[(&str, Ty)] = &[
        ("active", Ty::Bool),
        ("bio", Ty::Str),
        ("nickname", Ty::Str),
        ("statusText", Ty::Str),
        ("roles", Ty::Arr),
        ("joinDefaultChannels", Ty::Bool),
        ("requirePasswordChange", Ty::Bool),
        ("setRandomPassword", Ty::Bool),
        ("sendWelcomeEmail", Ty::Bool),
        ("verified", Ty::Bool),
        ("customFields", Ty::Obj),
        ("settings", Ty::Obj),
        ("fields", Ty::Any),
        ("freeSwitchExtension", Ty::Str),
        ("phones", Ty::Any),
    ];
    validate_body(&body, &["email", "name", "password", "username"], OPTIONAL)?;
    let name = arg_str(&body, "name").unwrap_or_default().into_owned();
    if invalid_name(&name) {
        return Err(ApiError::plain("Name contains invalid characters"));
    }
    if !state.has_permission(&caller.user, "create-user") {
        return Err(ApiError::meteor_details(
            "error-action-not-allowed",
            "Adding user is not allowed",
            json!({"method": "insertOrUpdateUser", "action": "Adding_user"}),
        ));
    }
    let roles = string_list(body.get("roles"));
    check_roles(&state, &roles, Some(&caller.user)).await?;
    let mut extra = Map::new();
    for key in ["bio", "nickname", "statusText", "customFields"] {
        if let Some(v) = body.get(key) {
            extra.insert(key.into(), v.clone());
        }
    }
    let user = create_user(
        &state,
        NewUser {
            username: arg_str(&body, "username").unwrap_or_default().into_owned(),
            email: arg_str(&body, "email").map(|e| e.into_owned()),
            name,
            password: arg_str(&body, "password").map(|p| p.into_owned()),
            roles,
            active: arg_bool(&body, "active"),
            verified: arg_bool(&body, "verified"),
            join_default_channels: arg_bool(&body, "joinDefaultChannels").unwrap_or(true),
            require_password_change: arg_bool(&body, "requirePasswordChange"),
            extra,
            ..Default::default()
        },
    )
    .await?;
    Ok(success(json!({"user": without_secrets(user)})))
}

async fn register(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Body(body): Body,
) -> ApiResult<Response> {
    validate_body(
        &body,
        &["username", "email", "pass"],
        &[("name", Ty::Str), ("secret", Ty::Str), ("reason", Ty::Str), ("customFields", Ty::Obj)],
    )?;
    if caller.is_some() {
        return Err(ApiError::plain("Logged in users can not register again."));
    }
    if state.settings.string("Accounts_RegistrationForm") == "Disabled" {
        return Err(ApiError::meteor("error-user-registration-disabled", "User registration is disabled"));
    }
    let username = arg_str(&body, "username").unwrap_or_default().into_owned();
    let email = arg_str(&body, "email").unwrap_or_default().into_owned();
    let name = arg_str(&body, "name").map(|n| n.into_owned()).unwrap_or_else(|| username.clone());
    if invalid_name(&name) {
        return Err(ApiError::plain("Name contains invalid characters"));
    }
    if !valid_username(&state, &username) {
        return Err(ApiError::plain("The username provided is not valid"));
    }
    if state.store().user_by_username(&username).await?.is_some() {
        return Err(ApiError::plain("Username is already in use"));
    }
    if state.store().user_by_email(&email).await?.is_some() {
        return Err(ApiError::plain("Email already exists"));
    }
    let user = create_user(
        &state,
        NewUser {
            username,
            email: Some(email),
            name,
            password: arg_str(&body, "pass").map(|p| p.into_owned()),
            join_default_channels: true,
            ..Default::default()
        },
    )
    .await
    .map_err(|e| match e {
        ApiError::Failure { error, .. } if error.contains("already in use") => {
            ApiError::plain("Username is already in use")
        }
        other => other,
    })?;
    let mut out = Map::new();
    for f in ["_id", "type", "status", "active", "name", "username", "utcOffset"] {
        if let Some(v) = user.get(f) {
            out.insert(f.into(), v.clone());
        }
    }
    Ok(success(json!({"user": out})))
}

async fn delete(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    state.require(&caller.user, "delete-user")?;
    typed_body(ajv_type_errors(
        &body,
        "",
        &[("userId", Ty::Str), ("username", Ty::Str), ("confirmRelinquish", Ty::Bool)],
    ))?;
    let user = user_from_params(&state, &body).await?;
    let uid = str_of(&user, "_id").to_owned();
    let store = state.store();
    // Rooms the user is the last owner of must be handed over or removed first.
    let (mut change_owner, mut remove) = (Vec::new(), Vec::new());
    for sub in store.subscriptions_of_user(&uid).await? {
        let is_owner = sub.get("roles").and_then(Value::as_array).is_some_and(|r| r.iter().any(|x| x == "owner"));
        if !is_owner || str_of(&sub, "t") == "d" {
            continue;
        }
        let rid = str_of(&sub, "rid");
        let members = store.subscriptions_of_room(rid).await?;
        let other_owner = members.iter().any(|m| {
            m["u"]["_id"] != json!(uid)
                && m.get("roles").and_then(Value::as_array).is_some_and(|r| r.iter().any(|x| x == "owner"))
        });
        if members.len() == 1 {
            remove.push(rid.to_owned());
        } else if !other_owner {
            change_owner.push(str_of(&sub, "name").to_owned());
        }
    }
    if !change_owner.is_empty() && arg_bool(&body, "confirmRelinquish") != Some(true) {
        return Err(ApiError::Failure {
            error: "[user-last-owner]".into(),
            error_type: Some("user-last-owner".into()),
            details: Some(json!({"shouldChangeOwner": change_owner, "shouldBeRemoved": remove})),
        });
    }
    for rid in &remove {
        store.delete_room(rid).await?;
    }
    store.delete_user(&uid).await?;
    Ok(success(json!({})))
}

async fn user_info(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let keys = ["userId", "username", "importId"];
    if !keys.iter().any(|k| q.contains_key(*k)) {
        return Err(ApiError::invalid_params_typed(
            "must have required property 'userId'\n must have required property 'username'\n must have required property 'importId'\n must match a schema in anyOf",
        ));
    }
    let store = state.store();
    let user = if let Some(id) = arg_str(&q, "userId") {
        if id.is_empty() {
            return Err(ApiError::plain("Invalid search query."));
        }
        store.user_by_id(&id).await?
    } else if let Some(name) = arg_str(&q, "username") {
        if name.is_empty() {
            return Err(ApiError::plain("Invalid search query."));
        }
        store.user_by_username(&name).await?
    } else {
        None
    };
    let Some(user) = user else { return Err(ApiError::plain("User not found.")) };
    let is_self = str_of(&user, "_id") == caller.id;
    let full = is_self || state.has_permission(&caller.user, "view-full-other-user-info");
    let mut out = info(&user, full, is_self);
    if arg_str(&q, "includeUserRooms").as_deref() == Some("true")
        && (is_self || state.has_permission(&caller.user, "view-other-user-channels"))
    {
        let mut rooms: Vec<Value> = store
            .subscriptions_of_user(str_of(&user, "_id"))
            .await?
            .into_iter()
            .map(|s| {
                let mut r =
                    json!({"_id": s["_id"], "rid": s["rid"], "name": s["name"], "t": s["t"], "unread": s["unread"]});
                if let Some(roles) = s.get("roles") {
                    r["roles"] = roles.clone();
                }
                r
            })
            .collect();
        rooms.sort_by(|a, b| (a["t"].as_str(), a["name"].as_str()).cmp(&(b["t"].as_str(), b["name"].as_str())));
        out["rooms"] = json!(rooms);
    }
    Ok(success(json!({"user": out})))
}

async fn list(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    state.require(&caller.user, "view-d-room")?;
    let params = ListParams::from_args(&state, &q)?;
    let privileged = state.has_permission(&caller.user, "view-full-other-user-info");
    let visible = state.store().users().await?.iter().map(|u| list_item(u, privileged)).collect();
    let (users, total) = params.page_in_memory(visible, &[("username", true)]);
    Ok(success(json!({"users": users, "count": users.len(), "offset": params.page.offset, "total": total})))
}

/// The typed fields of `users.update`'s `data`.
const UPDATE_DATA: &[(&str, Ty)] = &[
    ("name", Ty::Str),
    ("username", Ty::Str),
    ("email", Ty::Str),
    ("password", Ty::Str),
    ("bio", Ty::Str),
    ("nickname", Ty::Str),
    ("statusText", Ty::Str),
    ("active", Ty::Bool),
    ("verified", Ty::Bool),
    ("requirePasswordChange", Ty::Bool),
    ("roles", Ty::Arr),
    ("customFields", Ty::Obj),
];

async fn update(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let user_id = arg_str(&body, "userId").unwrap_or_default().into_owned();
    let Some(Value::Object(data)) = body.get("data") else {
        return Err(ApiError::failure("must have required property 'data'", "invalid-params"));
    };
    if user_id.is_empty() {
        return Err(ApiError::failure("must have required property 'userId'", "invalid-params"));
    }
    let mut errors = ajv_type_errors(&body, "", &[("userId", Ty::Str)]);
    errors.extend(ajv_type_errors(data, "/data", UPDATE_DATA));
    typed_body(errors)?;
    let editing_self = user_id == caller.id;
    if !editing_self && !state.has_permission(&caller.user, "edit-other-user-info") {
        return Err(ApiError::meteor_details(
            "error-action-not-allowed",
            "Editing user is not allowed",
            json!({"method": "insertOrUpdateUser", "action": "Editing_user"}),
        ));
    }
    let store = state.store();
    let Some(mut user) = store.user_by_id(&user_id).await? else {
        return Err(ApiError::meteor_details(
            "error-invalid-userId",
            "Invalid userId",
            json!({"method": "insertOrUpdateUser"}),
        ));
    };
    if let Some(Value::String(name)) = data.get("name") {
        if invalid_name(name) {
            return Err(ApiError::plain("Name contains invalid characters"));
        }
        user.insert("name".into(), json!(name));
    }
    if let Some(Value::String(username)) = data.get("username") {
        if !valid_username(&state, username) {
            return Err(ApiError::meteor_details(
                "error-input-is-not-a-valid-field",
                &format!("{username} is not a valid username"),
                json!({"method": "insertOrUpdateUser", "input": username, "field": "Username"}),
            ));
        }
        if let Some(other) = store.user_by_username(username).await?
            && str_of(&other, "_id") != user_id
        {
            return Err(ApiError::meteor_details(
                "error-field-unavailable",
                &format!("{username} is already in use :("),
                json!({"method": "insertOrUpdateUser", "field": username}),
            ));
        }
        user.insert("username".into(), json!(username));
    }
    if let Some(Value::String(email)) = data.get("email") {
        let verified = data.get("verified").and_then(Value::as_bool).unwrap_or(false);
        user.insert("emails".into(), json!([{"address": email, "verified": verified}]));
    }
    if data.contains_key("roles") {
        if !state.has_permission(&caller.user, "edit-other-user-info") {
            return Err(ApiError::meteor_details(
                "error-action-not-allowed",
                "Editing user is not allowed",
                json!({"method": "insertOrUpdateUser", "action": "Editing_user"}),
            ));
        }
        let roles = string_list(data.get("roles"));
        check_roles(&state, &roles, Some(&caller.user)).await?;
        user.insert("roles".into(), json!(roles));
    }
    for key in ["active", "requirePasswordChange", "bio", "nickname", "statusText", "customFields"] {
        if let Some(v) = data.get(key) {
            user.insert(key.into(), v.clone());
        }
    }
    if let Some(Value::String(password)) = data.get("password").filter(|p| p.as_str().is_some_and(|s| !s.is_empty())) {
        let hash = hash_password_digest(password_digest(password)).await.map_err(ApiError::internal)?;
        user.insert("services".into(), json!({"password": {"bcrypt": hash}}));
    }
    user.insert("_updatedAt".into(), json!(now_iso()));
    match store.replace_user(user.clone()).await {
        Ok(()) => {}
        Err(store::StoreError::Conflict(field)) => {
            return Err(ApiError::meteor_details(
                "error-field-unavailable",
                &format!("{field} is already in use :("),
                json!({"method": "insertOrUpdateUser", "field": field}),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(success(json!({"user": without_secrets(user)})))
}
