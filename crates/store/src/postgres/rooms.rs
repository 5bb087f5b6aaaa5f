//! Rooms in PostgreSQL, and the row writers run inside the transactions that change a room:
//! its subscriptions, its messages (with the room's counters) and a team's main room.
//!
//! A room's message counter, last message time and last message live in columns, so posting a
//! message updates three small values instead of rewriting the room's document, and concurrent
//! posts to one room never overwrite each other. The room row holds what the room was created
//! (or imported) with; what messages add goes to one of a few `room_counters` rows per room,
//! picked at random per transaction, so transactions posting to one room at once (the group
//! commits of several nodes) seldom lock the same row (see `room_counters`). Reads add the
//! two up.

use super::PgStore;
use super::docs::{conflict_or_backend, doc_at, exec, id_of, json, pg, rows, str_of, strings};
use super::membership::{bump_users_count, touch_user_rooms};
use super::room_counters::{ROOM_SELECT, add_to_room_counters};
use crate::{Doc, RoomStore, StoreError, StoreResult};
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use serde_json::{Value, json};
use tokio_postgres::Row;
use tokio_postgres::types::{Json, ToSql};

pub(super) async fn put_room(c: &impl GenericClient, room: &Doc, insert: bool) -> StoreResult<()> {
    let id = id_of(room)?;
    let mut doc = room.clone();
    let msgs = doc.remove("msgs").and_then(|m| m.as_i64()).unwrap_or(0);
    let lm = doc.remove("lm").and_then(|v| v.as_str().map(str::to_owned));
    let last = doc.remove("lastMessage").map(Json);
    let (name, t, team_id, doc) =
        (str_of(room, "name"), str_of(room, "t").unwrap_or("c"), str_of(room, "teamId"), json(&doc));
    let (sql, params): (&str, Vec<&(dyn ToSql + Sync)>) = if insert {
        (
            "INSERT INTO rooms (id, name, t, team_id, doc, msgs, lm, last_message) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            vec![&id, &name, &t, &team_id, &doc, &msgs, &lm, &last],
        )
    } else {
        // The counters are left alone: only messages move them, and what one posted meanwhile
        // added (to a counter row `room_for_update` does not lock) must not be overwritten.
        (
            "UPDATE rooms SET name = $2, t = $3, team_id = $4, doc = $5 WHERE id = $1",
            vec![&id, &name, &t, &team_id, &doc],
        )
    };
    let stmt = c.prepare_cached(sql).await.map_err(pg)?;
    c.execute(&stmt, &params)
        .await
        .map_err(|e| conflict_or_backend(e, &[("rooms_name", "name"), ("rooms_pkey", "_id")]))?;
    Ok(())
}

/// The room document with its counter columns merged back in.
fn room_from_row(row: &Row) -> StoreResult<Doc> {
    let mut doc = doc_at(row, 0)?;
    let msgs: i64 = row.try_get(1).map_err(pg)?;
    let lm: Option<String> = row.try_get(2).map_err(pg)?;
    let last: Option<Json<Value>> = row.try_get(3).map_err(pg)?;
    doc.insert("msgs".into(), json!(msgs));
    if let Some(lm) = lm {
        // A new message is the room's latest change.
        if doc.get("_updatedAt").and_then(Value::as_str).is_none_or(|u| u < lm.as_str()) {
            doc.insert("_updatedAt".into(), json!(lm));
        }
        doc.insert("lm".into(), json!(lm));
    }
    if let Some(last) = last {
        doc.insert("lastMessage".into(), last.0);
    }
    Ok(doc)
}

pub(super) async fn rooms_where(c: &impl GenericClient, filter: &str, arg: &str) -> StoreResult<Vec<Doc>> {
    rows(c, &format!("{ROOM_SELECT} WHERE {filter}"), &[&arg]).await?.iter().map(room_from_row).collect()
}

pub(super) async fn get_room(c: &impl GenericClient, id: &str) -> StoreResult<Option<Doc>> {
    Ok(rooms_where(c, "id = $1", id).await?.pop())
}

pub(super) async fn insert_subscription(c: &impl GenericClient, sub: &Doc) -> StoreResult<bool> {
    let rid = str_of(sub, "rid").ok_or(StoreError::Backend("subscription without rid".into()))?;
    let uid = sub
        .get("u")
        .and_then(|u| u.get("_id"))
        .and_then(Value::as_str)
        .ok_or(StoreError::Backend("subscription without u._id".into()))?;
    let added = exec(
        c,
        "INSERT INTO subscriptions (rid, uid, doc) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        &[&rid, &uid, &json(sub)],
    )
    .await?
        == 1;
    if added {
        bump_users_count(c, rid, 1).await?;
        touch_user_rooms(c, uid, rid, true).await?;
    }
    Ok(added)
}

