//! Children's stdout/stderr captured into size-rotated files under the state dir, and read
//! back with `podsup ctl logs NAME --output [-f] [-n N]`: rotation by size and count while
//! a process prints as fast as it can (and neither it nor the root is held up), the `out` /
//! `err` / `sup` tags, a generation marker at every start, and following across restarts.

use std::path::{Path, PathBuf};

use podsup_tests::{Root, WAIT, alive, output_text, output_within, wait_until};

/// A process printing numbered lines as fast as `sh` can, with 64 KiB × 3 rotation.
const FAST: &str = r#"
name = "output-fast"

[logs]
max_size = "64KiB"
max_files = 3

[[child]]
name = "ticker"
kind = "process"
argv = ["sh", "-c", "i=0; while :; do echo line $i; i=$((i+1)); done"]
"#;

/// A process that says one thing on each stream and then waits, and an echo pod.
const QUIET: &str = r#"
name = "output-quiet"
max_restarts = 100

[[child]]
name = "noisy"
kind = "process"
argv = ["sh", "-c", "echo to-out; echo to-err >&2; exec sleep 1000"]

[[child]]
name = "greeter"
kind = "pod"
engine = "echo"
"#;

fn log_dir(root: &Root, name: &str) -> PathBuf {
    root.dir().join("state/logs").join(name)
}

fn numbered(dir: &Path, n: u32) -> PathBuf {
    match n {
        0 => dir.join("output.log"),
        n => dir.join(format!("output.log.{n}")),
    }
}

