//! The session-log reader on arbitrary files, as proptests; the cargo-fuzz target
//! `fuzz/fuzz_targets/session_log.rs` checks the same properties without a bound. Whatever
//! the file holds — random bytes, random records after a valid header, a real log with
//! bytes flipped and its end cut — reading never panics, the read-only reader and
//! `SessionLog::open` agree (both refuse, or both find the same entries), and a log that
//! opened reopens with the same entries and nothing left to recover.

use std::fs;
use std::path::Path;

use podsup_pod_worker::session_log::{self, FILE_NAME, FsyncPolicy, SessionLog};
use podsup_wire::arb;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use tempfile::TempDir;

/// Writes `bytes` as the log in `dir` and checks the properties above.
fn check(dir: &Path, bytes: &[u8]) -> Result<(), TestCaseError> {
    fs::write(dir.join(FILE_NAME), bytes).expect("write the log");
    let read = session_log::read(dir);
    let opened = SessionLog::open(dir, FsyncPolicy::Never);
    match (read, opened) {
        (Ok(entries), Ok(opened)) => {
            prop_assert_eq!(&entries, &opened.entries, "read and open disagree");
            drop(opened.log);
            let again = SessionLog::open(dir, FsyncPolicy::Never);
            let again = again.map_err(|e| TestCaseError::fail(format!("no reopen: {e}")))?;
            prop_assert_eq!(&again.entries, &entries, "reopening changed the entries");
            prop_assert!(
                again.recovered.is_none(),
                "recovered twice: {:?}",
                again.recovered
            );
        }
        (Err(read), Err(open)) => {
            // Both refusals name the file.
            let name = dir.join(FILE_NAME).display().to_string();
            prop_assert!(read.to_string().contains(&name), "{read}");
            prop_assert!(open.to_string().contains(&name), "{open}");
        }
        (read, opened) => {
            return Err(TestCaseError::fail(format!(
                "read and open disagree: read {:?}, open {:?}",
                read.map(|e| e.len()),
                opened.map(|o| o.entries.len())
            )));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_files_are_read_or_refused(bytes in vec(any::<u8>(), 0..1024)) {
        let dir = TempDir::new().expect("tempdir");
        check(dir.path(), &bytes)?;
    }

    #[test]
    fn arbitrary_records_after_the_header_are_read_or_refused(
        bytes in vec(any::<u8>(), 0..1024),
    ) {
        let dir = TempDir::new().expect("tempdir");
        check(dir.path(), &[b"PODSLOG1".as_slice(), &bytes].concat())?;
    }

    #[test]
    fn damaged_logs_are_read_or_refused(
        items in vec(arb::item(), 1..6),
        flips in vec((any::<Index>(), 1u8..=255), 0..4),
        cut in any::<Index>(),
    ) {
        let dir = TempDir::new().expect("tempdir");
        let mut log = SessionLog::open(dir.path(), FsyncPolicy::Never).expect("log opens").log;
        for item in items {
            log.append(item).expect("appends");
        }
        drop(log);
        let mut bytes = fs::read(dir.path().join(FILE_NAME)).expect("log readable");
        for (at, mask) in flips {
            let at = at.index(bytes.len());
            bytes[at] ^= mask;
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        check(dir.path(), &bytes)?;
    }
}
