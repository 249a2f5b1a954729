//! What can go wrong with a session log. Every message names the file.

use std::io;
use std::path::PathBuf;

use podsup_wire::FrameError;

/// A session log failure.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A system call on the log (or its directory) failed.
    #[error("session log {}: {op} failed", path.display())]
    Io {
        /// The file or directory operated on.
        path: PathBuf,
        /// What was being done (`"open"`, `"write"`, `"fsync"`, …).
        op: &'static str,
        /// The system's error.
        #[source]
        source: io::Error,
    },
    /// A record before the tail is damaged. Starting would lose the records after it, so the
    /// pod refuses; the operator decides what to do with the file.
    #[error(
        "session log {} is corrupt at byte {offset}: {reason}; refusing to start — move the \
         file away to start fresh",
        path.display()
    )]
    Corrupt {
        /// The log file.
        path: PathBuf,
        /// File offset of the damaged record.
        offset: u64,
        /// What is wrong with it, naming the record number.
        reason: String,
    },
    /// An entry could not be encoded (typically: larger than the frame limit). Nothing was
    /// written.
    #[error("session log {}: cannot encode entry {seq}", path.display())]
    Encode {
        /// The log file.
        path: PathBuf,
        /// Sequence number the entry would have had.
        seq: u64,
        /// Why encoding failed.
        #[source]
        source: FrameError,
    },
    /// The file does not start with the session log header, so it is not ours to overwrite.
    #[error(
        "{} is not a podsup session log (unknown file header); refusing to touch it",
        path.display()
    )]
    NotALog {
        /// The file.
        path: PathBuf,
    },
    /// An earlier fsync failed. The kernel may have dropped the unwritten pages and will not
    /// report that again, so nothing more is written through this handle: reopen the log
    /// (restart the pod) to continue from what is really on disk.
    #[error(
        "session log {}: an earlier fsync failed, so its durability is unknown; reopen the log",
        path.display()
    )]
    Poisoned {
        /// The log file.
        path: PathBuf,
    },
}
