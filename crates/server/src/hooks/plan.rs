//! What a hook call needs besides its body, kept in memory per integration: the post-as user
//! and the resolved default destinations (`integration.channel`), so that a call to a hook
//! that posts where it is configured to does no store read before its one write.
//!
//! An entry belongs to one version of the integration (`_updatedAt`: any change through the
//! API starts a new one) and lives at most `Integrations_Hooks_Cache_TTL` ms (default 500;
//! 0 switches the cache off), which bounds how long a change made elsewhere (the post-as user
//! deleted or its roles changed, a destination room deleted or made read-only) can go
//! unnoticed. What can change per call is still checked per call: message size, impersonation
//! (`message-impersonate` from the cached user's roles) and room access, which for private
//! rooms reads the subscription each time.

use crate::domain::str_of;
use crate::scripts::version;
use crate::settings::Settings;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use store::Doc;

pub const DEFAULT_TTL_MS: i64 = 500;
const MAX_ENTRIES: usize = 100_000;

pub struct Plan {
    version: String,
    created: Instant,
    pub user: Arc<Doc>,
    /// The integration's destinations, resolved (public channels joined) for `user`.
    pub rooms: Option<Arc<Vec<Doc>>>,
}

/// Plans by integration id; the application state owns one.
#[derive(Default)]
pub struct PlanCache {
    plans: RwLock<HashMap<String, Arc<Plan>>>,
}

fn ttl(settings: &Settings) -> Option<Duration> {
    let ms = match settings.get("Integrations_Hooks_Cache_TTL") {
        None => DEFAULT_TTL_MS,
        Some(_) => settings.int("Integrations_Hooks_Cache_TTL"),
    };
    (ms > 0).then(|| Duration::from_millis(ms as u64))
}

fn same_version(plan: &Plan, integration: &Doc) -> bool {
    match integration.get("_updatedAt") {
        Some(serde_json::Value::String(s)) => *s == plan.version,
        _ => plan.version == version(integration),
    }
}

impl PlanCache {
    /// The current plan of an integration, if there is one.
    pub fn get(&self, settings: &Settings, integration: &Doc) -> Option<Arc<Plan>> {
        let ttl = ttl(settings)?;
        let plan = self.plans.read().expect("hook plan lock").get(str_of(integration, "_id")).cloned()?;
        (plan.created.elapsed() < ttl && same_version(&plan, integration)).then_some(plan)
    }

    /// Records the post-as user just read.
    pub fn put_user(&self, settings: &Settings, integration: &Doc, user: Arc<Doc>) {
        if ttl(settings).is_some() {
            self.insert(
                integration,
                Plan { version: version(integration), created: Instant::now(), user, rooms: None },
            );
        }
    }

    /// Adds the resolved destinations to a plan; the entry keeps the age of its user.
    pub fn put_rooms(&self, integration: &Doc, plan: &Plan, rooms: Vec<Doc>) {
        let with_rooms = Plan {
            version: plan.version.clone(),
            created: plan.created,
            user: plan.user.clone(),
            rooms: Some(Arc::new(rooms)),
        };
        self.insert(integration, with_rooms);
    }

    /// Drops every plan (a change made on another node may touch any of them).
    pub fn clear(&self) {
        self.plans.write().expect("hook plan lock").clear();
    }

    fn insert(&self, integration: &Doc, plan: Plan) {
        let mut map = self.plans.write().expect("hook plan lock");
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(str_of(integration, "_id").to_owned(), Arc::new(plan));
    }
}
