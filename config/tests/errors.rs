//! One test per class of problem: the message and the line:column it points at.

use std::path::{Path, PathBuf};

use podsup_config::{ConfigErrorKind, Problem, load, parse};

/// A tree file path in this directory; it is never read, only used for positions and for
/// resolving relative paths.
fn tree_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tree.toml")
}

/// Every problem of `source` as `LINE:COLUMN: MESSAGE`.
fn problems(source: &str) -> Vec<String> {
    match parse(source, &tree_path()) {
        Ok(tree) => panic!("expected problems, got {tree:?}"),
        Err(err) => err
            .diagnostics()
            .iter()
            .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
            .collect(),
    }
}

/// The single problem of `source`.
fn problem(source: &str) -> String {
    let all = problems(source);
    assert_eq!(all.len(), 1, "{all:#?}");
    all.into_iter().next().unwrap_or_default()
}

/// A file with one child made of `body`, which starts at line 4.
fn child(body: &str) -> String {
    format!("name = \"t\"\n\n[[child]]\n{body}")
}

#[test]
fn toml_syntax() {
    assert_eq!(
        problem("name = \"t\"\nmax_restarts = = 3\n"),
        "2:16: invalid TOML: extra `=`, expected nothing"
    );
}

#[test]
fn syntax_errors_stop_before_semantic_checks() {
    assert_eq!(problems("strategy = \"nope\"\n[[child]\n").len(), 1);
}

#[test]
fn unknown_key_lists_the_expected_ones() {
    assert_eq!(
        problem(&child("name = \"p\"\nkind = \"pod\"\nargv = [\"sh\"]\n")),
        "6:1: unknown key \"argv\" for a pod (expected one of: name, kind, engine, restart, \
         shutdown, start_timeout, env, cwd, echo, command, llm, user, group, limits, memory_max, \
         scope, deny, on_spawner_exit, fsync)"
    );
    assert_eq!(
        problem("name = \"t\"\nstrategi = \"one_for_one\"\n"),
        "2:1: unknown key \"strategi\" at the top level (expected one of: name, strategy, \
         max_restarts, within, start, backoff, logs, child)"
    );
    assert_eq!(
        problem("name = \"t\"\nbackoff = { initial = \"1s\", factor = 2 }\n"),
        "2:29: unknown key \"factor\" in backoff (expected one of: initial, max, multiplier, \
         reset_after)"
    );
    assert_eq!(
        problem(&child(
            "name = \"s\"\nkind = \"supervisor\"\nstart_timeout = \"1s\"\n"
        )),
        "6:1: unknown key \"start_timeout\" for a supervisor (expected one of: name, kind, \
         restart, shutdown, strategy, max_restarts, within, start, backoff, child)"
    );
}

#[test]
fn wrong_type() {
    assert_eq!(
        problem("name = \"t\"\nwithin = 10\n"),
        "2:10: wrong type for within: found an integer (expected a duration like \"10s\")"
    );
    assert_eq!(
        problem(&child(
            "name = \"p\"\nkind = \"process\"\nargv = [\"sh\", 1]\n"
        )),
        "6:15: wrong type for argv[1]: found an integer (expected a string)"
    );
    assert_eq!(
        problem("name = \"t\"\n[child]\nname = \"x\"\n"),
        "2:1: wrong type for child: found a table (expected an array of tables, written \
         [[child]])"
    );
    assert_eq!(
        problem(&child("name = \"p\"\nkind = \"pod\"\nenv = { A = 1 }\n")),
        "6:13: wrong type for env[\"A\"]: found an integer (expected a string)"
    );
}

