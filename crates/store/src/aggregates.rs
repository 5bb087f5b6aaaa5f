//! The storage interface per aggregate of the workspace. Each backend implements each trait in
//! the file of that aggregate (`sqlite/users.rs`, `postgres/users.rs`, ...); [`crate::Store`]
//! ties them together with the write path of changes that raise events.

use crate::{AttemptRecord, Claimed, Doc, DocQuery, MessageQuery, OutboxStats, StoreError, StoreResult};
use async_trait::async_trait;
use serde_json::Value;

/// Settings, roles and permissions.
#[async_trait]
pub trait SettingsStore: Send + Sync {
    async fn settings(&self) -> StoreResult<Vec<(String, Value)>>;
    async fn save_setting(&self, id: &str, value: Value) -> StoreResult<()>;
    async fn roles(&self) -> StoreResult<Vec<Doc>>;
    /// Inserts the roles that do not exist yet; existing ones are left as they are.
    async fn ensure_roles(&self, roles: Vec<Doc>) -> StoreResult<()>;
    async fn permissions(&self) -> StoreResult<Vec<Doc>>;
    /// Inserts the permissions that do not exist yet; existing ones keep their roles.
    async fn ensure_permissions(&self, permissions: Vec<Doc>) -> StoreResult<()>;
    /// Replaces the role lists of existing permissions, all or nothing.
    async fn set_permission_roles(&self, updates: Vec<(String, Vec<String>)>) -> StoreResult<()>;
}

/// Users and their login tokens (new users are a [`crate::Change::InsertUser`]).
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Replaces a user. A user stored with `active: false` loses every login token in the same
    /// write, as Rocket.Chat does when it deactivates a user.
    async fn replace_user(&self, user: Doc) -> StoreResult<()>;
    /// Deletes the user with its login tokens and subscriptions.
    async fn delete_user(&self, id: &str) -> StoreResult<()>;
    async fn user_by_id(&self, id: &str) -> StoreResult<Option<Doc>>;
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<Doc>>;
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<Doc>>;
    async fn users(&self) -> StoreResult<Vec<Doc>>;
    async fn users_by_ids(&self, ids: &[String]) -> StoreResult<Vec<Doc>>;
    async fn add_login_token(&self, user_id: &str, hashed_token: &str) -> StoreResult<()>;
    async fn remove_login_token(&self, hashed_token: &str) -> StoreResult<()>;
    async fn user_id_by_token(&self, hashed_token: &str) -> StoreResult<Option<String>>;
}

/// Rooms (new rooms and room updates are changes: [`crate::Change::CreateRoom`],
/// [`crate::Change::UpdateRoom`]).
#[async_trait]
pub trait RoomStore: Send + Sync {
    async fn room_by_id(&self, id: &str) -> StoreResult<Option<Doc>>;
    async fn room_by_name(&self, name: &str) -> StoreResult<Option<Doc>>;
    /// Rooms of one type (`c`, `p`, `d`).
    async fn rooms_by_type(&self, t: &str) -> StoreResult<Vec<Doc>>;
    /// Deletes a room, its messages and subscriptions.
    async fn delete_room(&self, id: &str) -> StoreResult<()>;
}

/// A user's membership of a room (joins and leaves are [`crate::Change::Subscribe`] and
/// [`crate::Change::Unsubscribe`]).
#[async_trait]
pub trait SubscriptionStore: Send + Sync {
    async fn subscription(&self, rid: &str, uid: &str) -> StoreResult<Option<Doc>>;
    async fn subscriptions_of_user(&self, uid: &str) -> StoreResult<Vec<Doc>>;
    async fn subscriptions_of_room(&self, rid: &str) -> StoreResult<Vec<Doc>>;
    /// Shows (`true`) or hides a room in the user's room list; `NotFound` when not subscribed.
    async fn set_subscription_open(&self, rid: &str, uid: &str, open: bool) -> StoreResult<()>;
    /// Replaces a subscription's roles, posting the system message if given.
    async fn set_subscription_roles(
        &self,
        rid: &str,
        uid: &str,
        roles: Vec<String>,
        system_message: Option<Doc>,
    ) -> StoreResult<()>;
    /// Sets (and with `Value::Null`, removes) top-level fields of a subscription and its
    /// `_updatedAt`; `false` when the user is not subscribed.
    async fn update_subscription(&self, rid: &str, uid: &str, set: Doc) -> StoreResult<bool>;
}

