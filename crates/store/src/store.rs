//! The domain-level storage interface shared by every backend.

use crate::Doc;
use crate::aggregates::*;
use async_trait::async_trait;
use std::sync::Arc;

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
    /// Changes a stored message where it is stored: the edit runs on the committed document
    /// inside the write, so concurrent changes to one message (two reactions, a reaction and an
    /// edit) all hold. `applied` says whether the edit changed it, `doc` is the message after
    /// it; `NotFound` when there is no such message.
    EditMessage { id: String, edit: MessageEdit },
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

/// A change to one message document: returns whether it changed anything (nothing is written
/// when it did not).
#[derive(Clone)]
pub struct MessageEdit(Arc<dyn Fn(&mut Doc) -> bool + Send + Sync>);

impl MessageEdit {
    pub fn new(edit: impl Fn(&mut Doc) -> bool + Send + Sync + 'static) -> Self {
        Self(Arc::new(edit))
    }

    pub fn apply(&self, message: &mut Doc) -> bool {
        (self.0)(message)
    }
}

impl std::fmt::Debug for MessageEdit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MessageEdit")
    }
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

/// Everything Liftoff persists, in the workspace's terms: one trait per aggregate (see
/// [`crate::aggregates`]) and the one write path of changes that raise events. Every write
/// returns only once it is durable. Callers bring the aggregate traits into scope with
/// `use store::prelude::*`.
///
/// # Single-process assumptions
///
/// The SQLite backend serves one process, and three things rely on that; a backend shared by
/// several processes must replace them:
/// - **Claims are released at start.** [`OutboxStore::release_claimed_deliveries`] is called
///   when the dispatcher starts and voids every claim, since the only process that could hold
///   one is gone. With several processes a claim needs an owner and a lease instead.
/// - **The integrations generation is an in-memory counter.**
///   [`IntegrationStore::integrations_generation`] moves on every integration write made
///   through this store object, which is every write when there is one process. Another
///   process's writes must move it too (a stored version, a notification channel).
/// - **Caches are invalidated locally.** The server's integration cache and the hook plan
///   cache are dropped by the process that made the change; other processes only see it when
///   an entry expires or the generation moves ([`Store::changes`] tells them).
#[async_trait]
pub trait Store:
    SettingsStore
    + UserStore
    + RoomStore
    + SubscriptionStore
    + MessageStore
    + ModerationStore
    + TeamStore
    + IntegrationStore
    + HistoryStore
    + OutboxStore
    + 'static
{
    /// Writes a change with the outbox rows of the deliveries it causes, in one transaction;
    /// the rows are stored only when the change applies. The one write path of every change
    /// that raises an event.
    async fn commit(&self, change: Change, deliveries: Vec<Delivery>) -> StoreResult<Committed>;

    /// `commit(Change::InsertUser)` without deliveries (first-start setup).
    async fn insert_user(&self, user: Doc) -> StoreResult<()> {
        self.commit(Change::InsertUser(user), Vec::new()).await.map(drop)
    }
    /// `commit(Change::CreateRoom)` without deliveries (first-start setup, direct rooms).
    async fn create_room(&self, room: Doc, subscriptions: Vec<Doc>) -> StoreResult<()> {
        self.commit(Change::CreateRoom { room, subscriptions }, Vec::new()).await.map(drop)
    }
    /// `commit(Change::UpdateRoom)` without deliveries: sets (and with `Value::Null`, removes)
    /// top-level fields of a room; returns the new room. The subscriptions of a channel or group
    /// follow its `name`, `fname` and `t`.
    async fn update_room(&self, id: &str, set: Doc) -> StoreResult<Option<Doc>> {
        self.commit(Change::UpdateRoom { id: id.to_owned(), set }, Vec::new()).await.map(|c| c.doc)
    }
    /// `commit(Change::InsertMessage)` without deliveries (system messages); returns the
    /// message back.
    async fn insert_message(&self, message: Doc) -> StoreResult<Doc> {
        let done = self.commit(Change::InsertMessage(message), Vec::new()).await?;
        done.doc.ok_or_else(|| StoreError::Backend("the inserted message was not given back".into()))
    }

    /// Whether other processes may share this database (then deliveries enqueued elsewhere
    /// are found by polling, and claims carry a lease).
    fn shared(&self) -> bool {
        false
    }
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
