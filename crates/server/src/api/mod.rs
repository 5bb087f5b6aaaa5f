//! The REST API: one module per Rocket.Chat endpoint family, merged into one router.

mod auth;
mod channels;
mod chat;
mod checks;
pub mod docs;
mod groups;
mod im;
mod integration_schemas;
mod integrations;
mod licenses;
mod limit;
pub mod listing;
mod lookup;
pub mod pagination;
mod permissions;
mod presence;
mod roles;
mod room_lists;
mod room_roles;
mod room_settings;
mod room_views;
mod rooms;
mod schema;
mod settings;
mod signing_secret;
mod teams;
mod users;

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
        .merge(chat::routes())
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
