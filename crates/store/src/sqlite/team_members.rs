//! SQLite rows of teams beyond their creation: member records, renames and type changes, and
//! turning an existing room into a team's main room.

use super::SqliteStore;
use super::docs::{backend, conflict_or_backend, exec, id_of, many, str_of, text};
use super::rooms::{get_room, put_room};
use crate::ids::now_iso;
use crate::{Doc, StoreError, StoreResult};
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

impl SqliteStore {
    pub(super) async fn all_teams(&self) -> StoreResult<Vec<Doc>> {
        self.read(|c| many(c, "SELECT doc FROM teams ORDER BY rowid", [])).await
    }

    pub(super) async fn members_of_team(&self, team_id: &str) -> StoreResult<Vec<Doc>> {
        self.read_many("SELECT doc FROM team_members WHERE team_id = ?1 ORDER BY rowid", team_id).await
    }

    pub(super) async fn memberships_of_user(&self, user_id: &str) -> StoreResult<Vec<Doc>> {
        self.read_many("SELECT doc FROM team_members WHERE user_id = ?1 ORDER BY rowid", user_id).await
    }

    pub(super) async fn write_team_member(&self, member: Doc) -> StoreResult<()> {
        self.write(move |c| put_member(c, &member)).await
    }

    pub(super) async fn delete_team_member(&self, team_id: &str, user_id: &str) -> StoreResult<bool> {
        let (t, u) = (team_id.to_owned(), user_id.to_owned());
        self.write(move |c| Ok(exec(c, "DELETE FROM team_members WHERE team_id = ?1 AND user_id = ?2", [t, u])? == 1))
            .await
    }

    pub(super) async fn write_team(&self, team: Doc) -> StoreResult<()> {
        self.write(move |c| {
            let changed = c
                .prepare_cached("UPDATE teams SET name = ?2, doc = ?3 WHERE id = ?1")
                .map_err(backend)?
                .execute(params![id_of(&team)?, str_of(&team, "name"), text(&team)])
                .map_err(|e| conflict_or_backend(e, &[("teams.name", "name")]))?;
            if changed == 0 { Err(StoreError::NotFound) } else { Ok(()) }
        })
        .await
    }

    pub(super) async fn team_from_room(&self, team: Doc, members: Vec<Doc>) -> StoreResult<()> {
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
