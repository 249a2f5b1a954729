//! A reload of an invalid tree.toml (a syntax error, an unknown key, a duplicate name) is
//! refused — by `ctl reload [--dry-run]` with exit 2 and errors located at file, line and
//! column, by SIGHUP in the log — and leaves every child as it was; a valid file reloaded
//! afterwards is applied.

use std::path::Path;

use podsup_tests::reloading::{
    CHILDREN, abcd, assert_only_restarted, assert_plan_says, ctl_reload, reload_ok, rewrite,
    root_children, sleeper, start, tree, tree_path,
};
use podsup_tests::{WAIT, output_text, signal, wait_until};

#[test]
fn sighup_with_an_invalid_file_leaves_the_tree_untouched() {
    let (root, before) = start(&tree("one_for_one", 10, &abcd("red")), &CHILDREN);

    let bad = tree("one_for_one", 10, &abcd("blue")).replace("shutdown =", "shutdwn =");
    rewrite(&root, &bad);
    signal(root.pid(), libc::SIGHUP);

    assert!(
        wait_until(WAIT, || root.log().contains("reload refused")),
        "SIGHUP with an invalid file: no refusal in the log:\n{}",
        root.log()
    );
    assert!(root.log().contains("shutdwn"), "log:\n{}", root.log());
    assert_only_restarted(&root, &CHILDREN, &before, &[]);
}

/// A tree.toml `broken` is refused by `ctl reload` (exit 2, the error located at the line
/// holding the last occurrence of `at`, "unchanged") and changes nothing; a valid file
/// reloaded afterwards is applied.
fn invalid_file_is_refused(broken: &str, at: &str) {
    let valid = tree("one_for_one", 10, &abcd("red"));
    let (root, before) = start(&valid, &CHILDREN);

    rewrite(&root, broken);
    for args in [&[][..], &["--dry-run"][..]] {
        let out = ctl_reload(&root, args);
        let text = output_text(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "ctl reload {args:?} of an invalid file: {text}\nlog:\n{}",
            root.log()
        );
        let line = broken
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains(at))
            .last()
            .unwrap_or_else(|| panic!("{at:?} not in the broken file"))
            .0
            + 1;
        assert_located(&text, &tree_path(&root), line);
        assert!(text.contains("unchanged"), "ctl reload {args:?}: {text}");
        assert_only_restarted(&root, &CHILDREN, &before, &[]);
        assert_eq!(root_children(&root), CHILDREN);
    }

    rewrite(&root, &tree("one_for_one", 10, &abcd("blue")));
    let plan = reload_ok(&root, &[]);
    assert_plan_says(&root, &plan, "~ b: env changed");
    assert_only_restarted(&root, &CHILDREN, &before, &["b"]);
}

/// Asserts that `text` has a `PATH:LINE:COLUMN: error:` line for `path` at `line`.
fn assert_located(text: &str, path: &Path, line: usize) {
    let prefix = format!("{}:{line}:", path.display());
    let located = text.lines().any(|l| {
        l.split_once(&prefix).is_some_and(|(_, rest)| {
            rest.split_once(':').is_some_and(|(column, message)| {
                column.parse::<usize>().is_ok() && message.starts_with(" error:")
            })
        })
    });
    assert!(located, "no {prefix}COLUMN: error: line in:\n{text}");
}

#[test]
fn reload_of_a_file_with_a_syntax_error_is_refused_and_changes_nothing() {
    let broken = tree("one_for_one", 10, &abcd("blue"))
        .replace("name = \"c\"", "name = \"c\"\nthis is not toml");
    invalid_file_is_refused(&broken, "this is not toml");
}

#[test]
fn reload_of_a_file_with_an_unknown_key_is_refused_and_changes_nothing() {
    let broken = tree("one_for_one", 10, &abcd("blue"))
        .replace("name = \"c\"", "name = \"c\"\ncolour = \"red\"");
    invalid_file_is_refused(&broken, "colour");
}

#[test]
fn reload_of_a_file_with_a_duplicate_name_is_refused_and_changes_nothing() {
    let mut children = abcd("blue");
    children.push(sleeper("c"));
    let broken = tree("one_for_one", 10, &children);
    invalid_file_is_refused(&broken, "name = \"c\"");
}
