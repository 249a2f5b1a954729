//! Privileges and limits end to end: rlimits and the user a child runs as, seen in
//! `/proc`; the memory ceiling killing and restarting a child; the refusals of a root
//! that cannot drop privileges; and the config errors of the new keys.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

use nix::unistd::User;
use podsup_tests::{
    Root, WAIT, output_text, output_within, podsup_bin, proc_ids, proc_limit, wait_node, wait_until,
};

/// Whether the tests run as root; privilege drops need it.
fn is_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn nobody() -> User {
    User::from_name("nobody")
        .expect("passwd readable")
        .expect("a user called nobody")
}

#[test]
fn rlimits_are_set_in_a_process_child() {
    let root = Root::start(
        r#"
name = "limits"

[[child]]
name = "capped"
kind = "process"
argv = ["sleep", "1000"]
limits = { nofile = 123, nproc = 456, as = "1GiB" }
"#,
    );
    let pid = root.wait_running("capped", 1);
    let both = |n: &str| Some((n.to_owned(), n.to_owned()));
    assert_eq!(proc_limit(pid, "Max open files"), both("123"));
    assert_eq!(proc_limit(pid, "Max processes"), both("456"));
    assert_eq!(proc_limit(pid, "Max address space"), both("1073741824"));
}

#[test]
fn a_process_child_runs_as_its_user_with_the_death_signal_still_armed() {
    if !is_root() {
        println!("skipped: needs root");
        return;
    }
    let nobody = nobody();
    // The child prints its own death signal (PR_GET_PDEATHSIG = 2): credential changes
    // clear it, so it is only 9 if it was armed after the user changed. The system's
    // python, since the one first in PATH may be below a directory only root can read.
    let root = Root::start(
        r#"
name = "drop"

[[child]]
name = "dropped"
kind = "process"
user = "nobody"
argv = ["/usr/bin/python3", "-c", """
import ctypes, sys, time
sig = ctypes.c_int(-1)
ctypes.CDLL(None).prctl(2, ctypes.byref(sig))
print('pdeathsig', sig.value, flush=True)
time.sleep(1000)
"""]
"#,
    );
    let pid = root.wait_running("dropped", 1);
    let (uid, gid) = (nobody.uid.as_raw(), nobody.gid.as_raw());
    assert_eq!(proc_ids(pid, "Uid:"), [uid; 4]);
    assert_eq!(proc_ids(pid, "Gid:"), [gid; 4]);
    assert_eq!(proc_ids(pid, "Groups:"), [gid]);
    let mut output = String::new();
    let printed = wait_until(WAIT, || {
        output = output_text(&root.ctl(&["logs", "dropped", "--output"]));
        output.contains("pdeathsig")
    });
    assert!(printed, "no output: {output}\nlog:\n{}", root.log());
    assert!(output.contains("pdeathsig 9"), "{output}");
}

#[test]
fn a_pod_runs_as_its_user_and_becomes_ready() {
    if !is_root() {
        println!("skipped: needs root");
        return;
    }
    let nobody = nobody();
    let root = Root::start_searchable(
        r#"
name = "drop-pod"

[[child]]
name = "worker"
kind = "pod"
user = "nobody"
"#,
    );
    let pid = root.wait_running("worker", 1);
    assert_eq!(proc_ids(pid, "Uid:"), [nobody.uid.as_raw(); 4]);
    assert_eq!(proc_ids(pid, "Gid:"), [nobody.gid.as_raw(); 4]);
    // Its session log is its own, and a turn is written to it.
    let out = root.ctl(&["send", "worker", "hello"]);
    assert!(
        out.status.success(),
        "{}\nlog:\n{}",
        output_text(&out),
        root.log()
    );
    let pod_dir = root.dir().join("state/pods/worker");
    let owner =
        std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&pod_dir).expect("pod state dir"));
    assert_eq!(owner, nobody.uid.as_raw());
    let logged = wait_until(WAIT, || !root.entries("worker").is_empty());
    assert!(logged, "nothing committed; log:\n{}", root.log());
}

