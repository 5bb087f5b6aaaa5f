//! Python virtual environments for the tests that drive the server with Python tools.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A venv at `venv` with `requirements` installed, made once per content of that file (a stamp
/// file records it); `None` when python3, venv or PyPI are not available. Returns the venv.
pub fn venv_with(venv: &Path, requirements: &Path) -> Option<PathBuf> {
    let stamp = venv.join(".installed");
    let wanted = std::fs::read_to_string(requirements).ok()?;
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Some(venv.to_owned());
    }
    let made = Command::new("python3").args(["-m", "venv"]).arg(venv).status().ok()?.success();
    let installed = made
        && Command::new(venv.join("bin/python"))
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(requirements)
            .status()
            .ok()?
            .success();
    if !installed {
        return None;
    }
    std::fs::write(&stamp, wanted).ok()?;
    Some(venv.to_owned())
}
