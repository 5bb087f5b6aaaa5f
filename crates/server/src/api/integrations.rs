//! `integrations.*`, `channels.getIntegrations` and `groups.getIntegrations`.

use super::docs::Routes;
use super::listing::{LIST_ARGS, ListParams, only_known};
use super::lookup::{ROOM_ARGS, channel_not_found, group_not_found, room_param_required};
use super::validation::integration_schemas::{CREATE_INCOMING, CREATE_OUTGOING, UPDATE_INCOMING, UPDATE_OUTGOING};
use super::validation::schema::{Branch, Ty, one_of};
use crate::domain::integration_kinds::{INCOMING, OUTGOING, creator};
use crate::domain::integrations::{create_incoming, create_outgoing, delete, update_incoming, update_outgoing};
use crate::domain::rooms::can_access_room;
use crate::domain::str_of;
use crate::error::{ApiError, ApiResult, success};
use crate::http::{Args, Body, Caller, Query, arg_str};
use crate::permissions::Grants;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use query::Filter;
use serde_json::{Value, json};
use store::Doc;

pub fn routes() -> Routes {
    Routes::new()
        .get("/integrations.list", list)
        .summary("Integrations the caller may manage")
        .query(LIST_ARGS)
        .query(&[("name", Ty::Str), ("type", Ty::Str)])
        .get("/integrations.get", get_one)
        .summary("One integration")
        .query(&[("integrationId", Ty::Str), ("createdBy", Ty::Str)])
        .post("/integrations.create", create)
        .summary("Create an incoming or outgoing integration")
        .body_one_of(&[&CREATE_INCOMING, &CREATE_OUTGOING])
        .put("/integrations.update", update)
        .summary("Change an integration")
        .body_one_of(&[&UPDATE_INCOMING, &UPDATE_OUTGOING])
        .post("/integrations.remove", remove)
        .summary("Delete an integration")
        .body(&[("type", Ty::Str), ("integrationId", Ty::Str), ("target_url", Ty::Str)])
        .get("/integrations.history", history)
        .summary("Delivery history of an outgoing integration")
        .query(&[("id", Ty::Str)])
        .query(LIST_ARGS)
        .post("/integrations.clearHistory", clear_history)
        .summary("Clear the delivery history of an outgoing integration")
        .body(&[("integrationId", Ty::Str)])
        .post("/integrations.replayOutgoing", replay_outgoing)
        .summary("Send a recorded outgoing delivery again")
        .body(&[("integrationId", Ty::Str), ("historyId", Ty::Str)])
        .get("/channels.getIntegrations", channel_integrations)
        .summary("Integrations of public channels")
        .query(ROOM_ARGS)
        .query(LIST_ARGS)
        .query(&[("includeAllPublicChannels", Ty::Bool)])
        .get("/groups.getIntegrations", group_integrations)
        .summary("Integrations of private groups")
        .query(ROOM_ARGS)
        .query(LIST_ARGS)
        .query(&[("includeAllPrivateGroups", Ty::Bool)])
}

fn require_any_integration_permission(grants: &Grants) -> ApiResult<()> {
    if grants.any() { Ok(()) } else { Err(ApiError::permission_required()) }
}

async fn list(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let grants = state.grants(&caller.user);
    require_any_integration_permission(&grants)?;
    only_known(&q, &["offset", "count", "sort", "name", "type", "query", "fields"])?;
    let params = ListParams::from_args(&state, &q)?;
    let mut trusted = vec![grants.scope(&caller.id)];
    if let Some(name) = arg_str(&q, "name").filter(|n| !n.is_empty()) {
        trusted.push(Filter::contains_ci("name", &name).map_err(|e| ApiError::invalid_params_typed(e.to_string()))?);
    }
    if let Some(t) = arg_str(&q, "type") {
        trusted.push(Filter::eq("type", t.as_ref()));
    }
    // Rocket.Chat sorts by `ts`, which integrations lack: insertion order.
    let (docs, total) = state.store().find_integrations(params.doc_query(trusted, &[])).await?;
    let integrations = params.project(docs);
    Ok(success(json!({
        "integrations": integrations, "offset": params.page.offset, "items": integrations.len(),
        "count": integrations.len(), "total": total,
    })))
}

