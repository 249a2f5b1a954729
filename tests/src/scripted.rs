use std::time::Duration;

use serde_json::{Value, json};

use super::llm_pod::{bodies, ctl_json};
use super::mock_llm::{MockLlm, openai};
use super::{Root, WAIT, output_text, wait_until};

/// A tool's answer, as the pod committed it (and streamed it: [`Scripted::call`]
/// checks the two agree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolResult {
    /// What the model was given.
    pub output: String,
    /// Whether the tool failed.
    pub is_error: bool,
}

impl ToolResult {
    /// The output; panics if the tool failed.
    pub fn ok(&self) -> &str {
        assert!(!self.is_error, "the tool failed: {}", self.output);
        &self.output
    }

    /// The output parsed as JSON; panics if the tool failed.
    pub fn json(&self) -> Value {
        serde_json::from_str(self.ok())
            .unwrap_or_else(|e| panic!("tool output is not JSON ({e}): {}", self.output))
    }

    /// The refusal text; panics if the tool succeeded.
    pub fn refusal(&self) -> &str {
        assert!(self.is_error, "the tool succeeded: {}", self.output);
        &self.output
    }
}

/// A root, the llm pod under test and the provider scripting it. The root (and its
/// pods) drops before the provider.
#[derive(Debug)]
pub struct Scripted {
    /// The running root.
    pub root: Root,
    /// The provider the pod is aimed at.
    pub mock: MockLlm,
    pod: String,
    /// Replies pushed so far.
    pushed: usize,
    /// Tool calls made so far (for unique call ids).
    calls: usize,
}

impl Scripted {
    /// Drives `pod` of `root`, which is aimed at `mock` and has not asked it anything.
    pub fn new(root: Root, mock: MockLlm, pod: &str) -> Scripted {
        Scripted {
            root,
            mock,
            pod: pod.to_owned(),
            pushed: 0,
            calls: 0,
        }
    }

    /// Pushes `n` plain replies for the pod-event turns about to happen.
    pub fn expect_pod_event_turns(&mut self, n: usize) {
        for _ in 0..n {
            self.mock.push(openai::text(&["noted"], Duration::ZERO));
        }
        self.pushed += n;
    }

    /// Waits until every pushed reply was asked for and the pod is idle.
    pub fn settle(&self) {
        let pod = &self.pod;
        let mut requests = 0;
        let mut status = String::new();
        let settled = wait_until(WAIT, || {
            requests = self.mock.requests().len();
            status = pod_status(&self.root, pod);
            requests == self.pushed && status == "idle"
        });
        assert!(
            settled,
            "{pod} did not settle: {requests} requests for {} replies, status {status:?}\n\
             {pod}'s log:\n{}\nlog:\n{}",
            self.pushed,
            self.root
                .try_entries(pod)
                .unwrap_or_default()
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
            self.root.log()
        );
    }

    /// One turn of the pod in which the model calls `tool` with `args`, then says
    /// "done"; `pod_event_turns` more turns follow from what the call causes. Returns
    /// the call's result, checking that the `ToolResult` event `ctl --json send`
    /// streamed and the entry committed to the pod's log say the same.
    pub fn call(&mut self, tool: &str, args: Value, pod_event_turns: usize) -> ToolResult {
        self.settle();
        self.calls += 1;
        let id = format!("call-{}", self.calls);
        self.mock
            .push(openai::tool_call(&id, tool, &[&args.to_string()]));
        self.mock.push(openai::text(&["done"], Duration::ZERO));
        self.pushed += 2;
        self.expect_pod_event_turns(pod_event_turns);
        let lines = ctl_json(
            &self.root,
            &["send", &self.pod, &format!("please {tool}")],
            0,
        );
        self.settle();
        let streamed = bodies(&lines, "ToolResult")
            .into_iter()
            .find(|body| body["id"] == id.as_str())
            .unwrap_or_else(|| panic!("no ToolResult event for {id} ({tool}) in {lines:#?}"))
            .clone();
        let entries = self.root.entries(&self.pod);
        let committed = entries
            .iter()
            .map(|e| &e["item"]["ToolResult"])
            .find(|r| r["id"] == id.as_str())
            .unwrap_or_else(|| panic!("no committed ToolResult for {id} ({tool}) in {entries:#?}"));
        assert_eq!(
            json!([streamed["output"], streamed["is_error"]]),
            json!([committed["output"], committed["is_error"]]),
            "{tool}: the streamed and the committed result differ"
        );
        ToolResult {
            output: committed["output"].as_str().unwrap_or_default().to_owned(),
            is_error: committed["is_error"].as_bool().expect("is_error"),
        }
    }

    /// `kill -9` of `child`, a temporary pod the pod spawned: `Crashed` and `Reclaimed`
    /// reach the pod (two turns: the first starts at `Crashed`, the second is for
    /// `Reclaimed`, whether it arrives during the first or after it); returns once
    /// both are committed and the pod is idle again.
    pub fn kill_temporary(&mut self, child: &str) {
        let pid = self.root.pid_of(child);
        self.settle();
        self.expect_pod_event_turns(2);
        super::signal(pid, libc::SIGKILL);
        self.root
            .wait_entries(&self.pod, &format!("{child} reclaimed"), |entries| {
                super::spawning::events_about(entries, child)
                    .iter()
                    .any(|(kind, _)| kind == "Reclaimed")
            });
        self.settle();
    }

    /// `ctl --json inspect POD`, which must succeed.
    pub fn inspect(&self, pod: &str) -> Value {
        let out = self.root.ctl(&["--json", "inspect", pod]);
        assert!(
            out.status.success(),
            "ctl inspect {pod}: {}",
            output_text(&out)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("ctl inspect {pod} is not JSON ({e}): {out:?}"))
    }
}

/// A pod's controller status (`idle`, `running`, …) from `ctl --json inspect`; empty
/// if ctl fails.
pub fn pod_status(root: &Root, pod: &str) -> String {
    let out = root.ctl(&["--json", "inspect", pod]);
    if !out.status.success() {
        return String::new();
    }
    let described: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    described["status"].as_str().unwrap_or_default().to_owned()
}
