//! One integration's QuickJS runtime + context (single-threaded).

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use rquickjs::context::EvalOptions;
use rquickjs::function::This;
use rquickjs::promise::PromiseState;
use rquickjs::{Coerced, Context, Ctx, Function, Object, Persistent, Runtime, Value};

use crate::alloc::{Budget, LimitedAllocator};
use crate::{CallError, CallOutcome, Limits, ScriptError};

/// File name the user script is evaluated under (appears in stack traces).
const SCRIPT_FILE: &str = "integration-script.js";

/// Longest console message forwarded to `tracing` (longer ones are cut).
const MAX_LOG_BYTES: usize = 16 * 1024;

/// Installs the sandbox globals. Evaluated before the user script; receives
/// the host logging function, which is reachable only through the closures.
const PRELUDE: &str = r#"(function (hostLog) {
  'use strict';
  const g = globalThis;
  const stringify = JSON.stringify;
  const toString = Object.prototype.toString;
  const fmt = function (v) {
    if (typeof v === 'string') return v;
    try {
      if (v instanceof Error) {
        const head = String(v.name) + ': ' + String(v.message);
        return typeof v.stack === 'string' && v.stack ? head + '\n' + v.stack : head;
      }
      if (typeof v === 'object' && v !== null) {
        const s = stringify(v);
        if (s !== undefined) return s;
      }
      return String(v);
    } catch (_) {
      return toString.call(v);
    }
  };
  const make = function (level) {
    return function (...args) {
      let out = '';
      for (let i = 0; i < args.length; i++) out += (i ? ' ' : '') + fmt(args[i]);
      hostLog(level, out);
    };
  };
  g.console = {
    log: make(0), info: make(1), warn: make(2), error: make(3), debug: make(4), trace: make(4),
  };
  const store = Object.create(null);
  g.Store = {
    set(key, val) { store[key] = val; return val; },
    get(key) { return store[key]; },
  };
  g.global = g;
})"#;

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
        self.fired.set(false);
        self.at.set(Some(Instant::now() + timeout));
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

/// What went wrong inside the engine, before it is turned into a
/// [`CallError`] or a [`ScriptError`].
enum Failure {
    Timeout,
    OutOfMemory,
    StackOverflow {
        stack: String,
    },
    Thrown {
        name: String,
        message: String,
        stack: String,
    },
}

impl Failure {
    fn into_call_error(self) -> CallError {
        match self {
            Failure::Timeout => CallError::Timeout,
            Failure::OutOfMemory => CallError::OutOfMemory,
            Failure::StackOverflow { .. } => CallError::StackOverflow,
            Failure::Thrown {
                name,
                message,
                stack,
            } => CallError::Runtime {
                name,
                message,
                stack,
            },
        }
    }

