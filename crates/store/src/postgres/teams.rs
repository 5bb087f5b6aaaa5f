//! Teams in PostgreSQL beyond their creation: reads, member records, turning
//! an existing room into a team's main room, and deletion.

use super::PgStore;
use super::docs::{conflict_or_backend, exec, id_of, json, many, one, pg, str_of, strings};
use super::notify::changed;
use super::rooms::{erase_room, put_room, room_for_update};
use crate::ids::now_iso;
use crate::{Doc, StoreError, StoreResult, TeamStore};
use async_trait::async_trait;
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

#[async_trait]
impl TeamStore for PgStore {
    async fn team_by_id(&self, id: &str) -> StoreResult<Option<Doc>> {
        self.doc_query("SELECT doc FROM teams WHERE id = $1", &[&id]).await
    }

    async fn team_by_name(&self, name: &str) -> StoreResult<Option<Doc>> {
        self.doc_query("SELECT doc FROM teams WHERE name = $1", &[&name]).await
    }

    async fn team_member(&self, team_id: &str, user_id: &str) -> StoreResult<Option<Doc>> {
        self.doc_query("SELECT doc FROM team_members WHERE team_id = $1 AND user_id = $2", &[&team_id, &user_id]).await
    }

    async fn delete_team(&self, team_id: &str, rooms_to_remove: Vec<String>) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let Some(team) = one(&tx, "SELECT doc FROM teams WHERE id = $1 FOR UPDATE", &[&team_id]).await? else {
            return Err(StoreError::NotFound);
        };
        let main = str_of(&team, "roomId").unwrap_or_default().to_owned();
        for rid in strings(&tx, "SELECT id FROM rooms WHERE team_id = $1", &[&team_id]).await? {
            if rid == main || rooms_to_remove.contains(&rid) {
                erase_room(&tx, &rid).await?;
            } else if let Some(mut room) = room_for_update(&tx, &rid).await? {
                room.remove("teamId");
                room.remove("teamDefault");
                room.insert("_updatedAt".into(), json!(now_iso()));
                put_room(&tx, &room, false).await?;
            }
        }
        erase_room(&tx, &main).await?;
        exec(&tx, "DELETE FROM team_members WHERE team_id = $1", &[&team_id]).await?;
        exec(&tx, "DELETE FROM teams WHERE id = $1", &[&team_id]).await?;
        tx.commit().await.map_err(pg)
    }

    async fn teams(&self) -> StoreResult<Vec<Doc>> {
        self.docs_of("SELECT doc FROM teams ORDER BY doc->>'createdAt', id").await
    }

    async fn team_members(&self, team_id: &str) -> StoreResult<Vec<Doc>> {
        let c = self.conn().await?;
        many(&c, "SELECT doc FROM team_members WHERE team_id = $1 ORDER BY doc->>'createdAt', user_id", &[&team_id])
            .await
    }

    async fn team_memberships(&self, user_id: &str) -> StoreResult<Vec<Doc>> {
        let c = self.conn().await?;
        many(&c, "SELECT doc FROM team_members WHERE user_id = $1 ORDER BY doc->>'createdAt', team_id", &[&user_id])
            .await
    }

    async fn put_team_member(&self, member: Doc) -> StoreResult<()> {
        let c = self.conn().await?;
        put_member(&c, &member).await
    }

    async fn remove_team_member(&self, team_id: &str, user_id: &str) -> StoreResult<bool> {
        let c = self.conn().await?;
        Ok(exec(&c, "DELETE FROM team_members WHERE team_id = $1 AND user_id = $2", &[&team_id, &user_id]).await? == 1)
    }

    async fn convert_room_to_team(&self, team: Doc, members: Vec<Doc>) -> StoreResult<()> {
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
