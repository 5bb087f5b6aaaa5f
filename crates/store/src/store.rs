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

/// One outgoing call to make: a row of the outbox, written in the same transaction as the
/// event that caused it and removed in the same transaction as the history of its last attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Unique per delivery and stable across its retries (receivers can de-duplicate on it).
    pub id: String,
    pub integration_id: String,
    pub url: String,
    /// When the next attempt is due, in milliseconds since the Unix epoch.
    pub due_at: i64,
    /// Attempts already made.
    pub attempt: u32,
    /// What the attempt needs: event, payload, room, trigger word, ...
    pub doc: Doc,
}

/// Deliveries claimed for one URL, and when the earliest unclaimed one left for it is due.
#[derive(Debug, Clone, Default)]
pub struct Claimed {
    pub url: String,
    pub deliveries: Vec<Delivery>,
    pub next_due: Option<i64>,
}

/// A change to the workspace that may raise an event: [`Store::commit`] writes it together
/// with the outbox rows of the deliveries the event causes, in one transaction.
#[derive(Debug, Clone)]
pub enum Change {
    /// Stores a message and updates its room's `msgs`, `lm` and `lastMessage`; a thread reply
    /// (`tmid`) also updates its thread's first message (see [`crate::thread::count_reply`]).
    InsertMessage(Doc),
    /// Replaces a stored message (`NotFound` when there is none).
    ReplaceMessage(Doc),
    /// Creates a room with its first subscriptions (`usersCount` and the members' `__rooms`
    /// follow); `Conflict("name")` when a room of that name exists.
    CreateRoom { room: Doc, subscriptions: Vec<Doc> },
    /// Creates a team, its main room and memberships; `Conflict("name")` as for rooms.
    CreateTeam { team: Doc, main_room: Doc, room_subscriptions: Vec<Doc>, members: Vec<Doc> },
    /// Subscribes a user and posts the system message announcing it; applies only when the
    /// user was not subscribed yet.
    Subscribe { subscription: Doc, system_message: Option<Doc> },
    /// Unsubscribes a user and posts the system message; applies only when the user was
    /// subscribed.
    Unsubscribe { rid: String, uid: String, system_message: Option<Doc> },
    /// Sets (and with `Value::Null`, removes) top-level fields of a room and its `_updatedAt`;
    /// applies only when the room exists.
    UpdateRoom { id: String, set: Doc },
    /// Inserts a user; `Conflict("username")` / `Conflict("email")` when taken (usernames and
    /// e-mail addresses are unique case-insensitively).
    InsertUser(Doc),
    /// No change: the deliveries alone (a replay of a recorded call).
    Nothing,
}

/// What [`Store::commit`] did.
#[derive(Debug, Clone, Default)]
pub struct Committed {
    /// Whether the change applied; the deliveries are stored only then.
    pub applied: bool,
    /// The document written, for the changes that give one back: the inserted message (so
    /// callers need not keep a copy) and the updated room.
    pub doc: Option<Doc>,
}

/// The end of one attempt: the delivery is removed (`reschedule: None`) or unclaimed for
/// another attempt at `(due_at, attempt)`, with the attempt's history record.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub id: String,
    pub reschedule: Option<(i64, u32)>,
    pub history: Option<Doc>,
}

/// How deep the outbox is, counted over every node sharing the database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Deliveries not finished yet: waiting, claimed or waiting for a retry.
    pub pending: u64,
    /// The earliest due time (ms since the epoch) among them; `None` when there are none.
    pub earliest_due_ms: Option<i64>,
}

