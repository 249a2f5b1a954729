//! The session-log reader on an arbitrary file: never a panic; the read-only reader and
//! `SessionLog::open` agree (both refuse, or both find the same entries); and a log that
//! opened reopens with the same entries and nothing left to recover.
//!
//! Inputs that do not start with the file header get it prepended half of the time (by the
//! first byte's low bit), so the record scanner sees most of the inputs.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use podsup_pod_worker::session_log::{self, FILE_NAME, FsyncPolicy, SessionLog};

/// One private directory for the whole run; each input overwrites the log in it.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("podsup-fuzz-session-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the fuzz dir");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let file = match selector & 1 {
        1 => [b"PODSLOG1".as_slice(), rest].concat(),
        _ => rest.to_vec(),
    };
    let dir = dir();
    std::fs::write(dir.join(FILE_NAME), &file).expect("write the log");
    let read = session_log::read(dir);
    let opened = SessionLog::open(dir, FsyncPolicy::Never);
    match (read, opened) {
        (Ok(entries), Ok(opened)) => {
            assert_eq!(entries, opened.entries, "read and open disagree");
            drop(opened.log);
            let again =
                SessionLog::open(dir, FsyncPolicy::Never).expect("a log that opened reopens");
            assert_eq!(again.entries, entries, "reopening changed the entries");
            assert!(
                again.recovered.is_none(),
                "reopening recovered again: {:?}",
                again.recovered
            );
        }
        (Err(_), Err(_)) => {}
        (read, opened) => panic!(
            "read and open disagree: read {:?}, open {:?}",
            read.map(|e| e.len()),
            opened.map(|o| o.entries.len())
        ),
    }
});
