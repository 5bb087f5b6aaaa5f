//! Keeps this node's caches in step with changes made by other nodes sharing the database:
//! each announced change drops what it touches, and a slow timer drops everything as a
//! bound on how stale a cache can get should a notification ever be missed.

use crate::state::AppState;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// The fallback: caches are never older than this even if notifications were lost.
const FALLBACK: Duration = Duration::from_secs(10);

/// Starts following the store's change feed, when it has one (several nodes may share it).
pub fn start(state: &AppState) {
    let Some(mut changes) = state.store.changes() else {
        return;
    };
    let state = state.clone();
    tokio::spawn(async move {
        let mut fallback = tokio::time::interval(FALLBACK);
        fallback.tick().await;
        loop {
            let kind = tokio::select! {
                received = changes.recv() => match received {
                    Ok(kind) => kind,
                    Err(RecvError::Lagged(_)) => "*".to_owned(),
                    Err(RecvError::Closed) => return,
                },
                _ = fallback.tick() => "*".to_owned(),
            };
            drop_cached(&state, &kind).await;
        }
    });
}

async fn drop_cached(state: &AppState, kind: &str) {
    let all = kind == "*";
    if all || kind == "integrations" {
        state.integrations.clear();
    }
    // Hook plans hold post-as users and resolved rooms: any of these changes may stale them.
    if matches!(kind, "*" | "integrations" | "users" | "rooms") {
        state.hook_plans.clear();
    }
    if (all || kind == "permissions")
        && let Err(e) = state.permissions.reload(state.store()).await
    {
        tracing::warn!(error = %e, "reloading permissions after a change on another node failed");
    }
}
