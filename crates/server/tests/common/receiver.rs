//! A scriptable HTTP receiver on loopback: records every hit and answers from a per-path script.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub content_type: &'static str,
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, v: Value) -> Self {
        Reply { status, body: v.to_string(), content_type: "application/json", delay: Duration::ZERO }
    }
    pub fn text(status: u16, s: &str) -> Self {
        Reply { status, body: s.into(), content_type: "text/plain", delay: Duration::ZERO }
    }
    pub fn empty(status: u16) -> Self {
        Self::text(status, "")
    }
    pub fn after(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
}

#[derive(Clone, Debug)]
pub struct Hit {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub raw: String,
    pub body: Value,
    pub at: Instant,
}

#[derive(Default)]
struct Inner {
    hits: Mutex<Vec<Hit>>,
    script: Mutex<HashMap<String, VecDeque<Reply>>>,
    /// Per path: how many attempts of each delivery fail, and with what.
    failing_attempts: Mutex<HashMap<String, (usize, Reply)>>,
}

#[derive(Clone)]
pub struct Receiver {
    pub base: String,
    inner: Arc<Inner>,
}

async fn handle(State(inner): State<Arc<Inner>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_owned();
    let raw = String::from_utf8_lossy(&body).into_owned();
    let hit = Hit {
        path: path.clone(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        body: serde_json::from_str(&raw).unwrap_or(Value::Null),
        raw,
        at: Instant::now(),
    };
    let delivery = hit.headers.get("webhook-id").cloned();
    let earlier_attempts = {
        let mut hits = inner.hits.lock().unwrap();
        let n = hits.iter().filter(|h| h.path == path && h.headers.get("webhook-id") == delivery.as_ref()).count();
        hits.push(hit);
        n
    };
    let failing = inner.failing_attempts.lock().unwrap().get(&path).cloned();
    let reply = if let Some((_, reply)) = failing.filter(|(n, _)| earlier_attempts < *n) {
        reply
    } else {
        let mut script = inner.script.lock().unwrap();
        match script.get_mut(&path) {
            Some(q) if q.len() > 1 => q.pop_front().unwrap(),
            Some(q) if q.len() == 1 => q[0].clone(),
            _ => Reply::empty(200),
        }
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let status = StatusCode::from_u16(reply.status).unwrap();
    (status, [("content-type", reply.content_type)], reply.body).into_response()
}

impl Receiver {
    pub async fn start() -> Self {
        Self::start_at("127.0.0.1:0").await
    }

    /// A receiver on a given address, e.g. one that was down so far (see [`unused_address`]).
    pub async fn start_at(address: &str) -> Self {
        let inner = Arc::new(Inner::default());
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind(address).await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { base, inner }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The first `n` attempts of each delivery to `path` (told apart by `webhook-id`) get
    /// `reply`; later ones are answered as usual.
    pub fn fail_first_attempts(&self, path: &str, n: usize, reply: Reply) {
        self.inner.failing_attempts.lock().unwrap().insert(path.to_owned(), (n, reply));
    }

    /// Answers for `path`, in order; the last one is repeated.
    pub fn reply(&self, path: &str, replies: Vec<Reply>) {
        self.inner.script.lock().unwrap().insert(path.to_owned(), replies.into());
    }

    pub fn hits(&self, path: &str) -> Vec<Hit> {
        self.inner.hits.lock().unwrap().iter().filter(|h| h.path == path).cloned().collect()
    }

    /// Waits until `path` got at least `n` hits (panics after `timeout`).
    pub async fn wait(&self, path: &str, n: usize, timeout: Duration) -> Vec<Hit> {
        let start = Instant::now();
        loop {
            let hits = self.hits(path);
            if hits.len() >= n {
                return hits;
            }
            assert!(start.elapsed() < timeout, "{path}: {} of {n} hits after {timeout:?}", hits.len());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The JSON bodies `path` received, once there are at least `n` (panics after 10 s).
    pub async fn bodies(&self, path: &str, n: usize) -> Vec<Value> {
        self.wait(path, n, Duration::from_secs(10)).await.into_iter().map(|h| h.body).collect()
    }
}

/// A loopback address nothing listens on (yet): calls to it are refused.
pub fn unused_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// An outgoing integration for `event` in `channel`, posting to `url`.
pub async fn outgoing(admin: &super::Client, url: String, event: &str, channel: &str) {
    let body = serde_json::json!({
        "type": "webhook-outgoing", "name": event, "enabled": true, "username": "rocket.cat",
        "event": event, "channel": channel, "urls": [url], "scriptEnabled": false, "token": "tok",
    });
    let (status, created) = admin.post("integrations.create", body).await;
    assert_eq!(status, 200, "{created}");
}
