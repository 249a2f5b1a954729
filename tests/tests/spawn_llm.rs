//! Pods that spawn pods through an `llm` pod's own tools: the scripted provider
//! ([`MockLlm`]) answers a `ctl send` with a tool call (`spawn_pod`, `send_to_pod`,
//! `read_pod_output`, `list_pods`, `list_visible_pods`, `inspect_pod`, `stop_pod`), the
//! pod runs it against the root, and the test reads the `ToolResult` in the spawner's log.
//!
//! Every pod event the spawner receives (`TurnEnded`, `Crashed`, …) starts a turn of its
//! own, which asks the provider too. So the script is kept in step: before each scripted
//! turn the spawner is idle and every reply pushed so far has been asked for, and each step
//! says how many pod-event turns it causes (each answered "noted").

use std::time::Duration;

use podsup_tests::mock_llm::{MockLlm, openai};
use podsup_tests::spawning::{events_about, replay, spawned_nodes};
use podsup_tests::{Root, WAIT, alive, output_text, signal, wait_until};
use serde_json::{Value, json};

/// The llm spawner.
const BOSS: &str = "boss";

/// An llm spawner at `base_url` that gives up on a provider error at once (a pod-event
/// turn nobody scripted fails fast), next to an echo pod that spawns pods of its own.
fn tree(base_url: &str) -> String {
    format!(
        r#"
name = "spawn-llm"
strategy = "one_for_one"
max_restarts = 100
within = "10s"

[[child]]
name = "{BOSS}"
kind = "pod"
engine = "llm"

[child.llm]
scheme = "openai_chat"
base_url = "{base_url}"
model = "mock-model"
request_timeout = "5s"
idle_timeout = "2s"
max_attempts = 1

[[child]]
name = "peer"
kind = "pod"
engine = "echo"
"#
    )
}

/// A tool's answer as the spawner's log records it.
#[derive(Debug)]
struct ToolResult {
    output: String,
    is_error: bool,
}

impl ToolResult {
    /// The output parsed as JSON; panics if the tool failed.
    fn json(&self) -> Value {
        assert!(!self.is_error, "the tool failed: {}", self.output);
        serde_json::from_str(&self.output)
            .unwrap_or_else(|e| panic!("tool output is not JSON ({e}): {}", self.output))
    }

    /// The refusal text; panics if the tool succeeded.
    fn refusal(&self) -> &str {
        assert!(self.is_error, "the tool succeeded: {}", self.output);
        &self.output
    }
}

/// A root with an llm spawner and the provider that scripts it.
struct Scripted {
    mock: MockLlm,
    root: Root,
    /// Replies pushed so far.
    pushed: usize,
    /// Tool calls made so far (for unique call ids).
    calls: usize,
}

impl Scripted {
    fn start() -> Scripted {
        let mock = MockLlm::start();
        let root = Root::start(&tree(&mock.url()));
        root.wait_running(BOSS, 1);
        root.wait_running("peer", 1);
        Scripted {
            mock,
            root,
            pushed: 0,
            calls: 0,
        }
    }

    /// Pushes `n` plain replies for the pod-event turns about to happen.
    fn expect_pod_event_turns(&mut self, n: usize) {
        for _ in 0..n {
            self.mock.push(openai::text(&["noted"], Duration::ZERO));
        }
        self.pushed += n;
    }

    /// Waits until every pushed reply was asked for and the spawner is idle.
    fn settle(&self) {
        let mut requests = 0;
        let mut status = String::new();
        let settled = wait_until(WAIT, || {
            requests = self.mock.requests().len();
            status = pod_status(&self.root, BOSS);
            requests == self.pushed && status == "idle"
        });
        assert!(
            settled,
            "the spawner did not settle: {requests} requests for {} replies, status {status:?}\n\
             {BOSS}'s log:\n{}\nlog:\n{}",
            self.pushed,
            self.root
                .entries(BOSS)
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
            self.root.log()
        );
    }

