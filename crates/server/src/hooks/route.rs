//! Which action a `/hooks/...` path names. The path is split by hand rather than
//! with overlapping router patterns so that `sample`/`info` win over an integration id in the
//! same position and every segment is URL-decoded the same way.

use axum::http::Method;
use percent_encoding::percent_decode_str;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `GET|POST /hooks/:integrationId[/:userId]/:token`
    Execute,
    /// `GET /hooks/sample/:integrationId[/:userId]/:token`
    Sample,
    /// `GET /hooks/info/:integrationId[/:userId]/:token`
    Info,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub action: Action,
    pub integration_id: String,
    /// The optional middle segment; Rocket.Chat ignores it.
    pub user_id: Option<String>,
    pub token: String,
}

fn decode(segment: &str) -> String {
    percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

/// `None` when the path names no hook route (→ 404 "Resource not found").
pub fn parse(method: &Method, path: &str) -> Option<Target> {
    let rest = path.strip_prefix("/hooks/")?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let segments: Vec<&str> = rest.split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return None;
    }
    let (action, ids) = match segments.first().copied() {
        Some("sample") if *method == Method::GET && matches!(segments.len(), 3 | 4) => (Action::Sample, &segments[1..]),
        Some("info") if *method == Method::GET && matches!(segments.len(), 3 | 4) => (Action::Info, &segments[1..]),
        _ => (Action::Execute, &segments[..]),
    };
    let (integration_id, user_id, token) = match ids {
        [id, token] => (decode(id), None, decode(token)),
        [id, user, token] => (decode(id), Some(decode(user)), decode(token)),
        _ => return None,
    };
    Some(Target { action, integration_id, user_id, token })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(action: Action, id: &str, user: Option<&str>, token: &str) -> Option<Target> {
        Some(Target { action, integration_id: id.into(), user_id: user.map(Into::into), token: token.into() })
    }

    #[test]
    fn paths() {
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(parse(&post, "/hooks/abc/tok"), t(Action::Execute, "abc", None, "tok"));
        assert_eq!(parse(&get, "/hooks/abc/u1/tok/"), t(Action::Execute, "abc", Some("u1"), "tok"));
        assert_eq!(parse(&post, "/hooks/abc/t%2Fok"), t(Action::Execute, "abc", None, "t/ok"));
        assert_eq!(parse(&get, "/hooks/sample/abc/tok"), t(Action::Sample, "abc", None, "tok"));
        assert_eq!(parse(&get, "/hooks/info/abc/u/tok"), t(Action::Info, "abc", Some("u"), "tok"));
        // POST to a sample path is an execute call of an integration named "sample".
        assert_eq!(parse(&post, "/hooks/sample/abc/tok"), t(Action::Execute, "sample", Some("abc"), "tok"));
        assert_eq!(parse(&get, "/hooks/abc"), None);
        assert_eq!(parse(&get, "/hooks/a/b/c/d"), None);
        assert_eq!(parse(&get, "/hooks/a//c"), None);
        assert_eq!(parse(&get, "/hooks/sample/a/b/c/d"), None);
    }
}