pub(super) async fn remove_subscription(c: &impl GenericClient, rid: &str, uid: &str) -> StoreResult<bool> {
    let removed = exec(c, "DELETE FROM subscriptions WHERE rid = $1 AND uid = $2", &[&rid, &uid]).await? == 1;
    if removed {
        bump_users_count(c, rid, -1).await?;
        touch_user_rooms(c, uid, rid, false).await?;
    }
    Ok(removed)
}

pub(super) async fn put_message(c: &impl GenericClient, msg: &Doc) -> StoreResult<()> {
    let id = id_of(msg)?;
    let rid = str_of(msg, "rid").ok_or(StoreError::Backend("message without rid".into()))?;
    let ts = str_of(msg, "ts").unwrap_or_default();
    let stmt = c.prepare_cached("INSERT INTO messages (id, rid, ts, doc) VALUES ($1, $2, $3, $4)").await.map_err(pg)?;
    c.execute(&stmt, &[&id, &rid, &ts, &json(msg)])
        .await
        .map_err(|e| conflict_or_backend(e, &[("messages_pkey", "_id")]))?;
    add_to_room_counters(c, rid, 1, ts, msg).await
}

pub(super) async fn put_team(
    c: &impl GenericClient,
    team: &Doc,
    main_room: &Doc,
    room_subscriptions: &[Doc],
    members: &[Doc],
) -> StoreResult<()> {
    put_room(c, main_room, true).await?;
    for sub in room_subscriptions {
        insert_subscription(c, sub).await?;
    }
    let team_id = id_of(team)?;
    let stmt =
        c.prepare_cached("INSERT INTO teams (id, name, room_id, doc) VALUES ($1, $2, $3, $4)").await.map_err(pg)?;
    c.execute(&stmt, &[&team_id, &str_of(team, "name"), &id_of(main_room)?, &json(team)])
        .await
        .map_err(|e| conflict_or_backend(e, &[("teams_name", "name")]))?;
    for m in members {
        exec(
            c,
            "INSERT INTO team_members (team_id, user_id, doc) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&team_id, &str_of(m, "userId"), &json(m)],
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn erase_room(c: &impl GenericClient, rid: &str) -> StoreResult<()> {
    for uid in strings(c, "DELETE FROM subscriptions WHERE rid = $1 RETURNING uid", &[&rid]).await? {
        touch_user_rooms(c, &uid, rid, false).await?;
    }
    exec(c, "DELETE FROM messages WHERE rid = $1", &[&rid]).await?;
    // The room's messages go without trash records, and its trash with it: nobody can ask
    // for the deleted messages of a room that is gone.
    exec(c, "DELETE FROM message_trash WHERE rid = $1", &[&rid]).await?;
    exec(c, "DELETE FROM rooms WHERE id = $1", &[&rid]).await?;
    Ok(())
}

pub(super) fn merge_set(doc: &mut Doc, set: Doc) {
    for (k, v) in set {
        if v.is_null() {
            doc.remove(&k);
        } else {
            doc.insert(k, v);
        }
    }
}

/// Reads a room for a read-modify-write, locking its row until the transaction ends.
pub(super) async fn room_for_update(c: &impl GenericClient, id: &str) -> StoreResult<Option<Doc>> {
    Ok(rooms_where(c, "id = $1 FOR UPDATE OF rooms", id).await?.pop())
}

/// Copies `name`, `fname` and `t` of a room into its subscriptions, as Rocket.Chat keeps them
/// in step on rename and type change. Direct rooms are left alone: there each subscription
/// names the other member.
pub(super) async fn sync_subscriptions(c: &impl GenericClient, room: &Doc) -> StoreResult<()> {
    let t = str_of(room, "t").unwrap_or_default();
    if t == "d" {
        return Ok(());
    }
    let rid = str_of(room, "_id").unwrap_or_default();
    let name = room.get("name").cloned().unwrap_or(Value::Null);
    let fname = room.get("fname").cloned().unwrap_or_else(|| name.clone());
    let patch = json!({"name": name, "fname": fname, "t": t});
    exec(c, "UPDATE subscriptions SET doc = doc || $2 WHERE rid = $1 AND NOT (doc @> $2)", &[&rid, &Json(&patch)])
        .await
        .map(drop)
}

#[async_trait]
impl RoomStore for PgStore {
    async fn room_by_id(&self, id: &str) -> StoreResult<Option<Doc>> {
        let c = self.conn().await?;
        get_room(&c, id).await
    }

    async fn room_by_name(&self, name: &str) -> StoreResult<Option<Doc>> {
        let c = self.conn().await?;
        Ok(rooms_where(&c, "name = $1", name).await?.pop())
    }

    async fn rooms_by_type(&self, t: &str) -> StoreResult<Vec<Doc>> {
        let c = self.conn().await?;
        rooms_where(&c, "t = $1 ORDER BY seq", t).await
    }

    async fn delete_room(&self, id: &str) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        erase_room(&tx, id).await?;
        tx.commit().await.map_err(pg)
    }
}
