//! `kill -9` of `podsup start`: no pod or process outlives it (the death signal), the
//! stale ctl socket it leaves does not stop a fresh root from starting on the same runtime
//! dir, and a runtime dir in use is refused to a second root.

use std::process::Command;
use std::time::Duration;

use podsup_tests::{
    Root, WAIT, alive, nodes, output_text, output_within, podsup_bin, signal, wait_until,
};

/// The bound the issue sets: every child gone within 2 s of the root's death.
const ORPHAN_BOUND: Duration = Duration::from_secs(2);

const TREE: &str = r#"
name = "root-kill"

[[child]]
name = "pod1"
kind = "pod"
engine = "echo"

[[child]]
name = "proc1"
kind = "process"
argv = ["sh", "-c", "while :; do sleep 0.05; done"]

[[child]]
name = "inner"
kind = "supervisor"
strategy = "one_for_all"
  [[child.child]]
  name = "pod2"
  kind = "pod"
  engine = "echo"
  [[child.child]]
  name = "proc2"
  kind = "process"
  argv = ["sh", "-c", "while :; do sleep 0.05; done"]

[[child]]
name = "pod3"
kind = "pod"
engine = "echo"
"#;

const LEAVES: [&str; 5] = ["pod1", "proc1", "pod2", "proc2", "pod3"];

/// Boots the tree, kills its root with SIGKILL and returns it with the children's pids.
fn start_and_kill_root() -> (Root, Vec<u32>) {
    let mut root = Root::start(TREE);
    let pids: Vec<u32> = LEAVES.iter().map(|n| root.wait_running(n, 1)).collect();
    let status = root.status();
    let reported = nodes(&status["root"])
        .iter()
        .filter(|n| n["pid"].is_u64())
        .count();
    assert_eq!(
        reported,
        LEAVES.len() + 1,
        "root and every leaf have a pid: {status:#}"
    );
    for &pid in &pids {
        assert!(alive(pid), "{pid} not alive before the kill");
    }
    signal(root.pid(), libc::SIGKILL);
    root.wait_exit(WAIT).expect("podsup start dies of SIGKILL");
    (root, pids)
}

#[test]
fn kill_9_of_the_root_leaves_no_child_alive_within_2s() {
    let (root, pids) = start_and_kill_root();
    let gone = wait_until(ORPHAN_BOUND, || pids.iter().all(|&p| !alive(p)));
    let survivors: Vec<u32> = pids.iter().copied().filter(|&p| alive(p)).collect();
    assert!(
        gone,
        "still alive {ORPHAN_BOUND:?} after the root died: {survivors:?}; log:\n{}",
        root.log()
    );
}

#[test]
fn ctl_against_the_stale_socket_of_a_killed_root_says_it_is_not_answering() {
    let (root, _) = start_and_kill_root();
    let out = root.ctl(&["status"]);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("not answering"), "{msg}");
}

#[test]
fn fresh_root_starts_on_the_runtime_dir_of_a_killed_one() {
    let (mut root, pids) = start_and_kill_root();
    let socket = root.runtime_dir().join("ctl.sock");
    assert!(socket.exists(), "SIGKILL left no stale socket to test with");
    assert!(wait_until(WAIT, || pids.iter().all(|&p| !alive(p))));
    root.start_again();
    for name in LEAVES {
        let pid = root.wait_running(name, 1);
        assert!(!pids.contains(&pid), "{name} kept its old pid {pid}");
    }
    assert!(
        root.log().contains("removed stale ctl socket"),
        "log:\n{}",
        root.log()
    );
}

/// Kills a pid that is not a group leader (so [`Root`]'s drop would spare it) at the end.
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if alive(self.0) {
            signal(self.0, libc::SIGKILL);
        }
    }
}

#[test]
fn kill_9_of_the_root_leaves_no_member_of_a_process_group_alive_within_2s() {
    // A plain process whose real work runs in a subprocess, as with most shell wrappers.
    let tree = r#"
name = "root-kill-group"

[[child]]
name = "wrapper"
kind = "process"
cwd = "."
argv = ["sh", "-c", "sleep 1000 & echo $! > worker.pid; wait"]
"#;
    let mut root = Root::start(tree);
    let wrapper = root.wait_running("wrapper", 1);
    let pid_file = root.dir().join("worker.pid");
    let mut worker = None;
    let found = wait_until(WAIT, || {
        worker = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok());
        worker.is_some()
    });
    assert!(found, "wrapper never wrote its worker's pid");
    let worker = KillOnDrop(worker.expect("worker pid"));
    assert!(alive(worker.0), "worker {} not running", worker.0);
    // SAFETY: getpgid(2) on a pid.
    let group = unsafe { libc::getpgid(worker.0 as libc::pid_t) };
    assert_eq!(
        group, wrapper as libc::pid_t,
        "the worker is in the wrapper's process group"
    );

    signal(root.pid(), libc::SIGKILL);
    root.wait_exit(WAIT).expect("podsup start dies of SIGKILL");
    let gone = wait_until(ORPHAN_BOUND, || !alive(wrapper) && !alive(worker.0));
    assert!(
        gone,
        "{ORPHAN_BOUND:?} after the root died: wrapper (pid {wrapper}) alive: {}, its worker \
         (pid {}, same process group) alive: {}",
        alive(wrapper),
        worker.0,
        alive(worker.0)
    );
}

#[test]
fn second_root_on_a_runtime_dir_in_use_exits_1() {
    let root = Root::start(TREE);
    let mut second = Command::new(podsup_bin());
    second
        .arg("start")
        .arg(root.dir().join("tree.toml"))
        .arg("--runtime-dir")
        .arg(root.runtime_dir())
        .arg("--state-dir")
        .arg(root.dir().join("state2"));
    let out = output_within(&mut second, WAIT);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("another podsup"), "{msg}");
    assert!(
        msg.contains(&root.pid().to_string()),
        "names the running root's pid: {msg}"
    );
    assert!(
        msg.contains(&root.runtime_dir().display().to_string()),
        "names the dir: {msg}"
    );
    // The first root is unharmed and still owns its socket.
    assert_eq!(root.status()["root"]["pid"], root.pid());
}
