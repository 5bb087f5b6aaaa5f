//! Counts and times HTTP requests by route pattern.

use super::families::enabled;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

/// The route label of requests no route matched (the fallback's 404s).
const UNMATCHED: &str = "unmatched";

/// Counts and times every request by its route pattern (never the raw path, which holds ids and
/// hook tokens); `/hooks/*` calls also count by outcome.
pub async fn layer(req: Request, next: Next) -> Response {
    if enabled().is_none() {
        return next.run(req).await;
    }
    let method = req.method().as_str().to_owned();
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| UNMATCHED.into());
    let started = Instant::now();
    let resp = next.run(req).await;
    if let Some(m) = enabled() {
        let status = resp.status();
        m.http_requests.with_label_values(&[method.as_str(), route.as_str(), status.as_str()]).inc();
        m.http_duration.with_label_values(&[method.as_str(), route.as_str()]).observe(started.elapsed().as_secs_f64());
        if route.starts_with("/hooks/") {
            let outcome = if status.is_success() {
                "posted"
            } else if status.is_client_error() {
                "rejected"
            } else {
                "error"
            };
            m.hooks.with_label_values(&[outcome]).inc();
        }
    }
    resp
}
