//! A fresh PostgreSQL database per test server when `TEST_DATABASE_URL` is set: created with a
//! random name next to the database the URL names, dropped when the last server using it ends.

use postgres::{Client, NoTls};

pub struct TestDatabase {
    /// The URL of the fresh database.
    pub url: String,
    admin_url: String,
    name: String,
}

/// Runs a statement on the database `url` names. The sync client starts its own runtime,
/// so it runs on a thread of its own (tests call this from inside tokio).
fn run(url: &str, sql: String) -> Result<(), String> {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let mut client = Client::connect(&url, NoTls).map_err(|e| e.to_string())?;
        client.batch_execute(&sql).map_err(|e| e.to_string())
    })
    .join()
    .map_err(|_| "the PostgreSQL client thread panicked".to_string())?
}

impl TestDatabase {
    /// `None` when `TEST_DATABASE_URL` is unset (tests then run on SQLite).
    pub fn create() -> Option<Self> {
        let admin_url = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())?;
        let name = format!("liftoff_test_{}", random_suffix());
        run(&admin_url, format!("CREATE DATABASE {name}")).expect("create the test database");
        let url = match admin_url.rfind('/') {
            Some(slash) if admin_url[..slash].contains("://") && !admin_url[..slash].ends_with('/') => {
                let query = admin_url[slash..].find('?').map(|q| &admin_url[slash + q..]).unwrap_or("");
                format!("{}/{name}{query}", &admin_url[..slash])
            }
            _ => panic!("TEST_DATABASE_URL must name a database: postgres://user@host:port/dbname"),
        };
        Some(Self { url, admin_url, name })
    }
}

fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Err(e) = run(&self.admin_url, format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)) {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}
