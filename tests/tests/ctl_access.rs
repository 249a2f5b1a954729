//! Who may use the ctl socket and how `ctl` finds it: the runtime dir and socket modes,
//! `PODSUP_RUNTIME_DIR`, a `ctl` with no root to talk to, and other users refused by the
//! socket's file mode and by SO_PEERCRED.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::Command;

use podsup_tests::ctl_trees::all_tree;
use podsup_tests::{Root, WAIT, ctl_command, output_text, output_within, podsup_bin, stderr_text};
use serde_json::Value;

#[test]
fn ctl_without_a_running_podsup_exits_1_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = output_within(&mut ctl_command(dir.path(), &["status"]), WAIT);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    let msg = stderr_text(&out);
    assert!(msg.contains("no podsup is running"), "{msg}");
    assert!(
        msg.contains(&dir.path().display().to_string()),
        "names the dir: {msg}"
    );
}

#[test]
fn runtime_dir_is_0700_and_socket_0600() {
    let root = Root::start(&all_tree());
    let dir_mode = std::fs::metadata(root.runtime_dir())
        .expect("runtime dir")
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o777, 0o700, "runtime dir mode {dir_mode:o}");
    let sock = root.runtime_dir().join("ctl.sock");
    let sock_mode = std::fs::metadata(&sock)
        .expect("socket")
        .permissions()
        .mode();
    assert_eq!(sock_mode & 0o777, 0o600, "socket mode {sock_mode:o}");
}

#[test]
fn podsup_runtime_dir_env_selects_the_root() {
    let root = Root::start(&all_tree());
    let out = output_within(
        Command::new(podsup_bin())
            .args(["ctl", "status", "--json"])
            .env("PODSUP_RUNTIME_DIR", root.runtime_dir())
            .env_remove("RUNTIME_DIRECTORY"),
        WAIT,
    );
    assert!(out.status.success(), "{}", output_text(&out));
    let status: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(status["tree"], "ctl-all");
    assert_eq!(status["root"]["pid"], root.pid());
}

/// `podsup ctl status` as uid/gid 65534 (nobody).
fn ctl_as_nobody(root: &Root) -> std::process::Output {
    let mut cmd = ctl_command(&root.runtime_dir(), &["status"]);
    cmd.uid(65534).gid(65534).current_dir("/");
    output_within(&mut cmd, WAIT)
}

fn chmod(path: &std::path::Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

/// Whether this test can switch users; prints why it skips if not.
fn running_as_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        println!("skipped: needs root");
    }
    root
}

/// A root whose socket nobody can reach: only the socket's own mode stands in the way.
fn root_with_reachable_socket() -> Root {
    let root = Root::start(&all_tree());
    chmod(root.dir(), 0o755);
    chmod(&root.runtime_dir(), 0o755);
    root
}

#[test]
fn other_users_are_refused_by_the_socket_file_mode() {
    if !running_as_root() {
        return;
    }
    let root = root_with_reachable_socket();
    let sock = root.runtime_dir().join("ctl.sock");
    let out = ctl_as_nobody(&root);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    let msg = stderr_text(&out);
    assert!(msg.contains("permission denied"), "{msg}");
    assert!(
        msg.contains(&sock.display().to_string()),
        "names the socket: {msg}"
    );
}

#[test]
fn other_users_are_refused_by_peer_credentials() {
    if !running_as_root() {
        return;
    }
    let root = root_with_reachable_socket();
    chmod(&root.runtime_dir().join("ctl.sock"), 0o666);
    // Every attempt must get the refusal, not just the lucky ones: the client writes its
    // request while the root answers, so a race between the two would show here.
    for attempt in 1..=10 {
        let out = ctl_as_nobody(&root);
        assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
        let msg = stderr_text(&out);
        assert!(
            msg.contains("uid 65534") && msg.contains("may not control"),
            "attempt {attempt}: {msg}"
        );
        assert!(
            out.stdout.is_empty(),
            "refused peer got an answer: {}",
            output_text(&out)
        );
    }
    // The refusals did not disturb the root.
    assert_eq!(root.status()["root"]["state"], "running");
}
