//! The in-memory index of outgoing integrations by channel bucket.
//!
//! Rebuilt from the store whenever the store's integration generation moved, so every change
//! (API, 410 disabling, another writer) is seen by the next event; checking costs one atomic
//! load on the message path.

use crate::domain::integration_kinds::{OUTGOING, event_info};
use crate::domain::str_of;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use store::{Doc, DocQuery, Store, StoreResult};

/// An outgoing integration as the engine uses it.
#[derive(Debug)]
pub struct Hook {
    pub doc: Arc<Doc>,
    pub id: String,
    pub event: String,
    pub enabled: bool,
    pub urls: Vec<String>,
    pub trigger_words: Vec<String>,
    pub anywhere: bool,
    pub run_on_edits: bool,
}

fn strings(doc: &Doc, key: &str) -> Vec<String> {
    match doc.get(key) {
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn flag(doc: &Doc, key: &str) -> bool {
    doc.get(key).and_then(Value::as_bool) == Some(true)
}

impl Hook {
    pub fn new(doc: Doc) -> Self {
        let event = str_of(&doc, "event").to_owned();
        let uses_triggers = event_info(&event).is_some_and(|(_, t, _)| t);
        Hook {
            id: str_of(&doc, "_id").to_owned(),
            enabled: flag(&doc, "enabled"),
            urls: strings(&doc, "urls").into_iter().filter(|u| !u.trim().is_empty()).collect(),
            trigger_words: if uses_triggers {
                strings(&doc, "triggerWords").into_iter().filter(|w| !w.is_empty()).collect()
            } else {
                Vec::new()
            },
            anywhere: flag(&doc, "triggerWordAnywhere"),
            run_on_edits: flag(&doc, "runOnEdits"),
            event,
            doc: Arc::new(doc),
        }
    }

    /// The first configured trigger word the text starts with (or contains, with
    /// `triggerWordAnywhere`). `Some(None)`: no trigger words, every message matches.
    pub fn trigger(&self, text: &str) -> Option<Option<&str>> {
        if self.trigger_words.is_empty() {
            return Some(None);
        }
        self.trigger_words
            .iter()
            .find(|w| if self.anywhere { text.contains(w.as_str()) } else { text.starts_with(w.as_str()) })
            .map(|w| Some(w.as_str()))
    }
}

#[derive(Default)]
pub struct Index {
    generation: u64,
    buckets: HashMap<String, Vec<Arc<Hook>>>,
    /// Integrations of events that do not use channels.
    any: Vec<Arc<Hook>>,
    by_id: HashMap<String, Arc<Hook>>,
}

impl Index {
    pub fn build(generation: u64, docs: Vec<Doc>) -> Self {
        let mut ix = Index { generation, ..Default::default() };
        for doc in docs {
            if str_of(&doc, "type") != OUTGOING {
                continue;
            }
            let hook = Arc::new(Hook::new(doc));
            let uses_channels = event_info(&hook.event).is_none_or(|(c, _, _)| c);
            if !uses_channels {
                ix.any.push(hook.clone());
            } else {
                let channels = strings(&hook.doc, "channel");
                if channels.is_empty() {
                    ix.buckets.entry("all_public_channels".into()).or_default().push(hook.clone());
                }
                for c in channels {
                    let bucket = ix.buckets.entry(c).or_default();
                    if !bucket.iter().any(|h| h.id == hook.id) {
                        bucket.push(hook.clone());
                    }
                }
            }
            ix.by_id.insert(hook.id.clone(), hook);
        }
        ix
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Hook>> {
        self.by_id.get(id)
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The enabled integrations of `event` for an event in `room` (`None`: no room).
    /// `sender` is the username left out of a direct room's `@username` buckets.
    pub fn select(&self, event: &str, room: Option<&Doc>, sender: Option<&str>) -> Vec<Arc<Hook>> {
        let mut out: Vec<Arc<Hook>> = Vec::new();
        let mut push = |hooks: Option<&Vec<Arc<Hook>>>| {
            for h in hooks.into_iter().flatten() {
                if h.enabled && h.event == event && !out.iter().any(|o| o.id == h.id) {
                    out.push(h.clone());
                }
            }
        };
        if let Some(room) = room {
            let rid = str_of(room, "_id");
            match str_of(room, "t") {
                "d" => {
                    push(self.buckets.get("all_direct_messages"));
                    for uid in strings(room, "uids") {
                        push(self.buckets.get(&format!("@{uid}")));
                    }
                    for name in strings(room, "usernames") {
                        if Some(name.as_str()) != sender {
                            push(self.buckets.get(&format!("@{name}")));
                        }
                    }
                }
                t => {
                    push(self.buckets.get(if t == "c" { "all_public_channels" } else { "all_private_groups" }));
                    push(self.buckets.get(&format!("#{rid}")));
                    if let Some(name) = room.get("name").and_then(Value::as_str) {
                        push(self.buckets.get(&format!("#{name}")));
                    }
                }
            }
        }
        push(Some(&self.any));
        out
    }
}

/// The current index, reloaded when the store's integrations changed.
#[derive(Default)]
pub struct IndexCache {
    current: RwLock<Option<Arc<Index>>>,
    reload: tokio::sync::Mutex<()>,
}

impl IndexCache {
    pub async fn get(&self, store: &dyn Store) -> StoreResult<Arc<Index>> {
        let generation = store.integrations_generation();
        if let Some(ix) = self.current.read().expect("outgoing index lock").as_ref()
            && ix.generation == generation
        {
            return Ok(ix.clone());
        }
        let _one_loader = self.reload.lock().await;
        let generation = store.integrations_generation();
        if let Some(ix) = self.current.read().expect("outgoing index lock").as_ref()
            && ix.generation == generation
        {
            return Ok(ix.clone());
        }
        let (docs, _) = store.find_integrations(DocQuery::all(query::Filter::eq("type", OUTGOING))).await?;
        let ix = Arc::new(Index::build(generation, docs));
        *self.current.write().expect("outgoing index lock") = Some(ix.clone());
        Ok(ix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hook(id: &str, event: &str, channel: Value, extra: Value) -> Doc {
        let mut d = crate::domain::doc(json!({"_id": id, "type": OUTGOING, "event": event, "enabled": true,
            "channel": channel, "urls": ["http://x"]}));
        if let Value::Object(e) = extra {
            d.extend(e);
        }
        d
    }

    fn ids(v: Vec<Arc<Hook>>) -> Vec<String> {
        v.iter().map(|h| h.id.clone()).collect()
    }

    #[test]
    fn buckets_and_selection() {
        let ix = Index::build(
            1,
            vec![
                hook("a", "sendMessage", json!(["#general"]), json!({})),
                hook("b", "sendMessage", json!(["#GENERAL", "all_public_channels"]), json!({})),
                hook("c", "sendMessage", json!(["all_private_groups"]), json!({})),
                hook("d", "sendMessage", json!(["@bob"]), json!({})),
                hook("e", "sendMessage", json!(["all_direct_messages"]), json!({})),
                hook("f", "roomCreated", json!([]), json!({})),
                hook("g", "sendMessage", json!(["#general"]), json!({"enabled": false})),
                hook("h", "sendMessage", json!([]), json!({})),
            ],
        );
        let general = crate::domain::doc(json!({"_id": "GENERAL", "name": "general", "t": "c"}));
        assert_eq!(ids(ix.select("sendMessage", Some(&general), None)), ["b", "h", "a"]);
        let group = crate::domain::doc(json!({"_id": "G1", "name": "secret", "t": "p"}));
        assert_eq!(ids(ix.select("sendMessage", Some(&group), None)), ["c"]);
        let dm =
            crate::domain::doc(json!({"_id": "ab", "t": "d", "uids": ["a1", "b1"], "usernames": ["alice", "bob"]}));
        assert_eq!(ids(ix.select("sendMessage", Some(&dm), Some("alice"))), ["e", "d"]);
        assert_eq!(ids(ix.select("sendMessage", Some(&dm), Some("bob"))), ["e"]);
        assert_eq!(ids(ix.select("roomCreated", Some(&general), None)), ["f"]);
    }

    #[test]
    fn trigger_words() {
        let h = Hook::new(hook("a", "sendMessage", json!([]), json!({"triggerWords": ["!gif", "deploy"]})));
        assert_eq!(h.trigger("!giffy cats"), Some(Some("!gif")));
        assert_eq!(h.trigger("please deploy"), None);
        let any = Hook::new(hook(
            "a",
            "sendMessage",
            json!([]),
            json!({"triggerWords": ["!gif", "deploy"], "triggerWordAnywhere": true}),
        ));
        assert_eq!(any.trigger("please deploy !gif"), Some(Some("!gif")));
        assert_eq!(any.trigger("please deploy"), Some(Some("deploy")));
        let none = Hook::new(hook("a", "roomJoined", json!([]), json!({"triggerWords": ["x"]})));
        assert_eq!(none.trigger("anything"), Some(None));
    }
}
