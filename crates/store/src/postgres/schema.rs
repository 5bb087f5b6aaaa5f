//! PostgreSQL schema, applied in order at start under an advisory lock, so nodes starting
//! together never race; `liftoff_schema` records how far we got.
//!
//! Each record keeps its whole Rocket.Chat-shaped document in `doc` (JSONB); the other columns
//! copy the fields that are looked up, joined, sorted or kept unique. Text columns use the
//! "C" collation so order and comparison are byte order, as in MongoDB and the SQLite store.
//! `seq` keeps insertion order, which listings use to break ties.

use super::docs::pg;
use crate::StoreResult;
use deadpool_postgres::Object;

/// Any constant shared by every node: the key of the migration lock.
const MIGRATION_LOCK: i64 = 0x6c69_6674_6f66;

const MIGRATIONS: &[&str] = &[
    // 1: the workspace, integrations, history and the outbox
    r#"
    CREATE TABLE settings (id TEXT COLLATE "C" PRIMARY KEY, value JSONB NOT NULL);
    CREATE TABLE roles (id TEXT COLLATE "C" PRIMARY KEY, doc JSONB NOT NULL);
    CREATE TABLE permissions (id TEXT COLLATE "C" PRIMARY KEY, doc JSONB NOT NULL);
    CREATE TABLE users (
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        id TEXT COLLATE "C" PRIMARY KEY,
        username_lower TEXT COLLATE "C" UNIQUE,
        email_lower TEXT COLLATE "C" UNIQUE,
        doc JSONB NOT NULL
    );
    CREATE INDEX users_seq ON users (seq);
    CREATE TABLE login_tokens (
        hashed_token TEXT COLLATE "C" PRIMARY KEY,
        user_id TEXT COLLATE "C" NOT NULL,
        created_at TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX login_tokens_user ON login_tokens (user_id);
    CREATE TABLE rooms (
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        id TEXT COLLATE "C" PRIMARY KEY,
        name TEXT COLLATE "C" UNIQUE,
        t TEXT COLLATE "C" NOT NULL,
        team_id TEXT COLLATE "C",
        msgs BIGINT NOT NULL DEFAULT 0,
        lm TEXT COLLATE "C",
        last_message JSONB,
        doc JSONB NOT NULL
    );
    CREATE INDEX rooms_type ON rooms (t, seq);
    CREATE INDEX rooms_team ON rooms (team_id);
    CREATE TABLE subscriptions (
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        rid TEXT COLLATE "C" NOT NULL,
        uid TEXT COLLATE "C" NOT NULL,
        doc JSONB NOT NULL,
        PRIMARY KEY (rid, uid)
    );
    CREATE INDEX subscriptions_user ON subscriptions (uid);
    CREATE TABLE messages (
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        id TEXT COLLATE "C" PRIMARY KEY,
        rid TEXT COLLATE "C" NOT NULL,
        ts TEXT COLLATE "C" NOT NULL,
        doc JSONB NOT NULL
    );
    CREATE INDEX messages_room_ts ON messages (rid, ts, seq);
    CREATE TABLE teams (
        id TEXT COLLATE "C" PRIMARY KEY,
        name TEXT COLLATE "C" NOT NULL UNIQUE,
        room_id TEXT COLLATE "C" NOT NULL,
        doc JSONB NOT NULL
    );
    CREATE TABLE team_members (
        team_id TEXT COLLATE "C" NOT NULL,
        user_id TEXT COLLATE "C" NOT NULL,
        doc JSONB NOT NULL,
        PRIMARY KEY (team_id, user_id)
    );
    CREATE INDEX team_members_user ON team_members (user_id);
    CREATE TABLE integrations (
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        id TEXT COLLATE "C" PRIMARY KEY,
        type TEXT COLLATE "C" NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        created_by TEXT COLLATE "C",
        created_at TEXT COLLATE "C" NOT NULL,
        updated_at TEXT COLLATE "C" NOT NULL,
        doc JSONB NOT NULL
    );
    CREATE INDEX integrations_seq ON integrations (seq);
    CREATE INDEX integrations_type ON integrations (type);
    CREATE INDEX integrations_owner ON integrations (created_by, type);
    CREATE INDEX integrations_created ON integrations (created_at);
    CREATE INDEX integrations_name ON integrations (name);
    CREATE TABLE integration_channels (
        integration_id TEXT COLLATE "C" NOT NULL,
        channel TEXT COLLATE "C" NOT NULL,
        pos INTEGER NOT NULL,
        PRIMARY KEY (channel, integration_id)
    );
    CREATE INDEX integration_channels_owner ON integration_channels (integration_id, pos);
    CREATE TABLE integration_history (
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        id TEXT COLLATE "C" PRIMARY KEY,
        integration_id TEXT COLLATE "C" NOT NULL,
        created_by TEXT COLLATE "C",
        created_at TEXT COLLATE "C" NOT NULL,
        updated_at TEXT COLLATE "C" NOT NULL,
        doc JSONB NOT NULL
    );
    CREATE INDEX integration_history_by_integration ON integration_history (integration_id, updated_at);
    CREATE INDEX integration_history_created ON integration_history (created_at);
    CREATE TABLE outbox (
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        id TEXT COLLATE "C" PRIMARY KEY,
        integration_id TEXT COLLATE "C" NOT NULL,
        url TEXT COLLATE "C" NOT NULL,
        due_at BIGINT NOT NULL,
        attempt INTEGER NOT NULL DEFAULT 0,
        claimed_by TEXT COLLATE "C",
        claimed_until BIGINT,
        doc JSONB NOT NULL
    );
    CREATE INDEX outbox_lane ON outbox (url, due_at);
    CREATE INDEX outbox_claims ON outbox (claimed_by);
    "#,
    // 2: outbox documents as plain JSON, which keeps the key order of the payload a receiver
    // gets (JSONB reorders keys); nothing queries inside them.
    r#"
    ALTER TABLE outbox ALTER COLUMN doc TYPE JSON USING doc::json;
    "#,
    // 3: the trash of deleted messages (kept for a while, see `crate::trash`) and the
    // moderation reports users make on messages
    r#"
    CREATE TABLE message_trash (
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        id TEXT COLLATE "C" PRIMARY KEY,
        rid TEXT COLLATE "C" NOT NULL,
        deleted_at TEXT COLLATE "C" NOT NULL,
        doc JSONB NOT NULL
    );
    CREATE INDEX message_trash_room ON message_trash (rid, deleted_at, seq);
    CREATE INDEX message_trash_deleted ON message_trash (deleted_at);
    CREATE TABLE moderation_reports (
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        id TEXT COLLATE "C" PRIMARY KEY,
        message_id TEXT COLLATE "C" NOT NULL,
        reported_by TEXT COLLATE "C" NOT NULL,
        ts TEXT COLLATE "C" NOT NULL,
        doc JSONB NOT NULL
    );
    CREATE INDEX moderation_reports_message ON moderation_reports (message_id, ts);
    "#,
    // 4: what new messages add to a room's counters, spread over a few rows per room, so
    // nodes committing messages to one room at once rarely wait for each other's commit. A
    // room's `msgs` is its row's plus the sum of these, its `lm` and `last_message` the latest
    // of all (see `room_counters::ROOM_SELECT`). A counter row is new only the first time its slot is
    // used, so its key check on the room is rare; deleting a room deletes its counter rows.
    r#"
    CREATE TABLE room_counters (
        rid TEXT COLLATE "C" NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
        slot INTEGER NOT NULL,
        msgs BIGINT NOT NULL DEFAULT 0,
        lm TEXT COLLATE "C",
        last_message JSONB,
        PRIMARY KEY (rid, slot)
    );
    "#,
    // 5: the outbox is a queue: each row is inserted, claimed (`claimed_by`, `claimed_until`)
    // and deleted within moments. With no index on the claim columns a claim can be a HOT
    // update (no new index entries, room left on each page for it), finishing an attempt
    // finds its rows by key (an index on `claimed_by` led the planner to visit every entry
    // this node ever claimed that vacuum had not yet removed), and a node's release of its
    // claims on stop reads the table once. Vacuumed after a thousand dead rows rather than a
    // fifth of the table.
    r#"
    DROP INDEX outbox_claims;
    ALTER TABLE outbox SET (fillfactor = 70, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000);
    "#,
];

/// The key of the lock held while first-start data is created.
const FIRST_START_LOCK: i64 = MIGRATION_LOCK + 1;

/// A session advisory lock on a pooled connection, released (in the background) when dropped.
pub struct FirstStartGuard(Option<Object>);

pub async fn lock_first_start(conn: Object) -> StoreResult<FirstStartGuard> {
    conn.execute("SELECT pg_advisory_lock($1)", &[&FIRST_START_LOCK]).await.map_err(pg)?;
    Ok(FirstStartGuard(Some(conn)))
}

impl Drop for FirstStartGuard {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            tokio::spawn(async move {
                if let Err(e) = conn.execute("SELECT pg_advisory_unlock($1)", &[&FIRST_START_LOCK]).await {
                    tracing::warn!(error = %e, "releasing the first-start lock failed");
                }
            });
        }
    }
}

pub async fn migrate(conn: &mut Object) -> StoreResult<()> {
    conn.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).await.map_err(pg)?;
    let result = apply(conn).await;
    // Unlocked whatever happened: the lock is per session and the connection goes back to the pool.
    let unlock = conn.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).await.map(drop).map_err(pg);
    result.and(unlock)
}

async fn apply(conn: &mut Object) -> StoreResult<()> {
    conn.batch_execute("CREATE TABLE IF NOT EXISTS liftoff_schema (version INTEGER NOT NULL)").await.map_err(pg)?;
    let applied: i64 =
        conn.query_one("SELECT coalesce(max(version), 0)::bigint FROM liftoff_schema", &[]).await.map_err(pg)?.get(0);
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied as usize) {
        let tx = conn.transaction().await.map_err(pg)?;
        tx.batch_execute(sql).await.map_err(pg)?;
        tx.execute("INSERT INTO liftoff_schema (version) VALUES ($1)", &[&((i + 1) as i32)]).await.map_err(pg)?;
        tx.commit().await.map_err(pg)?;
        tracing::info!(version = i + 1, "applied PostgreSQL schema migration");
    }
    Ok(())
}
