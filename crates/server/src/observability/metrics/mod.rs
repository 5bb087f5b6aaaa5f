//! Prometheus metrics, served on their own port when `Prometheus_Enabled` is true (Rocket.Chat's
//! settings: `Prometheus_Enabled`, default false, and `Prometheus_Port`, default 9458), bound to
//! `BIND_IP`. When disabled nothing is recorded: every recording function first reads one
//! atomic flag.

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry, TextEncoder};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

static ENABLED: AtomicBool = AtomicBool::new(false);
static METRICS: OnceLock<Metrics> = OnceLock::new();

struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    hooks: IntCounterVec,
    messages: IntCounter,
}

fn build() -> Result<Metrics, prometheus::Error> {
    let registry = Registry::new();
    let http_requests = IntCounterVec::new(
        Opts::new("liftoff_http_requests_total", "HTTP requests by method, route pattern and status"),
        &["method", "route", "status"],
    )?;
    let http_duration = HistogramVec::new(
        HistogramOpts::new(
            "liftoff_http_request_duration_seconds",
            "HTTP request duration by method and route pattern",
        ),
        &["method", "route"],
    )?;
    let hooks =
        IntCounterVec::new(Opts::new("liftoff_hooks_total", "Incoming webhook calls by outcome"), &["outcome"])?;
    let messages = IntCounter::new("liftoff_messages_posted_total", "Messages stored")?;
    registry.register(Box::new(http_requests.clone()))?;
    registry.register(Box::new(http_duration.clone()))?;
    registry.register(Box::new(hooks.clone()))?;
    registry.register(Box::new(messages.clone()))?;
    Ok(Metrics { registry, http_requests, http_duration, hooks, messages })
}

fn metrics() -> Option<&'static Metrics> {
    if !ENABLED.load(Ordering::Relaxed) {
        return None;
    }
    METRICS.get()
}

/// Turns recording on and serves `GET /metrics` on `ip:port` until the process ends.
pub async fn start(ip: &str, port: u16) -> Result<(), String> {
    let built = build().map_err(|e| format!("metrics: {e}"))?;
    let _ = METRICS.set(built);
    let listener = tokio::net::TcpListener::bind((ip, port))
        .await
        .map_err(|e| format!("cannot listen for metrics on {ip}:{port}: {e}"))?;
    ENABLED.store(true, Ordering::SeqCst);
    tracing::info!(address = %listener.local_addr().map_err(|e| e.to_string())?, "metrics listening");
    let app = Router::new().route("/metrics", get(scrape));
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "metrics server stopped");
        }
    });
    Ok(())
}

async fn scrape() -> Response {
    let Some(m) = METRICS.get() else { return StatusCode::NOT_FOUND.into_response() };
    let mut out = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&m.registry.gather(), &mut out) {
        tracing::error!(error = %e, "encoding metrics failed");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    ([("content-type", "text/plain; version=0.0.4")], out).into_response()
}

/// A message was stored.
pub fn message_posted() {
    if let Some(m) = metrics() {
        m.messages.inc();
    }
}

/// Counts and times every request by its route pattern (never the raw path, which holds ids and
/// hook tokens); `/hooks/*` calls also count by outcome.
pub async fn layer(req: Request, next: Next) -> Response {
    if metrics().is_none() {
        return next.run(req).await;
    }
    let method = req.method().as_str().to_owned();
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".into());
    let started = Instant::now();
    let resp = next.run(req).await;
    if let Some(m) = metrics() {
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
