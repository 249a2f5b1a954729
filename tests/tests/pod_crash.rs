//! What survives a pod's death: `kill -9` mid-turn loses nothing committed (the restarted
//! generation reads it back from the session log and shows it in its snapshot), a command
//! engine's command dies with its pod, and the session log on disk refuses corruption (naming
//! the file and offset) but recovers from a torn tail.

use std::path::{Path, PathBuf};

use podsup_tests::{
    Root, WAIT, alive, event_of, item_of, output_text, output_within, signal, wait_until,
};
use serde_json::{Value, json};

/// 40 characters, one every 50 ms on `slow`.
const LONG: &str = "the quick brown fox jumps over a lazy do";

/// An echo pod, a slow echo pod, a command pod that records its shell's pid in
/// `pid_file` and then sleeps, and a bystander pod.
fn tree(pid_file: &Path) -> String {
    format!(
        r#"
name = "crash"
strategy = "one_for_one"
max_restarts = 100
within = "10s"

[[child]]
name = "greeter"
kind = "pod"
engine = "echo"

[[child]]
name = "slow"
kind = "pod"
engine = "echo"
echo = {{ chunk_chars = 1, delay_ms = 50 }}

[[child]]
name = "sleeper"
kind = "pod"
engine = "command"
command = {{ argv = ["sh", "-c", "echo $$ > {pid_file}; sleep 30"], timeout = "none" }}

[[child]]
name = "bystander"
kind = "pod"
engine = "echo"
"#,
        pid_file = pid_file.display()
    )
}

/// A root running [`tree`], with the dir holding the command pod's pid file.
struct Setup {
    root: Root,
    pid_file: PathBuf,
    _scratch: tempfile::TempDir,
}

fn start() -> Setup {
    let scratch = tempfile::tempdir().expect("tempdir");
    let pid_file = scratch.path().join("command.pid");
    let root = Root::start(&tree(&pid_file));
    for pod in ["greeter", "slow", "sleeper", "bystander"] {
        root.wait_running(pod, 1);
    }
    Setup {
        root,
        pid_file,
        _scratch: scratch,
    }
}

fn ctl(root: &Root, args: &[&str]) -> std::process::Output {
    output_within(
        &mut podsup_tests::ctl_command(&root.runtime_dir(), args),
        WAIT,
    )
}

fn ctl_ok(root: &Root, args: &[&str]) -> String {
    let out = ctl(root, args);
    assert!(
        out.status.success(),
        "ctl {args:?} failed: {}\nlog:\n{}",
        output_text(&out),
        root.log()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn session_log(root: &Root, pod: &str) -> PathBuf {
    root.dir().join("state/pods").join(pod).join("session.log")
}

/// Byte offsets of the records in a session log (after the 8-byte header; each record is
/// a 12-byte header, the first 4 bytes the body length, then the body).
fn record_offsets(log: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut at = 8;
    while at + 12 <= log.len() {
        offsets.push(at);
        let len = u32::from_le_bytes(log[at..at + 4].try_into().expect("4 bytes")) as usize;
        at += 12 + len;
    }
    offsets
}

/// Live (non-zombie) processes in process group `pgid`, with their command lines.
fn group_members(pgid: u32) -> Vec<(u32, String)> {
    let mut members = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return members;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // After the parenthesised name: state, ppid, pgrp, …
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
        if fields.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(pgid) && alive(pid) {
            let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                .unwrap_or_default()
                .replace('\0', " ");
            members.push((pid, cmdline));
        }
    }
    members
}

/// Kills whatever is left of a process group when the test ends.
struct GroupGuard(u32);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        for (pid, _) in group_members(self.0) {
            signal(pid, libc::SIGKILL);
        }
    }
}

/// Stops `pod` and waits until it is down.
fn stop(root: &Root, pod: &str) {
    ctl_ok(root, &["stop", pod]);
    root.wait_state(pod, "stopped");
}

