//! `list_dir`, `glob` and `grep`: what they show, and that they neither follow symlinks
//! out nor show what the scope hides.

use std::os::unix::fs::symlink;

use serde_json::json;

use crate::{Pod, deny, ok, refused, rule, view};

/// `src/main.rs`, `src/lib/util.rs`, `secrets/key.rs`, `.git/x.rs`, `notes.txt`, and
/// `up -> outside/` where `outside/evil.rs` also mentions `fn main`.
fn project(pod: &Pod) {
    pod.put("src/main.rs", "fn main() {\n    println!(\"hi\");\n}\n");
    pod.put("src/lib/util.rs", "pub fn util() {}\n");
    pod.put("secrets/key.rs", "fn main() { key }\n");
    pod.put(".git/x.rs", "fn main() {}\n");
    pod.put("notes.txt", "main thoughts\n");
    std::fs::write(pod.outside.join("evil.rs"), "fn main() { evil }\n").unwrap();
    symlink(&pod.outside, pod.root.join("up")).unwrap();
}

#[tokio::test]
async fn list_dir_marks_kinds_and_what_the_pod_may_not_read() {
    let pod = Pod::new(view(vec![rule("", true, true)], vec![deny("secrets")]));
    project(&pod);
    assert_eq!(
        ok(pod.call("list_dir", json!({})).await),
        ".git/\nnotes.txt\nsecrets/ (no access)\nsrc/\nup@\n"
    );
    assert_eq!(
        ok(pod.call("list_dir", json!({"path": "src"})).await),
        "lib/\nmain.rs\n"
    );
    refused(
        &pod.call("list_dir", json!({"path": "secrets"})).await,
        "read denied: secrets is outside this pod's scope",
    );
    std::fs::create_dir(pod.root.join("empty")).unwrap();
    assert_eq!(
        ok(pod.call("list_dir", json!({"path": "empty"})).await),
        "empty is empty"
    );
}

#[tokio::test]
async fn list_dir_shows_only_the_way_into_a_narrow_scope() {
    let pod = Pod::new(view(vec![rule("src/lib", false, true)], vec![]));
    project(&pod);
    assert_eq!(
        ok(pod.call("list_dir", json!({"path": "."})).await),
        "src/\n"
    );
    assert_eq!(
        ok(pod.call("list_dir", json!({"path": "src"})).await),
        "lib/\n"
    );
    assert_eq!(
        ok(pod.call("list_dir", json!({"path": "src/lib"})).await),
        "util.rs\n"
    );
    refused(
        &pod.call("list_dir", json!({"path": "secrets"})).await,
        "read denied: secrets is outside this pod's scope",
    );
}

#[tokio::test]
async fn glob_matches_permitted_paths_without_following_symlinks() {
    let pod = Pod::new(view(vec![rule("", true, true)], vec![deny("secrets")]));
    project(&pod);
    assert_eq!(
        ok(pod.call("glob", json!({"pattern": "**/*.rs"})).await),
        "src/lib/util.rs\nsrc/main.rs"
    );
    assert_eq!(
        ok(pod.call("glob", json!({"pattern": "src/*"})).await),
        "src/lib/\nsrc/main.rs"
    );
    assert_eq!(
        ok(pod.call("glob", json!({"pattern": ".git/*.rs"})).await),
        ".git/x.rs"
    );
    refused(
        &pod.call("glob", json!({"pattern": "up/*.rs"})).await,
        "symlink in path: up",
    );
    assert_eq!(
        ok(pod.call("glob", json!({"pattern": "nowhere/*.rs"})).await),
        "no matches for nowhere/*.rs (nowhere does not exist)"
    );
    refused(
        &pod.call("glob", json!({"pattern": "secrets/*"})).await,
        "read denied: secrets is outside this pod's scope",
    );
}

#[tokio::test]
async fn glob_in_a_narrow_scope_finds_only_what_it_may_read() {
    let pod = Pod::new(view(vec![rule("src/lib", false, true)], vec![]));
    project(&pod);
    assert_eq!(
        ok(pod.call("glob", json!({"pattern": "**/*.rs"})).await),
        "src/lib/util.rs"
    );
}

#[tokio::test]
async fn grep_reports_path_line_text_and_stays_inside() {
    let pod = Pod::new(view(vec![rule("", true, true)], vec![deny("secrets")]));
    project(&pod);
    assert_eq!(
        ok(pod.call("grep", json!({"pattern": "fn main"})).await),
        "src/main.rs:1:fn main() {\n"
    );
    assert_eq!(
        ok(pod
            .call(
                "grep",
                json!({"pattern": "print\\w+!", "path": "src/main.rs"})
            )
            .await),
        "src/main.rs:2:    println!(\"hi\");\n"
    );
    assert_eq!(
        ok(pod
            .call("grep", json!({"pattern": "fn main", "path": ".git"}))
            .await),
        ".git/x.rs:1:fn main() {}\n"
    );
    assert_eq!(
        ok(pod.call("grep", json!({"pattern": "nothing"})).await),
        "no matches in ."
    );
    refused(
        &pod.call("grep", json!({"pattern": "key", "path": "secrets/key.rs"}))
            .await,
        "read denied: secrets/key.rs is outside this pod's scope",
    );
    let bad = pod.call("grep", json!({"pattern": "("})).await;
    assert!(
        bad.is_error && bad.output.starts_with("pattern is not a valid regex"),
        "{}",
        bad.output
    );
}

#[tokio::test]
async fn grep_in_a_narrow_scope_searches_only_what_it_may_read() {
    let pod = Pod::new(view(vec![rule("src/lib", false, true)], vec![]));
    project(&pod);
    assert_eq!(
        ok(pod.call("grep", json!({"pattern": "fn"})).await),
        "src/lib/util.rs:1:pub fn util() {}\n"
    );
}
