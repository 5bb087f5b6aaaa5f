//! One integration's QuickJS runtime + context (single-threaded).

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use rquickjs::context::EvalOptions;
use rquickjs::function::This;
use rquickjs::promise::PromiseState;
use rquickjs::{Context, Ctx, Exception, Function, Object, Persistent, Promise, Runtime, Value};

use crate::alloc::{Budget, LimitedAllocator};
use crate::failure::{Failure, Fired, classify, describe};
use crate::fetch::{FetchBook, FetchResponse, Requested};
use crate::{CallError, CallOutcome, Limits, ScriptError};

/// File name the user script is evaluated under (appears in stack traces).
const SCRIPT_FILE: &str = "integration-script.js";

/// Longest console message forwarded to `tracing` (longer ones are cut).
const MAX_LOG_BYTES: usize = 16 * 1024;

/// Installs the sandbox globals (`console`, `Store`, `global`, `fetch`).
const PRELUDE: &str = include_str!("prelude.js");

/// Run after the user script, in the same global scope (so it sees a
/// top-level `class Script`, which is a lexical binding, not a property).
const INSTANTIATE: &str = "typeof Script === 'function' ? new Script() : undefined";

/// Deadline shared between the sandbox and its runtime's interrupt handler.
#[derive(Default)]
struct Deadline {
    at: Cell<Option<Instant>>,
    fired: Cell<bool>,
}

impl Deadline {
    fn arm(&self, timeout: Duration) {
        self.arm_at(Instant::now() + timeout);
    }

    fn arm_at(&self, at: Instant) {
        self.fired.set(false);
        self.at.set(Some(at));
    }

    fn disarm(&self) {
        self.at.set(None);
    }

    /// Called by QuickJS every few thousand operations.
    fn expired(&self) -> bool {
        match self.at.get() {
            Some(at) if Instant::now() >= at => {
                self.fired.set(true);
                true
            }
            _ => false,
        }
    }
}

impl Fired for Deadline {
    fn fired(&self) -> bool {
        self.fired.get()
    }
}

/// Memory statistics of one sandbox's runtime (from QuickJS
/// `JS_ComputeMemoryUsage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryStats {
    /// Bytes currently allocated through the runtime's allocator (what the
    /// memory limit is checked against).
    pub malloc_size: i64,
    /// Bytes in use as estimated by QuickJS.
    pub memory_used_size: i64,
    /// Live JavaScript objects.
    pub obj_count: i64,
}

/// One compiled integration script: a QuickJS runtime and context holding the
/// evaluated script, its `Store`, and the `new Script()` instance.
///
/// Not `Send`: create and use it on one thread (the [`crate::ScriptHost`]
/// workers do).
pub struct Sandbox {
    // Field order is drop order: every JS value must go before the runtime.
    pending: HashMap<u64, PendingCall>,
    settle_fn: Persistent<Function<'static>>,
    forget_fn: Persistent<Function<'static>>,
    instance: Persistent<Object<'static>>,
    context: Context,
    runtime: Runtime,
    deadline: Rc<Deadline>,
    budget: Rc<Budget>,
    book: Rc<FetchBook>,
    limits: Limits,
    poisoned: bool,
    next_sync_call: u64,
}

/// A method call whose promise waits on fetches.
struct PendingCall {
    promise: Persistent<Promise<'static>>,
    method: String,
}

/// How far [`Sandbox::begin`] got.
pub(crate) enum Step {
    Done(Result<CallOutcome, CallError>),
    /// The method's promise waits on fetches; the call continues in
    /// [`Sandbox::settle`].
    Pending,
}

/// Call ids of [`Sandbox::call_json`] live in their own range so they never
/// meet the host's.
const SYNC_CALL_BASE: u64 = 1 << 62;

