//! `bash` and `read_spill`: output, the whole-directory rule, time limit, spill, cancel.

use std::time::Duration;

use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::{Pod, alive, eventually, ok, pid_in, refused, rule, view};

#[tokio::test]
async fn bash_runs_in_the_pod_directory_with_output_and_status() {
    let pod = Pod::whole();
    pod.put("a.txt", "from a\n");
    let out = ok(pod
        .call(
            "bash",
            json!({"command": "cat a.txt; echo err >&2; exit 3"}),
        )
        .await);
    assert_eq!(out, "[exit code 3]\nfrom a\nerr\n");
    let stdin = ok(pod.call("bash", json!({"command": "cat; echo done"})).await);
    assert_eq!(stdin, "[exit code 0]\ndone\n");
}

/// The variable an llm pod's key is read from never reaches a command the model runs.
/// `HOME` stands in for it: the test process always has it, and setting a variable in a
/// multi-threaded test is not sound.
#[tokio::test]
async fn bash_starts_without_the_hidden_variables() {
    let probe = json!({"command": "echo \"${HOME-unset}\""});
    let plain = ok(Pod::whole().call("bash", probe.clone()).await);
    assert!(
        plain.starts_with("[exit code 0]\n/"),
        "HOME should reach an unhidden shell: {plain:?}"
    );
    let hiding = Pod::hiding(view(vec![rule("", true, true)], vec![]), &["HOME"]);
    let hidden = ok(hiding.call("bash", probe).await);
    assert_eq!(hidden, "[exit code 0]\nunset\n");
}

#[tokio::test]
async fn bash_is_refused_without_write_on_the_whole_directory() {
    let narrow = Pod::new(view(vec![rule("src", true, true)], vec![]));
    refused(
        &narrow.call("bash", json!({"command": "touch x"})).await,
        "bash denied: this pod does not hold write on its whole directory (.), and a shell is not confined to paths",
    );
    let denied = Pod::new(view(
        vec![rule("", true, true)],
        vec![crate::deny("secrets")],
    ));
    refused(
        &denied.call("bash", json!({"command": "touch x"})).await,
        "bash denied: secrets is denied to this pod, and a shell could reach it",
    );
    assert!(!narrow.root.join("x").exists() && !denied.root.join("x").exists());
}

#[tokio::test]
async fn bash_timeout_kills_the_whole_tree() {
    let pod = Pod::whole();
    let started = std::time::Instant::now();
    let outcome = pod
        .call("bash", json!({"command": "sleep 300 & echo $! > bg.pid; echo started; sleep 300", "timeout_secs": 1}))
        .await;
    assert!(outcome.is_error, "{}", outcome.output);
    assert_eq!(
        outcome.output,
        "[timed out after 1 s; the command and everything it started were killed]\nstarted\n"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    let bg = pid_in(&pod.root.join("bg.pid")).await;
    assert!(
        eventually(Duration::from_secs(5), || !alive(bg)).await,
        "background sleep {bg} survived"
    );
}

#[tokio::test]
async fn long_output_is_capped_and_spilled_whole() {
    let pod = Pod::whole();
    let out = ok(pod.call("bash", json!({"command": "seq 1 30000"})).await);
    let full: String = (1..=30000).map(|i| format!("{i}\n")).collect();
    assert!(out.len() < 33 * 1024, "{} bytes shown", out.len());
    assert!(
        out.starts_with("[exit code 0]\n1\n2\n3\n"),
        "{}",
        &out[..40]
    );
    assert!(out.ends_with("29999\n30000\n"));
    let note = format!(
        "the whole output ({} bytes) is in spill file 1: read it with read_spill {{\"n\": 1}}",
        full.len()
    );
    assert!(
        out.contains(&note),
        "no spill note in {}",
        &out[16_000..16_600.min(out.len())]
    );
    assert_eq!(
        std::fs::read_to_string(pod.spill.join("bash-1.log")).unwrap(),
        full
    );
    assert_eq!(
        ok(pod
            .call("read_spill", json!({"n": 1, "offset": 29999}))
            .await),
        "29999\n30000\n\n[lines 29999–30000; end of file]"
    );
    let second = ok(pod.call("bash", json!({"command": "seq 1 30000"})).await);
    assert!(second.contains("spill file 2"), "numbers are not reused");
    refused(
        &pod.call("read_spill", json!({"n": 9})).await,
        "there is no spill file 9; bash names the number when it spills",
    );
}

#[tokio::test]
async fn cancel_kills_the_command_and_what_it_started() {
    let pod = Pod::whole();
    let cancel = CancellationToken::new();
    let tool = pod.tools.get("bash").unwrap();
    let args =
        json!({"command": "sleep 300 & echo $! > bg.pid; echo $$ > sh.pid; wait"}).to_string();
    let pid_file = pod.root.join("bg.pid");
    let (outcome, (bg, shell)) = tokio::join!(tool.call(args, cancel.clone()), async {
        let bg = pid_in(&pid_file).await;
        let shell = pid_in(&pid_file.with_file_name("sh.pid")).await;
        cancel.cancel();
        (bg, shell)
    });
    assert!(outcome.is_error);
    assert!(
        outcome
            .output
            .starts_with("[cancelled; the command and everything it started were killed]"),
        "{}",
        outcome.output
    );
    assert!(
        eventually(Duration::from_secs(5), || !alive(bg) && !alive(shell)).await,
        "{bg} or {shell} survived"
    );
}

#[tokio::test]
async fn dropping_the_call_kills_the_command_too() {
    let pod = Pod::whole();
    let tool = pod.tools.get("bash").unwrap();
    let args = json!({"command": "sleep 300 & echo $! > bg.pid; wait"}).to_string();
    let call = tool.call(args, CancellationToken::new());
    let pid_file = pod.root.join("bg.pid");
    let bg = tokio::select! {
        outcome = call => panic!("the command ended by itself: {}", outcome.output),
        bg = pid_in(&pid_file) => bg,
    };
    assert!(
        eventually(Duration::from_secs(10), || !alive(bg)).await,
        "{bg} survived the dropped call"
    );
}
