//! What travels between backends: kinds of records, their columns, raw rows, and the two
//! sides of a copy ([`Transfer`] hands records out, [`Import`] takes them in).

use crate::{Store, StoreResult};
use async_trait::async_trait;
use tokio::sync::mpsc;

/// A kind of record: one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Settings,
    Roles,
    Permissions,
    Users,
    LoginTokens,
    Rooms,
    Subscriptions,
    Teams,
    TeamMembers,
    Messages,
    DeletedMessages,
    ModerationReports,
    Integrations,
    IntegrationChannels,
    IntegrationHistory,
    Outbox,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    Int,
    /// JSON, carried as its text.
    Json,
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColumnType,
}

const fn text(name: &'static str) -> Column {
    Column { name, ty: ColumnType::Text }
}
const fn int(name: &'static str) -> Column {
    Column { name, ty: ColumnType::Int }
}
const fn json(name: &'static str) -> Column {
    Column { name, ty: ColumnType::Json }
}

impl Kind {
    /// Every kind, in the order they are copied.
    pub const ALL: [Kind; 16] = [
        Kind::Settings,
        Kind::Roles,
        Kind::Permissions,
        Kind::Users,
        Kind::LoginTokens,
        Kind::Rooms,
        Kind::Subscriptions,
        Kind::Teams,
        Kind::TeamMembers,
        Kind::Messages,
        Kind::DeletedMessages,
        Kind::ModerationReports,
        Kind::Integrations,
        Kind::IntegrationChannels,
        Kind::IntegrationHistory,
        Kind::Outbox,
    ];

    pub fn table(self) -> &'static str {
        match self {
            Kind::Settings => "settings",
            Kind::Roles => "roles",
            Kind::Permissions => "permissions",
            Kind::Users => "users",
            Kind::LoginTokens => "login_tokens",
            Kind::Rooms => "rooms",
            Kind::Subscriptions => "subscriptions",
            Kind::Teams => "teams",
            Kind::TeamMembers => "team_members",
            Kind::Messages => "messages",
            Kind::DeletedMessages => "message_trash",
            Kind::ModerationReports => "moderation_reports",
            Kind::Integrations => "integrations",
            Kind::IntegrationChannels => "integration_channels",
            Kind::IntegrationHistory => "integration_history",
            Kind::Outbox => "outbox",
        }
    }

    /// The name people read in reports.
    pub fn label(self) -> &'static str {
        match self {
            Kind::LoginTokens => "login tokens",
            Kind::TeamMembers => "team members",
            Kind::DeletedMessages => "deleted messages",
            Kind::ModerationReports => "moderation reports",
            Kind::IntegrationChannels => "integration channels",
            Kind::IntegrationHistory => "integration history",
            Kind::Outbox => "pending deliveries",
            other => other.table(),
        }
    }

    /// The columns both backends have, in the order of a record's cells.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Kind::Settings => const { &[text("id"), json("value")] },
            Kind::Roles | Kind::Permissions => const { &[text("id"), json("doc")] },
            Kind::Users => const { &[text("id"), text("username_lower"), text("email_lower"), json("doc")] },
            Kind::LoginTokens => const { &[text("hashed_token"), text("user_id"), text("created_at")] },
            Kind::Rooms => {
                const {
                    &[
                        text("id"),
                        text("name"),
                        text("t"),
                        text("team_id"),
                        int("msgs"),
                        text("lm"),
                        json("last_message"),
                        json("doc"),
                    ]
                }
            }
            Kind::Subscriptions => const { &[text("rid"), text("uid"), json("doc")] },
            Kind::Teams => const { &[text("id"), text("name"), text("room_id"), json("doc")] },
            Kind::TeamMembers => const { &[text("team_id"), text("user_id"), json("doc")] },
            Kind::Messages => const { &[text("id"), text("rid"), text("ts"), json("doc")] },
            Kind::DeletedMessages => const { &[text("id"), text("rid"), text("deleted_at"), json("doc")] },
            Kind::ModerationReports => {
                const { &[text("id"), text("message_id"), text("reported_by"), text("ts"), json("doc")] }
            }
            Kind::Integrations => {
                const {
                    &[
                        text("id"),
                        text("type"),
                        text("name"),
                        text("created_by"),
                        text("created_at"),
                        text("updated_at"),
                        json("doc"),
                    ]
                }
            }
            Kind::IntegrationChannels => const { &[text("integration_id"), text("channel"), int("pos")] },
            Kind::IntegrationHistory => {
                const {
                    &[
                        text("id"),
                        text("integration_id"),
                        text("created_by"),
                        text("created_at"),
                        text("updated_at"),
                        json("doc"),
                    ]
                }
            }
            Kind::Outbox => {
                const { &[text("id"), text("integration_id"), text("url"), int("due_at"), int("attempt"), json("doc")] }
            }
        }
    }
}

/// One cell of a record: text and JSON columns hold `Text`, integer columns `Int`.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
}

/// A raw row: one cell per column of its kind.
pub type Record = Vec<Cell>;

/// What one insert did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Inserted {
    pub records: u64,
    /// Records with text the target cannot hold (PostgreSQL refuses NUL characters), which
    /// was replaced by U+FFFD.
    pub replaced_nul: u64,
}

/// A backend that can hand out and take in raw records.
#[async_trait]
pub trait Transfer: Store {
    async fn count(&self, kind: Kind) -> StoreResult<u64>;
    /// Sends every record of `kind` to `out` in batches of at most `batch`, oldest first (the
    /// order listings break ties in); returns how many were sent.
    async fn export(&self, kind: Kind, batch: usize, out: mpsc::Sender<Vec<Record>>) -> StoreResult<u64>;
    /// Starts writing inside one transaction: nothing is visible, or kept, before
    /// [`Import::commit`].
    async fn begin_import(&self) -> StoreResult<Box<dyn Import>>;
}

/// Writes in progress; dropped without [`Import::commit`], they are all rolled back.
#[async_trait]
pub trait Import: Send {
    async fn insert(&mut self, kind: Kind, records: Vec<Record>) -> StoreResult<Inserted>;
    /// Records of `kind`, counting those inserted so far.
    async fn count(&mut self, kind: Kind) -> StoreResult<u64>;
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}
