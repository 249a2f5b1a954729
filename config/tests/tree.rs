//! What a valid file decodes to: defaults, resolution of paths, the tree's helpers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use podsup_config::{
    ChildKind, Restart, Shutdown, StartMode, Strategy, Tree, defaults, load, parse,
};
use podsup_wire::EngineSpec;

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn tree(source: &str) -> Tree {
    parse(source, &tests_dir().join("tree.toml")).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn omitted_keys_take_their_defaults() {
    let t = tree(
        "name = \"t\"\n[[child]]\nname = \"p\"\nkind = \"pod\"\n\
         [[child]]\nname = \"s\"\nkind = \"supervisor\"\n",
    );
    assert_eq!(t.root.strategy, defaults::STRATEGY);
    assert_eq!(t.root.intensity.max_restarts, 5);
    assert_eq!(t.root.intensity.within, Duration::from_secs(10));
    assert_eq!(t.root.start, StartMode::Ordered);
    assert_eq!(t.root.backoff, None);
    let pod = t.find("p").expect("p");
    assert_eq!(pod.restart, Restart::Permanent);
    assert_eq!(pod.shutdown, Shutdown::Timeout(Duration::from_secs(5)));
    assert_eq!(pod.start_timeout, Duration::from_secs(10));
    let ChildKind::Pod(spec) = &pod.kind else {
        panic!("pod")
    };
    assert_eq!(
        spec.engine,
        EngineSpec::Echo {
            chunk_chars: 16,
            delay_ms: 0
        }
    );
    assert!(spec.env.is_empty());
    assert_eq!(spec.cwd, None);
    let sup = t.find("s").expect("s");
    assert_eq!(sup.shutdown, Shutdown::Timeout(Duration::from_secs(60)));
    assert_eq!(sup.as_supervisor().map(|s| s.children.len()), Some(0));
}

#[test]
fn an_empty_backoff_table_enables_the_default_backoff() {
    let t = tree("name = \"t\"\nbackoff = {}\n");
    let backoff = t.root.backoff.expect("backoff");
    assert_eq!(backoff.initial, defaults::BACKOFF_INITIAL);
    assert_eq!(backoff.max, defaults::BACKOFF_MAX);
    assert_eq!(backoff.multiplier, 2.0);
    assert_eq!(backoff.reset_after, defaults::BACKOFF_RESET_AFTER);
    let t = tree("name = \"t\"\nbackoff = { multiplier = 3 }\n");
    assert_eq!(t.root.backoff.map(|b| b.multiplier), Some(3.0));
}

#[test]
fn a_supervisor_start_timeout_covers_its_children() {
    let children = "  [[child.child]]\n  name = \"a\"\n  kind = \"pod\"\n  start_timeout = \"2s\"\n\
                    \x20 [[child.child]]\n  name = \"b\"\n  kind = \"pod\"\n  start_timeout = \"3s\"\n";
    let ordered = tree(&format!(
        "name = \"t\"\n[[child]]\nname = \"s\"\nkind = \"supervisor\"\n{children}"
    ));
    assert_eq!(
        ordered.find("s").map(|s| s.start_timeout),
        Some(Duration::from_secs(5))
    );
    let parallel = tree(&format!(
        "name = \"t\"\n[[child]]\nname = \"s\"\nkind = \"supervisor\"\nstart = \"parallel\"\n{children}"
    ));
    assert_eq!(
        parallel.find("s").map(|s| s.start_timeout),
        Some(Duration::from_secs(3))
    );
    let s = parallel
        .find("s")
        .and_then(|s| s.as_supervisor())
        .expect("supervisor");
    assert_eq!(
        (s.strategy, s.start),
        (Strategy::OneForOne, StartMode::Parallel)
    );
}

#[test]
fn relative_paths_start_at_the_tree_file_or_cwd() {
    let t = tree(
        "name = \"t\"\n[[child]]\nname = \"p\"\nkind = \"process\"\ncwd = \"..\"\nargv = [\"sh\"]\n\
         [[child]]\nname = \"q\"\nkind = \"process\"\ncwd = \"/\"\nargv = [\"./bin/sh\"]\n",
    );
    let ChildKind::Process(p) = &t.find("p").expect("p").kind else {
        panic!("process")
    };
    assert_eq!(p.cwd, Some(tests_dir().join("..")));
    let ChildKind::Process(q) = &t.find("q").expect("q").kind else {
        panic!("process")
    };
    assert_eq!(q.program, Path::new("/bin/sh"));
    assert_eq!(q.argv, ["./bin/sh"]);
}

#[test]
fn programs_resolve_to_absolute_paths() {
    let t = tree(
        "name = \"t\"\n[[child]]\nname = \"p\"\nkind = \"process\"\nargv = [\"sh\", \"-c\", \"true\"]\n\
         [[child]]\nname = \"c\"\nkind = \"pod\"\nengine = \"command\"\n\
         command = { argv = [\"sh\", \"-c\", \"cat\"], timeout = \"none\" }\n",
    );
    let ChildKind::Process(process) = &t.find("p").expect("p").kind else {
        panic!("process")
    };
    assert_eq!(process.argv, ["sh", "-c", "true"]);
    assert!(process.program.is_absolute() && process.program.ends_with("sh"));
    let ChildKind::Pod(pod) = &t.find("c").expect("c").kind else {
        panic!("pod")
    };
    let EngineSpec::Command { argv, timeout_ms } = &pod.engine else {
        panic!("command engine")
    };
    assert_eq!(Path::new(&argv[0]), process.program);
    assert_eq!(*timeout_ms, 0);
}

#[test]
fn walk_is_pre_order_and_find_searches_every_depth() {
    let t = load(&tests_dir().join("../../examples/tree.toml")).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<String> = t
        .walk()
        .map(|(child, depth)| format!("{depth}:{}", child.name))
        .collect();
    assert_eq!(
        names,
        ["1:greeter", "1:workers", "2:fetcher", "2:upper", "1:ticker"]
    );
    assert!(t.find("upper").is_some());
    assert!(t.find("root").is_none());
    assert!(t.find("nobody").is_none());
}

#[test]
fn display_draws_the_tree() {
    let t = load(&tests_dir().join("../../examples/tree.toml")).unwrap_or_else(|e| panic!("{e}"));
    let shown = t.to_string();
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines.len(), 7, "{shown}");
    assert!(lines[0].starts_with("tree \"example\" ("), "{shown}");
    assert_eq!(
        lines[1],
        "root: supervisor one_for_one, intensity 5 in 10s, start ordered, backoff 100ms..30s x2 \
         (reset after 1m)"
    );
    assert_eq!(
        lines[2],
        "├── greeter: pod, engine echo (chunk_chars 8, delay_ms 0), restart permanent, \
         shutdown 5s, start_timeout 10s"
    );
    assert!(lines[3].starts_with("├── workers: supervisor rest_for_one, intensity 3 in 5s"));
    assert!(lines[4].starts_with("│   ├── fetcher: pod, engine echo"));
    assert!(
        lines[5].starts_with("│   └── upper: pod, engine command [\""),
        "{shown}"
    );
    assert!(lines[5].contains("env LC_ALL"), "{shown}");
    assert!(
        lines[6].starts_with("└── ticker: process [\"sh\", \"-c\", \"while sleep 1; do :; done\"]")
    );
    assert!(lines[6].ends_with("restart permanent, shutdown brutal_kill, start_timeout 10s"));
}

#[test]
fn children_may_be_inline_and_settings_may_be_sub_tables() {
    let t = tree(
        "name = \"t\"\nchild = [{ name = \"a\", kind = \"pod\" }, { name = \"b\", kind = \"pod\" }]\n",
    );
    let names: Vec<&str> = t.walk().map(|(c, _)| c.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    let t = tree(
        "name = \"t\"\n[[child]]\nname = \"a\"\nkind = \"pod\"\n[child.echo]\nchunk_chars = 3\n",
    );
    let ChildKind::Pod(pod) = &t.find("a").expect("a").kind else {
        panic!("pod")
    };
    assert_eq!(
        pod.engine,
        EngineSpec::Echo {
            chunk_chars: 3,
            delay_ms: 0
        }
    );
}
