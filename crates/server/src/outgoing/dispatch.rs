//! The dispatcher: claims due deliveries lane by lane and runs each attempt on its own task.
//! It sleeps until a lane is due or it is woken by a new delivery or a finished call.

use super::attempt::{Finish, attempt};
use crate::state::AppState;
use std::sync::Arc;
use std::time::Duration;
use store::ids::now_ms;
use store::{AttemptRecord, Delivery};
use tokio::sync::Semaphore;

/// Longest idle sleep of the dispatcher (a safety net; it is normally woken).
const IDLE: Duration = Duration::from_secs(1);
/// How often (ms) a node sharing its database looks for deliveries it was not told about.
const SHARED_POLL_MS: i64 = 250;

/// Starts the dispatcher, the attempt recorder and the history pruner under the supervisor.
pub fn start(state: &AppState) {
    let s = state.clone();
    crate::supervisor::supervise("outgoing dispatcher", move || run(s.clone()));
    let s = state.clone();
    crate::supervisor::supervise("outgoing recorder", move || {
        let s = s.clone();
        async move { s.outgoing.recorder.run(s.store.clone()).await }
    });
    let s = state.clone();
    crate::supervisor::supervise("outgoing history pruning", move || super::history::prune_loop(s.clone()));
}

/// The dispatcher loop; runs for the life of the process.
pub async fn run(state: AppState) {
    let store = state.store.clone();
    let dispatcher = &state.outgoing.dispatcher;
    // Claims of a previous process are void: its attempts died with it.
    match store.release_claimed_deliveries().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(released = n, "released deliveries claimed before the restart"),
        Err(e) => tracing::error!(error = %e, "releasing claimed deliveries failed"),
    }
    match store.pending_delivery_urls().await {
        Ok(urls) => {
            for (url, due) in urls {
                dispatcher.due(&url, due);
            }
        }
        Err(e) => tracing::error!(error = %e, "reading pending deliveries failed"),
    }
    let mut last_poll = now_ms();
    loop {
        let per_url = state.settings.int("Integrations_Outgoing_Max_Concurrency_Per_Url").max(1) as usize;
        let now = now_ms();
        if store.shared() && now - last_poll >= SHARED_POLL_MS {
            // Other nodes enqueue deliveries too, and claims of a node that died come free
            // when their lease runs out: look at the shared outbox now and then.
            last_poll = now;
            if let Ok(urls) = store.pending_delivery_urls().await {
                for (url, due) in urls {
                    dispatcher.due(&url, due);
                }
            }
        }
        let picks = match dispatcher.pick(now, per_url) {
            Ok(picks) => picks,
            Err(next) => {
                let idle = if store.shared() { Duration::from_millis(SHARED_POLL_MS as u64) } else { IDLE };
                let wait = next.map(|t| Duration::from_millis((t - now).max(1) as u64).min(idle)).unwrap_or(idle);
                dispatcher.sleep(wait).await;
                continue;
            }
        };
        let claimed = match store.claim_due_deliveries(picks.clone(), now).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "claiming deliveries failed");
                for (url, _) in &picks {
                    dispatcher.due(url, now + 1000);
                }
                tokio::time::sleep(IDLE).await;
                continue;
            }
        };
        for (calls, d) in dispatcher.claimed(claimed) {
            tokio::spawn(run_delivery(state.clone(), calls, d));
        }
    }
}

async fn run_delivery(state: AppState, calls: Arc<Semaphore>, d: Delivery) {
    let (id, url) = (d.id.clone(), d.url.clone());
    // The permit is held for the call only: the lane may start its next call while this
    // attempt is recorded (the row stays claimed until then, so nothing else picks it up).
    let finish = {
        let _permit = calls.acquire_owned().await;
        attempt(&state, d).await
    };
    crate::observability::metrics::delivery_finished(finish.outcome());
    let (reschedule, history) = match finish {
        Finish::Done(h) => (None, h),
        Finish::Retry { due_at, attempt, history } => (Some((due_at, attempt)), history),
    };
    let recorded = state.outgoing.recorder.record(AttemptRecord { id, reschedule, history }).await;
    if recorded && let Some((due_at, _)) = reschedule {
        state.outgoing.dispatcher.due(&url, due_at);
    }
    state.outgoing.dispatcher.finished(&url);
}