#[test]
fn missing_required_keys() {
    assert_eq!(
        problem("strategy = \"one_for_one\"\n"),
        "1:1: missing required key \"name\" at the top level (expected the tree's name, like \
         name = \"example\")"
    );
    assert_eq!(
        problem(&child("kind = \"pod\"\n")),
        "3:1: missing required key \"name\" for a pod (expected a name unique in the tree, \
         like name = \"worker-1\")"
    );
    assert_eq!(
        problem(&child("name = \"p\"\n")),
        "3:1: missing required key \"kind\" for a child (expected one of: pod, process, \
         supervisor)"
    );
    assert_eq!(
        problem(&child("name = \"p\"\nkind = \"process\"\n")),
        "3:1: missing required key \"argv\" for a process (expected a non-empty array of \
         strings, like argv = [\"sleep\", \"60\"])"
    );
    assert_eq!(
        problem(&child(
            "name = \"p\"\nkind = \"pod\"\nengine = \"command\"\n"
        )),
        "3:1: missing required key \"command\" for a pod (expected a table like command = { \
         argv = [\"tr\", \"a-z\", \"A-Z\"] } when engine = \"command\")"
    );
    assert_eq!(
        problem(&child(
            "name = \"p\"\nkind = \"pod\"\nengine = \"command\"\ncommand = { timeout = \"1s\" }\n"
        )),
        "7:11: missing required key \"argv\" in command (expected a non-empty array of \
         strings, like argv = [\"tr\", \"a-z\", \"A-Z\"])"
    );
}

#[test]
fn invalid_enum_values_list_the_valid_ones() {
    assert_eq!(
        problem("name = \"t\"\nstrategy = \"one_for_two\"\n"),
        "2:12: invalid strategy \"one_for_two\" (expected one of: one_for_one, one_for_all, \
         rest_for_one)"
    );
    assert_eq!(
        problem(&child(
            "name = \"p\"\nkind = \"pod\"\nrestart = \"always\"\n"
        )),
        "6:11: invalid restart \"always\" (expected one of: permanent, transient, temporary)"
    );
    assert_eq!(
        problem(&child("name = \"p\"\nkind = \"daemon\"\n")),
        "5:8: invalid kind \"daemon\" (expected one of: pod, process, supervisor)"
    );
    assert_eq!(
        problem("name = \"t\"\nstart = \"eager\"\n"),
        "2:9: invalid start \"eager\" (expected one of: ordered, parallel)"
    );
    assert_eq!(
        problem(&child("name = \"p\"\nkind = \"pod\"\nengine = \"gpt\"\n")),
        "6:10: invalid engine \"gpt\" (expected one of: echo, command, llm)"
    );
}

#[test]
fn dynamic_strategy_is_refused() {
    assert_eq!(
        problem("name = \"t\"\nstrategy = \"dynamic\"\n"),
        "2:12: strategy \"dynamic\" is reserved for pods spawned at run time (expected one \
         of: one_for_one, one_for_all, rest_for_one)"
    );
}

#[test]
fn duplicate_names_point_at_the_second_use() {
    let source = child(
        "name = \"a\"\nkind = \"supervisor\"\n  [[child.child]]\n  name = \"a\"\n  kind = \"pod\"\n",
    );
    assert_eq!(
        problem(&source),
        "7:10: duplicate name \"a\": already used at line 4 (expected names unique in the \
         whole tree)"
    );
    assert_eq!(
        problem(&child("name = \"root\"\nkind = \"pod\"\n")),
        "4:8: name \"root\" is reserved for the root supervisor (expected another name)"
    );
}

#[test]
fn bad_durations() {
    let within = |value: &str| problem(&format!("name = \"t\"\nwithin = \"{value}\"\n"));
    let expected = "(expected a number and a unit, like \"500ms\", \"10s\", \"2m\" or \"1m30s\")";
    assert_eq!(
        within("5"),
        format!("2:10: invalid duration \"5\" for within: \"5\" has no unit {expected}")
    );
    assert_eq!(
        within("-1s"),
        format!("2:10: invalid duration \"-1s\" for within: it is negative {expected}")
    );
    assert_eq!(
        within("5 parsecs"),
        format!(
            "2:10: invalid duration \"5 parsecs\" for within: unexpected character ' ' at \
             position 2 {expected}"
        )
    );
    assert_eq!(
        within("5parsecs"),
        format!(
            "2:10: invalid duration \"5parsecs\" for within: unknown unit \"parsecs\" {expected}"
        )
    );
    assert_eq!(
        within("0s"),
        "2:10: within must be longer than zero (expected a duration like \"10s\")"
    );
    assert_eq!(
        problem(&child(
            "name = \"p\"\nkind = \"pod\"\nstart_timeout = \"0ms\"\n"
        )),
        "6:17: start_timeout must be longer than zero (expected a duration like \"10s\")"
    );
    assert_eq!(
        problem(&child("name = \"p\"\nkind = \"pod\"\nshutdown = \"0s\"\n")),
        "6:12: shutdown must be longer than zero (expected \"brutal_kill\" or a duration like \
         \"5s\")"
    );
}

