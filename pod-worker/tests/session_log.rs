//! The session log on real files: round trip, torn tails, bit flips, foreign files, and the
//! read-only reader.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use podsup_pod_worker::session_log::{self, FILE_NAME, FsyncPolicy, LogError, Opened, SessionLog};
use podsup_wire::{Entry, Item, arb};
use proptest::collection::vec;
use proptest::prelude::*;
use tempfile::TempDir;

/// Length of the file header.
const HEADER: u64 = 8;

fn user(text: &str) -> Item {
    Item::User { text: text.into() }
}

fn open(dir: &Path) -> Opened {
    SessionLog::open(dir, FsyncPolicy::Never).expect("log opens")
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).expect("log exists").len()
}

/// A log in a fresh directory holding `items`, with the entries written and the offset at
/// which each record starts.
struct Written {
    dir: TempDir,
    entries: Vec<Entry>,
    offsets: Vec<u64>,
}

impl Written {
    fn new(items: Vec<Item>) -> Self {
        let dir = TempDir::new().expect("tempdir");
        let mut log = open(dir.path()).log;
        let mut entries = Vec::new();
        let mut offsets = Vec::new();
        for item in items {
            offsets.push(file_len(log.path()));
            entries.push(log.append(item).expect("appends"));
        }
        Written {
            dir,
            entries,
            offsets,
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join(FILE_NAME)
    }

    fn bytes(&self) -> Vec<u8> {
        fs::read(self.path()).expect("log readable")
    }
}

fn texts(n: usize) -> Vec<Item> {
    (0..n).map(|i| user(&format!("entry number {i}"))).collect()
}

#[test]
fn a_new_log_creates_a_private_directory_and_file_with_the_header() {
    let root = TempDir::new().expect("tempdir");
    let dir = root.path().join("state").join("pod-a");
    let opened = SessionLog::open(&dir, FsyncPolicy::default()).expect("opens");
    assert!(opened.entries.is_empty() && opened.recovered.is_none());
    assert!(opened.log.is_empty());
    assert_eq!(opened.log.path(), dir.join(FILE_NAME));
    let mode = |p: &Path| fs::metadata(p).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join(FILE_NAME)), 0o600);
    assert_eq!(fs::read(dir.join(FILE_NAME)).expect("reads"), b"PODSLOG1");
}

#[test]
fn the_default_policy_syncs_at_checkpoints() {
    assert_eq!(FsyncPolicy::default(), FsyncPolicy::Checkpoints);
}

#[test]
fn every_policy_appends_and_checkpoints() {
    for policy in [
        FsyncPolicy::Always,
        FsyncPolicy::Checkpoints,
        FsyncPolicy::Never,
    ] {
        let dir = TempDir::new().expect("tempdir");
        let mut log = SessionLog::open(dir.path(), policy).expect("opens").log;
        let entry = log.append(user("hi")).expect("appends");
        log.checkpoint().expect("checkpoints");
        drop(log);
        assert_eq!(open(dir.path()).entries, vec![entry], "{policy:?}");
    }
}

#[test]
fn an_empty_file_gets_its_header() {
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join(FILE_NAME);
    fs::write(&path, b"").expect("writes");
    let opened = open(dir.path());
    assert!(opened.entries.is_empty() && opened.recovered.is_none());
    assert_eq!(fs::read(&path).expect("reads"), b"PODSLOG1");
}

#[test]
fn an_interrupted_creation_is_rewritten() {
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join(FILE_NAME);
    fs::write(&path, b"PODS").expect("writes");
    let recovery = open(dir.path()).recovered.expect("reported");
    assert_eq!((recovery.offset, recovery.dropped_bytes), (0, 4));
    assert_eq!(fs::read(&path).expect("reads"), b"PODSLOG1");
}

#[test]
fn a_foreign_file_is_refused_untouched() {
    for content in [&b"#!/bin/sh\necho hello\n"[..], b"PODSLOG9", b"{}"] {
        let dir = TempDir::new().expect("tempdir");
        let path = dir.path().join(FILE_NAME);
        fs::write(&path, content).expect("writes");
        let err = SessionLog::open(dir.path(), FsyncPolicy::Never).expect_err("refused");
        assert!(
            matches!(&err, LogError::NotALog { path: p } if *p == path),
            "{err:?}"
        );
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
        assert!(matches!(
            session_log::read(dir.path()),
            Err(LogError::NotALog { .. })
        ));
        assert_eq!(fs::read(&path).expect("reads"), content);
    }
}

