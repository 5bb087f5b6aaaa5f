//! Writes the ends of delivery attempts in batches: one store write for all that finished
//! meanwhile. The receiving end is shared, so a restarted recorder task carries on with the
//! same queue.

use std::sync::Arc;
use std::time::Duration;
use store::{AttemptRecord, Store};
use tokio::sync::{Mutex, mpsc, oneshot};

type Ack = oneshot::Sender<bool>;

/// Attempts recorded in one write at most.
const RECORD_BATCH: usize = 512;

/// The queue of attempts to record.
pub struct Recorder {
    tx: mpsc::Sender<(AttemptRecord, Ack)>,
    rx: Arc<Mutex<mpsc::Receiver<(AttemptRecord, Ack)>>>,
}

impl Default for Recorder {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel(4 * RECORD_BATCH);
        Recorder { tx, rx: Arc::new(Mutex::new(rx)) }
    }
}

impl Recorder {
    /// Records one attempt; `false` when it could not be (the row then stays claimed until the
    /// next start releases it, and the call is made again).
    pub async fn record(&self, record: AttemptRecord) -> bool {
        let (ack, done) = oneshot::channel();
        if self.tx.send((record, ack)).await.is_err() {
            return false;
        }
        done.await.unwrap_or(false)
    }

    /// The recording loop; runs for the life of the process (under the supervisor).
    pub async fn run(&self, store: Arc<dyn Store>) {
        let mut rx = self.rx.lock().await;
        let mut batch = Vec::with_capacity(RECORD_BATCH);
        while rx.recv_many(&mut batch, RECORD_BATCH).await > 0 {
            let (records, acks): (Vec<AttemptRecord>, Vec<Ack>) = batch.drain(..).unzip();
            let ok = write(&*store, records).await;
            for ack in acks {
                let _ = ack.send(ok);
            }
        }
    }
}

/// One batch, tried a few times.
async fn write(store: &dyn Store, records: Vec<AttemptRecord>) -> bool {
    let mut tries = 0;
    loop {
        match store.record_attempts(records.clone()).await {
            Ok(()) => return true,
            Err(store::StoreError::Closed) => return false,
            Err(e) if tries < 5 => {
                tries += 1;
                tracing::warn!(error = %e, "recording delivery attempts failed; trying again");
                tokio::time::sleep(Duration::from_millis(200 * tries)).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "recording delivery attempts failed");
                return false;
            }
        }
    }
}