impl Sandbox {
    /// Build the context: install `console`/`Store`/`fetch`, evaluate
    /// `source` as a global script and instantiate `Script`, all bounded by
    /// `limits.timeout` and `limits.memory_bytes`. `integration_id` is
    /// attached to console output.
    pub fn new(integration_id: &str, source: &str, limits: &Limits) -> Result<Sandbox, ScriptError> {
        let internal = |e: rquickjs::Error| ScriptError::new("Error", format!("cannot create sandbox: {e}"));
        // The memory limit is enforced by the allocator (not by QuickJS's own
        // limit) so that every refusal is recorded.
        let budget = Budget::new(limits.memory_bytes);
        let runtime = Runtime::new_with_alloc(LimitedAllocator::new(budget.clone())).map_err(internal)?;
        runtime.set_max_stack_size(limits.stack_bytes);
        let deadline = Rc::new(Deadline::default());
        let handler_deadline = deadline.clone();
        runtime.set_interrupt_handler(Some(Box::new(move || handler_deadline.expired())));
        let context = Context::full(&runtime).map_err(internal)?;
        let book = Rc::new(FetchBook::new(limits.max_fetches));

        let id: Rc<str> = Rc::from(integration_id);
        deadline.arm(limits.timeout);
        budget.reset();
        type Saved = (Persistent<Object<'static>>, Persistent<Function<'static>>, Persistent<Function<'static>>);
        let built = context.with(|ctx| -> Result<Saved, Failure> {
            let run = || -> rquickjs::Result<(Option<Object<'_>>, Object<'_>)> {
                let log = Function::new(ctx.clone(), move |level: i32, msg: rquickjs::String| {
                    if let Ok(msg) = msg.to_string() {
                        emit_console(&id, level, &msg);
                    }
                })?;
                let fetch_book = book.clone();
                let fetch =
                    Function::new(ctx.clone(), move |ctx: Ctx<'_>, request: String| -> rquickjs::Result<f64> {
                        match fetch_book.request(&request) {
                            Ok(id) => Ok(id as f64),
                            Err(msg) => Err(Exception::throw_type(&ctx, &msg)),
                        }
                    })?;
                let prelude: Function = ctx.eval_with_options(PRELUDE, eval_options("<sandbox>"))?;
                let hooks: Object = prelude.call((log, fetch))?;
                ctx.eval_with_options::<(), _>(source, eval_options(SCRIPT_FILE))?;
                let instance: Value = ctx.eval_with_options(INSTANTIATE, eval_options("<sandbox>"))?;
                Ok((instance.into_object(), hooks))
            };
            let result = run();
            let result = result.map_err(|e| classify(&ctx, &*deadline, &budget, e));
            // Microtasks queued by the top level run now, still bounded.
            drain_jobs(&ctx, &deadline)?;
            if budget.refused() {
                return Err(Failure::OutOfMemory);
            }
            let (instance, hooks) = result?;
            let Some(instance) = instance else {
                return Err(Failure::Thrown {
                    name: "Error".into(),
                    message: ScriptError::NO_SCRIPT_CLASS.into(),
                    stack: String::new(),
                });
            };
            let hook = |name: &str| -> Result<Persistent<Function<'static>>, Failure> {
                let f: Function = hooks.get(name).map_err(|e| classify(&ctx, &*deadline, &budget, e))?;
                Ok(Persistent::save(&ctx, f))
            };
            Ok((Persistent::save(&ctx, instance), hook("settle")?, hook("forget")?))
        });
        deadline.disarm();
        // Fetches the top level may have asked for (it runs outside any call)
        // were refused; nothing is waiting.
        book.take_outbox();
        let (instance, settle_fn, forget_fn) = built.map_err(|f| f.into_script_error(limits))?;
        Ok(Sandbox {
            pending: HashMap::new(),
            settle_fn,
            forget_fn,
            instance,
            context,
            runtime,
            deadline,
            budget,
            book,
            limits: limits.clone(),
            poisoned: false,
            next_sync_call: SYNC_CALL_BASE,
        })
    }

    /// Call `method` on the cached `Script` instance with one argument, the
    /// JSON deep copy of `arg` (callers pass `{"request": ...}` etc.).
    ///
    /// A returned promise is settled by running the job queue; the microtask
    /// queue is drained after the result is copied out. Everything runs under
    /// one deadline of `limits.timeout`. This synchronous form makes no HTTP
    /// requests: a promise still waiting on `fetch` when the queue is empty
    /// fails the call (the [`crate::ScriptHost`] performs fetches). After a
    /// limit error the sandbox is [poisoned](Sandbox::is_poisoned) and every
    /// further call returns `CallError::Internal`; build a new one.
    pub fn call(&mut self, method: &str, arg: &serde_json::Value) -> Result<CallOutcome, CallError> {
        let json = serde_json::to_string(arg).map_err(|e| CallError::Internal(e.to_string()))?;
        self.call_json(method, &json)
    }

    /// [`Sandbox::call`] with the argument already serialised as JSON text.
    pub fn call_json(&mut self, method: &str, json_arg: &str) -> Result<CallOutcome, CallError> {
        self.next_sync_call += 1;
        let call = self.next_sync_call;
        let deadline = Instant::now() + self.limits.timeout;
        match self.begin(call, method, json_arg, deadline) {
            Step::Done(result) => result,
            Step::Pending => {
                self.abandon(call);
                Err(never_settled(method).into_call_error())
            }
        }
    }

    /// Start call `call`: run the method and every job it queues, all before
    /// `deadline`. A promise still waiting on a fetch of this call is kept
    /// ([`Step::Pending`]); the fetches it asked for are in
    /// [`Sandbox::take_requests`].
    pub(crate) fn begin(&mut self, call: u64, method: &str, json_arg: &str, deadline: Instant) -> Step {
        if self.poisoned {
            return Step::Done(Err(CallError::Internal("sandbox hit a limit and must be rebuilt".into())));
        }
        self.enter(call, deadline);
        let (deadline_ref, budget, book) = (&*self.deadline, &*self.budget, &*self.book);
        let instance = &self.instance;
        let started = self.context.with(|ctx| {
            let started = invoke(&ctx, deadline_ref, budget, instance, method, json_arg);
            // Jobs left behind (fire-and-forget promise chains) run now.
            let drained = drain_jobs(&ctx, deadline_ref);
            let started = match (started, drained) {
                // A refused allocation anywhere in the call (even one the
                // script caught, or one in a discarded microtask) fails it:
                // like an isolate that hit its limit, the context is done.
                _ if budget.refused() => Err(Failure::OutOfMemory),
                (Err(f), _) | (Ok(_), Err(f)) => Err(f),
                (Ok(s), Ok(())) => Ok(s),
            };
            match started {
                Err(f) => Err(f),
                Ok(Started::Done(out)) => Ok(Began::Done(out)),
                Ok(Started::Promise(promise)) => match conclude(&ctx, &promise, method) {
                    Some(result) => result.map(Began::Done),
                    // Kept for the fetch answers.
                    None if book.waiting(call) => Ok(Began::Waiting(Persistent::save(&ctx, promise))),
                    None => Err(never_settled(method)),
                },
            }
        });
        self.leave();
        match started {
            Ok(Began::Done(out)) => {
                self.abandon(call);
                Step::Done(Ok(out))
            }
            Ok(Began::Waiting(promise)) => {
                let method = method.to_owned();
                self.pending.insert(call, PendingCall { promise, method });
                Step::Pending
            }
            Err(f) => {
                self.abandon(call);
                let e = f.into_call_error();
                if e.is_limit() {
                    self.poisoned = true;
                }
                Step::Done(Err(e))
            }
        }
    }

    /// A fetch of call `call` answered: settle its promise, run what that
    /// unblocks (before `deadline`) and return every pending call that has
    /// finished. After a limit error the sandbox is poisoned and the error is
    /// returned for `call`; the other pending calls are the caller's to fail.
    pub(crate) fn settle(
        &mut self,
        fetch: u64,
        call: u64,
        answer: Result<FetchResponse, String>,
        deadline: Instant,
    ) -> Vec<(u64, Result<CallOutcome, CallError>)> {
        if self.poisoned {
            return Vec::new();
        }
        self.book.settled(fetch);
        let (ok, payload) = match answer {
            Ok(r) => (true, response_json(&r)),
            Err(reason) => (false, reason),
        };
        self.enter(call, deadline);
        let (deadline_ref, budget, book) = (&*self.deadline, &*self.budget, &*self.book);
        let (settle_fn, pending) = (&self.settle_fn, &self.pending);
        let result = self.context.with(|ctx| {
            let run = || -> rquickjs::Result<()> {
                let f = settle_fn.clone().restore(&ctx)?;
                f.call::<_, ()>((fetch as f64, ok, payload))
            };
            let settled = run().map_err(|e| classify(&ctx, deadline_ref, budget, e));
            let drained = drain_jobs(&ctx, deadline_ref);
            if budget.refused() {
                return Err(Failure::OutOfMemory);
            }
            settled.and(drained)?;
            let mut done = Vec::new();
            for (&id, p) in pending {
                let promise = p.promise.clone().restore(&ctx).map_err(|e| classify(&ctx, deadline_ref, budget, e))?;
                match conclude(&ctx, &promise, &p.method) {
                    Some(r) => done.push((id, r)),
                    None if !book.waiting(id) => done.push((id, Err(never_settled(&p.method)))),
                    None => {}
                }
            }
            Ok(done)
        });
        self.leave();
        let done = match result {
            Ok(done) => done,
            Err(f) => vec![(call, Err(f))],
        };
        done.into_iter()
            .map(|(id, r)| {
                self.abandon(id);
                let r = r.map_err(Failure::into_call_error);
                if matches!(&r, Err(e) if e.is_limit()) {
                    self.poisoned = true;
                }
                (id, r)
            })
            .collect()
    }

    /// Forget a call (finished, or its deadline passed): its promise and the
    /// resolvers of its unanswered fetches go; nothing more of it runs.
    pub(crate) fn abandon(&mut self, call: u64) {
        self.pending.remove(&call);
        let fetches = self.book.end_call(call);
        if fetches.is_empty() || self.poisoned {
            return;
        }
        let forget_fn = &self.forget_fn;
        self.context.with(|ctx| {
            if let Ok(f) = forget_fn.clone().restore(&ctx) {
                for id in fetches {
                    let _ = f.call::<_, ()>((id as f64,));
                }
            }
        });
    }

    /// The fetches scripts asked for since the last look.
    pub(crate) fn take_requests(&self) -> Vec<Requested> {
        self.book.take_outbox()
    }

    /// Fetches whose promises still wait for an answer.
    pub(crate) fn live_fetches(&self) -> std::collections::HashSet<u64> {
        self.book.live()
    }

    /// Whether any call waits on this sandbox.
    pub(crate) fn is_busy(&self) -> bool {
        !self.pending.is_empty()
    }

    fn enter(&self, call: u64, deadline: Instant) {
        self.deadline.arm_at(deadline);
        self.budget.reset();
        self.book.current.set(Some(call));
    }

    fn leave(&self) {
        self.deadline.disarm();
        self.book.current.set(None);
    }

    /// True once a call hit a limit: the context's state may be corrupt.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// Current memory use of this sandbox's runtime.
    pub fn memory_usage(&self) -> MemoryStats {
        let m = self.runtime.memory_usage();
        MemoryStats { malloc_size: m.malloc_size, memory_used_size: m.memory_used_size, obj_count: m.obj_count }
    }

    /// Run the garbage collector of this sandbox's runtime.
    pub fn run_gc(&self) {
        self.runtime.run_gc();
    }
}

