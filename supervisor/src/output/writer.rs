//! One writer per child name: takes records from a bounded queue and appends them to the
//! child's rotating file on a blocking thread, so a stalled disk stalls only this writer
//! (and its queue fills, and readers drop lines) — never a tokio worker, never the pod.

use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::record::Record;
use super::rotate::{RotateError, RotatingFile};

/// Records waiting for the disk before readers start dropping lines.
pub const QUEUE: usize = 1024;

/// Most records written in one blocking call.
const BATCH: usize = 512;

/// A writer that has had nothing to write for this long closes its file.
const IDLE_CLOSE: Duration = Duration::from_secs(30);

/// Where a writer puts its records. The file in production; tests plug in one they can
/// stall.
pub trait Sink: Send + 'static {
    /// Writes `records` in order; called on a blocking thread.
    fn write(&mut self, records: &[Record]) -> Result<(), RotateError>;
    /// Nothing came for a while: release what can be reopened later.
    fn idle(&mut self);
}

impl Sink for RotatingFile {
    fn write(&mut self, records: &[Record]) -> Result<(), RotateError> {
        self.append(records)
    }

    fn idle(&mut self) {
        self.close();
    }
}

/// The handle to one child's writer: where its readers send, and a counter of records
/// written that `ctl logs -f` waits on.
#[derive(Debug, Clone)]
pub struct Writer {
    /// The writer's queue.
    pub queue: mpsc::Sender<Record>,
    /// Records written so far; changes after every batch reaches the sink.
    pub written: watch::Receiver<u64>,
}

/// Starts a writer task for `sink` with a queue of `capacity` records; `name` is for the
/// root's own log. The task ends when every handle and reader is gone.
pub fn spawn<S: Sink>(sink: S, name: String, capacity: usize) -> Writer {
    let (queue, rx) = mpsc::channel(capacity);
    let (written_tx, written) = watch::channel(0);
    tokio::spawn(run(sink, rx, written_tx, name));
    Writer { queue, written }
}

async fn run<S: Sink>(
    mut sink: S,
    mut rx: mpsc::Receiver<Record>,
    written: watch::Sender<u64>,
    name: String,
) {
    let mut failing = false;
    loop {
        let first = match tokio::time::timeout(IDLE_CLOSE, rx.recv()).await {
            Ok(Some(record)) => record,
            Ok(None) => break,
            Err(_) => match blocking(sink, |s| s.idle()).await {
                Some((s, ())) => {
                    sink = s;
                    continue;
                }
                None => break,
            },
        };
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(record) => batch.push(record),
                Err(_) => break,
            }
        }
        let count = batch.len() as u64;
        let Some((s, result)) = blocking(sink, move |s| s.write(&batch)).await else {
            break;
        };
        sink = s;
        match result {
            Ok(()) => {
                if failing {
                    tracing::info!(child = %name, "output log writable again");
                }
                failing = false;
                written.send_modify(|n| *n += count);
            }
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(child = %name, %e, "cannot write output log; lines are lost until it works again");
            }
            Err(e) => tracing::debug!(child = %name, %e, "output log still failing"),
        }
    }
}

/// Runs `f` on the sink on a blocking thread and hands the sink back; `None` if that
/// thread panicked (the writer then ends, and its readers drop lines).
async fn blocking<S: Sink, T: Send + 'static>(
    mut sink: S,
    f: impl FnOnce(&mut S) -> T + Send + 'static,
) -> Option<(S, T)> {
    let done = tokio::task::spawn_blocking(move || {
        let out = f(&mut sink);
        (sink, out)
    })
    .await;
    match done {
        Ok(pair) => Some(pair),
        Err(e) => {
            tracing::error!(%e, "output log writer failed");
            None
        }
    }
}
