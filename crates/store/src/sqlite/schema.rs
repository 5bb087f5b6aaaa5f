//! SQLite schema, applied in order at start; `PRAGMA user_version` records how far we got.
//!
//! Every record keeps its whole Rocket.Chat-shaped document in `doc` (JSON text); the other
//! columns copy the fields that are looked up, joined or kept unique, so those use indexes.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: the workspace
    r#"
    CREATE TABLE settings (id TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE roles (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
    CREATE TABLE permissions (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        username_lower TEXT UNIQUE,
        email_lower TEXT UNIQUE,
        doc TEXT NOT NULL
    );
    CREATE TABLE login_tokens (
        hashed_token TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX login_tokens_user ON login_tokens (user_id);
    CREATE TABLE rooms (
        id TEXT PRIMARY KEY,
        name TEXT UNIQUE,
        t TEXT NOT NULL,
        team_id TEXT,
        doc TEXT NOT NULL
    );
    CREATE INDEX rooms_type ON rooms (t);
    CREATE INDEX rooms_team ON rooms (team_id);
    CREATE TABLE subscriptions (
        rid TEXT NOT NULL,
        uid TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (rid, uid)
    );
    CREATE INDEX subscriptions_user ON subscriptions (uid);
    CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        rid TEXT NOT NULL,
        ts TEXT NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX messages_room_ts ON messages (rid, ts);
    CREATE TABLE teams (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        room_id TEXT NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE TABLE team_members (
        team_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (team_id, user_id)
    );
    "#,
    // 2: integrations and their history
    r#"
    CREATE TABLE integrations (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        name TEXT NOT NULL,
        created_by TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX integrations_type ON integrations (type);
    CREATE INDEX integrations_owner ON integrations (created_by, type);
    CREATE INDEX integrations_created ON integrations (created_at);
    CREATE TABLE integration_channels (
        integration_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        pos INTEGER NOT NULL,
        PRIMARY KEY (channel, integration_id)
    );
    CREATE INDEX integration_channels_owner ON integration_channels (integration_id, pos);
    CREATE TABLE integration_history (
        id TEXT PRIMARY KEY,
        integration_id TEXT NOT NULL,
        created_by TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX integration_history_by_integration ON integration_history (integration_id, updated_at);
    "#,
    // 3: the outbox of outgoing-webhook deliveries; history retention by age
    r#"
    CREATE TABLE outbox (
        id TEXT PRIMARY KEY,
        integration_id TEXT NOT NULL,
        url TEXT NOT NULL,
        due_at INTEGER NOT NULL,
        attempt INTEGER NOT NULL DEFAULT 0,
        claimed INTEGER NOT NULL DEFAULT 0,
        doc TEXT NOT NULL
    );
    CREATE INDEX outbox_lane ON outbox (url, claimed, due_at);
    CREATE INDEX integration_history_created ON integration_history (created_at);
    "#,
    // 4: a room's message counter and last message live in columns, so posting a message
    // updates three small values instead of rewriting the room's JSON.
    r#"
    ALTER TABLE rooms ADD COLUMN msgs INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE rooms ADD COLUMN lm TEXT;
    ALTER TABLE rooms ADD COLUMN last_message TEXT;
    UPDATE rooms SET msgs = coalesce(json_extract(doc, '$.msgs'), 0),
                     lm = json_extract(doc, '$.lm'),
                     last_message = json_extract(doc, '$.lastMessage');
    "#,
    // 5: the trash of deleted messages (kept for a while, see `crate::trash`) and the
    // moderation reports users make on messages
    r#"
    CREATE TABLE message_trash (
        id TEXT PRIMARY KEY,
        rid TEXT NOT NULL,
        deleted_at TEXT NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX message_trash_room ON message_trash (rid, deleted_at);
    CREATE INDEX message_trash_deleted ON message_trash (deleted_at);
    CREATE TABLE moderation_reports (
        id TEXT PRIMARY KEY,
        message_id TEXT NOT NULL,
        reported_by TEXT NOT NULL,
        ts TEXT NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX moderation_reports_message ON moderation_reports (message_id, ts);
    "#,
];

pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let applied: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "applied schema migration");
    }
    Ok(())
}
