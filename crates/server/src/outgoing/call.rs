//! The HTTP call of one attempt: the request a script prepared (or the default one), signed
//! when the integration has a signing secret, through the guarded or open client.

use super::engine::Outgoing;
use super::index::Hook;
use super::signing;
use crate::domain::str_of;
use crate::outbound_http::{check_url, error_text, is_refused};
use crate::settings::Settings;
use serde_json::{Map, Value, json};
use std::time::Duration;
use store::Delivery;
use store::ids::now_ms;

/// Largest response body read (Rocket.Chat's limit).
const MAX_RESPONSE_BYTES: usize = 10 * 1024 * 1024;

pub struct Response {
    pub status: u16,
    pub headers: Map<String, Value>,
    pub body: String,
    pub content_type: String,
}

/// Why a call produced no response.
pub struct CallFailure {
    pub message: String,
    /// Retrying cannot help (refused by the address guard, bad request).
    pub permanent: bool,
}

async fn read_body(mut resp: reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = MAX_RESPONSE_BYTES.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_RESPONSE_BYTES {
            break;
        }
    }
    Ok(body)
}

pub async fn call(
    settings: &Settings,
    outgoing: &Outgoing,
    d: &Delivery,
    hook: &Hook,
    request: &Map<String, Value>,
    body: Option<Vec<u8>>,
) -> Result<Response, CallFailure> {
    let permanent = |message: String| CallFailure { message, permanent: true };
    let guard = !settings.bool("Integrations_Outgoing_Allow_Private_Addresses");
    let url_text = str_of(request, "url");
    let url = reqwest::Url::parse(url_text).map_err(|e| permanent(format!("Invalid URL {url_text:?}: {e}")))?;
    check_url(&url, guard).map_err(|refused| permanent(refused.0))?;
    let method = reqwest::Method::from_bytes(str_of(request, "method").to_ascii_uppercase().as_bytes())
        .map_err(|_| permanent(format!("Invalid method {:?}", str_of(request, "method"))))?;
    let clients = outgoing.clients();
    let client = if guard { &clients.guarded } else { &clients.open };
    let setting = settings.int("Integrations_Outgoing_Timeout").max(1) as u64;
    let timeout = match request.get("timeout").and_then(Value::as_f64) {
        Some(t) if t > 0.0 => (t as u64).min(setting),
        _ => setting,
    };
    let mut req = client.request(method, url).timeout(Duration::from_millis(timeout));
    if let Some(Value::Object(headers)) = request.get("headers") {
        for (k, v) in headers {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            req = req.header(k.as_str(), v);
        }
    }
    req = req.header(signing::ID_HEADER, &d.id);
    let body = body.unwrap_or_default();
    if let Some(secret) = hook.doc.get("signingSecret").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        let ts = now_ms() / 1000;
        req = req
            .header(signing::TIMESTAMP_HEADER, ts.to_string())
            .header(signing::SIGNATURE_HEADER, signing::sign(secret, &d.id, ts, &body));
    }
    if request.get("data").is_some_and(|v| !v.is_null()) {
        req = req.header("content-type", "application/json").body(body);
    }
    let resp = req.send().await.map_err(|e| {
        let message = error_text(&e);
        CallFailure { message, permanent: is_refused(&e) || e.is_builder() }
    })?;
    let status = resp.status().as_u16();
    let mut headers = Map::new();
    for (name, value) in resp.headers() {
        headers.insert(name.as_str().to_owned(), json!(String::from_utf8_lossy(value.as_bytes())));
    }
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let body = read_body(resp).await.map_err(|e| CallFailure { message: error_text(&e), permanent: false })?;
    Ok(Response { status, headers, body: String::from_utf8_lossy(&body).into_owned(), content_type })
}
