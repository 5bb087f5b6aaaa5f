//! `X-Request-Id`: taken from the request when it is a sane token, generated otherwise, echoed
//! in the response, and recorded on a tracing span that wraps the whole request, so that every
//! log line written while serving it carries the id.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// An id a client chose is kept when it is short printable ASCII (it goes into logs).
fn accepted(value: &HeaderValue) -> Option<&str> {
    let s = value.to_str().ok()?;
    (!s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic())).then_some(s)
}

pub async fn layer(req: Request, next: Next) -> Response {
    let id = match req.headers().get(&HEADER).and_then(accepted) {
        Some(given) => given.to_owned(),
        None => store::ids::random_id(20),
    };
    // The path is left out on purpose: hook URLs carry their token.
    let span = tracing::info_span!("request", request_id = %id, method = %req.method());
    let mut resp = next.run(req).instrument(span).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(HEADER, value);
    }
    resp
}
