//! `Store` for PostgreSQL: each change that can raise an event, written in one transaction
//! with its outbox rows (changes to what other nodes cache notify them), and the node's life:
//! first start, other nodes' changes, closing.

use super::PgStore;
use super::docs::{exec, one, pg};
use super::notify::changed;
use super::outbox_rows::insert_deliveries;
use super::rooms::{
    get_room, insert_subscription, merge_set, put_message, put_room, put_team, remove_subscription, room_for_update,
};
use crate::ids::now_iso;
use crate::{Change, Committed, Delivery, OutboxStore, Store, StoreError, StoreResult};
use async_trait::async_trait;
use serde_json::json;
use std::time::Instant;
use tokio_postgres::types::Json;

#[async_trait]
impl Store for PgStore {
    async fn commit(&self, change: Change, deliveries: Vec<Delivery>) -> StoreResult<Committed> {
        // New messages go through the group commit; one it hands back is written alone below,
        // as are thread replies, which also lock and count on their thread's first message.
        let (change, deliveries) = match change {
            Change::InsertMessage(message) if !message.contains_key("tmid") => {
                match self.messages.insert(message, deliveries).await? {
                    Ok(message) => return Ok(Committed { applied: true, doc: Some(message) }),
                    Err(alone) => (Change::InsertMessage(alone.message), alone.deliveries),
                }
            }
            other => (other, deliveries),
        };
        let mut c = self.conn().await?;
        let started = Instant::now();
        let tx = c.transaction().await.map_err(pg)?;
        let mut done = Committed { applied: true, doc: None };
        // Rooms and memberships are cached by other nodes (permissions per room, hook plans).
        let mut rooms_changed = true;
        let mut updated_room = None;
        match change {
            Change::InsertMessage(message) => {
                put_message(&tx, &message).await?;
                super::messages::count_thread_reply(&tx, &message).await?;
                done.doc = Some(message);
                rooms_changed = false;
            }
            Change::EditMessage { id, edit } => {
                let sql = "SELECT doc FROM messages WHERE id = $1 FOR UPDATE";
                let Some(mut message) = one(&tx, sql, &[&id]).await? else { return Err(StoreError::NotFound) };
                done.applied = edit.apply(&mut message);
                if done.applied {
                    exec(&tx, "UPDATE messages SET doc = $2 WHERE id = $1", &[&id, &Json(&message)]).await?;
                }
                done.doc = Some(message);
                rooms_changed = false;
            }
            Change::CreateRoom { room, subscriptions } => {
                put_room(&tx, &room, true).await?;
                for sub in &subscriptions {
                    insert_subscription(&tx, sub).await?;
                }
            }
            Change::CreateTeam { team, main_room, room_subscriptions, members } => {
                put_team(&tx, &team, &main_room, &room_subscriptions, &members).await?;
            }
            Change::Subscribe { subscription, system_message } => {
                done.applied = insert_subscription(&tx, &subscription).await?;
                if done.applied
                    && let Some(msg) = &system_message
                {
                    put_message(&tx, msg).await?;
                }
            }
            Change::Unsubscribe { rid, uid, system_message } => {
                done.applied = remove_subscription(&tx, &rid, &uid).await?;
                if done.applied
                    && let Some(msg) = &system_message
                {
                    put_message(&tx, msg).await?;
                }
            }
            Change::UpdateRoom { id, set } => match room_for_update(&tx, &id).await? {
                None => done.applied = false,
                Some(mut room) => {
                    merge_set(&mut room, set);
                    room.insert("_updatedAt".into(), json!(now_iso()));
                    put_room(&tx, &room, false).await?;
                    super::rooms::sync_subscriptions(&tx, &room).await?;
                    updated_room = Some((id, room));
                }
            },
            Change::InsertUser(user) => {
                super::users::put_user(&tx, &user, true).await?;
                rooms_changed = false;
            }
            Change::Nothing => rooms_changed = false,
        }
        if !done.applied {
            tx.commit().await.map_err(pg)?;
            self.commit_observer.committed(1, started);
            return Ok(done);
        }
        insert_deliveries(&tx, &deliveries).await?;
        if rooms_changed {
            changed(&tx, "rooms").await?;
        }
        tx.commit().await.map_err(pg)?;
        self.commit_observer.committed(1, started);
        if let Some((id, room)) = updated_room {
            // Read back: a message posted meanwhile may have moved the counters.
            let c = self.conn().await?;
            done.doc = Some(get_room(&c, &id).await?.unwrap_or(room));
        }
        Ok(done)
    }

    fn shared(&self) -> bool {
        true
    }

    async fn first_start_guard(&self) -> StoreResult<Box<dyn std::any::Any + Send + Sync>> {
        Ok(Box::new(self.lock_first_start().await?))
    }

    fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<String>> {
        Some(self.changes.subscribe())
    }

    fn set_commit_observer(&self, observer: crate::CommitObserver) {
        self.commit_observer.set(observer);
    }

    /// Gives this node's claims back, so other nodes take them at once rather than when the
    /// lease runs out.
    async fn close(&self) {
        match self.release_claimed_deliveries().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(released = n, "released this node's delivery claims"),
            Err(e) => tracing::warn!(error = %e, "could not release this node's delivery claims"),
        }
        self.listener.abort();
        self.pool.close();
    }
}
