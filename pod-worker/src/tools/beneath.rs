//! Opening a path beneath a directory descriptor without ever leaving it or following a
//! symlink, so that what was checked is what gets used.

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag, openat, openat2};
use nix::sys::stat::{FileStat, Mode, SFlag, fstat};

/// How often `openat2` is retried when the kernel reports a concurrent rename (`EAGAIN`)
/// before the component walk is used instead.
const RETRIES: usize = 8;

/// Opens `rel` beneath `root` with `flags` (plus `O_NOFOLLOW | O_CLOEXEC`; mode 0666
/// before the umask when creating).
///
/// `rel` must be relative and hold no `..`: anything else fails with `EXDEV`. A symlink
/// anywhere in the path, the last component included, fails with `ELOOP` (an `O_PATH`
/// open too, which would otherwise return the link itself). Resolution uses `openat2(2)`
/// with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`; where the kernel lacks it (`ENOSYS`, or
/// `EPERM` from a seccomp filter that predates it) it walks one component at a time with
/// `O_NOFOLLOW`, checking each step on the descriptor it opened. Either way the result is
/// the object reached at open time: swapping a component for a symlink afterwards cannot
/// redirect it, and swapping one in before fails the open.
pub fn open_beneath(root: BorrowedFd<'_>, rel: &Path, flags: OFlag) -> io::Result<OwnedFd> {
    let parts = parts(rel)?;
    let flags = flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    match open_parts(root, &parts, flags) {
        // With O_DIRECTORY the kernel reports a final symlink as ENOTDIR; say which it was.
        Err(e)
            if e.raw_os_error() == Some(Errno::ENOTDIR as i32)
                && flags.contains(OFlag::O_DIRECTORY) =>
        {
            let as_path = OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
            match open_parts(root, &parts, as_path) {
                Err(link) if link.raw_os_error() == Some(Errno::ELOOP as i32) => Err(link),
                _ => Err(e),
            }
        }
        other => other,
    }
}

fn open_parts(root: BorrowedFd<'_>, parts: &[&OsStr], flags: OFlag) -> io::Result<OwnedFd> {
    for _ in 0..RETRIES {
        match by_openat2(root, parts, flags) {
            Err(Errno::EAGAIN) => continue,
            Err(Errno::ENOSYS | Errno::EPERM) => break,
            Err(e) => return Err(e.into()),
            Ok(fd) => return not_symlink(fd, flags),
        }
    }
    by_walk(root, parts, flags)
}

/// The normal components of `rel`; `.` is dropped, `..` and roots refused.
fn parts(rel: &Path) -> io::Result<Vec<&OsStr>> {
    rel.components()
        .filter(|c| *c != Component::CurDir)
        .map(|c| match c {
            Component::Normal(part) => Ok(part),
            _ => Err(io::Error::from(Errno::EXDEV)),
        })
        .collect()
}

/// The mode a create gets; `openat2` refuses a mode on anything else. (`O_TMPFILE`
/// includes the `O_DIRECTORY` bit, so it is tested whole.)
fn mode(flags: OFlag) -> Mode {
    if flags.contains(OFlag::O_CREAT) || flags.contains(OFlag::O_TMPFILE) {
        Mode::from_bits_truncate(0o666)
    } else {
        Mode::empty()
    }
}

fn by_openat2(root: BorrowedFd<'_>, parts: &[&OsStr], flags: OFlag) -> Result<OwnedFd, Errno> {
    let how = OpenHow::new().flags(flags).mode(mode(flags)).resolve(
        ResolveFlag::RESOLVE_BENEATH
            | ResolveFlag::RESOLVE_NO_SYMLINKS
            | ResolveFlag::RESOLVE_NO_MAGICLINKS,
    );
    if parts.is_empty() {
        return openat2(root, ".", how);
    }
    openat2(root, &parts.iter().collect::<PathBuf>(), how)
}

/// The fallback: one `openat` per component, each relative to the descriptor of the one
/// before and checked to be a directory (not a symlink) through its own descriptor.
pub(super) fn by_walk(root: BorrowedFd<'_>, parts: &[&OsStr], flags: OFlag) -> io::Result<OwnedFd> {
    let Some((last, dirs)) = parts.split_last() else {
        return not_symlink(openat(root, ".", flags, mode(flags))?, flags);
    };
    let mut held: Option<OwnedFd> = None;
    for part in dirs {
        let at = held.as_ref().map_or(root, |fd| fd.as_fd());
        held = Some(dir_step(at, part)?);
    }
    let at = held.as_ref().map_or(root, |fd| fd.as_fd());
    not_symlink(openat(at, *last, flags, mode(flags))?, flags)
}

/// Opens the directory `part` of `at` as `O_PATH`, refusing a symlink (`ELOOP`) or any
/// other non-directory (`ENOTDIR`) by looking at what was opened, not at the name again.
pub(super) fn dir_step(at: BorrowedFd<'_>, part: &OsStr) -> Result<OwnedFd, Errno> {
    let fd = openat(
        at,
        part,
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    match kind(&fstat(&fd)?) {
        SFlag::S_IFDIR => Ok(fd),
        SFlag::S_IFLNK => Err(Errno::ELOOP),
        _ => Err(Errno::ENOTDIR),
    }
}

/// An `O_PATH | O_NOFOLLOW` open of a symlink returns the link; refuse it like any other.
fn not_symlink(fd: OwnedFd, flags: OFlag) -> io::Result<OwnedFd> {
    if flags.contains(OFlag::O_PATH) && kind(&fstat(&fd)?) == SFlag::S_IFLNK {
        return Err(Errno::ELOOP.into());
    }
    Ok(fd)
}

/// The file type bits of `stat`.
pub(super) fn kind(stat: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(stat.st_mode & SFlag::S_IFMT.bits())
}

#[cfg(test)]
mod tests;
