//! Hostile pods: `podsup pod-worker`'s test-only `PODSUP_TEST_HOSTILE` modes misbehave on
//! purpose beside a normal echo pod. Each misbehaviour must be detected and logged with the
//! pod's name, the pod killed and restarted per its policy, and the normal pod must answer
//! every `ctl send` throughout. A forged pod event is dropped without effect on the pod it
//! names, and its sender is killed like any other pod that breaks the protocol. No timing
//! thresholds: everything is waited for by polling.

use std::path::Path;

use podsup_tests::{Root, WAIT, item_of, output_text, output_within, signal, wait_until};

/// The pod that misbehaves.
const MOLE: &str = "mole";
/// The pod that must keep answering.
const NORMAL: &str = "normal";

/// A normal echo pod called `normal` and [`MOLE`], whose environment holds `env` (TOML
/// inline-table entries). Restarts are paced by a short backoff and the intensity is far out
/// of reach, so a mole that is killed at every start is restarted for as long as the test
/// runs.
fn tree(normal: &str, env: &str) -> String {
    format!(
        r#"
name = "hostile"
strategy = "one_for_one"
max_restarts = 100000
within = "10s"
backoff = {{ initial = "100ms", max = "100ms", multiplier = 1.0, reset_after = "60s" }}

[[child]]
name = "{normal}"
kind = "pod"
engine = "echo"

[[child]]
name = "{MOLE}"
kind = "pod"
engine = "echo"
start_timeout = "500ms"
env = {{ {env} }}
"#
    )
}

/// `env` entries selecting `mode`.
fn hostile(mode: &str) -> String {
    format!(r#"PODSUP_TEST_HOSTILE = "{mode}""#)
}

/// `env` entries selecting `mode` while the file `arm` exists.
fn armed(mode: &str, arm: &Path) -> String {
    format!(
        r#"PODSUP_TEST_HOSTILE = "{mode}", PODSUP_TEST_HOSTILE_ARM = "{}", PODSUP_TEST_HOSTILE_TARGET = "boss/kid""#,
        arm.display()
    )
}

/// Sends inputs to a pod one after another, each of which must succeed.
struct Pinger<'a> {
    root: &'a Root,
    pod: &'a str,
    sent: Vec<String>,
}

impl<'a> Pinger<'a> {
    fn new(root: &'a Root, pod: &'a str) -> Self {
        Pinger {
            root,
            pod,
            sent: Vec::new(),
        }
    }

    /// One `ctl send`, which must succeed with the echoed reply.
    fn ping(&mut self) {
        let text = format!("ping {}", self.sent.len());
        let mut cmd =
            podsup_tests::ctl_command(&self.root.runtime_dir(), &["send", self.pod, &text]);
        let out = output_within(&mut cmd, WAIT);
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains(&text),
            "ctl send {} {text:?} failed while {MOLE} misbehaves: {}\nlog:\n{}",
            self.pod,
            output_text(&out),
            self.root.log()
        );
        self.sent.push(text);
    }

    /// Pings until `done` holds; false if it never does within [`WAIT`].
    fn until(&mut self, mut done: impl FnMut(&Root) -> bool) -> bool {
        let root = self.root;
        wait_until(WAIT, || {
            self.ping();
            done(root)
        })
    }

    /// Every input sent is committed in the pod's session log, and the pod never restarted.
    fn check(&self) {
        let users: Vec<String> = self
            .root
            .entries(self.pod)
            .iter()
            .map(item_of)
            .filter(|(kind, _)| kind == "User")
            .map(|(_, text)| text)
            .collect();
        assert_eq!(users, self.sent, "{}'s committed inputs", self.pod);
        assert_eq!(
            self.root.generation(self.pod),
            1,
            "{} was restarted",
            self.pod
        );
    }
}

fn generation(root: &Root, name: &str) -> u64 {
    root.node(name)["generation"].as_u64().unwrap_or(0)
}

/// The root's log lines that name [`MOLE`] and contain every one of `words`.
fn mole_lines(root: &Root, words: &[&str]) -> Vec<String> {
    root.log()
        .lines()
        .filter(|l| l.contains(&format!("pod={MOLE}")) || l.contains(&format!("child={MOLE}")))
        .filter(|l| words.iter().all(|w| l.contains(w)))
        .map(str::to_owned)
        .collect()
}

