//! Subscription writes that follow their room: the per-user `open` flag, and the room's
//! name, display name and type mirrored into every subscription when the room changes.

use super::SqliteStore;
use super::docs::{exec, many, one, text};
use crate::ids::now_iso;
use crate::{Doc, StoreError, StoreResult};
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

impl SqliteStore {
    pub(super) async fn write_subscription_open(&self, rid: &str, uid: &str, open: bool) -> StoreResult<()> {
        let (rid, uid) = (rid.to_owned(), uid.to_owned());
        self.write(move |c| {
            let Some(mut sub) = one(c, "SELECT doc FROM subscriptions WHERE rid = ?1 AND uid = ?2", [&rid, &uid])?
            else {
                return Err(StoreError::NotFound);
            };
            sub.insert("open".into(), json!(open));
            sub.insert("_updatedAt".into(), json!(now_iso()));
            exec(c, "UPDATE subscriptions SET doc = ?3 WHERE rid = ?1 AND uid = ?2", params![rid, uid, text(&sub)])?;
            Ok(())
        })
        .await
    }
}
