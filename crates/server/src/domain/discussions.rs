//! Discussions (`createDiscussion`): a room of its own, tied to a parent room (`prid`) and
//! announced there by a `discussion-created` message that points to it (`drid`).

use super::message_actions::{edit_message, set_fields};
use super::messages::post_message;
use super::rooms::{NewRoom, can_access_room, create_room, system_message, users_by_names};
use super::{doc, str_of};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use serde_json::{Map, Value, json};
use store::Doc;
use store::ids::random_id;

/// A discussion to start, as requested.
pub struct NewDiscussion {
    pub prid: String,
    /// The message the discussion is about, if any (it gets `drid`).
    pub pmid: Option<String>,
    /// The discussion's display name.
    pub name: String,
    /// Usernames to invite besides the creator.
    pub users: Vec<String>,
    /// A first message to post in the discussion.
    pub reply: Option<String>,
    pub topic: Option<String>,
}

fn not_allowed(reason: &str) -> ApiError {
    ApiError::meteor_details("error-action-not-allowed", reason, json!({"method": "createDiscussion"}))
}

/// Creates the discussion as `user`; returns its room with `rid` (Rocket.Chat's shape).
pub async fn create_discussion(state: &AppState, user: &Doc, new: NewDiscussion) -> ApiResult<Value> {
    if !state.settings.bool("Discussion_enabled") {
        return Err(not_allowed("You are not allowed to create a discussion"));
    }
    let Some(parent) = state.store().room_by_id(&new.prid).await? else {
        return Err(ApiError::meteor_details(
            "error-invalid-room",
            "Invalid room",
            json!({"method": "DiscussionCreation"}),
        ));
    };
    if !can_access_room(state, &parent, user).await? {
        return Err(not_allowed("You are not allowed to create a discussion"));
    }
    let may_start = state.has_permission_in_room(user, "start-discussion", &new.prid).await?
        || state.has_permission_in_room(user, "start-discussion-other-user", &new.prid).await?;
    if !may_start {
        return Err(not_allowed("You are not allowed to create a discussion"));
    }
    let parent_message = match &new.pmid {
        Some(pmid) => {
            let message = state.store().message_by_id(pmid).await?;
            let Some(message) = message.filter(|m| str_of(m, "rid") == new.prid) else {
                return Err(not_allowed("You are not allowed to create a discussion"));
            };
            if message.contains_key("drid") {
                return Err(not_allowed("Message already has a discussion"));
            }
            Some(message)
        }
        None => None,
    };
    let t = if str_of(&parent, "t") == "c" { "c" } else { "p" };
    let mut extra = Map::new();
    extra.insert("fname".into(), json!(new.name));
    extra.insert("prid".into(), json!(new.prid));
    if let Some(topic) = new.topic.filter(|t| !t.is_empty()) {
        extra.insert("topic".into(), json!(topic));
    }
    let members = users_by_names(state, &new.users).await?;
    let room = create_room(
        state,
        NewRoom {
            t,
            name: random_id(17),
            owner: user,
            members,
            read_only: false,
            exclude_self: false,
            custom_fields: None,
            extra_data: Some(extra),
            team_main: None,
        },
    )
    .await?;
    let drid = str_of(&room, "_id").to_owned();
    match parent_message {
        Some(message) => {
            let link = set_fields(doc(json!({"drid": drid})));
            edit_message(state, str_of(&message, "_id"), link).await?;
        }
        None => {
            let mut extra = Map::new();
            extra.insert("drid".into(), json!(drid));
            let note = system_message(&new.prid, "discussion-created", &new.name, user, Some(extra));
            state.store().insert_message(note).await?;
        }
    }
    if let Some(reply) = new.reply.filter(|r| !r.is_empty()) {
        post_message(state, &room, user, doc(json!({"msg": reply}))).await?;
    }
    let mut out = room;
    out.insert("rid".into(), json!(drid));
    Ok(Value::Object(out))
}
