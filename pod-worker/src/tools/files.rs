//! `read_file`, `write_file` and `edit_file`.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{OFlag, openat};
use nix::sys::stat::Mode;
use serde_json::Value;

use super::fs::{Fs, failure, regular};
use super::scope_view::shown;
use super::text::{Window, read_lines};
use super::{Access, ToolError, text};

/// Largest file `edit_file` loads.
const EDIT_MAX: u64 = 16 * 1024 * 1024;

/// `read_file {path, offset?, limit?}`: needs read on `path`.
pub(super) fn read_file(fs: &Fs, args: &Value) -> Result<String, ToolError> {
    let rel = fs.resolve(text(args, "path")?, Access::Read)?;
    let window = Window::from_args(args)?;
    let fd = fs.open(&rel, OFlag::O_RDONLY | OFlag::O_NONBLOCK)?;
    read_lines(regular(fd, &rel)?, window, &shown(&rel))
}

/// `write_file {path, content}`: needs write on `path`, and on each directory it creates.
pub(super) fn write_file(fs: &Fs, args: &Value) -> Result<String, ToolError> {
    let rel = fs.resolve(text(args, "path")?, Access::Write)?;
    let content = text(args, "content")?;
    let (dir, name) = fs.open_parent(&rel)?;
    let flags = OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
    let mode = Mode::from_bits_truncate(0o666);
    let opened = match openat(&dir, name, flags | OFlag::O_CREAT | OFlag::O_EXCL, mode) {
        Ok(fd) => Ok((fd, true)),
        Err(Errno::EEXIST) => openat(&dir, name, flags, Mode::empty()).map(|fd| (fd, false)),
        Err(e) => Err(e),
    };
    let (fd, created) = opened.map_err(|e| failure(&rel, e.into()))?;
    let mut file = regular(fd, &rel)?;
    let io = |e: std::io::Error| ToolError::io(shown(&rel), e);
    file.set_len(0).map_err(io)?;
    file.write_all(content.as_bytes()).map_err(io)?;
    let verb = if created { "created" } else { "overwrote" };
    Ok(format!("{verb} {} ({} bytes)", shown(&rel), content.len()))
}

/// `edit_file {path, old, new}`: needs write on `path`; `old` must occur exactly once.
/// The file is read and rewritten through one descriptor.
pub(super) fn edit_file(fs: &Fs, args: &Value) -> Result<String, ToolError> {
    let rel = fs.resolve(text(args, "path")?, Access::Write)?;
    let old = text(args, "old")?;
    let new = text(args, "new")?;
    if old.is_empty() {
        return Err(ToolError::Arguments("`old` must not be empty".into()));
    }
    let fd = fs.open(&rel, OFlag::O_RDWR | OFlag::O_NONBLOCK)?;
    let mut file = regular(fd, &rel)?;
    let io = |e: std::io::Error| ToolError::io(shown(&rel), e);
    if file.metadata().map_err(io)?.len() > EDIT_MAX {
        return Err(ToolError::WrongKind {
            path: shown(&rel),
            found: "larger than 16 MiB; edit_file does not load it",
        });
    }
    let mut body = String::new();
    file.read_to_string(&mut body).map_err(io)?;
    let at = single_match(&body, old, &rel)?;
    let edited = format!("{}{new}{}", &body[..at], &body[at + old.len()..]);
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    file.write_all(edited.as_bytes()).map_err(io)?;
    file.set_len(edited.len() as u64).map_err(io)?;
    let first = body[..at].matches('\n').count() + 1;
    let last = first + old.matches('\n').count();
    Ok(format!(
        "edited {}: replaced line{} {first}{}",
        shown(&rel),
        if last > first { "s" } else { "" },
        if last > first {
            format!("–{last}")
        } else {
            String::new()
        }
    ))
}

/// Where `old` occurs in `body`, if exactly once (overlapping occurrences count).
fn single_match(body: &str, old: &str, rel: &Path) -> Result<usize, ToolError> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(i) = body[from..].find(old) {
        found.push(from + i);
        let step = body[from + i..].chars().next().map_or(1, char::len_utf8);
        from += i + step;
    }
    match found[..] {
        [at] => Ok(at),
        [] => Err(ToolError::NoMatch { path: shown(rel) }),
        _ => Err(ToolError::Ambiguous {
            path: shown(rel),
            count: found.len(),
        }),
    }
}
