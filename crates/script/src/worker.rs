//! One script worker thread: its LRU cache of sandboxes, the calls waiting on
//! fetches, and the fetches themselves.
//!
//! The thread runs a single-threaded tokio runtime. JavaScript runs only
//! inside an event (a new call, a fetch answer); between events the thread
//! waits, so a call awaiting a slow `fetch` never holds up the other calls of
//! the thread, including calls to the same integration.

use std::collections::{HashMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;

use crate::fetch::{FetchResponse, Fetcher, Requested};
use crate::job::{Job, ScriptKey};
use crate::sandbox::Step;
use crate::{CallError, CallOutcome, Limits, Sandbox, ScriptError};

type CallReply = oneshot::Sender<Result<CallOutcome, CallError>>;

/// Shared by the host and its workers; set once by the embedder.
pub(crate) type FetcherSlot = Arc<OnceLock<Arc<dyn Fetcher>>>;

struct Entry {
    version: String,
    source: Arc<str>,
    state: Result<Sandbox, ScriptError>,
    last_used: u64,
    /// Fetches in flight (id → task), at most `limits.max_concurrent_fetches`.
    running: HashMap<u64, AbortHandle>,
    /// Fetches waiting for a free slot.
    queued: VecDeque<Requested>,
}

/// A call whose promise waits on fetches.
struct Waiting {
    integration_id: String,
    deadline: Instant,
    reply: CallReply,
}

/// A fetch's answer, sent back to the thread by its task.
struct Answer {
    integration_id: String,
    fetch: u64,
    call: u64,
    result: Result<FetchResponse, String>,
}

pub(crate) struct Worker {
    cache: HashMap<String, Entry>,
    capacity: usize,
    tick: u64,
    limits: Limits,
    fetcher: FetcherSlot,
    waiting: HashMap<u64, Waiting>,
    next_call: u64,
    answers: mpsc::UnboundedSender<Answer>,
}

impl Worker {
    /// Serves `rx` until every sender is gone.
    pub(crate) fn run(limits: Limits, capacity: usize, fetcher: FetcherSlot, rx: mpsc::UnboundedReceiver<Job>) {
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("script worker runtime");
        let (answers, answers_rx) = mpsc::unbounded_channel();
        let mut worker = Worker {
            cache: HashMap::new(),
            capacity,
            tick: 0,
            limits,
            fetcher,
            waiting: HashMap::new(),
            next_call: 0,
            answers,
        };
        runtime.block_on(worker.serve(rx, answers_rx));
    }

    async fn serve(&mut self, mut jobs: mpsc::UnboundedReceiver<Job>, mut answers: mpsc::UnboundedReceiver<Answer>) {
        loop {
            let next = self.waiting.values().map(|w| w.deadline).min();
            let sleep = async {
                match next {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                _ = sleep => self.expire(Instant::now()),
                Some(answer) = answers.recv() => self.on_answer(answer),
                job = jobs.recv() => match job {
                    Some(job) => self.on_job(job),
                    None => break,
                },
            }
        }
    }

    fn on_job(&mut self, job: Job) {
        match job {
            Job::Call { key, source, method, json_arg, reply } => {
                if reply.is_closed() {
                    return; // the caller gave up while queued
                }
                self.call(key, &source, &method, &json_arg, reply);
            }
            Job::Compile { source, reply } => {
                let result = catch_unwind(AssertUnwindSafe(|| crate::compile(&source, &self.limits)));
                let result = result.unwrap_or_else(|panic| {
                    Err(ScriptError::new("Error", format!("panic while compiling: {}", panic_message(&panic))))
                });
                let _ = reply.send(result);
            }
            Job::Forget { integration_id } => self.remove(&integration_id),
            Job::Memory { integration_id, reply } => {
                let stats =
                    self.cache.get(&integration_id).and_then(|e| e.state.as_ref().ok()).map(|s| s.memory_usage());
                let _ = reply.send(stats);
            }
        }
    }

    fn call(&mut self, key: ScriptKey, source: &Arc<str>, method: &str, json_arg: &str, reply: CallReply) {
        self.tick += 1;
        let tick = self.tick;
        let id = &key.integration_id;
        let reusable = self.cache.get(id).is_some_and(|e| {
            e.version == key.version
                && (Arc::ptr_eq(&e.source, source) || *e.source == **source)
                && !matches!(&e.state, Ok(s) if s.is_poisoned())
        });
        if !reusable {
            // Free the old runtime before building its replacement.
            self.remove(id);
            self.evict_to(self.capacity - 1);
            let built = catch_unwind(AssertUnwindSafe(|| Sandbox::new(id, source, &self.limits)));
            let state = built.unwrap_or_else(|panic| {
                Err(ScriptError::new("Error", format!("panic while loading: {}", panic_message(&panic))))
            });
            if let Err(e) = &state {
                tracing::debug!(target: "script", integration_id = %id, error = %e, "script failed to load");
            }
            self.cache.insert(
                id.clone(),
                Entry {
                    version: key.version.clone(),
                    source: source.clone(),
                    state,
                    last_used: tick,
                    running: HashMap::new(),
                    queued: VecDeque::new(),
                },
            );
        }
        let entry = self.cache.get_mut(id).expect("just inserted");
        entry.last_used = tick;
        let sandbox = match &mut entry.state {
            Ok(s) => s,
            Err(e) => {
                let _ = reply.send(Err(CallError::Evaluation(e.clone())));
                return;
            }
        };
        self.next_call += 1;
        let call = self.next_call;
        // Loading had its own deadline; the call's starts now.
        let deadline = Instant::now() + self.limits.timeout;
        let step = catch_unwind(AssertUnwindSafe(|| sandbox.begin(call, method, json_arg, deadline)));
        match step {
            Ok(Step::Done(result)) => {
                let _ = reply.send(result);
            }
            Ok(Step::Pending) => {
                self.waiting.insert(call, Waiting { integration_id: id.clone(), deadline, reply });
            }
            Err(panic) => {
                let _ = reply.send(Err(panicked(&panic)));
                self.remove(id);
                return;
            }
        }
        self.after_step(id);
    }

    fn on_answer(&mut self, answer: Answer) {
        let Answer { integration_id: id, fetch, call, result } = answer;
        let Some(entry) = self.cache.get_mut(&id) else {
            return;
        };
        if entry.running.remove(&fetch).is_none() {
            return; // aborted: its call is gone
        }
        let Some(deadline) = self.waiting.get(&call).map(|w| w.deadline) else {
            self.after_step(&id);
            return;
        };
        if Instant::now() >= deadline {
            // Settling now would run the script past its deadline.
            self.expire(Instant::now());
            return;
        }
        let Some(Ok(sandbox)) = self.cache.get_mut(&id).map(|e| &mut e.state) else {
            return;
        };
        let done = catch_unwind(AssertUnwindSafe(|| sandbox.settle(fetch, call, result, deadline)));
        match done {
            Ok(done) => {
                for (call, result) in done {
                    if let Some(w) = self.waiting.remove(&call) {
                        let _ = w.reply.send(result);
                    }
                }
            }
            Err(panic) => {
                if let Some(w) = self.waiting.remove(&call) {
                    let _ = w.reply.send(Err(panicked(&panic)));
                }
                self.remove(&id);
                return;
            }
        }
        self.after_step(&id);
    }

    /// After JavaScript ran in `id`'s sandbox: drop it if it hit a limit,
    /// else start the fetches it asked for (as slots allow).
    fn after_step(&mut self, id: &str) {
        let Some(entry) = self.cache.get_mut(id) else {
            return;
        };
        let Ok(sandbox) = &entry.state else {
            return;
        };
        if sandbox.is_poisoned() {
            tracing::warn!(target: "script", integration_id = %id, "script hit a limit; context dropped");
            self.remove(id);
            return;
        }
        let requested = sandbox.take_requests();
        self.drop_orphan_fetches(id);
        let Some(entry) = self.cache.get_mut(id) else {
            return;
        };
        entry.queued.extend(requested);
        let fetcher = self.fetcher.get().cloned();
        while entry.running.len() < self.limits.max_concurrent_fetches.max(1) {
            let Some(req) = entry.queued.pop_front() else {
                break;
            };
            let Some(deadline) = self.waiting.get(&req.call).map(|w| w.deadline) else {
                continue; // its call already ended
            };
            let Requested { fetch, call, mut request } = req;
            request.integration_id = id.to_owned();
            request.timeout = deadline.saturating_duration_since(Instant::now());
            request.max_bytes = self.limits.max_fetch_bytes;
            let answers = self.answers.clone();
            let integration_id = id.to_owned();
            let fetcher = fetcher.clone();
            let task = tokio::spawn(async move {
                let timeout = request.timeout;
                let result = match fetcher {
                    None => Err("fetch is not available in this server".to_owned()),
                    Some(f) => match tokio::time::timeout(timeout, f.fetch(request)).await {
                        Ok(r) => r,
                        Err(_) => Err("the request timed out".to_owned()),
                    },
                };
                let _ = answers.send(Answer { integration_id, fetch, call, result });
            });
            entry.running.insert(fetch, task.abort_handle());
        }
    }

    /// Answers every waiting call whose deadline has passed with a timeout and
    /// drops what it was waiting for. No JavaScript was running, so the
    /// context (and its `Store`) is kept.
    fn expire(&mut self, now: Instant) {
        let late: Vec<u64> = self.waiting.iter().filter(|(_, w)| w.deadline <= now).map(|(&c, _)| c).collect();
        let mut touched = Vec::new();
        for call in late {
            let w = self.waiting.remove(&call).expect("listed");
            let _ = w.reply.send(Err(CallError::Timeout));
            if let Some(entry) = self.cache.get_mut(&w.integration_id) {
                if let Ok(sandbox) = &mut entry.state {
                    sandbox.abandon(call);
                }
                touched.push(w.integration_id);
            }
        }
        touched.dedup();
        for id in touched {
            self.after_step(&id);
        }
    }

    /// Aborts the fetches of `id` whose calls have ended.
    fn drop_orphan_fetches(&mut self, id: &str) {
        let Some(entry) = self.cache.get_mut(id) else {
            return;
        };
        let Ok(sandbox) = &entry.state else {
            return;
        };
        let live = sandbox.live_fetches();
        entry.running.retain(|fetch, task| {
            let keep = live.contains(fetch);
            if !keep {
                task.abort();
            }
            keep
        });
        let waiting = &self.waiting;
        entry.queued.retain(|r| waiting.contains_key(&r.call));
    }

    /// Drops an integration's context, failing the calls that wait on it.
    fn remove(&mut self, id: &str) {
        let Some(entry) = self.cache.remove(id) else {
            return;
        };
        for task in entry.running.values() {
            task.abort();
        }
        let poisoned = matches!(&entry.state, Ok(s) if s.is_poisoned());
        let calls: Vec<u64> = self.waiting.iter().filter(|(_, w)| w.integration_id == id).map(|(&c, _)| c).collect();
        for call in calls {
            let w = self.waiting.remove(&call).expect("listed");
            let _ = w.reply.send(Err(CallError::Internal(if poisoned {
                "another call of this script hit a limit; its context was dropped".into()
            } else {
                "the script's context was replaced while the call waited".into()
            })));
        }
    }

    /// Evict least recently used idle entries until at most `len` remain.
    fn evict_to(&mut self, len: usize) {
        while self.cache.len() > len {
            let Some(oldest) = self
                .cache
                .iter()
                .filter(|(_, e)| !matches!(&e.state, Ok(s) if s.is_busy()))
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone())
            else {
                return;
            };
            self.cache.remove(&oldest);
        }
    }
}

fn panicked(panic: &Box<dyn std::any::Any + Send>) -> CallError {
    CallError::Internal(format!("panic while running script: {}", panic_message(panic)))
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}
