//! One `[[child]]` table: the keys every kind shares, then the kind's own.

use std::sync::Arc;
use std::time::Duration;

use super::ctx::Ctx;
use super::table::{Table, positive_duration};
use super::{limits, pod, process, supervisor};
use crate::defaults;
use crate::error::{Problem, Section};
use crate::name::Name;
use crate::policy::{Shutdown, UnknownVariant};
use crate::spec::{ChildKind, ChildSpec, Limits, PodSpec};

/// What `kind` takes.
const KIND_EXPECTED: &str = "one of: pod, process, supervisor";

/// What a child's `name` takes.
const NAME_EXPECTED: &str = "a name unique in the tree, like name = \"worker-1\"";

/// What `shutdown` takes.
const SHUTDOWN_EXPECTED: &str = "\"brutal_kill\" or a duration like \"5s\"";

/// What `start_timeout` takes instead of zero.
const START_TIMEOUT_ZERO_EXPECTED: &str = "a duration like \"10s\"";

/// The three kinds of child, as `kind` names them.
#[derive(Clone, Copy)]
enum Kind {
    Supervisor,
    Pod,
    Process,
}

/// Decodes a child table whose keys have not been checked yet.
pub(super) fn decode(ctx: &mut Ctx<'_>, table: Table<'_, '_>) -> ChildSpec {
    let kind = kind(ctx, &table);
    let section = match kind {
        Some(Kind::Supervisor) => Section::Supervisor,
        Some(Kind::Pod) => Section::Pod,
        Some(Kind::Process) => Section::Process,
        None => Section::Child,
    };
    let table = table.with_section(section);
    table.check_keys(ctx);
    let name = name(ctx, &table);
    let restart = table
        .choice(ctx, "restart", "one of: permanent, transient, temporary")
        .unwrap_or(defaults::RESTART);
    let default_grace = match kind {
        Some(Kind::Supervisor) => defaults::SHUTDOWN_SUPERVISOR,
        Some(Kind::Pod | Kind::Process) | None => defaults::SHUTDOWN_WORKER,
    };
    let shutdown = shutdown(ctx, &table).unwrap_or(Shutdown::Timeout(default_grace));
    let limits = match kind {
        Some(Kind::Pod | Kind::Process) => limits::decode(ctx, &table),
        Some(Kind::Supervisor) | None => Limits::default(),
    };
    let (kind, start_timeout) = match kind {
        Some(Kind::Supervisor) => {
            let spec = supervisor::decode_body(ctx, &table, name.clone());
            let timeout = supervisor::start_timeout(&spec);
            (ChildKind::Supervisor(spec), timeout)
        }
        Some(Kind::Pod) => {
            let timeout = start_timeout(ctx, &table);
            (ChildKind::Pod(Arc::new(pod::decode(ctx, &table))), timeout)
        }
        Some(Kind::Process) => {
            let timeout = start_timeout(ctx, &table);
            (ChildKind::Process(process::decode(ctx, &table)), timeout)
        }
        None => (placeholder(), defaults::START_TIMEOUT),
    };
    ChildSpec {
        name,
        restart,
        shutdown,
        start_timeout,
        kind,
        limits,
    }
}

/// The required `kind`.
fn kind(ctx: &mut Ctx<'_>, table: &Table<'_, '_>) -> Option<Kind> {
    let Some((text, span)) = table.string(ctx, "kind", KIND_EXPECTED) else {
        if table.get("kind").is_none() {
            table.missing(ctx, "kind", KIND_EXPECTED);
        }
        return None;
    };
    let parsed = match text {
        "supervisor" => Ok(Kind::Supervisor),
        "pod" => Ok(Kind::Pod),
        "process" => Ok(Kind::Process),
        _ => Err(Problem::from(UnknownVariant {
            what: "kind",
            value: text.to_owned(),
            expected: &["pod", "process", "supervisor"],
        })),
    };
    ctx.ok(span, parsed)
}

/// The required `name`, valid and claimed for this child. A placeholder when absent or
/// invalid: the problem is reported and the tree will not be returned.
fn name(ctx: &mut Ctx<'_>, table: &Table<'_, '_>) -> Name {
    let Some((text, span)) = table.string(ctx, "name", NAME_EXPECTED) else {
        if table.get("name").is_none() {
            table.missing(ctx, "name", NAME_EXPECTED);
        }
        return Name::root();
    };
    let parsed = Name::parse(text).map_err(|reason| Problem::BadName {
        value: text.to_owned(),
        reason,
    });
    match ctx.ok(span.clone(), parsed) {
        Some(name) => {
            ctx.claim_name(&name, span);
            name
        }
        None => Name::root(),
    }
}

/// `shutdown`: `"brutal_kill"` or a grace period longer than zero.
fn shutdown(ctx: &mut Ctx<'_>, table: &Table<'_, '_>) -> Option<Shutdown> {
    let (text, span) = table.string(ctx, "shutdown", SHUTDOWN_EXPECTED)?;
    if text == Shutdown::BRUTAL_KILL {
        return Some(Shutdown::BrutalKill);
    }
    let grace = positive_duration(text, "shutdown", SHUTDOWN_EXPECTED);
    ctx.ok(span, grace).map(Shutdown::Timeout)
}

/// `start_timeout` of a pod or process.
fn start_timeout(ctx: &mut Ctx<'_>, table: &Table<'_, '_>) -> Duration {
    table
        .duration(ctx, "start_timeout", START_TIMEOUT_ZERO_EXPECTED)
        .unwrap_or(defaults::START_TIMEOUT)
}

/// Stands in for a child whose kind is unknown; never leaves the decoder.
fn placeholder() -> ChildKind {
    ChildKind::Pod(Arc::new(PodSpec {
        engine: podsup_wire::EngineSpec::Echo {
            chunk_chars: defaults::ECHO_CHUNK_CHARS,
            delay_ms: defaults::ECHO_DELAY_MS,
        },
        env: Default::default(),
        cwd: None,
        scope: Default::default(),
        on_spawner_exit: Default::default(),
        fsync: Default::default(),
    }))
}
