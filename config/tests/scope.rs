//! A pod's `scope`, `deny` and `on_spawner_exit`: rules with normalised targets in
//! `PodSpec::scope`, refused with span-accurate errors.

use std::path::{Path, PathBuf};

use podsup_config::scope::{Deny, PathError, Rule, Scope};
use podsup_config::{AccessProblem, OnSpawnerExit, PodSpec, Problem, parse};

fn tree_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tree.toml")
}

/// A file with one pod made of `body` after its name and kind, which starts at line 6.
fn pod(body: &str) -> String {
    format!("name = \"t\"\n\n[[child]]\nname = \"p\"\nkind = \"pod\"\n{body}")
}

fn spec(source: &str) -> PodSpec {
    let tree = parse(source, &tree_path()).unwrap_or_else(|e| panic!("{e}"));
    PodSpec::clone(tree.root.children[0].kind.as_pod().expect("a pod"))
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

fn messages(source: &str) -> Vec<String> {
    problems(source).into_iter().map(|(m, _)| m).collect()
}

#[test]
fn without_the_keys_a_pod_holds_nothing_and_keeps_its_children() {
    let spec = spec(&pod(""));
    assert_eq!(spec.scope, Scope::default());
    assert_eq!(spec.on_spawner_exit, OnSpawnerExit::Keep);
}

#[test]
fn rules_are_read_with_normalised_targets_and_recursive_by_default() {
    let spec = spec(&pod("on_spawner_exit = \"stop\"\n\
         scope = [\n\
           { target = \"./src/../lib/\", permission = \"write\" },\n\
           { target = \"docs\", permission = \"read\", recursive = false },\n\
           { target = \".\", permission = \"read\" },\n\
         ]\n\
         [[child.deny]]\ntarget = \"lib/secret\"\naccess = \"all\"\n\
         [[child.deny]]\ntarget = \"lib/generated\"\naccess = \"write\"\nrecursive = false\n"));
    let rule = |target: &str, write, recursive| Rule {
        target: target.into(),
        write,
        recursive,
    };
    assert_eq!(
        spec.scope.allow,
        [
            rule("lib", true, true),
            rule("docs", false, false),
            rule("", false, true)
        ]
    );
    assert_eq!(
        spec.scope.deny,
        [
            Deny {
                target: "lib/secret".into(),
                write_only: false,
                recursive: true
            },
            Deny {
                target: "lib/generated".into(),
                write_only: true,
                recursive: false
            },
        ]
    );
    assert_eq!(spec.on_spawner_exit, OnSpawnerExit::Stop);
    assert!(spec.scope.permits(Path::new("lib/x.rs"), true));
    assert!(!spec.scope.permits(Path::new("lib/secret/key"), false));
    assert_eq!(
        self::spec(&pod("on_spawner_exit = \"keep\"\n")).on_spawner_exit,
        OnSpawnerExit::Keep
    );
}

#[test]
fn a_target_that_leaves_the_working_directory_is_refused_at_its_value() {
    let all = problems(&pod(
        "scope = [{ target = \"src/../../etc\", permission = \"read\" }]\n",
    ));
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(
        all[0].0,
        "6:21: invalid scope[0].target \"src/../../etc\": \"src/../../etc\" leaves the working \
         directory (expected a path relative to the pod's working directory, like \"src\")"
    );
    assert_eq!(
        all[0].1,
        Problem::Access(AccessProblem::BadTarget {
            key: "scope[0].target".into(),
            value: "src/../../etc".into(),
            reason: PathError::Escapes("src/../../etc".into()),
        })
    );
    assert_eq!(
        messages(&pod(
            "[[child.deny]]\ntarget = \"/etc\"\naccess = \"all\"\n"
        )),
        [
            "7:10: invalid deny[0].target \"/etc\": \"/etc\" is absolute; scope paths are \
          relative to the pod's working directory (expected a path relative to the pod's \
          working directory, like \"src\")"
        ]
    );
}

#[test]
fn rules_need_a_target_and_an_access_word() {
    assert_eq!(
        messages(&pod(
            "scope = [{ permission = \"read\" }, { target = \"src\" }]\n\
             deny = [{ target = \"src\", access = \"read\" }]\n"
        )),
        [
            "6:10: missing required key \"target\" in a scope rule (expected a path relative \
             to the pod's working directory, like \"src\")",
            "6:35: missing required key \"permission\" in a scope rule (expected one of: read, \
             write)",
            "7:36: invalid access \"read\" (expected one of: write, all)",
        ]
    );
}

#[test]
fn wrong_words_types_and_keys_are_refused() {
    assert_eq!(
        messages(&pod("on_spawner_exit = \"orphan\"\n\
             scope = [{ target = \"src\", permission = \"rw\", recursive = \"yes\", mode = 1 }]\n\
             deny = { target = \"src\" }\n")),
        [
            "6:19: invalid on_spawner_exit \"orphan\" (expected one of: keep, stop)",
            "7:41: invalid permission \"rw\" (expected one of: read, write)",
            "7:59: wrong type for scope[0].recursive: found a string (expected true or false)",
            "7:66: unknown key \"mode\" in a scope rule (expected one of: target, permission, \
             recursive)",
            "8:8: wrong type for deny: found a table (expected an array of tables, like deny = \
             [{ target = \"src/secret\", access = \"all\" }])",
        ]
    );
    assert_eq!(
        messages(&pod("scope = [\"src\"]\n")),
        ["6:10: wrong type for scope[0]: found a string (expected a table)"]
    );
}

#[test]
fn scope_is_for_pods_only() {
    let all = messages(
        "name = \"t\"\n[[child]]\nname = \"p\"\nkind = \"process\"\nargv = [\"sleep\", \"1\"]\n\
         scope = []\n",
    );
    assert_eq!(all.len(), 1, "{all:#?}");
    assert!(
        all[0].starts_with("6:1: unknown key \"scope\" for a process"),
        "{all:#?}"
    );
}
