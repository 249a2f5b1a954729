//! Restart intensity and backoff on real processes: a nested supervisor that exceeds its
//! intensity is stopped and restarted by its parent's strategy; a root that exceeds its
//! intensity makes `podsup start` exit non-zero with every child gone; a child that
//! crashes at once in a loop escalates up to the root; and with a backoff table a killed
//! child waits in `backoff` before it runs again.

use std::time::{Duration, Instant};

use podsup_tests::{Root, WAIT, alive, nodes, signal, wait_node, wait_until};

/// Every pid the tree reports now, to check later that none outlived the root.
fn pids(root: &Root) -> Vec<u32> {
    let status = root.status();
    nodes(&status["root"])
        .into_iter()
        .filter(|n| n["name"] != "root")
        .filter_map(|n| n["pid"].as_u64())
        .map(|pid| pid as u32)
        .collect()
}

/// Waits for `podsup start` to fail; asserts exit code 1 and a log naming `names` and the
/// exceeded intensity.
fn assert_root_failed(root: &mut Root, names: &[&str]) {
    let status = root
        .wait_exit(WAIT)
        .unwrap_or_else(|| panic!("podsup start still running; log:\n{}", root.log()));
    let log = root.log();
    assert_eq!(status.code(), Some(1), "exit {status:?}; log:\n{log}");
    assert!(log.contains("restart intensity exceeded"), "log:\n{log}");
    for name in names {
        assert!(log.contains(name), "log does not name {name}:\n{log}");
    }
}

#[test]
fn nested_supervisor_over_intensity_is_restarted_by_its_parent() {
    let root = Root::start(
        r#"
name = "nested-intensity"
strategy = "rest_for_one"
max_restarts = 10
within = "60s"

[[child]]
name = "front"
kind = "pod"
engine = "echo"

[[child]]
name = "inner"
kind = "supervisor"
strategy = "one_for_one"
max_restarts = 1
within = "60s"

  [[child.child]]
  name = "flaky"
  kind = "process"
  argv = ["sleep", "1000"]
  shutdown = "brutal_kill"

  [[child.child]]
  name = "steady"
  kind = "pod"
  engine = "echo"

[[child]]
name = "back"
kind = "process"
argv = ["sleep", "1000"]
shutdown = "brutal_kill"
"#,
    );
    let front = root.wait_running("front", 1);
    let flaky = root.wait_running("flaky", 1);
    let steady = root.wait_running("steady", 1);
    let back = root.wait_running("back", 1);
    wait_node(&root, "inner", "first start", |n| {
        n["state"] == "running" && n["generation"] == 1
    });

    signal(flaky, libc::SIGKILL);
    let flaky = root.wait_running("flaky", 2);
    assert_eq!(
        root.generation("inner"),
        1,
        "one restart is within inner's intensity"
    );

    signal(flaky, libc::SIGKILL);
    let inner = wait_node(&root, "inner", "restart by the root", |n| {
        n["state"] == "running" && n["generation"] == 2
    });
    assert_eq!(inner["restarts"], 1, "{inner:#}");
    let reason = inner["last_exit"]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("restart intensity exceeded"), "{inner:#}");

    // inner's children were stopped and started again by the new inner.
    let new_flaky = root.wait_running("flaky", 3);
    let new_steady = root.wait_running("steady", 2);
    assert_ne!(new_flaky, flaky);
    assert_ne!(new_steady, steady);
    assert!(
        !alive(steady),
        "steady's first generation (pid {steady}) is still alive"
    );
    // The root is rest_for_one: the sibling after inner restarts, the one before does not.
    let new_back = root.wait_running("back", 2);
    assert_ne!(new_back, back);
    assert!(
        !alive(back),
        "back's first generation (pid {back}) is still alive"
    );
    assert_eq!(root.pid_of("front"), front);
    assert_eq!(root.generation("front"), 1);
    assert_eq!(root.node("front")["restarts"], 0);
}

