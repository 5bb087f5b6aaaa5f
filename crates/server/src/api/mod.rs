//! The REST API: one module per Rocket.Chat endpoint family, merged into one router.

mod auth;
mod channels;
mod chat;
mod directory;
pub mod docs;
mod groups;
mod im;
mod integrations;
mod licenses;
mod limit;
pub mod listing;
mod lookup;
mod message_actions;
mod message_lists;
pub mod pagination;
mod permissions;
mod presence;
mod roles;
mod room_actions;
mod room_encryption;
mod room_lists;
mod room_roles;
mod room_settings;
mod room_views;
mod rooms;
mod settings;
mod signing_secret;
mod statistics;
mod team_lists;
mod team_members;
mod team_rooms;
mod teams;
mod threads;
mod user_account;
mod users;
mod validation;

use crate::error::ApiError;
use crate::state::AppState;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware;
use docs::Routes;
use tower_http::set_header::SetResponseHeaderLayer;

pub fn routes(state: AppState) -> Routes {
    let v1 = Routes::new()
        .merge(auth::routes())
        .merge(users::routes())
        .merge(user_account::routes())
        .merge(statistics::routes())
        .merge(directory::routes())
        .merge(permissions::routes())
        .merge(channels::routes())
        .merge(groups::routes())
        .merge(room_settings::routes())
        .merge(room_roles::routes())
        .merge(room_views::routes())
        .merge(im::routes())
        .merge(settings::routes())
        .merge(roles::routes())
        .merge(licenses::routes())
        .merge(presence::routes())
        .merge(room_lists::routes())
        .merge(rooms::routes())
        .merge(teams::routes())
        .merge(team_members::routes())
        .merge(team_rooms::routes())
        .merge(team_lists::routes())
        .merge(chat::routes())
        .merge(message_actions::routes())
        .merge(message_lists::routes())
        .merge(threads::routes())
        .merge(room_actions::routes())
        .merge(room_encryption::routes())
        .merge(integrations::routes())
        .merge(signing_secret::routes())
        .wrap(&[429], |v1| v1.route_layer(middleware::from_fn_with_state(state, limit::limit_api)));
    Routes::new().nest("/api/v1", v1).merge(auth::info_routes()).wrap(&[], |api| {
        api.layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cache-control"),
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("pragma"),
            HeaderValue::from_static("no-cache"),
        ))
    })
}

pub async fn not_found() -> ApiError {
    ApiError::NotFound("Resource not found".into())
}
