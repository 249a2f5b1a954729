//! Scoped file tools and scope delegation of an `llm` pod, end to end: a local
//! OpenAI-compatible server ([`MockLlm`]) scripts the pod's tool calls (`write_file`,
//! `read_file`, `spawn_pod`, …) in a real work directory, and the test checks the disk, the
//! `ToolResult` the pod streamed and committed, and `ctl inspect`.
//!
//! The pod `boss` holds write on its whole directory except `secret` (denied) and `docs`
//! (read only). Delegating write on `src` to a spawned pod takes write on `src` from `boss`
//! while that pod lives — also across a `kill -9` of `boss` or of the root — and gives it
//! back once the pod is reclaimed.
//!
//! `boss` is driven by [`Scripted`]: every pod event it receives starts a turn that asks
//! the provider too, so each step says how many such turns it causes.

use std::path::{Path, PathBuf};

use podsup_tests::mock_llm::MockLlm;
use podsup_tests::scripted::{Scripted, ToolResult};
use podsup_tests::spawning::{events_about, replay, spawned_nodes};
use podsup_tests::{Root, WAIT, signal, wait_node};
use serde_json::{Value, json};

/// The llm pod whose tools are scoped.
const BOSS: &str = "boss";

/// `boss` at `base_url`, working in `cwd`: write on everything but `secret` (no access)
/// and `docs` (read only). A provider error fails a turn at once.
fn tree(base_url: &str, cwd: &Path) -> String {
    format!(
        r#"
name = "scope-tools"
strategy = "one_for_one"
max_restarts = 100
within = "10s"

[[child]]
name = "{BOSS}"
kind = "pod"
engine = "llm"
cwd = {cwd:?}
scope = [{{ target = ".", permission = "write" }}]
deny = [{{ target = "secret", access = "all" }}, {{ target = "docs", access = "write" }}]

[child.llm]
scheme = "openai_chat"
base_url = "{base_url}"
model = "mock-model"
request_timeout = "5s"
idle_timeout = "2s"
max_attempts = 1
"#
    )
}

/// `boss` driven by its provider, in a seeded work directory. Fields drop in order: the
/// root (and its pods) before the directory.
struct Scoped {
    script: Scripted,
    /// Holds `work/` (boss's directory) and what lies just outside it.
    outer: tempfile::TempDir,
}

impl std::ops::Deref for Scoped {
    type Target = Scripted;

    fn deref(&self) -> &Scripted {
        &self.script
    }
}

impl std::ops::DerefMut for Scoped {
    fn deref_mut(&mut self) -> &mut Scripted {
        &mut self.script
    }
}

impl Scoped {
    /// Seeds `outer/work` with `notes.txt`, `src/main.rs`, `lib/lib.rs`, `docs/guide.md`
    /// and `secret/key`, and starts `boss` there.
    fn start() -> Scoped {
        let outer = tempfile::Builder::new()
            .prefix("podsup-scope")
            .tempdir()
            .expect("tempdir");
        let work = outer.path().join("work");
        for (rel, text) in [
            ("notes.txt", "notes mention s3cret once\n"),
            ("src/main.rs", "fn main() {}\n"),
            ("lib/lib.rs", "pub fn lib() {}\n"),
            ("docs/guide.md", "# Guide\n"),
            ("secret/key", "s3cret\n"),
        ] {
            let path = work.join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("seed dir");
            std::fs::write(&path, text).expect("seed file");
        }
        let mock = MockLlm::start();
        let root = Root::start(&tree(&mock.url(), &work));
        root.wait_running(BOSS, 1);
        Scoped {
            script: Scripted::new(root, mock, BOSS),
            outer,
        }
    }

    /// `rel` in boss's directory.
    fn path(&self, rel: &str) -> PathBuf {
        self.outer.path().join("work").join(rel)
    }

    /// What `rel` (in boss's directory) holds on disk, if it exists.
    fn on_disk(&self, rel: &str) -> Option<String> {
        std::fs::read_to_string(self.path(rel)).ok()
    }

    /// `write_file {path, content}`.
    fn write(&mut self, path: &str, content: &str) -> ToolResult {
        self.call("write_file", json!({ "path": path, "content": content }), 0)
    }

