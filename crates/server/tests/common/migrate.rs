//! Running `liftoff migrate-data` from the tests, and reading its report.

use std::collections::HashMap;
use std::process::Command;

/// Runs `liftoff migrate-data`; returns whether it succeeded, its stdout and its stderr.
pub fn migrate(from: &str, to: &str) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_liftoff"))
        .args(["migrate-data", "--from", from, "--to", to])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .output()
        .expect("run liftoff migrate-data");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

/// The report's "<kind>: <count>" lines.
pub fn counts(stdout: &str) -> HashMap<String, u64> {
    stdout
        .lines()
        .filter_map(|line| {
            let (label, rest) = line.split_once(": ")?;
            Some((label.to_owned(), rest.split_whitespace().next()?.parse().ok()?))
        })
        .collect()
}
