//! Turns in a pod, driven through `podsup ctl` as an operator would: send (streamed, JSON,
//! no-wait), the command engine, the controller's state machine (AlreadyRunning, pause and
//! resume, cancel, NotRunning, NotPaused), notifications, the errors for pods that cannot
//! take a turn, and `ctl logs` (-n, -f).

use podsup_tests::{Root, WAIT, event_of, item_of, output_text, output_within, wait_until};
use serde_json::{Value, json};

/// A quick echo pod, echo pods streaming one character every 50 ms and every 200 ms, a
/// command pod that upper-cases, one whose command fails, and a plain process.
const TREE: &str = r#"
name = "turns"
strategy = "one_for_one"
max_restarts = 100
within = "10s"

[[child]]
name = "greeter"
kind = "pod"
engine = "echo"
echo = { chunk_chars = 4, delay_ms = 0 }

[[child]]
name = "slow"
kind = "pod"
engine = "echo"
echo = { chunk_chars = 1, delay_ms = 50 }

[[child]]
name = "slower"
kind = "pod"
engine = "echo"
echo = { chunk_chars = 1, delay_ms = 200 }

[[child]]
name = "upper"
kind = "pod"
engine = "command"
command = { argv = ["tr", "a-z", "A-Z"] }

[[child]]
name = "failing"
kind = "pod"
engine = "command"
command = { argv = ["sh", "-c", "echo oops >&2; exit 3"] }

[[child]]
name = "ticker"
kind = "process"
argv = ["sh", "-c", "while sleep 1; do :; done"]
"#;

/// 40 characters: two seconds on `slow`, eight on `slower`.
const LONG: &str = "the quick brown fox jumps over a lazy do";

fn start() -> Root {
    let root = Root::start(TREE);
    for pod in ["greeter", "slow", "slower", "upper", "failing"] {
        root.wait_running(pod, 1);
    }
    root
}

