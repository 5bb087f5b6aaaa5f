//! Authentication of a hook call: the integration by id from the in-memory cache,
//! its token compared in constant time, then the post-as user.

use crate::domain::str_of;
use crate::error::ApiError;
use crate::state::AppState;
use std::sync::Arc;
use store::Doc;
use subtle::ConstantTimeEq;

pub const INVALID: &str = "Invalid integration id or token provided.";

fn invalid() -> ApiError {
    ApiError::NotFound(INVALID.into())
}

/// Whether `given` is the integration's token. The comparison takes the same time wherever the
/// first difference is; an integration without a token never matches.
pub fn token_matches(integration: &Doc, given: &str) -> bool {
    let stored = str_of(integration, "token");
    !stored.is_empty() && bool::from(stored.as_bytes().ct_eq(given.as_bytes()))
}

/// The incoming integration `id` if `token` is its token; 404 otherwise. Only
/// `webhook-incoming` integrations answer: an outgoing integration's token is sent to third
/// parties with every event and must not let them post.
pub async fn integration(state: &AppState, id: &str, token: &str) -> Result<Arc<Doc>, ApiError> {
    let found = state.integrations.get(state.store(), id).await?;
    match found {
        Some(doc) if str_of(&doc, "type") == "webhook-incoming" && token_matches(&doc, token) => Ok(doc),
        _ => Err(invalid()),
    }
}

/// The user the integration posts as (from the hook plan when it is fresh); 401 "You must be
/// logged in" when it no longer exists.
pub async fn post_as_user(state: &AppState, integration: &Doc) -> Result<Arc<Doc>, ApiError> {
    if let Some(plan) = state.hook_plans.get(&state.settings, integration) {
        return Ok(plan.user.clone());
    }
    let uid = str_of(integration, "userId");
    if uid.is_empty() {
        return Err(ApiError::NotLoggedIn);
    }
    let user = Arc::new(state.store().user_by_id(uid).await?.ok_or(ApiError::NotLoggedIn)?);
    state.hook_plans.put_user(&state.settings, integration, user.clone());
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens() {
        let doc = crate::domain::doc(json!({"token": "abc"}));
        assert!(token_matches(&doc, "abc"));
        assert!(!token_matches(&doc, "abd"));
        assert!(!token_matches(&doc, "ab"));
        assert!(!token_matches(&doc, ""));
        let empty = crate::domain::doc(json!({"token": ""}));
        assert!(!token_matches(&empty, ""));
        assert!(!token_matches(&crate::domain::doc(json!({})), ""));
    }
}
