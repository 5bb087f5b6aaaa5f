//! The rate-limiting middleware of the REST routes (the limiter itself is `crate::ratelimit`).

use crate::http::authenticate;
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

/// Middleware for `/api/v1/*`: limits per IP and route unless switched off, in test mode, or
/// the caller holds `api-bypass-rate-limit`.
pub async fn limit_api(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let settings = &state.settings;
    let limit = settings.int("API_Enable_Rate_Limiter_Limit_Calls_Default");
    let window = settings.int("API_Enable_Rate_Limiter_Limit_Time_Default");
    if state.config.test_mode || !settings.bool("API_Enable_Rate_Limiter") || limit <= 0 || window <= 0 {
        return next.run(req).await;
    }
    let key = format!("{}|{}{}", addr.ip(), req.uri().path(), req.method());
    let now = store::ids::now_ms();
    let decision = state.rate_limiter.hit(&key, limit as u64, window, now);
    if !decision.allowed {
        let (parts, body) = req.into_parts();
        let bypass = matches!(authenticate(&parts, &state).await, Ok(Some(c)) if state.has_permission(&c.user, "api-bypass-rate-limit"));
        if !bypass {
            return decision.error(now).into_response();
        }
        return next.run(Request::from_parts(parts, body)).await;
    }
    let mut resp = next.run(req).await;
    resp.headers_mut().extend(decision.headers());
    resp
}