#[test]
fn root_over_intensity_makes_podsup_start_exit_non_zero() {
    let mut root = Root::start(
        r#"
name = "root-intensity"
strategy = "one_for_one"
max_restarts = 1
within = "60s"

[[child]]
name = "first"
kind = "pod"
engine = "echo"

[[child]]
name = "flaky"
kind = "process"
argv = ["sleep", "1000"]
shutdown = "brutal_kill"

[[child]]
name = "last"
kind = "pod"
engine = "echo"
"#,
    );
    for name in ["first", "flaky", "last"] {
        root.wait_running(name, 1);
    }
    let mut seen = pids(&root);

    signal(root.pid_of("flaky"), libc::SIGKILL);
    let flaky = root.wait_running("flaky", 2);
    seen.extend(pids(&root));

    signal(flaky, libc::SIGKILL);
    assert_root_failed(&mut root, &["flaky"]);
    seen.sort_unstable();
    seen.dedup();
    let left: Vec<u32> = seen.into_iter().filter(|&pid| alive(pid)).collect();
    assert!(
        left.is_empty(),
        "still alive after the root failed: {left:?}\nlog:\n{}",
        root.log()
    );
}

#[test]
fn crash_looping_child_escalates_until_the_root_exits() {
    // steady appends its pid to a file: the tree may fail before a status poll sees it.
    let pids_dir = tempfile::tempdir().expect("tempdir");
    let pid_file = pids_dir.path().join("steady.pids");
    // No Root::start either: the root may fail before it is seen running.
    let mut root = Root::spawn(&format!(
        r#"
name = "crash-loop"
strategy = "one_for_one"
max_restarts = 1
within = "60s"

[[child]]
name = "steady"
kind = "process"
argv = ["sh", "-c", "echo $$ >> {pid_file}; exec sleep 1000"]
shutdown = "brutal_kill"

[[child]]
name = "looper"
kind = "supervisor"
max_restarts = 3
within = "60s"

  [[child.child]]
  name = "crasher"
  kind = "process"
  argv = ["sh", "-c", "exit 1"]
"#,
        pid_file = pid_file.display()
    ));
    assert_root_failed(&mut root, &["looper", "crasher"]);
    let written = std::fs::read_to_string(&pid_file).unwrap_or_default();
    let left: Vec<u32> = written
        .lines()
        .filter_map(|line| line.trim().parse().ok())
        .filter(|&pid| alive(pid))
        .collect();
    assert!(
        left.is_empty(),
        "steady outlived the root: {left:?}\nlog:\n{}",
        root.log()
    );
}

#[test]
fn killed_child_waits_in_backoff_before_running_again() {
    let root = Root::start(
        r#"
name = "backoff"
strategy = "one_for_one"
max_restarts = 10
within = "60s"
backoff = { initial = "300ms", max = "2s", multiplier = 2.0, reset_after = "60s" }

[[child]]
name = "ticker"
kind = "process"
argv = ["sleep", "1000"]
shutdown = "brutal_kill"
"#,
    );
    let mut pid = root.wait_running("ticker", 1);
    // initial × multiplier^(n-1), less the 10% jitter allowance.
    for (generation, least) in [(2, 270), (3, 540)] {
        let killed = Instant::now();
        signal(pid, libc::SIGKILL);
        let mut in_backoff = None;
        let settled = wait_until(WAIT, || {
            let node = root.node("ticker");
            if node["state"] == "backoff" {
                in_backoff.get_or_insert(node);
                return true;
            }
            node["state"] == "running" && node["generation"] == generation
        });
        assert!(
            settled,
            "ticker neither in backoff nor restarted: {:#}",
            root.node("ticker")
        );
        let node = in_backoff.unwrap_or_else(|| {
            panic!(
                "ticker restarted without a backoff state; log:\n{}",
                root.log()
            )
        });
        assert_eq!(node["generation"], generation - 1, "{node:#}");
        assert!(node["pid"].is_null(), "{node:#}");
        assert_eq!(node["last_exit"]["signal"], libc::SIGKILL, "{node:#}");

        pid = root.wait_running("ticker", generation);
        let waited = killed.elapsed();
        assert!(
            waited >= Duration::from_millis(least),
            "generation {generation} ran {waited:?} after the kill, before its backoff"
        );
        assert_eq!(root.node("ticker")["restarts"], generation - 1);
    }
}