    /// `spawn_pod {name, restart, scope}` (an echo pod).
    fn spawn(&mut self, name: &str, restart: &str, scope: Value) -> ToolResult {
        self.call(
            "spawn_pod",
            json!({ "name": name, "restart": restart, "scope": scope }),
            0,
        )
    }
}

/// A recursive write rule on `target`, as `spawn_pod` takes it and `ctl inspect` shows it.
fn write_rule(target: &str) -> Value {
    json!({ "target": target, "write": true, "recursive": true })
}

/// `ctl inspect`'s `delegated` list for one rule per child: `[(child, rule)]`.
fn delegated(pairs: &[(&str, Value)]) -> Value {
    pairs
        .iter()
        .map(|(to, rule)| json!({ "to": to, "rule": rule }))
        .collect()
}

/// `boss`'s scope as `ctl inspect` shows it, with write-only denies added for `taken`
/// (what live children hold write on).
fn boss_scope(taken: &[&str]) -> Value {
    let mut deny = vec![
        json!({ "target": "secret", "write_only": false, "recursive": true }),
        json!({ "target": "docs", "write_only": true, "recursive": true }),
    ];
    deny.extend(
        taken
            .iter()
            .map(|t| json!({ "target": t, "write_only": true, "recursive": true })),
    );
    json!({ "allow": [{ "target": "", "write": true, "recursive": true }], "deny": deny })
}

#[test]
fn write_file_then_read_file_inside_the_scope_round_trips_through_the_disk() {
    let mut s = Scoped::start();
    let written = s.write("new/dir/a.txt", "first line\nsecond line\n");
    assert_eq!(written.ok(), "created new/dir/a.txt (23 bytes)");
    assert_eq!(
        s.on_disk("new/dir/a.txt").as_deref(),
        Some("first line\nsecond line\n")
    );
    let read = s.call("read_file", json!({ "path": "new/dir/a.txt" }), 0);
    assert_eq!(read.ok(), "first line\nsecond line\n");

    let edited = s.call(
        "edit_file",
        json!({ "path": "src/main.rs", "old": "{}", "new": "{ run() }" }),
        0,
    );
    assert_eq!(edited.ok(), "edited src/main.rs: replaced line 1");
    assert_eq!(
        s.on_disk("src/main.rs").as_deref(),
        Some("fn main() { run() }\n")
    );
    let overwritten = s.write("./notes.txt", "replaced\n");
    assert_eq!(overwritten.ok(), "overwrote notes.txt (9 bytes)");
    assert_eq!(s.on_disk("notes.txt").as_deref(), Some("replaced\n"));
}

#[test]
fn writes_outside_the_scope_are_refused_with_the_reason_and_nothing_is_written() {
    let mut s = Scoped::start();
    // A symlink out of the work directory, to the directory just above it.
    std::os::unix::fs::symlink(s.outer.path(), s.path("link")).expect("symlink");
    let absolute = s.path("abs.txt");
    let absolute = absolute.to_str().expect("utf-8 path");
    let cases = [
        (
            "../outside.txt",
            "path escapes the pod's directory: ../outside.txt",
        ),
        (
            "src/../../outside.txt",
            "path escapes the pod's directory: src/../../outside.txt",
        ),
        (
            absolute,
            &format!("absolute paths are not allowed: {absolute}"),
        ),
        ("link/via-link.txt", "symlink in path: link"),
        (
            "docs/new.md",
            "write denied: docs/new.md is read-only for this pod",
        ),
        (
            "secret/new",
            "write denied: secret/new is outside this pod's scope",
        ),
    ];
    for (path, expected) in cases {
        let refused = s.write(path, "should not land");
        assert_eq!(refused.refusal(), expected, "write_file {path}");
    }
    for (dir, name) in [
        (s.outer.path().to_owned(), "outside.txt"),
        (s.outer.path().to_owned(), "via-link.txt"),
        (s.path(""), "abs.txt"),
        (s.path("docs"), "new.md"),
        (s.path("secret"), "new"),
    ] {
        let path = dir.join(name);
        assert!(!path.exists(), "{} was written", path.display());
    }

    let edit = s.call(
        "edit_file",
        json!({ "path": "docs/guide.md", "old": "Guide", "new": "Defaced" }),
        0,
    );
    assert_eq!(
        edit.refusal(),
        "write denied: docs/guide.md is read-only for this pod"
    );
    assert_eq!(s.on_disk("docs/guide.md").as_deref(), Some("# Guide\n"));
    let read = s.call("read_file", json!({ "path": "docs/guide.md" }), 0);
    assert_eq!(read.ok(), "# Guide\n", "read-only still reads");
}