    fn into_script_error(self, limits: &Limits) -> ScriptError {
        match self {
            Failure::Timeout => ScriptError::new(
                "Error",
                format!(
                    "Script execution timed out after {} ms",
                    limits.timeout.as_millis()
                ),
            ),
            Failure::OutOfMemory => ScriptError::new(
                "Error",
                format!(
                    "Script exceeded the memory limit of {} bytes",
                    limits.memory_bytes
                ),
            ),
            Failure::StackOverflow { stack } => ScriptError {
                name: "RangeError".into(),
                message: "Maximum call stack size exceeded".into(),
                stack,
            },
            Failure::Thrown {
                name,
                message,
                stack,
            } => ScriptError {
                name,
                message,
                stack,
            },
        }
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
    instance: Persistent<Object<'static>>,
    context: Context,
    runtime: Runtime,
    deadline: Rc<Deadline>,
    budget: Rc<Budget>,
    limits: Limits,
    poisoned: bool,
}

impl Sandbox {
    /// Build the context: install `console`/`Store`, evaluate `source` as a
    /// global script and instantiate `Script`, all bounded by
    /// `limits.timeout` and `limits.memory_bytes`. `integration_id` is
    /// attached to console output.
    pub fn new(
        integration_id: &str,
        source: &str,
        limits: &Limits,
    ) -> Result<Sandbox, ScriptError> {
        let internal =
            |e: rquickjs::Error| ScriptError::new("Error", format!("cannot create sandbox: {e}"));
        // The memory limit is enforced by the allocator (not by QuickJS's own
        // limit) so that every refusal is recorded.
        let budget = Budget::new(limits.memory_bytes);
        let runtime =
            Runtime::new_with_alloc(LimitedAllocator::new(budget.clone())).map_err(internal)?;
        runtime.set_max_stack_size(limits.stack_bytes);
        let deadline = Rc::new(Deadline::default());
        let handler_deadline = deadline.clone();
        runtime.set_interrupt_handler(Some(Box::new(move || handler_deadline.expired())));
        let context = Context::full(&runtime).map_err(internal)?;

        let id: Rc<str> = Rc::from(integration_id);
        deadline.arm(limits.timeout);
        budget.reset();
        let built = context.with(|ctx| -> Result<Persistent<Object<'static>>, Failure> {
            let run = || -> rquickjs::Result<Option<Object<'_>>> {
                let log = Function::new(ctx.clone(), move |level: i32, msg: rquickjs::String| {
                    if let Ok(msg) = msg.to_string() {
                        emit_console(&id, level, &msg);
                    }
                })?;
                let prelude: Function =
                    ctx.eval_with_options(PRELUDE, eval_options("<sandbox>"))?;
                prelude.call::<_, ()>((log,))?;
                ctx.eval_with_options::<(), _>(source, eval_options(SCRIPT_FILE))?;
                let instance: Value =
                    ctx.eval_with_options(INSTANTIATE, eval_options("<sandbox>"))?;
                Ok(instance.into_object())
            };
            let result = run();
            let result = result.map_err(|e| classify(&ctx, &deadline, &budget, e));
            // Microtasks queued by the top level run now, still bounded.
            drain_jobs(&ctx, &deadline)?;
            if budget.refused() {
                return Err(Failure::OutOfMemory);
            }
            match result? {
                Some(instance) => Ok(Persistent::save(&ctx, instance)),
                None => Err(Failure::Thrown {
                    name: "Error".into(),
                    message: ScriptError::NO_SCRIPT_CLASS.into(),
                    stack: String::new(),
                }),
            }
        });
        deadline.disarm();
        let instance = built.map_err(|f| f.into_script_error(limits))?;
        Ok(Sandbox {
            instance,
            context,
            runtime,
            deadline,
            budget,
            limits: limits.clone(),
            poisoned: false,
        })
    }

    /// Call `method` on the cached `Script` instance with one argument, the
    /// JSON deep copy of `arg` (callers pass `{"request": ...}` etc.).
    ///
    /// A returned promise is settled by running the job queue; the microtask
    /// queue is drained after the result is copied out. Everything runs under
    /// one deadline of `limits.timeout`. After a limit error the sandbox is
    /// [poisoned](Sandbox::is_poisoned) and every further call returns
    /// `CallError::Internal`; build a new one.
    pub fn call(
        &mut self,
        method: &str,
        arg: &serde_json::Value,
    ) -> Result<CallOutcome, CallError> {
        let json = serde_json::to_string(arg).map_err(|e| CallError::Internal(e.to_string()))?;
        self.call_json(method, &json)
    }

    /// [`Sandbox::call`] with the argument already serialised as JSON text.
    pub fn call_json(&mut self, method: &str, json_arg: &str) -> Result<CallOutcome, CallError> {
        if self.poisoned {
            return Err(CallError::Internal(
                "sandbox hit a limit and must be rebuilt".into(),
            ));
        }
        self.deadline.arm(self.limits.timeout);
        self.budget.reset();
        let deadline = &*self.deadline;
        let budget = &*self.budget;
        let instance = &self.instance;
        let result = self.context.with(|ctx| {
            let outcome = invoke(&ctx, deadline, budget, instance, method, json_arg);
            // Jobs left behind (fire-and-forget promise chains) run now.
            let drained = drain_jobs(&ctx, deadline);
            match (outcome, drained) {
                // A refused allocation anywhere in the call (even one the
                // script caught, or one in a discarded microtask) fails it:
                // like an isolate that hit its limit, the context is done.
                _ if budget.refused() => Err(CallError::OutOfMemory),
                (Err(f), _) | (Ok(_), Err(f)) => Err(f.into_call_error()),
                (Ok(out), Ok(())) => Ok(out),
            }
        });
        self.deadline.disarm();
        if matches!(&result, Err(e) if e.is_limit()) {
            self.poisoned = true;
        }
        result
    }

    /// True once a call hit a limit: the context's state may be corrupt.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// Current memory use of this sandbox's runtime.
    pub fn memory_usage(&self) -> MemoryStats {
        let m = self.runtime.memory_usage();
        MemoryStats {
            malloc_size: m.malloc_size,
            memory_used_size: m.memory_used_size,
            obj_count: m.obj_count,
        }
    }

    /// Run the garbage collector of this sandbox's runtime.
    pub fn run_gc(&self) {
        self.runtime.run_gc();
    }
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

