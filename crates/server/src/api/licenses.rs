//! `licenses.info`: Liftoff is the community edition and carries no enterprise license, which
//! clients read as "no license".

use super::docs::Routes;
use crate::error::{ApiResult, success};
use crate::http::Caller;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::json;

pub fn routes() -> Routes {
    Routes::new().get("/licenses.info", info).summary("License information (none: the community edition)")
}

async fn info(State(_state): State<AppState>, _caller: Caller) -> ApiResult<Response> {
    Ok(success(json!({"license": {"activeModules": [], "limits": {}, "tags": [], "trial": false}})))
}
