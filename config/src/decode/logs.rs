//! The top-level `logs` table: rotation of the children's captured output.

use std::num::{NonZeroU32, NonZeroU64};

use super::ctx::Ctx;
use super::table::Table;
use crate::defaults;
use crate::error::{Problem, Section};
use crate::size::parse_size;
use crate::spec::LogSpec;

/// What `max_size` takes.
const SIZE_EXPECTED: &str = "a size like \"10MiB\"";

/// `logs` of the top-level `table`, every key optional; the defaults when it is absent.
pub(super) fn decode(ctx: &mut Ctx<'_>, top: &Table<'_, '_>) -> LogSpec {
    let Some(table) = top.table(ctx, "logs", (Section::Logs, "logs.")) else {
        return LogSpec::default();
    };
    table.check_keys(ctx);
    let max_size = max_size(ctx, &table).unwrap_or(defaults::LOGS_MAX_SIZE);
    let max_files = table
        .integer(
            ctx,
            "max_files",
            1..=u64::from(defaults::LOGS_MAX_FILES_LIMIT),
        )
        .and_then(|n| u32::try_from(n).ok())
        .and_then(NonZeroU32::new)
        .unwrap_or(defaults::LOGS_MAX_FILES);
    LogSpec {
        max_size,
        max_files,
    }
}

/// `logs.max_size`, a size that is not zero.
fn max_size(ctx: &mut Ctx<'_>, table: &Table<'_, '_>) -> Option<NonZeroU64> {
    let (text, span) = table.string(ctx, "max_size", SIZE_EXPECTED)?;
    let key = table.label("max_size");
    let checked = match parse_size(text) {
        Ok(bytes) => NonZeroU64::new(bytes).ok_or(Problem::ZeroSize { key }),
        Err(reason) => Err(Problem::BadSize {
            key,
            value: text.to_owned(),
            reason,
        }),
    };
    ctx.ok(span, checked)
}
