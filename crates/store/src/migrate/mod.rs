//! Copying a whole workspace from one database into another, empty one, whatever the two
//! backends are.
//!
//! Both backends keep the same tables with the same columns (a JSON document plus the typed
//! columns copied out of it), so a record travels as its raw row: the cells of the columns
//! [`Kind::columns`] names, JSON kept as text so nothing is re-serialised (and key order is
//! kept). Backend-only columns are left out: PostgreSQL's `seq` follows from the order records
//! are inserted in, and outbox claims start out released.

mod copy;
mod records;

pub use copy::{Copied, CopyError, Event, copy};
pub use records::{Cell, Column, ColumnType, Import, Inserted, Kind, Record, Transfer};