#[test]
fn a_child_above_its_memory_ceiling_is_killed_and_restarted() {
    let root = Root::start(
        r#"
name = "ceiling"
max_restarts = 100
within = "60s"

[[child]]
name = "hog"
kind = "process"
memory_max = "100MiB"
argv = ["python3", "-c", "import time; x = bytearray(300*1024*1024); time.sleep(1000)"]
"#,
    );
    let node = wait_node(&root, "hog", "a restart after the memory ceiling", |n| {
        n["restarts"].as_u64().is_some_and(|r| r >= 1)
            && n["last_exit"]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("memory ceiling"))
    });
    let reason = node["last_exit"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("memory ceiling exceeded: RSS ") && reason.ends_with(" MiB > 100 MiB"),
        "{reason}"
    );
    let rss: u64 = reason
        .trim_start_matches("memory ceiling exceeded: RSS ")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_default();
    assert!(rss >= 290, "{reason}");
    assert!(
        root.log().contains("memory ceiling exceeded"),
        "{}",
        root.log()
    );
}

/// A `podsup start` run as another user, killed on drop.
struct AsUser(Child);

impl Drop for AsUser {
    fn drop(&mut self) {
        podsup_tests::signal(self.0.id(), libc::SIGKILL);
        if let Err(e) = self.0.wait() {
            eprintln!("cannot reap podsup start: {e}");
        }
    }
}

#[test]
fn a_root_that_is_not_root_refuses_another_user_before_forking() {
    if !is_root() {
        println!("skipped: needs root");
        return;
    }
    let nobody = nobody();
    let dir = tempfile::Builder::new()
        .prefix("podsup-e2e")
        .tempdir()
        .expect("tempdir");
    let (uid, gid) = (nobody.uid, nobody.gid);
    nix::unistd::chown(dir.path(), Some(uid), Some(gid)).expect("chown the scratch dir");
    let tree = dir.path().join("tree.toml");
    std::fs::write(
        &tree,
        r#"
name = "not-root"

[[child]]
name = "escalate"
kind = "process"
restart = "temporary"
user = "daemon"
argv = ["sleep", "1000"]
"#,
    )
    .expect("write tree");
    let log_path = dir.path().join("podsup.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let child = Command::new(podsup_bin())
        .arg("start")
        .arg(&tree)
        .arg("--runtime-dir")
        .arg(dir.path().join("run"))
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .uid(uid.as_raw())
        .gid(gid.as_raw())
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log file"))
        .stderr(log)
        .spawn()
        .expect("spawn podsup start as nobody");
    let _running = AsUser(child);
    let mut text = String::new();
    let refused = wait_until(WAIT, || {
        text = std::fs::read_to_string(&log_path).unwrap_or_default();
        text.contains("escalate: cannot run as user daemon")
    });
    assert!(refused, "no refusal in the log:\n{text}");
    assert!(text.contains("only root can"), "{text}");
}

/// `podsup check` on `tree`: exit 2 and one line naming `at` (`LINE:COLUMN`) and `says`.
fn refused(tree: &str, at: &str, says: &str) {
    let dir = tempfile::Builder::new()
        .prefix("podsup-config")
        .tempdir()
        .expect("tempdir");
    let path = dir.path().join("tree.toml");
    std::fs::write(&path, tree).expect("write tree");
    let out = output_within(Command::new(podsup_bin()).arg("check").arg(&path), WAIT);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    let prefix = format!("{}:{at}: error: ", path.display());
    assert!(text.starts_with(&prefix), "expected {prefix}…:\n{text}");
    assert!(text.contains(says), "expected {says:?}:\n{text}");
}

#[test]
fn config_errors_of_the_new_keys_name_line_and_column() {
    refused(
        "name = \"t\"\n[[child]]\nname = \"p\"\nkind = \"pod\"\nuser = \"no-such-user-x\"\n",
        "5:8",
        "unknown user \"no-such-user-x\"",
    );
    refused(
        "name = \"t\"\n[[child]]\nname = \"p\"\nkind = \"process\"\nargv = [\"sleep\", \"1\"]\n\
         limits = { nofile = 0 }\n",
        "6:21",
        "limits.nofile = 0 is out of range",
    );
    refused(
        "name = \"t\"\n[[child]]\nname = \"s\"\nkind = \"supervisor\"\nuser = \"nobody\"\n",
        "5:1",
        "unknown key \"user\" for a supervisor",
    );
    refused(
        "name = \"t\"\n[[child]]\nname = \"p\"\nkind = \"pod\"\n\
         scope = [{ target = \"../outside\", permission = \"read\" }]\n",
        "5:21",
        "invalid scope[0].target \"../outside\": \"../outside\" leaves the working directory",
    );
}
