//! Rate limiting of hook calls.
//!
//! * Rocket.Chat's limiter: `API_Enable_Rate_Limiter_Limit_Calls_Default` calls (10) per
//!   `API_Enable_Rate_Limiter_Limit_Time_Default` ms (60 000) per client IP per hook URL
//!   (path *and* query string) and method; no permission bypasses it. Off with
//!   `API_Enable_Rate_Limiter=false`, in `TEST_MODE`, or when either number is 0.
//! * Liftoff's own, per integration over all clients: `Integrations_Hooks_Rate_Limit_Calls`
//!   calls per `Integrations_Hooks_Rate_Limit_Time` ms (default 60 000); off unless the calls
//!   setting is above 0.
//!
//! Both answer 429 with Rocket.Chat's error body; the headers describe the client's per-URL window when
//! that limiter is on, else the per-integration window.

use crate::error::ApiError;
use crate::state::AppState;
use axum::http::{HeaderMap, Method, Uri};
use std::net::IpAddr;

pub fn check(
    state: &AppState,
    ip: Option<IpAddr>,
    method: &Method,
    uri: &Uri,
    integration_id: &str,
) -> Result<HeaderMap, ApiError> {
    let settings = &state.settings;
    let now = store::ids::now_ms();
    let mut headers = HeaderMap::new();

    let calls = settings.int("API_Enable_Rate_Limiter_Limit_Calls_Default");
    let window = settings.int("API_Enable_Rate_Limiter_Limit_Time_Default");
    if !state.config.test_mode && settings.bool("API_Enable_Rate_Limiter") && calls > 0 && window > 0 {
        let ip = ip.map(|ip| ip.to_string()).unwrap_or_default();
        let key = format!("hooks|{ip}|{method}|{uri}");
        let decision = state.rate_limiter.hit(&key, calls as u64, window, now);
        if !decision.allowed {
            return Err(decision.error(now));
        }
        headers = decision.headers();
    }

    let own_calls = settings.int("Integrations_Hooks_Rate_Limit_Calls");
    if own_calls > 0 {
        let own_window = match settings.int("Integrations_Hooks_Rate_Limit_Time") {
            w if w > 0 => w,
            _ => 60_000,
        };
        let decision =
            state.rate_limiter.hit(&format!("hooks-integration|{integration_id}"), own_calls as u64, own_window, now);
        if !decision.allowed {
            return Err(decision.error(now));
        }
        if headers.is_empty() {
            headers = decision.headers();
        }
    }
    Ok(headers)
}
