//! Teams in PostgreSQL beyond their creation: member records, renames and type changes, and
//! turning an existing room into a team's main room.

use super::PgStore;
use super::docs::{conflict_or_backend, exec, id_of, json, many, pg, str_of};
use super::notify::changed;
use super::rooms::{put_room, room_for_update};
use crate::ids::now_iso;
use crate::{Doc, StoreError, StoreResult};
use deadpool_postgres::GenericClient;
use serde_json::json;

async fn put_member(c: &impl GenericClient, member: &Doc) -> StoreResult<()> {
    let team_id = str_of(member, "teamId").ok_or(StoreError::Backend("team member without teamId".into()))?;
    let user_id = str_of(member, "userId").ok_or(StoreError::Backend("team member without userId".into()))?;
    exec(
        c,
        "INSERT INTO team_members (team_id, user_id, doc) VALUES ($1, $2, $3) \
         ON CONFLICT (team_id, user_id) DO UPDATE SET doc = excluded.doc",
        &[&team_id, &user_id, &json(member)],
    )
    .await
    .map(drop)
}

impl PgStore {
    pub(super) async fn all_teams(&self) -> StoreResult<Vec<Doc>> {
        self.docs_of("SELECT doc FROM teams ORDER BY doc->>'createdAt', id").await
    }

    pub(super) async fn members_of_team(&self, team_id: &str) -> StoreResult<Vec<Doc>> {
        let c = self.conn().await?;
        many(&c, "SELECT doc FROM team_members WHERE team_id = $1 ORDER BY doc->>'createdAt', user_id", &[&team_id])
            .await
    }

    pub(super) async fn memberships_of_user(&self, user_id: &str) -> StoreResult<Vec<Doc>> {
        let c = self.conn().await?;
        many(&c, "SELECT doc FROM team_members WHERE user_id = $1 ORDER BY doc->>'createdAt', team_id", &[&user_id])
            .await
    }

    pub(super) async fn write_team_member(&self, member: Doc) -> StoreResult<()> {
        let c = self.conn().await?;
        put_member(&c, &member).await
    }

    pub(super) async fn delete_team_member(&self, team_id: &str, user_id: &str) -> StoreResult<bool> {
        let c = self.conn().await?;
        Ok(exec(&c, "DELETE FROM team_members WHERE team_id = $1 AND user_id = $2", &[&team_id, &user_id]).await? == 1)
    }

    pub(super) async fn write_team(&self, team: Doc) -> StoreResult<()> {
        let c = self.conn().await?;
        let stmt = c.prepare_cached("UPDATE teams SET name = $2, doc = $3 WHERE id = $1").await.map_err(pg)?;
        let changed = c
            .execute(&stmt, &[&id_of(&team)?, &str_of(&team, "name"), &json(&team)])
            .await
            .map_err(|e| conflict_or_backend(e, &[("teams_name", "name")]))?;
        if changed == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    pub(super) async fn team_from_room(&self, team: Doc, members: Vec<Doc>) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let team_id = id_of(&team)?;
        let rid = str_of(&team, "roomId").unwrap_or_default();
        let Some(mut room) = room_for_update(&tx, rid).await? else { return Err(StoreError::NotFound) };
        let stmt = tx
            .prepare_cached("INSERT INTO teams (id, name, room_id, doc) VALUES ($1, $2, $3, $4)")
            .await
            .map_err(pg)?;
        tx.execute(&stmt, &[&team_id, &str_of(&team, "name"), &rid, &json(&team)])
            .await
            .map_err(|e| conflict_or_backend(e, &[("teams_name", "name")]))?;
        for m in &members {
            put_member(&tx, m).await?;
        }
        room.insert("teamMain".into(), json!(true));
        room.insert("teamId".into(), json!(team_id));
        room.insert("_updatedAt".into(), json!(now_iso()));
        put_room(&tx, &room, false).await?;
        changed(&tx, "rooms").await?;
        tx.commit().await.map_err(pg)
    }
}
