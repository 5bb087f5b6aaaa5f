//! Black-box harness: starts the real `liftoff` binary on a free port with a fresh database and
//! talks to it over HTTP like any client.
#![allow(dead_code)]

pub mod migrate;
pub mod pg;
pub mod python;
pub mod receiver;

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const ADMIN_USER: &str = "admin";
pub const ADMIN_PASS: &str = "admin-pass";

pub struct Server {
    pub url: String,
    child: Option<Child>,
    pub dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    /// The server's own PostgreSQL database when `TEST_DATABASE_URL` is set.
    pg: Option<std::sync::Arc<pg::TestDatabase>>,
    /// Whether the server's log goes to [`Server::log`] rather than the test's stderr.
    log_to_file: bool,
    /// The database given to [`Server::start_on`], instead of one of the server's own.
    database: Option<String>,
}

impl Server {
    /// A server with an administrator and the REST rate limiter off.
    pub fn start() -> Self {
        Self::start_with(&[("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false")])
    }

    pub fn start_with(env: &[(&str, &str)]) -> Self {
        Self::start_new(env, false)
    }

    /// Like [`Server::start_with`], with the server's log kept for [`Server::log`].
    pub fn start_logging(env: &[(&str, &str)]) -> Self {
        Self::start_new(env, true)
    }

    fn start_new(env: &[(&str, &str)], log_to_file: bool) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let pg = pg::TestDatabase::create().map(std::sync::Arc::new);
        let mut server = Server { url: String::new(), child: None, dir, env, pg, log_to_file, database: None };
        server.spawn();
        server
    }

    /// A server on the database `database_url` names, whatever `TEST_DATABASE_URL` says.
    pub fn start_on(database_url: &str, env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let database = Some(database_url.to_owned());
        let mut server = Server { url: String::new(), child: None, dir, env, pg: None, log_to_file: false, database };
        server.spawn();
        server
    }

    /// What the server logged so far (servers started with [`Server::start_logging`]).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// What `DATABASE_URL` this server runs on.
    pub fn database_url(&self) -> String {
        match (&self.database, &self.pg) {
            (Some(url), _) => url.clone(),
            (None, Some(db)) => db.url.clone(),
            (None, None) => format!("sqlite://{}", self.dir.path().join("liftoff.db").display()),
        }
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url().starts_with("sqlite:")
    }

    /// The SQLite file (meaningful only when [`Server::is_sqlite`]).
    pub fn db_path(&self) -> PathBuf {
        match self.database.as_deref().and_then(|u| u.strip_prefix("sqlite://")) {
            Some(path) => PathBuf::from(path),
            None => self.dir.path().join("liftoff.db"),
        }
    }

    fn spawn(&mut self) {
        let child = self.launch();
        self.attach(child);
    }

    /// Starts the process without waiting for it to listen.
    fn launch(&self) -> Child {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_liftoff"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PORT", "0")
            .env("BIND_IP", "127.0.0.1")
            .env("DATABASE_URL", self.database_url())
            .env("ADMIN_USERNAME", ADMIN_USER)
            .env("ADMIN_PASS", ADMIN_PASS)
            .env("ADMIN_EMAIL", "admin@example.com")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(if self.log_to_file {
                let log = std::fs::OpenOptions::new().create(true).append(true).open(self.log_path());
                Stdio::from(log.expect("server log file"))
            } else {
                Stdio::inherit()
            });
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.spawn().expect("start liftoff")
    }

    /// Waits for the process's listening line.
    fn attach(&mut self, mut child: Child) {
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read the listening line");
        let url = line.trim().strip_prefix("liftoff listening on ").expect("listening line").to_owned();
        self.url = url;
        self.child = Some(child);
    }

    /// `n` nodes started at the same moment on one fresh PostgreSQL database; `None` when
    /// `TEST_DATABASE_URL` is unset.
    pub fn start_nodes(n: usize, env: &[(&str, &str)]) -> Option<Vec<Server>> {
        let pg = std::sync::Arc::new(pg::TestDatabase::create()?);
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut nodes: Vec<Server> = (0..n)
            .map(|_| Server {
                url: String::new(),
                child: None,
                dir: tempfile::tempdir().expect("temp dir"),
                env: env.clone(),
                pg: Some(pg.clone()),
                log_to_file: false,
                database: None,
            })
            .collect();
        let children: Vec<Child> = nodes.iter().map(Server::launch).collect();
        for (node, child) in nodes.iter_mut().zip(children) {
            node.attach(child);
        }
        Some(nodes)
    }

    /// SIGKILL: no graceful shutdown, nothing flushed beyond what was committed.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("kill");
            c.wait().expect("wait");
        }
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("running");
        unsafe_sigterm(c.id());
        c.wait().expect("wait")
    }

    pub fn restart(&mut self) {
        if self.child.is_some() {
            self.stop();
        }
        self.spawn();
    }

    pub fn restart_after_kill(&mut self) {
        self.kill9();
        self.spawn();
    }

    pub fn client(&self) -> Client {
        Client::new(&self.url)
    }

    pub async fn admin(&self) -> Client {
        self.client().login(ADMIN_USER, ADMIN_PASS).await
    }

    /// Creates a user (as admin) and returns a client logged in as that user.
    pub async fn user(&self, username: &str) -> Client {
        let admin = self.admin().await;
        let (status, body) = admin
            .post(
                "users.create",
                json!({"username": username, "email": format!("{username}@example.com"), "name": username, "password": "pw-123"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        self.client().login(username, "pw-123").await
    }
}

fn unsafe_sigterm(pid: u32) {
    let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    pub auth: Option<(String, String)>,
}

impl Client {
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        Client { base: base.to_owned(), http, auth: None }
    }

    pub fn user_id(&self) -> &str {
        &self.auth.as_ref().expect("logged in").0
    }

    pub async fn login(mut self, user: &str, password: &str) -> Self {
        let (status, body) = self.post("login", json!({"user": user, "password": password})).await;
        assert_eq!(status, 200, "login failed: {body}");
        self.auth = Some((
            body["data"]["userId"].as_str().unwrap().to_owned(),
            body["data"]["authToken"].as_str().unwrap().to_owned(),
        ));
        self
    }

    fn with_auth(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.auth {
            Some((id, token)) => req.header("X-User-Id", id).header("X-Auth-Token", token),
            None => req,
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with('/') { format!("{}{}", self.base, path) } else { format!("{}/api/v1/{}", self.base, path) }
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let resp = self.with_auth(req).send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> (StatusCode, Value) {
        self.send(self.http.get(self.url(path)).query(query)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.post(self.url(path)).json(&body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.put(self.url(path)).json(&body)).await
    }

    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        self.send(self.http.post(self.url(path)).header("content-type", content_type).body(body)).await
    }
}

/// Asserts a 400 Rocket.Chat failure with this `error` (and `errorType` when given).
#[track_caller]
pub fn assert_failure(result: &(StatusCode, Value), error: &str, error_type: Option<&str>) {
    let (status, body) = result;
    assert_eq!(*status, 400, "{body}");
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["error"], error, "{body}");
    match error_type {
        Some(t) => assert_eq!(body["errorType"], t, "{body}"),
        None => assert!(body.get("errorType").is_none(), "{body}"),
    }
}
