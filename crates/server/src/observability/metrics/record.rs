//! What the rest of the server reports; each function is a no-op while metrics are off.

use super::families::enabled;
use script::{CallError, CallOutcome};
use std::time::Duration;

/// A message was stored.
pub fn message_posted() {
    if let Some(m) = enabled() {
        m.messages.inc();
    }
}

/// An attempt of an outgoing delivery ended with `outcome` (see the metric's help).
pub fn delivery_finished(outcome: &'static str) {
    if let Some(m) = enabled() {
        m.deliveries.with_label_values(&[outcome]).inc();
    }
}

/// One outgoing HTTP call took `elapsed`, answered or not.
pub fn outgoing_call_took(elapsed: Duration) {
    if let Some(m) = enabled() {
        m.attempt_duration.observe(elapsed.as_secs_f64());
    }
}

/// A script method was called: counted when script code ran (not when the method is missing or
/// scripts are off).
pub fn script_ran(method: &str, result: &Result<CallOutcome, CallError>) {
    let Some(m) = enabled() else { return };
    let outcome = match result {
        Ok(CallOutcome::NoMethod) | Err(CallError::Disabled) => return,
        Ok(_) => "ok",
        Err(CallError::Timeout) => "timeout",
        Err(_) => "error",
    };
    let kind = match method {
        script::methods::PROCESS_INCOMING_REQUEST => "incoming",
        script::methods::PREPARE_OUTGOING_REQUEST => "outgoing_prepare",
        script::methods::PROCESS_OUTGOING_RESPONSE => "outgoing_response",
        _ => "other",
    };
    m.script_runs.with_label_values(&[kind, outcome]).inc();
}

/// The store committed a transaction of `writes` writes in `elapsed` (the store's observer).
pub fn store_committed(writes: usize, elapsed: Duration) {
    if let Some(m) = enabled() {
        m.commit_writes.observe(writes as f64);
        m.commit_duration.observe(elapsed.as_secs_f64());
    }
}
