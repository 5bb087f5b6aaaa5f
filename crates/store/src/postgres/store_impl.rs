//! `Store` for PostgreSQL: each method is one transaction on a pooled connection; writes that
//! other nodes cache also notify them (see `notify`).

use super::PgStore;
use crate::{AttemptRecord, Change, Claimed, Committed, Delivery, Doc, DocQuery, MessageQuery, Store, StoreResult};
use async_trait::async_trait;
use serde_json::Value;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[async_trait]
impl Store for PgStore {
    async fn settings(&self) -> StoreResult<Vec<(String, Value)>> {
        self.settings_all().await
    }

    async fn save_setting(&self, id: &str, value: Value) -> StoreResult<()> {
        self.setting_save(id, value).await
    }

    async fn roles(&self) -> StoreResult<Vec<Doc>> {
        self.docs_of("SELECT doc FROM roles ORDER BY id").await
    }

    async fn ensure_roles(&self, roles: Vec<Doc>) -> StoreResult<()> {
        self.insert_missing("INSERT INTO roles (id, doc) VALUES ($1, $2) ON CONFLICT DO NOTHING", roles).await
    }

    async fn permissions(&self) -> StoreResult<Vec<Doc>> {
        self.docs_of("SELECT doc FROM permissions ORDER BY id").await
    }

    async fn ensure_permissions(&self, permissions: Vec<Doc>) -> StoreResult<()> {
        self.insert_missing("INSERT INTO permissions (id, doc) VALUES ($1, $2) ON CONFLICT DO NOTHING", permissions)
            .await
    }

    async fn set_permission_roles(&self, updates: Vec<(String, Vec<String>)>) -> StoreResult<()> {
        self.permission_roles_set(updates).await
    }

    async fn replace_user(&self, user: Doc) -> StoreResult<()> {
        self.user_write(user, false).await
    }

    async fn delete_user(&self, id: &str) -> StoreResult<()> {
        self.user_delete(id).await
    }

