use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::*;

fn rule(target: &str, write: bool, recursive: bool) -> Rule {
    Rule {
        target: PathBuf::from(target),
        write,
        recursive,
    }
}

fn base() -> Scope {
    Scope {
        allow: vec![
            rule("src", true, true),
            rule("docs", false, true),
            rule("README.md", true, false),
        ],
        deny: vec![Deny {
            target: PathBuf::from("src/secret"),
            write_only: false,
            recursive: true,
        }],
    }
}

#[test]
fn normalise_refuses_escapes_and_absolute_paths() {
    assert_eq!(
        normalise("./src/../src/a.rs").unwrap(),
        PathBuf::from("src/a.rs")
    );
    assert_eq!(normalise(".").unwrap(), PathBuf::new());
    assert!(matches!(normalise("../etc"), Err(PathError::Escapes(_))));
    assert!(matches!(
        normalise("src/../../x"),
        Err(PathError::Escapes(_))
    ));
    assert!(matches!(
        normalise("/etc/passwd"),
        Err(PathError::Absolute(_))
    ));
}

#[test]
fn allow_deny_and_recursion() {
    let s = base();
    assert!(s.permits(Path::new("src/main.rs"), true));
    assert!(s.permits(Path::new("docs/a/b.md"), false));
    assert!(
        !s.permits(Path::new("docs/a/b.md"), true),
        "docs is read-only"
    );
    assert!(s.permits(Path::new("README.md"), true));
    assert!(!s.permits(Path::new("README.md/x"), false), "not recursive");
    assert!(!s.permits(Path::new("src/secret/key"), false), "denied");
    assert!(!s.permits(Path::new("Cargo.toml"), false), "not allowed");
}

#[test]
fn delegation_is_a_subset_and_write_is_exclusive() {
    let s = base();
    let child = s.delegate(&[rule("src/lib", true, true)], &[]).unwrap();
    assert!(child.permits(Path::new("src/lib/x.rs"), true));
    assert!(!child.permits(Path::new("src/main.rs"), false));
    assert_eq!(
        s.delegate(&[rule("docs", true, true)], &[]),
        Err(DelegationError::NotHeld {
            target: "docs".into(),
            access: "write"
        })
    );
    assert!(
        s.delegate(&[rule("README.md", true, true)], &[]).is_err(),
        "recursive beyond a file rule"
    );
    let held = vec![("p/a".to_owned(), rule("src/lib", true, true))];
    assert_eq!(
        s.delegate(&[rule("src/lib/deep", true, false)], &held),
        Err(DelegationError::AlreadyDelegated {
            target: "src/lib/deep".into(),
            holder: "p/a".into()
        })
    );
    assert!(
        s.delegate(&[rule("src/lib", false, true)], &held).is_ok(),
        "read is shared"
    );
    assert!(
        s.delegate(&[rule("src/bin", true, true)], &held).is_ok(),
        "disjoint write"
    );
    // The child inherits the spawner's denies.
    let child = s.delegate(&[rule("src", true, true)], &[]).unwrap();
    assert!(!child.permits(Path::new("src/secret/key"), false));
}

#[test]
fn spawner_loses_write_while_delegated_and_gets_it_back() {
    let s = base();
    let delegated = [rule("src/lib", true, true)];
    let reduced = s.without_write_on(&delegated);
    assert!(!reduced.permits(Path::new("src/lib/x.rs"), true));
    assert!(
        reduced.permits(Path::new("src/lib/x.rs"), false),
        "read stays"
    );
    assert!(reduced.permits(Path::new("src/main.rs"), true));
    let back = s.without_write_on(&[]);
    assert_eq!(back, s);
}

fn arb_rel() -> impl Strategy<Value = PathBuf> {
    prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 0..4)
        .prop_map(|parts| parts.iter().collect::<PathBuf>())
}

fn arb_rule() -> impl Strategy<Value = Rule> {
    (arb_rel(), any::<bool>(), any::<bool>()).prop_map(|(target, write, recursive)| Rule {
        target,
        write,
        recursive,
    })
}

fn arb_scope() -> impl Strategy<Value = Scope> {
    (
        prop::collection::vec(arb_rule(), 0..4),
        prop::collection::vec((arb_rel(), any::<bool>(), any::<bool>()), 0..2),
    )
        .prop_map(|(allow, deny)| Scope {
            allow,
            deny: deny
                .into_iter()
                .map(|(target, write_only, recursive)| Deny {
                    target,
                    write_only,
                    recursive,
                })
                .collect(),
        })
}

proptest! {
    /// A child never gets a permission its spawner lacks.
    #[test]
    fn delegated_scope_is_within_the_spawner(s in arb_scope(), rules in prop::collection::vec(arb_rule(), 0..3), probe in arb_rel(), write in any::<bool>()) {
        if let Ok(child) = s.delegate(&rules, &[]) {
            if child.permits(&probe, write) {
                prop_assert!(s.permits(&probe, write), "child may {probe:?} write={write} but spawner may not");
            }
        }
    }

    /// Two children granted write never overlap.
    #[test]
    fn write_delegation_is_exclusive(s in arb_scope(), a in arb_rule(), b in arb_rule(), probe in arb_rel()) {
        if let Ok(first) = s.delegate(std::slice::from_ref(&a), &[]) {
            let held = vec![("a".to_owned(), a.clone())];
            if let Ok(second) = s.delegate(std::slice::from_ref(&b), &held) {
                prop_assert!(!(first.permits(&probe, true) && second.permits(&probe, true)), "both may write {probe:?}");
            }
        }
    }

    /// Reducing and restoring is exact: with nothing delegated the scope is the original,
    /// and reading never depends on delegation.
    #[test]
    fn reclaim_restores_exactly(s in arb_scope(), delegated in prop::collection::vec(arb_rule(), 0..3), probe in arb_rel()) {
        let reduced = s.without_write_on(&delegated);
        prop_assert_eq!(reduced.permits(&probe, false), s.permits(&probe, false));
        if reduced.permits(&probe, true) {
            prop_assert!(s.permits(&probe, true));
        }
        prop_assert_eq!(s.without_write_on(&[]), s.clone());
    }
}
