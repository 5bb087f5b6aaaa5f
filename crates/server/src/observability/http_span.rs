//! The span the trace layer opens for each request: method and path, without the query string
//! and with the token of `/hooks/...` paths hidden, since a hook URL carries its secret.

use axum::http::Request;
use std::borrow::Cow;
use tracing::Span;

pub fn make_span<B>(req: &Request<B>) -> Span {
    tracing::debug_span!("http", method = %req.method(), path = %loggable_path(req.uri().path()))
}

/// The path with the last segment of a hook path (its token) replaced by `***`.
pub fn loggable_path(path: &str) -> Cow<'_, str> {
    let Some(rest) = path.strip_prefix("/hooks/") else { return Cow::Borrowed(path) };
    let rest = rest.trim_end_matches('/');
    match rest.rsplit_once('/') {
        Some((head, _token)) => Cow::Owned(format!("/hooks/{head}/***")),
        None => Cow::Borrowed(path),
    }
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn hook_tokens_are_hidden() {
        assert_eq!(loggable_path("/hooks/abc/s3cret"), "/hooks/abc/***");
        assert_eq!(loggable_path("/hooks/abc/user/s3cret/"), "/hooks/abc/user/***");
        assert_eq!(loggable_path("/hooks/sample/abc/s3cret"), "/hooks/sample/abc/***");
        assert_eq!(loggable_path("/hooks/abc"), "/hooks/abc");
        assert_eq!(loggable_path("/api/v1/chat.postMessage"), "/api/v1/chat.postMessage");
    }
}
