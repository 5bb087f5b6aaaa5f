//! `GET /livez` (the process answers) and `GET /readyz` (the database answers and the server is
//! not shutting down). Both need no authentication and do no more than one primary-key read.

use crate::api::docs::{Answer, Routes};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::time::Duration;

/// How long `/readyz` waits for the database before calling it unavailable.
const DATABASE_DEADLINE: Duration = Duration::from_secs(2);

pub fn routes() -> Routes {
    Routes::new()
        .get("/livez", livez)
        .summary("The process answers")
        .answers(Answer::Status)
        .only_errors(&[])
        .get("/readyz", readyz)
        .summary("The database answers and the server is not shutting down")
        .answers(Answer::Status)
        .only_errors(&[503])
}

async fn livez() -> Response {
    (StatusCode::OK, Json(json!({"status": "ok"}))).into_response()
}

fn unavailable(reason: String) -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "unavailable", "reason": reason}))).into_response()
}

/// Migrations run before the server listens, so a server that answers has applied them; what
/// is left to check is that the database still answers.
async fn readyz(State(state): State<AppState>) -> Response {
    if super::shutting_down() {
        return unavailable("shutting down".into());
    }
    match tokio::time::timeout(DATABASE_DEADLINE, state.store().user_by_id("rocket.cat")).await {
        Ok(Ok(_)) => (StatusCode::OK, Json(json!({"status": "ok"}))).into_response(),
        Ok(Err(e)) => unavailable(format!("database: {e}")),
        Err(_) => unavailable(format!("database did not answer within {} s", DATABASE_DEADLINE.as_secs())),
    }
}
