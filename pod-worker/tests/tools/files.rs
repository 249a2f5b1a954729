//! `read_file`, `write_file` and `edit_file`: what they do, and what the scope refuses.

use serde_json::json;

use crate::{Pod, ok, refused, rule, view};
use podsup_pod_worker::tools::ScopeView;

#[tokio::test]
async fn read_file_reads_whole_files_and_windows() {
    let pod = Pod::whole();
    pod.put("a.txt", "one\ntwo\nthree\nfour\n");
    assert_eq!(
        ok(pod.call("read_file", json!({"path": "a.txt"})).await),
        "one\ntwo\nthree\nfour\n"
    );
    let window = ok(pod
        .call(
            "read_file",
            json!({"path": "./a.txt", "offset": 2, "limit": 2}),
        )
        .await);
    assert!(
        window
            .starts_with("two\nthree\n[lines 2–3 of a 19-byte file shown; continue with offset=4]"),
        "{window}"
    );
    let past = ok(pod
        .call("read_file", json!({"path": "a.txt", "offset": 9}))
        .await);
    assert!(past.contains("offset 9 is past the end"), "{past}");
}

#[tokio::test]
async fn read_file_caps_long_files_and_says_where_to_go_on() {
    let pod = Pod::whole();
    let body: String = (1..=40_000).map(|i| format!("line {i}\n")).collect();
    pod.put("big.txt", &body);
    let out = ok(pod.call("read_file", json!({"path": "big.txt"})).await);
    assert!(out.len() <= 64 * 1024 + 200, "{} bytes", out.len());
    assert!(out.starts_with("line 1\nline 2\n"));
    let next: u64 = out
        .rsplit_once("continue with offset=")
        .and_then(|(_, n)| n.trim_end_matches(']').parse().ok())
        .unwrap_or_else(|| panic!("no continuation note: {}", &out[out.len() - 200..]));
    let more = ok(pod
        .call(
            "read_file",
            json!({"path": "big.txt", "offset": next, "limit": 1}),
        )
        .await);
    assert!(more.starts_with(&format!("line {next}\n")), "{more}");
}

#[tokio::test]
async fn read_file_refuses_directories_and_binary_files() {
    let pod = Pod::whole();
    pod.put("d/x", "x");
    fs_write(&pod, "bin", b"\x7fELF\0\0\x01");
    refused(
        &pod.call("read_file", json!({"path": "d"})).await,
        "d is a directory; use list_dir",
    );
    refused(
        &pod.call("read_file", json!({"path": "bin"})).await,
        "bin is a binary file; read_file shows text only",
    );
    let missing = pod.call("read_file", json!({"path": "nope"})).await;
    assert!(
        missing.is_error && missing.output.starts_with("nope: "),
        "{}",
        missing.output
    );
    refused(
        &pod.call("read_file", json!({})).await,
        "missing string argument \"path\"",
    );
}

fn fs_write(pod: &Pod, rel: &str, bytes: &[u8]) {
    std::fs::write(pod.root.join(rel), bytes).unwrap();
}

#[tokio::test]
async fn write_file_creates_overwrites_and_makes_parent_directories() {
    let pod = Pod::whole();
    assert_eq!(
        ok(pod
            .call(
                "write_file",
                json!({"path": "src/deep/new.rs", "content": "fn a() {}\n"})
            )
            .await),
        "created src/deep/new.rs (10 bytes)"
    );
    assert_eq!(pod.get("src/deep/new.rs"), "fn a() {}\n");
    assert_eq!(
        ok(pod
            .call(
                "write_file",
                json!({"path": "src/deep/new.rs", "content": "x"})
            )
            .await),
        "overwrote src/deep/new.rs (1 bytes)"
    );
    assert_eq!(pod.get("src/deep/new.rs"), "x");
}

#[tokio::test]
async fn write_file_creates_only_the_directories_it_may_write() {
    // Write on out/file.txt alone: the directory `out` itself is only readable.
    let pod = Pod::new(view(
        vec![rule("", false, true), rule("out/file.txt", true, false)],
        vec![],
    ));
    refused(
        &pod.call(
            "write_file",
            json!({"path": "out/file.txt", "content": "x"}),
        )
        .await,
        "write denied: out is read-only for this pod",
    );
    assert!(!pod.root.join("out").exists());
    std::fs::create_dir(pod.root.join("out")).unwrap();
    ok(pod
        .call(
            "write_file",
            json!({"path": "out/file.txt", "content": "x"}),
        )
        .await);
    assert_eq!(pod.get("out/file.txt"), "x");
}

