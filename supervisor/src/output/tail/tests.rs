use std::io::Write;
use std::num::{NonZeroU32, NonZeroU64};
use std::path::Path;
use std::time::UNIX_EPOCH;

use podsup_config::LogSpec;

use super::*;
use crate::output::record::{Record, Stream};
use crate::output::rotate::RotatingFile;
use crate::output::testdir::TestDir;

fn write(path: &Path, text: &str) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open");
    file.write_all(text.as_bytes()).expect("write");
}

fn numbered_lines(range: std::ops::Range<u32>) -> String {
    range.map(|i| format!("line {i}\n")).collect()
}

fn expect_lines(range: std::ops::Range<u32>) -> Vec<String> {
    range.map(|i| format!("line {i}")).collect()
}

fn read_all(cursor: &mut Cursor) -> Vec<String> {
    let mut out = Vec::new();
    cursor.read(&mut out, usize::MAX).expect("read");
    out
}

#[test]
fn last_lines_come_from_the_end_across_chunk_boundaries() {
    let dir = TestDir::new("tail-chunks");
    // About 250 KiB: several 64 KiB chunks, lines straddling their boundaries.
    write(&numbered(dir.path(), 0), &numbered_lines(0..25_000));
    for n in [0, 1, 5, 9_999, 25_000, 30_000] {
        let (lines, _) = Cursor::last_lines(dir.path().to_owned(), n, 3).expect("tail");
        let from = 25_000 - n.min(25_000) as u32;
        assert_eq!(lines, expect_lines(from..25_000), "n = {n}");
    }
}

#[test]
fn a_partial_last_line_waits_for_its_end() {
    let dir = TestDir::new("tail-partial");
    let path = numbered(dir.path(), 0);
    write(&path, "one\ntwo\nthr");
    let (lines, mut cursor) = Cursor::last_lines(dir.path().to_owned(), 5, 3).expect("tail");
    assert_eq!(lines, ["one", "two"]);
    assert!(read_all(&mut cursor).is_empty());
    write(&path, "ee\nfour");
    assert_eq!(read_all(&mut cursor), ["three"]);
    write(&path, "\n");
    assert_eq!(read_all(&mut cursor), ["four"]);
}

#[test]
fn last_lines_reach_into_rotated_files() {
    let dir = TestDir::new("tail-rotated");
    write(&numbered(dir.path(), 2), &numbered_lines(0..10));
    write(&numbered(dir.path(), 1), &numbered_lines(10..20));
    write(&numbered(dir.path(), 0), &numbered_lines(20..23));
    let (lines, _) = Cursor::last_lines(dir.path().to_owned(), 15, 3).expect("tail");
    assert_eq!(lines, expect_lines(8..23));
    let mut all = Cursor::from_start(dir.path().to_owned(), 3).expect("all");
    assert_eq!(read_all(&mut all), expect_lines(0..23));
}

#[test]
fn nothing_written_yet_is_no_error_and_the_file_is_found_once_it_exists() {
    let dir = TestDir::new("tail-missing");
    let logs = dir.path().join("never");
    let (lines, mut cursor) = Cursor::last_lines(logs.clone(), 10, 3).expect("tail");
    assert!(lines.is_empty());
    assert!(read_all(&mut cursor).is_empty());
    std::fs::create_dir(&logs).expect("mkdir");
    write(&numbered(&logs, 0), "late\n");
    assert_eq!(read_all(&mut cursor), ["late"]);
}

#[test]
fn following_crosses_rotations_without_gaps_or_repeats() {
    let dir = TestDir::new("tail-follow");
    let spec = LogSpec {
        max_size: NonZeroU64::new(2000).expect("size"),
        max_files: NonZeroU32::new(3).expect("files"),
    };
    let mut log = RotatingFile::new(dir.path().to_owned(), spec);
    // About 31 bytes each: 150 of them rotate twice or more between two reads.
    let record = |i: u32| Record {
        at: UNIX_EPOCH,
        stream: Stream::Out,
        text: format!("{i}"),
    };
    let (_, mut cursor) = Cursor::last_lines(dir.path().to_owned(), 10, 3).expect("tail");
    let mut seen = Vec::new();
    let mut next = 0;
    for count in [3, 70, 2, 150, 1, 90, 40, 150, 0, 5] {
        let batch: Vec<Record> = (next..next + count).map(record).collect();
        next += count;
        log.append(&batch).expect("append");
        seen.extend(read_all(&mut cursor));
    }
    let numbers: Vec<u32> = seen
        .iter()
        .map(|l| {
            l.rsplit(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("n")
        })
        .collect();
    assert_eq!(numbers, (0..next).collect::<Vec<_>>());
}

#[test]
fn a_snapshot_ignores_what_is_written_after_it() {
    let dir = TestDir::new("tail-snapshot");
    let path = numbered(dir.path(), 0);
    write(&numbered(dir.path(), 1), &numbered_lines(0..3));
    write(&path, &numbered_lines(3..5));
    let mut all = Cursor::from_start(dir.path().to_owned(), 3).expect("all");
    let (last, mut tail) = Cursor::last_lines(dir.path().to_owned(), 2, 3).expect("tail");
    // Written after the cursors were made, before they are bounded: still not theirs.
    write(&path, &numbered_lines(5..9));
    all.stop_at_end();
    tail.stop_at_end();
    assert_eq!(read_all(&mut all), expect_lines(0..5));
    assert_eq!(last, expect_lines(3..5));
    assert!(read_all(&mut tail).is_empty());
}
