//! `groups.*` (private rooms): the channel handlers with `Kind::Group`.

use super::channels::{Kind, list_joined, shared_routes};
use super::docs::Routes;
use super::listing::LIST_ARGS;
use crate::http::{Caller, Query};
use crate::state::AppState;
use axum::extract::State;

pub fn routes() -> Routes {
    shared_routes(Kind::Group)
        .get("/groups.list", |s: State<AppState>, c: Caller, q: Query| list_joined(s, c, q, Kind::Group))
        .summary("Rooms of this kind")
        .query(LIST_ARGS)
}