#[test]
fn kill_9_mid_turn_keeps_every_committed_entry_in_the_next_generation() {
    let Setup { root, .. } = start();
    ctl_ok(&root, &["send", "slow", "first"]);
    ctl_ok(&root, &["notify", "slow", "a note"]);
    wait_until(WAIT, || {
        root.entries("slow")
            .iter()
            .map(item_of)
            .any(|i| i == ("Assistant".into(), "a note".into()))
    });
    let mut send = root.ctl_stream(&["--json", "send", "slow", LONG]);
    send.wait_json("the turn streaming", |lines| {
        lines
            .iter()
            .filter_map(event_of)
            .filter(|(name, _)| *name == "TextDelta")
            .count()
            >= 3
    });
    let before = root.entries("slow");
    assert_eq!(
        before.last().map(item_of),
        Some(("User".to_owned(), LONG.to_owned())),
        "{before:#?}"
    );
    signal(root.pid_of("slow"), libc::SIGKILL);
    root.wait_running("slow", 2);
    // The sender hears that the pod died under it.
    let status = send.wait_exit(WAIT).expect("the send ends with its pod");
    assert!(!status.success(), "{}", send.text());
    assert!(send.text().contains("exited"), "{}", send.text());

    let after = root.entries("slow");
    assert!(
        after.len() >= before.len() && after[..before.len()] == before[..],
        "committed before the kill:\n{before:#?}\nafter the restart:\n{after:#?}"
    );
    let attach = root.ctl_stream(&["--json", "attach", "slow"]);
    attach.wait_json("the first event", |lines| !lines.is_empty());
    let first = attach.json_lines()[0].clone();
    assert_eq!(first["generation"], 2, "{first}");
    let Some(("Snapshot", snapshot)) = event_of(&first) else {
        panic!("attach did not start with a snapshot: {}", attach.text());
    };
    let entries = snapshot["entries"].as_array().expect("snapshot entries");
    assert!(
        entries.len() >= before.len() && entries[..before.len()] == before[..],
        "snapshot of generation 2:\n{entries:#?}\ncommitted before the kill:\n{before:#?}"
    );
}

#[test]
fn the_session_log_lives_in_the_state_dir_under_the_pods_name() {
    let Setup { root, .. } = start();
    ctl_ok(&root, &["send", "greeter", "remember me"]);
    let path = session_log(&root, "greeter");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(bytes.starts_with(b"PODSLOG1"), "{}", path.display());
    assert_eq!(record_offsets(&bytes).len(), 2, "{}", path.display());
}

#[test]
fn kill_9_of_a_command_pod_leaves_no_command_process_behind() {
    let Setup {
        root,
        pid_file,
        _scratch,
    } = start();
    ctl_ok(&root, &["send", "--no-wait", "sleeper", "go"]);
    let mut command_pid = None;
    let started = wait_until(WAIT, || {
        command_pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok());
        command_pid.is_some_and(alive)
    });
    assert!(started, "the command never ran; log:\n{}", root.log());
    let command_pid = command_pid.expect("command pid");
    // The command runs in its pod's process group, so the root's kill of that group (or
    // the guard's) takes it and everything it started along.
    let pgid = root.pid_of("sleeper");
    let _guard = GroupGuard(pgid);
    assert!(
        wait_until(WAIT, || group_members(pgid).len() >= 3),
        "the pod, its command and the command's sleep should share group {pgid}: {:?}",
        group_members(pgid)
    );

    signal(pgid, libc::SIGKILL);
    let pid_gone = wait_until(WAIT, || !alive(command_pid));
    assert!(pid_gone, "command pid {command_pid} outlived its pod");
    let mut left = Vec::new();
    let group_gone = wait_until(WAIT, || {
        left = group_members(pgid);
        left.is_empty()
    });
    assert!(
        group_gone,
        "processes of the pod's group {pgid} outlived it: {left:?}"
    );
}

