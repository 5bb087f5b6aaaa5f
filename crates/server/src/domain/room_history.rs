//! `cleanRoomHistory`: deletes a room's messages between two dates, with Rocket.Chat's options
//! to keep pinned messages, threads and discussions, or to target some users' messages only.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use query::Filter;
use serde_json::{Value, json};
use store::DocQuery;

/// Which messages to delete.
pub struct CleanHistory {
    pub rid: String,
    /// ISO dates bounding `ts`.
    pub latest: String,
    pub oldest: String,
    pub inclusive: bool,
    pub exclude_pinned: bool,
    pub files_only: bool,
    pub ignore_threads: bool,
    pub ignore_discussion: bool,
    /// Usernames whose messages to delete (all users when empty).
    pub from_users: Vec<String>,
    /// At most this many (0: no limit).
    pub limit: usize,
}

fn filter(v: Value) -> ApiResult<Filter> {
    Filter::parse_with_dates(&v, &["ts"]).map_err(|e| ApiError::invalid_params(&e.to_string()))
}

/// Deletes the messages as `user` (who needs `clean-channel-history` in the room); returns how
/// many were deleted.
pub async fn clean_room_history(state: &AppState, user: &store::Doc, clean: CleanHistory) -> ApiResult<usize> {
    if !state.has_permission_in_room(user, "clean-channel-history", &clean.rid).await? {
        return Err(ApiError::meteor_details(
            "error-not-allowed",
            "Not allowed",
            json!({"method": "cleanRoomHistory"}),
        ));
    }
    let (gt, lt) = if clean.inclusive { ("$gte", "$lte") } else { ("$gt", "$lt") };
    let mut filters = vec![filter(json!({
        "rid": clean.rid,
        "ts": {gt: {"$date": clean.oldest}, lt: {"$date": clean.latest}},
    }))?];
    if clean.exclude_pinned {
        filters.push(filter(json!({"pinned": {"$ne": true}}))?);
    }
    if clean.files_only {
        filters.push(filter(json!({"file._id": {"$exists": true}}))?);
    }
    if clean.ignore_threads {
        filters.push(filter(json!({"tmid": {"$exists": false}, "tcount": {"$exists": false}}))?);
    }
    if clean.ignore_discussion {
        filters.push(filter(json!({"drid": {"$exists": false}}))?);
    }
    if !clean.from_users.is_empty() {
        filters.push(filter(json!({"u.username": {"$in": clean.from_users}}))?);
    }
    let mut query = DocQuery::all(Filter::and(filters));
    query.limit = (clean.limit > 0).then_some(clean.limit);
    let (messages, _) = state.store().find_messages(query).await?;
    let ids: Vec<String> = messages.iter().map(|m| crate::domain::str_of(m, "_id").to_owned()).collect();
    let mut deleted = 0;
    // A write per chunk, so that a large clean-up does not hold up other writers for long. Those
    // deleted meanwhile by someone else are not counted.
    for chunk in ids.chunks(DELETE_CHUNK) {
        deleted += state.store().delete_messages(chunk).await?;
    }
    Ok(deleted)
}

/// How many messages one write deletes.
const DELETE_CHUNK: usize = 500;