    /// One turn of the spawner in which the model calls `tool` with `args`, then says
    /// "done"; `pod_event_turns` more turns follow from what the call causes. Returns the
    /// call's result as the spawner's log records it.
    fn call(&mut self, tool: &str, args: Value, pod_event_turns: usize) -> ToolResult {
        self.settle();
        self.calls += 1;
        let id = format!("call-{}", self.calls);
        self.mock
            .push(openai::tool_call(&id, tool, &[&args.to_string()]));
        self.mock.push(openai::text(&["done"], Duration::ZERO));
        self.pushed += 2;
        self.expect_pod_event_turns(pod_event_turns);
        let out = self.root.ctl(&["send", BOSS, &format!("please {tool}")]);
        assert!(
            out.status.success(),
            "ctl send {BOSS}: {}\nlog:\n{}",
            output_text(&out),
            self.root.log()
        );
        self.settle();
        let entries = self.root.entries(BOSS);
        let result = entries
            .iter()
            .map(|e| &e["item"]["ToolResult"])
            .find(|r| r["id"] == id.as_str())
            .unwrap_or_else(|| panic!("no ToolResult for {id} ({tool}) in {entries:#?}"));
        ToolResult {
            output: result["output"].as_str().unwrap_or_default().to_owned(),
            is_error: result["is_error"].as_bool().expect("is_error"),
        }
    }
}

/// A pod's controller status (`idle`, `running`, …) from `ctl --json inspect`.
fn pod_status(root: &Root, pod: &str) -> String {
    let out = root.ctl(&["--json", "inspect", pod]);
    if !out.status.success() {
        return String::new();
    }
    // `--json inspect` prints the pod's description as one JSON object.
    let described: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    described["status"].as_str().unwrap_or_default().to_owned()
}

/// The committed items of `pod` as `(variant, text)`, for the user and assistant turns.
fn texts(root: &Root, pod: &str) -> Vec<(String, String)> {
    root.entries(pod)
        .iter()
        .map(podsup_tests::item_of)
        .collect()
}

#[test]
fn spawn_pod_then_send_to_pod_then_read_pod_output_shows_the_childs_reply() {
    let mut s = Scripted::start();
    let spawned = s.call("spawn_pod", json!({ "name": "w" }), 0).json();
    assert_eq!(spawned["name"], "boss/w", "{spawned:#}");
    assert_eq!(spawned["generation"], 1, "{spawned:#}");
    let listed = spawned_nodes(&s.root.status(), BOSS);
    assert_eq!(listed.len(), 1, "{listed:#?}");
    assert_eq!(
        (&listed[0]["name"], &listed[0]["state"], &listed[0]["pid"]),
        (&json!("boss/w"), &json!("running"), &spawned["pid"])
    );
    let record = &s.root.wait_recorded(BOSS, "boss/w");
    assert_eq!(replay(record)["boss/w"]["restart"], "temporary");

    let sent = s
        .call("send_to_pod", json!({ "name": "w", "text": "ping" }), 1)
        .json();
    assert_eq!(sent, json!({ "sent": "boss/w", "generation": 1 }));
    let entries = s.root.wait_entries(BOSS, "TurnEnded of boss/w", |e| {
        !events_about(e, "boss/w").is_empty()
    });
    assert_eq!(
        events_about(&entries, "boss/w"),
        [("TurnEnded".to_owned(), json!({ "pod_name": "boss/w" }))]
    );

    let read = s.call("read_pod_output", json!({ "name": "w" }), 0).json();
    assert_eq!(read["name"], "boss/w", "{read:#}");
    let items: Vec<(String, String)> = read["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(podsup_tests::item_of)
        .collect();
    assert_eq!(
        items,
        [
            ("User".to_owned(), "ping".to_owned()),
            ("Assistant".to_owned(), "ping".to_owned())
        ],
        "{read:#}"
    );
    assert_eq!(texts(&s.root, "boss/w"), items, "ctl logs agrees");
}

#[test]
fn list_pods_lists_the_spawned_pods_and_list_visible_pods_the_spawner_too() {
    let mut s = Scripted::start();
    s.call(
        "spawn_pod",
        json!({ "name": "a", "restart": "permanent" }),
        0,
    )
    .json();
    s.call("spawn_pod", json!({ "name": "b" }), 0).json();
    let listed = s.call("list_pods", json!({}), 0).json();
    let pods = listed["pods"].as_array().expect("pods");
    let names: Vec<&str> = pods.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["boss/a", "boss/b"], "{listed:#}");
    for pod in pods {
        assert_eq!(
            (&pod["state"], &pod["generation"], &pod["spawned"]),
            (&json!("running"), &json!(1), &json!(true)),
            "{pod:#}"
        );
        assert!(alive(pod["pid"].as_u64().expect("pid") as u32), "{pod:#}");
    }
    let visible = s.call("list_visible_pods", json!({}), 0).json();
    let names: Vec<&str> = visible["pods"]
        .as_array()
        .expect("pods")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, [BOSS, "boss/a", "boss/b"], "{visible:#}");
}

