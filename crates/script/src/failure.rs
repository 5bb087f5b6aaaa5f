//! What went wrong inside the engine, and how a thrown value is described.

use rquickjs::{Coerced, Ctx, Object, Value};

use crate::{CallError, Limits, ScriptError};

/// Deadline as seen by [`classify`].
pub(crate) trait Fired {
    fn fired(&self) -> bool;
}

/// What went wrong inside the engine, before it is turned into a
/// [`CallError`] or a [`ScriptError`].
pub(crate) enum Failure {
    Timeout,
    OutOfMemory,
    StackOverflow { stack: String },
    Thrown { name: String, message: String, stack: String },
}

impl Failure {
    pub(crate) fn into_call_error(self) -> CallError {
        match self {
            Failure::Timeout => CallError::Timeout,
            Failure::OutOfMemory => CallError::OutOfMemory,
            Failure::StackOverflow { .. } => CallError::StackOverflow,
            Failure::Thrown { name, message, stack } => CallError::Runtime { name, message, stack },
        }
    }

    pub(crate) fn into_script_error(self, limits: &Limits) -> ScriptError {
        match self {
            Failure::Timeout => {
                ScriptError::new("Error", format!("Script execution timed out after {} ms", limits.timeout.as_millis()))
            }
            Failure::OutOfMemory => {
                ScriptError::new("Error", format!("Script exceeded the memory limit of {} bytes", limits.memory_bytes))
            }
            Failure::StackOverflow { stack } => {
                ScriptError { name: "RangeError".into(), message: "Maximum call stack size exceeded".into(), stack }
            }
            Failure::Thrown { name, message, stack } => ScriptError { name, message, stack },
        }
    }
}

pub(crate) fn classify(
    ctx: &Ctx<'_>,
    deadline: &dyn Fired,
    budget: &crate::alloc::Budget,
    err: rquickjs::Error,
) -> Failure {
    let thrown = match err {
        rquickjs::Error::Exception => Some(ctx.catch()),
        _ => None,
    };
    if budget.refused() {
        return Failure::OutOfMemory;
    }
    if deadline.fired() {
        return Failure::Timeout;
    }
    let Some(value) = thrown else {
        return match err {
            rquickjs::Error::Allocation => Failure::OutOfMemory,
            other => Failure::Thrown { name: "Error".into(), message: other.to_string(), stack: String::new() },
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
    if deadline.fired() {
        return Failure::Timeout;
    }
    Failure::Thrown { name, message, stack }
}

/// `(name, message, stack)` of a thrown value.
pub(crate) fn describe(value: &Value<'_>) -> (String, String, String) {
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
    let message = value.get::<Coerced<String>>().map(|c| c.0).unwrap_or_else(|_| format!("<{}>", value.type_name()));
    ("Error".into(), message, String::new())
}
