//! The document tables whose listings push filters into SQL, described once for both backends:
//! their columns and SQL fragments read the same in SQLite and PostgreSQL. Each backend orders
//! ties by its own insertion-order column (`rowid`, `seq`).

use query::sql::SqlSchema;
use std::sync::LazyLock;

/// A document table and what of it is indexed.
pub struct Table {
    pub name: &'static str,
    pub schema: SqlSchema,
    /// Document paths whose order a column gives.
    pub sort_columns: &'static [(&'static str, &'static str)],
}

impl Table {
    /// `ORDER BY` for the sort keys, if every key has a column; ties keep insertion order
    /// (`insertion_column` of this table).
    pub fn order_by(&self, keys: &[(String, bool)], insertion_column: &str) -> Option<String> {
        let mut parts = Vec::with_capacity(keys.len() + 1);
        for (path, asc) in keys {
            let column = self.sort_columns.iter().find(|(p, _)| p == path)?.1;
            parts.push(format!("{column} {}", if *asc { "ASC" } else { "DESC" }));
        }
        parts.push(format!("{}.{insertion_column} ASC", self.name));
        Some(parts.join(", "))
    }
}

/// Drives channel lookups from the `integration_channels` index rather than probing per row.
const CHANNEL_MEMBERSHIP: &str =
    "integrations.id IN (SELECT c.integration_id FROM integration_channels c WHERE c.channel {cond})";

pub static INTEGRATIONS: LazyLock<Table> = LazyLock::new(|| Table {
    name: "integrations",
    schema: SqlSchema::new()
        .text("_id", "integrations.id")
        .text("type", "integrations.type")
        .text("name", "integrations.name")
        .nullable_text("_createdBy._id", "integrations.created_by")
        .iso_date("_createdAt", "integrations.created_at")
        .iso_date("_updatedAt", "integrations.updated_at")
        .string_array("channel", CHANNEL_MEMBERSHIP),
    sort_columns: &[
        ("_id", "integrations.id"),
        ("type", "integrations.type"),
        ("name", "integrations.name"),
        ("_createdBy._id", "integrations.created_by"),
        ("_createdAt", "integrations.created_at"),
        ("_updatedAt", "integrations.updated_at"),
    ],
});

pub static HISTORY: LazyLock<Table> = LazyLock::new(|| Table {
    name: "integration_history",
    schema: SqlSchema::new()
        .text("_id", "integration_history.id")
        .text("integration._id", "integration_history.integration_id")
        .nullable_text("integration._createdBy._id", "integration_history.created_by")
        .iso_date("_createdAt", "integration_history.created_at")
        .iso_date("_updatedAt", "integration_history.updated_at"),
    sort_columns: &[
        ("_id", "integration_history.id"),
        ("_createdAt", "integration_history.created_at"),
        ("_updatedAt", "integration_history.updated_at"),
    ],
});

pub static MESSAGES: LazyLock<Table> = LazyLock::new(|| Table {
    name: "messages",
    schema: SqlSchema::new().text("_id", "messages.id").text("rid", "messages.rid").iso_date("ts", "messages.ts"),
    sort_columns: &[("_id", "messages.id"), ("ts", "messages.ts")],
});

/// The trash of deleted messages (see [`crate::trash`]).
pub static TRASH: LazyLock<Table> = LazyLock::new(|| Table {
    name: "message_trash",
    schema: SqlSchema::new()
        .text("_id", "message_trash.id")
        .text("rid", "message_trash.rid")
        .iso_date("_deletedAt", "message_trash.deleted_at"),
    sort_columns: &[("_id", "message_trash.id"), ("_deletedAt", "message_trash.deleted_at")],
});
