//! A pod's `scope` and `deny` rules and its `on_spawner_exit`.

use std::path::PathBuf;

use super::ctx::Ctx;
use super::table::Table;
use crate::error::{AccessProblem, Problem, Section};
use crate::policy::UnknownVariant;
use crate::scope::{Deny, Rule, Scope, normalise};
use crate::spec::OnSpawnerExit;

/// What `scope` takes.
const SCOPE_EXPECTED: &str =
    "an array of tables, like scope = [{ target = \"src\", permission = \"write\" }]";

/// What `deny` takes.
const DENY_EXPECTED: &str =
    "an array of tables, like deny = [{ target = \"src/secret\", access = \"all\" }]";

/// What a rule's `target` takes.
const TARGET_EXPECTED: &str = "a path relative to the pod's working directory, like \"src\"";

/// What `permission` takes.
const PERMISSION_EXPECTED: &str = "one of: read, write";

/// What `access` takes.
const ACCESS_EXPECTED: &str = "one of: write, all";

/// What `on_spawner_exit` takes.
const ON_SPAWNER_EXIT_EXPECTED: &str = "one of: keep, stop";

/// `scope` and `deny` of a pod table, whose keys are already checked.
pub(super) fn decode(ctx: &mut Ctx<'_>, table: &Table<'_, '_>) -> Scope {
    let mut scope = Scope::default();
    for rule in table.tables(ctx, "scope", (Section::Scope, SCOPE_EXPECTED)) {
        rule.check_keys(ctx);
        let target = target(ctx, &rule);
        require(ctx, &rule, "permission", PERMISSION_EXPECTED);
        let write = word(
            ctx,
            &rule,
            ("permission", PERMISSION_EXPECTED),
            &["read", "write"],
        )
        .map(|word| word == "write");
        let recursive = rule.boolean(ctx, "recursive").unwrap_or(true);
        if let (Some(target), Some(write)) = (target, write) {
            scope.allow.push(Rule {
                target,
                write,
                recursive,
            });
        }
    }
    for rule in table.tables(ctx, "deny", (Section::Deny, DENY_EXPECTED)) {
        rule.check_keys(ctx);
        let target = target(ctx, &rule);
        require(ctx, &rule, "access", ACCESS_EXPECTED);
        let write_only = word(ctx, &rule, ("access", ACCESS_EXPECTED), &["write", "all"])
            .map(|word| word == "write");
        let recursive = rule.boolean(ctx, "recursive").unwrap_or(true);
        if let (Some(target), Some(write_only)) = (target, write_only) {
            scope.deny.push(Deny {
                target,
                write_only,
                recursive,
            });
        }
    }
    scope
}

/// `on_spawner_exit`, `keep` when absent.
pub(super) fn on_spawner_exit(ctx: &mut Ctx<'_>, table: &Table<'_, '_>) -> OnSpawnerExit {
    let key = ("on_spawner_exit", ON_SPAWNER_EXIT_EXPECTED);
    match word(ctx, table, key, &["keep", "stop"]) {
        Some("stop") => OnSpawnerExit::Stop,
        Some(_) | None => OnSpawnerExit::Keep,
    }
}

/// `fsync`, `checkpoints` when absent.
pub(super) fn fsync(ctx: &mut Ctx<'_>, table: &Table<'_, '_>) -> crate::spec::Fsync {
    let key = ("fsync", "one of: checkpoints, always, never");
    match word(ctx, table, key, &["checkpoints", "always", "never"]) {
        Some("always") => crate::spec::Fsync::Always,
        Some("never") => crate::spec::Fsync::Never,
        Some(_) | None => crate::spec::Fsync::Checkpoints,
    }
}

/// A rule's required `target`, normalised.
fn target(ctx: &mut Ctx<'_>, rule: &Table<'_, '_>) -> Option<PathBuf> {
    require(ctx, rule, "target", TARGET_EXPECTED);
    let (text, span) = rule.string(ctx, "target", TARGET_EXPECTED)?;
    let normalised = normalise(text).map_err(|reason| {
        Problem::from(AccessProblem::BadTarget {
            key: rule.label("target"),
            value: text.to_owned(),
            reason,
        })
    });
    ctx.ok(span, normalised)
}

/// Reports `key` of a rule table if it is absent.
fn require(ctx: &mut Ctx<'_>, rule: &Table<'_, '_>, key: &'static str, expected: &'static str) {
    if rule.get(key).is_none() {
        rule.missing(ctx, key, expected);
    }
}

/// The word at `key`, which must be one of `words`.
fn word<'a>(
    ctx: &mut Ctx<'_>,
    table: &Table<'a, '_>,
    (key, expected): (&'static str, &'static str),
    words: &'static [&'static str],
) -> Option<&'a str> {
    let (text, span) = table.string(ctx, key, expected)?;
    let checked = words
        .iter()
        .find(|word| **word == text)
        .map(|_| text)
        .ok_or_else(|| {
            Problem::from(UnknownVariant {
                what: key,
                value: text.to_owned(),
                expected: words,
            })
        });
    ctx.ok(span, checked)
}
