//! `directory` (`browseChannels`: channels, users or teams by name) and `spotlight` (users and
//! rooms matching a text, as the search box shows them).

use super::docs::Routes;
use super::pagination::Page;
use crate::domain::{str_of, strings};
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Caller, Query, arg_str};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use query::Sort;
use serde_json::{Map, Value, json};
use store::Doc;

pub fn routes() -> Routes {
    Routes::new().get("/directory", directory).get("/spotlight", spotlight)
}

const ROOM_FIELDS: &[&str] = &[
    "_id",
    "name",
    "fname",
    "t",
    "description",
    "topic",
    "announcement",
    "ts",
    "usersCount",
    "archived",
    "avatarETag",
    "teamMain",
    "teamId",
    "default",
    "featured",
    "prid",
    "lastMessage",
];
const USER_FIELDS: &[&str] = &["_id", "username", "name", "nickname", "bio", "createdAt", "avatarETag", "federation"];

fn pick(doc: &Doc, fields: &[&str]) -> Value {
    let mut out = Map::new();
    for f in fields {
        if let Some(v) = doc.get(*f) {
            out.insert((*f).into(), v.clone());
        }
    }
    Value::Object(out)
}

fn matches(doc: &Doc, keys: &[&str], text: &str) -> bool {
    text.is_empty() || keys.iter().any(|k| str_of(doc, k).to_lowercase().contains(text))
}

/// Public rooms, and private ones the user is in.
async fn visible_rooms(state: &AppState, user: &Doc) -> ApiResult<Vec<Doc>> {
    let mine = strings(user.get("__rooms"));
    let mut rooms = state.store().rooms_by_type("c").await?;
    rooms.extend(
        state.store().rooms_by_type("p").await?.into_iter().filter(|r| mine.iter().any(|m| m == str_of(r, "_id"))),
    );
    Ok(rooms)
}

async fn directory(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let page = Page::from_args(&state.settings, &q)?;
    let query: Map<String, Value> = match arg_str(&q, "query") {
        Some(raw) => match serde_json::from_str(&raw) {
            Ok(Value::Object(m)) => m,
            _ => return Err(ApiError::failure("Invalid query parameter provided", "error-invalid-query")),
        },
        None => Map::new(),
    };
    let sort: Map<String, Value> = match arg_str(&q, "sort") {
        Some(raw) => match serde_json::from_str(&raw) {
            Ok(Value::Object(m)) => m,
            _ => return Err(ApiError::failure("Invalid sort parameter provided", "error-invalid-sort")),
        },
        None => Map::new(),
    };
    if sort.len() > 1 {
        return Err(ApiError::plain("This method support only one \"sort\" parameter"));
    }
    let text = query.get("text").and_then(Value::as_str).unwrap_or_default().trim().to_lowercase();
    let kind = query.get("type").and_then(Value::as_str).unwrap_or("channels");
    let (mut found, default_sort): (Vec<Value>, &str) = match kind {
        "channels" | "teams" if state.has_permission(&caller.user, "view-c-room") => {
            let teams = kind == "teams";
            let rooms = visible_rooms(&state, &caller.user).await?;
            let rooms = rooms
                .iter()
                .filter(|r| (r.get("teamMain").and_then(Value::as_bool) == Some(true)) == teams)
                .filter(|r| teams || str_of(r, "t") == "c" || r.get("teamId").is_some())
                .filter(|r| matches(r, &["name", "fname"], &text))
                .map(|r| pick(r, ROOM_FIELDS))
                .collect();
            (rooms, "name")
        }
        "users"
            if state.has_permission(&caller.user, "view-outside-room")
                && state.has_permission(&caller.user, "view-d-room") =>
        {
            let users = state.store().users().await?;
            let users = users
                .iter()
                .filter(|u| u.get("active").and_then(Value::as_bool) != Some(false) && u.get("username").is_some())
                .filter(|u| str_of(u, "type") != "app")
                .filter(|u| matches(u, &["username", "name"], &text))
                .map(|u| pick(u, USER_FIELDS))
                .collect();
            (users, "username")
        }
        _ => return Err(ApiError::plain("Please verify the parameters")),
    };
    let (key, asc) = match sort.iter().next() {
        Some((k, v)) => (k.as_str(), v.as_i64() == Some(1)),
        None => (default_sort, true),
    };
    Sort::by(&[(key, asc)]).sort_values(&mut found);
    let total = found.len();
    let result = page.slice(found);
    Ok(success(json!({"result": result, "count": result.len(), "offset": page.offset, "total": total})))
}

/// `spotlight`: a leading `@` searches users only, `#` rooms only.
async fn spotlight(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let Some(raw) = arg_str(&q, "query") else {
        return Err(ApiError::plain("Match error: Missing key 'query'"));
    };
    let (mut want_users, mut want_rooms, mut text) = (true, true, raw.trim().to_lowercase());
    if let Some(rest) = text.strip_prefix('#') {
        want_users = false;
        text = rest.to_owned();
    } else if let Some(rest) = text.strip_prefix('@') {
        want_rooms = false;
        text = rest.to_owned();
    }
    let mut users = Vec::new();
    if want_users {
        let everyone = state.has_permission(&caller.user, "view-outside-room");
        let mine = strings(caller.user.get("__rooms"));
        for u in state.store().users().await? {
            if users.len() >= 10 {
                break;
            }
            let active = u.get("active").and_then(Value::as_bool) != Some(false) && u.get("username").is_some();
            let shares_room = || strings(u.get("__rooms")).iter().any(|r| mine.contains(r));
            if active && matches(&u, &["username", "name"], &text) && (everyone || shares_room()) {
                users.push(pick(&u, &["_id", "username", "name", "status", "statusText", "avatarETag", "nickname"]));
            }
        }
    }
    let mut rooms = Vec::new();
    if want_rooms {
        for r in visible_rooms(&state, &caller.user).await? {
            if rooms.len() >= 10 {
                break;
            }
            if matches(&r, &["name", "fname"], &text) {
                rooms.push(pick(&r, &["_id", "name", "fname", "t", "avatarETag", "teamMain", "teamId", "prid"]));
            }
        }
    }
    Ok(success(json!({"users": users, "rooms": rooms})))
}
