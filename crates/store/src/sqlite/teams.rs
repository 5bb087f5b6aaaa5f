//! Teams in SQLite beyond their creation: reads, member records, turning
//! an existing room into a team's main room, and deletion.

use super::SqliteStore;
use super::docs::{backend, conflict_or_backend, exec, id_of, many, one, str_of, strings, text};
use super::rooms::{erase_room, get_room, put_room};
use crate::ids::now_iso;
use crate::{Doc, StoreError, StoreResult, TeamStore};
use async_trait::async_trait;
use rusqlite::{Connection, params};
use serde_json::json;

fn put_member(conn: &Connection, member: &Doc) -> StoreResult<()> {
    let team_id = str_of(member, "teamId").ok_or(StoreError::Backend("team member without teamId".into()))?;
    let user_id = str_of(member, "userId").ok_or(StoreError::Backend("team member without userId".into()))?;
    exec(
        conn,
        "INSERT INTO team_members (team_id, user_id, doc) VALUES (?1, ?2, ?3) \
         ON CONFLICT (team_id, user_id) DO UPDATE SET doc = excluded.doc",
        params![team_id, user_id, text(member)],
    )
    .map(drop)
}

#[async_trait]
impl TeamStore for SqliteStore {
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

    async fn teams(&self) -> StoreResult<Vec<Doc>> {
        self.read(|c| many(c, "SELECT doc FROM teams ORDER BY rowid", [])).await
    }

    async fn team_members(&self, team_id: &str) -> StoreResult<Vec<Doc>> {
        self.read_many("SELECT doc FROM team_members WHERE team_id = ?1 ORDER BY rowid", team_id).await
    }

    async fn team_memberships(&self, user_id: &str) -> StoreResult<Vec<Doc>> {
        self.read_many("SELECT doc FROM team_members WHERE user_id = ?1 ORDER BY rowid", user_id).await
    }

    async fn put_team_member(&self, member: Doc) -> StoreResult<()> {
        self.write(move |c| put_member(c, &member)).await
    }

    async fn remove_team_member(&self, team_id: &str, user_id: &str) -> StoreResult<bool> {
        let (t, u) = (team_id.to_owned(), user_id.to_owned());
        self.write(move |c| Ok(exec(c, "DELETE FROM team_members WHERE team_id = ?1 AND user_id = ?2", [t, u])? == 1))
            .await
    }

    async fn convert_room_to_team(&self, team: Doc, members: Vec<Doc>) -> StoreResult<()> {
        self.write(move |c| {
            let team_id = id_of(&team)?;
            let rid = str_of(&team, "roomId").unwrap_or_default();
            let Some(mut room) = get_room(c, rid)? else { return Err(StoreError::NotFound) };
            c.prepare_cached("INSERT INTO teams (id, name, room_id, doc) VALUES (?1, ?2, ?3, ?4)")
                .map_err(backend)?
                .execute(params![team_id, str_of(&team, "name"), rid, text(&team)])
                .map_err(|e| conflict_or_backend(e, &[("teams.name", "name")]))?;
            for m in &members {
                put_member(c, m)?;
            }
            room.insert("teamMain".into(), json!(true));
            room.insert("teamId".into(), json!(team_id));
            room.insert("_updatedAt".into(), json!(now_iso()));
            put_room(c, &room, false)
        })
        .await
    }
}
