//! The self-documenting router and the OpenAPI document built from it.

pub mod openapi;
pub mod routes;
mod schemas;

pub use routes::{Answer, Method, Routes};

use crate::state::AppState;
use axum::Router;
use axum::http::header::CONTENT_TYPE;
use std::sync::{Arc, OnceLock};

/// Where the document is served (Rocket.Chat serves its own there).
pub const DOCUMENT_PATH: &str = "/api/docs/json";

/// The router of `routes` plus `GET /api/docs/json`, whose document lists them and itself.
pub fn with_document(routes: Routes) -> Router<AppState> {
    let document: Arc<OnceLock<String>> = Arc::default();
    let served = document.clone();
    let routes = routes
        .get(DOCUMENT_PATH, move || {
            let body = served.get().cloned().unwrap_or_default();
            async move { ([(CONTENT_TYPE, "application/json")], body) }
        })
        .summary("This OpenAPI 3.1 document")
        .answers(Answer::Object)
        .only_errors(&[]);
    let json = openapi::document(routes.docs()).to_json().expect("the document serializes");
    document.set(json).expect("set once");
    routes.into_parts().0
}