#[test]
fn bad_names() {
    assert_eq!(
        problem(&child("name = \"-x\"\nkind = \"pod\"\n")),
        "4:8: invalid name \"-x\": it starts with '-', not a letter or digit (expected 1 to 64 \
         characters of A-Z a-z 0-9 _ . -, starting with a letter or digit)"
    );
    assert!(problem("name = \"a/b\"\n").starts_with("1:8: invalid name \"a/b\": character '/'"));
    assert!(
        problem(&child(&format!(
            "name = \"{}\"\nkind = \"pod\"\n",
            "x".repeat(65)
        )))
        .starts_with("4:8: invalid name \"xxxx")
    );
}

#[test]
fn missing_or_unusable_executables() {
    assert_eq!(
        problem(&child(
            "name = \"p\"\nkind = \"process\"\nargv = [\"nosuchprog\"]\n"
        )),
        "6:9: argv[0] \"nosuchprog\" not found in PATH (expected a program in one of the PATH \
         directories, or a path containing '/')"
    );
    let not_executable = problem(&child(
        "name = \"p\"\nkind = \"process\"\nargv = [\"./errors.rs\"]\n",
    ));
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/errors.rs");
    assert_eq!(
        not_executable,
        format!(
            "6:9: argv[0] \"./errors.rs\" is not executable: {} (expected a file with execute \
             permission)",
            path.display()
        )
    );
    assert!(
        problem(&child(
            "name = \"p\"\nkind = \"process\"\nargv = [\"./nope\"]\n"
        ))
        .starts_with("6:9: argv[0] \"./nope\" not found: ")
    );
    assert!(
        problem(&child(
            "name = \"p\"\nkind = \"pod\"\nengine = \"command\"\ncommand = { argv = [\"nosuchprog\"] }\n"
        ))
        .starts_with("7:21: command.argv[0] \"nosuchprog\" not found in PATH")
    );
}

#[test]
fn empty_argv() {
    assert_eq!(
        problem(&child("name = \"p\"\nkind = \"process\"\nargv = []\n")),
        "6:8: argv is empty (expected a program and its arguments, like [\"sleep\", \"60\"])"
    );
}

#[test]
fn parallel_start_needs_one_for_one() {
    assert_eq!(
        problem("name = \"t\"\nstrategy = \"one_for_all\"\nstart = \"parallel\"\n"),
        "3:9: start = \"parallel\" is not allowed with strategy one_for_all (expected start = \
         \"ordered\", or strategy = \"one_for_one\")"
    );
}

#[test]
fn backoff_invariants() {
    let backoff = |body: &str| problem(&format!("name = \"t\"\nbackoff = {{ {body} }}\n"));
    assert_eq!(
        backoff("initial = \"0s\""),
        "2:23: backoff.initial must be longer than zero (expected a duration like \"100ms\"; \
         leave backoff out to restart at once)"
    );
    assert_eq!(
        backoff("initial = \"5s\", max = \"1s\""),
        "2:35: backoff max 1s is shorter than initial 5s (expected max >= initial)"
    );
    assert_eq!(
        backoff("multiplier = 0.5"),
        "2:26: backoff multiplier 0.5 is invalid (expected a finite number of at least 1.0)"
    );
    assert_eq!(
        backoff("multiplier = nan"),
        "2:26: backoff multiplier nan is invalid (expected a finite number of at least 1.0)"
    );
}

#[test]
fn cwd_must_be_an_existing_directory() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    assert_eq!(
        problem(&child("name = \"p\"\nkind = \"pod\"\ncwd = \"nope\"\n")),
        format!(
            "6:7: cwd \"nope\" does not exist: {} (expected an existing directory; relative \
             paths start at the tree file's directory)",
            dir.join("nope").display()
        )
    );
    assert_eq!(
        problem(&child(
            "name = \"p\"\nkind = \"pod\"\ncwd = \"errors.rs\"\n"
        )),
        format!(
            "6:7: cwd \"errors.rs\" is not a directory: {} (expected an existing directory)",
            dir.join("errors.rs").display()
        )
    );
}

