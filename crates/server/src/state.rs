//! The state every handler shares.

use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::permissions::Permissions;
use crate::ratelimit::RateLimiter;
use crate::settings::Settings;
use std::ops::Deref;
use std::sync::Arc;
use store::{Doc, Store};

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub settings: Settings,
    pub permissions: Permissions,
    pub config: Config,
    /// Public base URL (no trailing slash).
    pub root_url: String,
    pub rate_limiter: RateLimiter,
    /// The sandbox that runs integration scripts.
    pub scripts: script::ScriptHost,
    /// `DISABLE_INTEGRATION_SCRIPTS` / `FREEZE_INTEGRATION_SCRIPTS`.
    pub script_policy: crate::scripts::ScriptPolicy,
    pub integrations: crate::integration_cache::IntegrationCache,
    /// Outgoing webhooks: integration index, delivery dispatcher, HTTP clients.
    pub outgoing: crate::outgoing::Outgoing,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }

    pub fn store(&self) -> &dyn Store {
        &*self.0.store
    }

    /// Global roles of a user document.
    pub fn user_roles(user: &Doc) -> Vec<String> {
        user.get("roles")
            .and_then(|r| r.as_array())
            .map(|r| r.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }

    pub fn has_permission(&self, user: &Doc, permission: &str) -> bool {
        self.permissions.granted(&Self::user_roles(user), permission)
    }

    /// `hasPermission(uid, perm, rid)`: global roles plus the roles of the user's subscription.
    pub async fn has_permission_in_room(&self, user: &Doc, permission: &str, rid: &str) -> ApiResult<bool> {
        let mut roles = Self::user_roles(user);
        if self.permissions.granted(&roles, permission) {
            return Ok(true);
        }
        let uid = user.get("_id").and_then(|v| v.as_str()).unwrap_or_default();
        if let Some(sub) = self.store().subscription(rid, uid).await? {
            roles.extend(Self::user_roles(&sub));
        }
        Ok(self.permissions.granted(&roles, permission))
    }

    pub fn require(&self, user: &Doc, permission: &str) -> ApiResult<()> {
        if self.has_permission(user, permission) { Ok(()) } else { Err(ApiError::permission_required()) }
    }

    pub fn require_any(&self, user: &Doc, permissions: &[&str]) -> ApiResult<()> {
        if permissions.iter().any(|p| self.has_permission(user, p)) {
            Ok(())
        } else {
            Err(ApiError::permission_required())
        }
    }
}
