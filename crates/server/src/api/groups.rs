//! `groups.*` (private rooms): the channel handlers with `Kind::Group`.

use super::channels::{
    Kind, add_owner, archive, create, delete, history, info, invite, leave, list_joined, members, messages,
};
use crate::http::{Body, Caller, Query};
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    const G: Kind = Kind::Group;
    Router::new()
        .route("/groups.create", post(|s: State<AppState>, c: Caller, b: Body| create(s, c, b, G)))
        .route("/groups.info", get(|s: State<AppState>, c: Caller, q: Query| info(s, c, q, G)))
        .route("/groups.delete", post(|s: State<AppState>, c: Caller, b: Body| delete(s, c, b, G)))
        .route("/groups.list", get(|s: State<AppState>, c: Caller, q: Query| list_joined(s, c, q, G)))
        .route("/groups.members", get(|s: State<AppState>, c: Caller, q: Query| members(s, c, q, G)))
        .route("/groups.messages", get(|s: State<AppState>, c: Caller, q: Query| messages(s, c, q, G)))
        .route("/groups.history", get(|s: State<AppState>, c: Caller, q: Query| history(s, c, q, G)))
        .route("/groups.invite", post(|s: State<AppState>, c: Caller, b: Body| invite(s, c, b, G)))
        .route("/groups.addOwner", post(|s: State<AppState>, c: Caller, b: Body| add_owner(s, c, b, G)))
        .route("/groups.leave", post(|s: State<AppState>, c: Caller, b: Body| leave(s, c, b, G)))
        .route("/groups.archive", post(|s: State<AppState>, c: Caller, b: Body| archive(s, c, b, G)))
}