/// Everything Liftoff persists, in the workspace's terms. Every write returns only once it is
/// durable.
///
/// # Single-process assumptions
///
/// The SQLite backend serves one process, and three things rely on that; a backend shared by
/// several processes must replace them:
/// - **Claims are released at start.** [`Store::release_claimed_deliveries`] is called when the
///   dispatcher starts and voids every claim, since the only process that could hold one is
///   gone. With several processes a claim needs an owner and a lease instead.
/// - **The integrations generation is an in-memory counter.** [`Store::integrations_generation`]
///   moves on every integration write made through this store object, which is every write
///   when there is one process. Another process's writes must move it too (a stored version,
///   a notification channel).
/// - **Caches are invalidated locally.** The server's integration cache and the hook plan
///   cache are dropped by the process that made the change; other processes only see it when
///   an entry expires or the generation moves.
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

    // --- changes that raise events, with the deliveries they cause ---------------------------
    /// Writes a change with the outbox rows of the deliveries it causes, in one transaction;
    /// the rows are stored only when the change applies. The one write path of every change
    /// that raises an event.
    async fn commit(&self, change: Change, deliveries: Vec<Delivery>) -> StoreResult<Committed>;

    // --- users and login tokens -------------------------------------------------------------
    /// `commit(Change::InsertUser)` without deliveries (first-start setup).
    async fn insert_user(&self, user: Doc) -> StoreResult<()> {
        self.commit(Change::InsertUser(user), Vec::new()).await.map(drop)
    }
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

    // --- rooms and memberships --------------------------------------------------------------
    /// `commit(Change::CreateRoom)` without deliveries (first-start setup, direct rooms).
    async fn create_room(&self, room: Doc, subscriptions: Vec<Doc>) -> StoreResult<()> {
        self.commit(Change::CreateRoom { room, subscriptions }, Vec::new()).await.map(drop)
    }
    async fn room_by_id(&self, id: &str) -> StoreResult<Option<Doc>>;
    async fn room_by_name(&self, name: &str) -> StoreResult<Option<Doc>>;
    /// Rooms of one type (`c`, `p`, `d`).
    async fn rooms_by_type(&self, t: &str) -> StoreResult<Vec<Doc>>;
    /// `commit(Change::UpdateRoom)` without deliveries: sets (and with `Value::Null`, removes)
    /// top-level fields of a room; returns the new room. The subscriptions of a channel or group
    /// follow its `name`, `fname` and `t`.
    async fn update_room(&self, id: &str, set: Doc) -> StoreResult<Option<Doc>> {
        self.commit(Change::UpdateRoom { id: id.to_owned(), set }, Vec::new()).await.map(|c| c.doc)
    }
    /// Deletes a room, its messages and subscriptions.
    async fn delete_room(&self, id: &str) -> StoreResult<()>;
    async fn subscription(&self, rid: &str, uid: &str) -> StoreResult<Option<Doc>>;
    async fn subscriptions_of_user(&self, uid: &str) -> StoreResult<Vec<Doc>>;
    async fn subscriptions_of_room(&self, rid: &str) -> StoreResult<Vec<Doc>>;
    /// `commit(Change::Subscribe)` without deliveries: `false` when already subscribed.
    async fn add_subscription(&self, subscription: Doc, system_message: Option<Doc>) -> StoreResult<bool> {
        self.commit(Change::Subscribe { subscription, system_message }, Vec::new()).await.map(|c| c.applied)
    }
    /// `commit(Change::Unsubscribe)` without deliveries: `false` when not subscribed.
    async fn remove_subscription(&self, rid: &str, uid: &str, system_message: Option<Doc>) -> StoreResult<bool> {
        let change = Change::Unsubscribe { rid: rid.to_owned(), uid: uid.to_owned(), system_message };
        self.commit(change, Vec::new()).await.map(|c| c.applied)
    }
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

    // --- messages ---------------------------------------------------------------------------
    /// `commit(Change::InsertMessage)` without deliveries (system messages); returns the
    /// message back.
    async fn insert_message(&self, message: Doc) -> StoreResult<Doc> {
        let done = self.commit(Change::InsertMessage(message), Vec::new()).await?;
        done.doc.ok_or_else(|| StoreError::Backend("the inserted message was not given back".into()))
    }
    async fn message_by_id(&self, id: &str) -> StoreResult<Option<Doc>>;
    async fn delete_message(&self, id: &str) -> StoreResult<()>;
    /// A page of a room's messages by `ts`, and the total count of messages matching the range.
    async fn room_messages(&self, rid: &str, query: MessageQuery) -> StoreResult<(Vec<Doc>, usize)>;

    /// A page of messages matching a filter (callers AND in the room and what the caller may
    /// see), and how many match in all.
    async fn find_messages(&self, query: DocQuery) -> StoreResult<(Vec<Doc>, usize)>;
    /// Sets (and with `Value::Null`, removes) top-level fields of a subscription and its
    /// `_updatedAt`; `false` when the user is not subscribed.
    async fn update_subscription(&self, rid: &str, uid: &str, set: Doc) -> StoreResult<bool>;

    // --- teams ------------------------------------------------------------------------------
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
    /// Replaces a team document; `Conflict("name")` when another team has its name.
    async fn replace_team(&self, team: Doc) -> StoreResult<()>;
    /// Makes the existing room `team.roomId` a team's main room: stores the team and its
    /// members and sets the room's `teamMain` and `teamId`, in one write. `NotFound` without
    /// the room, `Conflict("name")` when a team has the name.
    async fn convert_room_to_team(&self, team: Doc, members: Vec<Doc>) -> StoreResult<()>;

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
    /// Moves on every integration insert, replace or delete, so in-memory indexes of
    /// integrations know when to reload (an in-process counter: see the trait's docs).
    fn integrations_generation(&self) -> u64;

    // --- outgoing deliveries (the outbox) ----------------------------------------------------
    /// Claims, per URL, up to `limit` unclaimed deliveries due at `now` (oldest first).
    async fn claim_due_deliveries(&self, lanes: Vec<(String, usize)>, now: i64) -> StoreResult<Vec<Claimed>>;
    /// Ends attempts in one write: each delivery is removed, or unclaimed for another attempt,
    /// with the history record of the attempt.
    async fn record_attempts(&self, records: Vec<AttemptRecord>) -> StoreResult<()>;
    /// Unclaims every delivery (claims of a process that is gone: see the trait's docs);
    /// returns how many.
    async fn release_claimed_deliveries(&self) -> StoreResult<usize>;
    /// URLs with unclaimed deliveries and the earliest due time of each.
    async fn pending_delivery_urls(&self) -> StoreResult<Vec<(String, i64)>>;
    /// How many deliveries the outbox holds and the earliest due time among them.
    async fn outbox_stats(&self) -> StoreResult<OutboxStats>;

    /// Whether other processes may share this database (then deliveries enqueued elsewhere
    /// are found by polling, and claims carry a lease).
    fn shared(&self) -> bool {
        false
    }
    /// How long (ms) a claim on a delivery lasts before another process may take it over.
    fn set_claim_lease(&self, _ms: i64) {}
    /// Held while first-start data is created, so processes starting together on one
    /// database create it once; released when dropped.
    async fn first_start_guard(&self) -> StoreResult<Box<dyn std::any::Any + Send + Sync>> {
        Ok(Box::new(()))
    }
    /// Kinds of records other processes changed (`integrations`, `permissions`, `rooms`, or
    /// `*` for anything), so caches can drop them; `None` when no other process shares the data.
    fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<String>> {
        None
    }

    /// Watches every committed transaction of the backend's write paths (metrics).
    fn set_commit_observer(&self, _observer: crate::CommitObserver) {}

    /// Flushes and closes the backend.
    async fn close(&self);
}