#[tokio::test]
async fn edit_file_replaces_exactly_one_match() {
    let pod = Pod::whole();
    pod.put("lib.rs", "fn a() {}\nfn b() {}\nfn b() {}\n");
    assert_eq!(
        ok(pod
            .call(
                "edit_file",
                json!({"path": "lib.rs", "old": "fn a() {}", "new": "fn a() { 1 }"})
            )
            .await),
        "edited lib.rs: replaced line 1"
    );
    assert_eq!(pod.get("lib.rs"), "fn a() { 1 }\nfn b() {}\nfn b() {}\n");
    refused(
        &pod.call(
            "edit_file",
            json!({"path": "lib.rs", "old": "fn b() {}", "new": ""}),
        )
        .await,
        "edit_file: `old` occurs 2 times in lib.rs; include more surrounding text so it matches exactly once",
    );
    refused(
        &pod.call(
            "edit_file",
            json!({"path": "lib.rs", "old": "fn c()", "new": ""}),
        )
        .await,
        "edit_file: `old` does not occur in lib.rs (0 matches); read the file and copy the text exactly",
    );
    assert_eq!(
        pod.get("lib.rs"),
        "fn a() { 1 }\nfn b() {}\nfn b() {}\n",
        "a failed edit changed the file"
    );
    ok(pod
        .call(
            "edit_file",
            json!({"path": "lib.rs", "old": "}\nfn b() {}\nfn b", "new": "}\nfn c"}),
        )
        .await);
    assert_eq!(pod.get("lib.rs"), "fn a() { 1 }\nfn c() {}\n");
}

#[tokio::test]
async fn edit_file_counts_overlapping_matches() {
    let pod = Pod::whole();
    pod.put("a", "aaa");
    refused(
        &pod.call("edit_file", json!({"path": "a", "old": "aa", "new": "b"}))
            .await,
        "edit_file: `old` occurs 2 times in a; include more surrounding text so it matches exactly once",
    );
}

#[tokio::test]
async fn reading_outside_the_scope_is_refused() {
    let pod = Pod::new(view(vec![rule("src", true, true)], vec![]));
    pod.put("secrets/key", "k");
    pod.put("src/lib.rs", "ok");
    assert_eq!(
        ok(pod.call("read_file", json!({"path": "src/lib.rs"})).await),
        "ok"
    );
    refused(
        &pod.call("read_file", json!({"path": "secrets/key"})).await,
        "read denied: secrets/key is outside this pod's scope",
    );
    refused(
        &pod.call("write_file", json!({"path": "secrets/key", "content": "x"}))
            .await,
        "write denied: secrets/key is outside this pod's scope",
    );
    refused(
        &pod.call(
            "edit_file",
            json!({"path": "secrets/key", "old": "k", "new": "x"}),
        )
        .await,
        "write denied: secrets/key is outside this pod's scope",
    );
    assert_eq!(pod.get("secrets/key"), "k");
}

#[tokio::test]
async fn writing_read_only_and_delegated_paths_is_refused_with_the_holder_named() {
    let delegated = vec![("coder/tests".to_owned(), rule("src", true, true))];
    let base = podsup_config::scope::Scope {
        allow: vec![rule("", true, true)],
        deny: vec![],
    };
    let pod = Pod::new(ScopeView {
        scope: base.without_write_on(delegated.iter().map(|(_, r)| r)),
        delegated,
    });
    pod.put("src/lib.rs", "old");
    refused(
        &pod.call(
            "write_file",
            json!({"path": "src/lib.rs", "content": "new"}),
        )
        .await,
        "write denied: src/lib.rs is delegated to pod coder/tests",
    );
    refused(
        &pod.call(
            "edit_file",
            json!({"path": "src/lib.rs", "old": "old", "new": "new"}),
        )
        .await,
        "write denied: src/lib.rs is delegated to pod coder/tests",
    );
    refused(
        &pod.call(
            "write_file",
            json!({"path": "src/new/x.rs", "content": "new"}),
        )
        .await,
        "write denied: src/new/x.rs is delegated to pod coder/tests",
    );
    assert_eq!(pod.get("src/lib.rs"), "old");
    assert!(!pod.root.join("src/new").exists());
    // Reading stays allowed, and the scope change is seen by the next call.
    assert_eq!(
        ok(pod.call("read_file", json!({"path": "src/lib.rs"})).await),
        "old"
    );
    pod.ctx.scope.write().unwrap().delegated.clear();
    pod.ctx.scope.write().unwrap().scope = crate::view(vec![rule("", true, true)], vec![]).scope;
    ok(pod
        .call(
            "write_file",
            json!({"path": "src/lib.rs", "content": "new"}),
        )
        .await);
    assert_eq!(pod.get("src/lib.rs"), "new");
}
