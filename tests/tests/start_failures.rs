//! Restarts that fail at their start deadline: a pod that stops answering the handshake
//! (the pod worker's test-only `PODSUP_TEST_HOSTILE = "no-handshake"`, armed by a file) is
//! retried per policy, and `ctl status` counts every attempt — generation +1 and restarts +1
//! each, failed or not — so an operator watching a crash loop sees it. Once the pod behaves
//! again it comes back at a generation no attempt has used. No timing thresholds:
//! everything is waited for by polling.

use std::path::Path;

use podsup_tests::{Root, WAIT, ctl_command, output_text, output_within, signal, wait_until};
use serde_json::Value;

/// The pod whose starts fail while armed.
const MOLE: &str = "mole";
/// A sibling that must not be touched.
const NORMAL: &str = "normal";

/// A normal echo pod and [`MOLE`], which skips the handshake while `arm` exists. Each
/// attempt fails at its 500 ms start deadline; restarts are paced by a short backoff and
/// allowed `max_restarts` within the window.
fn tree(arm: &Path, max_restarts: u32) -> String {
    format!(
        r#"
name = "start-failures"
strategy = "one_for_one"
max_restarts = {max_restarts}
within = "60s"
backoff = {{ initial = "100ms", max = "100ms", multiplier = 1.0, reset_after = "60s" }}

[[child]]
name = "{NORMAL}"
kind = "pod"
engine = "echo"

[[child]]
name = "{MOLE}"
kind = "pod"
engine = "echo"
start_timeout = "500ms"
env = {{ PODSUP_TEST_HOSTILE = "no-handshake", PODSUP_TEST_HOSTILE_ARM = "{}" }}
"#,
        arm.display()
    )
}

/// `(generation, restarts)` of a status node.
fn counts(node: &Value) -> (u64, u64) {
    let count = |key: &str| {
        node[key]
            .as_u64()
            .unwrap_or_else(|| panic!("{key} is not a number: {node:#}"))
    };
    (count("generation"), count("restarts"))
}

/// Why `node` last ended, or "".
fn last_reason(node: &Value) -> String {
    node["last_exit"]["reason"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// Waits until `name` is running at generation `at_least` or later; returns the node.
fn wait_back(root: &Root, name: &str, at_least: u64) -> Value {
    let mut last = Value::Null;
    let back = wait_until(WAIT, || {
        last = root.node(name);
        last["state"] == "running" && last["pid"].is_u64() && counts(&last).0 >= at_least
    });
    assert!(
        back,
        "{name} did not come back at generation {at_least} or later: {last:#}\nlog:\n{}",
        root.log()
    );
    last
}

/// A killed pod whose every restart fails at its start deadline: each attempt raises
/// generation and restarts by one, seen rising across at least two failed attempts while the
/// sibling is untouched; disarmed, it comes back running at a newer generation.
#[test]
fn every_failed_restart_attempt_raises_generation_and_restarts() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let arm = scratch.path().join("armed");
    let root = Root::start(&tree(&arm, 100_000));
    root.wait_running(NORMAL, 1);
    let first = root.wait_running(MOLE, 1);
    assert_eq!(counts(&root.node(MOLE)), (1, 0));

    std::fs::write(&arm, "").expect("arm the mole");
    signal(first, libc::SIGKILL);

    // Every sample: counts never go back, and each attempt after the first is a restart.
    let mut seen: Vec<(u64, u64)> = Vec::new();
    let mut last = Value::Null;
    let looped = wait_until(WAIT, || {
        last = root.node(MOLE);
        let now = counts(&last);
        if seen.last() != Some(&now) {
            seen.push(now);
        }
        // Generation 4 exists only once the attempts of generations 2 and 3 have failed.
        now.0 >= 4 && last_reason(&last).contains("not ready within 500ms")
    });
    assert!(
        looped,
        "{MOLE}'s failed restarts were not counted: {last:#}\nseen {seen:?}\nlog:\n{}",
        root.log()
    );
    assert!(
        seen.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1),
        "generation and restarts must rise with every attempt: {seen:?}"
    );
    assert!(
        seen.iter()
            .all(|&(generation, restarts)| restarts == generation - 1),
        "every attempt after the first is a restart: {seen:?}"
    );
    assert_ne!(last["state"], "running", "{last:#}");

    // The attempt shown last may still exec after the disarm and come up; every one before
    // it failed.
    std::fs::remove_file(&arm).expect("disarm the mole");
    let back = wait_back(&root, MOLE, counts(&last).0);
    let (generation, restarts) = counts(&back);
    assert_eq!(restarts, generation - 1, "{back:#}");
    let out = root.ctl(&["send", MOLE, "back again"]);
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("back again"),
        "{MOLE} does not answer after coming back: {}",
        output_text(&out)
    );
    assert_eq!(counts(&root.node(NORMAL)), (1, 0), "{NORMAL} was touched");
}

/// `ctl restart` of a pod that cannot start fails and leaves it stopped, but the attempt is
/// counted all the same: generation and restarts +1 per `ctl restart`. Operator attempts do
/// not feed the intensity (one restart allowed here, the tree stays up through three).
/// Disarmed, `ctl start` brings it back at the next generation.
#[test]
fn each_failed_ctl_restart_is_counted_as_an_attempt() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let arm = scratch.path().join("armed");
    let root = Root::start(&tree(&arm, 1));
    root.wait_running(NORMAL, 1);
    root.wait_running(MOLE, 1);
    std::fs::write(&arm, "").expect("arm the mole");

    for attempt in 1..=3u64 {
        let mut cmd = ctl_command(&root.runtime_dir(), &["restart", MOLE]);
        let out = output_within(&mut cmd, WAIT);
        let text = output_text(&out);
        assert!(
            !out.status.success() && text.contains("did not start"),
            "ctl restart {MOLE} (attempt {attempt}) should fail: {text}"
        );
        let node = root.node(MOLE);
        assert_eq!(node["state"], "stopped", "attempt {attempt}: {node:#}");
        assert_eq!(counts(&node), (1 + attempt, attempt), "{node:#}");
        assert!(
            last_reason(&node).contains("not ready within 500ms"),
            "attempt {attempt}: {node:#}"
        );
    }
    assert_eq!(root.status()["root"]["state"], "running");

    std::fs::remove_file(&arm).expect("disarm the mole");
    let out = root.ctl(&["start", MOLE]);
    assert!(
        out.status.success(),
        "ctl start {MOLE}: {}\nlog:\n{}",
        output_text(&out),
        root.log()
    );
    let back = wait_back(&root, MOLE, 5);
    assert_eq!(counts(&back), (5, 4), "{back:#}");
    assert_eq!(counts(&root.node(NORMAL)), (1, 0), "{NORMAL} was touched");
}