/// What [`Sandbox::begin`] learnt inside the context.
enum Began {
    Done(CallOutcome),
    Waiting(Persistent<Promise<'static>>),
}

/// What a method returned.
enum Started<'js> {
    Done(CallOutcome),
    Promise(Promise<'js>),
}

fn never_settled(method: &str) -> Failure {
    Failure::Thrown {
        name: "Error".into(),
        message: format!("the promise returned by {method} never settled"),
        stack: String::new(),
    }
}

/// The JSON the prelude's `settle` turns into a Response.
fn response_json(r: &FetchResponse) -> String {
    serde_json::json!({
        "status": r.status,
        "statusText": r.status_text,
        "url": r.url,
        "redirected": r.redirected,
        "headers": r.headers,
        "body": r.body,
    })
    .to_string()
}

fn eval_options(filename: &str) -> EvalOptions {
    let mut opts = EvalOptions::default();
    opts.global = true;
    opts.strict = false;
    opts.backtrace_barrier = true;
    opts.promise = false;
    opts.filename = Some(filename.to_owned());
    opts
}

fn invoke<'js>(
    ctx: &Ctx<'js>,
    deadline: &Deadline,
    budget: &Budget,
    instance: &Persistent<Object<'static>>,
    method: &str,
    json_arg: &str,
) -> Result<Started<'js>, Failure> {
    let run = || -> rquickjs::Result<Result<Started<'js>, Failure>> {
        let instance = instance.clone().restore(ctx)?;
        let f: Value = instance.get(method)?;
        let Some(f) = f.as_function() else {
            return Ok(Ok(Started::Done(CallOutcome::NoMethod)));
        };
        let arg = ctx.json_parse(json_arg)?;
        let ret: Value = f.call((This(instance.clone()), arg))?;
        if let Some(promise) = ret.as_promise() {
            return Ok(Ok(Started::Promise(promise.clone())));
        }
        Ok(to_outcome(ctx, ret, method)?.map(Started::Done))
    };
    match run() {
        Ok(r) => r,
        Err(e) => Err(classify(ctx, deadline, budget, e)),
    }
}

