//! Room memberships beyond join/invite/leave: moderator, leader and owner removal/granting
//! (`addRoomModerator`, `removeRoomOwner`, ... in Rocket.Chat), kicking a member
//! (`removeUserFromRoom`) and `channels.addAll`.

use super::channels::Kind;
use super::docs::Routes;
use super::lookup::{ROOM_ARGS, USER_ARGS, user_from_params};
use super::validation::schema::Ty;
use crate::domain::events::Event;
use crate::domain::outbox::raise;
use crate::domain::rooms::{add_member, public_room, system_message};
use crate::domain::str_of;
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Body, Caller};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Map, Value, json};
use store::Change;
use store::Doc;

/// One role change: which role, granted or taken, the permission it needs in the room and
/// the Meteor method Rocket.Chat names in its errors.
#[derive(Clone, Copy)]
struct RoleChange {
    role: &'static str,
    add: bool,
    permission: &'static str,
    method: &'static str,
    /// The error when the change is already in effect: `(code, reason)`.
    noop: (&'static str, &'static str),
}

const CHANGES: &[(&str, RoleChange)] = &[
    (
        "addModerator",
        RoleChange {
            role: "moderator",
            add: true,
            permission: "set-moderator",
            method: "addRoomModerator",
            noop: ("error-user-already-moderator", "User is already a moderator"),
        },
    ),
    (
        "removeModerator",
        RoleChange {
            role: "moderator",
            add: false,
            permission: "set-moderator",
            method: "removeRoomModerator",
            noop: ("error-user-not-moderator", "User is not a moderator"),
        },
    ),
    (
        "addLeader",
        RoleChange {
            role: "leader",
            add: true,
            permission: "set-leader",
            method: "addRoomLeader",
            noop: ("error-user-already-leader", "User is already a leader"),
        },
    ),
    (
        "removeLeader",
        RoleChange {
            role: "leader",
            add: false,
            permission: "set-leader",
            method: "removeRoomLeader",
            noop: ("error-user-not-leader", "User is not a leader"),
        },
    ),
    (
        "removeOwner",
        RoleChange {
            role: "owner",
            add: false,
            permission: "set-owner",
            method: "removeRoomOwner",
            noop: ("error-user-not-owner", "User is not an owner"),
        },
    ),
];

pub fn routes() -> Routes {
    let mut router = Routes::new();
    for (kind, family) in [(Kind::Channel, "channels"), (Kind::Group, "groups")] {
        for (name, change) in CHANGES {
            let change = *change;
            router = router
                .post(&format!("/{family}.{name}"), move |s: State<AppState>, c: Caller, b: Body| {
                    change_role(s, c, b, kind, change)
                })
                .summary(format!("Room roles: {name}"))
                .body(ROOM_ARGS)
                .body(USER_ARGS);
        }
        router = router
            .post(&format!("/{family}.kick"), move |s: State<AppState>, c: Caller, b: Body| kick(s, c, b, kind))
            .summary("Remove a member from a room")
            .body(ROOM_ARGS)
            .body(USER_ARGS);
    }
    router
        .post("/channels.addAll", add_all)
        .summary("Add every active user to a channel")
        .body(ROOM_ARGS)
        .body(&[("activeUsersOnly", Ty::Bool)])
}