#[test]
fn a_deny_all_rule_refuses_reads_hides_the_files_from_grep_and_marks_them_in_list_dir() {
    let mut s = Scoped::start();
    let read = s.call("read_file", json!({ "path": "secret/key" }), 0);
    assert_eq!(
        read.refusal(),
        "read denied: secret/key is outside this pod's scope"
    );
    let listed = s.call("list_dir", json!({ "path": "secret" }), 0);
    assert_eq!(
        listed.refusal(),
        "read denied: secret is outside this pod's scope"
    );

    let found = s.call("grep", json!({ "pattern": "s3cret" }), 0);
    let found = found.ok();
    assert!(found.contains("notes.txt:1:"), "{found}");
    assert!(
        !found.contains("secret/key"),
        "grep read a denied file: {found}"
    );

    let listing = s.call("list_dir", json!({}), 0);
    let lines: Vec<&str> = listing.ok().lines().collect();
    for entry in ["secret/ (no access)", "docs/", "src/", "notes.txt"] {
        assert!(lines.contains(&entry), "{entry:?} not in {lines:?}");
    }

    let shell = s.call("bash", json!({ "command": "cat secret/key" }), 0);
    let refusal = shell.refusal();
    assert!(refusal.starts_with("bash denied: secret"), "{refusal}");
}

#[test]
fn write_delegated_to_a_live_child_is_refused_naming_it_until_the_temporary_child_is_killed() {
    let mut s = Scoped::start();
    let spawned = s.spawn("w", "temporary", json!([write_rule("src")])).json();
    assert_eq!(spawned["name"], "boss/w", "{spawned:#}");
    s.root.wait_running("boss/w", 1);

    let refused = s.write("src/a.txt", "mine");
    assert_eq!(
        refused.refusal(),
        "write denied: src/a.txt is delegated to pod boss/w"
    );
    assert_eq!(s.on_disk("src/a.txt"), None);
    let edit = s.call(
        "edit_file",
        json!({ "path": "src/main.rs", "old": "main", "new": "start" }),
        0,
    );
    assert_eq!(
        edit.refusal(),
        "write denied: src/main.rs is delegated to pod boss/w"
    );
    let read = s.call("read_file", json!({ "path": "src/main.rs" }), 0);
    assert_eq!(read.ok(), "fn main() {}\n", "boss keeps read on src");
    let shell = s.call("bash", json!({ "command": "true" }), 0);
    assert_eq!(
        shell.refusal(),
        "bash denied: write on src is delegated to pod boss/w, and a shell could write there"
    );
    assert!(s.write("lib/x.rs", "elsewhere").ok().starts_with("created"));

    let boss = s.inspect(BOSS);
    assert_eq!(boss["scope"], boss_scope(&["src"]), "{boss:#}");
    assert_eq!(
        boss["delegated"],
        delegated(&[("boss/w", write_rule("src"))]),
        "{boss:#}"
    );
    let child = s.inspect("boss/w");
    assert_eq!(
        child["scope"]["allow"],
        json!([write_rule("src")]),
        "{child:#}"
    );
    assert_eq!(child["scope"]["deny"], boss_scope(&[])["deny"], "{child:#}");

    s.kill_temporary("boss/w");
    assert!(spawned_nodes(&s.root.status(), BOSS).is_empty());
    let written = s.write("src/a.txt", "mine");
    assert_eq!(written.ok(), "created src/a.txt (4 bytes)");
    assert_eq!(s.on_disk("src/a.txt").as_deref(), Some("mine"));
    let boss = s.inspect(BOSS);
    assert_eq!(boss["scope"], boss_scope(&[]), "{boss:#}");
    assert_eq!(boss["delegated"], json!([]), "{boss:#}");
}

