//! `output.log` rotated by size: `output.log` → `output.log.1` → … → `output.log.N`,
//! the oldest deleted. Blocking file I/O: only ever called on a blocking thread.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use podsup_config::LogSpec;

use super::record::Record;

/// Name of the file being written in a child's log dir.
pub const CURRENT: &str = "output.log";

/// Path of rotated file number `n` (1 is the newest) in `dir`; 0 is the current file.
pub fn numbered(dir: &Path, n: u32) -> PathBuf {
    match n {
        0 => dir.join(CURRENT),
        n => dir.join(format!("{CURRENT}.{n}")),
    }
}

/// Why a batch could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    /// The log dir could not be created.
    #[error("cannot create log dir {}: {source}", dir.display())]
    Dir {
        /// The dir.
        dir: PathBuf,
        /// What creating it said.
        #[source]
        source: io::Error,
    },
    /// A file operation failed.
    #[error("{op} {}: {source}", path.display())]
    File {
        /// `open`, `write`, `rename`, `remove`.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
}

/// The current file of one child, opened on first use and reopened after rotation.
#[derive(Debug)]
pub struct RotatingFile {
    dir: PathBuf,
    spec: LogSpec,
    file: Option<File>,
    /// Size of the current file, as far as this writer knows.
    size: u64,
}

impl RotatingFile {
    /// The log of the child whose log dir is `dir`, rotated per `spec`. Nothing is
    /// touched on disk until the first write.
    pub fn new(dir: PathBuf, spec: LogSpec) -> RotatingFile {
        RotatingFile {
            dir,
            spec,
            file: None,
            size: 0,
        }
    }

    /// Appends `records`, rotating first whenever the next one would take the current
    /// file past `max_size` (unless the file is empty: a line longer than `max_size` gets
    /// a file to itself). Each file thus stays within `max_size`, or holds one line.
    pub fn append(&mut self, records: &[Record]) -> Result<(), RotateError> {
        let max = self.spec.max_size.get();
        let mut pending = Vec::with_capacity(records.iter().map(Record::stored_len).sum());
        self.open()?;
        for record in records {
            let len = record.stored_len() as u64;
            let filled = self.size + pending.len() as u64;
            if filled > 0 && filled + len > max {
                self.flush(&mut pending)?;
                self.rotate()?;
                self.open()?;
            }
            record.write_to(&mut pending);
        }
        self.flush(&mut pending)
    }

    /// Closes the file (an idle child holds no descriptor); the next write reopens it.
    pub fn close(&mut self) {
        self.file = None;
    }

    fn open(&mut self) -> Result<(), RotateError> {
        if self.file.is_some() {
            return Ok(());
        }
        crate::paths::ensure_private_dir(&self.dir).map_err(|source| RotateError::Dir {
            dir: self.dir.clone(),
            source,
        })?;
        let path = numbered(&self.dir, 0);
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&path)
            .and_then(|f| f.metadata().map(|m| (f, m.len())));
        let (file, size) = file.map_err(|source| RotateError::File {
            op: "open",
            path,
            source,
        })?;
        self.file = Some(file);
        self.size = size;
        Ok(())
    }

    fn flush(&mut self, pending: &mut Vec<u8>) -> Result<(), RotateError> {
        if pending.is_empty() {
            return Ok(());
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        let written = file.write_all(pending);
        // Whatever happened, these bytes are not written twice.
        let len = pending.len() as u64;
        pending.clear();
        match written {
            Ok(()) => {
                self.size += len;
                Ok(())
            }
            Err(source) => {
                // Reopen next time: the descriptor may be what is broken.
                self.file = None;
                Err(RotateError::File {
                    op: "write",
                    path: numbered(&self.dir, 0),
                    source,
                })
            }
        }
    }

    /// Shifts every file up by one, dropping the one that would become `N + 1`.
    fn rotate(&mut self) -> Result<(), RotateError> {
        self.file = None;
        let last = self.spec.max_files.get();
        let oldest = numbered(&self.dir, last);
        if let Err(source) = std::fs::remove_file(&oldest) {
            if source.kind() != io::ErrorKind::NotFound {
                return Err(RotateError::File {
                    op: "remove",
                    path: oldest,
                    source,
                });
            }
        }
        for n in (0..last).rev() {
            let from = numbered(&self.dir, n);
            match std::fs::rename(&from, numbered(&self.dir, n + 1)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(RotateError::File {
                        op: "rename",
                        path: from,
                        source,
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
