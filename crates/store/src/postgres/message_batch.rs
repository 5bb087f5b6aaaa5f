//! Group commit of new messages, the hot path of `/hooks` and `chat.postMessage`. Each message
//! bumps its room's counters, so one transaction per message queues every writer of a room
//! behind a counter row's lock for the length of a commit (its WAL flush included). One task
//! instead drains what is queued into one statement — the messages, one counter update per
//! room, the outbox rows — and acknowledges each caller once it committed. A batch
//! that fails as a whole hands its messages back to be written one by one, so a bad message
//! fails alone. Each batch adds to a counter row of its room picked at random (see `room_counters`),
//! so the batches of several nodes seldom wait for each other's commit.

use super::docs::{Param, id_of, json, pg, str_of};
use super::outbox_rows::{DeliveryRows, insert_deliveries_sql};
use super::room_counters::{CounterRows, add_to_counters_sql};
use crate::{CommitObserverSlot, Delivery, Doc, StoreError, StoreResult};
use deadpool_postgres::Pool;
use std::collections::BTreeMap;
use tokio::sync::{mpsc, oneshot};

/// How many queued messages one statement takes at most.
const MAX_BATCH: usize = 512;
const QUEUE_DEPTH: usize = 8 * 1024;

/// A message the batch could not write: the caller writes it in a transaction of its own.
pub(super) struct Unbatched {
    pub message: Doc,
    pub deliveries: Vec<Delivery>,
}

struct Job {
    message: Doc,
    deliveries: Vec<Delivery>,
    done: oneshot::Sender<Result<Doc, Unbatched>>,
}

#[derive(Clone)]
pub(super) struct MessageBatcher {
    queue: mpsc::Sender<Job>,
}

impl MessageBatcher {
    /// Commits with `pool`, reporting each batch to `observer`.
    pub fn start(pool: Pool, observer: CommitObserverSlot) -> Self {
        let (queue, rx) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(run(pool, observer, rx));
        Self { queue }
    }

    /// Inserts `message` with its outbox rows in the next batch and gives it back once
    /// committed, or as `Unbatched` when the caller must write it alone.
    pub async fn insert(&self, message: Doc, deliveries: Vec<Delivery>) -> StoreResult<Result<Doc, Unbatched>> {
        let (done, answer) = oneshot::channel();
        if let Err(mpsc::error::SendError(job)) = self.queue.send(Job { message, deliveries, done }).await {
            return Ok(Err(Unbatched { message: job.message, deliveries: job.deliveries }));
        }
        // The task drops a job unanswered only when the runtime stops: nothing was written.
        answer.await.map_err(|_| StoreError::Closed)
    }
}

async fn run(pool: Pool, observer: CommitObserverSlot, mut rx: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(job) = rx.recv().await {
        batch.push(job);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let written = write(&pool, &batch).await;
        if written.is_ok() {
            observer.committed(batch.len(), started);
        }
        if let Err(e) = &written {
            tracing::debug!(error = %e, messages = batch.len(), "batched insert failed; writing one by one");
        }
        for job in batch.drain(..) {
            let answer = match written {
                Ok(()) => Ok(job.message),
                Err(_) => Err(Unbatched { message: job.message, deliveries: job.deliveries }),
            };
            let _ = job.done.send(answer);
        }
    }
}

/// The whole batch in one statement, so in one round trip and one implicit transaction: the
/// messages, what they add to their rooms' counters, their outbox rows (none, often).
const WRITE_BATCH: &str = concat!(
    "WITH new_messages AS (
        INSERT INTO messages (id, rid, ts, doc)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[])
    ), counted AS (",
    add_to_counters_sql!("$5", "$6", "$7", "$8", "$9"),
    ") ",
    insert_deliveries_sql!("$10", "$11", "$12", "$13", "$14", "$15")
);

async fn write(pool: &Pool, batch: &[Job]) -> StoreResult<()> {
    let mut ids = Vec::with_capacity(batch.len());
    let mut rids = Vec::with_capacity(batch.len());
    let mut stamps = Vec::with_capacity(batch.len());
    let mut docs = Vec::with_capacity(batch.len());
    // Per room: messages added and the latest of them. Ordered by id, so that nodes committing
    // batches at once lock counter rows in the same order and cannot deadlock.
    let mut rooms: BTreeMap<&str, (i64, &str, &Doc)> = BTreeMap::new();
    let mut deliveries = DeliveryRows::default();
    for job in batch {
        let m = &job.message;
        let rid = str_of(m, "rid").ok_or(StoreError::Backend("message without rid".into()))?;
        let ts = str_of(m, "ts").unwrap_or_default();
        ids.push(id_of(m)?);
        rids.push(rid);
        stamps.push(ts);
        docs.push(json(m));
        let room = rooms.entry(rid).or_insert((0, ts, m));
        room.0 += 1;
        if ts >= room.1 {
            (room.1, room.2) = (ts, m);
        }
        job.deliveries.iter().for_each(|d| deliveries.push(d));
    }
    let mut counters = CounterRows::default();
    for (rid, (added, ts, last)) in rooms {
        counters.push(rid, added, ts, last);
    }
    let c = pool.get().await.map_err(|e| StoreError::Backend(e.to_string()))?;
    let stmt = c.prepare_cached(WRITE_BATCH).await.map_err(pg)?;
    let d = &deliveries;
    let params: [Param; 15] = [
        &ids,
        &rids,
        &stamps,
        &docs,
        &counters.rids,
        &counters.slots,
        &counters.added,
        &counters.ts,
        &counters.last,
        &d.ids,
        &d.integrations,
        &d.urls,
        &d.due,
        &d.attempts,
        &d.docs,
    ];
    c.execute(&stmt, &params).await.map_err(pg)?;
    Ok(())
}
