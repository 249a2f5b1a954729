//! The example shape of tree comes up, answers status, and shuts down cleanly.

use podsup_tests::{Root, WAIT, alive, nodes, wait_until};

const TREE: &str = r#"
name = "smoke"
strategy = "one_for_one"

[[child]]
name = "greeter"
kind = "pod"
engine = "echo"

[[child]]
name = "workers"
kind = "supervisor"
strategy = "rest_for_one"
  [[child.child]]
  name = "fetcher"
  kind = "pod"
  engine = "echo"

[[child]]
name = "ticker"
kind = "process"
argv = ["sh", "-c", "while sleep 1; do :; done"]
"#;

#[test]
fn tree_comes_up_and_shuts_down_in_order() {
    let mut root = Root::start(TREE);
    let status = root.status();
    assert_eq!(status["tree"], "smoke");
    let names: Vec<_> = nodes(&status["root"])
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["root", "greeter", "workers", "fetcher", "ticker"]);
    for name in ["greeter", "fetcher", "ticker"] {
        root.wait_running(name, 1);
    }
    let pids: Vec<u32> = ["greeter", "fetcher", "ticker"]
        .iter()
        .map(|n| root.pid_of(n))
        .collect();
    let out = root.ctl(&["shutdown"]);
    assert!(out.status.success(), "{out:?}");
    let status = root
        .wait_exit(WAIT)
        .expect("podsup start exits after shutdown");
    assert!(status.success(), "exit {status:?}; log:\n{}", root.log());
    assert!(wait_until(WAIT, || pids.iter().all(|&p| !alive(p))));
}
