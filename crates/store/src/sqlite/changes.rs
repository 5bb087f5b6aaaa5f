//! `Store` for SQLite: each change that can raise an event, written inside the writer's
//! transaction that also stores its outbox rows, and closing the store.

use super::SqliteStore;
use super::docs::{exec, one, text};
use super::messages::put_message;
use super::rooms::{bump_users_count, get_room, insert_subscription, merge_set, put_room, put_team};
use super::user_rows::{put_user, touch_user_rooms};
use crate::ids::now_iso;
use crate::{Change, Committed, Delivery, Store, StoreError, StoreResult};
use async_trait::async_trait;
use rusqlite::{Connection, params};
use serde_json::json;

/// Applies a change; the flag says whether it applied (and so whether its deliveries are stored).
pub(super) fn apply(c: &Connection, change: Change) -> StoreResult<(Committed, bool)> {
    let applied = |doc| Ok((Committed { applied: true, doc }, true));
    let skipped = || Ok((Committed { applied: false, doc: None }, false));
    match change {
        Change::InsertMessage(message) => {
            put_message(c, &message)?;
            super::messages::count_thread_reply(c, &message)?;
            applied(Some(message))
        }
        Change::EditMessage { id, edit } => {
            // The writer thread runs one write at a time: nothing changes the row in between.
            let Some(mut message) = one(c, "SELECT doc FROM messages WHERE id = ?1", [&id])? else {
                return Err(StoreError::NotFound);
            };
            if !edit.apply(&mut message) {
                return Ok((Committed { applied: false, doc: Some(message) }, false));
            }
            exec(c, "UPDATE messages SET doc = ?2 WHERE id = ?1", params![id, text(&message)])?;
            applied(Some(message))
        }
        Change::CreateRoom { room, subscriptions } => {
            put_room(c, &room, true)?;
            for sub in &subscriptions {
                insert_subscription(c, sub)?;
            }
            applied(None)
        }
        Change::CreateTeam { team, main_room, room_subscriptions, members } => {
            put_team(c, &team, &main_room, &room_subscriptions, &members)?;
            applied(None)
        }
        Change::Subscribe { subscription, system_message } => {
            if !insert_subscription(c, &subscription)? {
                return skipped();
            }
            if let Some(msg) = &system_message {
                put_message(c, msg)?;
            }
            applied(None)
        }
        Change::Unsubscribe { rid, uid, system_message } => {
            if exec(c, "DELETE FROM subscriptions WHERE rid = ?1 AND uid = ?2", params![rid, uid])? != 1 {
                return skipped();
            }
            bump_users_count(c, &rid, -1)?;
            touch_user_rooms(c, &uid, &rid, false)?;
            if let Some(msg) = &system_message {
                put_message(c, msg)?;
            }
            applied(None)
        }
        Change::UpdateRoom { id, set } => {
            let Some(mut room) = get_room(c, &id)? else { return skipped() };
            merge_set(&mut room, set);
            room.insert("_updatedAt".into(), json!(now_iso()));
            put_room(c, &room, false)?;
            super::subscriptions::sync_subscriptions(c, &room)?;
            applied(Some(room))
        }
        Change::InsertUser(user) => {
            put_user(c, &user, true)?;
            applied(None)
        }
        Change::Nothing => applied(None),
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn commit(&self, change: Change, deliveries: Vec<Delivery>) -> StoreResult<Committed> {
        self.with_deliveries(deliveries, move |c| apply(c, change)).await
    }

    fn set_commit_observer(&self, observer: crate::CommitObserver) {
        self.writer.observe_commits(observer);
    }

    async fn close(&self) {
        self.writer.close().await;
        self.readers.close();
        if let Some(handle) = self.writer_thread.lock().expect("writer handle lock").take() {
            let _ = handle.join();
        }
    }
}
