//! Sandbox for Rocket.Chat-compatible integration scripts.
//!
//! An integration may carry a user-written JavaScript source that defines
//! `class Script { ... }` with any of `process_incoming_request({ request })`,
//! `prepare_outgoing_request({ request })` and
//! `process_outgoing_response({ request, response })`.
//!
//! Scripts run on the embedded QuickJS engine (`rquickjs`). Each integration
//! gets its own runtime + context with a memory limit, a stack limit and a
//! wall-clock deadline per call; the context (and its `Store`) is cached and
//! reused until the integration's version changes.
//!
//! * [`compile`] validates a source (syntax, top-level evaluation, presence of
//!   the `Script` class) in a throw-away sandbox.
//! * [`Sandbox`] is one compiled integration context (not `Send`; single
//!   thread).
//! * [`ScriptHost`] is the async, `Send + Sync` front end used by the server:
//!   a small pool of dedicated OS threads, each owning an LRU cache of
//!   sandboxes; all calls for one integration id go to the same thread.
//!   Scripts' `fetch` requests are made by the embedder's [`Fetcher`]; a call
//!   waiting on one does not hold its thread, so calls interleave as they do
//!   in one Node.js isolate.
//!
//! Values cross the boundary as JSON text only (deep copies): the argument is
//! serialised and `JSON.parse`d inside the context, the result is
//! `JSON.stringify`d inside and parsed on the host. JavaScript `undefined`
//! (and anything `JSON.stringify` turns into nothing, such as a function)
//! comes out as [`CallOutcome::Undefined`].

mod alloc;
mod error;
mod failure;
mod fetch;
mod host;
mod job;
mod sandbox;
mod worker;

use std::time::Duration;

pub use error::{CallError, ScriptError};
pub use fetch::{FetchFuture, FetchRequest, FetchResponse, Fetcher};
pub use host::{ScriptHost, ScriptKey};
pub use sandbox::{MemoryStats, Sandbox};

/// The method names Rocket.Chat calls on a `Script` instance.
pub mod methods {
    /// Incoming webhooks.
    pub const PROCESS_INCOMING_REQUEST: &str = "process_incoming_request";
    /// Outgoing webhooks, before the HTTP call.
    pub const PREPARE_OUTGOING_REQUEST: &str = "prepare_outgoing_request";
    /// Outgoing webhooks, after the HTTP call.
    pub const PROCESS_OUTGOING_RESPONSE: &str = "process_outgoing_response";
}

/// Resource limits of every sandbox, and the shape of the [`ScriptHost`] pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Heap limit of one integration's QuickJS runtime (default 8 MiB, as
    /// Rocket.Chat's `memoryLimit: 8`).
    pub memory_bytes: usize,
    /// Maximum JavaScript stack of one runtime (default 1 MiB). Worker
    /// threads are spawned with a native stack comfortably larger than this.
    pub stack_bytes: usize,
    /// Wall-clock deadline of one top-level evaluation and of one method call
    /// (including promise settlement, the microtask queue and every `fetch`
    /// the call awaits), default 3 s.
    pub timeout: Duration,
    /// Most `fetch` calls one method call may make (default 10); further
    /// ones reject.
    pub max_fetches: u32,
    /// Largest response body a `fetch` accepts (default 1 MiB).
    pub max_fetch_bytes: usize,
    /// Most fetches of one integration in flight at once (default 8); more
    /// wait their turn, so one integration cannot take every connection.
    pub max_concurrent_fetches: usize,
    /// Number of dedicated worker threads of a [`ScriptHost`] (default: the
    /// number of available cores).
    pub workers: usize,
    /// Maximum number of cached contexts over the whole host; each worker
    /// keeps at most `ceil(max_cached_contexts / workers)` (at least one),
    /// evicting the least recently used.
    pub max_cached_contexts: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 8 * 1024 * 1024,
            stack_bytes: 1024 * 1024,
            timeout: Duration::from_millis(3000),
            max_fetches: 10,
            max_fetch_bytes: 1024 * 1024,
            max_concurrent_fetches: 8,
            workers: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            max_cached_contexts: 512,
        }
    }
}

/// Successful result of calling a script method.
#[derive(Debug, Clone, PartialEq)]
pub enum CallOutcome {
    /// The `Script` instance has no such method (Rocket.Chat treats this like
    /// a falsy result for incoming hooks and uses the default request for
    /// outgoing ones).
    NoMethod,
    /// The method returned (or its promise resolved to) `undefined`, or a
    /// value `JSON.stringify` drops entirely (a function, a symbol).
    Undefined,
    /// The JSON deep copy of the returned value. `null`, `false`, `0` and
    /// `""` arrive as the corresponding JSON values.
    Value(serde_json::Value),
}

impl CallOutcome {
    /// JavaScript truthiness of the result: `NoMethod`, `Undefined`, `null`,
    /// `false`, `0` and `""` are falsy (NaN already became `null`).
    pub fn is_falsy(&self) -> bool {
        match self {
            CallOutcome::NoMethod | CallOutcome::Undefined => true,
            CallOutcome::Value(v) => match v {
                serde_json::Value::Null => true,
                serde_json::Value::Bool(b) => !b,
                serde_json::Value::Number(n) => n.as_f64() == Some(0.0),
                serde_json::Value::String(s) => s.is_empty(),
                _ => false,
            },
        }
    }

    /// The returned value, if it was one (`None` for `NoMethod`/`Undefined`).
    pub fn into_value(self) -> Option<serde_json::Value> {
        match self {
            CallOutcome::Value(v) => Some(v),
            _ => None,
        }
    }

    /// Borrowing variant of [`CallOutcome::into_value`].
    pub fn value(&self) -> Option<&serde_json::Value> {
        match self {
            CallOutcome::Value(v) => Some(v),
            _ => None,
        }
    }
}

/// Validate an integration script: it must parse, its top level must evaluate
/// within `limits` (time and memory), it must define a `Script` class and
/// `new Script()` must succeed. Used at create/update time; the error is what
/// the server stores as `scriptError`.
///
/// Synchronous and CPU-bound (up to `limits.timeout`): from async code use
/// [`ScriptHost::compile`] or `spawn_blocking`.
pub fn compile(source: &str, limits: &Limits) -> Result<(), ScriptError> {
    Sandbox::new("compile", source, limits).map(|_| ())
}
