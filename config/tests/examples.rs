//! The example files at the repository root: `examples/tree.toml` loads as documented and
//! every file of `examples/bad/` fails with the diagnostics its `# expect:` lines name.

use std::path::{Path, PathBuf};
use std::time::Duration;

use podsup_config::{ChildKind, Restart, Shutdown, StartMode, Strategy, load};
use podsup_wire::EngineSpec;

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

#[test]
fn the_example_tree_loads_as_documented() {
    let tree = load(&examples_dir().join("tree.toml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(tree.name, "example");
    assert!(tree.source.is_absolute());
    assert_eq!(tree.root.name.as_str(), "root");
    assert_eq!(tree.root.strategy, Strategy::OneForOne);
    assert_eq!(tree.root.intensity.max_restarts, 5);
    assert_eq!(tree.root.intensity.within, Duration::from_secs(10));
    assert_eq!(tree.root.start, StartMode::Ordered);
    let backoff = tree.root.backoff.expect("root backoff");
    assert_eq!(backoff.initial, Duration::from_millis(100));
    assert_eq!(backoff.max, Duration::from_secs(30));

    let order: Vec<(&str, usize)> = tree
        .walk()
        .map(|(child, depth)| (child.name.as_str(), depth))
        .collect();
    assert_eq!(
        order,
        [
            ("greeter", 1),
            ("workers", 1),
            ("fetcher", 2),
            ("upper", 2),
            ("ticker", 1)
        ]
    );

    let greeter = tree.find("greeter").expect("greeter");
    let ChildKind::Pod(pod) = &greeter.kind else {
        panic!("greeter is a pod")
    };
    assert_eq!(
        pod.engine,
        EngineSpec::Echo {
            chunk_chars: 8,
            delay_ms: 0
        }
    );

    let workers = tree.find("workers").expect("workers");
    let sup = workers.as_supervisor().expect("workers is a supervisor");
    assert_eq!(sup.strategy, Strategy::RestForOne);
    assert_eq!(sup.intensity.max_restarts, 3);
    assert_eq!(workers.shutdown, Shutdown::Timeout(Duration::from_secs(60)));
    assert_eq!(
        tree.find("fetcher").expect("fetcher").restart,
        Restart::Transient
    );

    let upper = tree.find("upper").expect("upper");
    let ChildKind::Pod(pod) = &upper.kind else {
        panic!("upper is a pod")
    };
    let EngineSpec::Command { argv, timeout_ms } = &pod.engine else {
        panic!("upper runs a command")
    };
    assert!(argv[0].ends_with("/tr"), "{argv:?}");
    assert_eq!(&argv[1..], ["a-z", "A-Z"]);
    assert_eq!(*timeout_ms, 60_000);
    assert_eq!(pod.env.get("LC_ALL").map(String::as_str), Some("C"));

    let ticker = tree.find("ticker").expect("ticker");
    assert_eq!(ticker.shutdown, Shutdown::BrutalKill);
    let ChildKind::Process(process) = &ticker.kind else {
        panic!("ticker is a process")
    };
    assert_eq!(process.argv, ["sh", "-c", "while sleep 1; do :; done"]);
    assert!(process.program.is_absolute());
}

/// `(line, column, message fragment)` from the `# expect: L:C: fragment` lines of a file.
fn expectations(text: &str) -> Vec<(usize, usize, String)> {
    text.lines()
        .filter_map(|line| line.strip_prefix("# expect: "))
        .map(|spec| {
            let mut parts = spec.splitn(3, ':');
            let mut number = || {
                parts
                    .next()
                    .and_then(|n| n.trim().parse::<usize>().ok())
                    .unwrap_or_else(|| panic!("malformed expectation {spec:?}"))
            };
            let (line, column) = (number(), number());
            let fragment = parts.next().unwrap_or_default().trim().to_owned();
            (line, column, fragment)
        })
        .collect()
}

#[test]
fn every_bad_example_fails_as_its_header_says() {
    let dir = examples_dir().join("bad");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples/bad")
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        let expected = expectations(&text);
        assert!(
            !expected.is_empty(),
            "{} has no # expect: line",
            file.display()
        );
        let err = load(&file).expect_err(&format!("{} must fail", file.display()));
        let got = err.diagnostics();
        assert_eq!(got.len(), expected.len(), "{}:\n{err}", file.display());
        for (diagnostic, (line, column, fragment)) in got.iter().zip(&expected) {
            assert_eq!(
                (diagnostic.line, diagnostic.column),
                (*line, *column),
                "{}: {}",
                file.display(),
                diagnostic.message
            );
            assert!(
                diagnostic.message.contains(fragment.as_str()),
                "{}: {:?} does not contain {fragment:?}",
                file.display(),
                diagnostic.message
            );
        }
        let first_line = err.to_string();
        let prefix = format!(
            "{}:{}:{}: error: ",
            file.display(),
            expected[0].0,
            expected[0].1
        );
        assert!(first_line.starts_with(&prefix), "{first_line}");
    }
}
