//! `Store` for SQLite: the trait's one implementation block. Row helpers live per aggregate
//! (`users`, `rooms`, `messages`), changes that raise events in `changes`, integrations and
//! the outbox in their own files.

use super::SqliteStore;
use super::changes::apply;
use super::docs::{backend, exec, id_of, many, one, str_of, text};
use super::messages::put_message;
use super::rooms::{bump_users_count, erase_room, get_room, put_room, rooms_where};
use super::users::{get_user, put_user};
use crate::ids::now_iso;
use crate::{
    AttemptRecord, Change, Claimed, Committed, Delivery, Doc, DocQuery, MessageQuery, Store, StoreError, StoreResult,
};
use async_trait::async_trait;
use rusqlite::{Connection, params};
use serde_json::{Value, json};

/// Inserts documents whose `_id` is not stored yet (`sql` is an `INSERT OR IGNORE` of id, doc).
fn insert_missing(conn: &Connection, sql: &str, docs: &[Doc]) -> StoreResult<()> {
    for d in docs {
        exec(conn, sql, params![id_of(d)?, text(d)])?;
    }
    Ok(())
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
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).map_err(backend)?;
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
        self.write(move |c| {
            insert_missing(c, "INSERT OR IGNORE INTO permissions (id, doc) VALUES (?1, ?2)", &permissions)
        })
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
                c.query_row("SELECT rid FROM messages WHERE id = ?1", [&id], |r| r.get(0))
                    .optional()
                    .map_err(backend)?
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
            let sql =
                format!("SELECT doc FROM messages WHERE {filter} ORDER BY ts {order}, rowid {order} LIMIT ? OFFSET ?");
            let docs = many(c, &sql, rusqlite::params_from_iter(args.iter()))?;
            Ok((docs, total as usize))
        })
        .await
    }

    async fn find_messages(&self, query: DocQuery) -> StoreResult<(Vec<Doc>, usize)> {
        self.find_message_docs(query).await
    }

    async fn update_subscription(&self, rid: &str, uid: &str, set: Doc) -> StoreResult<bool> {
        self.set_subscription_fields(rid, uid, set).await
    }

    async fn teams(&self) -> StoreResult<Vec<Doc>> {
        self.all_teams().await
    }

    async fn team_members(&self, team_id: &str) -> StoreResult<Vec<Doc>> {
        self.members_of_team(team_id).await
    }

    async fn team_memberships(&self, user_id: &str) -> StoreResult<Vec<Doc>> {
        self.memberships_of_user(user_id).await
    }

    async fn put_team_member(&self, member: Doc) -> StoreResult<()> {
        self.write_team_member(member).await
    }

    async fn remove_team_member(&self, team_id: &str, user_id: &str) -> StoreResult<bool> {
        self.delete_team_member(team_id, user_id).await
    }

    async fn replace_team(&self, team: Doc) -> StoreResult<()> {
        self.write_team(team).await
    }

    async fn convert_room_to_team(&self, team: Doc, members: Vec<Doc>) -> StoreResult<()> {
        self.team_from_room(team, members).await
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

    async fn history_by_id(&self, id: &str) -> StoreResult<Option<Doc>> {
        self.history_doc(id).await
    }

    async fn find_history(&self, query: DocQuery) -> StoreResult<(Vec<Doc>, usize)> {
        self.find_history_docs(query).await
    }

    async fn clear_history(&self, integration_id: &str) -> StoreResult<usize> {
        self.clear_history_docs(integration_id).await
    }

    async fn commit(&self, change: Change, deliveries: Vec<Delivery>) -> StoreResult<Committed> {
        self.with_deliveries(deliveries, move |c| apply(c, change)).await
    }

    async fn claim_due_deliveries(&self, lanes: Vec<(String, usize)>, now: i64) -> StoreResult<Vec<Claimed>> {
        self.claim_due(lanes, now).await
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

    async fn outbox_stats(&self) -> StoreResult<crate::OutboxStats> {
        self.outbox_depth().await
    }

    fn set_commit_observer(&self, observer: crate::CommitObserver) {
        self.writer.observe_commits(observer);
    }

    async fn prune_history(
        &self,
        max_per_integration: Option<usize>,
        created_before: Option<String>,
    ) -> StoreResult<usize> {
        self.prune_history_docs(max_per_integration, created_before).await
    }

    fn integrations_generation(&self) -> u64 {
        self.integrations_generation.load(std::sync::atomic::Ordering::Acquire)
    }

    async fn close(&self) {
        self.shutdown().await;
    }
}