#[test]
fn every_cut_inside_the_last_record_recovers_the_others() {
    let written = Written::new(texts(3));
    let (bytes, last) = (written.bytes(), written.offsets[2]);
    let path = written.path();
    for cut in last + 1..bytes.len() as u64 {
        fs::write(&path, &bytes[..cut as usize]).expect("writes");
        let Opened {
            mut log,
            entries,
            recovered,
        } = open(written.dir.path());
        assert_eq!(entries, written.entries[..2], "cut at {cut}");
        let recovery = recovered.expect("torn tail reported");
        assert_eq!(
            (recovery.offset, recovery.dropped_bytes),
            (last, cut - last)
        );
        assert_eq!(recovery.path, path);
        assert_eq!(file_len(&path), last, "file cut back at {cut}");
        let again = log.append(user("after recovery")).expect("appends");
        assert_eq!(again.seq, 2);
        drop(log);
        let reopened = open(written.dir.path());
        assert!(reopened.recovered.is_none());
        assert_eq!(reopened.entries[..2], written.entries[..2]);
        assert_eq!(reopened.entries[2], again);
    }
}

#[test]
fn a_zero_filled_tail_is_torn() {
    let written = Written::new(texts(4));
    let path = written.path();
    let good = file_len(&path);
    let mut bytes = written.bytes();
    bytes.extend([0; 4096]);
    fs::write(&path, &bytes).expect("writes");
    let opened = open(written.dir.path());
    assert_eq!(opened.entries, written.entries);
    let recovery = opened.recovered.expect("reported");
    assert_eq!((recovery.offset, recovery.dropped_bytes), (good, 4096));
    let shown = recovery.to_string();
    let expected = format!(
        "torn tail at byte {good} of {}: dropped 4096 bytes (",
        path.display()
    );
    assert!(shown.starts_with(&expected), "{shown}");
    assert_eq!(file_len(&path), good);
}

/// Positions to damage before the last record: every header byte of every record and the
/// first and last body byte, plus every 5th byte.
fn sampled_positions(written: &Written) -> Vec<u64> {
    let last = *written.offsets.last().expect("records");
    let mut positions: Vec<u64> = (HEADER..last).step_by(5).collect();
    for pair in written.offsets.windows(2) {
        positions.extend(pair[0]..pair[0] + 13);
        positions.push(pair[1] - 1);
    }
    positions.sort_unstable();
    positions.dedup();
    positions
}

#[test]
fn a_bit_flip_before_the_last_record_is_refused_at_its_record() {
    let written = Written::new(texts(4));
    let (bytes, path) = (written.bytes(), written.path());
    for pos in sampled_positions(&written) {
        let record = *written
            .offsets
            .iter()
            .rfind(|&&o| o <= pos)
            .expect("record");
        for bit in 0..8 {
            let mut damaged = bytes.clone();
            damaged[pos as usize] ^= 1 << bit;
            fs::write(&path, &damaged).expect("writes");
            let err = SessionLog::open(written.dir.path(), FsyncPolicy::Never)
                .expect_err("corruption refused");
            let LogError::Corrupt { offset, .. } = &err else {
                panic!("byte {pos} bit {bit}: expected Corrupt, got {err:?}");
            };
            assert_eq!(*offset, record, "byte {pos} bit {bit}");
            let shown = err.to_string();
            let named = format!(
                "session log {} is corrupt at byte {record}: ",
                path.display()
            );
            assert!(shown.starts_with(&named), "{shown}");
            assert_eq!(fs::read(&path).expect("reads"), damaged, "file untouched");
        }
    }
}

#[test]
fn a_bit_flip_in_the_last_record_is_a_torn_tail() {
    let written = Written::new(texts(3));
    let (bytes, path, last) = (written.bytes(), written.path(), written.offsets[2]);
    for pos in (last..bytes.len() as u64).step_by(3) {
        let mut damaged = bytes.clone();
        damaged[pos as usize] ^= 0x10;
        fs::write(&path, &damaged).expect("writes");
        let opened = open(written.dir.path());
        assert_eq!(opened.entries, written.entries[..2], "byte {pos}");
        assert_eq!(opened.recovered.expect("reported").offset, last);
        assert_eq!(file_len(&path), last);
    }
}

