//! Writing outbox rows: a leaf the commit paths share (a change with its deliveries, a batch of
//! new messages with theirs), apart from the claiming and finishing in `outbox`.

use super::docs::{json, pg};
use crate::{Delivery, Doc, StoreResult};
use deadpool_postgres::GenericClient;
use std::borrow::Cow;
use tokio_postgres::types::Json;

/// The statement that inserts outbox rows from six parallel arrays — ids, integration ids,
/// URLs, due times, attempts, documents — read from the given placeholders.
macro_rules! insert_deliveries_sql {
    ($ids:literal, $integrations:literal, $urls:literal, $due:literal, $attempts:literal, $docs:literal) => {
        concat!(
            "INSERT INTO outbox (id, integration_id, url, due_at, attempt, doc)
             SELECT * FROM unnest(",
            $ids,
            "::text[], ",
            $integrations,
            "::text[], ",
            $urls,
            "::text[], ",
            $due,
            "::int8[], ",
            $attempts,
            "::int4[], ",
            $docs,
            "::json[])"
        )
    };
}
pub(super) use insert_deliveries_sql;

/// Deliveries as the arrays `insert_deliveries_sql!` reads.
#[derive(Default)]
pub(super) struct DeliveryRows<'a> {
    pub ids: Vec<&'a str>,
    pub integrations: Vec<&'a str>,
    pub urls: Vec<&'a str>,
    pub due: Vec<i64>,
    pub attempts: Vec<i32>,
    pub docs: Vec<Json<Cow<'a, Doc>>>,
}

impl<'a> DeliveryRows<'a> {
    pub fn push(&mut self, d: &'a Delivery) {
        self.ids.push(&d.id);
        self.integrations.push(&d.integration_id);
        self.urls.push(&d.url);
        self.due.push(d.due_at);
        self.attempts.push(d.attempt as i32);
        self.docs.push(json(&d.doc));
    }
}

/// Inserts `deliveries` in one statement.
pub(super) async fn insert_deliveries(c: &impl GenericClient, deliveries: &[Delivery]) -> StoreResult<()> {
    if deliveries.is_empty() {
        return Ok(());
    }
    let mut rows = DeliveryRows::default();
    deliveries.iter().for_each(|d| rows.push(d));
    let stmt = c.prepare_cached(insert_deliveries_sql!("$1", "$2", "$3", "$4", "$5", "$6")).await.map_err(pg)?;
    c.execute(&stmt, &[&rows.ids, &rows.integrations, &rows.urls, &rows.due, &rows.attempts, &rows.docs])
        .await
        .map_err(pg)?;
    Ok(())
}
