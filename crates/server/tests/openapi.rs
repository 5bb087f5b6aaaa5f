//! The OpenAPI document at `/api/docs/json`: it lists every served route, and schemathesis
//! (from PyPI, in a virtualenv under the target directory) finds no server error and no answer
//! the document does not describe.

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

async fn document(server: &Server) -> Value {
    let resp = reqwest::get(format!("{}/api/docs/json", server.url)).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    resp.json().await.unwrap()
}

#[tokio::test]
async fn document_describes_the_api() {
    let server = Server::start();
    let doc = document(&server).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["userId"], serde_json::json!({"type": "apiKey", "in": "header", "name": "X-User-Id"}));
    assert_eq!(schemes["authToken"], serde_json::json!({"type": "apiKey", "in": "header", "name": "X-Auth-Token"}));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/login",
        "/api/v1/channels.create",
        "/api/v1/dm.messages.others",
        "/api/v1/integrations.update",
        "/api/v1/settings/{id}",
        "/api/info",
        "/hooks/{integrationId}/{token}",
        "/hooks/sample/{integrationId}/{token}",
        "/livez",
        "/readyz",
        "/api/docs/json",
    ] {
        assert!(paths.contains_key(path), "{path} is missing");
    }
    let create = &paths["/api/v1/channels.create"]["post"];
    assert_eq!(create["tags"], serde_json::json!(["channels"]));
    assert_eq!(create["security"], serde_json::json!([{"userId": [], "authToken": []}]));
    for status in ["200", "400", "401", "403", "404", "413", "429", "503"] {
        assert!(create["responses"].get(status).is_some(), "channels.create lacks {status}");
    }
    assert_eq!(create["responses"]["401"]["$ref"], "#/components/responses/Unauthorized");
    assert!(paths["/api/v1/login"]["post"].get("security").is_none(), "login needs no token");
    assert!(
        paths["/api/v1/settings/{id}"].get("get").is_some() && paths["/api/v1/settings/{id}"].get("post").is_some()
    );
    let update = &paths["/api/v1/integrations.update"]["put"]["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(update["oneOf"].as_array().map(Vec::len), Some(2), "the validator's two branches");

    // Every documented operation is served: none falls through to the router's fallback.
    let client = server.client();
    for (path, item) in paths {
        if path.contains('{') {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let resp = client.http.request(method.clone(), format!("{}{path}", server.url)).send().await.unwrap();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            assert_ne!(body["error"], "Resource not found", "{method} {path} is documented but not served");
        }
    }
}

/// Axum registrations that bypass the documented router: `.route("/x", ...)` (the documented
/// router's own `route` takes the methods first), `route_service`, `nest_service`.
fn bare_registrations(source: &str) -> Vec<String> {
    source
        .lines()
        .filter(|line| {
            let line = line.trim_start();
            !line.starts_with("//")
                && (line.contains(".route_service(")
                    || line.contains(".nest_service(")
                    || line.split(".route(").skip(1).any(|rest| !rest.trim_start().starts_with("&[")))
        })
        .map(str::to_owned)
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_route_goes_through_the_documented_router() {
    // Not part of the API: the admin page's files, the metrics listener on its own port, and
    // the documented router itself.
    let exempt = ["src/web/mod.rs", "src/observability/metrics/mod.rs", "src/api/docs/routes.rs"];
    let mut files = Vec::new();
    rust_files(&manifest_dir().join("src"), &mut files);
    assert!(files.len() > 20);
    let mut bare = Vec::new();
    for file in files {
        let relative = file.strip_prefix(manifest_dir()).unwrap().to_string_lossy().into_owned();
        if exempt.contains(&relative.as_str()) {
            continue;
        }
        let source = std::fs::read_to_string(&file).unwrap();
        bare.extend(bare_registrations(&source).into_iter().map(|line| format!("{relative}: {}", line.trim())));
    }
    assert!(bare.is_empty(), "routes registered outside api::docs::Routes, missing from the document:\n{bare:#?}");
    assert_eq!(bare_registrations(r#"    Router::new().route("/x", get(h))"#).len(), 1, "the scan sees a bare route");
    assert!(bare_registrations(r#"    .route(&[Method::Get], "/x", h)"#).is_empty());
}

/// A virtualenv with the pinned schemathesis, created once under the target directory.
fn schemathesis() -> Option<PathBuf> {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| manifest_dir().join("../../target"));
    let requirements = manifest_dir().join("tests/openapi/requirements.txt");
    Some(common::python::venv_with(&target.join("schemathesis-venv"), &requirements)?.join("bin/schemathesis"))
}

/// Operations left out because they end the run's own session: logging out revokes the token,
/// deleting users could delete the administrator.
const EXCLUDED: &[&str] = &["/api/v1/logout", "/api/v1/users.delete"];

#[tokio::test]
async fn schemathesis_finds_no_error_and_no_undocumented_answer() {
    let Some(program) = tokio::task::spawn_blocking(schemathesis).await.unwrap() else {
        assert!(std::env::var_os("CI").is_none(), "CI must be able to install schemathesis from PyPI");
        eprintln!("SKIPPED: python3 with venv/pip and PyPI access is needed to install schemathesis");
        return;
    };
    let server = Server::start_with(&[("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false"), ("TEST_MODE", "true")]);
    let admin = server.admin().await;
    let (user_id, token) = admin.auth.clone().unwrap();
    let reports = server.dir.path().join("schemathesis");
    let mut cmd = Command::new(program);
    cmd.arg("run")
        .arg(format!("{}/api/docs/json", server.url))
        .args(["--url", &server.url])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        ])
        .args(["--phases", "examples,fuzzing", "--max-examples", "15", "--seed", "1", "--workers", "2"])
        .args(["--header", &format!("X-User-Id: {user_id}"), "--header", &format!("X-Auth-Token: {token}")])
        .args(["--request-timeout", "20", "--no-color", "--report-dir"])
        .arg(&reports)
        .env("SCHEMATHESIS_HOOKS", "")
        .current_dir(server.dir.path());
    for path in EXCLUDED {
        cmd.args(["--exclude-path", path]);
    }
    let output = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "schemathesis found problems:\n{stdout}\n{stderr}");
    // The session survived the run: the operations that would end it were left out.
    let (status, me) = admin.get("me", &[]).await;
    assert_eq!(status, 200, "{me}");
}

/// What schemathesis found on PostgreSQL: a NUL character in an argument was a 500 there.
#[tokio::test]
async fn nul_characters_in_arguments_are_a_400_on_every_backend() {
    let server = Server::start();
    let admin = server.admin().await;
    let refused = |(status, body): (reqwest::StatusCode, Value)| {
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["errorType"], "error-invalid-params", "{body}");
    };
    refused(admin.get("groups.roles", &[("roomName", "a\0b")]).await);
    refused(admin.post("channels.join", serde_json::json!({"roomId": "x\u{0}"})).await);
    refused(admin.post_raw("channels.setTopic", "application/x-www-form-urlencoded", "roomId=%00").await);
    let (status, _) = admin.get("groups.roles", &[("roomName", "ab")]).await;
    assert_ne!(status, 500);
}