/// The integrations configured for a room, scoped by the caller's permissions.
async fn room_integrations(state: &AppState, caller: &Caller, q: &Args, channels: Vec<String>) -> ApiResult<Response> {
    let grants = state.grants(&caller.user);
    let params = ListParams::from_args(state, q)?;
    let trusted = vec![grants.scope(&caller.id), Filter::is_in("channel", channels)];
    let (docs, total) = state.store().find_integrations(params.doc_query(trusted, &[("_createdAt", true)])).await?;
    let integrations = params.project(docs);
    Ok(success(json!({
        "integrations": integrations, "count": integrations.len(), "offset": params.page.offset, "total": total,
    })))
}

async fn channel_integrations(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    require_any_integration_permission(&state.grants(&caller.user))?;
    let room = if q.contains_key("roomId") {
        let id = arg_str(&q, "roomId").unwrap_or_default();
        if id.is_empty() { None } else { state.store().room_by_id(&id).await? }
    } else if q.contains_key("roomName") {
        let name = arg_str(&q, "roomName").unwrap_or_default();
        if name.is_empty() { None } else { state.store().room_by_name(&name).await? }
    } else {
        None
    };
    let room = room.filter(|r| matches!(str_of(r, "t"), "c" | "l")).ok_or_else(channel_not_found)?;
    if !can_access_room(&state, &room, &caller.user).await? {
        return Err(ApiError::forbidden());
    }
    // Present at all: true only when exactly "true".
    let include_all = match q.get("includeAllPublicChannels") {
        None => true,
        Some(_) => arg_str(&q, "includeAllPublicChannels").as_deref() == Some("true"),
    };
    let mut channels = vec![format!("#{}", str_of(&room, "name"))];
    if include_all {
        channels.push("all_public_channels".into());
    }
    room_integrations(&state, &caller, &q, channels).await
}

async fn group_integrations(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    require_any_integration_permission(&state.grants(&caller.user))?;
    let id = arg_str(&q, "roomId").map(|s| s.into_owned());
    let name = arg_str(&q, "roomName").map(|s| s.into_owned());
    let both_empty = id.as_deref().unwrap_or_default().is_empty() && name.as_deref().unwrap_or_default().is_empty();
    if (id.is_none() && name.is_none()) || both_empty {
        return Err(room_param_required());
    }
    let room = match (&id, &name) {
        (Some(id), _) => state.store().room_by_id(id).await?,
        (None, Some(name)) => state.store().room_by_name(name).await?,
        _ => None,
    };
    let room = room.filter(|r| str_of(r, "t") == "p").ok_or_else(group_not_found)?;
    if !can_access_room(&state, &room, &caller.user).await? {
        return Err(group_not_found());
    }
    let room_name = if room.contains_key("prid") { str_of(&room, "fname") } else { str_of(&room, "name") };
    // Truthy: true only when exactly "true"; an empty value keeps the default.
    let include_all = match arg_str(&q, "includeAllPrivateGroups") {
        Some(v) if !v.is_empty() => v == "true",
        _ => true,
    };
    let mut channels = vec![format!("#{room_name}")];
    if include_all {
        channels.push("all_private_groups".into());
    }
    room_integrations(&state, &caller, &q, channels).await
}

async fn get_one(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let Some(id) = arg_str(&q, "integrationId") else {
        return Err(ApiError::invalid_params_typed("must have required property 'integrationId'"));
    };
    if id.is_empty() {
        return Err(ApiError::plain("The query parameter \"integrationId\" is required."));
    }
    let integration = state
        .store()
        .integration_by_id(&id)
        .await?
        .filter(|i| arg_str(&q, "createdBy").is_none_or(|by| creator(i) == Some(by.as_ref())))
        .ok_or_else(|| ApiError::plain("The integration does not exists."))?;
    if !state.grants(&caller.user).may_manage(&integration, &caller.id) {
        return Err(ApiError::plain("not-authorized"));
    }
    Ok(success(json!({"integration": integration})))
}

