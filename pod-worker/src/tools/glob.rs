//! `glob`: the paths under the pod's directory that match a pattern and that it may read.

mod pattern;

use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use serde_json::Value;

pub(crate) use pattern::Pattern;

use super::fs::{Fs, failure};
use super::scope_view::shown;
use super::walk::{Flow, Kind, walk};
use super::{ToolError, text};

/// Most paths one `glob` returns.
const MAX_RESULTS: usize = 1000;
/// Most entries one `glob` looks at.
const MAX_VISITS: usize = 100_000;

/// `glob {pattern}`: matching paths the pod may read, one per line in walk order, `/` after
/// directories. The walk starts at the pattern's literal directory, enters only
/// directories that are visible to the pod and could hold a match, and never follows a
/// symlink (a symlink itself is never listed either).
pub(super) fn glob(fs: &Fs, args: &Value) -> Result<String, ToolError> {
    let raw = text(args, "pattern")?;
    let pattern = Pattern::parse(raw)?;
    let base = fs.resolve_visible(&pattern.base().to_string_lossy())?;
    let fd = match fs.open(&base, OFlag::O_RDONLY | OFlag::O_DIRECTORY) {
        Ok(fd) => fd,
        Err(ToolError::Io { source, .. }) if is_missing(&source) => {
            return Ok(format!(
                "no matches for {raw} ({} does not exist)",
                shown(&base)
            ));
        }
        Err(e) => return Err(e),
    };
    let mut found = Vec::new();
    let mut visits = 0usize;
    let view = fs.view();
    let stopped = walk(fd, &base, &mut |entry| {
        visits += 1;
        if visits > MAX_VISITS || found.len() >= MAX_RESULTS {
            return Flow::Stop;
        }
        let names = names(entry.rel);
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        if entry.kind != Kind::Symlink
            && pattern.matches(&names)
            && view.scope.permits(entry.rel, false)
        {
            let slash = if entry.kind == Kind::Dir { "/" } else { "" };
            found.push(format!("{}{slash}", entry.rel.display()));
        }
        if entry.kind == Kind::Dir && view.visible(entry.rel) && pattern.may_match_below(&names) {
            Flow::Enter
        } else {
            Flow::Next
        }
    })
    .map_err(|e| failure(&base, e))?;
    let mut out = found.join("\n");
    if out.is_empty() {
        out = format!("no matches for {raw}");
    }
    if stopped {
        out.push_str(&format!(
            "\n[stopped after {} matches / {} entries looked at; narrow the pattern]",
            found.len(),
            visits - 1
        ));
    }
    Ok(out)
}

/// The names of `rel`, lossily as text.
fn names(rel: &Path) -> Vec<String> {
    rel.iter()
        .map(|n| n.to_string_lossy().into_owned())
        .collect()
}

/// Whether an open failed because the path (or a directory in it) does not exist.
fn is_missing(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error().map(Errno::from_raw),
        Some(Errno::ENOENT | Errno::ENOTDIR)
    )
}
