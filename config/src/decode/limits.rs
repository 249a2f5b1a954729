//! What pods and processes share about privileges and resources: `user`, `group`, the
//! `limits` table and `memory_max`.

use nix::unistd::{Group, User};

use super::ctx::Ctx;
use super::table::Table;
use crate::error::{AccessProblem, Problem, Section};
use crate::spec::{Limits, RunAs};

/// What `user` and `group` take.
const NAME_EXPECTED: &str = "a user or group name, like \"nobody\"";

/// What `memory_max` and `limits.as` take.
const SIZE_EXPECTED: &str = "a size like \"512MiB\"";

/// Largest count `nofile` and `nproc` take (TOML integers are signed 64-bit).
const COUNT_MAX: u64 = i64::MAX as u64;

/// `user`, `group`, `limits` and `memory_max` of a pod or process table, whose keys are
/// already checked.
pub(super) fn decode(ctx: &mut Ctx<'_>, table: &Table<'_, '_>) -> Limits {
    let run_as = run_as(ctx, table);
    let mut limits = Limits {
        run_as,
        memory_max: table
            .size(ctx, "memory_max", SIZE_EXPECTED)
            .map(|size| size.get()),
        ..Limits::default()
    };
    if let Some(rlimits) = table.table(ctx, "limits", (Section::Limits, "limits.")) {
        rlimits.check_keys(ctx);
        limits.nofile = rlimits.integer(ctx, "nofile", 1..=COUNT_MAX);
        limits.nproc = rlimits.integer(ctx, "nproc", 1..=COUNT_MAX);
        limits.address_space = rlimits
            .size(ctx, "as", SIZE_EXPECTED)
            .map(|size| size.get());
    }
    limits
}

/// `user` and `group`, looked up in the system's databases now, so a typo fails the load
/// rather than the start.
fn run_as(ctx: &mut Ctx<'_>, table: &Table<'_, '_>) -> Option<RunAs> {
    let user = table.string(ctx, "user", NAME_EXPECTED);
    let group = table.string(ctx, "group", NAME_EXPECTED);
    let Some((name, span)) = user else {
        if let Some((group, span)) = group {
            let problem = AccessProblem::GroupWithoutUser {
                group: group.to_owned(),
            };
            ctx.report(span, problem.into());
        }
        return None;
    };
    let user = ctx.ok(span, lookup_user(name))?;
    let gid = match group {
        Some((group, span)) => ctx.ok(span, lookup_group(group))?,
        None => user.gid.as_raw(),
    };
    Some(RunAs {
        uid: user.uid.as_raw(),
        gid,
        user: name.to_owned(),
    })
}

fn lookup_user(name: &str) -> Result<User, Problem> {
    match User::from_name(name) {
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(AccessProblem::UnknownUser {
            user: name.to_owned(),
        }
        .into()),
        Err(errno) => Err(lookup_failed("user", name, errno)),
    }
}

fn lookup_group(name: &str) -> Result<u32, Problem> {
    match Group::from_name(name) {
        Ok(Some(group)) => Ok(group.gid.as_raw()),
        Ok(None) => Err(AccessProblem::UnknownGroup {
            group: name.to_owned(),
        }
        .into()),
        Err(errno) => Err(lookup_failed("group", name, errno)),
    }
}

fn lookup_failed(key: &'static str, name: &str, errno: nix::errno::Errno) -> Problem {
    AccessProblem::LookupFailed {
        key,
        name: name.to_owned(),
        reason: errno.desc().to_owned(),
    }
    .into()
}
