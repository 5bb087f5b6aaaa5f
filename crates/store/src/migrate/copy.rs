//! The copy itself: every kind in turn, streamed from the source in batches into one
//! transaction on the target, checked count by count before it commits.

use super::records::{Import, Inserted, Kind, Record, Transfer};
use crate::StoreError;
use tokio::sync::mpsc;

/// What [`copy`] reports as it goes.
#[derive(Debug, Clone, Copy)]
pub enum Event {
    /// A kind starts; the source holds `total` records of it.
    Started { kind: Kind, total: u64 },
    /// After each batch.
    Progress { kind: Kind, done: u64, total: u64 },
    /// A kind is copied and its count checked.
    Finished { kind: Kind, inserted: Inserted },
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("the target database is not empty ({}); migrate into an empty database", describe(.0))]
    NotEmpty(Vec<(Kind, u64)>),
    #[error(
        "{} count mismatch: the source has {source_count}, {exported} were read and the target has {target_count}; \
         stop every server using the source and try again",
        .kind.label()
    )]
    CountMismatch { kind: Kind, source_count: u64, exported: u64, target_count: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn describe(found: &[(Kind, u64)]) -> String {
    found.iter().map(|(kind, n)| format!("{n} {}", kind.label())).collect::<Vec<_>>().join(", ")
}

/// Records copied, per kind in copy order.
#[derive(Debug, Clone, Default)]
pub struct Copied(pub Vec<(Kind, Inserted)>);

/// Copies every record of `from` into `to`, which must be empty, in one transaction on `to`:
/// on any error nothing is written. `batch` records travel at a time.
pub async fn copy(
    from: &dyn Transfer,
    to: &dyn Transfer,
    batch: usize,
    progress: &mut (dyn FnMut(Event) + Send),
) -> Result<Copied, CopyError> {
    let mut import = to.begin_import().await?;
    let mut found = Vec::new();
    for kind in Kind::ALL {
        let n = import.count(kind).await?;
        if n > 0 {
            found.push((kind, n));
        }
    }
    if !found.is_empty() {
        return Err(CopyError::NotEmpty(found));
    }
    let mut copied = Copied::default();
    for kind in Kind::ALL {
        let total = from.count(kind).await?;
        progress(Event::Started { kind, total });
        let (tx, rx) = mpsc::channel(2);
        let (exported, inserted) =
            tokio::join!(from.export(kind, batch.max(1), tx), insert_all(&mut *import, kind, rx, total, progress));
        let inserted = inserted?;
        let exported = exported?;
        let target_count = import.count(kind).await?;
        if exported != total || inserted.records != exported || target_count != exported {
            return Err(CopyError::CountMismatch { kind, source_count: total, exported, target_count });
        }
        progress(Event::Finished { kind, inserted });
        copied.0.push((kind, inserted));
    }
    import.commit().await?;
    Ok(copied)
}

/// Inserts batches until the exporter is done; returning early drops `rx`, which stops it.
async fn insert_all(
    import: &mut dyn Import,
    kind: Kind,
    mut rx: mpsc::Receiver<Vec<Record>>,
    total: u64,
    progress: &mut (dyn FnMut(Event) + Send),
) -> Result<Inserted, StoreError> {
    let mut sum = Inserted::default();
    while let Some(records) = rx.recv().await {
        let done = import.insert(kind, records).await?;
        sum.records += done.records;
        sum.replaced_nul += done.replaced_nul;
        progress(Event::Progress { kind, done: sum.records, total });
    }
    Ok(sum)
}
