//! Raw records in and out of PostgreSQL, for copying a workspace to or from another database.
//! Exports read through a cursor, oldest first; an import is one transaction on one
//! connection and inserts a whole batch per statement (`unnest` of one array per column).

use super::PgStore;
use super::docs::{pg, rows};
use super::nul::{json_without_nul, text_without_nul};
use crate::migrate::{Cell, ColumnType, Import, Inserted, Kind, Record, Transfer};
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Object};
use std::collections::HashMap;
use tokio::sync::mpsc;
use tokio_postgres::types::ToSql;

/// Column name → type name (`text`, `jsonb`, `json`, `int4`, `int8`) of a table.
async fn column_types(c: &impl GenericClient, kind: Kind) -> StoreResult<HashMap<String, String>> {
    let found = rows(
        c,
        "SELECT column_name::text, udt_name::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1",
        &[&kind.table()],
    )
    .await?;
    found.iter().map(|r| Ok((r.try_get(0).map_err(pg)?, r.try_get(1).map_err(pg)?))).collect()
}

async fn count_in(c: &impl GenericClient, kind: Kind) -> StoreResult<u64> {
    let row = c.query_one(&format!("SELECT count(*) FROM {}", kind.table()), &[]).await.map_err(pg)?;
    Ok(row.try_get::<_, i64>(0).map_err(pg)?.max(0) as u64)
}

fn record_of(row: &tokio_postgres::Row, kind: Kind) -> StoreResult<Record> {
    let mut record = Vec::with_capacity(kind.columns().len());
    for (i, column) in kind.columns().iter().enumerate() {
        record.push(match column.ty {
            ColumnType::Int => row.try_get::<_, Option<i64>>(i).map_err(pg)?.map_or(Cell::Null, Cell::Int),
            _ => row.try_get::<_, Option<String>>(i).map_err(pg)?.map_or(Cell::Null, Cell::Text),
        });
    }
    Ok(record)
}

impl PgStore {
    async fn export_kind(&self, kind: Kind, batch: usize, out: mpsc::Sender<Vec<Record>>) -> StoreResult<u64> {
        let mut c = self.conn().await?;
        let types = column_types(&c, kind).await?;
        let order = if types.contains_key("seq") { "seq" } else { kind.columns()[0].name };
        let select = kind
            .columns()
            .iter()
            .map(|col| match col.ty {
                ColumnType::Int => format!("{}::int8", col.name),
                _ => format!("{}::text", col.name),
            })
            .collect::<Vec<_>>()
            .join(", ");
        // A room's counters are spread over its counter rows: rooms go out with their totals.
        let from = if kind == Kind::Rooms { super::room_counters::ROOMS_WITH_TOTALS } else { kind.table() };
        let tx = c.transaction().await.map_err(pg)?;
        tx.batch_execute(&format!(
            "DECLARE liftoff_export NO SCROLL CURSOR FOR SELECT {select} FROM {from} ORDER BY {order}"
        ))
        .await
        .map_err(pg)?;
        let fetch = format!("FETCH {batch} FROM liftoff_export");
        let mut sent = 0u64;
        loop {
            let found = tx.query(&fetch, &[]).await.map_err(pg)?;
            if found.is_empty() {
                break;
            }
            let records = found.iter().map(|r| record_of(r, kind)).collect::<StoreResult<Vec<_>>>()?;
            sent += records.len() as u64;
            out.send(records).await.map_err(|_| StoreError::Closed)?;
        }
        tx.commit().await.map_err(pg)?;
        Ok(sent)
    }
}

/// One transaction on a connection of its own, closed (so rolled back) unless committed.
struct PgImport {
    conn: Option<Object>,
    /// The target's column types per kind, looked up once.
    types: HashMap<Kind, HashMap<String, String>>,
}

impl PgImport {
    fn conn(&self) -> StoreResult<&Object> {
        self.conn.as_ref().ok_or(StoreError::Closed)
    }

    async fn types_of(&mut self, kind: Kind) -> StoreResult<HashMap<String, String>> {
        if let Some(t) = self.types.get(&kind) {
            return Ok(t.clone());
        }
        let found = column_types(self.conn()?, kind).await?;
        self.types.insert(kind, found.clone());
        Ok(found)
    }
}

