//! Subscriptions in SQLite: reads, per-user fields (`open`, roles, favourites), and the room's
//! name, display name and type mirrored into every subscription when the room changes.

use super::SqliteStore;
use super::docs::{exec, many, one, text};
use super::messages::put_message;
use super::rooms::merge_set;
use crate::ids::now_iso;
use crate::{Doc, StoreError, StoreResult, SubscriptionStore};
use async_trait::async_trait;
use rusqlite::{Connection, params};
use serde_json::{Value, json};

/// Copies `name`, `fname` and `t` of a room into its subscriptions, as Rocket.Chat keeps them
/// in step on rename and type change. Direct rooms are left alone: there each subscription
/// names the other member.
pub(super) fn sync_subscriptions(conn: &Connection, room: &Doc) -> StoreResult<()> {
    let t = room.get("t").and_then(Value::as_str).unwrap_or_default();
    if t == "d" {
        return Ok(());
    }
    let rid = room.get("_id").and_then(Value::as_str).unwrap_or_default();
    let name = room.get("name").cloned().unwrap_or(Value::Null);
    let fname = room.get("fname").cloned().unwrap_or_else(|| name.clone());
    for mut sub in many(conn, "SELECT doc FROM subscriptions WHERE rid = ?1", [rid])? {
        if sub.get("name") == Some(&name)
            && sub.get("fname") == Some(&fname)
            && sub.get("t").and_then(Value::as_str) == Some(t)
        {
            continue;
        }
        sub.insert("name".into(), name.clone());
        sub.insert("fname".into(), fname.clone());
        sub.insert("t".into(), json!(t));
        let uid = sub.get("u").and_then(|u| u.get("_id")).and_then(Value::as_str).unwrap_or_default().to_owned();
        exec(conn, "UPDATE subscriptions SET doc = ?3 WHERE rid = ?1 AND uid = ?2", params![rid, uid, text(&sub)])?;
    }
    Ok(())
}

/// The subscription of `uid` to `rid` with `change` applied and `_updatedAt` moved, written
/// back; `None` when the user is not subscribed.
fn change_subscription(
    conn: &Connection,
    rid: &str,
    uid: &str,
    change: impl FnOnce(&mut Doc),
) -> StoreResult<Option<()>> {
    let Some(mut sub) = one(conn, "SELECT doc FROM subscriptions WHERE rid = ?1 AND uid = ?2", [rid, uid])? else {
        return Ok(None);
    };
    change(&mut sub);
    sub.insert("_updatedAt".into(), json!(now_iso()));
    exec(conn, "UPDATE subscriptions SET doc = ?3 WHERE rid = ?1 AND uid = ?2", params![rid, uid, text(&sub)])?;
    Ok(Some(()))
}

#[async_trait]
impl SubscriptionStore for SqliteStore {
    async fn subscription(&self, rid: &str, uid: &str) -> StoreResult<Option<Doc>> {
        let (rid, uid) = (rid.to_owned(), uid.to_owned());
        self.read(move |c| one(c, "SELECT doc FROM subscriptions WHERE rid = ?1 AND uid = ?2", [rid, uid])).await
    }

    async fn subscriptions_of_user(&self, uid: &str) -> StoreResult<Vec<Doc>> {
        self.read_many("SELECT doc FROM subscriptions WHERE uid = ?1", uid).await
    }

    async fn subscriptions_of_room(&self, rid: &str) -> StoreResult<Vec<Doc>> {
        self.read_many("SELECT doc FROM subscriptions WHERE rid = ?1 ORDER BY rowid", rid).await
    }

    async fn set_subscription_open(&self, rid: &str, uid: &str, open: bool) -> StoreResult<()> {
        let (rid, uid) = (rid.to_owned(), uid.to_owned());
        self.write(move |c| {
            change_subscription(c, &rid, &uid, |sub| {
                sub.insert("open".into(), json!(open));
            })?
            .ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn set_subscription_roles(
        &self,
        rid: &str,
        uid: &str,
        roles: Vec<String>,
        system_message: Option<Doc>,
    ) -> StoreResult<()> {
        let (rid, uid) = (rid.to_owned(), uid.to_owned());
        self.write(move |c| {
            change_subscription(c, &rid, &uid, |sub| {
                sub.insert("roles".into(), json!(roles));
            })?
            .ok_or(StoreError::NotFound)?;
            if let Some(msg) = &system_message {
                put_message(c, msg)?;
            }
            Ok(())
        })
        .await
    }

    async fn update_subscription(&self, rid: &str, uid: &str, set: Doc) -> StoreResult<bool> {
        let (rid, uid) = (rid.to_owned(), uid.to_owned());
        self.write(move |c| Ok(change_subscription(c, &rid, &uid, |sub| merge_set(sub, set))?.is_some())).await
    }
}
