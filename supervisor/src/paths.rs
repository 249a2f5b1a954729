//! Where the root keeps its sockets and its state.
//!
//! Order of precedence: the command-line flag, then `PODSUP_RUNTIME_DIR` (runtime only),
//! then systemd's `RUNTIME_DIRECTORY` / `STATE_DIRECTORY`, then a default that depends on
//! whether we run as root (`/run/podsup`, `/var/lib/podsup`) or as a user
//! (`$XDG_RUNTIME_DIR/podsup` or `/tmp/podsup-$UID`, `$XDG_STATE_HOME/podsup` or
//! `~/.local/state/podsup`).

use std::path::{Path, PathBuf};

/// File name of the ctl socket in the runtime dir.
pub const CTL_SOCKET: &str = "ctl.sock";
/// File name of the pid file in the runtime dir.
pub const PID_FILE: &str = "podsup.pid";

fn env_path(key: &str) -> Option<PathBuf> {
    std::env::var_os(key)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// systemd may pass several `:`-separated directories; the first is ours.
fn systemd_dir(key: &str) -> Option<PathBuf> {
    let value = std::env::var(key).ok()?;
    value
        .split(':')
        .next()
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// The runtime dir: flag, `PODSUP_RUNTIME_DIR`, `RUNTIME_DIRECTORY`, default.
pub fn runtime_dir(flag: Option<&Path>) -> PathBuf {
    if let Some(dir) = flag {
        return dir.to_owned();
    }
    if let Some(dir) = env_path("PODSUP_RUNTIME_DIR").or_else(|| systemd_dir("RUNTIME_DIRECTORY")) {
        return dir;
    }
    if is_root() {
        return PathBuf::from("/run/podsup");
    }
    match env_path("XDG_RUNTIME_DIR") {
        Some(xdg) => xdg.join("podsup"),
        None => PathBuf::from(format!("/tmp/podsup-{}", nix::unistd::getuid())),
    }
}

/// The state dir: flag, `PODSUP_STATE_DIR`, `STATE_DIRECTORY`, default.
pub fn state_dir(flag: Option<&Path>) -> PathBuf {
    if let Some(dir) = flag {
        return dir.to_owned();
    }
    if let Some(dir) = env_path("PODSUP_STATE_DIR").or_else(|| systemd_dir("STATE_DIRECTORY")) {
        return dir;
    }
    if is_root() {
        return PathBuf::from("/var/lib/podsup");
    }
    if let Some(xdg) = env_path("XDG_STATE_HOME") {
        return xdg.join("podsup");
    }
    match env_path("HOME") {
        Some(home) => home.join(".local/state/podsup"),
        None => PathBuf::from(format!("/tmp/podsup-state-{}", nix::unistd::getuid())),
    }
}

/// Creates `dir` (and parents) with mode 0700 for the leaf.
pub fn ensure_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let meta = std::fs::metadata(dir)?;
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Where pod `name` keeps its state below `base` (the state or runtime dir): `pods/NAME`,
/// with the `/` of a spawned pod's name (`coder/tests`) written as `+`, so no pod's
/// directory is inside another's.
pub fn pod_dir(base: &Path, name: &str) -> PathBuf {
    base.join("pods").join(name.replace('/', "+"))
}