/// The statement inserting a batch: one array parameter per column, unnested in order so
/// `seq` follows the source's order.
fn insert_sql(kind: Kind, types: &HashMap<String, String>) -> StoreResult<String> {
    let columns = kind.columns();
    let mut arrays = Vec::with_capacity(columns.len());
    let mut casts = Vec::with_capacity(columns.len());
    for (i, col) in columns.iter().enumerate() {
        let ty = types
            .get(col.name)
            .ok_or_else(|| StoreError::Backend(format!("the target has no column {}.{}", kind.table(), col.name)))?;
        let array = if col.ty == ColumnType::Int { "int8[]" } else { "text[]" };
        arrays.push(format!("${}::{array}", i + 1));
        casts.push(format!("u.c{i}::{ty}"));
    }
    let names = columns.iter().map(|c| c.name).collect::<Vec<_>>().join(", ");
    let aliases = (0..columns.len()).map(|i| format!("c{i}")).collect::<Vec<_>>().join(", ");
    Ok(format!(
        "INSERT INTO {} ({names}) SELECT {} FROM unnest({}) WITH ORDINALITY AS u({aliases}, ord) ORDER BY ord",
        kind.table(),
        casts.join(", "),
        arrays.join(", ")
    ))
}

/// One array per column; text PostgreSQL cannot hold is fixed on the way.
struct Columns {
    params: Vec<Box<dyn ToSql + Sync + Send>>,
    replaced_nul: u64,
}

fn columns_of(kind: Kind, types: &HashMap<String, String>, records: Vec<Record>) -> StoreResult<Columns> {
    let columns = kind.columns();
    let mut texts: Vec<Vec<Option<String>>> = vec![Vec::with_capacity(records.len()); columns.len()];
    let mut ints: Vec<Vec<Option<i64>>> = vec![Vec::new(); columns.len()];
    let mut replaced_nul = 0;
    for record in records {
        if record.len() != columns.len() {
            return Err(StoreError::Backend(format!("a {} record has {} cells", kind.label(), record.len())));
        }
        let mut fixed = false;
        for (i, cell) in record.into_iter().enumerate() {
            match (cell, columns[i].ty) {
                (Cell::Int(n), ColumnType::Int) => ints[i].push(Some(n)),
                (Cell::Null, ColumnType::Int) => ints[i].push(None),
                (Cell::Null, _) => texts[i].push(None),
                (Cell::Text(s), ColumnType::Int) => ints[i].push(s.trim().parse().ok()),
                (Cell::Int(n), _) => texts[i].push(Some(n.to_string())),
                (Cell::Text(s), _) => {
                    let jsonb = types.get(columns[i].name).is_some_and(|t| t == "jsonb");
                    let clean = if jsonb { json_without_nul(&s) } else { text_without_nul(&s) };
                    fixed |= clean.is_some();
                    texts[i].push(Some(clean.unwrap_or(s)));
                }
            }
        }
        replaced_nul += u64::from(fixed);
    }
    let params = columns
        .iter()
        .zip(texts.into_iter().zip(ints))
        .map(|(col, (t, n))| -> Box<dyn ToSql + Sync + Send> {
            if col.ty == ColumnType::Int { Box::new(n) } else { Box::new(t) }
        })
        .collect();
    Ok(Columns { params, replaced_nul })
}

#[async_trait]
impl Import for PgImport {
    async fn insert(&mut self, kind: Kind, records: Vec<Record>) -> StoreResult<Inserted> {
        if records.is_empty() {
            return Ok(Inserted::default());
        }
        let types = self.types_of(kind).await?;
        let sql = insert_sql(kind, &types)?;
        let count = records.len() as u64;
        let columns = columns_of(kind, &types, records)?;
        let params: Vec<&(dyn ToSql + Sync)> = columns.params.iter().map(|p| &**p as &(dyn ToSql + Sync)).collect();
        let c = self.conn()?;
        let stmt = c.prepare_cached(&sql).await.map_err(pg)?;
        let written = c.execute(&stmt, &params).await.map_err(pg)?;
        Ok(Inserted { records: written.min(count), replaced_nul: columns.replaced_nul })
    }

    async fn count(&mut self, kind: Kind) -> StoreResult<u64> {
        count_in(self.conn()?, kind).await
    }

    async fn commit(mut self: Box<Self>) -> StoreResult<()> {
        let conn = self.conn.take().ok_or(StoreError::Closed)?;
        conn.batch_execute("COMMIT").await.map_err(pg)
    }
}

impl Drop for PgImport {
    fn drop(&mut self) {
        // Closing the connection rolls the transaction back; it never returns to the pool.
        if let Some(conn) = self.conn.take() {
            drop(Object::take(conn));
        }
    }
}

#[async_trait]
impl Transfer for PgStore {
    async fn count(&self, kind: Kind) -> StoreResult<u64> {
        count_in(&self.conn().await?, kind).await
    }

    async fn export(&self, kind: Kind, batch: usize, out: mpsc::Sender<Vec<Record>>) -> StoreResult<u64> {
        self.export_kind(kind, batch, out).await
    }

    async fn begin_import(&self) -> StoreResult<Box<dyn Import>> {
        let conn = self.conn().await?;
        conn.batch_execute("BEGIN").await.map_err(pg)?;
        Ok(Box::new(PgImport { conn: Some(conn), types: HashMap::new() }))
    }
}
