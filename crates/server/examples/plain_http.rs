//! The plain HTTP ceiling for the hooks benchmark (`bench/hooks/run.sh`): the same axum and
//! tokio setup as `liftoff`, one route shaped like a hook URL that reads the body and answers
//! `{"success":true}` without parsing or storing anything.
//!
//! `PORT` (default 0 = any free port), `BIND_IP` (default 127.0.0.1). Prints
//! `plain_http listening on http://<addr>` once it accepts connections.

use axum::Router;
use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::post;

async fn hook(body: Bytes) -> impl IntoResponse {
    std::hint::black_box(body.len());
    ([(CONTENT_TYPE, "application/json")], r#"{"success":true}"#)
}

#[tokio::main]
async fn main() {
    let port = std::env::var("PORT").unwrap_or_else(|_| "0".into());
    let ip = std::env::var("BIND_IP").unwrap_or_else(|_| "127.0.0.1".into());
    let listener = tokio::net::TcpListener::bind(format!("{ip}:{port}")).await.expect("bind");
    println!("plain_http listening on http://{}", listener.local_addr().expect("address"));
    let app = Router::new().route("/hooks/{id}/{token}", post(hook));
    axum::serve(listener, app).await.expect("serve");
}