pub fn roles_of(sub: &Doc) -> Vec<String> {
    sub.get("roles")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

async fn change_role(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body,
    kind: Kind,
    change: RoleChange,
) -> ApiResult<Response> {
    let room = kind.find(&state, &body, &caller, true).await?;
    let rid = str_of(&room, "_id").to_owned();
    let user = user_from_params(&state, &body).await?;
    let details = json!({"method": change.method});
    if !state.has_permission_in_room(&caller.user, change.permission, &rid).await? {
        return Err(ApiError::meteor_details("error-not-allowed", "Not allowed", details));
    }
    let uid = str_of(&user, "_id");
    let Some(sub) = state.store().subscription(&rid, uid).await? else {
        return Err(ApiError::meteor_details("error-user-not-in-room", "User is not in this room", details));
    };
    let mut roles = roles_of(&sub);
    let has = roles.iter().any(|r| r == change.role);
    if has == change.add {
        return Err(ApiError::meteor_details(change.noop.0, change.noop.1, details));
    }
    if change.add {
        roles.push(change.role.to_owned());
    } else {
        if change.role == "owner" && owners(&state, &rid).await? <= 1 {
            return Err(ApiError::meteor_details(
                "error-remove-last-owner",
                "This is the last owner. Please set a new owner before removing this one.",
                details,
            ));
        }
        roles.retain(|r| r != change.role);
    }
    let mut extra = Map::new();
    extra.insert("role".into(), json!(change.role));
    let t = if change.add { "subscription-role-added" } else { "subscription-role-removed" };
    let note = system_message(&rid, t, str_of(&user, "username"), &caller.user, Some(extra));
    state.store().set_subscription_roles(&rid, uid, roles, Some(note)).await?;
    Ok(success(json!({})))
}

async fn owners(state: &AppState, rid: &str) -> ApiResult<usize> {
    let subs = state.store().subscriptions_of_room(rid).await?;
    Ok(subs.iter().filter(|s| roles_of(s).iter().any(|r| r == "owner")).count())
}

/// `channels.kick` / `groups.kick` (`removeUserFromRoom`): needs `remove-user` in the room;
/// posts `ru` and raises `roomLeft` for the removed user.
async fn kick(State(state): State<AppState>, caller: Caller, Body(body): Body, kind: Kind) -> ApiResult<Response> {
    let room = kind.find(&state, &body, &caller, true).await?;
    let rid = str_of(&room, "_id").to_owned();
    let user = user_from_params(&state, &body).await?;
    let details = json!({"method": "removeUserFromRoom"});
    if !state.has_permission_in_room(&caller.user, "remove-user", &rid).await? {
        return Err(ApiError::meteor_details("error-not-allowed", "Not allowed", details));
    }
    let uid = str_of(&user, "_id");
    let Some(sub) = state.store().subscription(&rid, uid).await? else {
        return Err(ApiError::meteor_details("error-user-not-in-room", "User is not in this room", details));
    };
    if roles_of(&sub).iter().any(|r| r == "owner") && owners(&state, &rid).await? <= 1 {
        return Err(ApiError::meteor_details(
            "error-you-are-last-owner",
            "You are the last owner. Please set new owner before leaving the room.",
            details,
        ));
    }
    let note = system_message(&rid, "ru", str_of(&user, "username"), &caller.user, None);
    let raised = raise(&state, Event::RoomLeft { room: &room, user: &user }).await?;
    let change = Change::Unsubscribe { rid: rid.clone(), uid: uid.to_owned(), system_message: Some(note) };
    raised.commit(&state, change).await?;
    let room = state.store().room_by_id(&rid).await?.unwrap_or(room);
    Ok(success(json!({ kind.key(): public_room(room) })))
}

/// `channels.addAll` (`addAllUserToRoom`, permission `add-all-to-room`): every active user
/// joins the channel, each raising `roomJoined`.
async fn add_all(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let room = Kind::Channel.find(&state, &body, &caller, true).await?;
    if !state.has_permission(&caller.user, "add-all-to-room") {
        return Err(ApiError::meteor_details("error-not-allowed", "Not allowed", json!({"method": "addAllToRoom"})));
    }
    for user in state.store().users().await? {
        if user.get("active").and_then(Value::as_bool) != Some(false) {
            add_member(&state, &room, &user, Some(&caller.user)).await?;
        }
    }
    let room = state.store().room_by_id(str_of(&room, "_id")).await?.unwrap_or(room);
    Ok(success(json!({"channel": public_room(room)})))
}