/// The outcome of a settled promise; `None` while it is pending.
fn conclude<'js>(ctx: &Ctx<'js>, promise: &Promise<'js>, method: &str) -> Option<Result<CallOutcome, Failure>> {
    if promise.state() == PromiseState::Pending {
        return None;
    }
    let run = || -> rquickjs::Result<Result<CallOutcome, Failure>> {
        let value = promise.result::<Value>().expect("settled")?;
        to_outcome(ctx, value, method)
    };
    Some(match run() {
        Ok(r) => r,
        Err(rquickjs::Error::Exception) => {
            let (name, message, stack) = describe(&ctx.catch());
            if name == "RangeError" && message == "Maximum call stack size exceeded" {
                Err(Failure::StackOverflow { stack })
            } else {
                Err(Failure::Thrown { name, message, stack })
            }
        }
        Err(e) => Err(Failure::Thrown { name: "Error".into(), message: e.to_string(), stack: String::new() }),
    })
}

/// Copies a returned value out of the sandbox as JSON.
fn to_outcome<'js>(ctx: &Ctx<'js>, value: Value<'js>, method: &str) -> rquickjs::Result<Result<CallOutcome, Failure>> {
    let Some(text) = ctx.json_stringify(value)? else {
        return Ok(Ok(CallOutcome::Undefined));
    };
    let text = text.to_string()?;
    Ok(match serde_json::from_str(&text) {
        Ok(v) => Ok(CallOutcome::Value(v)),
        Err(e) => Err(Failure::Thrown {
            name: "TypeError".into(),
            message: format!("the result of {method} cannot be copied out of the sandbox: {e}"),
            stack: String::new(),
        }),
    })
}

