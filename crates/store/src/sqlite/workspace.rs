//! `Store` for SQLite: users, rooms, memberships, messages, teams, roles and settings.

use super::SqliteStore;
use super::docs::{backend, conflict_or_backend, exec, id_of, many, one, str_of, text};
use crate::ids::now_iso;
use crate::{AttemptRecord, Claimed, Delivery, Doc, DocQuery, MessageQuery, Store, StoreError, StoreResult};
use async_trait::async_trait;
use rusqlite::{Connection, params};
use serde_json::{Value, json};

// --- write helpers, run inside the writer's transaction ------------------------------------

pub(super) fn put_user(conn: &Connection, user: &Doc, insert: bool) -> StoreResult<()> {
    let id = id_of(user)?;
    let username = str_of(user, "username").map(str::to_lowercase);
    let email = user
        .get("emails")
        .and_then(|e| e.get(0))
        .and_then(|e| e.get("address"))
        .and_then(Value::as_str)
        .map(str::to_lowercase);
    let sql = if insert {
        "INSERT INTO users (id, username_lower, email_lower, doc) VALUES (?1, ?2, ?3, ?4)"
    } else {
        "UPDATE users SET username_lower = ?2, email_lower = ?3, doc = ?4 WHERE id = ?1"
    };
    let changed = conn
        .prepare_cached(sql)
        .map_err(backend)?
        .execute(params![id, username, email, text(user)])
        .map_err(|e| {
            conflict_or_backend(e, &[("users.username_lower", "username"), ("users.email_lower", "email")])
        })?;
    if changed == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

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

fn get_user(conn: &Connection, id: &str) -> StoreResult<Option<Doc>> {
    one(conn, "SELECT doc FROM users WHERE id = ?1", [id])
}

/// Adds or removes `rid` in the user's `__rooms` list.
pub(super) fn touch_user_rooms(conn: &Connection, uid: &str, rid: &str, member: bool) -> StoreResult<()> {
    let Some(mut user) = get_user(conn, uid)? else { return Ok(()) };
    let rooms = user.entry("__rooms").or_insert_with(|| json!([]));
    if let Value::Array(list) = rooms {
        let present = list.iter().any(|r| r.as_str() == Some(rid));
        if member && !present {
            list.push(Value::String(rid.to_owned()));
        } else if !member && present {
            list.retain(|r| r.as_str() != Some(rid));
        } else {
            return Ok(());
        }
    }
    put_user(conn, &user, false)
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

pub(super) fn put_message(conn: &Connection, msg: &Doc) -> StoreResult<()> {
    let id = id_of(msg)?;
    let rid = str_of(msg, "rid").ok_or(StoreError::Backend("message without rid".into()))?;
    let ts = str_of(msg, "ts").unwrap_or_default();
    let body = text(msg);
    conn.prepare_cached("INSERT INTO messages (id, rid, ts, doc) VALUES (?1, ?2, ?3, ?4)")
        .map_err(backend)?
        .execute(params![id, rid, ts, body])
        .map_err(|e| conflict_or_backend(e, &[("messages.id", "_id")]))?;
    exec(conn, "UPDATE rooms SET msgs = msgs + 1, lm = ?2, last_message = ?3 WHERE id = ?1", params![rid, ts, body])?;
    Ok(())
}

pub(super) fn put_team(conn: &Connection, team: &Doc, main_room: &Doc, room_subscriptions: &[Doc], members: &[Doc]) -> StoreResult<()> {
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

fn erase_room(conn: &Connection, rid: &str) -> StoreResult<()> {
    let members: Vec<String> = {
        let mut stmt = conn.prepare_cached("SELECT uid FROM subscriptions WHERE rid = ?1").map_err(backend)?;
        let rows = stmt.query_map([rid], |r| r.get(0)).map_err(backend)?;
        rows.collect::<Result<_, _>>().map_err(backend)?
    };
    for uid in &members {
        touch_user_rooms(conn, uid, rid, false)?;
    }
    exec(conn, "DELETE FROM subscriptions WHERE rid = ?1", [rid])?;
    exec(conn, "DELETE FROM messages WHERE rid = ?1", [rid])?;
    exec(conn, "DELETE FROM rooms WHERE id = ?1", [rid])?;
    Ok(())
}

/// Inserts documents whose `_id` is not stored yet (`sql` is an `INSERT OR IGNORE` of id, doc).
fn insert_missing(conn: &Connection, sql: &str, docs: &[Doc]) -> StoreResult<()> {
    for d in docs {
        exec(conn, sql, params![id_of(d)?, text(d)])?;
    }
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

// --- reads --------------------------------------------------------------------------------

fn strings(conn: &Connection, sql: &str, arg: &str) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
    let rows = stmt.query_map([arg], |r| r.get(0)).map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

impl SqliteStore {
    pub(super) async fn read_one(&self, sql: &'static str, key: impl Into<String>) -> StoreResult<Option<Doc>> {
        let key = key.into();
        self.read(move |c| one(c, sql, [key])).await
    }

    pub(super) async fn read_many(&self, sql: &'static str, key: impl Into<String>) -> StoreResult<Vec<Doc>> {
        let key = key.into();
        self.read(move |c| many(c, sql, [key])).await
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn settings(&self) -> StoreResult<Vec<(String, Value)>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT id, value FROM settings").map_err(backend)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(backend)?;
            let mut out = Vec::new();
            for row in rows {
                let (id, value) = row.map_err(backend)?;
                out.push((id, serde_json::from_str(&value).unwrap_or(Value::Null)));
            }
            Ok(out)
        })
        .await
    }

    async fn save_setting(&self, id: &str, value: Value) -> StoreResult<()> {
        let id = id.to_owned();
        self.write(move |c| {
            exec(
                c,
                "INSERT INTO settings (id, value) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET value = excluded.value",
                params![id, value.to_string()],
            )
            .map(drop)
        })
        .await
    }

    async fn roles(&self) -> StoreResult<Vec<Doc>> {
        self.read(|c| many(c, "SELECT doc FROM roles ORDER BY id", [])).await
    }

    async fn ensure_roles(&self, roles: Vec<Doc>) -> StoreResult<()> {
        self.write(move |c| insert_missing(c, "INSERT OR IGNORE INTO roles (id, doc) VALUES (?1, ?2)", &roles)).await
    }

    async fn permissions(&self) -> StoreResult<Vec<Doc>> {
        self.read(|c| many(c, "SELECT doc FROM permissions ORDER BY id", [])).await
    }

    async fn ensure_permissions(&self, permissions: Vec<Doc>) -> StoreResult<()> {
        self.write(move |c| insert_missing(c, "INSERT OR IGNORE INTO permissions (id, doc) VALUES (?1, ?2)", &permissions))
            .await
    }

    async fn set_permission_roles(&self, updates: Vec<(String, Vec<String>)>) -> StoreResult<()> {
        self.write(move |c| {
            let now = now_iso();
            for (id, roles) in &updates {
                let Some(mut doc) = one(c, "SELECT doc FROM permissions WHERE id = ?1", [id])? else {
                    return Err(StoreError::NotFound);
                };
                doc.insert("roles".into(), json!(roles));
                doc.insert("_updatedAt".into(), json!(now));
                exec(c, "UPDATE permissions SET doc = ?2 WHERE id = ?1", params![id, text(&doc)])?;
            }
            Ok(())
        })
        .await
    }

    async fn replace_user(&self, user: Doc) -> StoreResult<()> {
        self.write(move |c| {
            put_user(c, &user, false)?;
            // A deactivated user's sessions end with the deactivation, in the same transaction.
            if user.get("active") == Some(&Value::Bool(false)) {
                exec(c, "DELETE FROM login_tokens WHERE user_id = ?1", [id_of(&user)?])?;
            }
            Ok(())
        })
        .await
    }

    async fn delete_user(&self, id: &str) -> StoreResult<()> {
        let id = id.to_owned();
        self.write(move |c| {
            let rooms = strings(c, "SELECT rid FROM subscriptions WHERE uid = ?1", &id)?;
            for rid in rooms {
                exec(c, "DELETE FROM subscriptions WHERE rid = ?1 AND uid = ?2", params![rid, id])?;
                bump_users_count(c, &rid, -1)?;
            }
            exec(c, "DELETE FROM login_tokens WHERE user_id = ?1", [&id])?;
            exec(c, "DELETE FROM team_members WHERE user_id = ?1", [&id])?;
            if exec(c, "DELETE FROM users WHERE id = ?1", [&id])? == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn user_by_id(&self, id: &str) -> StoreResult<Option<Doc>> {
        let id = id.to_owned();
        self.read(move |c| get_user(c, &id)).await
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<Doc>> {
        self.read_one("SELECT doc FROM users WHERE username_lower = ?1", username.to_lowercase()).await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<Doc>> {
        self.read_one("SELECT doc FROM users WHERE email_lower = ?1", email.to_lowercase()).await
    }

    async fn users(&self) -> StoreResult<Vec<Doc>> {
        self.read(|c| many(c, "SELECT doc FROM users ORDER BY rowid", [])).await
    }

    async fn users_by_ids(&self, ids: &[String]) -> StoreResult<Vec<Doc>> {
        let ids = ids.to_vec();
        self.read(move |c| {
            let mut out = Vec::with_capacity(ids.len());
            for id in &ids {
                out.extend(get_user(c, id)?);
            }
            Ok(out)
        })
        .await
    }

    async fn add_login_token(&self, user_id: &str, hashed_token: &str) -> StoreResult<()> {
        let (uid, hashed) = (user_id.to_owned(), hashed_token.to_owned());
        self.write(move |c| {
            exec(
                c,
                "INSERT OR REPLACE INTO login_tokens (hashed_token, user_id, created_at) VALUES (?1, ?2, ?3)",
                params![hashed, uid, now_iso()],
            )
            .map(drop)
        })
        .await
    }

    async fn remove_login_token(&self, hashed_token: &str) -> StoreResult<()> {
        let hashed = hashed_token.to_owned();
        self.write(move |c| exec(c, "DELETE FROM login_tokens WHERE hashed_token = ?1", [hashed]).map(drop)).await
    }

    async fn user_id_by_token(&self, hashed_token: &str) -> StoreResult<Option<String>> {
        let hashed = hashed_token.to_owned();
        self.read(move |c| {
            use rusqlite::OptionalExtension;
            c.prepare_cached("SELECT user_id FROM login_tokens WHERE hashed_token = ?1")
                .map_err(backend)?
                .query_row([hashed], |r| r.get(0))
                .optional()
                .map_err(backend)
        })
        .await
    }

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
        self.write_subscription_open(rid, uid, open).await
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
            let Some(mut sub) = one(c, "SELECT doc FROM subscriptions WHERE rid = ?1 AND uid = ?2", [&rid, &uid])?
            else {
                return Err(StoreError::NotFound);
            };
            sub.insert("roles".into(), json!(roles));
            sub.insert("_updatedAt".into(), json!(now_iso()));
            exec(c, "UPDATE subscriptions SET doc = ?3 WHERE rid = ?1 AND uid = ?2", params![rid, uid, text(&sub)])?;
            if let Some(msg) = &system_message {
                put_message(c, msg)?;
            }
            Ok(())
        })
        .await
    }

    async fn message_by_id(&self, id: &str) -> StoreResult<Option<Doc>> {
        self.read_one("SELECT doc FROM messages WHERE id = ?1", id).await
    }

    async fn delete_message(&self, id: &str) -> StoreResult<()> {
        let id = id.to_owned();
        self.write(move |c| {
            let rid: Option<String> = {
                use rusqlite::OptionalExtension;
                c.query_row("SELECT rid FROM messages WHERE id = ?1", [&id], |r| r.get(0)).optional().map_err(backend)?
            };
            let Some(rid) = rid else { return Err(StoreError::NotFound) };
            exec(c, "DELETE FROM messages WHERE id = ?1", [&id])?;
            exec(c, "UPDATE rooms SET msgs = max(0, msgs - 1) WHERE id = ?1", [rid])?;
            Ok(())
        })
        .await
    }

    async fn room_messages(&self, rid: &str, q: MessageQuery) -> StoreResult<(Vec<Doc>, usize)> {
        let rid = rid.to_owned();
        self.read(move |c| {
            let (lt, gt) = if q.inclusive { ("<=", ">=") } else { ("<", ">") };
            let mut filter = String::from("rid = ?");
            let mut args: Vec<rusqlite::types::Value> = vec![rid.into()];
            if let Some(latest) = q.latest {
                filter.push_str(&format!(" AND ts {lt} ?"));
                args.push(latest.into());
            }
            if let Some(oldest) = q.oldest {
                filter.push_str(&format!(" AND ts {gt} ?"));
                args.push(oldest.into());
            }
            let total: i64 = c
                .prepare_cached(&format!("SELECT count(*) FROM messages WHERE {filter}"))
                .map_err(backend)?
                .query_row(rusqlite::params_from_iter(args.iter()), |r| r.get(0))
                .map_err(backend)?;
            let order = if q.oldest_first { "ASC" } else { "DESC" };
            args.push(q.limit.map(|l| l as i64).unwrap_or(-1).into());
            args.push((q.offset as i64).into());
            let sql = format!("SELECT doc FROM messages WHERE {filter} ORDER BY ts {order}, rowid {order} LIMIT ? OFFSET ?");
            let docs = many(c, &sql, rusqlite::params_from_iter(args.iter()))?;
            Ok((docs, total as usize))
        })
        .await
    }

    async fn team_by_id(&self, id: &str) -> StoreResult<Option<Doc>> {
        self.read_one("SELECT doc FROM teams WHERE id = ?1", id).await
    }

    async fn team_by_name(&self, name: &str) -> StoreResult<Option<Doc>> {
        self.read_one("SELECT doc FROM teams WHERE name = ?1", name).await
    }

    async fn team_member(&self, team_id: &str, user_id: &str) -> StoreResult<Option<Doc>> {
        let (t, u) = (team_id.to_owned(), user_id.to_owned());
        self.read(move |c| one(c, "SELECT doc FROM team_members WHERE team_id = ?1 AND user_id = ?2", [t, u])).await
    }

    async fn delete_team(&self, team_id: &str, rooms_to_remove: Vec<String>) -> StoreResult<()> {
        let team_id = team_id.to_owned();
        self.write(move |c| {
            let Some(team) = one(c, "SELECT doc FROM teams WHERE id = ?1", [&team_id])? else {
                return Err(StoreError::NotFound);
            };
            let main = str_of(&team, "roomId").unwrap_or_default().to_owned();
            for rid in strings(c, "SELECT id FROM rooms WHERE team_id = ?1", &team_id)? {
                if rid == main || rooms_to_remove.contains(&rid) {
                    erase_room(c, &rid)?;
                } else if let Some(mut room) = get_room(c, &rid)? {
                    room.remove("teamId");
                    room.remove("teamDefault");
                    room.insert("_updatedAt".into(), json!(now_iso()));
                    put_room(c, &room, false)?;
                }
            }
            erase_room(c, &main)?;
            exec(c, "DELETE FROM team_members WHERE team_id = ?1", [&team_id])?;
            exec(c, "DELETE FROM teams WHERE id = ?1", [&team_id])?;
            Ok(())
        })
        .await
    }

    async fn insert_integration(&self, integration: Doc) -> StoreResult<()> {
        let done = self.insert_integration_doc(integration).await;
        self.bump_integrations_generation();
        done
    }

    async fn replace_integration(&self, integration: Doc) -> StoreResult<()> {
        let done = self.replace_integration_doc(integration).await;
        self.bump_integrations_generation();
        done
    }

    async fn delete_integration(&self, id: &str) -> StoreResult<Option<Doc>> {
        let done = self.delete_integration_doc(id).await;
        self.bump_integrations_generation();
        done
    }

    async fn integration_by_id(&self, id: &str) -> StoreResult<Option<Doc>> {
        self.integration_doc(id).await
    }

    async fn integration_by_url(&self, url: &str) -> StoreResult<Option<Doc>> {
        self.integration_doc_by_url(url).await
    }

    async fn find_integrations(&self, query: DocQuery) -> StoreResult<(Vec<Doc>, usize)> {
        self.find_integration_docs(query).await
    }

    async fn insert_history(&self, record: Doc) -> StoreResult<()> {
        self.insert_history_doc(record).await
    }

    async fn update_history(&self, id: &str, set: Doc) -> StoreResult<()> {
        self.update_history_doc(id, set).await
    }

    async fn history_by_id(&self, id: &str) -> StoreResult<Option<Doc>> {
        self.history_doc(id).await
    }

    async fn find_history(&self, query: DocQuery) -> StoreResult<(Vec<Doc>, usize)> {
        self.find_history_docs(query).await
    }

    async fn clear_history(&self, integration_id: &str) -> StoreResult<usize> {
        self.clear_history_docs(integration_id).await
    }

    async fn insert_message_with_deliveries(&self, message: Doc, deliveries: Vec<Delivery>) -> StoreResult<Doc> {
        self.with_deliveries(deliveries, move |c| put_message(c, &message).map(|_| (message, true))).await
    }

    async fn replace_message_with_deliveries(&self, message: Doc, deliveries: Vec<Delivery>) -> StoreResult<()> {
        self.with_deliveries(deliveries, move |c| {
            let changed = exec(c, "UPDATE messages SET doc = ?2 WHERE id = ?1", params![id_of(&message)?, text(&message)])?;
            if changed == 0 { Err(StoreError::NotFound) } else { Ok(((), true)) }
        })
        .await
    }

    async fn create_room_with_deliveries(&self, room: Doc, subscriptions: Vec<Doc>, deliveries: Vec<Delivery>) -> StoreResult<()> {
        self.with_deliveries(deliveries, move |c| {
            put_room(c, &room, true)?;
            for sub in &subscriptions {
                insert_subscription(c, sub)?;
            }
            Ok(((), true))
        })
        .await
    }

    async fn create_team_with_deliveries(
        &self,
        team: Doc,
        main_room: Doc,
        room_subscriptions: Vec<Doc>,
        members: Vec<Doc>,
        deliveries: Vec<Delivery>,
    ) -> StoreResult<()> {
        self.with_deliveries(deliveries, move |c| {
            put_team(c, &team, &main_room, &room_subscriptions, &members).map(|_| ((), true))
        })
        .await
    }

    async fn add_subscription_with_deliveries(
        &self,
        subscription: Doc,
        system_message: Option<Doc>,
        deliveries: Vec<Delivery>,
    ) -> StoreResult<bool> {
        self.with_deliveries(deliveries, move |c| {
            let added = insert_subscription(c, &subscription)?;
            if added && let Some(msg) = &system_message {
                put_message(c, msg)?;
            }
            Ok((added, added))
        })
        .await
    }

    async fn remove_subscription_with_deliveries(
        &self,
        rid: &str,
        uid: &str,
        system_message: Option<Doc>,
        deliveries: Vec<Delivery>,
    ) -> StoreResult<bool> {
        let (rid, uid) = (rid.to_owned(), uid.to_owned());
        self.with_deliveries(deliveries, move |c| {
            let removed =
                exec(c, "DELETE FROM subscriptions WHERE rid = ?1 AND uid = ?2", params![rid, uid])? == 1;
            if removed {
                bump_users_count(c, &rid, -1)?;
                touch_user_rooms(c, &uid, &rid, false)?;
                if let Some(msg) = &system_message {
                    put_message(c, msg)?;
                }
            }
            Ok((removed, removed))
        })
        .await
    }

    async fn update_room_with_deliveries(&self, id: &str, set: Doc, deliveries: Vec<Delivery>) -> StoreResult<Option<Doc>> {
        let id = id.to_owned();
        self.with_deliveries(deliveries, move |c| {
            let Some(mut room) = get_room(c, &id)? else { return Ok((None, false)) };
            merge_set(&mut room, set);
            room.insert("_updatedAt".into(), json!(now_iso()));
            put_room(c, &room, false)?;
            super::subscriptions::sync_subscriptions(c, &room)?;
            Ok((Some(room), true))
        })
        .await
    }

    async fn insert_user_with_deliveries(&self, user: Doc, deliveries: Vec<Delivery>) -> StoreResult<()> {
        self.with_deliveries(deliveries, move |c| put_user(c, &user, true).map(|_| ((), true))).await
    }

    async fn enqueue_deliveries(&self, deliveries: Vec<Delivery>) -> StoreResult<()> {
        self.with_deliveries(deliveries, |_| Ok(((), true))).await
    }

    async fn claim_due_deliveries(&self, lanes: Vec<(String, usize)>, now: i64) -> StoreResult<Vec<Claimed>> {
        self.claim_due(lanes, now).await
    }

    async fn complete_delivery(&self, id: &str, history: Option<Doc>) -> StoreResult<()> {
        self.finish_delivery(id, None, history).await
    }

    async fn reschedule_delivery(&self, id: &str, due_at: i64, attempt: u32, history: Option<Doc>) -> StoreResult<()> {
        self.finish_delivery(id, Some((due_at, attempt)), history).await
    }

    async fn record_attempts(&self, records: Vec<AttemptRecord>) -> StoreResult<()> {
        self.record_attempt_batch(records).await
    }

    async fn release_claimed_deliveries(&self) -> StoreResult<usize> {
        self.release_claims().await
    }

    async fn pending_delivery_urls(&self) -> StoreResult<Vec<(String, i64)>> {
        self.pending_urls().await
    }

    async fn count_deliveries(&self) -> StoreResult<usize> {
        self.outbox_len().await
    }

    async fn prune_history(&self, max_per_integration: Option<usize>, created_before: Option<String>) -> StoreResult<usize> {
        self.prune_history_docs(max_per_integration, created_before).await
    }

    fn integrations_generation(&self) -> u64 {
        self.integrations_generation.load(std::sync::atomic::Ordering::Acquire)
    }

    async fn close(&self) {
        self.shutdown().await;
    }
}

