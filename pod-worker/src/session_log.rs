//! The session log: every committed [`Entry`] of a pod, appended to [`FILE_NAME`] in the
//! pod's state directory, so that a restarted pod rebuilds its conversation from it.
//!
//! # Format
//!
//! The file starts with the 8-byte header `PODSLOG1` (magic and format version). Records
//! follow back to back, each:
//!
//! | bytes | content                                         |
//! |-------|-------------------------------------------------|
//! | 4     | body length `n`, `u32` little-endian            |
//! | 4     | `!n` (bitwise NOT), `u32` little-endian         |
//! | 4     | CRC32 (IEEE) of the body, `u32` little-endian   |
//! | `n`   | the [`Entry`], bincode as in the wire protocol  |
//!
//! `n` is at most [`MAX_FRAME_LEN`](podsup_wire::MAX_FRAME_LEN). The complement makes a
//! damaged length detectable, so it is never mistaken for a record cut short by a crash.
//! Record `i` holds the entry with sequence number `i`.
//!
//! # Reading and recovery
//!
//! A crash during an append can leave an incomplete last record, a damaged last record, or
//! zeros (a file system may extend a file before its data lands). [`SessionLog::open`] cuts
//! such a *torn tail* off, with a warning, and reports it in [`Opened::recovered`]; nothing
//! that was completely written before it is lost. A damaged record with data after it is
//! *corruption*: cutting there would lose those records, so `open` refuses with
//! [`LogError::Corrupt`], naming the file and the record's offset, and leaves the file as
//! it is. A file that does not start with the header is refused as [`LogError::NotALog`];
//! one that holds only a prefix of the header, or only zeros, is a creation that a crash
//! interrupted, and gets its header rewritten.
//!
//! The record at offset `x` is classified thus:
//! - fewer than 12 bytes left: torn;
//! - length and complement disagree: torn if nothing but zeros follows its header, or if
//!   one of the two lengths they give ends where the data ends with a matching checksum
//!   (the last record, damaged); corrupt otherwise;
//! - consistent length over the limit: corrupt;
//! - body extends past the end of the file: torn;
//! - checksum mismatch, undecodable body, or sequence number other than the record's
//!   index: torn if nothing but zeros follows the record, corrupt otherwise.
//!
//! No record lies in a run of zeros: the complement of a length up to the limit has a
//! non-zero top byte.
//!
//! # Durability
//!
//! Each record goes to the file in one write at the end of the good data. When it is
//! flushed to disk is the [`FsyncPolicy`]'s choice; the pod calls
//! [`SessionLog::checkpoint`] after every user input and at the end of every turn.

mod error;
mod file;
mod reader;
mod record;

use std::fmt;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use podsup_wire::{Entry, Item};

pub use error::LogError;
pub use reader::read;

use file::io_error;
use record::{End, Header, Scan};

/// Name of the log file inside a pod's state directory.
pub const FILE_NAME: &str = "session.log";

/// When appended records are flushed to disk (fdatasync).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FsyncPolicy {
    /// After every append, and at every checkpoint.
    Always,
    /// Only at [`SessionLog::checkpoint`]: the pod calls it after every user input and at
    /// every turn end, so a crash loses at most the unfinished turn's items.
    #[default]
    Checkpoints,
    /// Never; the kernel writes back when it likes. For tests and throwaway pods.
    Never,
}

/// An open session log, positioned to append after its last complete record.
#[derive(Debug)]
pub struct SessionLog {
    file: File,
    path: PathBuf,
    policy: FsyncPolicy,
    /// Length of the good data: where the next record goes.
    end: u64,
    /// Sequence number of the next entry, which is also the number of entries.
    next_seq: u64,
    state: State,
}

/// Whether the file can take the next record as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The file holds exactly `end` bytes.
    Clean,
    /// A failed write may have left bytes past `end`: cut them before the next append.
    DirtyTail,
    /// An fsync failed: durability is unknown, nothing more is written.
    Poisoned,
}

/// What [`SessionLog::open`] found.
#[derive(Debug)]
pub struct Opened {
    /// The log, ready to append.
    pub log: SessionLog,
    /// Every complete entry, in order; entry `i` has sequence number `i`.
    pub entries: Vec<Entry>,
    /// The torn tail that was cut off, if any.
    pub recovered: Option<Recovery>,
}

/// A torn tail that [`SessionLog::open`] cut off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// The log file.
    pub path: PathBuf,
    /// Where the good data ends: the file's length now.
    pub offset: u64,
    /// How many bytes were cut off.
    pub dropped_bytes: u64,
    /// What was found at `offset`.
    pub reason: String,
}

impl fmt::Display for Recovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "torn tail at byte {} of {}: dropped {} bytes ({})",
            self.offset,
            self.path.display(),
            self.dropped_bytes,
            self.reason
        )
    }
}