#[test]
fn corruption_before_the_tail_keeps_the_pod_down_naming_the_file_and_offset() {
    let Setup { root, .. } = start();
    ctl_ok(&root, &["send", "greeter", "one"]);
    ctl_ok(&root, &["send", "greeter", "two"]);
    stop(&root, "greeter");
    let path = session_log(&root, "greeter");
    let mut bytes = std::fs::read(&path).expect("read session log");
    let offsets = record_offsets(&bytes);
    assert_eq!(offsets.len(), 4, "{offsets:?}");
    let damaged = offsets[1];
    bytes[damaged + 12 + 2] ^= 0xff;
    std::fs::write(&path, &bytes).expect("write session log");

    let out = ctl(&root, &["start", "greeter"]);
    assert!(!out.status.success(), "{}", output_text(&out));
    let last_exit = root
        .try_status()
        .and_then(|_| root.node("greeter").get("last_exit").cloned())
        .unwrap_or(Value::Null);
    let said = format!("{}\n{last_exit}\n{}", output_text(&out), root.log());
    assert!(
        said.contains(&path.display().to_string()) || said.contains("pods/greeter/session.log"),
        "nothing names the file {}:\n{said}",
        path.display()
    );
    assert!(
        said.contains(&format!("byte {damaged}")),
        "nothing names the offset {damaged}:\n{said}"
    );
    if root.try_status().is_some() {
        assert_ne!(root.node("greeter")["state"], "running");
    }
    // Nothing was cut: the records after the damage are still there for a human to rescue.
    assert_eq!(std::fs::read(&path).expect("read session log"), bytes);
}

#[test]
fn a_pod_refusing_its_corrupt_log_does_not_take_the_tree_down() {
    let Setup { root, .. } = start();
    ctl_ok(&root, &["send", "greeter", "one"]);
    ctl_ok(&root, &["send", "greeter", "two"]);
    stop(&root, "greeter");
    let path = session_log(&root, "greeter");
    let mut bytes = std::fs::read(&path).expect("read session log");
    let offsets = record_offsets(&bytes);
    bytes[offsets[1] + 12 + 2] ^= 0xff;
    std::fs::write(&path, &bytes).expect("write session log");

    let out = ctl(&root, &["start", "greeter"]);
    assert!(!out.status.success(), "{}", output_text(&out));
    // An operator's failed start is reported to the operator; the rest of the tree is
    // none of its business.
    let send = ctl(&root, &["send", "bystander", "still here?"]);
    assert!(
        send.status.success() && root.try_status().is_some(),
        "after a failed `ctl start greeter`, the tree is gone: send to bystander: {}\nlog:\n{}",
        output_text(&send),
        root.log()
    );
    assert_eq!(root.node("bystander")["generation"], 1);
    assert_ne!(root.node("greeter")["state"], "running");
}

#[test]
fn a_torn_tail_is_cut_and_the_pod_starts_with_the_entries_before_it() {
    let Setup { root, .. } = start();
    ctl_ok(&root, &["send", "greeter", "one"]);
    ctl_ok(&root, &["send", "greeter", "two"]);
    stop(&root, "greeter");
    let before = root.entries("greeter");
    assert_eq!(before.len(), 4, "{before:#?}");
    let path = session_log(&root, "greeter");
    let len = std::fs::metadata(&path).expect("session log").len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open session log");
    file.set_len(len - 3).expect("truncate");
    drop(file);

    ctl_ok(&root, &["start", "greeter"]);
    root.wait_state("greeter", "running");
    let after = root.entries("greeter");
    assert_eq!(
        after[..],
        before[..3],
        "entries after the torn tail was cut"
    );
    ctl_ok(&root, &["send", "greeter", "three"]);
    let now = root.entries("greeter");
    assert_eq!(now.len(), 5, "{now:#?}");
    assert_eq!(now[3]["seq"], 3);
    assert_eq!(now[3]["item"], json!({"User": {"text": "three"}}));
}

#[test]
fn cutting_a_torn_tail_leaves_a_warning_in_the_log() {
    let Setup { root, .. } = start();
    ctl_ok(&root, &["send", "greeter", "one"]);
    stop(&root, "greeter");
    let path = session_log(&root, "greeter");
    let len = std::fs::metadata(&path).expect("session log").len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open session log");
    file.set_len(len - 3).expect("truncate");
    drop(file);

    ctl_ok(&root, &["start", "greeter"]);
    root.wait_state("greeter", "running");
    // The cut is the only trace of lost data: an operator must be able to find it later.
    let warned = wait_until(WAIT, || root.log().contains("torn tail"));
    assert!(
        warned,
        "no warning about the torn tail of {} in the log:\n{}",
        path.display(),
        root.log()
    );
}
