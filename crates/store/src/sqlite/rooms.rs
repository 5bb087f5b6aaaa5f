//! Rooms in SQLite: the row helpers of rooms, their subscriptions and teams run inside the
//! writer's transaction; the room reader merges the counter columns back in.

use super::SqliteStore;
use super::docs::{backend, conflict_or_backend, exec, id_of, str_of, strings, text};
use super::user_rows::touch_user_rooms;
use crate::ids::now_iso;
use crate::{Doc, RoomStore, StoreError, StoreResult};
use async_trait::async_trait;
use rusqlite::{Connection, params};
use serde_json::{Value, json};

/// Writes a room. `msgs`, `lm` and `lastMessage` are kept in their own columns (see
/// [`ROOM_SELECT`]); the rest of the document is stored as JSON.
pub(super) fn put_room(conn: &Connection, room: &Doc, insert: bool) -> StoreResult<()> {
    let id = id_of(room)?;
    let mut doc = room.clone();
    let msgs = doc.remove("msgs").and_then(|m| m.as_i64()).unwrap_or(0);
    let lm = doc.remove("lm").and_then(|v| v.as_str().map(str::to_owned));
    let last = doc.remove("lastMessage").map(|v| v.to_string());
    let sql = if insert {
        "INSERT INTO rooms (id, name, t, team_id, doc, msgs, lm, last_message) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    } else {
        "UPDATE rooms SET name = ?2, t = ?3, team_id = ?4, doc = ?5, msgs = ?6, lm = ?7, last_message = ?8 WHERE id = ?1"
    };
    conn.prepare_cached(sql)
        .map_err(backend)?
        .execute(params![
            id,
            str_of(room, "name"),
            str_of(room, "t").unwrap_or("c"),
            str_of(room, "teamId"),
            text(&doc),
            msgs,
            lm,
            last
        ])
        .map_err(|e| conflict_or_backend(e, &[("rooms.name", "name"), ("rooms.id", "_id")]))?;
    Ok(())
}

/// Selects what [`room_from_row`] reads.
pub(super) const ROOM_SELECT: &str = "SELECT doc, msgs, lm, last_message FROM rooms";

/// The room document with its counter columns merged back in.
fn room_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoreResult<Doc>> {
    let text: String = row.get(0)?;
    let msgs: i64 = row.get(1)?;
    let lm: Option<String> = row.get(2)?;
    let last: Option<String> = row.get(3)?;
    Ok(super::docs::parse(&text).map(|mut doc| {
        doc.insert("msgs".into(), json!(msgs));
        if let Some(lm) = lm {
            // A new message is the room's latest change.
            if doc.get("_updatedAt").and_then(Value::as_str).is_none_or(|u| u < lm.as_str()) {
                doc.insert("_updatedAt".into(), json!(lm));
            }
            doc.insert("lm".into(), json!(lm));
        }
        if let Some(last) = last.and_then(|l| serde_json::from_str::<Value>(&l).ok()) {
            doc.insert("lastMessage".into(), last);
        }
        doc
    }))
}

pub(super) fn rooms_where(conn: &Connection, filter: &str, arg: &str) -> StoreResult<Vec<Doc>> {
    let mut stmt = conn.prepare_cached(&format!("{ROOM_SELECT} WHERE {filter}")).map_err(backend)?;
    let rows = stmt.query_map([arg], room_from_row).map_err(backend)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row.map_err(backend)??);
    }
    Ok(out)
}

pub(super) fn get_room(conn: &Connection, id: &str) -> StoreResult<Option<Doc>> {
    Ok(rooms_where(conn, "id = ?1", id)?.pop())
}

pub(super) fn bump_users_count(conn: &Connection, rid: &str, delta: i64) -> StoreResult<()> {
    exec(
        conn,
        "UPDATE rooms SET doc = json_set(doc, '$.usersCount', max(0, coalesce(json_extract(doc, '$.usersCount'), 0) + ?2), '$._updatedAt', ?3) WHERE id = ?1",
        params![rid, delta, now_iso()],
    )?;
    Ok(())
}

pub(super) fn insert_subscription(conn: &Connection, sub: &Doc) -> StoreResult<bool> {
    let rid = str_of(sub, "rid").ok_or(StoreError::Backend("subscription without rid".into()))?;
    let uid = sub
        .get("u")
        .and_then(|u| u.get("_id"))
        .and_then(Value::as_str)
        .ok_or(StoreError::Backend("subscription without u._id".into()))?;
    let added = exec(
        conn,
        "INSERT OR IGNORE INTO subscriptions (rid, uid, doc) VALUES (?1, ?2, ?3)",
        params![rid, uid, text(sub)],
    )? == 1;
    if added {
        bump_users_count(conn, rid, 1)?;
        touch_user_rooms(conn, uid, rid, true)?;
    }
    Ok(added)
}

pub(super) fn put_team(
    conn: &Connection,
    team: &Doc,
    main_room: &Doc,
    room_subscriptions: &[Doc],
    members: &[Doc],
) -> StoreResult<()> {
    put_room(conn, main_room, true)?;
    for sub in room_subscriptions {
        insert_subscription(conn, sub)?;
    }
    let team_id = id_of(team)?;
    conn.prepare_cached("INSERT INTO teams (id, name, room_id, doc) VALUES (?1, ?2, ?3, ?4)")
        .map_err(backend)?
        .execute(params![team_id, str_of(team, "name"), id_of(main_room)?, text(team)])
        .map_err(|e| conflict_or_backend(e, &[("teams.name", "name")]))?;
    for m in members {
        exec(
            conn,
            "INSERT OR IGNORE INTO team_members (team_id, user_id, doc) VALUES (?1, ?2, ?3)",
            params![team_id, str_of(m, "userId"), text(m)],
        )?;
    }
    Ok(())
}

pub(super) fn erase_room(conn: &Connection, rid: &str) -> StoreResult<()> {
    for uid in &strings(conn, "SELECT uid FROM subscriptions WHERE rid = ?1", rid)? {
        touch_user_rooms(conn, uid, rid, false)?;
    }
    exec(conn, "DELETE FROM subscriptions WHERE rid = ?1", [rid])?;
    exec(conn, "DELETE FROM messages WHERE rid = ?1", [rid])?;
    // The room's messages go without trash records, and its trash with it: nobody can ask
    // for the deleted messages of a room that is gone.
    exec(conn, "DELETE FROM message_trash WHERE rid = ?1", [rid])?;
    exec(conn, "DELETE FROM rooms WHERE id = ?1", [rid])?;
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

#[async_trait]
impl RoomStore for SqliteStore {
    async fn room_by_id(&self, id: &str) -> StoreResult<Option<Doc>> {
        let id = id.to_owned();
        self.read(move |c| get_room(c, &id)).await
    }

    async fn room_by_name(&self, name: &str) -> StoreResult<Option<Doc>> {
        let name = name.to_owned();
        self.read(move |c| Ok(rooms_where(c, "name = ?1", &name)?.pop())).await
    }

    async fn rooms_by_type(&self, t: &str) -> StoreResult<Vec<Doc>> {
        let t = t.to_owned();
        self.read(move |c| rooms_where(c, "t = ?1 ORDER BY rowid", &t)).await
    }

    async fn delete_room(&self, id: &str) -> StoreResult<()> {
        let id = id.to_owned();
        self.write(move |c| erase_room(c, &id)).await
    }
}
