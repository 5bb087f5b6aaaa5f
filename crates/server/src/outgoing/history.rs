//! History records: one per attempt, built in memory as the attempt moves
//! through its steps and written once, with the outbox change that ends the attempt. The
//! `step` field holds the last step reached, as in Rocket.Chat.

use crate::state::AppState;
use serde_json::{Value, json};
use store::ids::{iso, now_iso, random_id};
use store::{Delivery, Doc};

pub struct History {
    doc: Doc,
}

impl History {
    /// `start-execute-trigger-url`: the integration as it is now, the event, the delivery.
    pub fn start(integration: &Doc, event: &str, delivery: &Delivery) -> Self {
        let now = now_iso();
        let mut doc = Doc::new();
        doc.insert("_id".into(), json!(random_id(17)));
        doc.insert("type".into(), json!("outgoing-webhook"));
        doc.insert("step".into(), json!("start-execute-trigger-url"));
        doc.insert("integration".into(), Value::Object(integration.clone()));
        doc.insert("event".into(), json!(event));
        doc.insert("_createdAt".into(), json!(now));
        doc.insert("_updatedAt".into(), json!(now));
        doc.insert("deliveryId".into(), json!(delivery.id));
        doc.insert("attempt".into(), json!(delivery.attempt + 1));
        History { doc }
    }

    pub fn step(&mut self, step: impl Into<String>) -> &mut Self {
        self.doc.insert("step".into(), Value::String(step.into()));
        self
    }

    pub fn set(&mut self, key: &str, value: Value) -> &mut Self {
        self.doc.insert(key.into(), value);
        self
    }

    /// A terminal step: `finished: true`.
    pub fn finish(&mut self, step: &str) -> &mut Self {
        self.step(step).set("finished", json!(true))
    }

    pub fn fail(&mut self, step: &str) -> &mut Self {
        self.step(step).set("error", json!(true))
    }

    pub fn into_doc(mut self) -> Doc {
        self.doc.insert("_updatedAt".into(), json!(now_iso()));
        self.doc
    }
}

/// Applies the retention settings every `Integrations_Outgoing_History_Prune_Interval` ms:
/// at most `Integrations_Outgoing_History_Max_Records` records per integration and none older
/// than `Integrations_Outgoing_History_Max_Age_Days` (0 turns either limit off).
pub async fn prune_loop(state: AppState) {
    loop {
        let interval = state.settings.int("Integrations_Outgoing_History_Prune_Interval").max(100) as u64;
        tokio::time::sleep(std::time::Duration::from_millis(interval)).await;
        let max = state.settings.int("Integrations_Outgoing_History_Max_Records");
        let days = state.settings.int("Integrations_Outgoing_History_Max_Age_Days");
        let before = (days > 0).then(|| iso(chrono::Utc::now() - chrono::Duration::days(days)));
        let max = (max > 0).then_some(max as usize);
        if max.is_none() && before.is_none() {
            continue;
        }
        match state.store().prune_history(max, before).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(deleted = n, "pruned outgoing webhook history"),
            Err(e) => tracing::warn!(error = %e, "pruning outgoing webhook history failed"),
        }
    }
}
