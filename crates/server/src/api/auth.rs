//! `login`, `logout`, `me` and `/api/info`.

use super::docs::{Answer, Method, Routes};
use super::validation::schema::Ty;
use crate::auth::{hash_login_token, password_digest, verify_password_digest};
use crate::domain::str_of;
use crate::domain::users::me;
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Body, Caller, MaybeCaller};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};
use store::Doc;
use store::ids::{now_iso, secret};

/// The Rocket.Chat version whose REST API Liftoff speaks.
pub const COMPATIBLE_VERSION: &str = "7.10.0";

pub fn routes() -> Routes {
    Routes::new()
        .post("/login", login)
        .summary("Log in with a password or a resume token")
        .body(&[
            ("user", Ty::Any),
            ("username", Ty::Str),
            ("email", Ty::Str),
            ("password", Ty::Any),
            ("resume", Ty::Str),
        ])
        .errors(&[401])
        .route(&[Method::Get, Method::Post], "/logout", logout)
        .summary("Revoke the caller's login token")
        .answers(Answer::Object)
        .get("/me", get_me)
        .summary("The caller's own user")
}

pub fn info_routes() -> Routes {
    Routes::new()
        .get("/api/info", info)
        .summary("Server version (more for callers with view-statistics)")
        .get("/api/info/", info)
        .summary("Server version (more for callers with view-statistics)")
}

fn unauthorized() -> ApiError {
    ApiError::LoginFailed { error: "Unauthorized".into(), message: "Unauthorized".into() }
}

/// The password of a login body as the SHA-256 hex digest Meteor verifies.
fn digest_of(password: &Value) -> Option<String> {
    match password {
        Value::String(p) => Some(password_digest(p)),
        Value::Object(p) => {
            let digest = p.get("digest").or_else(|| p.get("hashed")).and_then(Value::as_str)?;
            let algorithm = p.get("algorithm").and_then(Value::as_str).unwrap_or("sha-256");
            (algorithm == "sha-256").then(|| digest.to_lowercase())
        }
        _ => None,
    }
}

async fn find_login_user(state: &AppState, body: &serde_json::Map<String, Value>) -> ApiResult<Option<Doc>> {
    let store = state.store();
    let by_name_or_email = |s: &str| s.contains('@');
    match (body.get("user"), body.get("username"), body.get("email")) {
        (Some(Value::String(u)), _, _) if by_name_or_email(u) => Ok(store.user_by_email(u).await?),
        (Some(Value::String(u)), _, _) => Ok(store.user_by_username(u).await?),
        (Some(Value::Object(u)), _, _) => {
            if let Some(name) = u.get("username").and_then(Value::as_str) {
                Ok(store.user_by_username(name).await?)
            } else if let Some(email) = u.get("email").and_then(Value::as_str) {
                Ok(store.user_by_email(email).await?)
            } else if let Some(id) = u.get("id").and_then(Value::as_str) {
                Ok(store.user_by_id(id).await?)
            } else {
                Ok(None)
            }
        }
        (_, Some(Value::String(u)), _) => Ok(store.user_by_username(u).await?),
        (_, _, Some(Value::String(e))) => Ok(store.user_by_email(e).await?),
        _ => Ok(None),
    }
}

async fn login(State(state): State<AppState>, Body(body): Body) -> ApiResult<Response> {
    let store = state.store();
    let (user, token) = if let Some(resume) = body.get("resume").and_then(Value::as_str) {
        let hashed = hash_login_token(resume);
        let uid = store.user_id_by_token(&hashed).await?.ok_or(ApiError::LoginFailed {
            error: "403".into(),
            message: "You've been logged out by the server. Please log in again.".into(),
        })?;
        let user = store.user_by_id(&uid).await?.ok_or_else(unauthorized)?;
        (user, resume.to_owned())
    } else {
        let digest = body.get("password").and_then(digest_of).ok_or_else(unauthorized)?;
        let user = find_login_user(&state, &body).await?.ok_or_else(unauthorized)?;
        let hash = user.get("services").and_then(|s| s.pointer("/password/bcrypt")).and_then(Value::as_str);
        let Some(hash) = hash else { return Err(unauthorized()) };
        if !verify_password_digest(digest, hash.to_owned()).await {
            return Err(unauthorized());
        }
        let token = secret();
        store.add_login_token(str_of(&user, "_id"), &hash_login_token(&token)).await?;
        (user, token)
    };
    if user.get("active").and_then(Value::as_bool) == Some(false) {
        return Err(ApiError::LoginFailed {
            error: "error-user-is-not-activated".into(),
            message: "User is not activated".into(),
        });
    }
    let mut user = user;
    user.insert("lastLogin".into(), json!(now_iso()));
    store.replace_user(user.clone()).await?;
    Ok(success(json!({
        "status": "success",
        "data": {"userId": str_of(&user, "_id"), "authToken": token, "me": me(&state, &user)},
    })))
}

async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    state.store().remove_login_token(&caller.hashed_token).await?;
    Ok(Json(json!({"status": "success", "data": {"message": "You've been logged out!"}})))
}

async fn get_me(State(state): State<AppState>, caller: Caller) -> Response {
    success(me(&state, &caller.user))
}

async fn info(State(state): State<AppState>, MaybeCaller(caller): MaybeCaller) -> Response {
    let full = caller.is_some_and(|c| state.has_permission(&c.user, "view-statistics"));
    if full {
        success(json!({
            "version": COMPATIBLE_VERSION,
            "info": {"version": COMPATIBLE_VERSION, "build": {"platform": std::env::consts::OS, "arch": std::env::consts::ARCH},
                     "liftoff": env!("CARGO_PKG_VERSION")},
            "minimumClientVersions": {"desktop": "3.9.6", "mobile": "4.39.0"},
        }))
    } else {
        let short: String = COMPATIBLE_VERSION.splitn(3, '.').take(2).collect::<Vec<_>>().join(".");
        success(json!({"version": short, "minimumClientVersions": {"desktop": "3.9.6", "mobile": "4.39.0"}}))
    }
}
