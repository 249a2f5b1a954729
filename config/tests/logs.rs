//! The top-level `[logs]` table: defaults, sizes in binary units, and span-accurate errors.

use std::path::{Path, PathBuf};

use podsup_config::{LogSpec, Problem, SizeError, defaults, parse};

fn tree_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tree.toml")
}

fn logs(source: &str) -> LogSpec {
    parse(source, &tree_path())
        .unwrap_or_else(|e| panic!("{e}"))
        .logs
}

/// Every problem of `source` as `(LINE:COLUMN: MESSAGE, problem)`.
fn problems(source: &str) -> Vec<(String, Problem)> {
    match parse(source, &tree_path()) {
        Ok(tree) => panic!("expected problems, got {tree:?}"),
        Err(err) => err
            .diagnostics()
            .iter()
            .map(|d| {
                (
                    format!("{}:{}: {}", d.line, d.column, d.message),
                    d.problem.clone(),
                )
            })
            .collect(),
    }
}

#[test]
fn without_a_logs_table_the_defaults_apply() {
    let spec = logs("name = \"t\"\n");
    assert_eq!(spec, LogSpec::default());
    assert_eq!(spec.max_size.get(), 10 * 1024 * 1024);
    assert_eq!(spec.max_files.get(), 5);
    assert_eq!(spec.max_size, defaults::LOGS_MAX_SIZE);
}

#[test]
fn both_keys_are_read_and_each_is_optional() {
    let spec = logs("name = \"t\"\n[logs]\nmax_size = \"64KiB\"\nmax_files = 3\n");
    assert_eq!(spec.max_size.get(), 64 * 1024);
    assert_eq!(spec.max_files.get(), 3);
    let spec = logs("name = \"t\"\nlogs = { max_size = \"1GiB\" }\n");
    assert_eq!(spec.max_size.get(), 1 << 30);
    assert_eq!(spec.max_files, defaults::LOGS_MAX_FILES);
    let spec = logs("name = \"t\"\nlogs = { max_files = 1000 }\n");
    assert_eq!(spec.max_size, defaults::LOGS_MAX_SIZE);
    assert_eq!(spec.max_files.get(), 1000);
}

#[test]
fn a_size_without_a_binary_unit_is_refused_at_its_value() {
    let all = problems("name = \"t\"\n[logs]\nmax_size = \"10MB\"\n");
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(
        all[0].0,
        "3:12: invalid size \"10MB\" for logs.max_size: unknown unit \"MB\" (expected a whole \
         number and a unit, like \"512KiB\", \"10MiB\" or \"1GiB\")"
    );
    assert_eq!(
        all[0].1,
        Problem::BadSize {
            key: "logs.max_size".into(),
            value: "10MB".into(),
            reason: SizeError::UnknownUnit { unit: "MB".into() },
        }
    );
    let all = problems("name = \"t\"\nlogs = { max_size = \"4096\" }\n");
    assert_eq!(
        all[0].0,
        "2:21: invalid size \"4096\" for logs.max_size: \"4096\" has no unit (expected a whole \
         number and a unit, like \"512KiB\", \"10MiB\" or \"1GiB\")"
    );
}

#[test]
fn zero_sizes_and_file_counts_are_refused() {
    let all = problems("name = \"t\"\n[logs]\nmax_size = \"0KiB\"\nmax_files = 0\n");
    let messages: Vec<&str> = all.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(
        messages,
        [
            "3:12: logs.max_size must be larger than zero (expected a size like \"10MiB\")",
            "4:13: logs.max_files = 0 is out of range (expected an integer from 1 to 1000)",
        ]
    );
}

#[test]
fn wrong_types_and_unknown_keys_name_the_logs_table() {
    let all = problems("name = \"t\"\n[logs]\nmax_size = 65536\nmax_file = 3\n");
    let messages: Vec<&str> = all.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(
        messages,
        [
            "3:12: wrong type for logs.max_size: found an integer (expected a size like \"10MiB\")",
            "4:1: unknown key \"max_file\" in logs (expected one of: max_size, max_files)",
        ]
    );
    let all = problems("name = \"t\"\nlogs = \"10MiB\"\n");
    assert_eq!(
        all[0].0,
        "2:8: wrong type for logs: found a string (expected a table)"
    );
}

#[test]
fn logs_is_a_tree_setting_not_a_child_one() {
    let all = problems(
        "name = \"t\"\n[[child]]\nname = \"s\"\nkind = \"supervisor\"\nlogs = { max_files = 2 }\n",
    );
    assert_eq!(all.len(), 1, "{all:#?}");
    assert!(
        all[0]
            .0
            .starts_with("5:1: unknown key \"logs\" for a supervisor"),
        "{all:#?}"
    );
}
