//! Supervisor nodes: the top level of the file and every `kind = "supervisor"` child.

use std::time::Duration;

use toml::de::DeValue;

use super::child;
use super::ctx::Ctx;
use super::table::{DURATION_EXPECTED, Table};
use crate::defaults;
use crate::error::{Problem, Section};
use crate::name::Name;
use crate::policy::{StartMode, Strategy, UnknownVariant};
use crate::spec::{Backoff, Intensity, SupervisorSpec};

/// What `strategy` takes.
const STRATEGY_EXPECTED: &str = "one of: one_for_one, one_for_all, rest_for_one";

/// What `child` takes.
const CHILD_EXPECTED: &str = "an array of tables, written [[child]]";

/// What a zero backoff duration should be instead.
const BACKOFF_ZERO_EXPECTED: &str =
    "a duration like \"100ms\"; leave backoff out to restart at once";

/// The supervisor settings and children in `table`, for the supervisor called `name`.
pub(super) fn decode_body(ctx: &mut Ctx<'_>, table: &Table<'_, '_>, name: Name) -> SupervisorSpec {
    let strategy = strategy(ctx, table).unwrap_or(defaults::STRATEGY);
    let max_restarts = table
        .integer(ctx, "max_restarts", 0..=u64::from(u32::MAX))
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(defaults::MAX_RESTARTS);
    let within = table
        .duration(ctx, "within", DURATION_EXPECTED)
        .unwrap_or(defaults::WITHIN);
    let start = start_mode(ctx, table, strategy);
    let backoff = table
        .table(ctx, "backoff", (Section::Backoff, "backoff."))
        .map(|backoff_table| decode_backoff(ctx, &backoff_table));
    let children = children(ctx, table);
    SupervisorSpec {
        name,
        strategy,
        intensity: Intensity {
            max_restarts,
            within,
        },
        backoff,
        start,
        children,
    }
}

/// `strategy`, refusing `dynamic`, which only spawned pods get.
fn strategy(ctx: &mut Ctx<'_>, table: &Table<'_, '_>) -> Option<Strategy> {
    let (text, span) = table.string(ctx, "strategy", STRATEGY_EXPECTED)?;
    let parsed = match text.parse::<Strategy>() {
        Ok(Strategy::Dynamic) => Err(Problem::DynamicStrategy),
        Ok(strategy) => Ok(strategy),
        Err(_) => Err(Problem::from(UnknownVariant {
            what: "strategy",
            value: text.to_owned(),
            expected: Strategy::IN_TREE_FILE,
        })),
    };
    ctx.ok(span, parsed)
}

/// `start`, refusing `parallel` where siblings restart together.
fn start_mode(ctx: &mut Ctx<'_>, table: &Table<'_, '_>, strategy: Strategy) -> StartMode {
    let start = table
        .choice(ctx, "start", "one of: ordered, parallel")
        .unwrap_or(defaults::START);
    match start {
        StartMode::Parallel if !strategy.allows_parallel_start() => {
            if let Some(value) = table.get("start") {
                ctx.report(value.span(), Problem::ParallelStart { strategy });
            }
            StartMode::Ordered
        }
        StartMode::Parallel | StartMode::Ordered => start,
    }
}

/// A `backoff` table, every key optional.
fn decode_backoff(ctx: &mut Ctx<'_>, table: &Table<'_, '_>) -> Backoff {
    table.check_keys(ctx);
    let initial = table
        .duration(ctx, "initial", BACKOFF_ZERO_EXPECTED)
        .unwrap_or(defaults::BACKOFF_INITIAL);
    let max = table
        .duration(ctx, "max", BACKOFF_ZERO_EXPECTED)
        .unwrap_or(defaults::BACKOFF_MAX);
    let multiplier = multiplier(ctx, table).unwrap_or(defaults::BACKOFF_MULTIPLIER);
    let reset_after = table
        .duration(ctx, "reset_after", DURATION_EXPECTED)
        .unwrap_or(defaults::BACKOFF_RESET_AFTER);
    if max < initial {
        let span = table
            .get("max")
            .or_else(|| table.get("initial"))
            .map(|value| value.span())
            .unwrap_or_default();
        let problem = Problem::BackoffMaxBelowInitial {
            max: crate::duration::format_duration(max),
            initial: crate::duration::format_duration(initial),
        };
        ctx.report(span, problem);
    }
    Backoff {
        initial,
        max,
        multiplier,
        reset_after,
    }
}

/// `backoff.multiplier`, an integer or a float, finite and at least 1.
fn multiplier(ctx: &mut Ctx<'_>, table: &Table<'_, '_>) -> Option<f64> {
    let (number, written, span) = table.number(ctx, "multiplier", "a number like 2.0")?;
    let checked = number
        .filter(|n| n.is_finite() && *n >= 1.0)
        .ok_or(Problem::BadMultiplier { value: written });
    ctx.ok(span, checked)
}

/// The `[[child]]` entries of a supervisor, in file order.
fn children(ctx: &mut Ctx<'_>, table: &Table<'_, '_>) -> Vec<crate::spec::ChildSpec> {
    let Some(value) = table.get("child") else {
        return Vec::new();
    };
    let DeValue::Array(items) = value.get_ref() else {
        ctx.wrong_type(value, table.label("child"), CHILD_EXPECTED);
        return Vec::new();
    };
    let mut children = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        match item.get_ref() {
            DeValue::Table(entries) => {
                let child_table = Table::new(entries, item.span(), Section::Child, "");
                children.push(child::decode(ctx, child_table));
            }
            _ => ctx.wrong_type(item, format!("child[{index}]"), "a table"),
        }
    }
    children
}

/// How long a supervisor may take to start: its children's start timeouts added up when
/// they start one after the other, the longest one when they start together.
pub(super) fn start_timeout(spec: &SupervisorSpec) -> Duration {
    let timeouts = spec.children.iter().map(|child| child.start_timeout);
    let derived = match spec.start {
        StartMode::Ordered => timeouts.fold(Duration::ZERO, Duration::saturating_add),
        StartMode::Parallel => timeouts.max().unwrap_or_default(),
    };
    if derived.is_zero() {
        defaults::START_TIMEOUT
    } else {
        derived
    }
}
