//! First-start data: roles, permissions, `rocket.cat`, `#general` and the administrator from
//! `ADMIN_*`. Every step checks what exists first, so a restart never duplicates or resets.

use crate::domain::users::{NewUser, create_user, valid_username};
use crate::domain::{doc, str_of};
use crate::error::{ApiError, ApiResult};
use crate::permissions::{default_permission_docs, default_role_docs};
use crate::state::AppState;
use serde_json::{Value, json};
use store::ids::now_iso;

pub async fn run(state: &AppState) -> ApiResult<()> {
    let store = state.store();
    // Nodes starting together on one empty database take turns, so each record is made once.
    let _guard = store.first_start_guard().await?;
    let now = now_iso();
    store.ensure_roles(default_role_docs(&now)).await?;
    store.ensure_permissions(default_permission_docs(&now)).await?;
    state.permissions.reload(store).await?;

    if store.user_by_id("rocket.cat").await?.is_none() {
        store
            .insert_user(doc(json!({
                "_id": "rocket.cat", "createdAt": now, "username": "rocket.cat", "name": "Rocket.Cat",
                "type": "bot", "status": "online", "statusDefault": "online", "utcOffset": 0,
                "active": true, "roles": ["bot"], "avatarOrigin": "local", "_updatedAt": now, "__rooms": [],
            })))
            .await?;
        tracing::info!("created user rocket.cat");
    }

    if !state.settings.bool("Initial_Channel_Created") {
        if store.room_by_id("GENERAL").await?.is_none() {
            store
                .create_room(
                    doc(json!({
                        "_id": "GENERAL", "t": "c", "name": "general", "default": true, "usernames": [],
                        "msgs": 0, "usersCount": 0, "ts": now, "_updatedAt": now,
                        "u": {"_id": "rocket.cat", "username": "rocket.cat", "name": "Rocket.Cat"},
                    })),
                    vec![],
                )
                .await?;
            tracing::info!("created room #general");
        }
        state.settings.set(store, "Initial_Channel_Created", Value::Bool(true)).await?;
    }

    if let Some(pass) = state.config.admin_pass.clone().filter(|p| !p.is_empty()) {
        let admin_exists = store
            .users()
            .await?
            .iter()
            .any(|u| u.get("roles").and_then(Value::as_array).is_some_and(|r| r.iter().any(|x| x == "admin")));
        if !admin_exists {
            create_env_admin(state, pass).await?;
        }
    }

    if state.config.test_mode {
        const TEST_ADMIN: &str = "rocketchat.internal.admin.test";
        if store.user_by_id(TEST_ADMIN).await?.is_none() {
            create_user(
                state,
                NewUser {
                    id: Some(TEST_ADMIN.into()),
                    username: TEST_ADMIN.into(),
                    email: Some(format!("{TEST_ADMIN}@rocket.chat")),
                    name: "RocketChat Internal Admin Test".into(),
                    password: Some(TEST_ADMIN.into()),
                    roles: vec!["admin".into()],
                    verified: Some(true),
                    join_default_channels: true,
                    ..Default::default()
                },
            )
            .await?;
        }
    }
    Ok(())
}

async fn create_env_admin(state: &AppState, pass: String) -> ApiResult<()> {
    let store = state.store();
    let config = &state.config;
    let mut username = config.admin_username.clone().unwrap_or_default();
    if username.is_empty() || !valid_username(state, &username) || store.user_by_username(&username).await?.is_some() {
        if !username.is_empty() {
            tracing::warn!(%username, "ADMIN_USERNAME is invalid or taken; using \"admin\"");
        }
        username = "admin".into();
    }
    let email = match &config.admin_email {
        Some(e) if e.contains('@') && store.user_by_email(e).await?.is_none() => Some(e.clone()),
        Some(e) => {
            tracing::warn!(email = %e, "ADMIN_EMAIL is invalid or taken; ignored");
            None
        }
        None => None,
    };
    let name = config.admin_name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "Administrator".into());
    // The blocked-name rule does not apply to the administrator created from the environment.
    let result = create_user(
        state,
        NewUser {
            username: username.clone(),
            email,
            name,
            password: Some(pass),
            roles: vec!["admin".into()],
            verified: Some(std::env::var("ADMIN_EMAIL_VERIFIED").as_deref() == Ok("true")),
            join_default_channels: true,
            system: true,
            ..Default::default()
        },
    )
    .await;
    match result {
        Ok(user) => {
            tracing::info!(username = str_of(&user, "username"), "created administrator from ADMIN_*");
            Ok(())
        }
        Err(ApiError::Failure { error, .. }) => {
            tracing::error!(%error, "could not create the administrator from ADMIN_*");
            Ok(())
        }
        Err(e) => Err(e),
    }
}