#[test]
fn send_to_pod_addressed_to_a_replaced_generation_is_refused_with_stale_generation() {
    let mut s = Scripted::start();
    let spawned = s
        .call(
            "spawn_pod",
            json!({ "name": "w", "restart": "permanent" }),
            0,
        )
        .json();
    assert_eq!(spawned["generation"], 1, "{spawned:#}");
    let pid = s.root.pid_of("boss/w");
    s.settle();
    // Crashed, then Restarted: two pod events, two turns of the spawner.
    s.expect_pod_event_turns(2);
    signal(pid, libc::SIGKILL);
    s.root.wait_running("boss/w", 2);
    s.settle();

    let stale = s.call(
        "send_to_pod",
        json!({ "name": "w", "text": "to the old one", "generation": 1 }),
        0,
    );
    let refusal = stale.refusal();
    assert!(refusal.contains("StaleGeneration"), "{refusal}");
    assert!(refusal.contains("boss/w"), "{refusal}");
    assert!(
        !texts(&s.root, "boss/w")
            .iter()
            .any(|(_, text)| text == "to the old one"),
        "the refused text reached the pod"
    );

    let current = s
        .call(
            "send_to_pod",
            json!({ "name": "w", "text": "to the new one", "generation": 2 }),
            1,
        )
        .json();
    assert_eq!(current, json!({ "sent": "boss/w", "generation": 2 }));
}

#[test]
fn inspect_pod_of_a_pod_another_spawned_is_not_visible_and_of_a_missing_pod_not_found() {
    let mut s = Scripted::start();
    s.call("spawn_pod", json!({ "name": "w" }), 0).json();
    let out = s.root.ctl(&["spawn", "peer", "x"]);
    assert!(
        out.status.success(),
        "ctl spawn peer x: {}",
        output_text(&out)
    );

    let own = s.call("inspect_pod", json!({ "name": "w" }), 0).json();
    assert_eq!(
        (&own["name"], &own["parent"], &own["spawned"]),
        (&json!("boss/w"), &json!(BOSS), &json!(true)),
        "{own:#}"
    );
    let strangers = s.call("inspect_pod", json!({ "name": "peer/x" }), 0);
    let refusal = strangers.refusal();
    assert!(refusal.contains("NotVisible"), "{refusal}");
    assert!(refusal.contains("peer/x"), "{refusal}");
    for missing in ["peer/missing", "ghost"] {
        let answer = s.call("inspect_pod", json!({ "name": missing }), 0);
        let refusal = answer.refusal();
        assert!(refusal.contains("NotFound"), "{missing}: {refusal}");
        assert!(refusal.contains(missing), "{missing}: {refusal}");
    }
}

#[test]
fn stop_pod_ends_the_child_for_good_and_the_spawner_records_it_reclaimed() {
    let mut s = Scripted::start();
    s.call(
        "spawn_pod",
        json!({ "name": "w", "restart": "permanent" }),
        0,
    )
    .json();
    let pid = s.root.pid_of("boss/w");
    // ShutDown and Reclaimed both arrive while the stop_pod turn runs: one more turn.
    let stopped = s.call("stop_pod", json!({ "name": "w" }), 1).json();
    assert_eq!(stopped, json!({ "stopped": "boss/w", "reclaimed": true }));
    assert!(
        wait_until(WAIT, || !alive(pid)),
        "the stopped pod is still alive"
    );
    let status = s.root.status();
    assert!(
        spawned_nodes(&status, BOSS).is_empty(),
        "a reclaimed pod is still listed: {status:#}"
    );
    let entries = s.root.entries(BOSS);
    let events = events_about(&entries, "boss/w");
    assert_eq!(
        events.last(),
        Some(&("Reclaimed".to_owned(), json!({ "pod_name": "boss/w" }))),
        "{events:#?}"
    );
    assert!(replay(&entries).is_empty(), "{:#?}", replay(&entries));
}

#[test]
fn spawn_pod_delegating_scope_the_spawner_does_not_hold_is_refused_with_scope_denied() {
    let mut s = Scripted::start();
    // The tree gives the spawner no scope, so it has nothing to delegate.
    let scope = json!([{ "target": "src", "write": true, "recursive": true }]);
    let answer = s.call("spawn_pod", json!({ "name": "w", "scope": scope }), 0);
    let refusal = answer.refusal();
    assert!(refusal.contains("ScopeDenied"), "{refusal}");
    assert!(refusal.contains("src"), "{refusal}");
    assert!(spawned_nodes(&s.root.status(), BOSS).is_empty());
    let entries = s.root.entries(BOSS);
    assert!(replay(&entries).is_empty(), "{:#?}", replay(&entries));
}
