//! The embedded default backend: SQLite in WAL mode, one group-commit writer thread, and a pool
//! of reader connections.

mod changes;
mod docs;
mod export;
mod history;
mod index;
mod integrations;
mod listing;
mod messages;
mod moderation;
mod outbox;
mod rooms;
mod schema;
mod settings;
mod subscriptions;
mod teams;
mod user_rows;
mod users;
mod writer;

use crate::{Doc, StoreError, StoreResult};
use deadpool_sqlite::{Config, Pool, Runtime};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use writer::Writer;

pub struct SqliteStore {
    writer: Writer,
    /// Loaded on first use by listings that filter only on indexed fields.
    integration_index: std::sync::Arc<std::sync::RwLock<Option<crate::integration_index::IntegrationIndex>>>,
    readers: Pool,
    writer_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    path: PathBuf,
    /// See `IntegrationStore::integrations_generation`.
    integrations_generation: std::sync::atomic::AtomicU64,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `path`, applies migrations and starts the writer.
    pub fn open(path: &Path) -> StoreResult<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Backend(format!("cannot create {}: {e}", dir.display())))?;
        }
        let mut conn = Connection::open(path).map_err(docs::backend)?;
        // FULL: a commit is on disk before the writer acknowledges it, so an acknowledged
        // write survives a crash or power loss. Group commit pays the fsync once per batch.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = OFF;
             PRAGMA busy_timeout = 5000;",
        )
        .map_err(docs::backend)?;
        schema::migrate(&mut conn).map_err(docs::backend)?;
        conn.set_prepared_statement_cache_capacity(128);
        let (writer, handle) = Writer::start(conn);
        let readers = Config::new(path)
            .builder(Runtime::Tokio1)
            .map_err(|e| StoreError::Backend(e.to_string()))?
            .max_size(4)
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(Self {
            writer,
            integration_index: Default::default(),
            readers,
            writer_thread: Mutex::new(Some(handle)),
            path: path.to_owned(),
            integrations_generation: Default::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs a read on a pooled connection off the async runtime.
    async fn read<R, F>(&self, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    {
        let conn = self.readers.get().await.map_err(|e| StoreError::Backend(e.to_string()))?;
        conn.interact(move |c| f(c)).await.map_err(|e| StoreError::Backend(e.to_string()))?
    }

    async fn write<R, F>(&self, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    {
        self.writer.write(f).await
    }

    /// A store whose every write is its own transaction: the baseline that group commit is
    /// measured against. Only for benchmarks.
    pub async fn write_unbatched<R, F>(&self, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    {
        // The pool's connections share the file; BEGIN IMMEDIATE serialises them like one writer.
        self.read(move |c| {
            c.execute_batch("PRAGMA synchronous = FULL; BEGIN IMMEDIATE").map_err(docs::backend)?;
            match f(c) {
                Ok(r) => {
                    c.execute_batch("COMMIT").map_err(docs::backend)?;
                    Ok(r)
                }
                Err(e) => {
                    let _ = c.execute_batch("ROLLBACK");
                    Err(e)
                }
            }
        })
        .await
    }

    async fn read_one(&self, sql: &'static str, key: impl Into<String>) -> StoreResult<Option<Doc>> {
        let key = key.into();
        self.read(move |c| docs::one(c, sql, [key])).await
    }

    async fn read_many(&self, sql: &'static str, key: impl Into<String>) -> StoreResult<Vec<Doc>> {
        let key = key.into();
        self.read(move |c| docs::many(c, sql, [key])).await
    }
}
