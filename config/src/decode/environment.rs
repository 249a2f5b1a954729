//! What pods and processes share: extra environment and working directory.

use std::collections::BTreeMap;
use std::path::PathBuf;

use toml::de::DeValue;

use super::ctx::Ctx;
use super::table::Table;
use crate::error::{EnvNameProblem, Problem};

/// What `cwd` takes.
const CWD_EXPECTED: &str = "a directory path";

/// `env`: a table of strings, names and values usable by `execve`.
pub(super) fn env(ctx: &mut Ctx<'_>, table: &Table<'_, '_>) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    let Some(value) = table.get("env") else {
        return env;
    };
    let DeValue::Table(entries) = value.get_ref() else {
        ctx.wrong_type(
            value,
            "env".to_owned(),
            "a table of strings, like env = { RUST_LOG = \"info\" }",
        );
        return env;
    };
    for (name, value) in entries.iter() {
        let name_text = name.get_ref().as_ref();
        let checked_name = env_name(name_text);
        let name_ok = ctx.ok(name.span(), checked_name).is_some();
        let label = format!("env[{name_text:?}]");
        let Some(text) = ctx.string(value, &label, "a string") else {
            continue;
        };
        if text.contains('\0') {
            let problem = Problem::BadEnvValue {
                name: name_text.to_owned(),
            };
            ctx.report(value.span(), problem);
            continue;
        }
        if name_ok {
            env.insert(name_text.to_owned(), text.to_owned());
        }
    }
    env
}

/// Checks that `name` can be an environment variable name.
pub(super) fn env_name(name: &str) -> Result<(), Problem> {
    let reason = if name.is_empty() {
        EnvNameProblem::Empty
    } else if name.contains('=') {
        EnvNameProblem::ContainsEquals
    } else if name.contains('\0') {
        EnvNameProblem::ContainsNul
    } else {
        return Ok(());
    };
    Err(Problem::BadEnvName {
        name: name.to_owned(),
        reason,
    })
}

/// `cwd`, resolved against the tree file's directory; it must be an existing directory.
pub(super) fn cwd(ctx: &mut Ctx<'_>, table: &Table<'_, '_>) -> Option<PathBuf> {
    let (text, span) = table.string(ctx, "cwd", CWD_EXPECTED)?;
    let path = ctx.base_dir().join(text);
    let checked = match std::fs::metadata(&path) {
        Ok(meta) if meta.is_dir() => Ok(path),
        Ok(_) => Err(Problem::CwdNotDirectory {
            value: text.to_owned(),
            path,
        }),
        Err(_) => Err(Problem::CwdMissing {
            value: text.to_owned(),
            path,
        }),
    };
    ctx.ok(span, checked)
}
