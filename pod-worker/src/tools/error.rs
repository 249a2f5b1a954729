//! Why a tool call failed, worded for the model that reads it.

use std::fmt;
use std::io;

/// What a path is opened for, as checked against the scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reading (also listing and searching).
    Read,
    /// Creating, changing or removing.
    Write,
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::Read => "read",
            Access::Write => "write",
        })
    }
}

/// A failed file or shell tool call. Paths are shown relative to the pod's directory
/// (`.` for the directory itself), or as the model wrote them when they cannot be.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The arguments are missing, mistyped or malformed.
    #[error("{0}")]
    Arguments(String),
    /// An absolute path.
    #[error("absolute paths are not allowed: {0}")]
    Absolute(String),
    /// `..` climbs above the pod's directory.
    #[error("path escapes the pod's directory: {0}")]
    Escapes(String),
    /// A symlink somewhere in the path; they are never followed.
    #[error("symlink in path: {0}")]
    Symlink(String),
    /// The scope does not let the pod read this path.
    #[error("read denied: {0} is outside this pod's scope")]
    ReadDenied(String),
    /// The scope does not let the pod write this path, nor read it.
    #[error("write denied: {0} is outside this pod's scope")]
    WriteDenied(String),
    /// The pod may read this path but not write it.
    #[error("write denied: {0} is read-only for this pod")]
    ReadOnly(String),
    /// Write on this path has been handed to a child pod.
    #[error("write denied: {path} is delegated to pod {child}")]
    Delegated {
        /// The path refused.
        path: String,
        /// The child holding write there.
        child: String,
    },
    /// `bash` needs the pod's whole directory (see the module doc).
    #[error("bash denied: {0}")]
    BashDenied(String),
    /// The path is not the kind of file the tool works on.
    #[error("{path} is {found}")]
    WrongKind {
        /// The path.
        path: String,
        /// What it is, with a hint ("a directory; use list_dir").
        found: &'static str,
    },
    /// `edit_file`'s `old` text does not occur.
    #[error(
        "edit_file: `old` does not occur in {path} (0 matches); read the file and copy the text exactly"
    )]
    NoMatch {
        /// The file.
        path: String,
    },
    /// `edit_file`'s `old` text occurs more than once.
    #[error(
        "edit_file: `old` occurs {count} times in {path}; include more surrounding text so it matches exactly once"
    )]
    Ambiguous {
        /// The file.
        path: String,
        /// How often it occurs (overlapping occurrences counted).
        count: usize,
    },
    /// The operating system refused.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// What the system said.
        #[source]
        source: io::Error,
    },
}

impl ToolError {
    /// An I/O failure on `path`.
    pub(crate) fn io(path: impl Into<String>, source: io::Error) -> ToolError {
        ToolError::Io {
            path: path.into(),
            source,
        }
    }
}
