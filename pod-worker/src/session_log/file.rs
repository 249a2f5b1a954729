//! File system steps of opening a log: the directory, the file, reading it whole.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, ErrorKind, Read};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use super::LogError;

/// Opens the log file at `path` (inside `dir`) for reading and writing, creating `dir`
/// (mode 0700) and the file (mode 0600) if missing. A new file's directory entry is
/// fsynced, so the file survives a crash once its contents are synced.
pub fn open_rw(dir: &Path, path: &Path) -> Result<File, LogError> {
    create_dir(dir)?;
    let created = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(file) => {
            sync_dir(dir)?;
            Ok(file)
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|source| io_error(path, "open", source)),
        Err(source) => Err(io_error(path, "create", source)),
    }
}

/// Opens the log file at `path` read-only; `None` if it does not exist.
pub fn open_ro(path: &Path) -> Result<Option<File>, LogError> {
    match File::open(path) {
        Ok(file) => Ok(Some(file)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(source) => Err(io_error(path, "open", source)),
    }
}

/// Reads the whole file from its start.
pub fn read_all(mut file: &File, path: &Path) -> Result<Vec<u8>, LogError> {
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|source| io_error(path, "read", source))?;
    Ok(bytes)
}

/// An [`LogError::Io`] naming `path`.
pub fn io_error(path: &Path, op: &'static str, source: io::Error) -> LogError {
    let path = path.to_path_buf();
    LogError::Io { path, op, source }
}

/// Creates `dir` with mode 0700 if it is missing, and makes its entry durable.
fn create_dir(dir: &Path) -> Result<(), LogError> {
    match fs::metadata(dir) {
        Ok(_) => return Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(source) => return Err(io_error(dir, "stat", source)),
    }
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| io_error(dir, "create directory", source))?;
    match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => sync_dir(parent),
        _ => Ok(()),
    }
}

fn sync_dir(dir: &Path) -> Result<(), LogError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| io_error(dir, "fsync directory", source))
}
