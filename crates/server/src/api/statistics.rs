//! `statistics` and `statistics.list` (permission `view-statistics`).

use super::auth::COMPATIBLE_VERSION;
use super::docs::Routes;
use super::pagination::Page;
use crate::domain::statistics::statistics;
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Caller, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};

pub fn routes() -> Routes {
    Routes::new().get("/statistics", current).get("/statistics.list", list)
}

fn require_view(state: &AppState, caller: &Caller) -> ApiResult<()> {
    if state.has_permission(&caller.user, "view-statistics") {
        Ok(())
    } else {
        Err(ApiError::plain("error-not-allowed"))
    }
}

async fn current(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    require_view(&state, &caller)?;
    Ok(success(statistics(&state, COMPATIBLE_VERSION).await?))
}

/// Snapshots are not kept: the list holds the one taken now.
async fn list(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    require_view(&state, &caller)?;
    let page = Page::from_args(&state.settings, &q)?;
    let all: Vec<Value> = vec![statistics(&state, COMPATIBLE_VERSION).await?];
    let total = all.len();
    let items = page.slice(all);
    Ok(success(json!({"statistics": items, "count": items.len(), "offset": page.offset, "total": total})))
}