#[test]
fn env_names_and_values() {
    let env = |body: &str| {
        problem(&child(&format!(
            "name = \"p\"\nkind = \"pod\"\nenv = {{ {body} }}\n"
        )))
    };
    let expected = "(expected a non-empty name without '=' or NUL)";
    assert_eq!(
        env("\"A=B\" = \"1\""),
        format!("6:9: invalid environment variable name \"A=B\": it contains '=' {expected}")
    );
    assert_eq!(
        env("\"\" = \"1\""),
        format!("6:9: invalid environment variable name \"\": it is empty {expected}")
    );
    assert_eq!(
        env("\"A\\u0000\" = \"1\""),
        format!(
            "6:9: invalid environment variable name \"A\\0\": it contains a NUL character {expected}"
        )
    );
    assert_eq!(
        env("A = \"x\\u0000\""),
        "6:13: environment variable \"A\" contains a NUL character (expected text without NUL)"
    );
}

#[test]
fn engine_settings_must_match_the_engine() {
    assert_eq!(
        problem(&child(
            "name = \"p\"\nkind = \"pod\"\ncommand = { argv = [\"sh\"] }\n"
        )),
        "6:11: \"command\" settings do not apply to engine \"echo\" (expected engine = \
         \"command\", or no \"command\" table)"
    );
}

#[test]
fn integers_out_of_range() {
    assert_eq!(
        problem("name = \"t\"\nmax_restarts = -1\n"),
        "2:16: max_restarts = -1 is out of range (expected an integer from 0 to 4294967295)"
    );
    assert_eq!(
        problem(&child(
            "name = \"p\"\nkind = \"pod\"\necho = { chunk_chars = 0 }\n"
        )),
        "6:24: echo.chunk_chars = 0 is out of range (expected an integer from 1 to 4294967295)"
    );
}

#[test]
fn every_problem_is_reported_in_file_order() {
    let source = "name = \"t\"\nstrategy = \"nope\"\nwithin = \"5\"\n\n[[child]]\nname = \"a\"\n\
                  kind = \"pod\"\nbogus = 1\n\n[[child]]\nname = \"a\"\nkind = \"process\"\n\
                  argv = []\n";
    let all = problems(source);
    let positions: Vec<&str> = all
        .iter()
        .map(|p| p.split(": ").next().unwrap_or_default())
        .collect();
    assert_eq!(
        positions,
        ["2:12", "3:10", "8:1", "11:8", "13:8"],
        "{all:#?}"
    );
}

#[test]
fn unreadable_files_name_the_file() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/no-such-tree.toml");
    let err = load(&path).expect_err("missing file");
    assert!(err.diagnostics().is_empty());
    assert!(matches!(err.kind(), ConfigErrorKind::Read { .. }));
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "{}: error: cannot read the tree file: ",
            path.display()
        )),
        "{message}"
    );
}

#[test]
fn diagnostics_carry_the_typed_problem() {
    let err = parse("name = \"t\"\nstrategy = \"dynamic\"\n", &tree_path()).expect_err("invalid");
    assert_eq!(err.diagnostics()[0].problem, Problem::DynamicStrategy);
    assert_eq!(err.path(), tree_path());
    assert_eq!(
        err.to_string().lines().count(),
        err.diagnostics().len(),
        "one line per problem"
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    assert_eq!(
        problem(&child(
            "name = \"p\"\nkind = \"pod\"\nenv = { \"ééé\" = 1 }\n"
        ))
        .split(": ")
        .next(),
        Some("6:17")
    );
}

#[test]
fn fsync_takes_one_of_three_words() {
    let good = "name = \"t\"\n[[child]]\nname = \"p\"\nkind = \"pod\"\nfsync = \"always\"\n";
    let tree = podsup_config::parse(good, std::path::Path::new("/tmp/t.toml")).expect("valid");
    let pod = tree.root.children[0].kind.as_pod().expect("a pod");
    assert_eq!(pod.fsync, podsup_config::Fsync::Always);
    let bad = good.replace("\"always\"", "\"sometimes\"");
    let err = podsup_config::parse(&bad, std::path::Path::new("/tmp/t.toml")).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("/tmp/t.toml:5:9") && text.contains("checkpoints, always, never"),
        "{text}"
    );
}
