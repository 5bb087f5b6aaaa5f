//! `licenses.info`: Liftoff is the community edition and carries no enterprise license, which
//! clients read as "no license".

use crate::error::{ApiResult, success};
use crate::http::Caller;
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new().route("/licenses.info", get(info))
}

async fn info(State(_state): State<AppState>, _caller: Caller) -> ApiResult<Response> {
    Ok(success(json!({"license": {"activeModules": [], "limits": {}, "tags": [], "trial": false}})))
}