/// Boots [`tree`] with a mole in `mode` and checks that it is killed and restarted (at
/// least twice), that the root logged why with its name (`reason`), and that the normal pod
/// answered every send meanwhile.
fn killed_and_restarted(mode: &str, reason: &str) {
    let root = Root::start(&tree(NORMAL, &hostile(mode)));
    root.wait_running(NORMAL, 1);
    let mut pinger = Pinger::new(&root, NORMAL);
    let restarted = pinger.until(|root| generation(root, MOLE) >= 3);
    assert!(
        restarted,
        "{mode}: {MOLE} was not killed and restarted twice: {:#}\nlog:\n{}",
        root.node(MOLE),
        root.log()
    );
    let detected = mole_lines(&root, &["pod link failed", reason]);
    assert!(
        detected.len() >= 2,
        "{mode}: no log line names {MOLE} and {reason:?}; log:\n{}",
        root.log()
    );
    let last = root.node(MOLE)["last_exit"]["reason"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(last.contains(reason), "{mode}: last exit {last:?}");
    pinger.check();
}

#[test]
fn garbage_after_the_handshake_is_a_link_failure() {
    killed_and_restarted("garbage", "malformed frame body");
}

#[test]
fn a_4_gib_length_prefix_is_refused_unread() {
    killed_and_restarted("huge-frame", "frame of 4294967295 bytes exceeds the limit");
}

#[test]
fn a_pod_that_closes_its_socket_and_keeps_running_is_killed() {
    killed_and_restarted("close-socket", "closed its socket but kept running");
}

/// A pod that streams events without end, as fast as its socket takes them. Nothing in
/// the protocol is malformed, but no pod may hold the root's link busy for ever: it must be
/// detected, named in the log, killed and restarted.
#[test]
fn a_flood_of_events_is_detected_and_the_pod_killed() {
    killed_and_restarted("flood", "flooding");
}

/// A pod that never says `Hello` at boot: `podsup start` fails, naming it and why.
#[test]
fn no_handshake_at_boot_fails_the_start_naming_the_pod() {
    let mut root = Root::spawn(&tree(NORMAL, &hostile("no-handshake")));
    let status = root.wait_exit(WAIT).expect("podsup start exits");
    assert!(!status.success(), "{status}; log:\n{}", root.log());
    let log = root.log();
    assert!(
        log.lines()
            .any(|l| l.contains(MOLE) && l.contains("not ready within 500ms")),
        "the failure names neither {MOLE} nor the deadline:\n{log}"
    );
}

/// A pod that stops answering the handshake at run time: every restart fails at its start
/// deadline and is retried per policy; once it behaves again it comes back.
#[test]
fn no_handshake_at_run_time_fails_each_restart_until_the_pod_behaves() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let arm = scratch.path().join("armed");
    let root = Root::start(&tree(NORMAL, &armed("no-handshake", &arm)));
    root.wait_running(NORMAL, 1);
    let first = root.wait_running(MOLE, 1);
    std::fs::write(&arm, "").expect("arm the mole");
    signal(first, libc::SIGKILL);
    let mut pinger = Pinger::new(&root, NORMAL);
    let retried = pinger
        .until(|root| mole_lines(root, &["restart failed", "not ready within 500ms"]).len() >= 2);
    assert!(
        retried,
        "{MOLE}'s failed starts were not retried and logged; log:\n{}",
        root.log()
    );
    std::fs::remove_file(&arm).expect("disarm the mole");
    // Each failed attempt took a generation of its own: the one that behaves is at least
    // the fourth (the first, two failed restarts, then this one).
    let back = pinger.until(|root| {
        let node = root.node(MOLE);
        node["state"] == "running" && node["generation"].as_u64() >= Some(4)
    });
    assert!(
        back,
        "{MOLE} did not come back: {:#}\nlog:\n{}",
        root.node(MOLE),
        root.log()
    );
    pinger.check();
}

/// A pod that sends pod events naming another pod (the spawned `boss/kid`): the event is
/// dropped, the sender's link fails (logged with its name), it is killed and restarted per
/// its policy; the named pod and its spawner's log are untouched.
#[test]
fn events_forged_in_another_pods_name_kill_the_sender() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let arm = scratch.path().join("armed");
    let root = Root::start(&tree("boss", &armed("forge-name", &arm)));
    root.wait_running(MOLE, 1);
    root.spawn_child("boss", "kid", "permanent");
    let kid = root.node("boss/kid");
    std::fs::write(&arm, "").expect("arm the mole");
    let out = root.ctl(&["restart", MOLE]);
    assert!(
        out.status.success(),
        "ctl restart {MOLE}: {}",
        output_text(&out)
    );
    // The restart is generation 2; each armed generation forges and is killed.
    let killed = wait_until(WAIT, || {
        generation(&root, MOLE) >= 4
            && mole_lines(&root, &["pod link failed", "may not send", "boss/kid"]).len() >= 2
    });
    assert!(
        killed,
        "the forging pod was not killed and restarted: {:#}\nlog:\n{}",
        root.node(MOLE),
        root.log()
    );
    let last = root.node(MOLE)["last_exit"]["reason"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(last.contains("may not send"), "last exit {last:?}");
    // Anything delivered to boss before this turn is committed before its input.
    let mut pinger = Pinger::new(&root, "boss");
    pinger.ping();
    pinger.check();
    let entries = root.entries("boss");
    let about_kid: Vec<_> = podsup_tests::spawning::events_about(&entries, "boss/kid");
    assert!(
        about_kid.is_empty(),
        "boss was told about its kid: {about_kid:?}"
    );
    let now = root.node("boss/kid");
    assert_eq!(
        (&now["state"], &now["generation"], &now["pid"]),
        (&kid["state"], &kid["generation"], &kid["pid"]),
        "boss/kid was affected: {now:#}"
    );
}
