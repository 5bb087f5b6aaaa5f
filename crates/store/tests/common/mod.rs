//! A fresh PostgreSQL database per test, when `TEST_DATABASE_URL` names a server.

use std::sync::Arc;
use store::postgres::PgStore;
use store::prelude::*;

/// A database made for one test; dropped by [`FreshDatabase::drop_database`].
pub struct FreshDatabase {
    pub store: Arc<PgStore>,
    admin: tokio_postgres::Client,
    admin_task: tokio::task::JoinHandle<Result<(), tokio_postgres::Error>>,
    name: String,
}

/// A store on a new database named after `prefix`, or `None` (and a line saying the test was
/// skipped) when `TEST_DATABASE_URL` is not set.
pub async fn fresh_database(prefix: &str) -> Option<FreshDatabase> {
    let Some(admin_url) = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("TEST_DATABASE_URL is not set: skipping the PostgreSQL {prefix} test");
        return None;
    };
    let name = format!("liftoff_{prefix}_{}", store::ids::random_id(12).to_lowercase());
    let (admin, conn) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls).await.unwrap();
    let admin_task = tokio::spawn(conn);
    admin.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    let slash = admin_url.rfind('/').unwrap();
    let store = PgStore::connect(&format!("{}/{name}", &admin_url[..slash])).await.unwrap();
    Some(FreshDatabase { store: Arc::new(store), admin, admin_task, name })
}

impl FreshDatabase {
    /// Closes the store and drops its database.
    pub async fn drop_database(self) {
        self.store.close().await;
        drop(self.store);
        self.admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).await.unwrap();
        self.admin_task.abort();
    }
}
