//! A hook for whoever wants to watch commits (the server's metrics), so the store itself
//! depends on no metrics library.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Called after each committed transaction with how many writes it held and how long it took.
pub type CommitObserver = Arc<dyn Fn(usize, Duration) + Send + Sync>;

/// Where a backend keeps its observer: set once, shared with the threads that commit.
#[derive(Clone, Default)]
pub(crate) struct CommitObserverSlot(Arc<OnceLock<CommitObserver>>);

impl CommitObserverSlot {
    /// The first observer set stays.
    pub fn set(&self, observer: CommitObserver) {
        let _ = self.0.set(observer);
    }

    /// Reports a transaction of `writes` begun at `started`.
    pub fn committed(&self, writes: usize, started: Instant) {
        if let Some(observe) = self.0.get() {
            observe(writes, started.elapsed());
        }
    }
}
