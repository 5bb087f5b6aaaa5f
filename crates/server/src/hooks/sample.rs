//! `GET /hooks/sample/...`: three sample events, as Rocket.Chat's Zapier-style
//! integration returns them (a bare array, no `success` key).

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use store::ids::{now_iso, random_id};

pub fn response() -> Response {
    let now = now_iso();
    let items: Vec<Value> = (1..=3)
        .map(|i| {
            json!({
                "token": random_id(24),
                "channel_id": random_id(17),
                "channel_name": "general",
                "timestamp": now,
                "user_id": random_id(17),
                "user_name": "rocket.cat",
                "text": format!("Sample text {i}"),
                "trigger_word": "Sample",
            })
        })
        .collect();
    Json(Value::Array(items)).into_response()
}
