//! Invalid tree files: `podsup check` and `podsup start` both refuse them with exit 2 and a
//! `FILE:LINE:COLUMN: error: …` line that says what was expected, before anything runs;
//! a valid file (examples/tree.toml) checks fine and is printed.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use podsup_tests::{WAIT, output_text, output_within, podsup_bin};

/// One invalid tree file and what podsup must say about it.
struct Case {
    /// File name (without `.toml`).
    name: &'static str,
    /// The file.
    toml: &'static str,
    /// The error's line is the first line of `toml` containing this.
    at: &'static str,
    /// The exact column, where a test pins it.
    column: Option<usize>,
    /// Fragments the message must contain (besides "expected").
    says: &'static [&'static str],
}

/// A scratch dir with one tree file in it; runtime and state dirs stay inside it.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            dir: tempfile::Builder::new()
                .prefix("podsup-config")
                .tempdir()
                .expect("tempdir"),
        }
    }

    fn write(&self, name: &str, toml: &str) -> PathBuf {
        let path = self.dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, toml).expect("write tree");
        path
    }

    fn check(&self, tree: &Path) -> Output {
        output_within(Command::new(podsup_bin()).arg("check").arg(tree), WAIT)
    }

    /// `podsup start`; an invalid file must make it exit at once, so this never hangs.
    fn start(&self, tree: &Path) -> Output {
        output_within(
            Command::new(podsup_bin())
                .arg("start")
                .arg(tree)
                .arg("--runtime-dir")
                .arg(self.dir.path().join("run"))
                .arg("--state-dir")
                .arg(self.dir.path().join("state")),
            WAIT,
        )
    }
}

/// The `(line, column, message)` of the first `PATH:LINE:COLUMN: error: MESSAGE` line.
fn located_error(stderr: &str, path: &Path) -> Option<(usize, usize, String)> {
    let prefix = format!("{}:", path.display());
    stderr.lines().find_map(|line| {
        let rest = line.strip_prefix(&prefix)?;
        let mut parts = rest.splitn(3, ':');
        let line_no = parts.next()?.parse().ok()?;
        let column = parts.next()?.parse().ok()?;
        let message = parts.next()?.strip_prefix(" error: ")?.to_owned();
        Some((line_no, column, message))
    })
}

fn line_of(toml: &str, needle: &str) -> usize {
    toml.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in case"))
        + 1
}

