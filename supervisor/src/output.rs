//! Children's stdout and stderr, captured into size-rotated files (and the journal).
//!
//! Every pod and process gets a pipe for stdout and one for stderr ([`pipe`]). After the
//! spawn, [`Outputs::attach`] starts one reader task per pipe ([`reader`]): it cuts the
//! bytes into lines ([`split`]), sends each to the journal when the root runs under
//! systemd ([`journal`]), and queues it for the child's writer ([`writer`]), which appends
//! `2026-11-25T15:00:00.123Z out TEXT` lines ([`record`]) to
//! `STATE/logs/NAME/output.log` and rotates it by size ([`rotate`]). `ctl logs --output`
//! reads the files back ([`tail`], [`serve`]).
//!
//! There is one writer per child name for the root's whole life, so the generations of a
//! child append to one file, in order, and no two writers ever rotate the same files.
//! Nothing on this path waits for the disk: a reader that finds the writer's queue full
//! drops the line and counts it, so a stalled disk costs lines, never a blocked pod.

pub mod journal;
pub mod reader;
pub mod record;
pub mod rotate;
pub mod serve;
pub mod split;
pub mod tail;
pub mod writer;

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use podsup_config::LogSpec;
use tokio::net::unix::pipe;
use tokio::sync::watch;

use self::journal::Journal;
use self::reader::Source;
use self::record::{Record, Stream};
use self::rotate::RotatingFile;
use self::writer::Writer;

/// The directory below the state dir that holds every child's log dir.
pub const LOGS_DIR: &str = "logs";

/// Gives `command` a pipe for stdout and one for stderr, for [`Outputs::attach`].
pub fn pipe(command: &mut Command) {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    // The child's stderr is our pipe, not the journal stream this variable describes.
    command.env_remove("JOURNAL_STREAM");
}

/// Where child `name` keeps its output below `state_dir`: `logs/NAME`, with the `/` of a
/// spawned pod's name written as `+`.
pub fn log_dir(state_dir: &Path, name: &str) -> PathBuf {
    state_dir.join(LOGS_DIR).join(name.replace('/', "+"))
}

/// Which generation of which child a spawned process is.
#[derive(Debug, Clone, Copy)]
pub struct Generation<'a> {
    /// The child's name.
    pub name: &'a str,
    /// Its generation.
    pub generation: u64,
}

/// The output capture of one root: settings, the journal, and one writer per child name.
#[derive(Debug)]
pub struct Outputs {
    state_dir: PathBuf,
    spec: LogSpec,
    journal: Option<Arc<Journal>>,
    writers: Mutex<HashMap<String, Writer>>,
}

impl Outputs {
    /// Capture below `state_dir`, rotated per `spec`; lines also go to the journal when
    /// the root runs under systemd with journald.
    pub fn new(state_dir: &Path, spec: LogSpec) -> Outputs {
        let journal = Journal::detect().map(Arc::new);
        if journal.is_some() {
            tracing::info!("children's output also goes to the journal (POD=, GENERATION=)");
        }
        Outputs::with_journal(state_dir, spec, journal)
    }

    /// Like [`Outputs::new`] with the journal given (or none).
    pub fn with_journal(state_dir: &Path, spec: LogSpec, journal: Option<Arc<Journal>>) -> Outputs {
        Outputs {
            state_dir: state_dir.to_owned(),
            spec,
            journal,
            writers: Mutex::new(HashMap::new()),
        }
    }

    /// The rotation settings.
    pub fn spec(&self) -> LogSpec {
        self.spec
    }

    /// The log dir of child `name`.
    pub fn dir(&self, name: &str) -> PathBuf {
        log_dir(&self.state_dir, name)
    }

    /// The writer of `name`, started on first use. Must run inside the tokio runtime.
    fn writer(&self, name: &str) -> Writer {
        let mut writers = self.writers.lock().unwrap_or_else(|e| e.into_inner());
        writers
            .entry(name.to_owned())
            .or_insert_with(|| {
                let file = RotatingFile::new(self.dir(name), self.spec);
                writer::spawn(file, name.to_owned(), writer::QUEUE)
            })
            .clone()
    }

    /// A counter that changes whenever lines of `name` reach its file, for following it.
    pub fn subscribe(&self, name: &str) -> watch::Receiver<u64> {
        self.writer(name).written
    }

    /// Takes the pipes [`pipe`] gave the just-spawned `child` and starts capturing them,
    /// after a line that marks the start of this generation.
    pub fn attach(&self, child: &mut Child, who: Generation<'_>) {
        let writer = self.writer(who.name);
        let marker = format!(
            "podsup: generation {} started (pid {})",
            who.generation,
            child.id()
        );
        if writer
            .queue
            .try_send(Record::now(Stream::Sup, marker))
            .is_err()
        {
            tracing::debug!(
                child = who.name,
                "output queue full; generation marker dropped"
            );
        }
        let pipes = [
            (Stream::Out, child.stdout.take().map(OwnedFd::from)),
            (Stream::Err, child.stderr.take().map(OwnedFd::from)),
        ];
        for (stream, fd) in pipes {
            let Some(fd) = fd else {
                tracing::warn!(
                    child = who.name,
                    stream = stream.tag(),
                    "no output pipe to capture"
                );
                continue;
            };
            let source = Source {
                name: who.name.to_owned(),
                generation: who.generation,
                stream,
                queue: writer.queue.clone(),
                journal: self.journal.clone(),
            };
            match pipe::Receiver::from_owned_fd(fd) {
                Ok(rx) => {
                    tokio::spawn(reader::read(rx, source));
                }
                // Dropping the read end would make the child's next write fail (EPIPE), so
                // this cannot happen silently; it only fails when the root is out of fds.
                Err(e) => {
                    tracing::error!(child = who.name, stream = stream.tag(), %e, "cannot capture output; the child's writes to it will fail")
                }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod testdir;
