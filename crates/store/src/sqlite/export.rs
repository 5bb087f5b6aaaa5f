//! Raw records in and out of SQLite, for copying a workspace to or from another database.
//! Reads stream from one reader connection; an import is one writer job, so one transaction.

use super::SqliteStore;
use super::docs::backend;
use crate::migrate::{Cell, ColumnType, Import, Inserted, Kind, Record, Transfer};
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use rusqlite::Connection;
use rusqlite::types::{ToSqlOutput, ValueRef};
use std::sync::mpsc as sync_mpsc;
use tokio::sync::{mpsc, oneshot};

impl rusqlite::ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Cell::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Cell::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Cell::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

/// A stored value as the cell its column expects (SQLite keeps whatever type it was given).
fn cell(value: ValueRef<'_>, ty: ColumnType) -> Cell {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    match (value, ty) {
        (ValueRef::Null, _) => Cell::Null,
        (ValueRef::Integer(i), ColumnType::Int) => Cell::Int(i),
        (ValueRef::Real(f), ColumnType::Int) => Cell::Int(f as i64),
        (ValueRef::Text(b) | ValueRef::Blob(b), ColumnType::Int) => {
            text(b).trim().parse().map(Cell::Int).unwrap_or(Cell::Null)
        }
        (ValueRef::Integer(i), _) => Cell::Text(i.to_string()),
        (ValueRef::Real(f), _) => Cell::Text(f.to_string()),
        (ValueRef::Text(b) | ValueRef::Blob(b), _) => Cell::Text(text(b)),
    }
}

fn count_in(conn: &Connection, kind: Kind) -> StoreResult<u64> {
    let sql = format!("SELECT count(*) FROM {}", kind.table());
    conn.query_row(&sql, [], |r| r.get::<_, i64>(0)).map(|n| n.max(0) as u64).map_err(backend)
}

fn column_list(kind: Kind) -> String {
    kind.columns().iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
}

/// Streams the rows of `kind` in insertion (rowid) order, `batch` at a time.
fn export_from(conn: &Connection, kind: Kind, batch: usize, out: &mpsc::Sender<Vec<Record>>) -> StoreResult<u64> {
    let columns = kind.columns();
    let sql = format!("SELECT {} FROM {} ORDER BY rowid", column_list(kind), kind.table());
    let mut stmt = conn.prepare(&sql).map_err(backend)?;
    let mut rows = stmt.query([]).map_err(backend)?;
    let mut buf = Vec::with_capacity(batch);
    let mut sent = 0u64;
    while let Some(row) = rows.next().map_err(backend)? {
        let mut record = Vec::with_capacity(columns.len());
        for (i, column) in columns.iter().enumerate() {
            record.push(cell(row.get_ref(i).map_err(backend)?, column.ty));
        }
        buf.push(record);
        if buf.len() == batch {
            sent += buf.len() as u64;
            out.blocking_send(std::mem::replace(&mut buf, Vec::with_capacity(batch)))
                .map_err(|_| StoreError::Closed)?;
        }
    }
    if !buf.is_empty() {
        sent += buf.len() as u64;
        out.blocking_send(buf).map_err(|_| StoreError::Closed)?;
    }
    Ok(sent)
}

fn insert_into(conn: &Connection, kind: Kind, records: &[Record]) -> StoreResult<Inserted> {
    let columns = kind.columns();
    let placeholders = (1..=columns.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
    let sql = format!("INSERT INTO {} ({}) VALUES ({placeholders})", kind.table(), column_list(kind));
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    for record in records {
        if record.len() != columns.len() {
            return Err(StoreError::Backend(format!("a {} record has {} cells", kind.label(), record.len())));
        }
        stmt.execute(rusqlite::params_from_iter(record.iter())).map_err(backend)?;
    }
    Ok(Inserted { records: records.len() as u64, replaced_nul: 0 })
}

enum Command {
    Insert(Kind, Vec<Record>, oneshot::Sender<StoreResult<Inserted>>),
    Count(Kind, oneshot::Sender<StoreResult<u64>>),
    Commit,
}

/// The writer job of an import: runs commands until told to commit (`Ok`) or abandoned
/// (`Err`, which rolls the whole import back).
fn serve_import(conn: &Connection, commands: sync_mpsc::Receiver<Command>) -> StoreResult<()> {
    loop {
        match commands.recv() {
            Ok(Command::Insert(kind, records, reply)) => {
                let _ = reply.send(insert_into(conn, kind, &records));
            }
            Ok(Command::Count(kind, reply)) => {
                let _ = reply.send(count_in(conn, kind));
            }
            Ok(Command::Commit) => return Ok(()),
            Err(_) => return Err(StoreError::Backend("import abandoned".into())),
        }
    }
}

struct SqliteImport {
    commands: sync_mpsc::Sender<Command>,
    /// The writer job; resolves once its transaction committed or rolled back.
    job: tokio::task::JoinHandle<StoreResult<()>>,
}

impl SqliteImport {
    async fn ask<R>(&self, command: impl FnOnce(oneshot::Sender<StoreResult<R>>) -> Command) -> StoreResult<R> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(command(tx)).map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

#[async_trait]
impl Import for SqliteImport {
    async fn insert(&mut self, kind: Kind, records: Vec<Record>) -> StoreResult<Inserted> {
        self.ask(|reply| Command::Insert(kind, records, reply)).await
    }

    async fn count(&mut self, kind: Kind) -> StoreResult<u64> {
        self.ask(|reply| Command::Count(kind, reply)).await
    }

    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.commands.send(Command::Commit).map_err(|_| StoreError::Closed)?;
        self.job.await.map_err(|e| StoreError::Backend(format!("the import stopped: {e}")))?
    }
}

#[async_trait]
impl Transfer for SqliteStore {
    async fn count(&self, kind: Kind) -> StoreResult<u64> {
        self.read(move |c| count_in(c, kind)).await
    }

    async fn export(&self, kind: Kind, batch: usize, out: mpsc::Sender<Vec<Record>>) -> StoreResult<u64> {
        self.read(move |c| export_from(c, kind, batch, &out)).await
    }

    async fn begin_import(&self) -> StoreResult<Box<dyn Import>> {
        let (commands, rx) = sync_mpsc::channel();
        let writer = self.writer.clone();
        let job = tokio::spawn(async move { writer.write(move |c| serve_import(c, rx)).await });
        Ok(Box::new(SqliteImport { commands, job }))
    }
}
