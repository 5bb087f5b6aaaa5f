//! Outgoing webhooks (spec §7): when something happens in the workspace, call the URLs of the
//! matching outgoing integrations, post their answers back, retry failures, record history.
//!
//! The path of one event:
//! 1. The code that raises the event asks this module for the deliveries it causes
//!    ([`message_deliveries`], [`room_deliveries`], [`user_deliveries`]): the in-memory
//!    [`index`] picks the integrations, trigger words are matched and the payload (§7.5) built.
//! 2. The event's store write carries those deliveries (`Store::*_with_deliveries`): the outbox
//!    rows commit in the same transaction as the message, room or user.
//! 3. [`enqueued`] wakes the [`worker`] dispatcher, which claims due deliveries per URL (bounded
//!    concurrency per URL and in all) and runs each attempt on its own task; the attempt's
//!    history record is written in the same transaction that removes or reschedules the row.

pub mod api;
pub mod history;
pub mod http;
pub mod index;
pub mod payload;
pub mod retry;
pub mod signing;
pub mod worker;

use crate::domain::str_of;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde_json::{Map, Value, json};
use store::ids::{now_iso, now_ms, object_id};
use store::{Delivery, Doc};

/// Rocket.Chat's default `User-Agent` for outgoing calls.
pub const USER_AGENT: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/41.0.2227.0 Safari/537.36";

/// The engine's shared parts, held in the application state.
#[derive(Default)]
pub struct Outgoing {
    pub index: index::IndexCache,
    pub dispatcher: worker::Dispatcher,
    pub recorder: worker::Recorder,
    clients: std::sync::OnceLock<http::Clients>,
}

impl Outgoing {
    pub fn clients(&self) -> &http::Clients {
        self.clients.get_or_init(http::Clients::new)
    }
}

fn delivery(hook: &index::Hook, url: &str, event: &str, data: Map<String, Value>, trigger: Option<&str>, rid: Option<&str>) -> Delivery {
    let mut doc = Doc::new();
    doc.insert("event".into(), json!(event));
    doc.insert("data".into(), Value::Object(data));
    if let Some(word) = trigger {
        doc.insert("triggerWord".into(), json!(word));
    }
    if let Some(rid) = rid {
        doc.insert("roomId".into(), json!(rid));
    }
    doc.insert("createdAt".into(), json!(now_iso()));
    Delivery {
        id: object_id(),
        integration_id: hook.id.clone(),
        url: url.to_owned(),
        due_at: now_ms(),
        attempt: 0,
        doc,
    }
}

/// The deliveries a new or edited message causes (`sendMessage`, §7.3–7.4).
pub async fn message_deliveries(state: &AppState, room: &Doc, message: &Doc, edited: bool) -> ApiResult<Vec<Delivery>> {
    let ix = state.outgoing.index.get(state.store()).await?;
    if ix.is_empty() {
        return Ok(Vec::new());
    }
    let sender = message.get("u").and_then(|u| u.get("username")).and_then(Value::as_str);
    let bot = message.get("bot").and_then(|b| b.get("i")).and_then(Value::as_str);
    let text = str_of(message, "msg");
    let mut out = Vec::new();
    for hook in ix.select("sendMessage", Some(room), sender) {
        // An integration's own answers never trigger it again.
        if bot == Some(hook.id.as_str()) {
            continue;
        }
        let Some(trigger) = hook.trigger(text) else { continue };
        if edited && !hook.run_on_edits {
            continue;
        }
        let data = payload::send_message(&hook.doc, trigger, room, message, &state.root_url);
        for url in &hook.urls {
            out.push(delivery(&hook, url, "sendMessage", data.clone(), trigger, Some(str_of(room, "_id"))));
        }
    }
    Ok(out)
}

/// The deliveries of a room event: `roomCreated` (`user` = owner), `roomArchived`,
/// `roomJoined`, `roomLeft`.
pub async fn room_deliveries(state: &AppState, event: &str, room: &Doc, user: &Doc) -> ApiResult<Vec<Delivery>> {
    let ix = state.outgoing.index.get(state.store()).await?;
    if ix.is_empty() {
        return Ok(Vec::new());
    }
    let now = now_iso();
    let mut out = Vec::new();
    for hook in ix.select(event, Some(room), None) {
        let data = match event {
            "roomCreated" => payload::room_created(&hook.doc, room, user),
            _ => payload::room_user(&hook.doc, room, user, &now),
        };
        for url in &hook.urls {
            out.push(delivery(&hook, url, event, data.clone(), None, Some(str_of(room, "_id"))));
        }
    }
    Ok(out)
}

/// The deliveries of `userCreated`.
pub async fn user_deliveries(state: &AppState, user: &Doc) -> ApiResult<Vec<Delivery>> {
    let ix = state.outgoing.index.get(state.store()).await?;
    if ix.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for hook in ix.select("userCreated", None, None) {
        let data = payload::user_created(&hook.doc, user);
        for url in &hook.urls {
            out.push(delivery(&hook, url, "userCreated", data.clone(), None, None));
        }
    }
    Ok(out)
}

/// Tells the dispatcher that committed deliveries are waiting.
pub fn enqueued(state: &AppState, deliveries: &[Delivery]) {
    for d in deliveries {
        state.outgoing.dispatcher.due(&d.url, d.due_at);
    }
}

/// Starts the dispatcher and the history pruner.
pub fn start(state: &AppState) {
    tokio::spawn(worker::run(state.clone()));
    tokio::spawn(history::prune_loop(state.clone()));
}

/// `replayOutgoingIntegration` (§7.9): runs the recorded call again as a new delivery.
pub async fn replay(state: &AppState, integration: &Doc, record: &Doc) -> ApiResult<()> {
    const M: &str = "replayOutgoingIntegration";
    let details = || json!({"method": M});
    if str_of(integration, "type") != crate::domain::integrations::OUTGOING {
        return Err(ApiError::meteor_details("integration-type-must-be-outgoing", "Integration type must be outgoing", details()));
    }
    let Some(Value::Object(data)) = record.get("data") else {
        return Err(ApiError::meteor_details("history-data-must-be-defined", "History data must be defined", details()));
    };
    let Some(url) = record.get("url").and_then(Value::as_str).filter(|u| !u.is_empty()) else {
        return Ok(());
    };
    let hook = index::Hook::new(integration.clone());
    let event = record.get("event").and_then(Value::as_str).unwrap_or("sendMessage");
    let trigger = record.get("triggerWord").and_then(Value::as_str);
    let rid = data.get("channel_id").and_then(Value::as_str);
    let mut d = delivery(&hook, url, event, data.clone(), trigger, rid);
    d.doc.insert("replayOf".into(), json!(str_of(record, "_id")));
    state.store().enqueue_deliveries(vec![d.clone()]).await?;
    enqueued(state, &[d]);
    Ok(())
}
