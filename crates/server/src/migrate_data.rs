//! `liftoff migrate-data --from <url> --to <url>`: copies a whole workspace into an empty
//! database, SQLite or PostgreSQL either way, so a server started on the target serves the
//! same workspace (same ids, same login tokens, the same pending deliveries).

use crate::{open_transfer, redact};
use store::migrate::{Event, copy};

/// Records read and written at a time: one round trip each way per batch.
const BATCH: usize = 2000;
/// A progress line on stderr every this many records of one kind.
const PROGRESS_EVERY: u64 = 10_000;

pub async fn run(from: &str, to: &str) -> Result<(), String> {
    if from == to {
        return Err("--from and --to name the same database".into());
    }
    let source = open_transfer(from).await?;
    let target = match open_transfer(to).await {
        Ok(target) => target,
        Err(e) => {
            source.close().await;
            return Err(e);
        }
    };
    eprintln!("copying {} into {}", redact(from), redact(to));
    let mut report = Report::default();
    let copied = copy(&*source, &*target, BATCH, &mut |event| report.on(event)).await;
    source.close().await;
    target.close().await;
    let copied = copied.map_err(|e| format!("nothing was copied: {e}"))?;
    let total: u64 = copied.0.iter().map(|(_, inserted)| inserted.records).sum();
    let replaced: u64 = copied.0.iter().map(|(_, inserted)| inserted.replaced_nul).sum();
    println!("migrated {total} records; every count matches the source");
    if replaced > 0 {
        println!("{replaced} records had NUL characters, which PostgreSQL cannot store: replaced by U+FFFD");
    }
    Ok(())
}

/// Prints a line per kind on stdout and progress on stderr.
#[derive(Default)]
struct Report {
    /// The last multiple of [`PROGRESS_EVERY`] reported for the current kind.
    reported: u64,
}

impl Report {
    fn on(&mut self, event: Event) {
        match event {
            Event::Started { .. } => self.reported = 0,
            Event::Progress { kind, done, total } => {
                let step = done / PROGRESS_EVERY;
                if step > self.reported && done < total {
                    self.reported = step;
                    eprintln!("  {}: {done} of {total}", kind.label());
                }
            }
            Event::Finished { kind, inserted } => {
                let nul = match inserted.replaced_nul {
                    0 => String::new(),
                    n => format!(" ({n} with NUL replaced by U+FFFD)"),
                };
                println!("{}: {}{nul}", kind.label(), inserted.records);
            }
        }
    }
}
