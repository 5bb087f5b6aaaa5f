//! Operability: health probes for load balancers and orchestrators, request ids that tie
//! every log line of a request together, request spans that keep secrets out of logs, and
//! Prometheus metrics.

pub mod http_span;
pub mod metrics;
pub mod probes;
pub mod request_id;

use std::sync::atomic::{AtomicBool, Ordering};

/// Set once shutdown starts, so that `/readyz` turns away new traffic while in-flight requests
/// finish.
static SHUTTING_DOWN: AtomicBool = AtomicBool::new(false);

pub fn begin_shutdown() {
    SHUTTING_DOWN.store(true, Ordering::SeqCst);
}

pub fn shutting_down() -> bool {
    SHUTTING_DOWN.load(Ordering::SeqCst)
}
