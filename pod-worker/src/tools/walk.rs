//! Reading and walking directories through descriptors opened beneath the root, never
//! following a symlink: each directory is opened relative to its parent's descriptor with
//! `O_NOFOLLOW`, so a name swapped for a symlink mid-walk fails to open and is skipped.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::dir::{Dir, Type};
use nix::fcntl::{AtFlags, OFlag, openat};
use nix::sys::stat::{Mode, SFlag, fstatat};

use super::beneath::kind;

/// Deepest a walk goes below its start; deeper directories are not entered.
const MAX_DEPTH: usize = 64;

/// What a directory entry is, without following it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A directory.
    Dir,
    /// A regular file.
    File,
    /// A symlink (never followed).
    Symlink,
    /// Anything else: device, FIFO, socket.
    Other,
}

/// One entry of a directory.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Its name.
    pub(crate) name: OsString,
    /// What it is.
    pub(crate) kind: Kind,
}

/// The entries of the directory `fd` (opened for reading), sorted by name, without `.` and
/// `..`, and the directory itself to open entries relative to.
pub(crate) fn read_dir(fd: OwnedFd) -> io::Result<(Dir, Vec<Entry>)> {
    let mut dir = Dir::from_fd(fd)?;
    let mut entries = Vec::new();
    for entry in dir.iter() {
        let entry = entry?;
        let name = OsStr::from_bytes(entry.file_name().to_bytes());
        if name == "." || name == ".." {
            continue;
        }
        let kind = match entry.file_type() {
            Some(Type::Directory) => Kind::Dir,
            Some(Type::File) => Kind::File,
            Some(Type::Symlink) => Kind::Symlink,
            // Devices and the like, or no type from the file system: looked at below.
            Some(_) | None => Kind::Other,
        };
        entries.push(Entry {
            name: name.to_owned(),
            kind,
        });
    }
    for entry in entries.iter_mut().filter(|e| e.kind == Kind::Other) {
        entry.kind = stat_kind(dir.as_fd(), &entry.name);
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((dir, entries))
}

/// The kind of `name` in `dir` by `fstatat` without following, for file systems whose
/// directory entries carry no type.
fn stat_kind(dir: BorrowedFd<'_>, name: &OsStr) -> Kind {
    match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW).map(|s| kind(&s)) {
        Ok(SFlag::S_IFDIR) => Kind::Dir,
        Ok(SFlag::S_IFREG) => Kind::File,
        Ok(SFlag::S_IFLNK) => Kind::Symlink,
        _ => Kind::Other,
    }
}

/// Opens `name` in `dir` for reading, refusing symlinks (`ELOOP`); `O_NONBLOCK` so a FIFO
/// swapped in cannot hang the call.
pub(crate) fn open_at(dir: BorrowedFd<'_>, name: &OsStr, flags: OFlag) -> io::Result<OwnedFd> {
    let flags = flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
    Ok(openat(dir, name, flags, Mode::empty())?)
}

/// An entry met on a walk.
pub(crate) struct Found<'a> {
    /// Its path relative to the pod's directory.
    pub(crate) rel: &'a Path,
    /// What it is.
    pub(crate) kind: Kind,
    /// The directory holding it, to open it relative to.
    pub(crate) parent: BorrowedFd<'a>,
    /// Its name in `parent`.
    pub(crate) name: &'a OsStr,
}

/// What a walk does after an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Go on with the next entry (a directory is not entered).
    Next,
    /// Enter this directory, then go on.
    Enter,
    /// Stop the whole walk.
    Stop,
}

/// Walks the directory `start` (opened for reading; `rel` its path), depth first in name
/// order, calling `visit` on each entry. Directories that cannot be opened (gone, no
/// permission, swapped for a symlink) are skipped. Returns whether `visit` stopped it.
pub(crate) fn walk(
    start: OwnedFd,
    rel: &Path,
    visit: &mut dyn FnMut(&Found<'_>) -> Flow,
) -> io::Result<bool> {
    let mut rel = rel.to_path_buf();
    walk_dir(start, &mut rel, 0, visit).map(|flow| flow == Flow::Stop)
}

fn walk_dir(
    fd: OwnedFd,
    rel: &mut PathBuf,
    depth: usize,
    visit: &mut dyn FnMut(&Found<'_>) -> Flow,
) -> io::Result<Flow> {
    let (dir, entries) = read_dir(fd)?;
    for entry in entries {
        rel.push(&entry.name);
        let found = Found {
            rel: rel.as_path(),
            kind: entry.kind,
            parent: dir.as_fd(),
            name: &entry.name,
        };
        let mut flow = visit(&found);
        if flow == Flow::Enter && entry.kind == Kind::Dir && depth < MAX_DEPTH {
            let opened = open_at(
                dir.as_fd(),
                &entry.name,
                OFlag::O_RDONLY | OFlag::O_DIRECTORY,
            );
            // A directory that vanished or became a symlink since it was listed is skipped.
            if let Ok(sub) = opened {
                flow = walk_dir(sub, rel, depth + 1, visit).unwrap_or(Flow::Next);
            }
        }
        rel.pop();
        if flow == Flow::Stop {
            return Ok(Flow::Stop);
        }
    }
    Ok(Flow::Next)
}