#[test]
fn a_second_spawn_delegating_write_a_live_child_holds_is_refused_with_scope_denied() {
    let mut s = Scoped::start();
    s.spawn("w", "temporary", json!([write_rule("src")])).json();
    // Broader than what boss/w holds, narrower, and the same.
    for (name, target) in [("wide", "."), ("narrow", "src/sub"), ("same", "src")] {
        let answer = s.spawn(name, "temporary", json!([write_rule(target)]));
        let refusal = answer.refusal();
        assert!(
            refusal.starts_with("refused (ScopeDenied): boss cannot delegate"),
            "{target}: {refusal}"
        );
    }
    // Read is not exclusive: boss still holds read on src and may hand it on.
    let read_only = json!([{ "target": "src", "write": false, "recursive": true }]);
    let reader = s.spawn("reader", "temporary", read_only).json();
    assert_eq!(reader["name"], "boss/reader", "{reader:#}");

    let names: Vec<Value> = spawned_nodes(&s.root.status(), BOSS)
        .iter()
        .map(|n| n["name"].clone())
        .collect();
    assert_eq!(names, [json!("boss/w"), json!("boss/reader")]);
    let entries = s.root.entries(BOSS);
    assert_eq!(
        replay(&entries).keys().collect::<Vec<_>>(),
        ["boss/reader", "boss/w"]
    );
}

#[test]
fn a_refused_overlapping_delegation_names_the_child_holding_the_write() {
    let mut s = Scoped::start();
    s.spawn("w", "temporary", json!([write_rule("src")])).json();
    // Like the file tools' "is delegated to pod boss/w", the refusal says who holds the
    // write, whether the new rule is broader than boss/w's, narrower, or the same.
    for (name, target) in [("wide", "."), ("narrow", "src/sub"), ("same", "src")] {
        let answer = s.spawn(name, "temporary", json!([write_rule(target)]));
        let refusal = answer.refusal();
        assert!(
            refusal.contains("already delegated to boss/w"),
            "delegating write on {target:?} while boss/w holds src: {refusal}"
        );
    }
}

#[test]
fn delegating_what_the_spawner_does_not_hold_is_refused_with_scope_denied() {
    let mut s = Scoped::start();
    let read_secret = json!([{ "target": "secret", "write": false, "recursive": true }]);
    for (name, scope, names) in [
        ("docs", json!([write_rule("docs")]), "\"docs\" (write)"),
        (
            "docsub",
            json!([write_rule("docs/sub")]),
            "\"docs/sub\" (write)",
        ),
        ("secret", read_secret, "\"secret\" (read)"),
        ("up", json!([write_rule("../up")]), "\"../up\""),
        ("abs", json!([write_rule("/etc")]), "\"/etc\""),
    ] {
        let answer = s.spawn(name, "temporary", scope);
        let refusal = answer.refusal();
        assert!(
            refusal.starts_with("refused (ScopeDenied): "),
            "{name}: {refusal}"
        );
        assert!(refusal.contains(names), "{name}: {refusal}");
    }
    assert!(spawned_nodes(&s.root.status(), BOSS).is_empty());
    let entries = s.root.entries(BOSS);
    assert!(replay(&entries).is_empty(), "{:#?}", replay(&entries));
    assert_eq!(s.inspect(BOSS)["delegated"], json!([]));
}