/// Run queued jobs until the queue is empty or the deadline passes.
fn drain_jobs(ctx: &Ctx<'_>, deadline: &Deadline) -> Result<(), Failure> {
    // Exceptions thrown by jobs are swallowed by `execute_pending_job`
    // (unhandled rejections are not the caller's business), but an
    // interruption is noticed through the deadline.
    while ctx.execute_pending_job() {
        if deadline.fired.get() || deadline.expired() {
            return Err(Failure::Timeout);
        }
    }
    if deadline.fired.get() {
        return Err(Failure::Timeout);
    }
    Ok(())
}

fn emit_console(integration_id: &str, level: i32, msg: &str) {
    let msg = if msg.len() > MAX_LOG_BYTES {
        let mut end = MAX_LOG_BYTES;
        while !msg.is_char_boundary(end) {
            end -= 1;
        }
        &msg[..end]
    } else {
        msg
    };
    match level {
        0 => tracing::info!(target: "script::console", integration_id, console = "log", "{msg}"),
        1 => tracing::info!(target: "script::console", integration_id, console = "info", "{msg}"),
        2 => tracing::warn!(target: "script::console", integration_id, console = "warn", "{msg}"),
        3 => tracing::error!(target: "script::console", integration_id, console = "error", "{msg}"),
        _ => tracing::debug!(target: "script::console", integration_id, console = "debug", "{msg}"),
    }
}
