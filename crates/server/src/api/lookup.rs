//! Rooms and users named by request arguments (`roomId`/`roomName`, `userId`/`username`),
//! with Rocket.Chat's exact errors for each endpoint family.

use super::validation::schema::Ty;
use crate::domain::rooms::can_access_room;
use crate::domain::str_of;
use crate::error::{ApiError, ApiResult};
use crate::http::{Args, arg_str};
use crate::state::AppState;
use serde_json::Value;
use store::Doc;

/// The arguments that name a room.
pub const ROOM_ARGS: &[(&str, Ty)] = &[("roomId", Ty::Str), ("roomName", Ty::Str)];
/// The arguments [`user_from_params`] reads.
pub const USER_ARGS: &[(&str, Ty)] = &[("userId", Ty::Str), ("username", Ty::Str), ("user", Ty::Str)];

const CHANNEL_NOT_FOUND: &str = "The required \"roomId\" or \"roomName\" param provided does not match any channel";
const GROUP_NOT_FOUND: &str = "The required \"roomId\" or \"roomName\" param provided does not match any group";

async fn room_by_id_or_name(state: &AppState, args: &Args) -> ApiResult<Option<Doc>> {
    if let Some(id) = arg_str(args, "roomId") {
        if !id.is_empty() {
            return Ok(state.store().room_by_id(&id).await?);
        }
        if args.contains_key("roomName") {
            // fall through to the name when the id is empty
        } else {
            return Ok(None);
        }
    }
    match arg_str(args, "roomName") {
        Some(name) if !name.is_empty() => Ok(state.store().room_by_name(&name).await?),
        _ => Ok(None),
    }
}

fn archived(room: &Doc) -> bool {
    room.get("archived").and_then(Value::as_bool) == Some(true)
}

/// `findChannelByIdOrName`: public channels only.
pub async fn find_channel(state: &AppState, args: &Args, check_archived: bool) -> ApiResult<Doc> {
    let room = room_by_id_or_name(state, args).await?;
    let Some(room) = room.filter(|r| matches!(str_of(r, "t"), "c" | "l")) else {
        return Err(channel_not_found());
    };
    if check_archived && archived(&room) {
        return Err(ApiError::meteor(
            "error-room-archived",
            &format!("The channel, {}, is archived", str_of(&room, "name")),
        ));
    }
    Ok(room)
}

/// `findPrivateGroupByIdOrName`: private groups the caller can access.
pub async fn find_group(state: &AppState, args: &Args, user: &Doc, check_archived: bool) -> ApiResult<Doc> {
    let id = arg_str(args, "roomId").unwrap_or_default();
    let name = arg_str(args, "roomName").unwrap_or_default();
    if id.is_empty() && name.is_empty() {
        return Err(room_param_required());
    }
    let room = room_by_id_or_name(state, args).await?;
    let Some(room) = room.filter(|r| str_of(r, "t") == "p") else {
        return Err(group_not_found());
    };
    if !can_access_room(state, &room, user).await? {
        return Err(group_not_found());
    }
    if check_archived && archived(&room) {
        return Err(ApiError::meteor(
            "error-room-archived",
            &format!("The private group, {}, is archived", str_of(&room, "name")),
        ));
    }
    Ok(room)
}

/// `findRoomByIdOrName`: any room type.
pub async fn find_any_room(state: &AppState, args: &Args) -> ApiResult<Doc> {
    let id = arg_str(args, "roomId").unwrap_or_default();
    let name = arg_str(args, "roomName").unwrap_or_default();
    if id.is_empty() && name.is_empty() {
        return Err(ApiError::meteor(
            "error-roomid-param-not-provided",
            "The parameter \"roomId\" or \"roomName\" is required",
        ));
    }
    room_by_id_or_name(state, args).await?.ok_or_else(channel_not_found)
}

/// Resolves `userId` | `username` | `user` (`getUserFromParams`).
pub async fn user_from_params(state: &AppState, args: &Args) -> ApiResult<Doc> {
    let found = if let Some(id) = arg_str(args, "userId").filter(|s| !s.is_empty()) {
        Some(state.store().user_by_id(&id).await?)
    } else if let Some(name) = arg_str(args, "username").or_else(|| arg_str(args, "user")).filter(|s| !s.is_empty()) {
        Some(state.store().user_by_username(&name).await?)
    } else {
        None
    };
    match found {
        None => Err(ApiError::meteor(
            "error-user-param-not-provided",
            "The required \"userId\" or \"username\" param was not provided",
        )),
        Some(None) => Err(ApiError::meteor(
            "error-invalid-user",
            "The required \"userId\" or \"username\" param provided does not match any users",
        )),
        Some(Some(u)) => Ok(u),
    }
}

/// `error-room-param-not-provided`: neither `roomId` nor `roomName` was given.
pub fn room_param_required() -> ApiError {
    ApiError::meteor("error-room-param-not-provided", "The parameter \"roomId\" or \"roomName\" is required")
}

/// `error-room-not-found` with the channel wording.
pub fn channel_not_found() -> ApiError {
    ApiError::meteor("error-room-not-found", CHANNEL_NOT_FOUND)
}

/// `error-room-not-found` with the group wording.
pub fn group_not_found() -> ApiError {
    ApiError::meteor("error-room-not-found", GROUP_NOT_FOUND)
}
