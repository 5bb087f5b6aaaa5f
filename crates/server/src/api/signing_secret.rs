//! `POST /api/v1/integrations.outgoing.setSigningSecret` (Liftoff's own): sets or, with an
//! empty `secret`, removes the signing secret of an outgoing integration. Rocket.Chat has no
//! such field, so it lives beside the integration's other fields as `signingSecret` and is
//! kept by `integrations.update`.

use super::docs::Routes;
use super::validation::schema::Ty;
use crate::domain::integration_kinds::OUTGOING;
use crate::domain::integration_kinds::creator;
use crate::domain::str_of;
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Body, Caller};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};

pub fn routes() -> Routes {
    Routes::new()
        .post("/integrations.outgoing.setSigningSecret", set_signing_secret)
        .summary("Set the secret outgoing deliveries are signed with")
        .body(&[("secret", Ty::Str)])
}

async fn set_signing_secret(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let Some(Value::String(id)) = body.get("integrationId").filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
    else {
        return Err(ApiError::invalid_params_typed("must have required property 'integrationId'"));
    };
    let Some(Value::String(secret)) = body.get("secret") else {
        return Err(ApiError::invalid_params_typed("must have required property 'secret'"));
    };
    let details = || json!({"method": "setSigningSecret"});
    let grants = state.grants(&caller.user);
    if !grants.all_out && !grants.own_out {
        return Err(ApiError::meteor_details("not_authorized", "Unauthorized", details()));
    }
    let mut integration = state
        .store()
        .integration_by_id(id)
        .await?
        .filter(|i| str_of(i, "type") == OUTGOING)
        .filter(|i| grants.all_out || creator(i) == Some(caller.id.as_str()))
        .ok_or_else(|| ApiError::meteor_details("error-invalid-integration", "Invalid integration", details()))?;
    if secret.is_empty() {
        integration.remove("signingSecret");
    } else {
        integration.insert("signingSecret".into(), json!(secret));
    }
    integration.insert("_updatedAt".into(), json!(store::ids::now_iso()));
    state.store().replace_integration(integration).await?;
    state.integrations.invalidate(id);
    Ok(success(json!({})))
}
