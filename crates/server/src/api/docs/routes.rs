//! A router that documents itself. Every route is registered with its path, method and handler
//! in one call, which adds the axum route and records a [`RouteDoc`] beside it; the OpenAPI
//! document is built from those records, so a served route cannot be missing from it.
//!
//! What the handler needs is read from its extractor types (a `Caller` means authentication is
//! required, a `Body` means a request body, ...); the builder methods after a registration
//! (`summary`, `query`, `body`, ...) describe that last route further.

use crate::api::validation::schema::{Branch, Ty};
use crate::state::AppState;
use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodFilter, on};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
}

impl Method {
    fn filter(self) -> MethodFilter {
        match self {
            Method::Get => MethodFilter::GET,
            Method::Post => MethodFilter::POST,
            Method::Put => MethodFilter::PUT,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// `X-User-Id` + `X-Auth-Token` must name a logged-in user (401 otherwise).
    Required,
    /// Used when given, never refused.
    Optional,
    None,
}

/// The shape of a successful answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// `API.v1.success`: an object with `success: true`.
    Success,
    /// Any JSON object.
    Object,
    /// Any JSON value (a webhook script may answer with anything).
    Json,
    /// `{status: "ok"}` (probes).
    Status,
}

/// What the document says about one registration.
#[derive(Clone)]
pub struct RouteDoc {
    /// The path as axum matches it, `{name}` for a parameter.
    pub path: String,
    /// The methods and paths the document lists instead of `methods` on `path` (for a
    /// `{*wildcard}` route).
    pub documented_paths: Vec<(Vec<Method>, String)>,
    pub methods: Vec<Method>,
    pub summary: Option<String>,
    pub auth: Auth,
    pub reads_body: bool,
    pub query: Vec<(&'static str, Ty)>,
    pub body: Vec<(&'static str, Ty)>,
    /// A body that must match exactly one of these (Rocket.Chat's ajv `oneOf`).
    pub body_one_of: Vec<&'static Branch>,
    pub answer: Answer,
    /// Error statuses the route can answer with.
    pub errors: Vec<u16>,
}

impl RouteDoc {
    fn new(path: &str, methods: &[Method], extractors: &str) -> Self {
        let auth = auth_of(extractors);
        let reads_body = has_extractor(extractors, "Body");
        let mut errors = vec![400, 404, 503];
        match auth {
            Auth::Required => errors.extend([401, 403]),
            Auth::Optional => errors.push(403),
            Auth::None => {}
        }
        if reads_body {
            errors.push(413);
        }
        RouteDoc {
            path: path.to_owned(),
            documented_paths: Vec::new(),
            methods: methods.to_vec(),
            summary: None,
            auth,
            reads_body,
            query: Vec::new(),
            body: Vec::new(),
            body_one_of: Vec::new(),
            answer: Answer::Success,
            errors,
        }
    }

    /// The methods and paths this route is listed under.
    pub fn operations(&self) -> Vec<(Vec<Method>, String)> {
        if self.documented_paths.is_empty() {
            vec![(self.methods.clone(), self.path.clone())]
        } else {
            self.documented_paths.clone()
        }
    }
}

/// Whether the handler's extractor list (its `type_name`) has `crate::http::<name>`.
fn has_extractor(extractors: &str, name: &str) -> bool {
    extractors
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .any(|path| path.strip_suffix(name).is_some_and(|module| module.ends_with("::http::") || module == "http::"))
}

fn auth_of(extractors: &str) -> Auth {
    if has_extractor(extractors, "Caller") {
        Auth::Required
    } else if has_extractor(extractors, "MaybeCaller") {
        Auth::Optional
    } else {
        Auth::None
    }
}

fn add_errors(errors: &mut Vec<u16>, statuses: &[u16]) {
    for status in statuses {
        if !errors.contains(status) {
            errors.push(*status);
        }
    }
}

/// An axum router and the description of each of its routes.
pub struct Routes {
    router: Router<AppState>,
    docs: Vec<RouteDoc>,
}

impl Default for Routes {
    fn default() -> Self {
        Self::new()
    }
}

impl Routes {
    pub fn new() -> Self {
        Routes { router: Router::new(), docs: Vec::new() }
    }

    /// Registers `handler` for `methods` on `path` and records its description.
    pub fn route<H, T>(mut self, methods: &[Method], path: &str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = methods.iter().map(|m| m.filter()).reduce(MethodFilter::or).expect("at least one method");
        self.router = self.router.route(path, on(filter, handler));
        self.docs.push(RouteDoc::new(path, methods, std::any::type_name::<T>()));
        self
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.route(&[Method::Get], path, handler)
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.route(&[Method::Post], path, handler)
    }

    pub fn put<H: Handler<T, AppState>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.route(&[Method::Put], path, handler)
    }

    fn last(&mut self) -> &mut RouteDoc {
        self.docs.last_mut().expect("describe a route after registering it")
    }

    /// One line saying what the last route does.
    pub fn summary(mut self, summary: impl Into<String>) -> Self {
        self.last().summary = Some(summary.into());
        self
    }

    /// Query parameters of the last route.
    pub fn query(mut self, fields: &[(&'static str, Ty)]) -> Self {
        self.last().query.extend_from_slice(fields);
        self
    }

    /// Known body fields of the last route (others may be accepted too).
    pub fn body(mut self, fields: &[(&'static str, Ty)]) -> Self {
        self.last().body.extend_from_slice(fields);
        self
    }

    pub fn body_one_of(mut self, branches: &[&'static Branch]) -> Self {
        self.last().body_one_of.extend_from_slice(branches);
        self
    }

    pub fn answers(mut self, answer: Answer) -> Self {
        self.last().answer = answer;
        self
    }

    /// More error statuses of the last route than its extractors imply.
    pub fn errors(mut self, statuses: &[u16]) -> Self {
        add_errors(&mut self.last().errors, statuses);
        self
    }

    /// Only these statuses, for routes outside the REST envelope (probes).
    pub fn only_errors(mut self, statuses: &[u16]) -> Self {
        self.last().errors = statuses.to_vec();
        self
    }

    /// The methods and paths the document lists for the last (wildcard) route.
    pub fn documented_as(mut self, paths: &[(&[Method], &str)]) -> Self {
        self.last().documented_paths = paths.iter().map(|(m, p)| (m.to_vec(), (*p).to_owned())).collect();
        self
    }

    /// The last route reads its body itself (not through the `Body` extractor).
    pub fn accepts_body(mut self) -> Self {
        self.last().reads_body = true;
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.docs.extend(other.docs);
        self
    }

    pub fn nest(mut self, prefix: &str, other: Routes) -> Self {
        self.router = self.router.nest(prefix, other.router);
        self.docs.extend(other.docs.into_iter().map(|mut d| {
            d.path = format!("{prefix}{}", d.path);
            for (_, p) in &mut d.documented_paths {
                *p = format!("{prefix}{p}");
            }
            d
        }));
        self
    }

    /// Wraps the router (layers) without changing the routes; `statuses` are the errors the
    /// wrapping adds to every route (e.g. 429 from a rate limiter).
    pub fn wrap(mut self, statuses: &[u16], f: impl FnOnce(Router<AppState>) -> Router<AppState>) -> Self {
        self.router = f(self.router);
        for doc in &mut self.docs {
            add_errors(&mut doc.errors, statuses);
        }
        self
    }

    pub fn docs(&self) -> &[RouteDoc] {
        &self.docs
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<RouteDoc>) {
        (self.router, self.docs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Body, Caller, MaybeCaller, Query};
    use axum::extract::State;

    fn extractors<H: Handler<T, AppState>, T: 'static>(_: H) -> &'static str {
        std::any::type_name::<T>()
    }

    #[test]
    fn reads_what_a_handler_needs_from_its_extractors() {
        let caller_body = extractors(|_: State<AppState>, _: Caller, _: Body| async {});
        assert_eq!(auth_of(caller_body), Auth::Required, "{caller_body}");
        assert!(has_extractor(caller_body, "Body"));
        let maybe = extractors(|_: MaybeCaller, _: Query| async {});
        assert_eq!(auth_of(maybe), Auth::Optional, "{maybe}");
        assert!(!has_extractor(maybe, "Body"));
        assert_eq!(auth_of(extractors(|| async {})), Auth::None);
    }
}
