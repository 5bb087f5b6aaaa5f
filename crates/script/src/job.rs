//! What the host sends to a script worker thread: the messages and the key of a compiled
//! script. A leaf module, so the host and its workers both depend on it and not on each other.

use std::borrow::Cow;
use std::sync::Arc;

use tokio::sync::oneshot;

use crate::{CallError, CallOutcome, MemoryStats, ScriptError};

/// Identifies one compiled version of an integration's script. A call with
/// the same `integration_id` but another `version` (Rocket.Chat uses the
/// integration's `_updatedAt`) discards the cached context and its `Store`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScriptKey {
    pub integration_id: String,
    pub version: String,
}

impl ScriptKey {
    pub fn new(integration_id: impl Into<String>, version: impl Into<String>) -> Self {
        ScriptKey { integration_id: integration_id.into(), version: version.into() }
    }
}

type Reply<T> = oneshot::Sender<T>;

pub(crate) enum Job {
    Call {
        key: ScriptKey,
        source: Arc<str>,
        method: Cow<'static, str>,
        json_arg: String,
        reply: Reply<Result<CallOutcome, CallError>>,
    },
    Compile {
        source: Arc<str>,
        reply: Reply<Result<(), ScriptError>>,
    },
    Forget {
        integration_id: String,
    },
    Memory {
        integration_id: String,
        reply: Reply<Option<MemoryStats>>,
    },
}
