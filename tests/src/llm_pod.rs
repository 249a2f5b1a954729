use std::process::Output;

use serde_json::Value;

use super::mock_llm::MockLlm;
use super::{Root, WAIT, ctl_command, event_of, item_of, output_text, output_within};

/// The llm pod of [`tree`].
pub const POD: &str = "planner";

/// A tree with one `engine = "llm"` pod, [`POD`], speaking `scheme` (`openai_chat` or
/// `anthropic`) to `base_url` without a key, with timeouts and backoffs short enough
/// for tests: 5 s until headers, 500 ms of silence in a stream, retries after 10 ms
/// doubling up to 200 ms. `extra` adds lines to the llm table (`max_attempts = 2`,
/// `api_key_env = "…"`).
pub fn tree(scheme: &str, base_url: &str, extra: &str) -> String {
    format!(
        r#"
name = "llm"
strategy = "one_for_one"
max_restarts = 100
within = "10s"

[[child]]
name = "{POD}"
kind = "pod"
engine = "llm"

[child.llm]
scheme = "{scheme}"
base_url = "{base_url}"
model = "mock-model"
request_timeout = "5s"
idle_timeout = "500ms"
retry_initial = "10ms"
retry_max = "200ms"
{extra}
"#
    )
}

/// Starts [`tree`] at `mock` and waits until [`POD`] runs at generation 1.
pub fn start(mock: &MockLlm, scheme: &str, extra: &str) -> Root {
    let root = Root::start(&tree(scheme, &mock.url(), extra));
    root.wait_running(POD, 1);
    root
}

/// Runs `ctl ARGS…`, killed (and the test failed) if it takes longer than [`WAIT`].
pub fn ctl(root: &Root, args: &[&str]) -> Output {
    output_within(&mut ctl_command(&root.runtime_dir(), args), WAIT)
}

/// Runs `ctl ARGS…` expecting exit code `code`; returns its output.
pub fn ctl_code(root: &Root, args: &[&str], code: i32) -> Output {
    let out = ctl(root, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "ctl {args:?}: {}\nlog:\n{}",
        output_text(&out),
        root.log()
    );
    out
}

/// Runs `ctl --json ARGS…` expecting exit code `code`; returns its stdout lines, each
/// parsed as JSON.
pub fn ctl_json(root: &Root, args: &[&str], code: i32) -> Vec<Value> {
    let args: Vec<&str> = ["--json"].iter().chain(args).copied().collect();
    json_lines(&ctl_code(root, &args, code).stdout)
}

/// Every line of `stdout` parsed as JSON; panics on a line that is not.
pub fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The variant names of the events in `lines`, in order.
pub fn event_names(lines: &[Value]) -> Vec<&str> {
    lines
        .iter()
        .filter_map(event_of)
        .map(|(name, _)| name)
        .collect()
}

/// The bodies of the events called `name` in `lines`, in order.
pub fn bodies<'a>(lines: &'a [Value], name: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter_map(event_of)
        .filter(|(n, _)| *n == name)
        .map(|(_, body)| body)
        .collect()
}

/// Where the first event called `name` is in `lines`.
pub fn position(lines: &[Value], name: &str) -> Option<usize> {
    lines
        .iter()
        .position(|l| event_of(l).is_some_and(|(n, _)| n == name))
}

/// The `TextDelta` texts of `lines`, concatenated.
pub fn streamed_text(lines: &[Value]) -> String {
    bodies(lines, "TextDelta")
        .iter()
        .map(|body| body["text"].as_str().expect("delta text"))
        .collect()
}

/// The `RunEnd` results in `lines` (`"Finished"`, `"Paused"`, …), in order.
pub fn run_ends(lines: &[Value]) -> Vec<&str> {
    bodies(lines, "RunEnd")
        .iter()
        .filter_map(|body| body["result"].as_str())
        .collect()
}

/// The committed items of `pod` (`ctl --json logs`) as `(variant, text)`.
pub fn items(root: &Root, pod: &str) -> Vec<(String, String)> {
    root.entries(pod).iter().map(item_of).collect()
}

/// `(kind, text)` as owned strings, to compare with [`items`].
pub fn pair(kind: &str, text: &str) -> (String, String) {
    (kind.to_owned(), text.to_owned())
}
