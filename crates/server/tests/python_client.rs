//! The `rocketchat_API` package from PyPI, driven against the real binary
//! (`clients/python/rocketchat_api_client.py`). The client is installed into a virtualenv under
//! `target/`; where Python or PyPI cannot be reached the test says so and skips.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// A virtualenv with the pinned client, created once and reused.
fn client_python() -> Option<PathBuf> {
    let root = repo_root();
    let requirements = root.join("clients/python/requirements.txt");
    Some(common::python::venv_with(&root.join("target/python-client-venv"), &requirements)?.join("bin/python"))
}

#[tokio::test]
async fn rocketchat_api_client_from_pypi() {
    let Some(python) = tokio::task::spawn_blocking(client_python).await.unwrap() else {
        eprintln!("SKIPPED: python3 with pip and PyPI access is needed to install rocketchat-API");
        return;
    };
    let server = Server::start();
    let script = repo_root().join("clients/python/rocketchat_api_client.py");
    let url = server.url.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python).arg(script).args([&url, ADMIN_USER, ADMIN_PASS]).output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "client failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("all checks passed"), "{stdout}");
}
