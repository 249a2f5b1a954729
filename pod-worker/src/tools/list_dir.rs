//! `list_dir`.

use nix::fcntl::OFlag;
use serde_json::Value;

use super::fs::{Fs, failure};
use super::scope_view::shown;
use super::text::{OUTPUT_CAP, cut};
use super::walk::{Kind, read_dir};
use super::{ToolError, opt_text};

/// `list_dir {path?}`: one name per line, `/` after directories and `@` after symlinks.
/// In a directory the pod may read, every name is shown and those it may not read are
/// marked `(no access)`; in one it may only pass through on the way into its scope, only
/// the names leading there are shown.
pub(super) fn list_dir(fs: &Fs, args: &Value) -> Result<String, ToolError> {
    let rel = fs.resolve_visible(opt_text(args, "path")?.unwrap_or("."))?;
    let readable = fs.view().scope.permits(&rel, false);
    let fd = fs.open(&rel, OFlag::O_RDONLY | OFlag::O_DIRECTORY)?;
    let (_dir, entries) = read_dir(fd).map_err(|e| failure(&rel, e))?;
    let mut out = String::new();
    let mut hidden = 0usize;
    for entry in entries {
        let path = rel.join(&entry.name);
        let visible = fs.view().visible(&path);
        if !readable && !visible {
            hidden += 1;
            continue;
        }
        let mark = match entry.kind {
            Kind::Dir => "/",
            Kind::Symlink => "@",
            Kind::File | Kind::Other => "",
        };
        let access = if visible { "" } else { " (no access)" };
        out.push_str(&format!("{}{mark}{access}\n", entry.name.to_string_lossy()));
    }
    if out.is_empty() {
        return Ok(if hidden == 0 {
            format!("{} is empty", shown(&rel))
        } else {
            format!("nothing in {} is within this pod's scope", shown(&rel))
        });
    }
    if out.len() > OUTPUT_CAP {
        let kept = cut(&out, OUTPUT_CAP);
        let kept = &kept[..kept.rfind('\n').map_or(0, |i| i + 1)];
        return Ok(format!(
            "{kept}[listing cut at {} KiB; use glob to narrow it]",
            OUTPUT_CAP / 1024
        ));
    }
    Ok(out)
}
