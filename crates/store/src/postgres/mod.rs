//! The PostgreSQL backend, for several stateless nodes sharing one database: a pool of
//! connections, every write its own transaction, JSONB documents with typed indexed columns.

mod changes;
mod docs;
mod export;
mod history;
mod integrations;
mod listing;
mod listing_index;
mod membership;
mod message_batch;
mod messages;
mod moderation;
mod notify;
mod nul;
mod outbox;
mod outbox_rows;
mod room_counters;
mod rooms;
mod schema;
mod settings;
mod subscriptions;
mod teams;
mod users;

use crate::{Doc, StoreError, StoreResult};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, QueueMode, RecyclingMethod};
use docs::pg;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use tokio_postgres::NoTls;
use tokio_postgres::types::ToSql;

/// Connections per node: enough for concurrent requests and the outgoing dispatcher, few
/// enough that several nodes stay well inside PostgreSQL's default `max_connections` (100).
const POOL_SIZE: usize = 16;

/// Every connection of a node is named `APP_PREFIX` + its node id (`application_name`), so
/// other nodes can tell from `pg_stat_activity` whether it is still there.
const APP_PREFIX: &str = "liftoff-";

/// Claims are held this long unless the server sets its own lease.
const DEFAULT_LEASE_MS: i64 = 60_000;

pub struct PgStore {
    pool: Pool,
    /// This process's name in the outbox's `claimed_by`: unique per start.
    node_id: String,
    lease_ms: AtomicI64,
    /// See `IntegrationStore::integrations_generation`.
    integrations_generation: Arc<AtomicU64>,
    /// Kinds of records changed on any node: `integrations`, `permissions`, `rooms`, or `*`
    /// after the listening connection was lost (see `notify`).
    changes: tokio::sync::broadcast::Sender<String>,
    listener: tokio::task::JoinHandle<()>,
    /// New messages, committed in groups.
    messages: message_batch::MessageBatcher,
    /// The integrations' listing fields in memory, kept current across nodes.
    index: listing_index::PgIndex,
    /// Told of each committed change and each batch of finished attempts.
    commit_observer: crate::CommitObserverSlot,
}

impl PgStore {
    /// Connects to `url` (`postgres://user[:password]@host[:port]/dbname`), applies the
    /// migrations under an advisory lock and returns the store.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let mut config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL URL: {e}")))?;
        let node_id = format!("{}-{}", std::process::id(), crate::ids::random_id(8));
        config.application_name(format!("{APP_PREFIX}{node_id}"));
        let generation: Arc<AtomicU64> = Default::default();
        let (changes, listener) = notify::spawn_listener(config.clone(), generation.clone());
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        // Last in, first out: consecutive statements (the message batches above all) reuse the
        // backend that just ran one, warm in cache and awake, instead of rotating through every
        // pooled backend.
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .queue_mode(QueueMode::Lifo)
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let commit_observer = crate::CommitObserverSlot::default();
        let store = Self {
            index: listing_index::PgIndex::start(&changes),
            messages: message_batch::MessageBatcher::start(pool.clone(), commit_observer.clone()),
            pool,
            node_id,
            lease_ms: AtomicI64::new(DEFAULT_LEASE_MS),
            integrations_generation: generation,
            changes,
            listener,
            commit_observer,
        };
        let mut conn = store.conn().await?;
        schema::migrate(&mut conn).await?;
        Ok(store)
    }

    /// The name this node writes in `claimed_by`.
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    fn lease_ms(&self) -> i64 {
        self.lease_ms.load(Ordering::Relaxed)
    }

    async fn conn(&self) -> StoreResult<Object> {
        self.pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(e) => pg(e),
            other => StoreError::Backend(other.to_string()),
        })
    }

    /// Serialises first-start setup across nodes (see `Store::first_start_guard`).
    pub async fn lock_first_start(&self) -> StoreResult<schema::FirstStartGuard> {
        schema::lock_first_start(self.conn().await?).await
    }

    /// The first document `sql` selects, on a pooled connection.
    async fn doc_query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Option<Doc>> {
        docs::one(&self.conn().await?, sql, params).await
    }

    async fn docs_query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Vec<Doc>> {
        docs::many(&self.conn().await?, sql, params).await
    }

    async fn docs_of(&self, sql: &str) -> StoreResult<Vec<Doc>> {
        self.docs_query(sql, &[]).await
    }
}
