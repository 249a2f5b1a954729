use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use super::*;
use crate::output::rotate::RotateError;
use crate::output::writer::{self, Sink};

fn source(queue: mpsc::Sender<Record>) -> Source {
    Source {
        name: "ticker".into(),
        generation: 1,
        stream: Stream::Out,
        queue,
        journal: None,
    }
}

fn texts(records: &[Record]) -> Vec<String> {
    records.iter().map(|r| r.text.clone()).collect()
}

async fn recv(rx: &mut mpsc::Receiver<Record>) -> Record {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a record within 10s")
        .expect("queue open")
}

#[tokio::test]
async fn a_full_queue_drops_lines_and_the_pipe_keeps_flowing() {
    let (queue, mut rx) = mpsc::channel(4);
    let (tx, pipe) = tokio::net::unix::pipe::pipe().expect("pipe");
    let reader = tokio::spawn(read(pipe, source(queue)));
    // Far more than a pipe holds (64 KiB), written while nobody drains the queue: the
    // writing side finishes only because the reader keeps reading.
    let writer = std::thread::spawn(move || {
        let mut tx = tx.into_blocking_fd().map(std::fs::File::from).expect("fd");
        for i in 0..50_000 {
            writeln!(tx, "line {i} padding padding padding").expect("write");
        }
    });
    let finished = tokio::task::spawn_blocking(move || writer.join().is_ok());
    let finished = tokio::time::timeout(Duration::from_secs(20), finished).await;
    assert!(
        matches!(finished, Ok(Ok(true))),
        "the child blocked on its stdout"
    );
    // Only now does anyone take from the queue: what the pipe still held (64 KiB at
    // most) may yet get in, everything else was dropped while the child wrote.
    let mut got = Vec::new();
    let drained = tokio::time::timeout(Duration::from_secs(20), async {
        // Ends when the reader, the only sender, is done.
        while let Some(record) = rx.recv().await {
            got.push(record);
        }
    })
    .await;
    assert!(drained.is_ok(), "the reader never finished");
    let dropped = reader.await.expect("reader");
    assert!(dropped > 45_000, "only {dropped} dropped");
    let (notices, kept): (Vec<&Record>, Vec<&Record>) =
        got.iter().partition(|r| r.stream == Stream::Sup);
    let reported: u64 = notices.iter().filter_map(|r| notice_count(&r.text)).sum();
    assert_eq!(reported, dropped, "{:?}", texts(&got));
    assert_eq!(kept.len() as u64 + dropped, 50_000);
    assert_eq!(
        texts(&got[..4]),
        ["line 0", "line 1", "line 2", "line 3"].map(|l| format!("{l} padding padding padding"))
    );
    assert_eq!(got.last().map(|r| r.stream), Some(Stream::Sup));
}

#[tokio::test]
async fn the_notice_sits_where_the_gap_is_even_if_the_child_goes_quiet() {
    let (queue, mut rx) = mpsc::channel(3);
    let (mut child, pipe) = tokio::io::duplex(1 << 16);
    let reader = tokio::spawn(read(pipe, source(queue)));
    child.write_all(b"a\nb\nc\nd\ne\n").await.expect("write");
    child.flush().await.expect("flush");
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(recv(&mut rx).await);
    }
    // The child says nothing more; once there is room, the notice comes anyway.
    got.push(recv(&mut rx).await);
    child.write_all(b"f\n").await.expect("write");
    got.push(recv(&mut rx).await);
    drop(child);
    assert_eq!(reader.await.expect("reader"), 2);
    assert_eq!(
        texts(&got),
        [
            "a",
            "b",
            "c",
            "podsup: dropped 2 lines (log writer stalled)",
            "f"
        ]
    );
}

#[tokio::test]
async fn a_partial_last_line_is_kept_at_end_of_stream() {
    let (queue, mut rx) = mpsc::channel(8);
    let dropped = read(&b"one\ntw"[..], source(queue)).await;
    assert_eq!(dropped, 0);
    let got = [recv(&mut rx).await, recv(&mut rx).await];
    assert_eq!(texts(&got), ["one", "tw"]);
}

