//! An HTTP receiver for outgoing webhooks, and the integration that points at it.

use super::Client;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Records the JSON bodies posted to it, by path.
pub struct Receiver {
    pub url: String,
    pub hits: Hits,
}

/// Calls received: request path and JSON body.
pub type Hits = Arc<Mutex<Vec<(String, Value)>>>;

impl Receiver {
    pub async fn start() -> Self {
        use axum::extract::State;
        use axum::http::Uri;
        let hits: Hits = Arc::default();
        let app = axum::Router::new().fallback(|State(h): State<Hits>, uri: Uri, body: axum::body::Bytes| async move {
            let v = serde_json::from_slice(&body).unwrap_or(Value::Null);
            h.lock().unwrap().push((uri.path().to_owned(), v));
            axum::Json(json!({}))
        });
        let app = app.with_state(hits.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, hits }
    }

    /// Waits (bounded) until `n` bodies arrived on `path`; what arrived by then is returned.
    pub async fn wait(&self, path: &str, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let got: Vec<Value> =
                self.hits.lock().unwrap().iter().filter(|(p, _)| p == path).map(|(_, v)| v.clone()).collect();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.hits.lock().unwrap().iter().filter(|(p, _)| p == path).map(|(_, v)| v.clone()).collect()
    }
}

/// An outgoing integration for `event` in `channel`, posting to `url`.
pub async fn outgoing(admin: &Client, url: String, event: &str, channel: &str) {
    let body = json!({
        "type": "webhook-outgoing", "name": event, "enabled": true, "username": "rocket.cat",
        "event": event, "channel": channel, "urls": [url], "scriptEnabled": false, "token": "tok",
    });
    let (status, created) = admin.post("integrations.create", body).await;
    assert_eq!(status, 200, "{created}");
}
