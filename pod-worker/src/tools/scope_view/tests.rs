//! Scope refusals and their wording, as a table.

use std::path::{Path, PathBuf};

use podsup_config::scope::{Deny, Rule, Scope};

use super::super::{Access, ScopeView};

fn rule(target: &str, write: bool, recursive: bool) -> Rule {
    Rule {
        target: PathBuf::from(target),
        write,
        recursive,
    }
}

/// Write on `.`, `src/` delegated to `coder/tests`, `docs` read-only, `secrets` denied.
fn view() -> ScopeView {
    let delegated = vec![("coder/tests".to_owned(), rule("src", true, true))];
    let base = Scope {
        allow: vec![rule("", true, true)],
        deny: vec![
            Deny {
                target: "secrets".into(),
                write_only: false,
                recursive: true,
            },
            Deny {
                target: "docs".into(),
                write_only: true,
                recursive: true,
            },
        ],
    };
    ScopeView {
        scope: base.without_write_on(delegated.iter().map(|(_, r)| r)),
        delegated,
    }
}

#[test]
fn refusals_name_the_path_and_the_reason() {
    let view = view();
    let table: &[(&str, Access, Option<&str>)] = &[
        ("README.md", Access::Read, None),
        ("README.md", Access::Write, None),
        ("src/lib.rs", Access::Read, None),
        (
            "src/lib.rs",
            Access::Write,
            Some("write denied: src/lib.rs is delegated to pod coder/tests"),
        ),
        (
            "src",
            Access::Write,
            Some("write denied: src is delegated to pod coder/tests"),
        ),
        ("docs/a.md", Access::Read, None),
        (
            "docs/a.md",
            Access::Write,
            Some("write denied: docs/a.md is read-only for this pod"),
        ),
        (
            "secrets/key",
            Access::Read,
            Some("read denied: secrets/key is outside this pod's scope"),
        ),
        (
            "secrets/key",
            Access::Write,
            Some("write denied: secrets/key is outside this pod's scope"),
        ),
    ];
    for (path, access, want) in table {
        let got = view
            .check(Path::new(path), *access)
            .err()
            .map(|e| e.to_string());
        assert_eq!(got.as_deref(), *want, "{access} {path}");
    }
}

#[test]
fn the_way_into_a_narrow_scope_is_visible() {
    let view = ScopeView {
        scope: Scope {
            allow: vec![rule("src/a", false, true)],
            deny: vec![],
        },
        delegated: vec![],
    };
    for (path, visible) in [
        ("", true),
        ("src", true),
        ("src/a", true),
        ("src/a/x", true),
        ("src/b", false),
        ("docs", false),
    ] {
        assert_eq!(view.visible(Path::new(path)), visible, "{path:?}");
    }
    assert!(!view.scope.permits(Path::new("src"), false));
}

#[test]
fn bash_needs_the_whole_directory_undivided() {
    let whole = ScopeView {
        scope: Scope {
            allow: vec![rule("", true, true)],
            deny: vec![],
        },
        delegated: vec![],
    };
    assert!(whole.check_bash().is_ok());
    let narrow = ScopeView {
        scope: Scope {
            allow: vec![rule("src", true, true)],
            deny: vec![],
        },
        delegated: vec![],
    };
    let read_only = ScopeView {
        scope: Scope {
            allow: vec![rule("", false, true)],
            deny: vec![],
        },
        delegated: vec![],
    };
    for (view, want) in [
        (
            &narrow,
            "bash denied: this pod does not hold write on its whole directory",
        ),
        (
            &read_only,
            "bash denied: this pod does not hold write on its whole directory",
        ),
        (
            &view(),
            "bash denied: write on src is delegated to pod coder/tests",
        ),
    ] {
        let got = view.check_bash().unwrap_err().to_string();
        assert!(got.starts_with(want), "{got}");
    }
    let mut denied = whole.clone();
    denied.scope.deny.push(Deny {
        target: "secrets".into(),
        write_only: false,
        recursive: true,
    });
    assert!(
        denied
            .check_bash()
            .unwrap_err()
            .to_string()
            .contains("secrets is denied")
    );
}
