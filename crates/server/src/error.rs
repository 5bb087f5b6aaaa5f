//! One error type for the API. Each variant is one of Rocket.Chat's response envelopes; the
//! text users see is kept apart from internal causes, which are logged and never sent.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use store::StoreError;

pub const NOT_LOGGED_IN: &str = "You must be logged in to do this.";
pub const PERMISSION_REQUIRED: &str =
    "User does not have the permissions required for this action [error-unauthorized]";

#[derive(Debug)]
pub enum ApiError {
    /// 401 for a missing or wrong `X-User-Id`/`X-Auth-Token`.
    NotLoggedIn,
    /// 401 from the login endpoint.
    LoginFailed { error: String, message: String },
    /// 401 `{error}` (older endpoints' `unauthorized()`).
    Unauthorized(String),
    /// 403 `{error}`: `"unauthorized"` by default, or the route-permission sentence.
    Forbidden(String),
    /// 400 `{error, errorType?, details?}`.
    Failure { error: String, error_type: Option<String>, details: Option<Value> },
    /// 400 with a whole body chosen by the caller (`success: false` is forced).
    FailureBody(Map<String, Value>),
    /// 404 `{error}`.
    NotFound(String),
    /// 413 for bodies over the limit.
    PayloadTooLarge,
    /// 429 `{error}` with the rate-limit headers.
    TooManyRequests { error: String, headers: HeaderMap },
    /// 503 `{error: "Service Unavailable"}`.
    Unavailable,
    /// 500; the cause is logged, the client sees "Internal server error".
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// A Meteor error: `"<reason> [<code>]"` (or `"[<code>]"`) with `errorType: <code>`.
    pub fn meteor(code: &str, reason: &str) -> Self {
        let error = if reason.is_empty() { format!("[{code}]") } else { format!("{reason} [{code}]") };
        Self::Failure { error, error_type: Some(code.to_owned()), details: None }
    }

    pub fn meteor_details(code: &str, reason: &str, details: Value) -> Self {
        match Self::meteor(code, reason) {
            Self::Failure { error, error_type, .. } => Self::Failure { error, error_type, details: Some(details) },
            other => other,
        }
    }

    /// A plain JS error: `{error: <message>}` without `errorType`.
    pub fn plain(message: impl Into<String>) -> Self {
        Self::Failure { error: message.into(), error_type: None, details: None }
    }

    /// `API.v1.failure(a, b)`: `{error: a, errorType: b}` verbatim.
    pub fn failure(error: impl Into<String>, error_type: impl Into<String>) -> Self {
        Self::Failure { error: error.into(), error_type: Some(error_type.into()), details: None }
    }

    /// 403 `{success:false, error:"unauthorized"}`.
    pub fn forbidden() -> Self {
        Self::Forbidden("unauthorized".into())
    }

    pub fn permission_required() -> Self {
        Self::Forbidden(PERMISSION_REQUIRED.into())
    }

    /// Legacy `validateParams` failure: `"<msg> [invalid-params]"`.
    pub fn invalid_params(message: &str) -> Self {
        Self::meteor("invalid-params", message)
    }

    /// Typed-route validation failure: `{errorType: "error-invalid-params", error: <msg>}`.
    pub fn invalid_params_typed(message: impl Into<String>) -> Self {
        Self::failure(message, "error-invalid-params")
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Closed => ApiError::Unavailable,
            other => ApiError::Internal(other.to_string()),
        }
    }
}

fn body(status: StatusCode, value: Value) -> Response {
    (status, Json(value)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::NotLoggedIn => body(
                StatusCode::UNAUTHORIZED,
                json!({"success": false, "error": NOT_LOGGED_IN, "status": "error", "message": NOT_LOGGED_IN}),
            ),
            ApiError::LoginFailed { error, message } => body(
                StatusCode::UNAUTHORIZED,
                json!({"success": false, "error": error, "status": "error", "message": message}),
            ),
            ApiError::Unauthorized(error) => body(StatusCode::UNAUTHORIZED, json!({"success": false, "error": error})),
            ApiError::Forbidden(error) => body(StatusCode::FORBIDDEN, json!({"success": false, "error": error})),
            ApiError::Failure { error, error_type, details } => {
                let mut map = Map::new();
                map.insert("success".into(), Value::Bool(false));
                map.insert("error".into(), Value::String(error));
                if let Some(t) = error_type {
                    map.insert("errorType".into(), Value::String(t));
                }
                if let Some(d) = details {
                    map.insert("details".into(), d);
                }
                body(StatusCode::BAD_REQUEST, Value::Object(map))
            }
            ApiError::FailureBody(mut map) => {
                map.insert("success".into(), Value::Bool(false));
                body(StatusCode::BAD_REQUEST, Value::Object(map))
            }
            ApiError::NotFound(error) => body(StatusCode::NOT_FOUND, json!({"success": false, "error": error})),
            ApiError::PayloadTooLarge => {
                body(StatusCode::PAYLOAD_TOO_LARGE, json!({"success": false, "error": "Request body is too large"}))
            }
            ApiError::TooManyRequests { error, headers } => {
                let mut resp = body(StatusCode::TOO_MANY_REQUESTS, json!({"success": false, "error": error}));
                resp.headers_mut().extend(headers);
                resp
            }
            ApiError::Unavailable => {
                body(StatusCode::SERVICE_UNAVAILABLE, json!({"success": false, "error": "Service Unavailable"}))
            }
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                body(StatusCode::INTERNAL_SERVER_ERROR, json!({"success": false, "error": "Internal server error"}))
            }
        }
    }
}

/// `API.v1.success(obj)`: the object with `success: true` added.
pub fn success(value: Value) -> Response {
    let mut value = value;
    if let Value::Object(map) = &mut value {
        map.insert("success".into(), Value::Bool(true));
    }
    (StatusCode::OK, Json(value)).into_response()
}

pub fn header(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static(""))
}
