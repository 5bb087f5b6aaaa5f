//! What messages add to a room's counters (`msgs`, `lm`, `lastMessage`), kept in a few
//! `room_counters` rows per room beside the room row, and the reads that add them up. Shared by
//! the room reads and writes (`rooms`), the message group commit (`message_batch`) and the
//! export.

use super::docs::{json, pg};
use crate::{Doc, StoreResult};
use deadpool_postgres::GenericClient;
use std::borrow::Cow;
use tokio_postgres::types::Json;

/// A room's totals: its row's counters with what its counter rows add (`msgs` summed, `lm` and
/// `last_message` of the latest), as columns `msgs`, `lm` and `last_message`, then `FROM` the
/// room row joined with them. A locking read locks `OF rooms`.
macro_rules! room_totals {
    () => {
        "rooms.msgs + coalesce(c.added, 0) AS msgs,
        CASE WHEN c.latest > rooms.lm OR rooms.lm IS NULL THEN c.latest ELSE rooms.lm END AS lm,
        CASE WHEN c.latest > rooms.lm OR rooms.lm IS NULL THEN c.latest_message ELSE rooms.last_message END
            AS last_message
        FROM rooms LEFT JOIN LATERAL (
            SELECT sum(msgs)::bigint AS added, max(lm) AS latest,
                (array_agg(last_message ORDER BY lm DESC NULLS LAST))[1] AS latest_message
            FROM room_counters WHERE rid = rooms.id
        ) c ON true"
    };
}

/// Selects what `rooms::room_from_row` reads; filters name the columns of `rooms`.
pub(super) const ROOM_SELECT: &str = concat!("SELECT rooms.doc, ", room_totals!());

/// Every column of `rooms`, its counters the room's totals: what an export reads instead of
/// the table.
pub(super) const ROOMS_WITH_TOTALS: &str = concat!(
    "(SELECT rooms.seq, rooms.id, rooms.name, rooms.t, rooms.team_id, rooms.doc, ",
    room_totals!(),
    ") AS rooms"
);

/// How many counter rows a room's new messages are spread over.
const COUNTER_SLOTS: i32 = 16;

/// The statement that adds to counter rows, reading five parallel arrays — room ids, slots,
/// messages added, latest `ts`, latest message — from the given placeholders. A row keeps the
/// latest message it was given: transactions may commit out of time order. Holds each row's
/// lock until the transaction ends; rooms in id order, so concurrent writers cannot deadlock.
macro_rules! add_to_counters_sql {
    ($rids:literal, $slots:literal, $added:literal, $ts:literal, $last:literal) => {
        concat!(
            "INSERT INTO room_counters (rid, slot, msgs, lm, last_message)
             SELECT * FROM unnest(",
            $rids,
            "::text[], ",
            $slots,
            "::int4[], ",
            $added,
            "::int8[], ",
            $ts,
            "::text[], ",
            $last,
            "::jsonb[])
             ON CONFLICT (rid, slot) DO UPDATE
             SET msgs = room_counters.msgs + excluded.msgs,
                 lm = CASE WHEN room_counters.lm > excluded.lm THEN room_counters.lm ELSE excluded.lm END,
                 last_message = CASE WHEN room_counters.lm > excluded.lm THEN room_counters.last_message
                     ELSE excluded.last_message END"
        )
    };
}
pub(super) use add_to_counters_sql;

/// What a write adds to the counters of the rooms it posts in, one counter row per room picked
/// at random, as the arrays `add_to_counters_sql!` reads.
#[derive(Default)]
pub(super) struct CounterRows<'a> {
    pub rids: Vec<&'a str>,
    pub slots: Vec<i32>,
    pub added: Vec<i64>,
    pub ts: Vec<&'a str>,
    pub last: Vec<Json<Cow<'a, Doc>>>,
}

impl<'a> CounterRows<'a> {
    /// Adds `added` messages to room `rid`, `last` (posted at `ts`) the latest of them. Rooms
    /// must come in id order, each once.
    pub fn push(&mut self, rid: &'a str, added: i64, ts: &'a str, last: &'a Doc) {
        self.rids.push(rid);
        self.slots.push(rand::random_range(0..COUNTER_SLOTS));
        self.added.push(added);
        self.ts.push(ts);
        self.last.push(json(last));
    }
}

/// Adds `added` messages to the counters of room `rid`, `last` (posted at `ts`) the latest of
/// them.
pub(super) async fn add_to_room_counters(
    c: &impl GenericClient,
    rid: &str,
    added: i64,
    ts: &str,
    last: &Doc,
) -> StoreResult<()> {
    let mut rows = CounterRows::default();
    rows.push(rid, added, ts, last);
    let stmt = c.prepare_cached(add_to_counters_sql!("$1", "$2", "$3", "$4", "$5")).await.map_err(pg)?;
    c.execute(&stmt, &[&rows.rids, &rows.slots, &rows.added, &rows.ts, &rows.last]).await.map_err(pg)?;
    Ok(())
}
