//! What `bash` shows of a command's output: all of it when short; otherwise the first and
//! last [`HALF`] bytes, with the whole written to a numbered spill file.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Most output a `bash` result shows.
pub(crate) const RESULT_CAP: usize = 32 * 1024;
/// How much of the start and of the end of long output is shown.
const HALF: usize = RESULT_CAP / 2;
/// How many taken spill numbers are skipped before giving up.
const SPILL_TRIES: u32 = 10_000;

/// The spill file `n` in `dir`.
pub(crate) fn spill_name(n: u64) -> String {
    format!("bash-{n}.log")
}

/// Where the whole output goes once it is too long to show.
enum Spill {
    /// Not needed yet.
    Unneeded,
    /// Writing to `bash-<n>.log`.
    Open { n: u64, file: File },
    /// It could not be written; the note says why.
    Failed(String),
}

/// A command's output as it arrives.
pub(crate) struct Capture {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    total: u64,
    spill: Spill,
    dir: PathBuf,
    numbers: Arc<AtomicU64>,
}

impl Capture {
    /// Nothing captured yet; a spill goes to `dir` under the next free number from
    /// `numbers`.
    pub(crate) fn new(dir: PathBuf, numbers: Arc<AtomicU64>) -> Capture {
        Capture {
            head: Vec::new(),
            tail: VecDeque::new(),
            total: 0,
            spill: Spill::Unneeded,
            dir,
            numbers,
        }
    }

    /// Takes the next piece of output. Spill writes are small and go to the page cache,
    /// so they are made directly rather than on the blocking pool.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.total += bytes.len() as u64;
        match &mut self.spill {
            Spill::Unneeded => {
                self.head.extend_from_slice(bytes);
                if self.head.len() > RESULT_CAP {
                    self.start_spill();
                }
            }
            Spill::Open { file, .. } => {
                if let Err(e) = file.write_all(bytes) {
                    self.spill = Spill::Failed(e.to_string());
                }
                self.keep_tail(bytes);
            }
            Spill::Failed(_) => self.keep_tail(bytes),
        }
    }

    fn start_spill(&mut self) {
        self.spill = match self.open_spill() {
            Ok((n, mut file)) => match file.write_all(&self.head) {
                Ok(()) => Spill::Open { n, file },
                Err(e) => Spill::Failed(e.to_string()),
            },
            Err(e) => Spill::Failed(e.to_string()),
        };
        let head = std::mem::take(&mut self.head);
        self.keep_tail(&head[HALF..]);
        self.head = head;
        self.head.truncate(HALF);
    }

    fn open_spill(&self) -> io::Result<(u64, File)> {
        std::fs::create_dir_all(&self.dir)?;
        for _ in 0..SPILL_TRIES {
            let n = self.numbers.fetch_add(1, Ordering::Relaxed);
            let opened = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(self.dir.join(spill_name(n)));
            match opened {
                Ok(file) => return Ok((n, file)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other("no free spill file number"))
    }

    fn keep_tail(&mut self, bytes: &[u8]) {
        self.tail.extend(bytes);
        let excess = self.tail.len().saturating_sub(HALF);
        self.tail.drain(..excess);
    }

    /// What the result shows.
    pub(crate) fn finish(mut self) -> String {
        let shown_head = whole_chars(&self.head);
        let note = match &mut self.spill {
            Spill::Unneeded => return String::from_utf8_lossy(&self.head).into_owned(),
            Spill::Open { n, file } => match file.flush() {
                Ok(()) => format!(
                    "the whole output ({} bytes) is in spill file {n}: read it with read_spill {{\"n\": {n}}}",
                    self.total
                ),
                Err(e) => format!("the whole output could not be saved: {e}"),
            },
            Spill::Failed(e) => format!("the whole output could not be saved: {e}"),
        };
        let tail: Vec<u8> = self.tail.iter().copied().collect();
        let tail = tail_chars(&tail);
        let omitted = self.total - (shown_head.len() + tail.len()) as u64;
        format!(
            "{}\n[… {omitted} bytes not shown; {note} …]\n{}",
            String::from_utf8_lossy(shown_head),
            String::from_utf8_lossy(tail)
        )
    }
}

/// `bytes` without a character cut off at its end.
fn whole_chars(bytes: &[u8]) -> &[u8] {
    match std::str::from_utf8(bytes) {
        Err(e) if e.error_len().is_none() => &bytes[..e.valid_up_to()],
        _ => bytes,
    }
}

/// `bytes` without a character cut off at its start (at most three continuation bytes).
fn tail_chars(bytes: &[u8]) -> &[u8] {
    let skip = bytes
        .iter()
        .take(3)
        .take_while(|b| (**b & 0xC0) == 0x80)
        .count();
    &bytes[skip..]
}