/// A sink that blocks every write until the test opens its gate (drops the other end),
/// like a stalled disk.
struct Stalled {
    gate: std::sync::mpsc::Receiver<()>,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Sink for Stalled {
    fn write(&mut self, records: &[Record]) -> Result<(), RotateError> {
        // Returns (with an error) once the test dropped the sender: the gate is open.
        if self.gate.recv().is_ok() {
            panic!("the gate only opens by being dropped");
        }
        let mut lines = self.lines.lock().expect("lines");
        lines.extend(records.iter().map(|r| r.text.clone()));
        Ok(())
    }

    fn idle(&mut self) {}
}

/// `N` of a dropped-lines notice.
fn notice_count(text: &str) -> Option<u64> {
    text.strip_prefix("podsup: dropped ")?
        .split(' ')
        .next()?
        .parse()
        .ok()
}

// One thread: the reader hands out a whole read before anything else runs, so what it
// drops does not depend on timing.
#[tokio::test(flavor = "current_thread")]
async fn a_stalled_writer_costs_lines_not_the_child_and_says_how_many() {
    let (closed, gate) = std::sync::mpsc::channel::<()>();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Stalled {
        gate,
        lines: lines.clone(),
    };
    let writer = writer::spawn(sink, "ticker".into(), 8);
    let mut written = writer.written.clone();
    let input: String = (0..1000).map(|i| format!("{i}\n")).collect();
    let reader = tokio::spawn(read(
        std::io::Cursor::new(input.into_bytes()),
        source(writer.queue.clone()),
    ));
    // The reader is through its input once it is done or waits for room for the notice.
    let through = tokio::time::timeout(Duration::from_secs(10), async {
        while !reader.is_finished() && writer.queue.capacity() > 0 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(
        through.is_ok(),
        "the reader is stuck behind the stalled sink"
    );
    drop(closed);
    let count = tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .expect("the reader ends once the sink moves")
        .expect("reader");
    // Had the reader waited for the sink, nothing would have been dropped.
    assert!(count > 900, "only {count} dropped");
    let reported =
        |lines: &[String]| lines.iter().filter_map(|l| notice_count(l)).sum::<u64>() == count;
    let all_in = tokio::time::timeout(Duration::from_secs(10), async {
        while !reported(&lines.lock().expect("lines")) {
            if written.changed().await.is_err() {
                break;
            }
        }
    })
    .await;
    let lines = lines.lock().expect("lines").clone();
    assert!(all_in.is_ok(), "the drops were never reported: {lines:?}");
    let (notices, kept): (Vec<&String>, Vec<&String>) =
        lines.iter().partition(|l| notice_count(l).is_some());
    assert!(!notices.is_empty());
    assert_eq!(kept.len() as u64 + count, 1000, "{lines:?}");
    assert!(
        notice_count(lines.last().expect("lines")).is_some(),
        "{lines:?}"
    );
    // What was kept is in order.
    let numbers: Vec<u64> = kept.iter().map(|l| l.parse().expect("number")).collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
}

/// The read buffer starts small and grows: lines far longer than it, and bursts far larger,
/// arrive whole and in order.
#[tokio::test]
async fn lines_longer_than_the_first_buffer_arrive_whole() {
    let (queue, mut rx) = mpsc::channel(1024);
    let (mut tx, pipe) = tokio::net::unix::pipe::pipe().expect("pipe");
    let reader = tokio::spawn(read(pipe, source(queue)));
    let lines: Vec<String> = (0..40)
        .map(|i| format!("{i}:{}", "x".repeat(i * 97 % 5000)))
        .collect();
    for line in &lines {
        tx.write_all(format!("{line}\n").as_bytes())
            .await
            .expect("write");
    }
    drop(tx);
    let mut got = Vec::new();
    for _ in 0..lines.len() {
        got.push(recv(&mut rx).await.text);
    }
    assert_eq!(got, lines);
    let dropped = tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .expect("reader ends with the pipe")
        .expect("reader task");
    assert_eq!(dropped, 0);
}
