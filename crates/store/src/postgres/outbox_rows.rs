//! Writing outbox rows: a leaf the commit paths share (a change with its deliveries, a batch of
//! new messages with theirs), apart from the claiming and finishing in `outbox`.

use super::docs::{json, pg};
use crate::{Delivery, StoreResult};
use deadpool_postgres::GenericClient;

pub(super) async fn insert_deliveries(c: &impl GenericClient, deliveries: &[Delivery]) -> StoreResult<()> {
    if deliveries.is_empty() {
        return Ok(());
    }
    let stmt = c
        .prepare_cached(
            "INSERT INTO outbox (id, integration_id, url, due_at, attempt, doc) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .await
        .map_err(pg)?;
    for d in deliveries {
        c.execute(&stmt, &[&d.id, &d.integration_id, &d.url, &d.due_at, &(d.attempt as i32), &json(&d.doc)])
            .await
            .map_err(pg)?;
    }
    Ok(())
}