/// Runs `ctl ARGS…`, bounded so a verb that should answer at once cannot hang the test.
fn ctl(root: &Root, args: &[&str]) -> std::process::Output {
    let mut cmd = podsup_tests::ctl_command(&root.runtime_dir(), args);
    output_within(&mut cmd, WAIT)
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

/// Runs `ctl ARGS…` expecting exit code `code`; returns stdout and stderr together.
fn ctl_fails(root: &Root, args: &[&str], code: i32) -> String {
    let out = ctl(root, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "ctl {args:?}: {}\nlog:\n{}",
        output_text(&out),
        root.log()
    );
    output_text(&out)
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn event_names(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .filter_map(event_of)
        .map(|(name, _)| name.to_owned())
        .collect()
}

fn has_event(lines: &[Value], name: &str, body: &Value) -> bool {
    lines.iter().filter_map(event_of).any(|e| e == (name, body))
}

fn items(root: &Root, pod: &str) -> Vec<(String, String)> {
    root.entries(pod).iter().map(item_of).collect()
}

fn pair(kind: &str, text: &str) -> (String, String) {
    (kind.to_owned(), text.to_owned())
}

/// Waits until the pod's committed items satisfy `pred`; returns them.
fn wait_items(
    root: &Root,
    pod: &str,
    what: &str,
    mut pred: impl FnMut(&[(String, String)]) -> bool,
) -> Vec<(String, String)> {
    let mut last = Vec::new();
    let ok = wait_until(WAIT, || {
        last = items(root, pod);
        pred(&last)
    });
    assert!(ok, "{pod}: {what}: items {last:?}\nlog:\n{}", root.log());
    last
}

/// The status in a fresh `ctl --json attach` snapshot of `pod`.
fn snapshot_status(root: &Root, pod: &str) -> String {
    let attach = root.ctl_stream(&["--json", "attach", pod]);
    let mut status = String::new();
    attach.wait_json("the snapshot", |lines| {
        lines.iter().filter_map(event_of).any(|(name, body)| {
            if name == "Snapshot" {
                status = body["status"].as_str().unwrap_or("").to_owned();
            }
            name == "Snapshot"
        })
    });
    status
}

#[test]
fn send_prints_the_echoed_reply_and_exits_0() {
    let root = start();
    let out = ctl_ok(&root, &["send", "greeter", "hello there, pod"]);
    assert!(out.contains("hello there, pod"), "stdout:\n{out}");
}

#[test]
fn json_send_streams_text_deltas_then_run_end_finished_then_ok() {
    let root = start();
    let text = "streamed in chunks of four characters";
    let lines = json_lines(&ctl_ok(&root, &["--json", "send", "greeter", text]));
    let deltas: String = lines
        .iter()
        .filter_map(event_of)
        .filter(|(name, _)| *name == "TextDelta")
        .map(|(_, body)| body["text"].as_str().expect("delta text").to_owned())
        .collect();
    assert_eq!(deltas, text, "lines: {lines:#?}");
    assert_eq!(
        lines[lines.len() - 2]["event"],
        json!({"RunEnd": {"result": "Finished"}}),
        "{lines:#?}"
    );
    let last = &lines[lines.len() - 1];
    assert!(last.get("ok").is_some(), "final line {last}");
    for line in &lines[..lines.len() - 1] {
        assert_eq!(line["pod"], "greeter", "{line}");
        assert_eq!(line["generation"], 1, "{line}");
    }
}

#[test]
fn json_send_streams_the_reply_as_it_is_produced() {
    let root = start();
    let send = root.ctl_stream(&["--json", "send", "slow", LONG]);
    send.wait_json("a first text delta", |lines| {
        event_names(lines).iter().any(|n| n == "TextDelta")
    });
    // The first delta is out while the reply is still being produced: the run has not
    // ended and the reply is not committed.
    let seen = send.json_lines();
    assert!(
        !event_names(&seen).iter().any(|n| n == "RunEnd"),
        "whole run arrived at once: {seen:#?}"
    );
    let committed = items(&root, "slow");
    assert!(
        !committed.contains(&pair("Assistant", LONG)),
        "reply already committed when the first delta arrived: {committed:?}"
    );
    send.wait_json("the end of the run", |lines| {
        lines.last().is_some_and(|l| l.get("ok").is_some())
    });
}

#[test]
fn command_engine_replies_with_the_commands_stdout() {
    let root = start();
    let out = ctl_ok(&root, &["send", "upper", "make me loud"]);
    assert!(out.contains("MAKE ME LOUD"), "stdout:\n{out}");
    let got = wait_items(&root, "upper", "reply committed", |items| {
        items.contains(&pair("Assistant", "MAKE ME LOUD"))
    });
    assert_eq!(got[0], pair("User", "make me loud"));
}

#[test]
fn a_failing_command_fails_the_send_with_its_exit_code_and_stderr() {
    let root = start();
    let out = ctl_fails(&root, &["send", "failing", "anything"], 1);
    assert!(out.contains("exit"), "{out}");
    assert!(out.contains('3'), "{out}");
    assert!(out.contains("oops"), "{out}");
    let json = ctl(&root, &["--json", "send", "failing", "again"]);
    assert_eq!(json.status.code(), Some(1), "{}", output_text(&json));
    let lines = json_lines(&String::from_utf8_lossy(&json.stdout));
    assert!(
        lines.last().is_some_and(|l| l.get("error").is_some()),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .filter_map(event_of)
            .any(|(name, body)| name == "Error"
                && body["message"].as_str().is_some_and(|m| m.contains("oops"))),
        "{lines:#?}"
    );
}

#[test]
fn send_no_wait_returns_once_the_input_is_committed() {
    let root = start();
    let out = ctl_ok(&root, &["send", "--no-wait", "slower", LONG]);
    assert!(out.contains("committed"), "{out}");
    // The turn takes eight seconds; the input is in the log and the reply is not.
    let now = items(&root, "slower");
    assert!(now.contains(&pair("User", LONG)), "{now:?}");
    assert!(!now.contains(&pair("Assistant", LONG)), "{now:?}");
    let logs = ctl_ok(&root, &["logs", "slower"]);
    assert!(logs.contains(&format!("user: {LONG}")), "{logs}");
    ctl_ok(&root, &["cancel", "slower"]);
}

#[test]
fn send_while_a_turn_runs_fails_with_already_running_and_the_first_finishes() {
    let root = start();
    let first = root.ctl_stream(&["--json", "send", "slow", LONG]);
    first.wait_json("the first turn streaming", |lines| {
        event_names(lines).iter().any(|n| n == "TextDelta")
    });
    let out = ctl_fails(&root, &["send", "slow", "me too"], 1);
    assert!(out.to_lowercase().contains("already"), "{out}");
    let mut first = first;
    let status = first.wait_exit(WAIT).expect("first send ends");
    assert!(status.success(), "{status:?}: {}", first.text());
    let lines = first.json_lines();
    assert!(
        has_event(&lines, "RunEnd", &json!({"result": "Finished"})),
        "{lines:#?}"
    );
    let got = items(&root, "slow");
    assert!(got.contains(&pair("Assistant", LONG)), "{got:?}");
    assert!(!got.contains(&pair("User", "me too")), "{got:?}");
}

#[test]
fn pause_mid_stream_leaves_the_pod_paused_and_resume_runs_the_turn_to_the_end() {
    let root = start();
    let attach = root.ctl_stream(&["--json", "attach", "slow"]);
    attach.wait_json("the snapshot", |lines| {
        event_names(lines).iter().any(|n| n == "Snapshot")
    });
    let send = root.ctl_stream(&["--json", "send", "slow", LONG]);
    send.wait_json("the turn streaming", |lines| {
        event_names(lines).iter().any(|n| n == "TextDelta")
    });
    ctl_ok(&root, &["pause", "slow"]);
    attach.wait_json("RunEnd Paused and status Paused", |lines| {
        has_event(lines, "RunEnd", &json!({"result": "Paused"}))
            && has_event(lines, "Status", &json!({"status": "Paused"}))
    });
    assert_eq!(snapshot_status(&root, "slow"), "Paused");
    // Pausing a paused pod changes nothing.
    ctl_ok(&root, &["pause", "slow"]);
    let before = attach.json_lines().len();
    ctl_ok(&root, &["resume", "slow"]);
    attach.wait_json("the resumed turn finishing", |lines| {
        has_event(&lines[before..], "RunEnd", &json!({"result": "Finished"}))
    });
    let got = items(&root, "slow");
    assert!(got.contains(&pair("Assistant", LONG)), "{got:?}");
    assert_eq!(snapshot_status(&root, "slow"), "Idle");
}

#[test]
fn pause_while_idle_fails_with_not_running() {
    let root = start();
    let out = ctl_fails(&root, &["pause", "greeter"], 1);
    assert!(out.contains("NotRunning"), "{out}");
}

#[test]
fn resume_while_idle_fails_with_not_paused() {
    let root = start();
    let out = ctl_fails(&root, &["resume", "greeter"], 1);
    assert!(out.contains("NotPaused"), "{out}");
}

#[test]
fn cancel_while_idle_fails_with_not_running() {
    let root = start();
    let out = ctl_fails(&root, &["cancel", "greeter"], 1);
    assert!(out.contains("NotRunning"), "{out}");
}

#[test]
fn cancel_mid_turn_ends_it_cancelled_and_the_pod_takes_new_input() {
    let root = start();
    let attach = root.ctl_stream(&["--json", "attach", "slower"]);
    attach.wait_json("the snapshot", |lines| {
        event_names(lines).iter().any(|n| n == "Snapshot")
    });
    let mut send = root.ctl_stream(&["--json", "send", "slower", LONG]);
    send.wait_json("the turn streaming", |lines| {
        event_names(lines).iter().any(|n| n == "TextDelta")
    });
    ctl_ok(&root, &["cancel", "slower"]);
    attach.wait_json("RunEnd Cancelled", |lines| {
        has_event(lines, "RunEnd", &json!({"result": "Cancelled"}))
    });
    // The sender is told the turn was cancelled, as a failure.
    let status = send.wait_exit(WAIT).expect("the cancelled send ends");
    assert_eq!(status.code(), Some(1), "{}", send.text());
    assert!(send.text().contains("cancelled"), "{}", send.text());
    assert_eq!(snapshot_status(&root, "slower"), "Idle");
    let got = items(&root, "slower");
    assert!(!got.contains(&pair("Assistant", LONG)), "{got:?}");
    let lines = json_lines(&ctl_ok(&root, &["--json", "send", "slower", "ok"]));
    assert!(
        has_event(&lines, "RunEnd", &json!({"result": "Finished"})),
        "{lines:#?}"
    );
}

#[test]
fn notify_while_idle_starts_a_turn_by_itself() {
    let root = start();
    let out = ctl_ok(&root, &["notify", "greeter", "the build is green"]);
    assert!(out.contains("notified"), "{out}");
    let got = wait_items(&root, "greeter", "a turn for the notification", |items| {
        items.ends_with(&[
            pair("Notification", "the build is green"),
            pair("Assistant", "the build is green"),
        ])
    });
    assert_eq!(got.len(), 2, "{got:?}");
}

#[test]
fn notify_while_running_is_delivered_in_a_turn_after_the_current_one() {
    let root = start();
    let mut send = root.ctl_stream(&["--json", "send", "slow", LONG]);
    send.wait_json("the turn streaming", |lines| {
        event_names(lines).iter().any(|n| n == "TextDelta")
    });
    ctl_ok(&root, &["notify", "slow", "meanwhile"]);
    let status = send.wait_exit(WAIT).expect("the send ends");
    assert!(status.success(), "{}", send.text());
    let got = wait_items(&root, "slow", "the notification's turn", |items| {
        items.contains(&pair("Assistant", "meanwhile"))
    });
    assert_eq!(
        got,
        [
            pair("User", LONG),
            pair("Assistant", LONG),
            pair("Notification", "meanwhile"),
            pair("Assistant", "meanwhile"),
        ]
    );
}

#[test]
fn send_to_a_stopped_pod_says_it_is_not_running_and_how_to_start_it() {
    let root = start();
    ctl_ok(&root, &["stop", "greeter"]);
    root.wait_state("greeter", "stopped");
    let out = ctl_fails(&root, &["send", "greeter", "anyone?"], 1);
    assert!(out.contains("not running"), "{out}");
    assert!(out.contains("ctl start greeter"), "{out}");
}

#[test]
fn send_to_a_process_is_refused_as_not_a_pod() {
    let root = start();
    let out = ctl(&root, &["send", "ticker", "tick"]);
    assert!(!out.status.success(), "{}", output_text(&out));
    let text = output_text(&out);
    assert!(text.contains("ticker"), "{text}");
    assert!(text.contains("not a pod"), "{text}");
}

#[test]
fn send_to_an_unknown_name_fails_naming_it() {
    let root = start();
    let out = ctl_fails(&root, &["send", "nosuch", "x"], 1);
    assert!(out.contains("nosuch"), "{out}");
}

#[test]
fn logs_n_shows_only_the_last_n_entries() {
    let root = start();
    ctl_ok(&root, &["send", "greeter", "one"]);
    ctl_ok(&root, &["send", "greeter", "two"]);
    let lines = json_lines(&ctl_ok(&root, &["--json", "logs", "-n", "2", "greeter"]));
    let entries = podsup_tests::committed_entries(&lines);
    let seqs: Vec<_> = entries.iter().map(|e| e["seq"].clone()).collect();
    assert_eq!(seqs, [json!(2), json!(3)], "{lines:#?}");
    assert_eq!(
        entries.iter().map(item_of).collect::<Vec<_>>(),
        [pair("User", "two"), pair("Assistant", "two")]
    );
}

#[test]
fn logs_prints_replies_as_well_as_inputs() {
    let root = start();
    ctl_ok(&root, &["send", "greeter", "one"]);
    ctl_ok(&root, &["send", "greeter", "two"]);
    let all = ctl_ok(&root, &["logs", "greeter"]);
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(
        lines,
        [
            "#0 user: one",
            "#1 assistant: one",
            "#2 user: two",
            "#3 assistant: two"
        ],
        "ctl logs greeter"
    );
    let last = ctl_ok(&root, &["logs", "-n", "2", "greeter"]);
    assert_eq!(
        last.lines().collect::<Vec<_>>(),
        ["#2 user: two", "#3 assistant: two"],
        "ctl logs -n 2 greeter"
    );
}

#[test]
fn logs_follow_streams_entries_as_they_are_committed() {
    let root = start();
    ctl_ok(&root, &["send", "greeter", "before"]);
    let follow = root.ctl_stream(&["--json", "logs", "-f", "greeter"]);
    follow.wait_json("the existing entries", |lines| {
        podsup_tests::committed_entries(lines).len() == 2
    });
    ctl_ok(&root, &["send", "greeter", "after"]);
    follow.wait_json("the new entries", |lines| {
        let got: Vec<_> = podsup_tests::committed_entries(lines)
            .iter()
            .map(item_of)
            .collect();
        got == [
            pair("User", "before"),
            pair("Assistant", "before"),
            pair("User", "after"),
            pair("Assistant", "after"),
        ]
    });
    let seqs: Vec<_> = podsup_tests::committed_entries(&follow.json_lines())
        .iter()
        .map(|e| e["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(seqs, [0, 1, 2, 3]);
    // Dropping `follow` kills the client; the pod goes on.
    drop(follow);
    ctl_ok(&root, &["send", "greeter", "still here"]);
}