    async fn user_by_id(&self, id: &str) -> StoreResult<Option<Doc>> {
        self.user_one("SELECT doc FROM users WHERE id = $1", id).await
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<Doc>> {
        self.user_one("SELECT doc FROM users WHERE username_lower = $1", &username.to_lowercase()).await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<Doc>> {
        self.user_one("SELECT doc FROM users WHERE email_lower = $1", &email.to_lowercase()).await
    }

    async fn users(&self) -> StoreResult<Vec<Doc>> {
        self.docs_of("SELECT doc FROM users ORDER BY seq").await
    }

    async fn users_by_ids(&self, ids: &[String]) -> StoreResult<Vec<Doc>> {
        self.users_with_ids(ids).await
    }

    async fn add_login_token(&self, user_id: &str, hashed_token: &str) -> StoreResult<()> {
        self.token_add(user_id, hashed_token).await
    }

    async fn remove_login_token(&self, hashed_token: &str) -> StoreResult<()> {
        self.token_remove(hashed_token).await
    }

    async fn user_id_by_token(&self, hashed_token: &str) -> StoreResult<Option<String>> {
        self.token_user(hashed_token).await
    }

    async fn room_by_id(&self, id: &str) -> StoreResult<Option<Doc>> {
        Ok(self.room_query("id = $1", id).await?.pop())
    }

    async fn room_by_name(&self, name: &str) -> StoreResult<Option<Doc>> {
        Ok(self.room_query("name = $1", name).await?.pop())
    }

    async fn rooms_by_type(&self, t: &str) -> StoreResult<Vec<Doc>> {
        self.room_query("t = $1 ORDER BY seq", t).await
    }

    async fn delete_room(&self, id: &str) -> StoreResult<()> {
        self.room_delete(id).await
    }

    async fn subscription(&self, rid: &str, uid: &str) -> StoreResult<Option<Doc>> {
        self.doc_query("SELECT doc FROM subscriptions WHERE rid = $1 AND uid = $2", &[&rid, &uid]).await
    }

    async fn subscriptions_of_user(&self, uid: &str) -> StoreResult<Vec<Doc>> {
        self.docs_query("SELECT doc FROM subscriptions WHERE uid = $1 ORDER BY seq", &[&uid]).await
    }

    async fn subscriptions_of_room(&self, rid: &str) -> StoreResult<Vec<Doc>> {
        self.docs_query("SELECT doc FROM subscriptions WHERE rid = $1 ORDER BY seq", &[&rid]).await
    }

    async fn set_subscription_open(&self, rid: &str, uid: &str, open: bool) -> StoreResult<()> {
        self.subscription_open_set(rid, uid, open).await
    }

    async fn set_subscription_roles(
        &self,
        rid: &str,
        uid: &str,
        roles: Vec<String>,
        system_message: Option<Doc>,
    ) -> StoreResult<()> {
        self.subscription_roles_set(rid, uid, roles, system_message).await
    }

    async fn message_by_id(&self, id: &str) -> StoreResult<Option<Doc>> {
        self.doc_query("SELECT doc FROM messages WHERE id = $1", &[&id]).await
    }

    async fn delete_message(&self, id: &str) -> StoreResult<()> {
        self.message_delete(id).await
    }

    async fn room_messages(&self, rid: &str, query: MessageQuery) -> StoreResult<(Vec<Doc>, usize)> {
        self.messages_of_room(rid, query).await
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
        self.doc_query("SELECT doc FROM teams WHERE id = $1", &[&id]).await
    }

    async fn team_by_name(&self, name: &str) -> StoreResult<Option<Doc>> {
        self.doc_query("SELECT doc FROM teams WHERE name = $1", &[&name]).await
    }

    async fn team_member(&self, team_id: &str, user_id: &str) -> StoreResult<Option<Doc>> {
        self.doc_query("SELECT doc FROM team_members WHERE team_id = $1 AND user_id = $2", &[&team_id, &user_id]).await
    }

    async fn delete_team(&self, team_id: &str, rooms_to_remove: Vec<String>) -> StoreResult<()> {
        self.team_delete(team_id, rooms_to_remove).await
    }

    async fn insert_integration(&self, integration: Doc) -> StoreResult<()> {
        self.integration_write(integration, true).await
    }

    async fn replace_integration(&self, integration: Doc) -> StoreResult<()> {
        self.integration_write(integration, false).await
    }

    async fn delete_integration(&self, id: &str) -> StoreResult<Option<Doc>> {
        self.integration_delete(id).await
    }

    async fn integration_by_id(&self, id: &str) -> StoreResult<Option<Doc>> {
        self.doc_query("SELECT doc FROM integrations WHERE id = $1", &[&id]).await
    }

    async fn integration_by_url(&self, url: &str) -> StoreResult<Option<Doc>> {
        self.integration_with_url(url).await
    }

    async fn find_integrations(&self, query: DocQuery) -> StoreResult<(Vec<Doc>, usize)> {
        self.integrations_find(query).await
    }

    async fn history_by_id(&self, id: &str) -> StoreResult<Option<Doc>> {
        self.doc_query("SELECT doc FROM integration_history WHERE id = $1", &[&id]).await
    }

    async fn find_history(&self, query: DocQuery) -> StoreResult<(Vec<Doc>, usize)> {
        self.history_find(query).await
    }

    async fn clear_history(&self, integration_id: &str) -> StoreResult<usize> {
        self.history_clear(integration_id).await
    }

    async fn commit(&self, change: Change, deliveries: Vec<Delivery>) -> StoreResult<Committed> {
        self.commit_change(change, deliveries).await
    }

    async fn claim_due_deliveries(&self, lanes: Vec<(String, usize)>, now: i64) -> StoreResult<Vec<Claimed>> {
        self.claim_due(lanes, now).await
    }

    async fn record_attempts(&self, records: Vec<AttemptRecord>) -> StoreResult<()> {
        self.finish(records).await
    }

    /// Claims of other nodes are theirs until their lease runs out; this node starts with
    /// none, so there is nothing to release at start.
    async fn release_claimed_deliveries(&self) -> StoreResult<usize> {
        self.release_own_claims().await
    }

    async fn pending_delivery_urls(&self) -> StoreResult<Vec<(String, i64)>> {
        self.pending_urls(now_ms()).await
    }

    async fn outbox_stats(&self) -> StoreResult<crate::OutboxStats> {
        self.outbox_depth().await
    }

    fn set_commit_observer(&self, observer: crate::CommitObserver) {
        self.commit_observer.set(observer);
    }

    async fn prune_history(
        &self,
        max_per_integration: Option<usize>,
        created_before: Option<String>,
    ) -> StoreResult<usize> {
        self.history_prune(max_per_integration, created_before).await
    }

    fn integrations_generation(&self) -> u64 {
        self.integrations_generation.load(std::sync::atomic::Ordering::Acquire)
    }

    fn shared(&self) -> bool {
        true
    }

    fn set_claim_lease(&self, ms: i64) {
        PgStore::set_claim_lease(self, ms);
    }

    async fn first_start_guard(&self) -> StoreResult<Box<dyn std::any::Any + Send + Sync>> {
        Ok(Box::new(self.lock_first_start().await?))
    }

    fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<String>> {
        Some(PgStore::changes(self))
    }

    async fn close(&self) {
        match self.release_own_claims().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(released = n, "released this node's delivery claims"),
            Err(e) => tracing::warn!(error = %e, "could not release this node's delivery claims"),
        }
        self.listener.abort();
        self.pool.close();
    }
}
