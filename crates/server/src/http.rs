//! Request extractors: the logged-in caller, JSON/form bodies and query strings, all turned
//! into Rocket.Chat-style errors when they are missing or malformed.

use crate::auth::hash_login_token;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde_json::{Map, Value};
use store::Doc;

/// The authenticated user of an `authRequired` route.
pub struct Caller {
    pub id: String,
    pub user: Doc,
    pub hashed_token: String,
}

impl Caller {
    pub fn username(&self) -> &str {
        self.user.get("username").and_then(Value::as_str).unwrap_or_default()
    }

    pub fn name(&self) -> &str {
        self.user.get("name").and_then(Value::as_str).unwrap_or_default()
    }

    /// `{_id, username, name}` as messages and rooms embed the user.
    pub fn brief(&self) -> Value {
        serde_json::json!({"_id": self.id, "username": self.username(), "name": self.name()})
    }

    /// `{_id, username}` as `_createdBy`/`_updatedBy` embed it.
    pub fn id_and_username(&self) -> Value {
        serde_json::json!({"_id": self.id, "username": self.username()})
    }
}

/// Resolves `X-User-Id` + `X-Auth-Token`; `Ok(None)` when either header is absent.
pub async fn authenticate(parts: &Parts, state: &AppState) -> Result<Option<Caller>, ApiError> {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty());
    let (Some(uid), Some(token)) = (header("x-user-id"), header("x-auth-token")) else {
        return Ok(None);
    };
    let hashed_token = hash_login_token(token);
    if state.store().user_id_by_token(&hashed_token).await?.as_deref() != Some(uid) {
        return Err(ApiError::NotLoggedIn);
    }
    let Some(user) = state.store().user_by_id(uid).await? else {
        return Err(ApiError::NotLoggedIn);
    };
    // Deactivation removes the user's tokens; a token that outlived it still opens nothing.
    if user.get("active") == Some(&Value::Bool(false)) {
        return Err(ApiError::NotLoggedIn);
    }
    Ok(Some(Caller { id: uid.to_owned(), user, hashed_token }))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(parts, state).await?.ok_or(ApiError::NotLoggedIn)
    }
}

/// A caller that may or may not be logged in (`/api/info`, `users.register`).
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // A wrong token on an optional-auth route is treated like no token.
        Ok(Self(authenticate(parts, state).await.unwrap_or(None)))
    }
}

/// Request arguments as one JSON object: a JSON body, a form body, or the query string.
pub type Args = Map<String, Value>;

/// The request body as an object: JSON, or `application/x-www-form-urlencoded` fields.
pub struct Body(pub Args);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_form = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::plain(e.body_text())
            }
        })?;
        if is_form {
            return without_nul(form_args(&bytes)).map(Body);
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Body(Map::new()));
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => without_nul(map).map(Body),
            Ok(_) => Err(ApiError::invalid_params_typed("must be object")),
            Err(e) => Err(ApiError::failure(format!("Invalid JSON body: {e}"), "error-invalid-json")),
        }
    }
}

fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Arguments with a NUL character anywhere are refused: PostgreSQL cannot store or compare
/// such text, and no stored name or id contains one.
pub fn without_nul(args: Args) -> Result<Args, ApiError> {
    if args.iter().any(|(k, v)| k.contains('\0') || has_nul(v)) {
        return Err(ApiError::invalid_params_typed("Arguments must not contain NUL characters"));
    }
    Ok(args)
}

/// Form pairs (a query string or an urlencoded body) as arguments.
pub fn form_args(bytes: &[u8]) -> Args {
    let mut args = Map::new();
    for (k, v) in form_urlencoded::parse(bytes) {
        push_arg(&mut args, &k, v.into_owned());
    }
    args
}

/// Adds a query/form pair; `k[]=a&k[]=b` and repeated keys become arrays.
pub fn push_arg(args: &mut Args, key: &str, value: String) {
    let (key, is_list) = match key.strip_suffix("[]") {
        Some(k) => (k, true),
        None => (key, false),
    };
    match args.get_mut(key) {
        Some(Value::Array(list)) => list.push(Value::String(value)),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, Value::String(value)]);
        }
        None if is_list => {
            args.insert(key.to_owned(), Value::Array(vec![Value::String(value)]));
        }
        None => {
            args.insert(key.to_owned(), Value::String(value));
        }
    }
}

/// The query string as arguments.
pub struct Query(pub Args);

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        without_nul(form_args(parts.uri.query().unwrap_or_default().as_bytes())).map(Query)
    }
}

/// A string argument (numbers and booleans are accepted as their text).
pub fn arg_str<'a>(args: &'a Args, key: &str) -> Option<std::borrow::Cow<'a, str>> {
    match args.get(key)? {
        Value::String(s) => Some(std::borrow::Cow::Borrowed(s)),
        Value::Number(n) => Some(std::borrow::Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(std::borrow::Cow::Owned(b.to_string())),
        _ => None,
    }
}

/// A boolean argument: JSON `true`, or the string `"true"`.
pub fn arg_bool(args: &Args, key: &str) -> Option<bool> {
    match args.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => Some(s == "true"),
        _ => None,
    }
}
