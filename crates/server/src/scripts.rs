//! How integration scripts are allowed to change and run: Rocket.Chat's
//! `DISABLE_INTEGRATION_SCRIPTS` and `FREEZE_INTEGRATION_SCRIPTS`, and compiling a script when
//! an integration is saved.

pub mod fetch;

use serde_json::{Value, json};
use store::Doc;

/// The only engine Liftoff has; stored as Rocket.Chat's name for its sandbox.
pub const DEFAULT_ENGINE: &str = "isolated-vm";

#[derive(Debug, Clone, Default)]
pub struct ScriptPolicy {
    /// Scripts never run (`DISABLE_INTEGRATION_SCRIPTS` ∈ yes/true/ivm).
    pub disabled: bool,
    /// Engines whose scripts may not be created or changed (`FREEZE_INTEGRATION_SCRIPTS`).
    pub frozen: Frozen,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Frozen {
    #[default]
    None,
    All,
    IsolatedVm,
    Vm2,
}

fn env_lower(name: &str) -> String {
    std::env::var(name).unwrap_or_default().trim().to_ascii_lowercase()
}

impl ScriptPolicy {
    pub fn from_env() -> Self {
        let disabled = matches!(env_lower("DISABLE_INTEGRATION_SCRIPTS").as_str(), "yes" | "true" | "ivm");
        let frozen = match env_lower("FREEZE_INTEGRATION_SCRIPTS").as_str() {
            "yes" | "true" => Frozen::All,
            "ivm" => Frozen::IsolatedVm,
            "vm2" => Frozen::Vm2,
            _ => Frozen::None,
        };
        Self { disabled, frozen }
    }

    /// `validateScriptEngine`: the error code when scripts of `engine` are frozen.
    pub fn frozen_error(&self, engine: &str) -> Option<&'static str> {
        match (&self.frozen, engine) {
            (Frozen::All, _) => Some("integration-scripts-disabled"),
            (Frozen::IsolatedVm, "isolated-vm") => Some("integration-scripts-isolated-vm-disabled"),
            (Frozen::Vm2, "vm2") => Some("integration-scripts-vm2-disabled"),
            _ => None,
        }
    }

    pub fn is_frozen(&self, engine: &str) -> bool {
        self.frozen_error(engine).is_some()
    }
}

/// Whether a stored integration has a script that may run.
pub fn has_runnable_script(policy: &ScriptPolicy, integration: &Doc) -> bool {
    !policy.disabled
        && integration.get("scriptEnabled").and_then(Value::as_bool) == Some(true)
        && integration.get("scriptCompiled").and_then(Value::as_str).is_some_and(|s| !s.trim().is_empty())
}

/// Compiles a script: `Ok(source)` to store as `scriptCompiled`, or the `scriptError` object.
pub async fn compile(host: &script::ScriptHost, source: &str) -> Result<String, Value> {
    match host.compile(source.into()).await {
        Ok(()) => Ok(source.to_owned()),
        Err(e) => Err(json!({"name": e.name, "message": e.message, "stack": e.stack})),
    }
}

/// The version of an integration's script: its `_updatedAt` (every change through the API
/// moves it), which keys compiled scripts and cached plans.
pub fn version(integration: &Doc) -> String {
    match integration.get("_updatedAt") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}
