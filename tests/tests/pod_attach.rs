//! `ctl attach`: a snapshot of the committed history, then the pod's live events from any
//! client, across a `kill -9` and restart of the pod; and a client that stops reading never
//! holds the pod up — it is dropped with a notice.

use podsup_tests::{Root, Streaming, WAIT, ctl_command, event_of, item_of, output_text, signal};
use serde_json::json;

const TREE: &str = r#"
name = "attach"
strategy = "one_for_one"
max_restarts = 100
within = "10s"

[[child]]
name = "greeter"
kind = "pod"
engine = "echo"
echo = { chunk_chars = 4, delay_ms = 0 }

[[child]]
name = "firehose"
kind = "pod"
engine = "echo"
echo = { chunk_chars = 1, delay_ms = 0 }
"#;

/// Comfortably more events than the root buffers for one pod (`FEED_CAPACITY`) plus what
/// the socket holds, so a client that never reads must fall behind.
const FLOOD_CHARS: usize = 60_000;

fn start() -> Root {
    let root = Root::start(TREE);
    root.wait_running("greeter", 1);
    root.wait_running("firehose", 1);
    root
}

fn ctl_ok(root: &Root, args: &[&str]) -> String {
    let out = podsup_tests::output_within(&mut ctl_command(&root.runtime_dir(), args), WAIT);
    assert!(
        out.status.success(),
        "ctl {args:?} failed: {}\nlog:\n{}",
        output_text(&out),
        root.log()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn has_line(lines: &[String], want: &str) -> bool {
    lines.iter().any(|l| l == want)
}

#[test]
fn attach_prints_the_snapshot_then_live_events_from_other_clients() {
    let root = start();
    ctl_ok(&root, &["send", "greeter", "before"]);
    let attach = root.ctl_stream(&["attach", "greeter"]);
    attach.wait_stdout("the snapshot", |lines| has_line(lines, "== live"));
    let lines = attach.stdout_lines();
    assert!(
        lines[0].starts_with("== pod greeter generation 1"),
        "{lines:?}"
    );
    assert_eq!(
        lines[1..],
        ["#0 user: before", "#1 assistant: before", "== live"],
        "{lines:?}"
    );
    ctl_ok(&root, &["send", "greeter", "hello live"]);
    attach.wait_stdout("the other client's turn", |lines| {
        lines.ends_with(&[
            "#2 user: hello live".to_owned(),
            "hello live".to_owned(),
            "[run ended: finished]".to_owned(),
        ])
    });
}

#[test]
fn attach_keeps_going_across_a_kill_9_of_the_pod() {
    let root = start();
    let mut attach = root.ctl_stream(&["attach", "greeter"]);
    attach.wait_stdout("the snapshot", |lines| has_line(lines, "== live"));
    ctl_ok(&root, &["send", "greeter", "first life"]);
    attach.wait_stdout("the first turn", |lines| has_line(lines, "first life"));

    signal(root.pid_of("greeter"), libc::SIGKILL);
    root.wait_running("greeter", 2);
    let noticed = podsup_tests::wait_until(WAIT, || {
        let err = attach.stderr_lines();
        let exited = err
            .iter()
            .position(|l| l.contains("generation 1") && l.contains("exited"));
        let back = err
            .iter()
            .position(|l| l.contains("up again (generation 2)"));
        matches!((exited, back), (Some(e), Some(b)) if e < b)
    });
    assert!(
        noticed,
        "no notice that the pod exited and came back:\n{}",
        attach.text()
    );
    attach.wait_stdout("the new generation's snapshot", |lines| {
        lines
            .iter()
            .any(|l| l.starts_with("== pod greeter generation 2"))
    });
    ctl_ok(&root, &["send", "greeter", "second life"]);
    attach.wait_stdout("a turn of the new generation", |lines| {
        lines.ends_with(&[
            "#2 user: second life".to_owned(),
            "second life".to_owned(),
            "[run ended: finished]".to_owned(),
        ])
    });
    assert!(attach.try_exit().is_none(), "{}", attach.text());
}

#[test]
fn json_attach_starts_with_a_snapshot_object() {
    let root = start();
    ctl_ok(&root, &["send", "greeter", "in the snapshot"]);
    let attach = root.ctl_stream(&["--json", "attach", "greeter"]);
    attach.wait_json("the first event", |lines| !lines.is_empty());
    let first = attach.json_lines()[0].clone();
    assert_eq!(first["pod"], "greeter", "{first}");
    assert_eq!(first["generation"], 1, "{first}");
    let Some(("Snapshot", snapshot)) = event_of(&first) else {
        panic!("first object is not a Snapshot: {first}");
    };
    assert_eq!(snapshot["status"], "Idle", "{first}");
    let entries: Vec<_> = snapshot["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(item_of)
        .collect();
    assert_eq!(
        entries,
        [
            ("User".to_owned(), "in the snapshot".to_owned()),
            ("Assistant".to_owned(), "in the snapshot".to_owned())
        ]
    );
    ctl_ok(&root, &["send", "greeter", "live"]);
    attach.wait_json("the live RunEnd", |lines| {
        lines
            .iter()
            .filter_map(event_of)
            .any(|e| e == ("RunEnd", &json!({"result": "Finished"})))
    });
}

/// Attaches a `ctl --json attach firehose` client that never reads, waits until the root
/// has taken its request, and runs a turn of [`FLOOD_CHARS`] events to its end.
fn flood_past_a_stalled_client(root: &Root) -> Streaming {
    let stalled = Streaming::spawn_unread(&mut ctl_command(
        &root.runtime_dir(),
        &["--json", "attach", "firehose"],
    ));
    let taken = podsup_tests::wait_until(WAIT, || {
        root.log().contains(r#"Attach { name: "firehose" }"#)
    });
    assert!(
        taken,
        "the root never took the attach; log:\n{}",
        root.log()
    );
    let flood = "x".repeat(FLOOD_CHARS);
    ctl_ok(root, &["send", "--no-wait", "firehose", &flood]);
    // The turn ends although one subscriber has not read a byte.
    let mut last = None;
    let finished = podsup_tests::wait_until(WAIT, || {
        last = root.entries("firehose").last().map(item_of);
        last.as_ref()
            .is_some_and(|(kind, text)| kind == "Assistant" && text.len() == FLOOD_CHARS)
    });
    assert!(
        finished,
        "the flood turn did not finish with a stalled client attached (last entry {:?})\nlog:\n{}",
        last.map(|(k, t)| (k, t.len())),
        root.log()
    );
    stalled
}

/// Waits until the root has relayed everything the firehose emitted so far: a fresh
/// attach's snapshot comes after it. An attach that falls behind on the way is retried.
fn wait_flood_relayed(root: &Root) {
    let relayed = podsup_tests::wait_until(WAIT, || {
        let mut attach = root.ctl_stream(&["--json", "attach", "firehose"]);
        let mut idle = false;
        podsup_tests::wait_until(WAIT, || {
            idle = attach
                .json_lines()
                .iter()
                .filter_map(event_of)
                .any(|(name, body)| name == "Snapshot" && body["status"] == "Idle");
            idle || attach.try_exit().is_some()
        });
        idle
    });
    assert!(
        relayed,
        "no idle snapshot of firehose; log:\n{}",
        root.log()
    );
}

#[test]
fn a_stalled_attach_client_does_not_hold_up_the_pod() {
    let root = start();
    let mut stalled = flood_past_a_stalled_client(&root);
    // The pod still takes turns, and another client follows one to its end (once the
    // flood has passed through the root, which a prompt reader cannot outrun).
    wait_flood_relayed(&root);
    let out = ctl_ok(&root, &["--json", "send", "firehose", "next"]);
    assert!(out.contains(r#"{"RunEnd":{"result":"Finished"}}"#), "{out}");
    // Once it reads again, the stalled client learns it was dropped, and ends.
    stalled.start_reading();
    let ended = stalled.wait_exit(WAIT);
    let text = stalled.text();
    assert!(
        ended.is_some(),
        "the stalled client was never dropped:\n{}",
        tail(&text)
    );
    assert!(
        text.contains("behind"),
        "no notice that it fell behind:\n{}",
        tail(&text)
    );
}

#[test]
fn a_client_dropped_for_falling_behind_gets_the_notice_as_its_final_answer() {
    let root = start();
    let mut stalled = flood_past_a_stalled_client(&root);
    stalled.start_reading();
    let status = stalled.wait_exit(WAIT).expect("the dropped client ends");
    // The final answer is an error that says why the client was dropped.
    let last = stalled.json_lines().last().cloned();
    let message = last
        .as_ref()
        .and_then(|l| l["error"]["message"].as_str().map(str::to_owned));
    assert!(
        message.is_some_and(|m| m.contains("behind")),
        "the last line does not say the client fell behind:\n{}",
        tail(&stalled.text())
    );
    // Being dropped is an answer, not a broken connection.
    let stderr = stalled.stderr_lines().join("\n");
    assert!(
        !stderr.contains("without answering"),
        "exit {status:?}; the client reports a protocol failure after the notice:\n{stderr}"
    );
    assert_eq!(status.code(), Some(1), "{stderr}");
}

/// The last few lines of a long output.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(8);
    lines[from..]
        .iter()
        .map(|l| l.chars().take(300).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}
