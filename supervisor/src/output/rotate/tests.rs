use std::num::{NonZeroU32, NonZeroU64};
use std::time::UNIX_EPOCH;

use super::*;
use crate::output::record::Stream;
use crate::output::testdir::TestDir;

fn spec(max_size: u64, max_files: u32) -> LogSpec {
    LogSpec {
        max_size: NonZeroU64::new(max_size).expect("size"),
        max_files: NonZeroU32::new(max_files).expect("files"),
    }
}

fn record(text: String) -> Record {
    Record {
        at: UNIX_EPOCH,
        stream: Stream::Out,
        text,
    }
}

/// Sizes of output.log, .1, .2, … as long as they exist.
fn sizes(dir: &Path) -> Vec<u64> {
    (0..)
        .map_while(|n| std::fs::metadata(numbered(dir, n)).ok())
        .map(|m| m.len())
        .collect()
}

fn line_numbers(path: &Path) -> Vec<u64> {
    std::fs::read_to_string(path)
        .expect("read log")
        .lines()
        .map(|l| {
            l.rsplit(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("bad line {l:?}"))
        })
        .collect()
}

#[test]
fn rotation_keeps_max_files_rotated_files_each_within_max_size() {
    let dir = TestDir::new("rotate-count");
    let (max_size, max_files) = (1000u64, 3u32);
    let mut log = RotatingFile::new(dir.path().join("ticker"), spec(max_size, max_files));
    // Lines of varied length; one batch per few lines, like a busy writer.
    let mut written = 0u64;
    let mut n = 0u64;
    while written < max_size * u64::from(max_files + 1) * 3 {
        let batch: Vec<Record> = (0..7)
            .map(|_| {
                n += 1;
                record(format!("{} {n}", "x".repeat((n % 50) as usize)))
            })
            .collect();
        written += batch.iter().map(|r| r.stored_len() as u64).sum::<u64>();
        log.append(&batch).expect("append");
    }
    let dir = dir.path().join("ticker");
    let sizes = sizes(&dir);
    assert_eq!(sizes.len(), max_files as usize + 1, "{sizes:?}");
    assert!(!numbered(&dir, max_files + 1).exists());
    let longest = 24 + 5 + 50 + 1 + 20;
    for (n, size) in sizes.iter().enumerate() {
        assert!(*size <= max_size, "file {n} has {size} bytes");
        if n > 0 {
            // A rotated file was full: the next line did not fit.
            assert!(*size > max_size - longest, "file {n} has only {size} bytes");
        }
    }
    // Oldest first, the files hold one unbroken run of lines ending with the last one.
    let mut all = Vec::new();
    for k in (0..=max_files).rev() {
        all.extend(line_numbers(&numbered(&dir, k)));
    }
    assert_eq!(all.last(), Some(&n));
    assert!(all.windows(2).all(|w| w[1] == w[0] + 1), "gap in {all:?}");
    assert!(all[0] > 1, "the oldest lines should be gone");
}

#[test]
fn a_line_longer_than_max_size_gets_a_file_of_its_own() {
    let dir = TestDir::new("rotate-long");
    let mut log = RotatingFile::new(dir.path().to_owned(), spec(100, 2));
    let long = record("y".repeat(300));
    log.append(&[record("a".into()), long.clone(), record("b".into())])
        .expect("append");
    assert_eq!(
        sizes(dir.path()),
        [31, long.stored_len() as u64, 31],
        "b, the long line, a"
    );
}

#[test]
fn appending_resumes_after_a_restart_and_counts_the_existing_size() {
    let dir = TestDir::new("rotate-resume");
    let line = || record("0123456789".into()); // 40 bytes stored
    let mut first = RotatingFile::new(dir.path().to_owned(), spec(100, 1));
    first.append(&[line(), line()]).expect("append");
    drop(first);
    let mut second = RotatingFile::new(dir.path().to_owned(), spec(100, 1));
    second.append(&[line()]).expect("append");
    assert_eq!(sizes(dir.path()), [40, 80]);
    second.close();
    second.append(&[line()]).expect("append after close");
    assert_eq!(sizes(dir.path()), [80, 80]);
}

#[test]
fn files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TestDir::new("rotate-mode");
    let logs = dir.path().join("a+b");
    let mut log = RotatingFile::new(logs.clone(), LogSpec::default());
    log.append(&[record("hi".into())]).expect("append");
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&logs), 0o700);
    assert_eq!(mode(&numbered(&logs, 0)), 0o600);
}