impl SessionLog {
    /// Opens (creating if missing) the log in `dir` and reads all of it.
    ///
    /// A missing `dir` is created with mode 0700, a missing file with mode 0600. A torn tail
    /// is cut off and synced before this returns, and reported in [`Opened::recovered`];
    /// corruption before the tail is [`LogError::Corrupt`] and leaves the file untouched.
    pub fn open(dir: &Path, policy: FsyncPolicy) -> Result<Opened, LogError> {
        let path = dir.join(FILE_NAME);
        let file = file::open_rw(dir, &path)?;
        let bytes = file::read_all(&file, &path)?;
        let mut log = SessionLog {
            file,
            path,
            policy,
            end: bytes.len() as u64,
            next_seq: 0,
            state: State::Clean,
        };
        let (entries, recovered) = match record::header(&bytes) {
            Header::Foreign => return Err(LogError::NotALog { path: log.path }),
            Header::Unwritten => (Vec::new(), log.write_header()?),
            Header::Log => log.recover(record::scan(&bytes))?,
        };
        log.next_seq = entries.len() as u64;
        Ok(Opened {
            log,
            entries,
            recovered,
        })
    }

    /// Appends `item` as the next entry, stamped with the next sequence number and the
    /// current time, in a single write. With [`FsyncPolicy::Always`] it is synced before
    /// this returns.
    ///
    /// On an error the sequence number is not used up; a failed fsync poisons the log
    /// ([`LogError::Poisoned`] from then on).
    pub fn append(&mut self, item: Item) -> Result<Entry, LogError> {
        self.ready()?;
        let entry = Entry {
            seq: self.next_seq,
            at_ms: now_ms(),
            item,
        };
        let record = record::encode(&entry).map_err(|source| LogError::Encode {
            path: self.path.clone(),
            seq: entry.seq,
            source,
        })?;
        if let Err(source) = self.file.write_all_at(&record, self.end) {
            self.state = State::DirtyTail;
            return Err(io_error(&self.path, "write", source));
        }
        self.end += record.len() as u64;
        self.next_seq += 1;
        if self.policy == FsyncPolicy::Always {
            self.sync()?;
        }
        Ok(entry)
    }

    /// Makes every appended entry durable (fdatasync), unless the policy is
    /// [`FsyncPolicy::Never`].
    pub fn checkpoint(&mut self) -> Result<(), LogError> {
        if self.state == State::Poisoned {
            return Err(self.poisoned());
        }
        match self.policy {
            FsyncPolicy::Always | FsyncPolicy::Checkpoints => self.sync(),
            FsyncPolicy::Never => Ok(()),
        }
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of entries in the log.
    pub fn len(&self) -> u64 {
        self.next_seq
    }

    /// Whether the log holds no entries.
    pub fn is_empty(&self) -> bool {
        self.next_seq == 0
    }

    /// Writes the file header over a file that holds nothing (or only an interrupted
    /// creation), and reports what was dropped.
    fn write_header(&mut self) -> Result<Option<Recovery>, LogError> {
        let dropped_bytes = self.end;
        self.cut(0)?;
        self.file
            .write_all_at(&record::MAGIC, 0)
            .map_err(|source| io_error(&self.path, "write header", source))?;
        self.end = record::FILE_HEADER_LEN as u64;
        self.sync()?;
        Ok((dropped_bytes > 0).then(|| self.recovery(0, dropped_bytes, "incomplete file header")))
    }

    /// Acts on how the records end: cuts a torn tail, refuses corruption.
    fn recover(&mut self, scan: Scan) -> Result<(Vec<Entry>, Option<Recovery>), LogError> {
        match scan.end {
            End::Clean => Ok((scan.entries, None)),
            End::Torn { offset, reason } => {
                let offset = offset as u64;
                let recovery = self.recovery(offset, self.end - offset, &reason);
                tracing::warn!(%recovery, "session log: cutting off a torn tail");
                self.cut(offset)?;
                self.sync()?;
                Ok((scan.entries, Some(recovery)))
            }
            End::Corrupt { offset, reason } => Err(LogError::Corrupt {
                path: self.path.clone(),
                offset: offset as u64,
                reason,
            }),
        }
    }

    fn recovery(&self, offset: u64, dropped_bytes: u64, reason: &str) -> Recovery {
        Recovery {
            path: self.path.clone(),
            offset,
            dropped_bytes,
            reason: reason.to_owned(),
        }
    }

    /// Truncates the file to `len` bytes of good data.
    fn cut(&mut self, len: u64) -> Result<(), LogError> {
        self.file
            .set_len(len)
            .map_err(|source| io_error(&self.path, "truncate", source))?;
        self.end = len;
        Ok(())
    }

    /// Prepares the file for the next append.
    fn ready(&mut self) -> Result<(), LogError> {
        match self.state {
            State::Clean => Ok(()),
            State::DirtyTail => {
                self.cut(self.end)?;
                self.state = State::Clean;
                Ok(())
            }
            State::Poisoned => Err(self.poisoned()),
        }
    }

    /// fdatasync; a failure poisons the log, because the kernel reports it only once.
    fn sync(&mut self) -> Result<(), LogError> {
        self.file.sync_data().map_err(|source| {
            self.state = State::Poisoned;
            io_error(&self.path, "fsync", source)
        })
    }

    fn poisoned(&self) -> LogError {
        LogError::Poisoned {
            path: self.path.clone(),
        }
    }
}

/// Milliseconds since the Unix epoch; 0 for a clock before it.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests;
