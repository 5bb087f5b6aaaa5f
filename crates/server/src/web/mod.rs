//! The admin web page: static files compiled into the binary and served with a strict
//! Content-Security-Policy. Every `/admin/...` path answers with the same shell, and the page
//! routes on the client; it talks to the server only through the public REST API.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

/// The page's only sources are this origin: no inline script or style, no frames, no plugins.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
                   frame-ancestors 'none'";

const SHELL: &str = include_str!("../../web/index.html");
const FAVICON: &[u8] = include_bytes!("../../web/favicon.ico");

/// Files under `/admin-assets/`: name, content type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("app.css", "text/css; charset=utf-8", include_bytes!("../../web/app.css")),
    ("api.js", JS, include_bytes!("../../web/api.js")),
    ("main.js", JS, include_bytes!("../../web/main.js")),
    ("ui.js", JS, include_bytes!("../../web/ui.js")),
    ("login.js", JS, include_bytes!("../../web/login.js")),
    ("list.js", JS, include_bytes!("../../web/list.js")),
    ("incoming.js", JS, include_bytes!("../../web/incoming.js")),
    ("outgoing.js", JS, include_bytes!("../../web/outgoing.js")),
    ("history.js", JS, include_bytes!("../../web/history.js")),
    ("editor.js", JS, include_bytes!("../../web/editor.js")),
    ("vendor/htm-preact.js", JS, include_bytes!("../../web/vendor/htm-preact.js")),
];
const JS: &str = "text/javascript; charset=utf-8";

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/admin/integrations") }))
        .route("/admin", get(shell))
        .route("/admin/", get(shell))
        .route("/admin/{*path}", get(shell))
        .route("/admin-assets/{*file}", get(asset))
        .route("/favicon.ico", get(|| async { file("image/x-icon", FAVICON) }))
}

async fn shell() -> Response {
    file("text/html; charset=utf-8", SHELL.as_bytes())
}

async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, bytes)) => file(content_type, bytes),
        None => (StatusCode::NOT_FOUND, "Not found").into_response(),
    }
}

/// One static file with the page's security headers. `no-cache` makes the browser revalidate,
/// so a new binary's page is never mixed with an old one's modules.
fn file(content_type: &'static str, bytes: &'static [u8]) -> Response {
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}
