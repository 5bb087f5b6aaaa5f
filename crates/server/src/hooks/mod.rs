//! The incoming-webhook receiver: `/hooks/...`.
//!
//! One call goes through these steps, each in its own module:
//! 1. [`route`]: which action the path names and its `integrationId`/`token`.
//! 2. [`auth`]: the integration from the in-memory cache, the token compared in constant time,
//!    the post-as user (404 / 401); the user and the resolved destinations are kept in the
//!    short-lived per-integration [`plan`].
//! 3. [`limit`]: Rocket.Chat's per-IP-per-hook-URL limiter and our optional per-integration one
//!    (429, `X-RateLimit-*` on every limited answer).
//! 4. `enabled` (503), then [`body`]: JSON, Slack-style `payload=`, form and multipart bodies,
//!    with a size limit (413) and parse errors as 400.
//! 5. [`script`]: `process_incoming_request` in the sandbox when the integration has a runnable
//!    script.
//! 6. [`deliver`]: the payload becomes messages through `process_webhook_message`; every message
//!    is committed (group commit) before the answer.

mod auth;
mod body;
mod deliver;
mod limit;
pub mod plan;
mod route;
mod sample;
mod script;

use crate::api::docs::{Answer, Method as Verb, Routes};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use route::Action;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;

pub fn routes() -> Routes {
    Routes::new()
        .route(&[Verb::Get, Verb::Post], "/hooks/{*rest}", handle)
        .summary("Incoming webhooks: run one (its body, JSON, form or multipart, becomes messages), its sample events, its check")
        // The actions `route::parse` tells apart.
        .documented_as(&[
            (&[Verb::Get, Verb::Post], "/hooks/{integrationId}/{token}"),
            (&[Verb::Get, Verb::Post], "/hooks/{integrationId}/{userId}/{token}"),
            (&[Verb::Get], "/hooks/sample/{integrationId}/{token}"),
            (&[Verb::Get], "/hooks/sample/{integrationId}/{userId}/{token}"),
            (&[Verb::Get], "/hooks/info/{integrationId}/{token}"),
            (&[Verb::Get], "/hooks/info/{integrationId}/{userId}/{token}"),
        ])
        .accepts_body()
        .answers(Answer::Json)
        .errors(&[401, 413, 429])
}

async fn handle(State(state): State<AppState>, req: Request) -> Response {
    let mut resp = match serve(&state, req).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    };
    let headers = resp.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

async fn serve(state: &AppState, req: Request) -> Result<Response, ApiError> {
    let Some(target) = route::parse(req.method(), req.uri().path()) else {
        return Err(ApiError::NotFound("Resource not found".into()));
    };
    let integration = auth::integration(state, &target.integration_id, &target.token).await?;
    let user = auth::post_as_user(state, &integration).await?;

    let ip = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let limit_headers = limit::check(state, ip, req.method(), req.uri(), &target.integration_id)?;

    let mut resp = match target.action {
        Action::Info => crate::error::success(serde_json::json!({})),
        Action::Sample => sample::response(),
        Action::Execute => execute(state, req, &target, &integration, user).await?,
    };
    resp.headers_mut().extend(limit_headers);
    Ok(resp)
}

/// The `execute` action: the body (or the script's answer) becomes messages.
async fn execute(
    state: &AppState,
    req: Request,
    target: &route::Target,
    integration: &store::Doc,
    user: Arc<store::Doc>,
) -> Result<Response, ApiError> {
    if integration.get("enabled") != Some(&Value::Bool(true)) {
        return Err(ApiError::Unavailable);
    }
    let (parts, raw_body) = req.into_parts();
    let raw = body::read(raw_body, &parts.headers, body::limit(state)).await?;
    let payload = body::parse(&parts.headers, &raw).await?;

    let has_body_stream = !(matches!(parts.method, Method::GET | Method::HEAD) && raw.is_empty());
    if has_body_stream && crate::scripts::has_runnable_script(&state.script_policy, integration) {
        let request = script::request_object(&parts, target, &raw, &payload, &user);
        return match script::run(state, integration, request).await? {
            script::Outcome::Nothing => Ok(crate::error::success(serde_json::json!({}))),
            script::Outcome::Post { mut content, response, user: as_user } => {
                if !content.contains_key("separateResponse")
                    && payload.get("separateResponse") == Some(&Value::Bool(true))
                {
                    content.insert("separateResponse".into(), Value::Bool(true));
                }
                let (user, own) = match as_user {
                    Some(u) => (Arc::new(script::resolve_user(state, &u).await?), false),
                    None => (user, true),
                };
                deliver::deliver(state, integration, &user, own, *content, response).await
            }
        };
    }
    deliver::deliver(state, integration, &user, true, payload, None).await
}
