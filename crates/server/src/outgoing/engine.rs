//! The engine's shared parts, held in the application state, and the event sink the domain
//! raises events through: which integrations an event reaches (the in-memory [`index`]),
//! trigger words, the payload of each, and one outbox row per URL.
//!
//! Nothing here needs the application state, so the state can hold the engine without a
//! dependency cycle; the tasks that run deliveries (`dispatch`, `attempt`) take the state.
//!
//! [`index`]: super::index

use super::index::{Hook, IndexCache};
use super::lanes::Dispatcher;
use super::payload;
use super::recorder::Recorder;
use crate::domain::events::{Event, EventSink};
use crate::domain::str_of;
use crate::outbound_http::Clients;
use async_trait::async_trait;
use serde_json::{Map, Value, json};
use store::ids::{now_iso, now_ms, object_id};
use store::{Delivery, Doc, Store, StoreResult};

/// Integrations index, delivery lanes, attempt recorder and HTTP clients.
pub struct Outgoing {
    pub index: IndexCache,
    pub dispatcher: Dispatcher,
    pub recorder: Recorder,
    /// Public base URL of the server (`siteUrl` of `sendMessage` payloads).
    root_url: String,
    clients: std::sync::OnceLock<Clients>,
}

impl Outgoing {
    pub fn new(root_url: String) -> Self {
        Outgoing {
            index: IndexCache::default(),
            dispatcher: Dispatcher::default(),
            recorder: Recorder::default(),
            root_url,
            clients: std::sync::OnceLock::new(),
        }
    }

    pub fn clients(&self) -> &Clients {
        self.clients.get_or_init(Clients::new)
    }
}

/// One outbox row: a call of `url` for `hook` with the event's payload.
pub fn delivery(
    hook: &Hook,
    url: &str,
    event: &str,
    data: Map<String, Value>,
    trigger: Option<&str>,
    rid: Option<&str>,
) -> Delivery {
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

#[async_trait]
impl EventSink for Outgoing {
    async fn deliveries(&self, store: &dyn Store, event: Event<'_>) -> StoreResult<Vec<Delivery>> {
        let ix = self.index.get(store).await?;
        if ix.is_empty() {
            return Ok(Vec::new());
        }
        let name = event.name();
        let room = event.room();
        let rid = room.map(|r| str_of(r, "_id"));
        // A direct room's own sender is left out of its `@username` buckets.
        let sender = match event {
            Event::SendMessage { message, .. } => {
                message.get("u").and_then(|u| u.get("username")).and_then(Value::as_str)
            }
            _ => None,
        };
        let now = now_iso();
        let mut out = Vec::new();
        for hook in ix.select(name, room, sender) {
            let (data, trigger) = match event {
                Event::SendMessage { room, message, edited } => {
                    // An integration's own answers never trigger it again.
                    let bot = message.get("bot").and_then(|b| b.get("i")).and_then(Value::as_str);
                    if bot == Some(hook.id.as_str()) {
                        continue;
                    }
                    let Some(trigger) = hook.trigger(str_of(message, "msg")) else { continue };
                    if edited && !hook.run_on_edits {
                        continue;
                    }
                    (payload::send_message(&hook.doc, trigger, room, message, &self.root_url), trigger)
                }
                Event::FileUploaded { room, message, user } => {
                    (payload::file_uploaded(&hook.doc, room, message, user), None)
                }
                Event::RoomCreated { room, owner } => (payload::room_created(&hook.doc, room, owner), None),
                Event::RoomArchived { room, user }
                | Event::RoomJoined { room, user }
                | Event::RoomLeft { room, user } => (payload::room_user(&hook.doc, room, user, &now), None),
                Event::UserCreated { user } => (payload::user_created(&hook.doc, user), None),
            };
            for url in &hook.urls {
                out.push(delivery(&hook, url, name, data.clone(), trigger, rid));
            }
        }
        Ok(out)
    }

    fn committed(&self, deliveries: &[Delivery]) {
        for d in deliveries {
            self.dispatcher.due(&d.url, d.due_at);
        }
    }
}
