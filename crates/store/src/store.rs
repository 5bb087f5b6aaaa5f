//! The domain-level storage interface shared by every backend.

use crate::{Doc, DocQuery};
use async_trait::async_trait;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique field is taken; the payload names it (`username`, `email`, `name`, ...).
    #[error("duplicate {0}")]
    Conflict(&'static str),
    #[error("record not found")]
    NotFound,
    #[error("storage backend: {0}")]
    Backend(String),
    #[error("the store is shutting down")]
    Closed,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Which messages of a room to read, newest or oldest first.
#[derive(Debug, Clone, Default)]
pub struct MessageQuery {
    /// Only messages with `ts` before this ISO date (or at it when `inclusive`).
    pub latest: Option<String>,
    /// Only messages with `ts` after this ISO date (or at it when `inclusive`).
    pub oldest: Option<String>,
    pub inclusive: bool,
    pub oldest_first: bool,
    pub offset: usize,
    /// `None` = no limit.
    pub limit: Option<usize>,
}

/// Everything Liftoff persists. Every write returns only once it is durable.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // --- settings, roles, permissions -------------------------------------------------------
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

    // --- users and login tokens -------------------------------------------------------------
    /// Inserts a user; `Conflict("username")` / `Conflict("email")` when taken
    /// (usernames and e-mail addresses are unique case-insensitively).
    async fn insert_user(&self, user: Doc) -> StoreResult<()>;
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

    // --- rooms and memberships --------------------------------------------------------------
    /// Creates a room with its first subscriptions (`usersCount` and the members' `__rooms`
    /// follow); `Conflict("name")` when a room of that name exists.
    async fn create_room(&self, room: Doc, subscriptions: Vec<Doc>) -> StoreResult<()>;
    async fn room_by_id(&self, id: &str) -> StoreResult<Option<Doc>>;
    async fn room_by_name(&self, name: &str) -> StoreResult<Option<Doc>>;
    /// Rooms of one type (`c`, `p`, `d`).
    async fn rooms_by_type(&self, t: &str) -> StoreResult<Vec<Doc>>;
    /// Sets (and with `Value::Null`, removes) top-level fields of a room; returns the new room.
    async fn update_room(&self, id: &str, set: Doc) -> StoreResult<Option<Doc>>;
    /// Deletes a room, its messages and subscriptions.
    async fn delete_room(&self, id: &str) -> StoreResult<()>;
    async fn subscription(&self, rid: &str, uid: &str) -> StoreResult<Option<Doc>>;
    async fn subscriptions_of_user(&self, uid: &str) -> StoreResult<Vec<Doc>>;
    async fn subscriptions_of_room(&self, rid: &str) -> StoreResult<Vec<Doc>>;
    /// Subscribes a user (no-op returning `false` if already subscribed) and, if given, posts
    /// the system message announcing it, in one transaction.
    async fn add_subscription(&self, subscription: Doc, system_message: Option<Doc>) -> StoreResult<bool>;
    /// Unsubscribes a user (`false` if not subscribed), posting the system message if given.
    async fn remove_subscription(&self, rid: &str, uid: &str, system_message: Option<Doc>) -> StoreResult<bool>;
    /// Replaces a subscription's roles, posting the system message if given.
    async fn set_subscription_roles(
        &self,
        rid: &str,
        uid: &str,
        roles: Vec<String>,
        system_message: Option<Doc>,
    ) -> StoreResult<()>;

    // --- messages ---------------------------------------------------------------------------
    /// Stores a message and updates its room's `msgs`, `lm` and `lastMessage`.
    async fn insert_message(&self, message: Doc) -> StoreResult<()>;
    async fn message_by_id(&self, id: &str) -> StoreResult<Option<Doc>>;
    async fn replace_message(&self, message: Doc) -> StoreResult<()>;
    async fn delete_message(&self, id: &str) -> StoreResult<()>;
    /// A page of a room's messages by `ts`, and the total count of messages matching the range.
    async fn room_messages(&self, rid: &str, query: MessageQuery) -> StoreResult<(Vec<Doc>, usize)>;

    // --- teams ------------------------------------------------------------------------------
    /// Creates a team, its main room and memberships in one transaction.
    async fn create_team(
        &self,
        team: Doc,
        main_room: Doc,
        room_subscriptions: Vec<Doc>,
        members: Vec<Doc>,
    ) -> StoreResult<()>;
    async fn team_by_id(&self, id: &str) -> StoreResult<Option<Doc>>;
    async fn team_by_name(&self, name: &str) -> StoreResult<Option<Doc>>;
    async fn team_member(&self, team_id: &str, user_id: &str) -> StoreResult<Option<Doc>>;
    /// Deletes a team: erases `rooms_to_remove` and the main room, detaches its other rooms.
    async fn delete_team(&self, team_id: &str, rooms_to_remove: Vec<String>) -> StoreResult<()>;

    // --- integrations and their history -----------------------------------------------------
    async fn insert_integration(&self, integration: Doc) -> StoreResult<()>;
    async fn replace_integration(&self, integration: Doc) -> StoreResult<()>;
    /// Deletes an integration and its history; returns the deleted document.
    async fn delete_integration(&self, id: &str) -> StoreResult<Option<Doc>>;
    async fn integration_by_id(&self, id: &str) -> StoreResult<Option<Doc>>;
    /// The first integration whose `urls` contains `url`.
    async fn integration_by_url(&self, url: &str) -> StoreResult<Option<Doc>>;
    /// A page of integrations matching the query, and how many match in all.
    async fn find_integrations(&self, query: DocQuery) -> StoreResult<(Vec<Doc>, usize)>;
    async fn insert_history(&self, record: Doc) -> StoreResult<()>;
    /// Sets fields of a history record (`Value::Null` removes one).
    async fn update_history(&self, id: &str, set: Doc) -> StoreResult<()>;
    async fn history_by_id(&self, id: &str) -> StoreResult<Option<Doc>>;
    async fn find_history(&self, query: DocQuery) -> StoreResult<(Vec<Doc>, usize)>;
    /// Deletes every history record of an integration; returns how many.
    async fn clear_history(&self, integration_id: &str) -> StoreResult<usize>;

    /// Flushes and closes the backend.
    async fn close(&self);
}
