//! Group commit: one thread owns the write connection, drains every queued write into one
//! transaction, commits once, and only then acknowledges each caller. A write that fails rolls
//! back to its own savepoint without disturbing the others in the batch.

use crate::{CommitObserver, CommitObserverSlot, StoreError, StoreResult};
use rusqlite::Connection;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// How many queued writes one transaction takes at most.
const MAX_BATCH: usize = 1024;
const QUEUE_DEPTH: usize = 16 * 1024;

type Ack = Box<dyn FnOnce(StoreResult<()>) + Send>;
/// Runs a write on the connection; returns whether it succeeded and how to tell its caller
/// once the transaction's fate is known. Given an error when no transaction could be opened.
type Job = Box<dyn FnOnce(Result<&Connection, StoreError>) -> (bool, Ack) + Send>;

enum Message {
    Write(Job),
    /// Commit what is queued, checkpoint the WAL and stop.
    Close(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Message>,
    observer: CommitObserverSlot,
}

impl Writer {
    pub fn start(conn: Connection) -> (Self, std::thread::JoinHandle<()>) {
        let (queue, rx) = mpsc::channel(QUEUE_DEPTH);
        let observer = CommitObserverSlot::default();
        let watched = observer.clone();
        let handle = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, rx, watched))
            .expect("spawn the SQLite writer thread");
        (Self { queue, observer }, handle)
    }

    /// Told of every group transaction that commits.
    pub fn observe_commits(&self, observer: CommitObserver) {
        self.observer.set(observer);
    }

    /// Runs `f` inside the next group transaction and resolves once that transaction committed.
    pub async fn write<R, F>(&self, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = match conn {
                Ok(conn) => catch_unwind(AssertUnwindSafe(|| f(conn)))
                    .unwrap_or_else(|_| Err(StoreError::Backend("a write panicked".into()))),
                Err(e) => Err(e),
            };
            let ok = result.is_ok();
            let ack: Ack = Box::new(move |commit| {
                let _ = tx.send(commit.and(result));
            });
            (ok, ack)
        });
        self.queue.send(Message::Write(job)).await.map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Commits every write queued so far, then stops the writer and closes its connection.
    pub async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        if self.queue.send(Message::Close(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

fn run(conn: Connection, mut rx: mpsc::Receiver<Message>, observer: CommitObserverSlot) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut closing = None;
    while closing.is_none() {
        match rx.blocking_recv() {
            Some(Message::Write(job)) => batch.push(job),
            Some(Message::Close(ack)) => closing = Some(ack),
            None => break,
        }
        while closing.is_none() && batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(Message::Write(job)) => batch.push(job),
                Ok(Message::Close(ack)) => closing = Some(ack),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            let (writes, started) = (batch.len(), Instant::now());
            if commit_batch(&conn, &mut batch) {
                observer.committed(writes, started);
            }
        }
    }
    if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
        tracing::warn!(error = %e, "final WAL checkpoint failed");
    }
    drop(conn);
    tracing::info!("database closed");
    if let Some(ack) = closing {
        let _ = ack.send(());
    }
}

/// Runs a statement through the statement cache (savepoints run once per write).
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

fn rollback_job(conn: &Connection) -> rusqlite::Result<()> {
    run_cached(conn, "ROLLBACK TO job")?;
    run_cached(conn, "RELEASE job")
}

/// Runs and commits one group; `true` when a transaction committed.
fn commit_batch(conn: &Connection, batch: &mut Vec<Job>) -> bool {
    if let Err(e) = run_cached(conn, "BEGIN IMMEDIATE") {
        let err = e.to_string();
        for job in batch.drain(..) {
            let (_, ack) = job(Err(StoreError::Backend(err.clone())));
            ack(Err(StoreError::Backend(err.clone())));
        }
        return false;
    }
    let mut acks = Vec::with_capacity(batch.len());
    // A lone write needs no savepoint: if it fails, rolling back the transaction undoes it.
    let alone = batch.len() == 1;
    let mut failed_alone = false;
    for job in batch.drain(..) {
        if alone {
            let (ok, ack) = job(Ok(conn));
            failed_alone = !ok;
            acks.push(ack);
            continue;
        }
        let savepoint = run_cached(conn, "SAVEPOINT job");
        let (ok, ack) = job(savepoint.map(|_| conn).map_err(|e| StoreError::Backend(e.to_string())));
        let end = if ok { run_cached(conn, "RELEASE job") } else { rollback_job(conn) };
        if let Err(e) = end {
            tracing::error!(error = %e, "closing a write savepoint failed");
        }
        acks.push(ack);
    }
    if failed_alone {
        let _ = conn.execute_batch("ROLLBACK");
        for ack in acks {
            ack(Ok(()));
        }
        return false;
    }
    let commit = run_cached(conn, "COMMIT").map_err(|e| {
        tracing::error!(error = %e, "group commit failed");
        let _ = conn.execute_batch("ROLLBACK");
        e.to_string()
    });
    let committed = commit.is_ok();
    for ack in acks {
        ack(commit.clone().map_err(StoreError::Backend));
    }
    committed
}
