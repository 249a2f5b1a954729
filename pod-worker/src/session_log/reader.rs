//! The read-only reader, for `ctl logs` while the pod may be appending.

use std::path::Path;

use podsup_wire::Entry;

use super::record::{self, End, Header};
use super::{FILE_NAME, LogError, file};

/// Reads the complete entries of the log in `dir` without changing it, while its pod may be
/// appending: an incomplete (or damaged) last record is left out silently. A missing file
/// has no entries.
pub fn read(dir: &Path) -> Result<Vec<Entry>, LogError> {
    let path = dir.join(FILE_NAME);
    let Some(file) = file::open_ro(&path)? else {
        return Ok(Vec::new());
    };
    let bytes = file::read_all(&file, &path)?;
    match record::header(&bytes) {
        Header::Foreign => Err(LogError::NotALog { path }),
        Header::Unwritten => Ok(Vec::new()),
        Header::Log => {
            let scan = record::scan(&bytes);
            match scan.end {
                End::Clean | End::Torn { .. } => Ok(scan.entries),
                End::Corrupt { offset, reason } => Err(LogError::Corrupt {
                    path,
                    offset: offset as u64,
                    reason,
                }),
            }
        }
    }
}
