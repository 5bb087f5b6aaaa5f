//! Liftoff: a Rocket.Chat-compatible integrations server.
//!
//! Requests flow one way: HTTP → extractors (auth, arguments) → handler (`api`) → workspace
//! logic (`domain`) → `store` → Rocket.Chat response envelope (`error`).

pub mod api;
pub mod auth;
pub mod bootstrap;
pub mod coherence;
pub mod config;
pub mod domain;
pub mod error;
pub mod hooks;
pub mod http;
pub mod integration_cache;
pub mod migrate_data;
pub mod observability;
pub mod outbound_http;
pub mod outgoing;
pub mod permissions;
pub mod ratelimit;
pub mod scripts;
pub mod settings;
pub mod state;
pub mod supervisor;
pub mod web;

use crate::config::Config;
use crate::state::{AppState, Inner};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use std::net::SocketAddr;
use std::sync::Arc;
use store::Store;
use store::migrate::Transfer;
use store::postgres::PgStore;
use store::sqlite::SqliteStore;
use tokio::net::TcpListener;

/// Largest request body accepted (Rocket.Chat's default is 100 MB for uploads; webhook and
/// REST payloads are far smaller).
const BODY_LIMIT: usize = 10 * 1024 * 1024;

/// Opens the database named by `DATABASE_URL`: `sqlite://<path>` or
/// `postgres://user[:password]@host[:port]/dbname` (also `postgresql://`).
pub async fn open_store(url: &str) -> Result<Arc<dyn Store>, String> {
    open_transfer(url).await.map(|store| store as Arc<dyn Store>)
}

/// Opens a database as [`open_store`] does, with its raw records exposed for copying.
pub async fn open_transfer(url: &str) -> Result<Arc<dyn Transfer>, String> {
    if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        let store = SqliteStore::open(std::path::Path::new(path)).map_err(|e| e.to_string())?;
        Ok(Arc::new(store))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = PgStore::connect(url).await.map_err(|e| format!("cannot open {}: {e}", redact(url)))?;
        Ok(Arc::new(store))
    } else {
        Err(format!("unsupported DATABASE_URL {:?}: expected sqlite://<path> or postgres://...", redact(url)))
    }
}

/// The URL without its password, for messages.
pub(crate) fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

pub fn app(state: AppState) -> Router {
    let documented = api::routes(state.clone()).merge(hooks::routes()).merge(observability::probes::routes());
    api::docs::with_document(documented)
        .merge(web::routes())
        // A route layer skips the fallback: it is counted through its own layer.
        .fallback(api::not_found.layer(axum::middleware::from_fn(observability::metrics::layer)))
        .method_not_allowed_fallback(api::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .route_layer(axum::middleware::from_fn(observability::metrics::layer))
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(observability::http_span::make_span))
        .layer(axum::middleware::from_fn(observability::request_id::layer))
        .with_state(state)
}

/// Builds the state (settings, permissions, first-start data) over an open store.
pub async fn build_state(config: Config, store: Arc<dyn Store>, port: u16) -> Result<AppState, String> {
    let settings = settings::Settings::load(&*store).await.map_err(|e| e.to_string())?;
    let permissions = permissions::Permissions::load(&*store).await.map_err(|e| e.to_string())?;
    let root_url = config.root_url(port);
    let limits = script::Limits {
        timeout: std::time::Duration::from_millis(settings.int("Integrations_Script_Timeout").max(1) as u64),
        memory_bytes: (settings.int("Integrations_Script_Memory_Limit_MB").max(1) as usize) * 1024 * 1024,
        max_fetches: settings.int("Integrations_Script_Max_Fetches").clamp(0, u32::MAX as i64) as u32,
        max_fetch_bytes: settings.int("Integrations_Script_Max_Fetch_Bytes").max(0) as usize,
        max_concurrent_fetches: settings.int("Integrations_Script_Max_Concurrent_Fetches").max(1) as usize,
        ..Default::default()
    };
    let script_policy = scripts::ScriptPolicy::from_env();
    let scripts =
        if script_policy.disabled { script::ScriptHost::disabled(limits) } else { script::ScriptHost::new(limits) };
    let state = AppState::new(Inner {
        store,
        settings,
        permissions,
        config,
        root_url: root_url.clone(),
        rate_limiter: Default::default(),
        scripts,
        script_policy,
        integrations: Default::default(),
        outgoing: outgoing::engine::Outgoing::new(root_url.clone()),
        hook_plans: Default::default(),
    });
    let lease = state.settings.int("Integrations_Outgoing_Claim_Lease");
    let timeout = state.settings.int("Integrations_Outgoing_Timeout");
    if lease <= timeout {
        return Err(format!(
            "Integrations_Outgoing_Claim_Lease ({lease} ms) must exceed Integrations_Outgoing_Timeout ({timeout} ms)"
        ));
    }
    state.store.set_claim_lease(lease);
    state.store.set_commit_observer(Arc::new(observability::metrics::store_committed));
    state.scripts.set_fetcher(Arc::new(scripts::fetch::HostFetcher::new(&state)));
    bootstrap::run(&state).await.map_err(|e| format!("first-start setup failed: {e:?}"))?;
    Ok(state)
}

/// Serves until SIGINT/SIGTERM, lets in-flight requests finish, then closes the database.
pub async fn serve(config: Config) -> Result<(), String> {
    let store = open_store(&config.database_url).await?;
    let addr: SocketAddr =
        format!("{}:{}", config.bind_ip, config.port).parse().map_err(|e| format!("invalid BIND_IP/PORT: {e}"))?;
    let listener = TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let state = build_state(config, store.clone(), local.port()).await?;
    outgoing::dispatch::start(&state);
    coherence::start(&state);
    if state.settings.bool("Prometheus_Enabled") {
        let port = u16::try_from(state.settings.int("Prometheus_Port")).map_err(|_| "invalid Prometheus_Port")?;
        observability::metrics::start(&state.config.bind_ip, port, state.store.clone()).await?;
    }
    tracing::info!(address = %local, root_url = %state.root_url, "liftoff listening");
    // A line for scripts and tests that start the binary with PORT=0.
    println!("liftoff listening on http://{local}");
    axum::serve(listener, app(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!("HTTP server stopped; closing the database");
    store.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    observability::begin_shutdown();
    tracing::info!("shutdown requested");
}
