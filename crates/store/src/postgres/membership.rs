//! The two denormalised values a membership change keeps current: the room's `usersCount` and
//! the user's `__rooms`. A leaf module, so rooms and users both use it without using each other.

use super::docs::exec;
use crate::StoreResult;
use crate::ids::now_iso;
use deadpool_postgres::GenericClient;

/// Moves the room's `usersCount` by `delta` (never below 0) and touches its `_updatedAt`.
pub(super) async fn bump_users_count(c: &impl GenericClient, rid: &str, delta: i64) -> StoreResult<()> {
    exec(
        c,
        "UPDATE rooms SET doc = doc || jsonb_build_object('usersCount', greatest(0, coalesce((doc->>'usersCount')::bigint, 0) + $2), '_updatedAt', $3::text) WHERE id = $1",
        &[&rid, &delta, &now_iso()],
    )
    .await
    .map(drop)
}

/// Adds or removes `rid` in the user's `__rooms` list, in one statement so concurrent
/// membership changes of the same user cannot overwrite each other.
pub(super) async fn touch_user_rooms(c: &impl GenericClient, uid: &str, rid: &str, member: bool) -> StoreResult<()> {
    let sql = if member {
        "UPDATE users SET doc = jsonb_set(doc, '{__rooms}', coalesce(doc->'__rooms', '[]'::jsonb) || jsonb_build_array($2::text))
         WHERE id = $1 AND NOT coalesce(doc->'__rooms', '[]'::jsonb) @> jsonb_build_array($2::text)"
    } else {
        "UPDATE users SET doc = jsonb_set(doc, '{__rooms}', (doc->'__rooms') - $2::text)
         WHERE id = $1 AND jsonb_typeof(doc->'__rooms') = 'array' AND doc->'__rooms' @> jsonb_build_array($2::text)"
    };
    exec(c, sql, &[&uid, &rid]).await.map(drop)
}
