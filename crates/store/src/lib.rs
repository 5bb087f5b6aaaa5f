//! Liftoff's storage layer.
//!
//! Records are Rocket.Chat-shaped JSON documents (`Doc`), so what clients read back is exactly
//! what was stored. The [`Store`] trait speaks the language of the workspace ("create a room with
//! its first members", "post a message") rather than SQL, so that each backend can make those
//! operations atomic in its own way. [`sqlite::SqliteStore`] is the embedded default.

mod aggregates;
mod columns;
pub mod ids;
mod integration_index;
pub mod migrate;
mod observer;
pub mod postgres;
mod query;
pub mod sqlite;
mod store;
mod tables;
pub mod thread;
pub mod trash;

pub use aggregates::*;
pub use observer::CommitObserver;
pub(crate) use observer::CommitObserverSlot;
pub use query::DocQuery;
pub use store::{
    AttemptRecord, Change, Claimed, Committed, Delivery, MessageEdit, MessageQuery, OutboxStats, Store, StoreError,
    StoreResult,
};

/// The storage traits, for callers of a `dyn Store`: `use store::prelude::*`.
pub mod prelude {
    pub use crate::aggregates::*;
    pub use crate::store::Store;
}

/// A stored document: a JSON object with Rocket.Chat's field names (`_id`, `_updatedAt`, ...).
pub type Doc = serde_json::Map<String, serde_json::Value>;
