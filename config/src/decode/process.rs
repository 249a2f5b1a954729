//! `kind = "process"`: a plain command, supervised without a socket.

use super::ctx::Ctx;
use super::environment::{cwd, env};
use super::program::{self, Lookup};
use super::table::Table;
use crate::spec::ProcessSpec;

/// What a process's `argv` takes.
const ARGV_EXPECTED: &str = "a non-empty array of strings, like argv = [\"sleep\", \"60\"]";

/// The process settings in `table`, whose keys are already checked.
pub(super) fn decode(ctx: &mut Ctx<'_>, table: &Table<'_, '_>) -> ProcessSpec {
    let env = env(ctx, table);
    let cwd = cwd(ctx, table);
    if table.get("argv").is_none() {
        table.missing(ctx, "argv", ARGV_EXPECTED);
    }
    let argv = program::argv(ctx, table, "argv");
    let dir = cwd.clone().unwrap_or_else(|| ctx.base_dir().to_owned());
    let lookup = Lookup {
        key: "argv",
        dir: &dir,
    };
    let program = argv
        .as_ref()
        .and_then(|argv| program::resolve(ctx, argv, &lookup))
        .unwrap_or_default();
    ProcessSpec {
        argv: argv.map(|argv| argv.words).unwrap_or_default(),
        program,
        env,
        cwd,
    }
}
