//! The top-level `logs` table: rotation of the children's captured output.

use std::num::NonZeroU32;

use super::ctx::Ctx;
use super::table::Table;
use crate::defaults;
use crate::error::Section;
use crate::spec::LogSpec;

/// What `max_size` takes.
const SIZE_EXPECTED: &str = "a size like \"10MiB\"";

/// `logs` of the top-level `table`, every key optional; the defaults when it is absent.
pub(super) fn decode(ctx: &mut Ctx<'_>, top: &Table<'_, '_>) -> LogSpec {
    let Some(table) = top.table(ctx, "logs", (Section::Logs, "logs.")) else {
        return LogSpec::default();
    };
    table.check_keys(ctx);
    let max_size = table
        .size(ctx, "max_size", SIZE_EXPECTED)
        .unwrap_or(defaults::LOGS_MAX_SIZE);
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