#[test]
fn after_a_spawner_kill_9_the_restarted_spawner_still_lacks_write_its_live_children_hold() {
    let mut s = Scoped::start();
    s.spawn("p", "permanent", json!([write_rule("lib")])).json();
    s.spawn("t", "temporary", json!([write_rule("src")])).json();
    let (p, t) = (s.root.pid_of("boss/p"), s.root.pid_of("boss/t"));
    s.settle();
    signal(s.root.pid_of(BOSS), libc::SIGKILL);
    s.root.wait_running(BOSS, 2);
    assert_eq!(
        (s.root.pid_of("boss/p"), s.root.pid_of("boss/t")),
        (p, t),
        "the spawner's pods outlive it"
    );

    // The restarted spawner knows what it delegated from its log alone.
    for (path, holder) in [("lib/a.rs", "boss/p"), ("src/a.rs", "boss/t")] {
        let refused = s.write(path, "mine");
        assert_eq!(
            refused.refusal(),
            format!("write denied: {path} is delegated to pod {holder}")
        );
        assert_eq!(s.on_disk(path), None);
    }
    let boss = s.inspect(BOSS);
    assert_eq!(
        boss["delegated"],
        delegated(&[("boss/p", write_rule("lib")), ("boss/t", write_rule("src"))]),
        "{boss:#}"
    );

    s.kill_temporary("boss/t");
    assert_eq!(
        s.write("src/a.rs", "mine").ok(),
        "created src/a.rs (4 bytes)"
    );
    assert_eq!(
        s.write("lib/a.rs", "mine").refusal(),
        "write denied: lib/a.rs is delegated to pod boss/p"
    );

    // A permanent pod that crashes is restarted, and keeps what it was given.
    s.settle();
    s.expect_pod_event_turns(2);
    signal(p, libc::SIGKILL);
    s.root.wait_running("boss/p", 2);
    s.root.wait_entries(BOSS, "boss/p restarted", |entries| {
        events_about(entries, "boss/p")
            .iter()
            .any(|(kind, _)| kind == "Restarted")
    });
    assert_eq!(
        s.write("lib/a.rs", "mine").refusal(),
        "write denied: lib/a.rs is delegated to pod boss/p"
    );
    assert_eq!(
        s.inspect(BOSS)["delegated"],
        delegated(&[("boss/p", write_rule("lib"))])
    );
}

#[test]
fn after_a_root_kill_9_a_temporary_childs_write_comes_back_and_a_permanent_childs_stays_delegated()
{
    let mut s = Scoped::start();
    s.spawn("p", "permanent", json!([write_rule("lib")])).json();
    s.spawn("t", "temporary", json!([write_rule("src")])).json();
    let p = s.root.pid_of("boss/p");
    let boss = s.root.pid_of(BOSS);
    s.settle();
    // The root reclaims boss/t when it comes back: one pod-event turn.
    s.expect_pod_event_turns(1);
    signal(s.root.pid(), libc::SIGKILL);
    s.root
        .wait_exit(WAIT)
        .expect("podsup start dies of SIGKILL");
    s.root.start_again();
    wait_node(&s.root, BOSS, "running again", |n| {
        n["state"] == "running" && n["pid"].is_u64() && n["pid"] != boss
    });
    let p_again = s.root.wait_running("boss/p", 2);
    assert_ne!(p_again, p, "boss/p is a new process");
    s.root.wait_entries(BOSS, "boss/t reclaimed", |entries| {
        events_about(entries, "boss/t")
            .iter()
            .any(|(kind, _)| kind == "Reclaimed")
    });
    s.settle();

    let names: Vec<Value> = spawned_nodes(&s.root.status(), BOSS)
        .iter()
        .map(|n| n["name"].clone())
        .collect();
    assert_eq!(names, [json!("boss/p")]);
    assert_eq!(
        s.write("src/a.rs", "mine").ok(),
        "created src/a.rs (4 bytes)"
    );
    assert_eq!(s.on_disk("src/a.rs").as_deref(), Some("mine"));
    assert_eq!(
        s.write("lib/a.rs", "mine").refusal(),
        "write denied: lib/a.rs is delegated to pod boss/p"
    );
    assert_eq!(s.on_disk("lib/a.rs"), None);
    let inspected = s.inspect(BOSS);
    assert_eq!(inspected["scope"], boss_scope(&["lib"]), "{inspected:#}");
    assert_eq!(
        inspected["delegated"],
        delegated(&[("boss/p", write_rule("lib"))]),
        "{inspected:#}"
    );
    let child = s.inspect("boss/p");
    assert_eq!(
        child["scope"]["allow"],
        json!([write_rule("lib")]),
        "{child:#}"
    );
}
