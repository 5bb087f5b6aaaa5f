//! The incoming-webhook receiver: `/hooks/...`.

use crate::state::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}
