//! Glob matching as a table.

use super::Pattern;

fn names(path: &str) -> Vec<&str> {
    path.split('/').filter(|n| !n.is_empty()).collect()
}

#[test]
fn matches_as_a_table() {
    let table: &[(&str, &str, bool)] = &[
        ("*.rs", "lib.rs", true),
        ("*.rs", "src/lib.rs", false),
        ("src/*.rs", "src/lib.rs", true),
        ("src/*.rs", "src/a/lib.rs", false),
        ("src/**/*.rs", "src/lib.rs", true),
        ("src/**/*.rs", "src/a/b/lib.rs", true),
        ("**/*.rs", "lib.rs", true),
        ("**/*.rs", "x/y/lib.rs", true),
        ("**/*.rs", ".git/lib.rs", false),
        ("**/*.rs", ".hidden.rs", false),
        (".*", ".hidden", true),
        ("**/.git", "a/.git", true),
        ("?.txt", "a.txt", true),
        ("?.txt", "ab.txt", false),
        ("a*b*c", "aXbYc", true),
        ("a*b*c", "aXbY", false),
        ("*", "é", true),
        ("??", "é", false),
        ("src", "src", true),
        ("src/**", "src/a/b", true),
    ];
    for (pattern, path, want) in table {
        let p = Pattern::parse(pattern).unwrap();
        assert_eq!(p.matches(&names(path)), *want, "{pattern} vs {path}");
    }
}

#[test]
fn only_directories_that_could_hold_a_match_are_entered() {
    let table: &[(&str, &str, bool)] = &[
        ("src/*.rs", "src", true),
        ("src/*.rs", "docs", false),
        ("src/*.rs", "src/a", false),
        ("src/**/*.rs", "src/a/b", true),
        ("**/*.rs", "anything", true),
        ("**/*.rs", ".git", false),
        ("*.rs", "src", false),
    ];
    for (pattern, dir, want) in table {
        let p = Pattern::parse(pattern).unwrap();
        assert_eq!(
            p.may_match_below(&names(dir)),
            *want,
            "{pattern} below {dir}"
        );
    }
}

#[test]
fn the_walk_starts_at_the_literal_directory() {
    for (pattern, base) in [
        ("src/a/*.rs", "src/a"),
        ("*.rs", ""),
        ("src/**/x", "src"),
        ("lib.rs", ""),
    ] {
        assert_eq!(
            Pattern::parse(pattern).unwrap().base().to_str(),
            Some(base),
            "{pattern}"
        );
    }
}

#[test]
fn escapes_and_absolute_patterns_are_refused() {
    assert!(Pattern::parse("../*").is_err());
    assert!(Pattern::parse("src/../../*").is_err());
    assert!(Pattern::parse("/etc/*").is_err());
    assert!(Pattern::parse("").is_err());
}
