//! Supervised background tasks: a task that panics is logged and started again, so a bug in
//! one delivery path cannot silently stop outgoing webhooks for the life of the process.

use std::future::Future;
use std::time::Duration;

/// Pause before a panicked task is started again (keeps a task that panics at once from
/// spinning).
const RESTART_DELAY: Duration = Duration::from_millis(100);

/// Runs the task `make` builds, and builds and runs it again whenever it panics. A task that
/// returns is not restarted (it finished its work, or the process is shutting down).
pub fn supervise<F, Fut>(name: &'static str, make: F) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            match tokio::spawn(make()).await {
                Ok(()) => return,
                Err(e) if e.is_panic() => {
                    let panic = e.into_panic();
                    let message = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "(no message)".into());
                    tracing::error!(task = name, panic = %message, "background task panicked; restarting it");
                    tokio::time::sleep(RESTART_DELAY).await;
                }
                // Cancelled: the runtime is shutting down.
                Err(_) => return,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::sync::{Mutex, mpsc};

    /// A worker that panics on one item is restarted and goes on delivering the items after it
    /// from the same queue.
    #[tokio::test]
    async fn a_panicked_task_is_restarted_and_keeps_delivering() {
        let (in_tx, in_rx) = mpsc::channel::<u32>(8);
        let (out_tx, mut out_rx) = mpsc::channel::<u32>(8);
        let queue = Arc::new(Mutex::new(in_rx));
        let starts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = starts.clone();
        supervise("test worker", move || {
            let (queue, out_tx) = (queue.clone(), out_tx.clone());
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                loop {
                    let item = queue.lock().await.recv().await;
                    let Some(item) = item else { return };
                    if item == 0 {
                        panic!("cannot deliver item 0");
                    }
                    out_tx.send(item).await.unwrap();
                }
            }
        });
        in_tx.send(1).await.unwrap();
        assert_eq!(out_rx.recv().await, Some(1));
        in_tx.send(0).await.unwrap();
        in_tx.send(2).await.unwrap();
        in_tx.send(3).await.unwrap();
        assert_eq!(out_rx.recv().await, Some(2), "the restarted task delivers what follows the panic");
        assert_eq!(out_rx.recv().await, Some(3));
        assert_eq!(starts.load(std::sync::atomic::Ordering::SeqCst), 2, "started once, restarted once");
    }
}
