use serde::{Deserialize, Serialize};

/// A JavaScript-like description of why a script could not be loaded, in the
/// shape Rocket.Chat stores as an integration's `scriptError`.
///
/// * syntax errors: `name = "SyntaxError"`, QuickJS's message, `stack` with
///   the `integration-script.js:line:col` position;
/// * any exception thrown by the top level or by `new Script()`: its own
///   `name`/`message`/`stack`;
/// * no `Script` class: `name = "Error"`, message
///   [`ScriptError::NO_SCRIPT_CLASS`];
/// * the top level hit a limit: `name = "Error"` and a message naming the
///   limit (timed out / memory limit / call stack).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{name}: {message}")]
pub struct ScriptError {
    pub name: String,
    pub message: String,
    /// Stack trace as printed by the engine; empty when there is none.
    pub stack: String,
}

impl ScriptError {
    /// Message used when the script evaluates but defines no `Script` class.
    pub const NO_SCRIPT_CLASS: &'static str = "The script must define a class named Script (class Script { ... })";

    pub(crate) fn new(name: &str, message: impl Into<String>) -> Self {
        ScriptError { name: name.to_owned(), message: message.into(), stack: String::new() }
    }
}

/// Why a method call produced no result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The call (or the settlement of its promise / the microtask queue, or
    /// the fetches it awaits) exceeded the per-call deadline. If JavaScript
    /// was running, the context is discarded and rebuilt on the next call; if
    /// the call was only waiting on fetches, they are dropped and the context
    /// is kept.
    #[error("script timed out")]
    Timeout,
    /// The runtime hit its memory limit. The context is discarded and rebuilt
    /// on the next call.
    #[error("script exceeded its memory limit")]
    OutOfMemory,
    /// The JavaScript stack limit was hit (runaway recursion) and the
    /// resulting `RangeError` escaped the method. The context is discarded and
    /// rebuilt on the next call.
    #[error("script exceeded its stack limit")]
    StackOverflow,
    /// The method threw (or its promise rejected with) this value. For a
    /// non-`Error` value, `name` is `"Error"`, `message` its string form and
    /// `stack` empty. The context is kept.
    #[error("{name}: {message}")]
    Runtime { name: String, message: String, stack: String },
    /// The script itself could not be loaded (syntax error, top level threw
    /// or hit a limit, no `Script` class, constructor threw). Cached for the
    /// same (integration id, version) so a broken script is not re-evaluated
    /// on every call.
    #[error("error evaluating script: {0}")]
    Evaluation(ScriptError),
    /// The host was built with [`crate::ScriptHost::disabled`]: scripts never
    /// run.
    #[error("integration scripts are disabled")]
    Disabled,
    /// The host could not run the call (worker thread gone, panic in the
    /// engine glue). Should not happen.
    #[error("script host failure: {0}")]
    Internal(String),
}

impl CallError {
    /// True for the resource-limit errors (timeout, memory, stack).
    pub fn is_limit(&self) -> bool {
        matches!(self, CallError::Timeout | CallError::OutOfMemory | CallError::StackOverflow)
    }
}
