//! `user`, `group`, `limits` and `memory_max` of pods and processes: resolved at load time,
//! carried in `ChildSpec::limits`, refused with span-accurate errors.

use std::path::{Path, PathBuf};

use nix::unistd::{Group, User};
use podsup_config::{AccessProblem, Limits, Problem, RunAs, parse};

fn tree_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tree.toml")
}

/// A file with one child made of `body`, which starts at line 4.
fn child(body: &str) -> String {
    format!("name = \"t\"\n\n[[child]]\n{body}")
}

/// The limits of the only child of `source`.
fn limits(source: &str) -> Limits {
    let tree = parse(source, &tree_path()).unwrap_or_else(|e| panic!("{e}"));
    tree.root.children[0].limits.clone()
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

/// The single problem of `source`, as `LINE:COLUMN: MESSAGE`.
fn problem(source: &str) -> String {
    let all = problems(source);
    assert_eq!(all.len(), 1, "{all:#?}");
    all[0].0.clone()
}

fn nobody() -> User {
    User::from_name("nobody")
        .expect("passwd readable")
        .expect("this system has a user called nobody")
}

#[test]
fn without_the_keys_nothing_changes() {
    assert_eq!(
        limits(&child("name = \"p\"\nkind = \"pod\"\n")),
        Limits::default()
    );
    let tree = parse(
        &child("name = \"s\"\nkind = \"supervisor\"\n"),
        &tree_path(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(tree.root.children[0].limits, Limits::default());
}

#[test]
fn every_key_is_read_for_a_pod() {
    let nobody = nobody();
    let got = limits(&child(
        "name = \"p\"\nkind = \"pod\"\nuser = \"nobody\"\nmemory_max = \"512MiB\"\n\
         limits = { nofile = 1024, nproc = 512, as = \"2GiB\" }\n",
    ));
    assert_eq!(
        got,
        Limits {
            run_as: Some(RunAs {
                uid: nobody.uid.as_raw(),
                gid: nobody.gid.as_raw(),
                user: "nobody".into(),
            }),
            nofile: Some(1024),
            nproc: Some(512),
            address_space: Some(2 << 30),
            memory_max: Some(512 << 20),
        }
    );
}

#[test]
fn a_process_takes_them_too_and_group_overrides_the_primary_group() {
    let got = limits(&child(
        "name = \"p\"\nkind = \"process\"\nargv = [\"sleep\", \"1\"]\nuser = \"nobody\"\n\
         group = \"root\"\n[child.limits]\nnofile = 64\n",
    ));
    let run_as = got.run_as.expect("run_as");
    assert_eq!(run_as.uid, nobody().uid.as_raw());
    let root_group = Group::from_name("root")
        .expect("group")
        .expect("root group");
    assert_eq!(run_as.gid, root_group.gid.as_raw());
    assert_eq!(got.nofile, Some(64));
    assert_eq!(
        (got.nproc, got.address_space, got.memory_max),
        (None, None, None)
    );
}

#[test]
fn an_unknown_user_or_group_is_refused_at_its_value() {
    let all = problems(&child(
        "name = \"p\"\nkind = \"pod\"\nuser = \"no-such-user-x\"\n",
    ));
    assert_eq!(
        all[0].0,
        "6:8: unknown user \"no-such-user-x\" (expected the name of a user of this system, \
         like \"nobody\")"
    );
    assert_eq!(
        all[0].1,
        Problem::Access(AccessProblem::UnknownUser {
            user: "no-such-user-x".into()
        })
    );
    assert_eq!(all.len(), 1);
    assert_eq!(
        problem(&child(
            "name = \"p\"\nkind = \"process\"\nargv = [\"sleep\", \"1\"]\nuser = \"nobody\"\n\
             group = \"no-such-group-x\"\n"
        )),
        "8:9: unknown group \"no-such-group-x\" (expected the name of a group of this system, \
         like \"nogroup\"; leave group out for the user's own)"
    );
}

#[test]
fn a_group_needs_a_user() {
    assert_eq!(
        problem(&child("name = \"p\"\nkind = \"pod\"\ngroup = \"root\"\n")),
        "6:9: group \"root\" is set without user (expected user = \"NAME\" as well: group only \
         chooses the group a user runs with)"
    );
}

#[test]
fn a_supervisor_takes_no_user_or_limits() {
    let all = problems(&child(
        "name = \"s\"\nkind = \"supervisor\"\nuser = \"nobody\"\nmemory_max = \"1GiB\"\n",
    ));
    let messages: Vec<&str> = all.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert!(
        messages[0].starts_with("6:1: unknown key \"user\" for a supervisor"),
        "{messages:#?}"
    );
    assert!(
        messages[1].starts_with("7:1: unknown key \"memory_max\" for a supervisor"),
        "{messages:#?}"
    );
}

#[test]
fn bad_limits_are_refused_at_their_value() {
    let all = problems(&child(
        "name = \"p\"\nkind = \"pod\"\n[child.limits]\nnofile = 0\nnproc = \"many\"\n\
         as = \"2GB\"\nstack = 1\n",
    ));
    let messages: Vec<&str> = all.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(
        messages,
        [
            "7:10: limits.nofile = 0 is out of range (expected an integer from 1 to \
             9223372036854775807)",
            "8:9: wrong type for limits.nproc: found a string (expected an integer)",
            "9:6: invalid size \"2GB\" for limits.as: unknown unit \"GB\" (expected a whole \
             number and a unit, like \"512KiB\", \"10MiB\" or \"1GiB\")",
            "10:1: unknown key \"stack\" in limits (expected one of: nofile, nproc, as)",
        ]
    );
    assert_eq!(
        problem(&child("name = \"p\"\nkind = \"pod\"\nlimits = 1024\n")),
        "6:10: wrong type for limits: found an integer (expected a table)"
    );
}

#[test]
fn memory_max_is_a_size_larger_than_zero() {
    assert_eq!(
        problem(&child(
            "name = \"p\"\nkind = \"pod\"\nmemory_max = \"0MiB\"\n"
        )),
        "6:14: memory_max must be larger than zero (expected a size like \"10MiB\")"
    );
    assert_eq!(
        problem(&child("name = \"p\"\nkind = \"pod\"\nmemory_max = 512\n")),
        "6:14: wrong type for memory_max: found an integer (expected a size like \"512MiB\")"
    );
}

#[test]
fn podsup_check_shows_the_user_and_limits() {
    let tree = parse(
        &child(
            "name = \"p\"\nkind = \"pod\"\nuser = \"nobody\"\nmemory_max = \"512MiB\"\n\
             limits = { nofile = 1024, as = \"2GiB\" }\n",
        ),
        &tree_path(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let shown = tree.to_string();
    let nobody = nobody();
    let expected = format!(
        ", user nobody (uid {}, gid {}), nofile 1024, as 2GiB, memory_max 512MiB, restart",
        nobody.uid, nobody.gid
    );
    assert!(shown.contains(&expected), "{shown}");
}
