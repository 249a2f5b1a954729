//! Restart types on real processes, as OTP's supervisor_SUITE lays them out: permanent,
//! transient and temporary children × a normal exit (status 0), a failing exit (status 3)
//! and a crash (`kill -9`); then a pod killed with SIGKILL (a crash, so a transient pod is
//! restarted) and a permanent pod stopped by the operator (held down until `ctl start`).

use podsup_tests::{Root, WAIT, alive, signal, wait_node, wait_until};
use serde_json::Value;

/// What a restart type should do about one way of ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Running again as generation 2.
    Restarted,
    /// Left stopped at generation 1.
    LeftStopped,
}

/// How a matrix child ends its first generation.
#[derive(Debug, Clone, Copy)]
enum Ending {
    /// Exits with status 0 by itself.
    Normal,
    /// Exits with status 3 by itself.
    Failing,
    /// Killed with SIGKILL by the test.
    Killed,
}

impl Ending {
    const ALL: [Ending; 3] = [Ending::Normal, Ending::Failing, Ending::Killed];

    fn child(self) -> &'static str {
        match self {
            Ending::Normal => "normal",
            Ending::Failing => "failing",
            Ending::Killed => "killed",
        }
    }

    /// `argv` of the child: the exiting ones end only their first generation (a marker
    /// file remembers it), so a restarted generation stays up to be observed.
    fn argv(self, marks: &std::path::Path) -> String {
        let once = |status: u8| {
            let mark = marks.join(self.child());
            let mark = mark.display();
            format!(
                r#"["sh", "-c", "if [ -e {mark} ]; then exec sleep 1000; fi; touch {mark}; sleep 0.3; exit {status}"]"#
            )
        };
        match self {
            Ending::Normal => once(0),
            Ending::Failing => once(3),
            Ending::Killed => r#"["sleep", "1000"]"#.to_owned(),
        }
    }

    /// Checks how the first generation's end was recorded.
    fn assert_last_exit(self, node: &Value) {
        let last = &node["last_exit"];
        match self {
            Ending::Normal => assert_eq!(last["code"], 0, "{node:#}"),
            Ending::Failing => assert_eq!(last["code"], 3, "{node:#}"),
            Ending::Killed => assert_eq!(last["signal"], libc::SIGKILL, "{node:#}"),
        }
        assert!(
            last["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "no reason: {node:#}"
        );
    }
}

/// A root whose three matrix children have restart type `restart`, plus a permanent
/// sentinel the test kills to learn when the supervisor has handled what came before.
fn matrix_tree(restart: &str, marks: &std::path::Path) -> String {
    let mut tree = r#"
name = "restart-types"
strategy = "one_for_one"
max_restarts = 100
within = "60s"
"#
    .to_owned();
    for ending in Ending::ALL {
        tree += &format!(
            r#"
[[child]]
name = "{name}"
kind = "process"
restart = "{restart}"
argv = {argv}
shutdown = "brutal_kill"
"#,
            name = ending.child(),
            argv = ending.argv(marks),
        );
    }
    tree += SENTINEL;
    tree
}

const SENTINEL: &str = r#"
[[child]]
name = "sentinel"
kind = "process"
argv = ["sleep", "1000"]
shutdown = "brutal_kill"
"#;

/// Kills the sentinel and waits for its restart: the supervisor handles exits in order, so
/// any restart due for an earlier exit has been carried out by then.
fn flush_supervisor(root: &Root) {
    let generation = root.generation("sentinel");
    signal(root.pid_of("sentinel"), libc::SIGKILL);
    root.wait_running("sentinel", generation + 1);
}

/// Runs one row of the matrix: `restart` with the outcome `expect` gives each ending.
fn run_matrix(restart: &str, expect: impl Fn(Ending) -> Expect) {
    let marks = tempfile::tempdir().expect("tempdir");
    let root = Root::start(&matrix_tree(restart, marks.path()));
    let first: Vec<u32> = Ending::ALL
        .iter()
        .map(|e| root.wait_running(e.child(), 1))
        .collect();
    root.wait_running("sentinel", 1);

    signal(first[2], libc::SIGKILL);
    for (ending, &pid) in Ending::ALL.into_iter().zip(&first) {
        let name = ending.child();
        match expect(ending) {
            Expect::Restarted => {
                let new = root.wait_running(name, 2);
                assert_ne!(new, pid, "{name} kept its pid");
                assert_eq!(root.node(name)["restarts"], 1, "{:#}", root.node(name));
            }
            Expect::LeftStopped => {
                wait_node(&root, name, "first generation ended", |n| {
                    !n["last_exit"].is_null()
                });
            }
        }
        assert!(
            wait_until(WAIT, || !alive(pid)),
            "{name}'s first generation (pid {pid}) is still alive"
        );
    }

    flush_supervisor(&root);
    for ending in Ending::ALL {
        let node = root.node(ending.child());
        ending.assert_last_exit(&node);
        match expect(ending) {
            Expect::Restarted => {
                assert_eq!(node["state"], "running", "{node:#}");
                assert_eq!(node["generation"], 2, "{node:#}");
            }
            Expect::LeftStopped => {
                assert_eq!(node["state"], "stopped", "{node:#}\nlog:\n{}", root.log());
                assert_eq!(node["generation"], 1, "{node:#}");
                assert_eq!(node["restarts"], 0, "{node:#}");
                assert!(node["pid"].is_null(), "{node:#}");
            }
        }
    }
}

#[test]
fn permanent_child_restarts_after_normal_exit_failing_exit_and_kill() {
    run_matrix("permanent", |_| Expect::Restarted);
}

#[test]
fn transient_child_restarts_after_crash_but_not_after_normal_exit() {
    run_matrix("transient", |ending| match ending {
        Ending::Normal => Expect::LeftStopped,
        Ending::Failing | Ending::Killed => Expect::Restarted,
    });
}

#[test]
fn temporary_child_is_never_restarted() {
    run_matrix("temporary", |_| Expect::LeftStopped);
}

#[test]
fn transient_pod_killed_with_sigkill_is_restarted() {
    let root = Root::start(&format!(
        r#"
name = "pod-crash"

[[child]]
name = "worker"
kind = "pod"
engine = "echo"
restart = "transient"
{SENTINEL}"#
    ));
    let pid = root.wait_running("worker", 1);

    signal(pid, libc::SIGKILL);
    let new = root.wait_running("worker", 2);
    assert_ne!(new, pid);
    let node = root.node("worker");
    assert_eq!(node["restarts"], 1, "{node:#}");
    Ending::Killed.assert_last_exit(&node);
}

#[test]
fn permanent_pod_stopped_by_operator_stays_stopped_until_started() {
    let root = Root::start(&format!(
        r#"
name = "pod-stop"

[[child]]
name = "worker"
kind = "pod"
engine = "echo"
restart = "permanent"
{SENTINEL}"#
    ));
    let pid = root.wait_running("worker", 1);
    root.wait_running("sentinel", 1);

    let out = root.ctl(&["stop", "worker"]);
    assert!(
        out.status.success(),
        "ctl stop: {out:?}\nlog:\n{}",
        root.log()
    );
    wait_node(&root, "worker", "stop", |n| n["state"] == "stopped");
    assert!(
        wait_until(WAIT, || !alive(pid)),
        "worker (pid {pid}) survived ctl stop"
    );

    flush_supervisor(&root);
    let node = root.node("worker");
    assert_eq!(node["state"], "stopped", "{node:#}\nlog:\n{}", root.log());
    assert_eq!(node["generation"], 1, "{node:#}");
    assert_eq!(node["restarts"], 0, "{node:#}");
    assert!(node["pid"].is_null(), "{node:#}");
    assert!(
        node["last_exit"]["reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{node:#}"
    );

    let out = root.ctl(&["start", "worker"]);
    assert!(
        out.status.success(),
        "ctl start: {out:?}\nlog:\n{}",
        root.log()
    );
    let new = root.wait_running("worker", 2);
    assert_ne!(new, pid);
}