#[test]
fn the_checksum_mismatch_message_names_file_offset_and_record() {
    let written = Written::new(texts(3));
    let path = written.path();
    let mut bytes = written.bytes();
    let body_byte = written.offsets[1] as usize + 14;
    bytes[body_byte] ^= 1;
    fs::write(&path, &bytes).expect("writes");
    let err = SessionLog::open(written.dir.path(), FsyncPolicy::Never).expect_err("refused");
    assert_eq!(
        err.to_string(),
        format!(
            "session log {} is corrupt at byte {}: checksum mismatch (record 1); refusing to \
             start — move the file away to start fresh",
            path.display(),
            written.offsets[1]
        )
    );
}

#[test]
fn read_skips_a_torn_tail_and_leaves_the_file_alone() {
    let written = Written::new(texts(3));
    let path = written.path();
    let bytes = written.bytes();
    let torn = &bytes[..bytes.len() - 5];
    fs::write(&path, torn).expect("writes");
    let entries = session_log::read(written.dir.path()).expect("reads");
    assert_eq!(entries, written.entries[..2]);
    assert_eq!(fs::read(&path).expect("reads"), torn);
}

#[test]
fn read_refuses_corruption_and_finds_nothing_where_there_is_no_log() {
    let written = Written::new(texts(3));
    let mut bytes = written.bytes();
    bytes[written.offsets[1] as usize] ^= 4;
    fs::write(written.path(), &bytes).expect("writes");
    let err = session_log::read(written.dir.path()).expect_err("refused");
    assert!(matches!(err, LogError::Corrupt { offset, .. } if offset == written.offsets[1]));
    let empty = TempDir::new().expect("tempdir");
    assert!(session_log::read(empty.path()).expect("reads").is_empty());
    let missing = empty.path().join("never-started");
    assert!(session_log::read(&missing).expect("reads").is_empty());
    assert!(!missing.exists(), "read creates nothing");
}

#[test]
fn an_oversize_entry_is_refused_without_using_a_sequence_number() {
    let dir = TempDir::new().expect("tempdir");
    let mut log = open(dir.path()).log;
    log.append(user("first")).expect("appends");
    let huge = user(&"x".repeat(podsup_wire::MAX_FRAME_LEN + 1));
    let err = log.append(huge).expect_err("too large");
    assert!(matches!(err, LogError::Encode { seq: 1, .. }), "{err:?}");
    assert_eq!(log.len(), 1);
    assert_eq!(log.append(user("second")).expect("appends").seq, 1);
    drop(log);
    assert_eq!(open(dir.path()).entries.len(), 2);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// What was appended is what comes back, and numbering continues across reopens.
    #[test]
    fn entries_round_trip_across_reopens(
        first in vec(arb::item(), 0..12),
        second in vec(arb::item(), 0..12),
    ) {
        let dir = TempDir::new().expect("tempdir");
        let mut log = open(dir.path()).log;
        let mut appended: Vec<Entry> =
            first.into_iter().map(|i| log.append(i).expect("appends")).collect();
        log.checkpoint().expect("checkpoints");
        drop(log);
        let Opened { mut log, entries, recovered } = open(dir.path());
        prop_assert!(recovered.is_none());
        prop_assert_eq!(&entries, &appended);
        prop_assert_eq!(log.len(), appended.len() as u64);
        appended.extend(second.into_iter().map(|i| log.append(i).expect("appends")));
        drop(log);
        let reopened = open(dir.path());
        prop_assert_eq!(&reopened.entries, &appended);
        let numbered = appended.iter().enumerate().all(|(i, e)| e.seq == i as u64);
        prop_assert!(numbered);
        prop_assert_eq!(session_log::read(dir.path()).expect("reads"), appended);
    }

    /// Cut anywhere, the log comes back as exactly the records that were fully written.
    #[test]
    fn a_cut_log_recovers_exactly_the_complete_records(
        items in vec(arb::item(), 1..10),
        cut in any::<prop::sample::Index>(),
    ) {
        let written = Written::new(items);
        let bytes = written.bytes();
        let cut = cut.index(bytes.len() + 1);
        fs::write(written.path(), &bytes[..cut]).expect("writes");
        let complete = written.offsets.iter().skip(1).chain([&(bytes.len() as u64)])
            .take_while(|&&end| end <= cut as u64)
            .count();
        let expected = &written.entries[..complete];
        prop_assert_eq!(&session_log::read(written.dir.path()).expect("reads"), expected);
        let opened = open(written.dir.path());
        prop_assert_eq!(&opened.entries, expected);
        let good = written.offsets.get(complete).copied().unwrap_or(bytes.len() as u64);
        let good = if cut < HEADER as usize { HEADER } else { good };
        prop_assert_eq!(file_len(&written.path()), good);
    }
}