/// `ctl logs ARGS…`, which must succeed; its stdout lines.
fn logs(root: &Root, args: &[&str]) -> Vec<String> {
    let mut full = vec!["logs"];
    full.extend_from_slice(args);
    let out = output_within(
        &mut podsup_tests::ctl_command(&root.runtime_dir(), &full),
        WAIT,
    );
    assert!(
        out.status.success(),
        "ctl {full:?} failed: {}\nlog:\n{}",
        output_text(&out),
        root.log()
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// `(tag, text)` of a stored line `2026-11-25T15:00:00.123Z tag text`, checking the
/// timestamp's shape.
fn parse(line: &str) -> (&str, &str) {
    let mut parts = line.splitn(3, ' ');
    let (Some(at), Some(tag), Some(text)) = (parts.next(), parts.next(), parts.next()) else {
        panic!("not a stored line: {line:?}");
    };
    let shape = at.len() == 24
        && at.ends_with('Z')
        && at.as_bytes()[10] == b'T'
        && at.as_bytes()[19] == b'.'
        && at.starts_with("20");
    assert!(shape, "bad timestamp in {line:?}");
    (tag, text)
}

/// The number of the first `line N` in `path`, if it can be read.
fn first_number(path: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|l| {
        let (_, text) = parse(l);
        text.strip_prefix("line ")?.parse().ok()
    })
}

#[test]
fn log_rotation_by_size_and_count_with_a_pod_that_prints_fast() {
    let root = Root::start(FAST);
    let pid = root.wait_running("ticker", 1);
    let dir = log_dir(&root, "ticker");
    let rotated_three = wait_until(WAIT, || numbered(&dir, 3).exists());
    assert!(
        rotated_three,
        "no output.log.3 in {}; log:\n{}",
        dir.display(),
        root.log()
    );
    // Once output.log.3 itself has been replaced by a newer file, the oldest was deleted at
    // least once: the count is enforced, not just reached.
    let mut oldest = None;
    let read = wait_until(WAIT, || {
        oldest = first_number(&numbered(&dir, 3));
        oldest.is_some()
    });
    assert!(read, "output.log.3 holds no line");
    let moved_on = wait_until(WAIT, || {
        let now = first_number(&numbered(&dir, 3));
        now.is_some() && now != oldest
    });
    assert!(
        moved_on,
        "output.log.3 never rotated away; log:\n{}",
        root.log()
    );
    // Meanwhile the root answers (every wait above asked it) and the child runs on.
    let node = root.node("ticker");
    assert_eq!(node["state"], "running");
    assert_eq!(node["generation"], 1);
    assert_eq!(root.pid_of("ticker"), pid);
    assert!(alive(pid));

    assert!(
        !numbered(&dir, 4).exists(),
        "more than max_files rotated files"
    );
    let longest_line = 200;
    for n in 0..=3 {
        // A file is missing for a moment while the files move up by one.
        let path = numbered(&dir, n);
        let mut size = 0;
        let present = wait_until(WAIT, || {
            std::fs::metadata(&path).is_ok_and(|m| {
                size = m.len();
                true
            })
        });
        assert!(present, "{} is gone", path.display());
        assert!(
            size <= 64 * 1024 + longest_line,
            "{} has {size} bytes",
            path.display()
        );
        if n > 0 {
            assert!(
                size > 60 * 1024,
                "{} was rotated at only {size} bytes",
                path.display()
            );
        }
    }
    // Rotated files hold the child's lines, oldest first, each a stored line.
    let (older, newer) = (
        first_number(&numbered(&dir, 2)),
        first_number(&numbered(&dir, 1)),
    );
    assert!(
        older.zip(newer).is_some_and(|(a, b)| a < b),
        "{older:?} !< {newer:?}"
    );
    let sample = std::fs::read_to_string(numbered(&dir, 1)).expect("read output.log.1");
    for line in sample.lines() {
        let (tag, text) = parse(line);
        assert!(
            (tag == "out" && text.starts_with("line "))
                || (tag == "sup" && text.starts_with("podsup: dropped ")),
            "unexpected line {line:?}"
        );
    }

    let last = logs(&root, &["ticker", "--output", "-n", "5"]);
    assert_eq!(last.len(), 5, "{last:#?}");
    for line in &last {
        let (tag, _) = parse(line);
        assert!(tag == "out" || tag == "sup", "{line:?}");
    }
}

#[test]
fn stdout_and_stderr_are_tagged_and_each_start_is_marked() {
    let root = Root::start(QUIET);
    let pid = root.wait_running("noisy", 1);
    let mut lines = Vec::new();
    let both = wait_until(WAIT, || {
        lines = logs(&root, &["noisy", "--output"]);
        lines.len() >= 3
    });
    assert!(both, "{lines:#?}");
    let tagged: Vec<(&str, &str)> = lines.iter().map(|l| parse(l)).collect();
    assert_eq!(
        tagged[0],
        ("sup", &*format!("podsup: generation 1 started (pid {pid})"))
    );
    // The two streams are read independently: their order is not defined.
    assert!(tagged.contains(&("out", "to-out")), "{lines:#?}");
    assert!(tagged.contains(&("err", "to-err")), "{lines:#?}");

    let out = root.ctl(&["restart", "noisy"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let pid2 = root.wait_running("noisy", 2);
    let marker = format!("podsup: generation 2 started (pid {pid2})");
    let appended = wait_until(WAIT, || {
        lines = logs(&root, &["noisy", "--output"]);
        lines.len() >= 6
    });
    assert!(appended, "{lines:#?}");
    // One file for both generations, the second after the first.
    let tagged: Vec<(&str, &str)> = lines.iter().map(|l| parse(l)).collect();
    assert_eq!(tagged.len(), 6, "{lines:#?}");
    assert_eq!(tagged[3], ("sup", marker.as_str()), "{lines:#?}");
    assert_eq!(
        tagged.iter().filter(|t| **t == ("err", "to-err")).count(),
        2
    );
    let stored = std::fs::read_to_string(numbered(&log_dir(&root, "noisy"), 0)).expect("file");
    assert_eq!(stored.lines().collect::<Vec<_>>(), lines);
}

#[test]
fn a_pods_stderr_is_captured_with_the_err_tag() {
    let root = Root::start(QUIET);
    root.wait_running("greeter", 1);
    let out = root.ctl(&["send", "greeter", "hello"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let out = root.ctl(&["stop", "greeter"]);
    assert!(out.status.success(), "{}", output_text(&out));
    root.wait_state("greeter", "stopped");
    // A pod that finds a torn tail on its session log cuts it and warns on stderr.
    let session = root.dir().join("state/pods/greeter/session.log");
    let len = std::fs::metadata(&session).expect("session log").len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&session)
        .expect("open session log");
    file.set_len(len - 3).expect("truncate");
    drop(file);
    let out = root.ctl(&["start", "greeter"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let pid2 = root.wait_running("greeter", 2);
    let mut lines = Vec::new();
    let said = wait_until(WAIT, || {
        lines = logs(&root, &["greeter", "--output"]);
        lines.iter().any(|l| {
            let (tag, text) = parse(l);
            tag == "err" && text.contains("torn tail")
        })
    });
    assert!(
        said,
        "no stderr line from the pod: {lines:#?}\nlog:\n{}",
        root.log()
    );
    let marker = format!("podsup: generation 2 started (pid {pid2})");
    let at = |what: &str, pred: &dyn Fn(&str, &str) -> bool| {
        lines
            .iter()
            .position(|l| {
                let (tag, text) = parse(l);
                pred(tag, text)
            })
            .unwrap_or_else(|| panic!("no {what} in {lines:#?}"))
    };
    let first = at("first marker", &|tag, text| {
        tag == "sup" && text.starts_with("podsup: generation 1 started")
    });
    let second = at("second marker", &|tag, text| tag == "sup" && text == marker);
    let warned = at("warning", &|tag, text| {
        tag == "err" && text.contains("torn tail")
    });
    assert!(first < second && second < warned, "{lines:#?}");
}

#[test]
fn follow_prints_new_lines_across_a_restart() {
    let root = Root::start(QUIET);
    root.wait_running("noisy", 1);
    let mut lines = Vec::new();
    let written = wait_until(WAIT, || {
        lines = logs(&root, &["noisy", "--output"]);
        lines.len() == 3
    });
    assert!(written, "{lines:#?}");
    let stream = root.ctl_stream(&["logs", "noisy", "--output", "-f", "-n", "1"]);
    stream.wait_stdout("the last line", |lines| lines.len() == 1);
    let out = root.ctl(&["restart", "noisy"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let pid2 = root.wait_running("noisy", 2);
    let marker = format!("podsup: generation 2 started (pid {pid2})");
    stream.wait_stdout("the second generation's lines", |lines| {
        let tagged: Vec<(&str, &str)> = lines.iter().map(|l| parse(l)).collect();
        tagged.contains(&("sup", marker.as_str())) && tagged.len() == 4
    });
}

#[test]
fn only_pods_and_processes_have_output() {
    let root = Root::start(QUIET);
    let out = root.ctl(&["logs", "root", "--output"]);
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("root is a supervisor"),
        "{}",
        output_text(&out)
    );
    let out = root.ctl(&["logs", "nosuch", "--output"]);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("\"nosuch\""),
        "{}",
        output_text(&out)
    );
}