/// Messages (new and edited messages are [`crate::Change::InsertMessage`] and
/// [`crate::Change::EditMessage`]).
#[async_trait]
pub trait MessageStore: Send + Sync {
    async fn message_by_id(&self, id: &str) -> StoreResult<Option<Doc>>;
    /// Deletes the messages of `ids` that exist, in one write: each leaves the count of its room
    /// (and, a thread reply, of its thread) and keeps its trash record (see [`crate::trash`]);
    /// records past the retention are dropped. Returns how many were deleted.
    async fn delete_messages(&self, ids: &[String]) -> StoreResult<usize>;
    /// [`MessageStore::delete_messages`] of one message; `NotFound` when there is no such message.
    async fn delete_message(&self, id: &str) -> StoreResult<()> {
        match self.delete_messages(&[id.to_owned()]).await? {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }
    /// A page of a room's messages by `ts`, and the total count of messages matching the range.
    async fn room_messages(&self, rid: &str, query: MessageQuery) -> StoreResult<(Vec<Doc>, usize)>;
    /// A page of messages matching a filter (callers AND in the room and what the caller may
    /// see), and how many match in all.
    async fn find_messages(&self, query: DocQuery) -> StoreResult<(Vec<Doc>, usize)>;
    /// A page of the trash records of deleted messages (`_id`, `rid`, `ts`, `tmid`, `tcount`,
    /// `_deletedAt`) matching a filter, and how many match in all; insertion order is the
    /// order they were deleted in.
    async fn find_deleted_messages(&self, query: DocQuery) -> StoreResult<(Vec<Doc>, usize)>;
}

/// Teams and their member records (new teams are a [`crate::Change::CreateTeam`]).
#[async_trait]
pub trait TeamStore: Send + Sync {
    async fn team_by_id(&self, id: &str) -> StoreResult<Option<Doc>>;
    async fn team_by_name(&self, name: &str) -> StoreResult<Option<Doc>>;
    async fn team_member(&self, team_id: &str, user_id: &str) -> StoreResult<Option<Doc>>;
    /// Deletes a team: erases `rooms_to_remove` and the main room, detaches its other rooms.
    async fn delete_team(&self, team_id: &str, rooms_to_remove: Vec<String>) -> StoreResult<()>;
    /// Every team, oldest first.
    async fn teams(&self) -> StoreResult<Vec<Doc>>;
    /// The member records (`teamId`, `userId`, `roles`, `createdAt`, ...) of a team.
    async fn team_members(&self, team_id: &str) -> StoreResult<Vec<Doc>>;
    /// The member records of one user, one per team the user belongs to.
    async fn team_memberships(&self, user_id: &str) -> StoreResult<Vec<Doc>>;
    /// Inserts or replaces a member record (keyed by `teamId` and `userId`).
    async fn put_team_member(&self, member: Doc) -> StoreResult<()>;
    /// Removes a member record; `false` when there was none.
    async fn remove_team_member(&self, team_id: &str, user_id: &str) -> StoreResult<bool>;
    /// Makes the existing room `team.roomId` a team's main room: stores the team and its
    /// members and sets the room's `teamMain` and `teamId`, in one write. `NotFound` without
    /// the room, `Conflict("name")` when a team has the name.
    async fn convert_room_to_team(&self, team: Doc, members: Vec<Doc>) -> StoreResult<()>;
}

/// Moderation reports users make on messages (`chat.reportMessage`).
#[async_trait]
pub trait ModerationStore: Send + Sync {
    /// Stores a report: `_id`, the reported `message` as it was, `description`, `reportedBy`,
    /// `room` and `ts`.
    async fn insert_report(&self, report: Doc) -> StoreResult<()>;
}

/// Integrations (incoming and outgoing webhooks).
#[async_trait]
pub trait IntegrationStore: Send + Sync {
    async fn insert_integration(&self, integration: Doc) -> StoreResult<()>;
    async fn replace_integration(&self, integration: Doc) -> StoreResult<()>;
    /// Deletes an integration and its history; returns the deleted document.
    async fn delete_integration(&self, id: &str) -> StoreResult<Option<Doc>>;
    async fn integration_by_id(&self, id: &str) -> StoreResult<Option<Doc>>;
    /// The first integration whose `urls` contains `url`.
    async fn integration_by_url(&self, url: &str) -> StoreResult<Option<Doc>>;
    /// A page of integrations matching the query, and how many match in all.
    async fn find_integrations(&self, query: DocQuery) -> StoreResult<(Vec<Doc>, usize)>;
    /// Moves on every integration insert, replace or delete, so in-memory indexes of
    /// integrations know when to reload (an in-process counter: see [`crate::Store`]'s docs).
    fn integrations_generation(&self) -> u64;
}

/// The history of outgoing calls, one record per attempt (written with the attempt's end:
/// [`OutboxStore::record_attempts`]).
#[async_trait]
pub trait HistoryStore: Send + Sync {
    async fn history_by_id(&self, id: &str) -> StoreResult<Option<Doc>>;
    async fn find_history(&self, query: DocQuery) -> StoreResult<(Vec<Doc>, usize)>;
    /// Deletes every history record of an integration; returns how many.
    async fn clear_history(&self, integration_id: &str) -> StoreResult<usize>;
    /// Keeps at most `max_per_integration` history records per integration (newest) and none
    /// created before `created_before` (ISO date); returns how many were deleted.
    async fn prune_history(
        &self,
        max_per_integration: Option<usize>,
        created_before: Option<String>,
    ) -> StoreResult<usize>;
}

/// Outgoing deliveries waiting to be made (rows are added by [`crate::Store::commit`]).
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Claims, per URL, up to `limit` unclaimed deliveries due at `now` (oldest first).
    async fn claim_due_deliveries(&self, lanes: Vec<(String, usize)>, now: i64) -> StoreResult<Vec<Claimed>>;
    /// Ends attempts in one write: each delivery is removed, or unclaimed for another attempt,
    /// with the history record of the attempt.
    async fn record_attempts(&self, records: Vec<AttemptRecord>) -> StoreResult<()>;
    /// Unclaims the deliveries this process may have left claimed (on SQLite every one, since
    /// the only process that could hold them is gone: see [`crate::Store`]'s docs); returns
    /// how many.
    async fn release_claimed_deliveries(&self) -> StoreResult<usize>;
    /// URLs with unclaimed deliveries and the earliest due time of each.
    async fn pending_delivery_urls(&self) -> StoreResult<Vec<(String, i64)>>;
    /// How many deliveries the outbox holds and the earliest due time among them.
    async fn outbox_stats(&self) -> StoreResult<OutboxStats>;
    /// How long (ms) a claim on a delivery lasts before another process may take it over.
    fn set_claim_lease(&self, _ms: i64) {}
}
