//! Change notifications between nodes. A write that other nodes cache (integrations,
//! permissions, rooms and memberships) sends `NOTIFY liftoff_changes` with the kind of record
//! inside its transaction, so it reaches every node when it commits. Each node listens on a
//! connection of its own; when that connection is lost it may have missed notifications, so it
//! announces `*` (drop every cache) and listens again.

use super::docs::exec;
use crate::StoreResult;
use deadpool_postgres::GenericClient;
use futures_util::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio_postgres::{AsyncMessage, NoTls};

/// What a listener announces after a reconnection: every kind may have changed.
pub const EVERYTHING: &str = "*";

pub async fn changed(c: &impl GenericClient, kind: &str) -> StoreResult<()> {
    exec(c, "SELECT pg_notify('liftoff_changes', $1)", &[&kind]).await.map(drop)
}

/// Listens for the life of the process; integration changes also bump `generation`.
pub fn spawn_listener(
    config: tokio_postgres::Config,
    generation: Arc<AtomicU64>,
) -> (broadcast::Sender<String>, tokio::task::JoinHandle<()>) {
    let (sender, _) = broadcast::channel(1024);
    let out = sender.clone();
    let task = tokio::spawn(async move {
        let mut first = true;
        loop {
            if let Err(e) = listen(&config, &sender, &generation, first).await {
                tracing::warn!(error = %e, "lost the change-notification connection; dropping caches");
            }
            first = false;
            generation.fetch_add(1, Ordering::AcqRel);
            let _ = sender.send(EVERYTHING.into());
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    (out, task)
}

async fn listen(
    config: &tokio_postgres::Config,
    sender: &broadcast::Sender<String>,
    generation: &AtomicU64,
    first: bool,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    let _ = tx.send(n.payload().to_owned());
                }
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    });
    client.batch_execute("LISTEN liftoff_changes").await?;
    if !first {
        // Changes made while we were not listening are unknown: forget everything again now
        // that new ones will be heard.
        generation.fetch_add(1, Ordering::AcqRel);
        let _ = sender.send(EVERYTHING.into());
    }
    while let Some(kind) = rx.recv().await {
        if kind == "integrations" {
            generation.fetch_add(1, Ordering::AcqRel);
        }
        let _ = sender.send(kind);
    }
    drop(client);
    driver.await.unwrap_or(Ok(()))
}