fn invoke(
    ctx: &Ctx<'_>,
    deadline: &Deadline,
    budget: &Budget,
    instance: &Persistent<Object<'static>>,
    method: &str,
    json_arg: &str,
) -> Result<CallOutcome, Failure> {
    let run = || -> rquickjs::Result<Result<CallOutcome, Failure>> {
        let instance = instance.clone().restore(ctx)?;
        let f: Value = instance.get(method)?;
        let Some(f) = f.as_function() else {
            return Ok(Ok(CallOutcome::NoMethod));
        };
        let arg = ctx.json_parse(json_arg)?;
        let mut ret: Value = f.call((This(instance.clone()), arg))?;
        if let Some(promise) = ret.as_promise().cloned() {
            loop {
                match promise.state() {
                    PromiseState::Pending => {
                        if deadline.fired.get() || deadline.expired() {
                            return Ok(Err(Failure::Timeout));
                        }
                        if !ctx.execute_pending_job() {
                            if deadline.fired.get() {
                                return Ok(Err(Failure::Timeout));
                            }
                            return Ok(Err(Failure::Thrown {
                                name: "Error".into(),
                                message: format!("the promise returned by {method} never settled"),
                                stack: String::new(),
                            }));
                        }
                    }
                    PromiseState::Resolved | PromiseState::Rejected => {
                        ret = promise.result::<Value>().expect("settled")?;
                        break;
                    }
                }
            }
        }
        let Some(text) = ctx.json_stringify(ret)? else {
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
    };
    match run() {
        Ok(r) => r,
        Err(e) => Err(classify(ctx, deadline, budget, e)),
    }
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

fn classify(ctx: &Ctx<'_>, deadline: &Deadline, budget: &Budget, err: rquickjs::Error) -> Failure {
    let thrown = match err {
        rquickjs::Error::Exception => Some(ctx.catch()),
        _ => None,
    };
    if budget.refused() {
        return Failure::OutOfMemory;
    }
    if deadline.fired.get() {
        return Failure::Timeout;
    }
    let Some(value) = thrown else {
        return match err {
            rquickjs::Error::Allocation => Failure::OutOfMemory,
            other => Failure::Thrown {
                name: "Error".into(),
                message: other.to_string(),
                stack: String::new(),
            },
        };
    };
    let (name, message, stack) = describe(&value);
    if name == "InternalError" && message.starts_with("out of memory") {
        return Failure::OutOfMemory;
    }
    if name == "RangeError" && message == "Maximum call stack size exceeded" {
        return Failure::StackOverflow { stack };
    }
    // Reading the description may itself have run user code until the
    // deadline.
    if deadline.fired.get() {
        return Failure::Timeout;
    }
    Failure::Thrown {
        name,
        message,
        stack,
    }
}

/// `(name, message, stack)` of a thrown value.
fn describe(value: &Value<'_>) -> (String, String, String) {
    let string_prop = |obj: &Object<'_>, key: &str| -> Option<String> {
        let v: Value = obj.get(key).ok()?;
        v.as_string().and_then(|s| s.to_string().ok())
    };
    if let Some(obj) = value.as_object() {
        let message = string_prop(obj, "message");
        if value.is_error() || message.is_some() {
            let name = string_prop(obj, "name").unwrap_or_else(|| "Error".into());
            let stack = string_prop(obj, "stack").unwrap_or_default();
            return (name, message.unwrap_or_default(), stack);
        }
    }
    let message = value
        .get::<Coerced<String>>()
        .map(|c| c.0)
        .unwrap_or_else(|_| format!("<{}>", value.type_name()));
    ("Error".into(), message, String::new())
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
