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
    let venv = root.join("target/python-client-venv");
    let python = venv.join("bin/python");
    let requirements = root.join("clients/python/requirements.txt");
    let stamp = venv.join(".installed");
    let wanted = std::fs::read_to_string(&requirements).ok()?;
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Some(python);
    }
    let made = Command::new("python3").args(["-m", "venv"]).arg(&venv).status().ok()?.success();
    let installed = made
        && Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&requirements)
            .status()
            .ok()?
            .success();
    if !installed {
        return None;
    }
    std::fs::write(&stamp, wanted).ok()?;
    Some(python)
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
