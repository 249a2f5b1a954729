//! One call's view of the pod's directory: a descriptor of the root, a snapshot of the
//! scope, and the checked ways in.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::{Mode, SFlag, fstat, mkdirat};
use podsup_config::scope::{PathError, normalise};

use super::beneath::{dir_step, kind, open_beneath};
use super::scope_view::shown;
use super::{Access, ScopeView, ToolCtx, ToolError};

/// What one file tool call works with.
pub(crate) struct Fs {
    root: OwnedFd,
    view: ScopeView,
    spill_dir: PathBuf,
}

impl Fs {
    /// Opens the pod's root and takes the scope as it is now.
    pub(crate) fn new(ctx: &ToolCtx) -> Result<Fs, ToolError> {
        let root = nix::fcntl::open(
            &ctx.root,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| ToolError::io(ctx.root.display().to_string(), e.into()))?;
        Ok(Fs {
            root,
            view: ctx.view(),
            spill_dir: ctx.spill_dir.clone(),
        })
    }

    /// The scope this call checks against.
    pub(crate) fn view(&self) -> &ScopeView {
        &self.view
    }

    /// Where `bash` spills long output.
    pub(crate) fn spill_dir(&self) -> &Path {
        &self.spill_dir
    }

    /// `raw` normalised and checked for `access`.
    pub(crate) fn resolve(&self, raw: &str, access: Access) -> Result<PathBuf, ToolError> {
        let rel = relative(raw)?;
        self.view.check(&rel, access)?;
        Ok(rel)
    }

    /// `raw` normalised and checked to be readable or on the way into the scope: where a
    /// listing or a walk may start.
    pub(crate) fn resolve_visible(&self, raw: &str) -> Result<PathBuf, ToolError> {
        let rel = relative(raw)?;
        if self.view.visible(&rel) {
            Ok(rel)
        } else {
            Err(ToolError::ReadDenied(shown(&rel)))
        }
    }

    /// Opens the checked path `rel` with [`open_beneath`].
    pub(crate) fn open(&self, rel: &Path, flags: OFlag) -> Result<OwnedFd, ToolError> {
        open_beneath(self.root.as_fd(), rel, flags).map_err(|e| failure(rel, e))
    }

    /// The directory that will hold the checked path `rel`, and `rel`'s last name. Missing
    /// directories are created one `mkdirat` at a time, each only if the pod may write it.
    pub(crate) fn open_parent<'a>(&self, rel: &'a Path) -> Result<(OwnedFd, &'a OsStr), ToolError> {
        let name = rel.file_name().ok_or_else(|| ToolError::WrongKind {
            path: shown(rel),
            found: "the pod's directory itself",
        })?;
        let mut held = self
            .root
            .try_clone()
            .map_err(|e| failure(Path::new(""), e))?;
        let mut prefix = PathBuf::new();
        for part in rel.parent().into_iter().flat_map(Path::iter) {
            prefix.push(part);
            let next = match dir_step(held.as_fd(), part) {
                Err(Errno::ENOENT) => {
                    self.view.check(&prefix, Access::Write)?;
                    match mkdirat(held.as_fd(), part, Mode::from_bits_truncate(0o777)) {
                        Ok(()) | Err(Errno::EEXIST) => dir_step(held.as_fd(), part),
                        Err(e) => Err(e),
                    }
                }
                other => other,
            };
            held = next.map_err(|e| failure(&prefix, e.into()))?;
        }
        Ok((held, name))
    }
}

/// `raw` as a normalised relative path.
pub(crate) fn relative(raw: &str) -> Result<PathBuf, ToolError> {
    normalise(raw).map_err(|e| match e {
        PathError::Absolute(p) => ToolError::Absolute(p),
        PathError::Escapes(p) => ToolError::Escapes(p),
    })
}

/// The tool error for an open of `rel` that failed with `e`.
pub(crate) fn failure(rel: &Path, e: io::Error) -> ToolError {
    match e.raw_os_error().map(Errno::from_raw) {
        Some(Errno::ELOOP) => ToolError::Symlink(shown(rel)),
        Some(Errno::EXDEV) => ToolError::Escapes(shown(rel)),
        _ => ToolError::io(shown(rel), e),
    }
}

/// `fd` as a file, if it is a regular file.
pub(crate) fn regular(fd: OwnedFd, rel: &Path) -> Result<File, ToolError> {
    let stat = fstat(&fd).map_err(|e| failure(rel, e.into()))?;
    match kind(&stat) {
        SFlag::S_IFREG => Ok(File::from(fd)),
        SFlag::S_IFDIR => Err(ToolError::WrongKind {
            path: shown(rel),
            found: "a directory; use list_dir",
        }),
        _ => Err(ToolError::WrongKind {
            path: shown(rel),
            found: "not a regular file",
        }),
    }
}