/// Runs `check` and `start` on the case and asserts exit 2 and a located, helpful message.
fn assert_refused(case: &Case) {
    let scratch = Scratch::new();
    let path = scratch.write(case.name, case.toml);
    let expected_line = line_of(case.toml, case.at);
    for (verb, out) in [
        ("check", scratch.check(&path)),
        ("start", scratch.start(&path)),
    ] {
        let text = output_text(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "podsup {verb} {}: {text}",
            case.name
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        let (line, column, message) = located_error(&stderr, &path).unwrap_or_else(|| {
            panic!(
                "podsup {verb} {}: no FILE:LINE:COLUMN: error line in:\n{stderr}",
                case.name
            )
        });
        assert_eq!(
            line, expected_line,
            "podsup {verb} {}: wrong line: {stderr}",
            case.name
        );
        if let Some(expected) = case.column {
            assert_eq!(
                column, expected,
                "podsup {verb} {}: wrong column: {stderr}",
                case.name
            );
        }
        assert!(
            message.contains("expected"),
            "podsup {verb} {}: says nothing of what is expected: {stderr}",
            case.name
        );
        for fragment in case.says {
            assert!(
                message.contains(fragment),
                "podsup {verb} {}: {fragment:?} missing from: {stderr}",
                case.name
            );
        }
        assert!(
            !scratch.dir.path().join("run").exists(),
            "podsup {verb} {}: created the runtime dir",
            case.name
        );
    }
}

#[test]
fn toml_syntax_error_is_located() {
    assert_refused(&Case {
        name: "syntax",
        toml: "name = \"bad\"\n\n[[child]]\nname = \"greeter\nkind = \"pod\"\n",
        at: "name = \"greeter",
        column: None,
        says: &["invalid TOML"],
    });
}

#[test]
fn unknown_key_is_located_exactly_and_lists_the_valid_keys() {
    assert_refused(&Case {
        name: "unknown_key",
        toml: "name = \"bad\"\n\n[[child]]\nname = \"greeter\"\nkind = \"pod\"\ncolour = \"blue\"\n",
        at: "colour",
        column: Some(1),
        says: &["unknown key \"colour\"", "engine", "shutdown"],
    });
}

#[test]
fn wrong_type_names_the_key_and_the_type_expected() {
    assert_refused(&Case {
        name: "wrong_type",
        toml: "name = \"bad\"\nmax_restarts = \"5\"\n",
        at: "max_restarts",
        column: None,
        says: &["max_restarts", "string", "integer"],
    });
}

#[test]
fn missing_required_key_is_named() {
    assert_refused(&Case {
        name: "missing_key",
        toml: "name = \"bad\"\n\n[[child]]\nname = \"ticker\"\nkind = \"process\"\n",
        at: "[[child]]",
        column: None,
        says: &["missing required key \"argv\""],
    });
}

#[test]
fn invalid_strategy_lists_the_valid_ones() {
    assert_refused(&Case {
        name: "invalid_enum",
        toml: "name = \"bad\"\nstrategy = \"one_for_some\"\n",
        at: "one_for_some",
        column: Some(12),
        says: &["one_for_some", "one_for_one", "one_for_all", "rest_for_one"],
    });
}

#[test]
fn duplicate_child_name_is_located_exactly_and_points_at_the_first_use() {
    assert_refused(&Case {
        name: "duplicate_name",
        toml: r#"name = "bad"

[[child]]
name = "fetcher"
kind = "pod"

[[child]]
name = "workers"
kind = "supervisor"

  [[child.child]]
  kind = "pod"
  name = "fetcher"
"#,
        at: "  name = \"fetcher\"",
        column: Some(10),
        says: &["duplicate name \"fetcher\"", "line 4"],
    });
}

#[test]
fn bad_duration_shows_the_accepted_form() {
    assert_refused(&Case {
        name: "bad_duration",
        toml: "name = \"bad\"\n\n[[child]]\nname = \"greeter\"\nkind = \"pod\"\nshutdown = \"5 parsecs\"\n",
        at: "parsecs",
        column: Some(12),
        says: &["invalid duration \"5 parsecs\"", "shutdown", "10s"],
    });
}

#[test]
fn bad_name_states_the_name_rules() {
    assert_refused(&Case {
        name: "bad_name",
        toml: "name = \"bad\"\n\n[[child]]\nname = \"my pod\"\nkind = \"pod\"\n",
        at: "my pod",
        column: Some(8),
        says: &["invalid name \"my pod\""],
    });
}

#[test]
fn missing_executable_is_caught_before_start() {
    assert_refused(&Case {
        name: "missing_program",
        toml: "name = \"bad\"\n\n[[child]]\nname = \"ticker\"\nkind = \"process\"\nargv = [\"definitely-not-a-program-xyz\"]\n",
        at: "argv",
        column: None,
        says: &["definitely-not-a-program-xyz", "not found"],
    });
}

#[test]
fn non_executable_file_is_caught_before_start() {
    let scratch = Scratch::new();
    let script = scratch.dir.path().join("script.sh");
    std::fs::write(&script, "#!/bin/sh\nexit 0\n").expect("write script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let toml = "name = \"bad\"\n\n[[child]]\nname = \"ticker\"\nkind = \"process\"\nargv = [\"./script.sh\"]\n";
    let path = scratch.write("not_executable", toml);
    for (verb, out) in [
        ("check", scratch.check(&path)),
        ("start", scratch.start(&path)),
    ] {
        assert_eq!(
            out.status.code(),
            Some(2),
            "podsup {verb}: {}",
            output_text(&out)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        let (line, _, message) = located_error(&stderr, &path)
            .unwrap_or_else(|| panic!("podsup {verb}: no located error in:\n{stderr}"));
        assert_eq!(line, 6, "{stderr}");
        assert!(
            message.contains("not executable") && message.contains("expected"),
            "{stderr}"
        );
    }
}

#[test]
fn parallel_start_with_rest_for_one_is_refused() {
    assert_refused(&Case {
        name: "parallel_start",
        toml: "name = \"bad\"\nstrategy = \"rest_for_one\"\nstart = \"parallel\"\n",
        at: "parallel",
        column: None,
        says: &["parallel", "rest_for_one"],
    });
}

#[test]
fn missing_tree_file_is_named() {
    let scratch = Scratch::new();
    let path = scratch.dir.path().join("no-such-tree.toml");
    for (verb, out) in [
        ("check", scratch.check(&path)),
        ("start", scratch.start(&path)),
    ] {
        assert_eq!(
            out.status.code(),
            Some(2),
            "podsup {verb}: {}",
            output_text(&out)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&path.display().to_string()),
            "podsup {verb} does not name the file: {stderr}"
        );
        assert!(stderr.contains("cannot read"), "{stderr}");
    }
}

#[test]
fn every_problem_of_a_file_is_reported_at_once() {
    let toml = "name = \"bad\"\nstrategy = \"one_for_some\"\n\n[[child]]\nname = \"greeter\"\nkind = \"pod\"\ncolour = \"blue\"\n";
    let scratch = Scratch::new();
    let path = scratch.write("two_problems", toml);
    let out = scratch.check(&path);
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let prefix = path.display().to_string();
    let located: Vec<&str> = stderr.lines().filter(|l| l.starts_with(&prefix)).collect();
    assert_eq!(located.len(), 2, "{stderr}");
    assert!(
        located[0].starts_with(&format!("{prefix}:2:12:")),
        "{stderr}"
    );
    assert!(
        located[1].starts_with(&format!("{prefix}:7:1:")),
        "{stderr}"
    );
}

#[test]
fn check_accepts_the_example_tree_and_prints_it() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/tree.toml");
    let out = output_within(Command::new(podsup_bin()).arg("check").arg(&example), WAIT);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for name in [
        "example", "greeter", "workers", "fetcher", "upper", "ticker",
    ] {
        assert!(
            stdout.contains(name),
            "{name} missing from the printed tree:\n{stdout}"
        );
    }
}
