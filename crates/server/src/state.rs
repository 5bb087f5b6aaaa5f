//! The state every handler shares. It holds only types from modules that do not need the
//! state themselves, so every dependency on it runs one way.

use crate::config::Config;
use crate::domain::events::EventSink;
use crate::error::{ApiError, ApiResult};
use crate::permissions::{Grants, Permissions};
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
    /// Outgoing webhooks: integration index, delivery lanes, HTTP clients; the event sink.
    pub outgoing: crate::outgoing::engine::Outgoing,
    /// What incoming hook calls keep in memory per integration.
    pub hook_plans: crate::hooks::plan::PlanCache,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// A handle that does not keep the state alive (for objects the state itself owns).
#[derive(Clone)]
pub struct WeakState(std::sync::Weak<Inner>);

impl WeakState {
    pub fn upgrade(&self) -> Option<AppState> {
        self.0.upgrade().map(AppState)
    }
}

impl AppState {
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }

    pub fn downgrade(&self) -> WeakState {
        WeakState(Arc::downgrade(&self.0))
    }

    pub fn store(&self) -> &dyn Store {
        &*self.0.store
    }

    /// Where the domain raises events.
    pub fn events(&self) -> &dyn EventSink {
        &self.0.outgoing
    }

    /// Global roles of a user document.
    pub fn user_roles(user: &Doc) -> Vec<String> {
        crate::domain::strings(user.get("roles"))
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

    /// The user's four integration permissions.
    pub fn grants(&self, user: &Doc) -> Grants {
        Grants::of(&self.permissions, &Self::user_roles(user))
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
