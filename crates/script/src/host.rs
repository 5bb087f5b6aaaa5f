//! Async front end: a pool of dedicated OS threads owning cached sandboxes.

use std::borrow::Cow;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{mpsc, oneshot};

use crate::job::Job;
pub use crate::job::ScriptKey;
use crate::worker::{FetcherSlot, Worker};
use crate::{CallError, CallOutcome, Fetcher, Limits, MemoryStats, ScriptError};

/// Runs integration scripts off the async runtime.
///
/// Cheap to clone (`Arc` inside), `Send + Sync`. Owns `limits.workers`
/// dedicated threads; every call for one integration id goes to the same
/// thread (hash of the id), which keeps an LRU cache of sandboxes keyed by
/// integration id and checked against the version (and source text).
/// Dropping the last clone lets the threads finish their queues and exit.
#[derive(Clone)]
pub struct ScriptHost {
    inner: Arc<Inner>,
}

struct Inner {
    workers: Vec<mpsc::UnboundedSender<Job>>,
    fetcher: FetcherSlot,
    next_compile: AtomicUsize,
    limits: Limits,
    disabled: bool,
}

impl std::fmt::Debug for ScriptHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptHost")
            .field("workers", &self.inner.workers.len())
            .field("limits", &self.inner.limits)
            .field("disabled", &self.inner.disabled)
            .finish()
    }
}

impl ScriptHost {
    /// Start the worker threads. `workers` and `max_cached_contexts` are
    /// raised to at least 1.
    ///
    /// # Panics
    /// If the OS refuses to spawn a thread.
    pub fn new(limits: Limits) -> Self {
        Self::start(limits, false)
    }

    /// A host on which every [`ScriptHost::call`] fails with
    /// [`CallError::Disabled`] without running anything (Rocket.Chat's
    /// `DISABLE_INTEGRATION_SCRIPTS`); [`ScriptHost::compile`] still works.
    pub fn disabled(limits: Limits) -> Self {
        Self::start(Limits { workers: 1, ..limits }, true)
    }

    fn start(mut limits: Limits, disabled: bool) -> Self {
        limits.workers = limits.workers.max(1);
        limits.max_cached_contexts = limits.max_cached_contexts.max(1);
        let per_worker = limits.max_cached_contexts.div_ceil(limits.workers);
        // Room for the JS stack limit plus the Rust/C frames around it.
        let thread_stack = (limits.stack_bytes * 2).max(limits.stack_bytes + 4 * 1024 * 1024);
        let fetcher = FetcherSlot::default();
        let workers = (0..limits.workers)
            .map(|i| {
                let (tx, rx) = mpsc::unbounded_channel();
                let worker_limits = limits.clone();
                let worker_fetcher = fetcher.clone();
                std::thread::Builder::new()
                    .name(format!("script-worker-{i}"))
                    .stack_size(thread_stack)
                    .spawn(move || {
                        // Sandboxes are not `Send`: the worker lives and dies
                        // on its thread.
                        Worker::run(worker_limits, per_worker, worker_fetcher, rx)
                    })
                    .expect("spawn script worker thread");
                tx
            })
            .collect();
        ScriptHost { inner: Arc::new(Inner { workers, fetcher, next_compile: AtomicUsize::new(0), limits, disabled }) }
    }

    /// Lets scripts' `fetch` reach the network through `fetcher`. Until it is
    /// set (and if it is never set) every `fetch` rejects. Only the first
    /// fetcher set is kept; returns whether this one was.
    pub fn set_fetcher(&self, fetcher: Arc<dyn Fetcher>) -> bool {
        self.inner.fetcher.set(fetcher).is_ok()
    }

    /// The limits in force (after clamping).
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    fn worker_for(&self, integration_id: &str) -> &mpsc::UnboundedSender<Job> {
        let mut h = DefaultHasher::new();
        integration_id.hash(&mut h);
        let n = self.inner.workers.len();
        &self.inner.workers[(h.finish() % n as u64) as usize]
    }

    /// Call `method` on the integration's `Script` instance with `arg`
    /// (deep-copied as JSON; pass `{"request": ...}` as Rocket.Chat does).
    ///
    /// Builds (and caches) the integration's context first if there is none
    /// for `key`, or if the cached one is for another version or source.
    /// A load failure is cached too and returned as
    /// [`CallError::Evaluation`] until the version changes. After a limit
    /// error the context is dropped and rebuilt on the next call (its `Store`
    /// is lost). The deadline (`limits.timeout`) counts from the start of the
    /// call on its worker and covers the method, its promise and every fetch
    /// it awaits. Never
    /// blocks the calling thread, and a call awaiting a fetch does not hold
    /// up other calls.
    pub async fn call(
        &self,
        key: ScriptKey,
        source: Arc<str>,
        method: impl Into<Cow<'static, str>>,
        arg: serde_json::Value,
    ) -> Result<CallOutcome, CallError> {
        if self.inner.disabled {
            return Err(CallError::Disabled);
        }
        let json_arg = serde_json::to_string(&arg).map_err(|e| CallError::Internal(e.to_string()))?;
        let (reply, rx) = oneshot::channel();
        let job = Job::Call { source, method: method.into(), json_arg, reply, key };
        let worker = match &job {
            Job::Call { key, .. } => self.worker_for(&key.integration_id),
            _ => unreachable!(),
        };
        worker.send(job).map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Validate a script as [`crate::compile`] does, on one of the workers.
    pub async fn compile(&self, source: Arc<str>) -> Result<(), ScriptError> {
        let n = self.inner.next_compile.fetch_add(1, Ordering::Relaxed) % self.inner.workers.len();
        let (reply, rx) = oneshot::channel();
        let sent = self.inner.workers[n].send(Job::Compile { source, reply });
        let unavailable = || ScriptError::new("Error", "script host unavailable");
        sent.map_err(|_| unavailable())?;
        rx.await.map_err(|_| unavailable())?
    }

    /// Drop the cached context (and `Store`) of an integration, e.g. when it
    /// is deleted. Does not wait.
    pub fn forget(&self, integration_id: &str) {
        let _ = self.worker_for(integration_id).send(Job::Forget { integration_id: integration_id.to_owned() });
    }

    /// Memory statistics of an integration's cached context, if there is one.
    pub async fn memory_usage(&self, integration_id: &str) -> Option<MemoryStats> {
        let (reply, rx) = oneshot::channel();
        self.worker_for(integration_id).send(Job::Memory { integration_id: integration_id.to_owned(), reply }).ok()?;
        rx.await.ok().flatten()
    }
}

fn gone() -> CallError {
    CallError::Internal("script worker is gone".into())
}
