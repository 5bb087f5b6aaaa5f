//! Prometheus metrics, served on their own port when `Prometheus_Enabled` is true (Rocket.Chat's
//! settings: `Prometheus_Enabled`, default false, and `Prometheus_Port`, default 9458), bound to
//! `BIND_IP`. When disabled nothing is recorded: every recording function first reads one
//! atomic flag.

mod families;
mod http;
mod outbox;
mod record;

pub use http::layer;
pub use record::{delivery_finished, message_posted, outgoing_call_took, script_ran, store_committed};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus::{Encoder, TextEncoder};
use std::sync::Arc;
use store::Store;

/// Turns recording on and serves `GET /metrics` on `ip:port` until the process ends; the
/// outbox gauges are read from `store` at each scrape.
pub async fn start(ip: &str, port: u16, store: Arc<dyn Store>) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind((ip, port))
        .await
        .map_err(|e| format!("cannot listen for metrics on {ip}:{port}: {e}"))?;
    families::enable().map_err(|e| format!("metrics: {e}"))?;
    tracing::info!(address = %listener.local_addr().map_err(|e| e.to_string())?, "metrics listening");
    let app = Router::new().route("/metrics", get(scrape)).with_state(store);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "metrics server stopped");
        }
    });
    Ok(())
}

async fn scrape(State(store): State<Arc<dyn Store>>) -> Response {
    let Some(m) = families::built() else { return StatusCode::NOT_FOUND.into_response() };
    outbox::refresh(m, &*store).await;
    let mut out = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&m.registry.gather(), &mut out) {
        tracing::error!(error = %e, "encoding metrics failed");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    ([("content-type", "text/plain; version=0.0.4")], out).into_response()
}