async fn create(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    one_of(&body, &[&CREATE_INCOMING, &CREATE_OUTGOING]).map_err(ApiError::invalid_params_typed)?;
    let integration = match str_of(&body, "type") {
        INCOMING => create_incoming(&state, &caller.user, &body).await?,
        OUTGOING => create_outgoing(&state, &caller.user, &body).await?,
        _ => return Err(ApiError::plain("Invalid integration type.")),
    };
    Ok(success(json!({"integration": integration})))
}

async fn update(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    one_of(&body, &[&UPDATE_INCOMING, &UPDATE_OUTGOING]).map_err(ApiError::invalid_params_typed)?;
    let no_integration = || ApiError::plain("No integration found.");
    let store = state.store();
    let integration = match str_of(&body, "type") {
        OUTGOING => {
            let current = match arg_str(&body, "target_url") {
                Some(url) => store.integration_by_url(&url).await?,
                None => store.integration_by_id(&arg_str(&body, "integrationId").unwrap_or_default()).await?,
            }
            .ok_or_else(no_integration)?;
            update_outgoing(&state, &caller.user, str_of(&current, "_id"), &body).await?
        }
        INCOMING => {
            let id = arg_str(&body, "integrationId").unwrap_or_default().into_owned();
            store.integration_by_id(&id).await?.ok_or_else(no_integration)?;
            update_incoming(&state, &caller.user, &id, &body).await?
        }
        _ => return Err(ApiError::plain("Invalid integration type.")),
    };
    let id = str_of(&integration, "_id").to_owned();
    let stored = store.integration_by_id(&id).await?.unwrap_or(integration);
    Ok(success(json!({"integration": stored})))
}

const REMOVE_INCOMING: Branch = Branch {
    type_pattern: Some(INCOMING),
    required: &[("type", Ty::Str), ("integrationId", Ty::Str)],
    optional: &[],
    more_optional: &[],
    additional_properties: true,
};
const REMOVE_OUTGOING_BY_URL: Branch = Branch {
    type_pattern: Some(OUTGOING),
    required: &[("type", Ty::Str), ("target_url", Ty::Str)],
    optional: &[],
    more_optional: &[],
    additional_properties: true,
};
const REMOVE_OUTGOING_BY_ID: Branch = Branch {
    type_pattern: Some(OUTGOING),
    required: &[("type", Ty::Str), ("integrationId", Ty::Str)],
    optional: &[],
    more_optional: &[],
    additional_properties: true,
};

async fn remove(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    require_any_integration_permission(&state.grants(&caller.user))?;
    one_of(&body, &[&REMOVE_INCOMING, &REMOVE_OUTGOING_BY_URL, &REMOVE_OUTGOING_BY_ID])
        .map_err(ApiError::invalid_params_typed)?;
    let store = state.store();
    let no_integration = || ApiError::plain("No integration found.");
    let (integration, kind): (Doc, &str) = match str_of(&body, "type") {
        OUTGOING => {
            let found = if let Some(url) = arg_str(&body, "target_url") {
                store.integration_by_url(&url).await?
            } else if let Some(id) = arg_str(&body, "integrationId") {
                store.integration_by_id(&id).await?
            } else {
                return Err(ApiError::plain("An integrationId or target_url needs to be provided."));
            };
            (found.ok_or_else(no_integration)?, OUTGOING)
        }
        INCOMING => {
            let id = arg_str(&body, "integrationId").unwrap_or_default().into_owned();
            (store.integration_by_id(&id).await?.ok_or_else(no_integration)?, INCOMING)
        }
        _ => return Err(ApiError::plain("Invalid integration type.")),
    };
    delete(&state, &caller.user, &integration, kind).await?;
    Ok(success(json!({"integration": integration})))
}

/// `mountIntegrationHistoryQueryBasedOnPermissions`.
fn history_scope(grants: &Grants, me: &str, id: &str) -> Filter {
    if grants.own_out && !grants.all_out {
        Filter::and(vec![Filter::eq("integration._id", id), Filter::eq("integration._createdBy._id", me)])
    } else {
        Filter::eq("integration._id", id)
    }
}

