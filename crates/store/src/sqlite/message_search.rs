//! Filtered reads of messages (pins, stars, threads, searches) through the query engine, and
//! field updates of one subscription (favourites, ignored users).

use super::SqliteStore;
use super::docs::{exec, one, text};
use super::listing::find;
use crate::ids::now_iso;
use crate::tables::MESSAGES;
use crate::{Doc, DocQuery, StoreResult};
use rusqlite::params;
use serde_json::json;

impl SqliteStore {
    pub(super) async fn find_message_docs(&self, q: DocQuery) -> StoreResult<(Vec<Doc>, usize)> {
        self.read(move |c| find(c, &MESSAGES, q)).await
    }

    pub(super) async fn set_subscription_fields(&self, rid: &str, uid: &str, set: Doc) -> StoreResult<bool> {
        let (rid, uid) = (rid.to_owned(), uid.to_owned());
        self.write(move |c| {
            let Some(mut sub) = one(c, "SELECT doc FROM subscriptions WHERE rid = ?1 AND uid = ?2", [&rid, &uid])?
            else {
                return Ok(false);
            };
            super::rooms::merge_set(&mut sub, set);
            sub.insert("_updatedAt".into(), json!(now_iso()));
            exec(c, "UPDATE subscriptions SET doc = ?3 WHERE rid = ?1 AND uid = ?2", params![rid, uid, text(&sub)])?;
            Ok(true)
        })
        .await
    }
}
