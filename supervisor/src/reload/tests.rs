use std::path::Path;

use super::*;

fn tree(toml: &str) -> podsup_config::Tree {
    podsup_config::parse(toml, Path::new("/tmp/tree.toml")).expect("valid tree")
}

const BASE: &str = r#"
name = "t"
strategy = "rest_for_one"
[[child]]
name = "a"
kind = "pod"
[[child]]
name = "b"
kind = "process"
argv = ["sleep", "100"]
[[child]]
name = "inner"
kind = "supervisor"
  [[child.child]]
  name = "c"
  kind = "pod"
"#;

#[test]
fn identical_trees_have_an_empty_plan() {
    let plan = diff("root", &tree(BASE).root, &tree(BASE).root);
    assert!(plan.is_empty(), "{plan:?}");
    assert_eq!(plan.to_string(), "root: no changes\n");
}

#[test]
fn added_removed_changed_and_nested() {
    let new = r#"
name = "t"
strategy = "one_for_all"
[[child]]
name = "a"
kind = "pod"
env = { X = "1" }
[[child]]
name = "inner"
kind = "supervisor"
  [[child.child]]
  name = "c"
  kind = "pod"
  engine = "echo"
  echo = { chunk_chars = 2 }
  [[child.child]]
  name = "d"
  kind = "pod"
[[child]]
name = "e"
kind = "process"
argv = ["sleep", "5"]
"#;
    let plan = diff("root", &tree(BASE).root, &tree(new).root);
    assert_eq!(plan.policy, vec!["strategy"]);
    assert_eq!(
        plan.children,
        vec![
            ChildChange::Removed { name: "b".into() },
            ChildChange::Changed {
                name: "a".into(),
                what: vec!["env"]
            },
            ChildChange::Nested(SupPlan {
                name: "inner".into(),
                policy: vec![],
                order: None,
                children: vec![
                    ChildChange::Changed {
                        name: "c".into(),
                        what: vec!["engine"]
                    },
                    ChildChange::Added { name: "d".into() },
                ],
            }),
            ChildChange::Added { name: "e".into() },
        ]
    );
    let text = plan.to_string();
    assert!(text.contains("- b: removed"), "{text}");
    assert!(text.contains("~ a: env changed"), "{text}");
    assert!(text.contains("  supervisor inner:"), "{text}");
    assert!(text.contains("+ e: added"), "{text}");
}

#[test]
fn argv_restart_and_kind_changes_are_named() {
    let new = BASE
        .replace(
            r#"argv = ["sleep", "100"]"#,
            "argv = [\"sleep\", \"200\"]\nrestart = \"transient\"",
        )
        .replace(
            "name = \"a\"\nkind = \"pod\"",
            "name = \"a\"\nkind = \"process\"\nargv = [\"true\"]",
        );
    let plan = diff("root", &tree(BASE).root, &tree(&new).root);
    assert_eq!(
        plan.children,
        vec![
            ChildChange::Changed {
                name: "a".into(),
                what: vec!["kind"]
            },
            ChildChange::Changed {
                name: "b".into(),
                what: vec!["restart", "argv"]
            },
        ]
    );
}

#[test]
fn reordering_is_a_change() {
    let reordered = r#"
name = "t"
strategy = "rest_for_one"
[[child]]
name = "b"
kind = "process"
argv = ["sleep", "100"]
[[child]]
name = "a"
kind = "pod"
[[child]]
name = "inner"
kind = "supervisor"
  [[child.child]]
  name = "c"
  kind = "pod"
"#;
    let plan = diff("root", &tree(BASE).root, &tree(reordered).root);
    assert_eq!(
        plan.order,
        Some(vec!["b".into(), "a".into(), "inner".into()])
    );
    assert!(plan.children.is_empty(), "{plan:?}");
    assert!(plan.to_string().contains("~ order: b, a, inner"), "{plan}");
}