async fn history(State(state): State<AppState>, caller: Caller, Query(q): Query) -> ApiResult<Response> {
    let grants = state.grants(&caller.user);
    if !grants.all_out && !grants.own_out {
        return Err(ApiError::permission_required());
    }
    only_known(&q, &["id", "offset", "count", "sort", "query", "fields"])?;
    let Some(id) = arg_str(&q, "id") else {
        return Err(ApiError::invalid_params_typed("must have required property 'id'"));
    };
    if id.is_empty() {
        return Err(ApiError::invalid_params_typed("must NOT have fewer than 1 characters"));
    }
    if id.trim().is_empty() {
        return Err(ApiError::plain("Invalid integration id."));
    }
    let params = ListParams::from_args(&state, &q)?;
    let query = params.doc_query(vec![history_scope(&grants, &caller.id, &id)], &[("_updatedAt", false)]);
    let (docs, total) = state.store().find_history(query).await?;
    let history = params.project(docs);
    Ok(success(json!({
        "history": history, "offset": params.page.offset, "items": history.len(), "count": history.len(), "total": total,
    })))
}

async fn clear_history(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let id = match body.get("integrationId") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        Some(Value::String(_)) => return Err(ApiError::invalid_params_typed("must NOT have fewer than 1 characters")),
        _ => return Err(ApiError::invalid_params_typed("must have required property 'integrationId'")),
    };
    let grants = state.grants(&caller.user);
    if !grants.all_out && !grants.own_out {
        return Err(ApiError::meteor_details(
            "not_authorized",
            "Unauthorized",
            json!({"method": "clearIntegrationHistory"}),
        ));
    }
    let integration = state
        .store()
        .integration_by_id(&id)
        .await?
        .filter(|i| grants.all_out || creator(i) == Some(caller.id.as_str()))
        .ok_or_else(|| {
            ApiError::meteor_details(
                "error-invalid-integration",
                "Invalid integration",
                json!({"method": "clearIntegrationHistory"}),
            )
        })?;
    state.store().clear_history(str_of(&integration, "_id")).await?;
    Ok(success(json!({})))
}

/// `integrations.replayOutgoing` (`replayOutgoingIntegration`): runs a recorded call again.
async fn replay_outgoing(State(state): State<AppState>, caller: Caller, Body(body): Body) -> ApiResult<Response> {
    let mut ids = Vec::new();
    for key in ["integrationId", "historyId"] {
        match body.get(key) {
            Some(Value::String(id)) if !id.is_empty() => ids.push(id.clone()),
            Some(Value::String(_)) => {
                return Err(ApiError::invalid_params_typed("must NOT have fewer than 1 characters"));
            }
            _ => return Err(ApiError::invalid_params_typed(format!("must have required property '{key}'"))),
        }
    }
    if let Some(extra) = body.keys().find(|k| !matches!(k.as_str(), "integrationId" | "historyId")) {
        return Err(ApiError::invalid_params_typed(format!("must NOT have additional properties '{extra}'")));
    }
    let details = || json!({"method": "replayOutgoingIntegration"});
    let grants = state.grants(&caller.user);
    if !grants.all_out && !grants.own_out {
        return Err(ApiError::meteor_details("not_authorized", "Unauthorized", details()));
    }
    let integration = state
        .store()
        .integration_by_id(&ids[0])
        .await?
        .filter(|i| grants.all_out || (creator(i) == Some(caller.id.as_str()) && str_of(i, "type") == OUTGOING))
        .ok_or_else(|| ApiError::meteor_details("error-invalid-integration", "Invalid integration", details()))?;
    let record = state
        .store()
        .history_by_id(&ids[1])
        .await?
        .filter(|h| crate::domain::get_path(h, "integration._id").and_then(Value::as_str) == Some(ids[0].as_str()))
        .ok_or_else(|| {
            ApiError::meteor_details("error-invalid-integration-history", "Invalid Integration History", details())
        })?;
    crate::outgoing::replay::replay(&state, &integration, &record).await?;
    Ok(success(json!({})))
}
