//! `groups.*` (private rooms): the channel handlers with `Kind::Group`.

use super::channels::{
    Kind, add_owner, archive, create, delete, history, info, invite, leave, list_joined, members, messages,
};
use super::docs::Routes;
use super::listing::LIST_ARGS;
use super::lookup::{ROOM_ARGS, USER_ARGS};
use super::validation::schema::Ty;
use crate::http::{Body, Caller, Query};
use crate::state::AppState;
use axum::extract::State;

pub fn routes() -> Routes {
    const G: Kind = Kind::Group;
    Routes::new()
        .post("/groups.create", |s: State<AppState>, c: Caller, b: Body| create(s, c, b, G))
        .summary("Create a private group")
        .body(&[
            ("name", Ty::Str),
            ("members", Ty::StrList),
            ("readOnly", Ty::Bool),
            ("excludeSelf", Ty::Bool),
            ("customFields", Ty::Obj),
            ("extraData", Ty::Obj),
        ])
        .get("/groups.info", |s: State<AppState>, c: Caller, q: Query| info(s, c, q, G))
        .summary("A room")
        .query(ROOM_ARGS)
        .post("/groups.delete", |s: State<AppState>, c: Caller, b: Body| delete(s, c, b, G))
        .summary("Delete a room")
        .body(ROOM_ARGS)
        .get("/groups.list", |s: State<AppState>, c: Caller, q: Query| list_joined(s, c, q, G))
        .summary("Rooms of this kind")
        .query(LIST_ARGS)
        .get("/groups.members", |s: State<AppState>, c: Caller, q: Query| members(s, c, q, G))
        .summary("Members of a room")
        .query(ROOM_ARGS)
        .query(LIST_ARGS)
        .query(&[("status", Ty::StrList), ("filter", Ty::Str)])
        .get("/groups.messages", |s: State<AppState>, c: Caller, q: Query| messages(s, c, q, G))
        .summary("Messages of a room")
        .query(ROOM_ARGS)
        .query(LIST_ARGS)
        .get("/groups.history", |s: State<AppState>, c: Caller, q: Query| history(s, c, q, G))
        .summary("Messages of a room between two dates")
        .query(ROOM_ARGS)
        .query(&[
            ("latest", Ty::Str),
            ("oldest", Ty::Str),
            ("inclusive", Ty::Bool),
            ("offset", Ty::Num),
            ("count", Ty::Num),
            ("unreads", Ty::Bool),
        ])
        .post("/groups.invite", |s: State<AppState>, c: Caller, b: Body| invite(s, c, b, G))
        .summary("Add users to a room")
        .body(ROOM_ARGS)
        .body(USER_ARGS)
        .body(&[("userIds", Ty::StrList)])
        .post("/groups.addOwner", |s: State<AppState>, c: Caller, b: Body| add_owner(s, c, b, G))
        .summary("Make a member an owner")
        .body(ROOM_ARGS)
        .body(USER_ARGS)
        .post("/groups.leave", |s: State<AppState>, c: Caller, b: Body| leave(s, c, b, G))
        .summary("Leave a room")
        .body(ROOM_ARGS)
        .post("/groups.archive", |s: State<AppState>, c: Caller, b: Body| archive(s, c, b, G))
        .summary("Archive a room")
        .body(ROOM_ARGS)
}
