//! Reading and parsing a hook body.
//!
//! * `application/json` (and any other or no content type): a JSON object; another JSON value
//!   is treated as `{}`; an empty body is `{}`; invalid JSON is a 400 with the parse error.
//! * `application/x-www-form-urlencoded` (with or without parameters): a lone `payload` field is
//!   parsed as JSON (Slack style); a body that is itself a JSON object or array is parsed as
//!   JSON (clients that post JSON with the form type); anything else is the form fields.
//! * `multipart/form-data`: the text fields (files are ignored), with the same `payload` rule.
//!
//! The body is read up to a limit (`Integrations_Hooks_Max_Body_Size` bytes, default 1 MiB);
//! anything larger is a 413 before it is parsed.

use crate::error::ApiError;
use crate::http::{form_args, push_arg};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::http::HeaderMap;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use serde_json::{Map, Value};

pub const DEFAULT_LIMIT: usize = 1024 * 1024;

pub fn limit(state: &AppState) -> usize {
    match state.settings.int("Integrations_Hooks_Max_Body_Size") {
        n if n > 0 => n as usize,
        _ => DEFAULT_LIMIT,
    }
}

pub async fn read(body: Body, headers: &HeaderMap, limit: usize) -> Result<Bytes, ApiError> {
    let declared = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::PayloadTooLarge);
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        // `to_bytes` reports an over-limit body through its error source chain.
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(err) = source {
            if err.is::<http_body_util::LengthLimitError>() {
                return ApiError::PayloadTooLarge;
            }
            source = err.source();
        }
        ApiError::plain(format!("Could not read the request body: {e}"))
    })
}

fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// `JSON.parse` of a body: an object, `{}` for any other value, or the 400 parse error.
pub fn parse_json(raw: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(raw) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Ok(Map::new()),
        Err(e) => Err(ApiError::plain(json_error(&e))),
    }
}

fn json_error(e: &serde_json::Error) -> String {
    format!("Invalid JSON: {e}")
}

fn looks_like_json(raw: &[u8]) -> bool {
    matches!(raw.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{' | b'['))
}

/// Form fields, with a lone string `payload` field parsed as JSON.
fn unwrap_payload(fields: Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    if fields.len() == 1
        && let Some(Value::String(payload)) = fields.get("payload")
    {
        return parse_json(payload.as_bytes());
    }
    Ok(fields)
}

pub async fn parse(headers: &HeaderMap, raw: &Bytes) -> Result<Map<String, Value>, ApiError> {
    crate::http::without_nul(parse_any(headers, raw).await?)
}

async fn parse_any(headers: &HeaderMap, raw: &Bytes) -> Result<Map<String, Value>, ApiError> {
    match media_type(headers).as_str() {
        "application/x-www-form-urlencoded" => {
            if looks_like_json(raw) {
                return parse_json(raw);
            }
            unwrap_payload(form_args(raw))
        }
        "multipart/form-data" => unwrap_payload(multipart_fields(headers, raw.clone()).await?),
        _ => parse_json(raw),
    }
}

async fn multipart_fields(headers: &HeaderMap, raw: Bytes) -> Result<Map<String, Value>, ApiError> {
    use axum::extract::FromRequest;
    let bad = |e: &dyn std::fmt::Display| ApiError::plain(format!("Invalid multipart body: {e}"));
    let mut req = axum::extract::Request::new(Body::from(raw));
    if let Some(ct) = headers.get(CONTENT_TYPE) {
        req.headers_mut().insert(CONTENT_TYPE, ct.clone());
    }
    let mut multipart = axum::extract::Multipart::from_request(req, &()).await.map_err(|e| bad(&e.body_text()))?;
    let mut fields = Map::new();
    while let Some(field) = multipart.next_field().await.map_err(|e| bad(&e.body_text()))? {
        let Some(name) = field.name().map(str::to_owned) else {
            continue;
        };
        if field.file_name().is_some() {
            continue;
        }
        let text = field.text().await.map_err(|e| bad(&e.body_text()))?;
        push_arg(&mut fields, &name, text);
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use serde_json::json;

    fn headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        h
    }

    async fn p(ct: &str, body: &str) -> Result<Value, String> {
        parse(&headers(ct), &Bytes::from(body.to_owned())).await.map(Value::Object).map_err(|e| format!("{e:?}"))
    }

    #[tokio::test]
    async fn forms() {
        let form = "application/x-www-form-urlencoded";
        assert_eq!(p(form, "payload=%7B%22text%22%3A%22hi%22%7D").await.unwrap(), json!({"text": "hi"}));
        assert_eq!(
            p(&format!("{form}; charset=utf-8"), "payload={\"text\":\"x\"}").await.unwrap(),
            json!({"text": "x"})
        );
        assert_eq!(p(form, "{\"text\":\"a&b=c\"}").await.unwrap(), json!({"text": "a&b=c"}));
        assert_eq!(p(form, "text=hello&channel=%23x").await.unwrap(), json!({"text": "hello", "channel": "#x"}));
        assert_eq!(p(form, "a=1&a=2&b[]=3").await.unwrap(), json!({"a": ["1", "2"], "b": ["3"]}));
        assert!(p(form, "payload=%7Bnope").await.unwrap_err().contains("Invalid JSON"));
    }

    #[tokio::test]
    async fn json_bodies() {
        assert_eq!(p("application/json", "").await.unwrap(), json!({}));
        assert_eq!(p("application/json", "[1,2]").await.unwrap(), json!({}));
        assert_eq!(p("", "{\"a\":1}").await.unwrap(), json!({"a": 1}));
        assert!(p("application/json", "{\"a\":").await.unwrap_err().contains("Invalid JSON"));
    }

    #[tokio::test]
    async fn multipart() {
        let body = "--XX\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nhello\r\n--XX\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\nfile\r\n--XX--\r\n";
        assert_eq!(p("multipart/form-data; boundary=XX", body).await.unwrap(), json!({"text": "hello"}));
        let body = "--XX\r\nContent-Disposition: form-data; name=\"payload\"\r\n\r\n{\"text\":\"p\"}\r\n--XX--\r\n";
        assert_eq!(p("multipart/form-data; boundary=XX", body).await.unwrap(), json!({"text": "p"}));
        assert!(p("multipart/form-data", "junk").await.unwrap_err().contains("multipart"));
    }
}
