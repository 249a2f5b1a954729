//! Reading one pipe of one child: lines to the journal (if any) and to the child's writer.
//!
//! The reader never waits for the writer: a line that finds the queue full is dropped and
//! counted, and the count goes into the queue as one notice as soon as there is room —
//! before the next line, so the notice sits exactly where the gap is. A child therefore
//! never blocks on a full stdout because of podsup's disk.

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc::{self, error::TrySendError};

use super::journal::{Entry, Journal};
use super::record::{Record, Stream};
use super::split::{MAX_LINE, Splitter};

/// The read buffer a reader starts with. Most children say little, and a root with a
/// thousand of them holds two buffers each, so buffers start small…
const FIRST_CHUNK: usize = 256;
/// …and double whenever a read fills them, up to this many bytes read at once.
const CHUNK: usize = 64 * 1024;

/// What a reader is reading and where it sends the lines.
#[derive(Debug, Clone)]
pub struct Source {
    /// The child's name.
    pub name: String,
    /// Its generation.
    pub generation: u64,
    /// Which of its pipes.
    pub stream: Stream,
    /// The child's writer.
    pub queue: mpsc::Sender<Record>,
    /// The journal, when the root logs there too.
    pub journal: Option<Arc<Journal>>,
}

/// The notice that stands in for `count` dropped lines.
pub fn dropped_notice(count: u64) -> Record {
    let s = if count == 1 { "" } else { "s" };
    Record::now(
        Stream::Sup,
        format!("podsup: dropped {count} line{s} (log writer stalled)"),
    )
}

/// Lines handed on, and lines dropped and not yet reported.
#[derive(Debug, Default)]
struct Delivery {
    dropped: u64,
    /// Lines dropped over the reader's life, for its final log line.
    total_dropped: u64,
}

impl Delivery {
    /// Queues `record` if the queue has room now, after the notice of earlier drops.
    fn offer(&mut self, queue: &mpsc::Sender<Record>, record: Record) {
        if self.dropped > 0 {
            match queue.try_send(dropped_notice(self.dropped)) {
                Ok(()) => self.dropped = 0,
                Err(_) => {
                    self.drop_one();
                    return;
                }
            }
        }
        match queue.try_send(record) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Closed(_)) => self.drop_one(),
        }
    }

    fn drop_one(&mut self) {
        self.dropped += 1;
        self.total_dropped += 1;
    }
}

/// Reads `pipe` to its end; returns how many lines were dropped on the way.
pub async fn read(mut pipe: impl AsyncRead + Unpin, source: Source) -> u64 {
    let mut splitter = Splitter::new(MAX_LINE);
    let mut buf = vec![0u8; FIRST_CHUNK];
    let mut lines = Vec::new();
    let mut delivery = Delivery::default();
    loop {
        tokio::select! {
            // Room again after drops: say so now, even if the child has gone quiet.
            permit = source.queue.reserve(), if delivery.dropped > 0 => {
                if let Ok(permit) = permit {
                    permit.send(dropped_notice(delivery.dropped));
                    delivery.dropped = 0;
                }
            }
            read = pipe.read(&mut buf) => match read {
                Ok(0) => break,
                Ok(n) => {
                    splitter.push(&buf[..n], &mut lines);
                    for line in lines.drain(..) {
                        deliver(&source, &mut delivery, line);
                    }
                    if n == buf.len() && buf.len() < CHUNK {
                        buf.resize(buf.len() * 2, 0);
                    }
                }
                Err(e) => {
                    tracing::warn!(child = %source.name, stream = source.stream.tag(), %e, "cannot read child output");
                    break;
                }
            },
        }
    }
    if let Some(line) = splitter.finish() {
        deliver(&source, &mut delivery, line);
    }
    if delivery.dropped > 0 {
        // The pipe is closed, so nobody waits for this reader any more: wait for room.
        if source
            .queue
            .send(dropped_notice(delivery.dropped))
            .await
            .is_err()
        {
            tracing::debug!(child = %source.name, "output writer gone");
        }
    }
    if delivery.total_dropped > 0 {
        tracing::warn!(child = %source.name, generation = source.generation, stream = source.stream.tag(), dropped = delivery.total_dropped, "output lines dropped: log writer stalled");
    }
    delivery.total_dropped
}

fn deliver(source: &Source, delivery: &mut Delivery, line: String) {
    if let Some(journal) = &source.journal {
        journal.send(&Entry {
            pod: &source.name,
            generation: source.generation,
            stream: source.stream,
            message: &line,
        });
    }
    delivery.offer(&source.queue, Record::now(source.stream, line));
}

#[cfg(test)]
mod tests;
