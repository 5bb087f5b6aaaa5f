//! Workspace settings by their Rocket.Chat ids: defaults, stored values, and
//! `OVERWRITE_SETTING_<id>` overrides from the environment (applied on every start).

use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::RwLock;
use store::Store;

/// The settings Liftoff reads, with Rocket.Chat's defaults.
fn defaults() -> Vec<(&'static str, Value)> {
    vec![
        ("Site_Url", json!("")),
        ("API_Default_Count", json!(50)),
        ("API_Upper_Count_Limit", json!(100)),
        ("API_Allow_Infinite_Count", json!(true)),
        ("API_Enable_Rate_Limiter", json!(true)),
        ("API_Enable_Rate_Limiter_Limit_Calls_Default", json!(10)),
        ("API_Enable_Rate_Limiter_Limit_Time_Default", json!(60000)),
        ("Message_MaxAllowedSize", json!(5000)),
        ("Message_AllowEditing", json!(true)),
        ("Message_AllowEditing_BlockEditInMinutes", json!(0)),
        ("Message_AllowDeleting", json!(true)),
        ("Message_AllowDeleting_BlockDeleteInMinutes", json!(0)),
        ("UTF8_Channel_Names_Validation", json!("[0-9a-zA-Z-_.]+")),
        ("UTF8_User_Names_Validation", json!("[0-9a-zA-Z-_.]+")),
        ("Accounts_SystemBlockedUsernameList", json!("admin,administrator,system,user")),
        ("Accounts_Registration_Users_Default_Roles", json!("user")),
        ("Accounts_RegistrationForm", json!("Public")),
        ("Accounts_RequireNameForSignUp", json!(true)),
        ("Initial_Channel_Created", json!(false)),
        ("API_Enable_Direct_Message_History_EndPoint", json!(false)),
        ("Message_AllowPinning", json!(true)),
        ("Message_AllowStarring", json!(true)),
        ("Threads_enabled", json!(true)),
        ("Discussion_enabled", json!(true)),
        ("E2E_Enable", json!(false)),
        // URL previews (`chat.getURLPreview`).
        (
            "API_Embed_UserAgent",
            json!(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/41.0.2227.0 Safari/537.36"
            ),
        ),
        ("API_EmbedIgnoredHosts", json!("localhost, 127.0.0.1, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16")),
        ("API_EmbedSafePorts", json!("80, 443")),
        // Liftoff's own settings.
        ("Integrations_Outgoing_Allow_Private_Addresses", json!(false)),
        ("Integrations_Outgoing_Timeout", json!(20000)),
        // How long (ms) a node holds a claimed delivery before another node may take it over.
        ("Integrations_Outgoing_Claim_Lease", json!(60000)),
        ("Integrations_Script_Timeout", json!(3000)),
        ("Integrations_Script_Memory_Limit_MB", json!(8)),
        // Scripts' fetch: calls per script run, response bytes, calls at once per integration.
        ("Integrations_Script_Max_Fetches", json!(10)),
        ("Integrations_Script_Max_Fetch_Bytes", json!(1024 * 1024)),
        ("Integrations_Script_Max_Concurrent_Fetches", json!(8)),
        ("API_Allow_Query_And_Fields", json!(true)),
        ("Integrations_Hooks_Max_Body_Size", json!(1024 * 1024)),
        ("Integrations_Hooks_Rate_Limit_Calls", json!(0)),
        ("Integrations_Hooks_Rate_Limit_Time", json!(60000)),
        ("Integrations_Hooks_Cache_TTL", json!(500)),
        ("Prometheus_Enabled", json!(false)),
        ("Prometheus_Port", json!(9458)),
        // Outgoing webhooks: retry delays in percent of Rocket.Chat's schedules (tests shrink
        // them), calls at once per URL, and history retention (0 = no limit).
        ("Integrations_Outgoing_Retry_Delay_Percent", json!(100)),
        ("Integrations_Outgoing_Max_Concurrency_Per_Url", json!(16)),
        ("Integrations_Outgoing_History_Max_Records", json!(1000)),
        ("Integrations_Outgoing_History_Max_Age_Days", json!(30)),
        ("Integrations_Outgoing_History_Prune_Interval", json!(60000)),
    ]
}

pub struct Settings {
    values: RwLock<HashMap<String, Value>>,
}

/// Rocket.Chat's conversion of an override: "true"/"false" (any case) become booleans, numeric
/// settings are parsed as integers, anything else stays a string.
fn convert(raw: &str, current: Option<&Value>) -> Value {
    match raw.to_ascii_lowercase().as_str() {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    if matches!(current, Some(Value::Number(_)))
        && let Ok(n) = raw.trim().parse::<i64>()
    {
        return json!(n);
    }
    Value::String(raw.to_owned())
}

impl Settings {
    /// Loads settings: defaults, then stored values, then environment overrides (which are saved).
    pub async fn load(store: &dyn Store) -> Result<Self, store::StoreError> {
        let mut values: HashMap<String, Value> = defaults().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        for (id, value) in store.settings().await? {
            values.insert(id, value);
        }
        for (key, raw) in std::env::vars() {
            if let Some(id) = key.strip_prefix("OVERWRITE_SETTING_") {
                let value = convert(&raw, values.get(id));
                store.save_setting(id, value.clone()).await?;
                values.insert(id.to_owned(), value);
            }
        }
        Ok(Self { values: RwLock::new(values) })
    }

    pub fn get(&self, id: &str) -> Option<Value> {
        self.values.read().expect("settings lock").get(id).cloned()
    }

    /// Every setting with its current value, sorted by id.
    pub fn all(&self) -> Vec<(String, Value)> {
        let mut all: Vec<(String, Value)> =
            self.values.read().expect("settings lock").iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    pub fn int(&self, id: &str) -> i64 {
        match self.get(id) {
            Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
            Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
            _ => 0,
        }
    }

    pub fn bool(&self, id: &str) -> bool {
        match self.get(id) {
            Some(Value::Bool(b)) => b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            Some(Value::Number(n)) => n.as_i64().unwrap_or(0) != 0,
            _ => false,
        }
    }

    pub fn string(&self, id: &str) -> String {
        match self.get(id) {
            Some(Value::String(s)) => s,
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        }
    }

    pub async fn set(&self, store: &dyn Store, id: &str, value: Value) -> Result<(), store::StoreError> {
        store.save_setting(id, value.clone()).await?;
        self.values.write().expect("settings lock").insert(id.to_owned(), value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_overrides_like_rocket_chat() {
        assert_eq!(convert("TRUE", Some(&json!(false))), json!(true));
        assert_eq!(convert("false", Some(&json!(10))), json!(false));
        assert_eq!(convert("100", Some(&json!(50))), json!(100));
        assert_eq!(convert("100", Some(&json!("x"))), json!("100"));
        assert_eq!(convert("abc", Some(&json!(5))), json!("abc"));
    }
}
